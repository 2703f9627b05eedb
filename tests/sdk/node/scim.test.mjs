// SCIM connections through the official Stytch Node SDK (14.2.0): Node sends no path parameters in
// bodies or queries (`getGroups` sends only `?limit=`), and `{}` as the body of DELETE and of the
// rotate calls. The identity provider's side is plain fetch with the connection's bearer token.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as stytch from "stytch";
import { startLatch, stopLatch } from "./server.mjs";

let url;
let projectId;
let secret;

before(async () => {
  ({ url, projectId, secret } = await startLatch("latch-sdk-node-scim-"));
});

after(stopLatch);

function ok(resp) {
  assert.equal(resp.status_code, 200);
  assert.ok(resp.request_id);
  return resp;
}

async function scim(base, token, method, path, body) {
  const r = await fetch(`${base.split("?")[0]}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, type: r.headers.get("content-type"), body: r.status === 204 ? null : await r.json() };
}

test("a SCIM connection through the Node SDK, and a user provisioned with its token", async () => {
  const c = new stytch.B2BClient({ project_id: projectId, secret, env: url });
  const t = randomBytes(6).toString("hex");
  const org = ok(await c.organizations.create({ organization_name: `Node SCIM ${t}`, organization_slug: `node-scim-${t}` })).organization;
  const orgId = org.organization_id;

  const created = ok(await c.scim.connection.create({ organization_id: orgId, display_name: "Okta", identity_provider: "okta" })).connection;
  assert.equal(created.bearer_token.length, 48);
  assert.ok(created.base_url.endsWith(`/v1/b2b/scim/${created.connection_id}`));

  const email = `node-${t}@node-scim-${t}.com`;
  const user = await scim(created.base_url, created.bearer_token, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: email,
    emails: [{ value: email, primary: true, type: "work" }],
    name: { givenName: "Node", familyName: "Person" },
    active: true,
  });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  assert.ok(user.type.startsWith("application/scim+json"));
  const member = ok(await c.organizations.members.get({ organization_id: orgId, member_id: user.body.id })).member;
  assert.equal(member.scim_registration.connection_id, created.connection_id);
  assert.equal(member.name, "Node Person");

  const group = await scim(created.base_url, created.bearer_token, "POST", "/Groups", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    displayName: "Admins",
    members: [{ value: user.body.id }],
  });
  assert.equal(group.status, 201, JSON.stringify(group.body));
  const groups = ok(await c.scim.connection.getGroups({ organization_id: orgId, connection_id: created.connection_id, limit: 5 }));
  assert.deepEqual(groups.scim_groups.map((g) => g.group_name), ["Admins"]);
  const updated = ok(
    await c.scim.connection.update({
      organization_id: orgId,
      connection_id: created.connection_id,
      scim_group_implicit_role_assignments: [{ group_id: group.body.id, role_id: "stytch_admin" }],
    }),
  ).connection;
  assert.equal(updated.scim_group_implicit_role_assignments[0].group_name, "Admins");
  const admin = ok(await c.organizations.members.get({ organization_id: orgId, member_id: user.body.id })).member;
  assert.equal(admin.is_admin, true);

  const started = ok(await c.scim.connection.rotateStart({ organization_id: orgId, connection_id: created.connection_id })).connection;
  for (const token of [created.bearer_token, started.next_bearer_token]) {
    assert.equal((await scim(created.base_url, token, "GET", "/Users")).status, 200);
  }
  ok(await c.scim.connection.rotateComplete({ organization_id: orgId, connection_id: created.connection_id }));
  assert.equal((await scim(created.base_url, created.bearer_token, "GET", "/Users")).status, 401);
  assert.equal((await scim(created.base_url, started.next_bearer_token, "GET", "/Users")).status, 200);

  const got = ok(await c.scim.connection.get({ organization_id: orgId })).connection;
  assert.equal(got.bearer_token_last_four, started.next_bearer_token.slice(-4));
  ok(await c.scim.connection.delete({ organization_id: orgId, connection_id: created.connection_id }));
  assert.equal((await scim(created.base_url, started.next_bearer_token, "GET", "/Users")).status, 401);
});
