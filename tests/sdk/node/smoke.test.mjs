// Smoke test: the official Stytch Node SDK (14.2.0) against a running Latch server.
//
// Server: if LATCH_URL, LATCH_PROJECT_ID and LATCH_SECRET are set, that server is used. Otherwise the
// test starts one itself from LATCH_BIN (default <repo>/target/debug/latch) on a free port with a fresh
// SQLite data directory and a bootstrap project, and stops it with SIGTERM at the end (exit code 0).
//
// Node-specific wire behaviour covered here: DELETE with a `{}` body, lowercase query booleans, no path
// parameters repeated in bodies or queries.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as stytch from "stytch";
import { startLatch, stopLatch } from "./server.mjs";


let url;
let projectId;
let secret;

before(async () => {
  ({ url, projectId, secret } = await startLatch("latch-sdk-node-"));
});

after(stopLatch);

function client(overrides = {}) {
  return new stytch.B2BClient({ project_id: projectId, secret, env: url, ...overrides });
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
    assert.equal(typeof err.request_id, "string");
    assert.ok(err.request_id.length > 0);
    assert.ok(err.error_message, String(err));
    assert.ok(err.error_url, String(err));
    return true;
  });
}

test("organization and member lifecycle through the Node SDK", async () => {
  const c = client();
  const t = randomBytes(6).toString("hex");
  const slug = `node-${t}`;

  const created = assertOk(await c.organizations.create({ organization_name: `Node Org ${t}`, organization_slug: slug }));
  const org = created.organization;
  assert.equal(org.organization_slug, slug);
  assert.equal(org.email_invites, "ALL_ALLOWED");
  const orgId = org.organization_id;

  const got = assertOk(await c.organizations.get({ organization_id: slug }));
  assert.equal(got.organization.organization_id, orgId);

  const email = `node.person-${t}@node-${t}.com`;
  const mc = assertOk(
    await c.organizations.members.create({ organization_id: orgId, email_address: email, name: "Node Person", roles: ["editor"] }),
  );
  const memberId = mc.member_id;
  assert.equal(mc.member.member_id, memberId);
  assert.equal(mc.member.status, "active");
  assert.equal(mc.member.email_address, email);
  assert.deepEqual(mc.member.roles.map((r) => r.role_id).sort(), ["editor", "stytch_member"]);

  const mg = assertOk(await c.organizations.members.get({ organization_id: orgId, member_id: memberId }));
  assert.equal(mg.member.name, "Node Person");
  const byEmail = assertOk(await c.organizations.members.get({ organization_id: orgId, email_address: email.toUpperCase() }));
  assert.equal(byEmail.member.member_id, memberId);

  const ms = assertOk(
    await c.organizations.members.search({
      organization_ids: [orgId],
      query: { operator: "AND", operands: [{ filter_name: "member_emails", filter_value: [email] }] },
    }),
  );
  assert.deepEqual(ms.members.map((m) => m.member_id), [memberId]);
  assert.equal(ms.results_metadata.total, 1);
  assert.ok(ms.organizations[orgId]);

  const os = assertOk(
    await c.organizations.search({ query: { operator: "AND", operands: [{ filter_name: "organization_slugs", filter_value: [slug] }] } }),
  );
  assert.deepEqual(os.organizations.map((o) => o.organization_id), [orgId]);

  const mu = assertOk(
    await c.organizations.members.update({ organization_id: orgId, member_id: memberId, name: "Renamed", untrusted_metadata: { k: "v" } }),
  );
  assert.equal(mu.member.name, "Renamed");
  assert.deepEqual(mu.member.untrusted_metadata, { k: "v" });

  const ou = assertOk(await c.organizations.update({ organization_id: orgId, organization_name: `Renamed ${t}` }));
  assert.equal(ou.organization.organization_name, `Renamed ${t}`);
  assert.equal(ou.organization.organization_slug, slug);

  // DELETE: the Node SDK sends a `{}` body.
  const md = assertOk(await c.organizations.members.delete({ organization_id: orgId, member_id: memberId }));
  assert.equal(md.member_id, memberId);
  await assertStytchError(c.organizations.members.get({ organization_id: orgId, member_id: memberId }), 404, "member_not_found");
  // Lowercase query booleans.
  const dg = assertOk(await c.organizations.members.dangerouslyGet({ member_id: memberId, include_deleted: true }));
  assert.equal(dg.member.status, "deleted");
  await assertStytchError(c.organizations.members.dangerouslyGet({ member_id: memberId, include_deleted: false }), 404, "member_not_found");

  const metrics = assertOk(await c.organizations.metrics({ organization_id: orgId }));
  assert.equal(metrics.member_count, 0);

  const od = assertOk(await c.organizations.delete({ organization_id: orgId }));
  assert.equal(od.organization_id, orgId);
  await assertStytchError(c.organizations.get({ organization_id: orgId }), 404, "organization_not_found");
});

test("validation errors surface as StytchError", async () => {
  const c = client();
  const t = randomBytes(6).toString("hex");
  await c.organizations.create({ organization_name: `Dup ${t}`, organization_slug: `dup-${t}` });
  await assertStytchError(
    c.organizations.create({ organization_name: `Dup2 ${t}`, organization_slug: `dup-${t}` }),
    400,
    "organization_slug_already_used",
  );
  await assertStytchError(c.organizations.create({ organization_name: "x", organization_slug: "a" }), 400, "invalid_organization_slug");
});

test("a bad secret is rejected with 401 unauthorized_credentials", async () => {
  const bad = client({ secret: "secret-test-definitely-wrong" });
  await assertStytchError(bad.organizations.search({}), 401, "unauthorized_credentials");
  await assertStytchError(bad.organizations.create({ organization_name: "nope" }), 401, "unauthorized_credentials");
});
