// SAML connections through the official Stytch Node SDK (14.2.0): Node sends no path parameters in
// bodies, and `{}` as the body of the DELETE calls. The sign-in itself (a real IdP, forged
// responses) is tested from Python (tests/sdk/python/test_sso_saml.py); this checks that the Node
// SDK's calls and models fit Latch's answers.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, generateKeyPairSync, randomBytes } from "node:crypto";
import * as stytch from "stytch";
import { startLatch, stopLatch } from "./server.mjs";

let url;
let projectId;
let secret;

before(async () => {
  ({ url, projectId, secret } = await startLatch("latch-sdk-node-saml-"));
});

after(stopLatch);

function ok(resp) {
  assert.equal(resp.status_code, 200);
  assert.ok(resp.request_id);
  return resp;
}

async function assertStytchError(promise, status, errorType) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof stytch.StytchError, `expected StytchError, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status_code, status, String(err));
    assert.equal(err.error_type, errorType, String(err));
    return true;
  });
}

test("a SAML connection's lifecycle through the Node SDK", async () => {
  const c = new stytch.B2BClient({ project_id: projectId, secret, env: url });
  const t = randomBytes(6).toString("hex");
  const orgId = ok(await c.organizations.create({ organization_name: `Node SAML ${t}`, organization_slug: `node-saml-${t}` }))
    .organization.organization_id;

  const created = ok(await c.sso.saml.createConnection({ organization_id: orgId, display_name: "Okta", identity_provider: "okta" }))
    .connection;
  assert.match(created.connection_id, /^saml-connection-/);
  assert.equal(created.status, "pending");
  assert.ok(created.acs_url.endsWith(`/v1/b2b/sso/callback/${created.connection_id}`));
  assert.equal(created.audience_uri, created.acs_url);
  assert.equal(created.signing_certificates.length, 1);
  const signing = new X509Certificate(created.signing_certificates[0].certificate);
  assert.ok(signing.publicKey.asymmetricKeyDetails.modulusLength >= 2048);

  // Any certificate does as the IdP's for the connection's settings: use the connection's own.
  const active = ok(
    await c.sso.saml.updateConnection({
      organization_id: orgId,
      connection_id: created.connection_id,
      idp_entity_id: "https://idp.example.com/metadata",
      idp_sso_url: "https://idp.example.com/sso",
      x509_certificate: created.signing_certificates[0].certificate,
      attribute_mapping: { email: "mail", first_name: "givenName", last_name: "sn", groups: "memberOf" },
      saml_connection_implicit_role_assignments: [{ role_id: "stytch_admin" }],
    }),
  ).connection;
  assert.equal(active.status, "active");
  assert.equal(active.verification_certificates.length, 1);
  assert.deepEqual(active.saml_connection_implicit_role_assignments, [{ role_id: "stytch_admin" }]);

  const listed = ok(await c.sso.getConnections({ organization_id: orgId }));
  assert.deepEqual(listed.saml_connections.map((s) => s.connection_id), [created.connection_id]);
  const org = ok(await c.organizations.get({ organization_id: orgId })).organization;
  assert.equal(org.sso_default_connection_id, created.connection_id);

  const metadata = await fetch(new URL(`/v1/b2b/sso/saml/metadata/${created.connection_id}`, url));
  assert.equal(metadata.status, 200);
  assert.match(await metadata.text(), new RegExp(`entityID="${created.audience_uri}"`));

  await assertStytchError(
    c.sso.saml.deleteVerificationCertificate({
      organization_id: orgId,
      connection_id: created.connection_id,
      certificate_id: active.verification_certificates[0].certificate_id,
    }),
    400,
    "cannot_delete_last_sso_verification_key",
  );
  await assertStytchError(
    c.sso.saml.updateByURL({ organization_id: orgId, connection_id: created.connection_id, metadata_url: "not a url" }),
    400,
    "invalid_saml_metadata_url",
  );

  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const withKey = ok(
    await c.sso.saml.updateConnection({ organization_id: orgId, connection_id: created.connection_id, saml_encryption_private_key: privateKey }),
  ).connection;
  assert.equal(withKey.encryption_private_keys.length, 1);
  const shown = withKey.encryption_private_keys[0];
  assert.equal(shown.private_key.trim(), publicKey.trim(), "only the public half is shown");
  const removed = ok(
    await c.sso.saml.deleteEncryptionPrivateKey({
      organization_id: orgId,
      connection_id: created.connection_id,
      private_key_id: shown.private_key_id,
    }),
  );
  assert.equal(removed.private_key_id, shown.private_key_id);

  ok(await c.sso.deleteConnection({ organization_id: orgId, connection_id: created.connection_id }));
  assert.deepEqual(ok(await c.sso.getConnections({ organization_id: orgId })).saml_connections, []);
});
