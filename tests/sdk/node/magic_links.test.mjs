// Email magic links through the official Stytch Node SDK (14.2.0): invite → link from the outbox →
// magicLinks.authenticate → an active member with a session; loginOrSignup → authenticate; the
// discovery flow; a refused (reused) token.
//
// Server: if LATCH_URL, LATCH_PROJECT_ID and LATCH_SECRET are set, that server is used (it must allow
// the redirect URL below for the project). Otherwise the test starts one itself from LATCH_BIN (default
// <repo>/target/debug/latch) with that redirect URL allowed, and stops it with SIGTERM at the end.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as stytch from "stytch";
import { startLatch, stopLatch } from "./server.mjs";

const REDIRECT = "https://app.example.com/reset";
const ORG_LINK = "stytch_token_type=multi_tenant_magic_links&token=";
const DISCOVERY_LINK = "stytch_token_type=discovery&token=";
const TOKEN_RE = /^[A-Za-z0-9_-]{43,}$/;

let url;
let projectId;
let secret;

before(async () => {
  ({ url, projectId, secret } = await startLatch("latch-sdk-node-ml-", { LATCH_BOOTSTRAP_REDIRECT_URLS: REDIRECT }));
});

after(stopLatch);

function client() {
  return new stytch.B2BClient({ project_id: projectId, secret, env: url });
}

function assertOk(resp) {
  assert.equal(resp.status_code, 200);
  assert.equal(typeof resp.request_id, "string");
  assert.ok(resp.request_id.length > 0);
  return resp;
}

async function assertStytchError(promise, status, errorType) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof stytch.StytchError, `expected StytchError, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status_code, status, String(err));
    assert.equal(err.error_type, errorType, String(err));
    assert.ok(err.request_id, String(err));
    assert.ok(err.error_message, String(err));
    return true;
  });
}

/// Messages sent to `recipient`, newest first (the development outbox, Basic auth project_id:secret).
async function outbox(recipient) {
  const u = new URL("/latch/v1/outbox", url);
  u.searchParams.set("recipient", recipient);
  u.searchParams.set("limit", "100");
  const auth = Buffer.from(`${projectId}:${secret}`).toString("base64");
  const r = await fetch(u, { headers: { Authorization: `Basic ${auth}` }, signal: AbortSignal.timeout(30_000) });
  assert.equal(r.status, 200, await r.clone().text());
  const body = await r.json();
  for (const m of body.messages) assert.equal(m.recipient, recipient);
  return body.messages;
}

/// The one new message to `recipient` since `before` messages; checks it is a link of `kind`.
async function newLink(recipient, before, kind) {
  const msgs = await outbox(recipient);
  assert.equal(msgs.length, before + 1, `exactly one new message: ${JSON.stringify(msgs)}`);
  const msg = msgs[0];
  assert.equal(msg.channel, "email");
  assert.equal(msg.kind, kind);
  assert.match(msg.token, TOKEN_RE);
  const params = kind === "discovery_magic_link" ? DISCOVERY_LINK : ORG_LINK;
  assert.equal(msg.url, `${REDIRECT}?${params}${msg.token}`);
  assert.ok(msg.text.includes(msg.url), msg.text);
  return msg;
}

function factorTypes(session) {
  return session.authentication_factors.map((f) => f.type).sort();
}

function assertMagicLinkSession(resp, memberId, orgId, email) {
  assert.equal(resp.member_authenticated, true);
  assert.equal(resp.member_id, memberId);
  assert.equal(resp.organization_id, orgId);
  assert.equal(resp.organization.organization_id, orgId);
  assert.equal(resp.member.status, "active");
  assert.equal(resp.member.email_address_verified, true);
  assert.ok(resp.session_token);
  assert.equal(resp.session_jwt.split(".").length, 3);
  assert.equal(resp.intermediate_session_token, "");
  assert.equal(resp.reset_sessions, false);
  assert.ok(!resp.mfa_required);
  assert.ok(!resp.primary_required);
  const s = resp.member_session;
  assert.equal(s.member_id, memberId);
  assert.equal(s.organization_id, orgId);
  assert.deepEqual(factorTypes(s), ["magic_link"]);
  const f = s.authentication_factors[0];
  assert.equal(f.delivery_method, "email");
  assert.equal(f.email_factor.email_address, email);
  assert.ok(f.email_factor.email_id);
  assert.equal(resp.method_id, f.email_factor.email_id);
}

async function newOrg(c, extra = {}) {
  const t = randomBytes(6).toString("hex");
  return assertOk(await c.organizations.create({ organization_name: `ML ${t}`, organization_slug: `node-ml-${t}`, ...extra }))
    .organization;
}

function mail(local) {
  const t = randomBytes(6).toString("hex");
  return `${local}-${t}@node-ml-${t}.com`;
}

test("invite → link from the outbox → authenticate gives an active member with a session", async () => {
  const c = client();
  const org = await newOrg(c);
  const email = mail("invitee");
  const before = (await outbox(email)).length;
  const inv = assertOk(
    await c.magicLinks.email.invite({
      organization_id: org.organization_id,
      email_address: email,
      invite_redirect_url: REDIRECT,
      name: "Node Invitee",
      untrusted_metadata: { from: "node" },
    }),
  );
  assert.equal(inv.member.status, "invited");
  assert.equal(inv.member.email_address, email);
  assert.equal(inv.member.name, "Node Invitee");
  assert.equal(inv.member_id, inv.member.member_id);
  assert.equal(inv.organization.organization_id, org.organization_id);
  const msg = await newLink(email, before, "invite_magic_link");

  const auth = assertOk(await c.magicLinks.authenticate({ magic_links_token: msg.token, session_duration_minutes: 30 }));
  assertMagicLinkSession(auth, inv.member_id, org.organization_id, email);
  assert.equal(auth.member.name, "Node Invitee");

  const got = assertOk(await c.organizations.members.get({ organization_id: org.organization_id, member_id: inv.member_id }));
  assert.equal(got.member.status, "active");
  assert.equal(got.member.email_address_verified, true);
  const s = assertOk(await c.sessions.authenticate({ session_token: auth.session_token }));
  assert.equal(s.member_session.member_session_id, auth.member_session.member_session_id);
  assert.deepEqual(factorTypes(s.member_session), ["magic_link"]);

  // Single use.
  await assertStytchError(c.magicLinks.authenticate({ magic_links_token: msg.token }), 401, "unable_to_auth_magic_link");
});

test("loginOrSignup → authenticate, for an active member and by JIT provisioning", async () => {
  const c = client();
  const t = randomBytes(6).toString("hex");
  const domain = `node-jit-${t}.com`;
  const org = await newOrg(c, { email_jit_provisioning: "RESTRICTED", email_allowed_domains: [domain] });

  // An existing active member gets a login link.
  const email = mail("member");
  const m = assertOk(await c.organizations.members.create({ organization_id: org.organization_id, email_address: email })).member;
  let before = (await outbox(email)).length;
  const sent = assertOk(
    await c.magicLinks.email.loginOrSignup({ organization_id: org.organization_id, email_address: email, login_redirect_url: REDIRECT }),
  );
  assert.equal(sent.member_created, false);
  assert.equal(sent.member_id, m.member_id);
  const login = await newLink(email, before, "login_magic_link");
  const auth = assertOk(await c.magicLinks.authenticate({ magic_links_token: login.token }));
  assertMagicLinkSession(auth, m.member_id, org.organization_id, email);

  // An unknown address of the allowed domain is created pending and gets a signup link.
  const newcomer = `newcomer-${t}@${domain}`;
  before = (await outbox(newcomer)).length;
  const created = assertOk(
    await c.magicLinks.email.loginOrSignup({
      organization_id: org.organization_id,
      email_address: newcomer,
      login_redirect_url: REDIRECT,
      signup_redirect_url: REDIRECT,
      locale: "es",
    }),
  );
  assert.equal(created.member_created, true);
  assert.equal(created.member.status, "pending");
  const signup = await newLink(newcomer, before, "signup_magic_link");
  assert.equal(signup.locale, "es");
  const joined = assertOk(await c.magicLinks.authenticate({ magic_links_token: signup.token }));
  assertMagicLinkSession(joined, created.member_id, org.organization_id, newcomer);

  // Refusals: an address outside the JIT domain; an unknown token; a redirect URL not allowed.
  const stranger = mail("stranger");
  await assertStytchError(
    c.magicLinks.email.loginOrSignup({ organization_id: org.organization_id, email_address: stranger, signup_redirect_url: REDIRECT }),
    403,
    "email_jit_provisioning_not_allowed",
  );
  assert.deepEqual(await outbox(stranger), []);
  await assertStytchError(c.magicLinks.authenticate({ magic_links_token: randomBytes(32).toString("base64url") }), 404, "magic_link_not_found");
  await assertStytchError(
    c.magicLinks.email.loginOrSignup({
      organization_id: org.organization_id,
      email_address: email,
      login_redirect_url: "https://attacker.example/steal",
    }),
    400,
    "invalid_login_redirect_url",
  );
});

test("discovery: send → authenticate → exchange into the organization", async () => {
  const c = client();
  const org = await newOrg(c);
  const email = mail("discoverer");
  const m = assertOk(await c.organizations.members.create({ organization_id: org.organization_id, email_address: email })).member;
  const before = (await outbox(email)).length;
  assertOk(await c.magicLinks.email.discovery.send({ email_address: email, discovery_redirect_url: REDIRECT }));
  const msg = await newLink(email, before, "discovery_magic_link");
  await assertStytchError(c.magicLinks.authenticate({ magic_links_token: msg.token }), 404, "magic_link_not_found");
  const disc = assertOk(await c.magicLinks.discovery.authenticate({ discovery_magic_links_token: msg.token }));
  assert.ok(disc.intermediate_session_token);
  assert.equal(disc.email_address, email);
  const ids = disc.discovered_organizations.map((d) => d.organization.organization_id);
  assert.deepEqual(ids, [org.organization_id]);
  assert.equal(disc.discovered_organizations[0].membership.type, "active_member");
  const x = assertOk(
    await c.discovery.intermediateSessions.exchange({
      intermediate_session_token: disc.intermediate_session_token,
      organization_id: org.organization_id,
    }),
  );
  assert.equal(x.member_authenticated, true);
  assert.equal(x.member_id, m.member_id);
  assert.deepEqual(factorTypes(x.member_session), ["magic_link"]);
});
