// Session JWTs verified by the official Node SDK's own code (stytch 14.2.0, jose): authenticateJwtLocal,
// authenticateJwt (local first, server fallback), local RBAC checks against the server's policies, and
// forged tokens. jwt.md / rbac.md.
//
// Server: if LATCH_URL, LATCH_PROJECT_ID and LATCH_SECRET are set, that server is used. Otherwise the
// test starts one itself from LATCH_BIN (default <repo>/target/debug/latch) on a free port with a fresh
// SQLite data directory, a bootstrap project and the suite's RBAC policy file, and stops it with SIGTERM
// at the end (exit code 0). Checks on the custom `documents` resource only run on a server started here.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes, createHash, createHmac, generateKeyPairSync, sign as rsaSign } from "node:crypto";
import * as stytch from "stytch";
import { startLatch, stopLatch } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const policyFile = resolve(here, "..", "python", "rbac_policy.json");

let url;
let projectId;
let secret;
let ownServer = false;

const PASSWORD = "Latch node jwt: saffron-comet-6262!";
const MD5 = createHash("md5").update(PASSWORD).digest("hex");
const SESSION_CLAIM = "https://stytch.com/session";

// ---------------------------------------------------------------------------------------------
// server (same approach as smoke.test.mjs, which exports nothing)

before(async () => {
  ({ url, projectId, secret, own: ownServer } = await startLatch("latch-sdk-node-jwt-", {
    LATCH_ARGON2_MEMORY_KIB: "8",
    LATCH_ARGON2_ITERATIONS: "1",
    LATCH_RBAC_POLICY_FILE: policyFile,
    NO_PROXY: "127.0.0.1,localhost",
  }));
});

after(stopLatch);

// ---------------------------------------------------------------------------------------------
// helpers

function client() {
  // A fresh client per test: empty JWKS and policy caches.
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
    assert.ok(typeof err.request_id === "string" && err.request_id.length > 0, String(err));
    assert.ok(err.error_message, String(err));
    return true;
  });
}

async function assertClientError(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof stytch.ClientError, `expected ClientError ${code}, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.code, code, String(err));
    return true;
  });
}

const tok = () => randomBytes(6).toString("hex");

async function newOrg(c) {
  const t = tok();
  return assertOk(await c.organizations.create({ organization_name: `Node JWT ${t}`, organization_slug: `node-jwt-${t}` })).organization;
}

async function login(c, org, { roles, claims } = {}) {
  const email = `node-${tok()}@node-jwt-${tok()}.com`;
  const migrated = assertOk(
    await c.passwords.migrate({ email_address: email, hash: MD5, hash_type: "md_5", organization_id: org.organization_id, ...(roles ? { roles } : {}) }),
  );
  const auth = assertOk(
    await c.passwords.authenticate({
      organization_id: org.organization_id,
      email_address: email,
      password: PASSWORD,
      ...(claims ? { session_custom_claims: claims } : {}),
    }),
  );
  assert.equal(auth.member_id, migrated.member_id);
  return { email, memberId: migrated.member_id, token: auth.session_token, jwt: auth.session_jwt, ms: auth.member_session };
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const decodePart = (seg) => JSON.parse(Buffer.from(seg, "base64url").toString("utf8"));

function parts(jwt) {
  const [h, p, s] = jwt.split(".");
  return { header: decodePart(h), payload: decodePart(p), h, p, s };
}

function compact(header, payload, signer) {
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${unsigned}.${signer ? b64url(signer(Buffer.from(unsigned))) : ""}`;
}

// ---------------------------------------------------------------------------------------------
// tests

test("authenticateJwtLocal rebuilds the member session from a Latch JWT", async () => {
  const c = client();
  const org = await newOrg(c);
  const s = await login(c, org, { roles: ["editor"], claims: { team: "node", n: 1 } });
  const { header, payload } = parts(s.jwt);
  assert.deepEqual(Object.keys(header).sort(), ["alg", "kid", "typ"]);
  assert.equal(header.alg, "RS256");
  assert.equal(header.typ, "JWT");
  assert.equal(payload.iss, `stytch.com/${projectId}`);
  assert.deepEqual(payload.aud, [projectId]);
  assert.equal(payload.exp, payload.iat + 300);
  assert.equal(payload.nbf, payload.iat);

  const ms = await c.sessions.authenticateJwtLocal({ session_jwt: s.jwt });
  assert.equal(ms.member_session_id, s.ms.member_session_id);
  assert.equal(ms.member_id, s.memberId);
  assert.equal(ms.organization_id, org.organization_id);
  assert.equal(ms.organization_slug, org.organization_slug);
  assert.deepEqual([...ms.roles].sort(), ["editor", "stytch_member"]);
  assert.deepEqual(ms.custom_claims, { team: "node", n: 1 });
  assert.deepEqual(
    ms.authentication_factors.map((f) => [f.type, f.delivery_method]),
    [["password", "knowledge"]],
  );
  for (const k of ["started_at", "last_accessed_at", "expires_at"]) {
    assert.equal(new Date(ms[k]).getTime(), new Date(s.ms[k]).getTime(), k);
  }

  // The JWKS: via the SDK method (with auth) and the public route (without).
  const jwks = assertOk(await c.sessions.getJWKS({ project_id: projectId }));
  const key = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(key, `kid ${header.kid} not in JWKS`);
  assert.equal(key.kty, "RSA");
  assert.equal(key.alg, "RS256");
  assert.equal(key.use, "sig");
  assert.deepEqual(key.key_ops, ["verify"]);
  const raw = await fetch(new URL(`/v1/b2b/sessions/jwks/${projectId}`, url));
  assert.equal(raw.status, 200);
  assert.deepEqual((await raw.json()).keys.map((k) => k.kid).sort(), jwks.keys.map((k) => k.kid).sort());
});

test("authenticateJwt answers locally, and from the server when forced or when local verification fails", async () => {
  const c = client();
  const org = await newOrg(c);
  const s = await login(c, org);
  const local = await c.sessions.authenticateJwt({ session_jwt: s.jwt });
  assert.equal(local.session_jwt, s.jwt);
  assert.equal(local.request_id, undefined, "a local answer has no request_id");
  assert.equal(local.member_session.member_session_id, s.ms.member_session_id);

  await assertClientError(c.sessions.authenticateJwtLocal({ session_jwt: s.jwt, max_token_age_seconds: 0 }), "jwt_too_old");
  const remote = assertOk(
    await c.sessions.authenticateJwt({
      session_jwt: s.jwt,
      max_token_age_seconds: 0,
      session_duration_minutes: 120,
      session_custom_claims: { via: "node" },
    }),
  );
  assert.equal(remote.member_session.member_session_id, s.ms.member_session_id);
  assert.deepEqual(remote.member_session.custom_claims, { via: "node" });
  assert.equal(remote.session_token, "", "a session reached through its JWT has no token to echo (Latch stores hashes)");
  const expires = new Date(remote.member_session.expires_at).getTime();
  assert.ok(Math.abs(expires - (Date.now() + 120 * 60_000)) < 10_000, `expires_at ${remote.member_session.expires_at}`);
  assert.equal(parts(remote.session_jwt).payload.via, "node");

  // Revoked: the JWT still verifies locally (until exp), the server refuses it.
  assertOk(await c.sessions.revoke({ member_session_id: s.ms.member_session_id }));
  const stale = await c.sessions.authenticateJwtLocal({ session_jwt: s.jwt });
  assert.equal(stale.member_session_id, s.ms.member_session_id);
  await assertStytchError(c.sessions.authenticateJwt({ session_jwt: s.jwt, max_token_age_seconds: 0 }), 404, "session_not_found");
});

test("local RBAC checks: allowed, invalid_permissions, tenancy_mismatch, and the server agrees", async () => {
  const c = client();
  const org = await newOrg(c);
  const other = await newOrg(c);
  const s = await login(c, org, { roles: ownServer ? ["editor"] : [] });
  const id = org.organization_id;
  const allowed = [{ organization_id: id, resource_id: "stytch.self", action: "update.info.name" }];
  const denied = [
    { organization_id: id, resource_id: "stytch.member", action: "delete" },
    { organization_id: id, resource_id: "stytch.organization", action: "update.info.name" },
  ];
  if (ownServer) {
    allowed.push({ organization_id: id, resource_id: "documents", action: "write" });
    denied.push({ organization_id: id, resource_id: "documents", action: "delete" });
  }
  const tenancy = { organization_id: other.organization_id, resource_id: "stytch.self", action: "update.info.name" };

  for (const check of allowed) {
    const ms = await c.sessions.authenticateJwtLocal({ session_jwt: s.jwt, authorization_check: check });
    assert.equal(ms.member_id, s.memberId);
    const r = assertOk(await c.sessions.authenticate({ session_jwt: s.jwt, authorization_check: check }));
    assert.equal(r.verdict.authorized, true);
    assert.ok(r.verdict.granting_roles.length > 0);
    const viaJwt = await c.sessions.authenticateJwt({ session_jwt: s.jwt, authorization_check: check });
    assert.equal(viaJwt.member_session.member_id, s.memberId);
  }
  for (const check of denied) {
    await assertClientError(c.sessions.authenticateJwtLocal({ session_jwt: s.jwt, authorization_check: check }), "invalid_permissions");
    await assertStytchError(c.sessions.authenticate({ session_jwt: s.jwt, authorization_check: check }), 403, "session_authorization_error");
    // Node falls back to the server on any local error: the server must give the authoritative 403.
    await assertStytchError(c.sessions.authenticateJwt({ session_jwt: s.jwt, authorization_check: check }), 403, "session_authorization_error");
  }
  await assertClientError(c.sessions.authenticateJwtLocal({ session_jwt: s.jwt, authorization_check: tenancy }), "tenancy_mismatch");
  await assertStytchError(
    c.sessions.authenticateJwt({ session_jwt: s.jwt, authorization_check: tenancy }),
    403,
    "session_authorization_tenancy_error",
  );

  // An org-scoped role from setOrgPolicy counts locally and on the server.
  if (ownServer) {
    assertOk(
      await c.rbac.organizations.setOrgPolicy({
        organization_id: id,
        org_policy: { roles: [{ role_id: "org-billing", description: "billing", permissions: [{ resource_id: "billing", actions: ["*"] }] }] },
      }),
    );
    const b = await login(c, org, { roles: ["org-billing"] });
    const check = { organization_id: id, resource_id: "billing", action: "manage" };
    const fresh = client();
    const ms = await fresh.sessions.authenticateJwtLocal({ session_jwt: b.jwt, authorization_check: check });
    assert.equal(ms.member_id, b.memberId);
    const r = assertOk(await c.sessions.authenticate({ session_token: b.token, authorization_check: check }));
    assert.deepEqual(r.verdict.granting_roles, ["org-billing"]);
    await assertClientError(fresh.sessions.authenticateJwtLocal({ session_jwt: s.jwt, authorization_check: check }), "invalid_permissions");
  }
});

test("forged tokens are refused locally (jwt_invalid) and by the server (401 invalid_session_jwt)", async () => {
  const c = client();
  const org = await newOrg(c);
  const s = await login(c, org);
  const { header, payload, h, s: sig } = parts(s.jwt);
  const elevated = structuredClone(payload);
  elevated[SESSION_CLAIM].roles = ["stytch_member", "stytch_admin"];

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwks = assertOk(await c.sessions.getJWKS({ project_id: projectId }));
  const n = jwks.keys.find((k) => k.kid === header.kid).n;
  const forged = {
    "tampered payload": `${h}.${b64url(JSON.stringify(elevated))}.${sig}`,
    "another RSA key, real kid": compact(header, elevated, (data) => rsaSign("sha256", data, privateKey)),
    "another RSA key, unknown kid": compact({ ...header, kid: "jwk-test-forged" }, elevated, (data) => rsaSign("sha256", data, privateKey)),
    "alg none": compact({ alg: "none", kid: header.kid, typ: "JWT" }, elevated),
    "HS256 with n as secret": compact({ alg: "HS256", kid: header.kid, typ: "JWT" }, elevated, (data) =>
      createHmac("sha256", n).update(data).digest(),
    ),
    "empty signature": `${h}.${b64url(JSON.stringify(payload))}.`,
  };
  for (const [name, token] of Object.entries(forged)) {
    await assertClientError(c.sessions.authenticateJwtLocal({ session_jwt: token }), "jwt_invalid").catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
    await assertStytchError(c.sessions.authenticateJwt({ session_jwt: token }), 401, "invalid_session_jwt").catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
    await assertStytchError(c.sessions.revoke({ session_jwt: token }), 401, "invalid_session_jwt").catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
  await assertStytchError(c.sessions.authenticate({ session_jwt: "not-a-jwt" }), 400, "unable_to_parse_session_jwt");
  // The genuine session is untouched.
  const r = assertOk(await c.sessions.authenticate({ session_token: s.token }));
  assert.deepEqual(r.member_session.roles, ["stytch_member"]);
});
