// A real OpenID Provider for Latch's SSO and OAuth tests: `oidc-provider` (the certified Node.js
// implementation) with its development login form. Started by tests/sdk/python/oidc_idp.py.
//
// Env: PORT; CLIENTS = JSON array of {client_id, client_secret, redirect_uris, grant_types?}
// (a client with the refresh_token grant gets refresh tokens); ACCESS_TOKEN_TTL in seconds
// (default 3600); OIDC_ALLOW_LOCAL_CALLBACKS=1 also accepts any Latch callback URL on 127.0.0.1.
// Accounts: any login name signs in (the development form takes any password). The login name is
// the subject; claims follow from it:
//   "<local>@<domain>"            email = the login, email_verified = true, name = "<local> Test"
//   "<...>+unverified@<domain>"   the same with email_verified = false
//   "<...>+silent@<domain>"       the same without email_verified
//   "<...>+edov@<domain>"         without email_verified, with Microsoft's xms_edov = true
//   "noemail-<x>"                 no email claim
//   a subject given an address with POST /test/email?sub=…&email=…: that address (verified)
// A line "ready <issuer>" on stdout says the provider listens.

import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || "[]").map((c) => ({
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
  ...c,
}));

// Addresses the test set for a subject (POST /test/email?sub=…&email=…), as an IdP administrator
// would change a user's address.
const chosenEmail = new Map();

function claimsFor(id) {
  if (id.startsWith("noemail-")) return { sub: id, name: "No Email" };
  if (chosenEmail.has(id)) {
    return { sub: id, email: chosenEmail.get(id), email_verified: true, name: "Chosen Address", department: "dept" };
  }
  const local = id.split("@")[0];
  const claims = {
    sub: id,
    email: id,
    email_verified: !id.includes("+unverified@"),
    name: `${local} Test`,
    department: `dept-of-${local}`,
    picture: `https://pictures.example.test/${encodeURIComponent(local)}.png`,
    locale: "en",
  };
  if (id.includes("+silent@") || id.includes("+edov@")) delete claims.email_verified;
  if (id.includes("+edov@")) claims.xms_edov = true;
  return claims;
}

const provider = new Provider(issuer, {
  clients,
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified", "xms_edov"],
    profile: ["name", "department", "picture", "locale"],
  },
  ttl: { AccessToken: Number(process.env.ACCESS_TOKEN_TTL || 3600) },
  // Refresh tokens for clients allowed the grant (the OAuth tests read and refresh them).
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed("refresh_token");
  },
  scopes: ["openid", "email", "profile"],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["latch-sso-tests"] },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return claimsFor(id); } };
  },
  // No consent screen: the test client is first-party.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    grant.addOIDCClaims(["email", "email_verified", "xms_edov", "name", "department", "picture", "locale"]);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.method === "POST" && ctx.path === "/test/email") {
    chosenEmail.set(ctx.query.sub, ctx.query.email);
    ctx.status = 204;
    return;
  }
  await next();
});

// Latch assigns each connection its own callback URL; the tests create connections as they go,
// so the test client accepts any Latch callback on this machine (a real client lists its URLs).
if (process.env.OIDC_ALLOW_LOCAL_CALLBACKS === "1") {
  const exact = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function (value) {
    const latch = /^http:\/\/127\.0\.0\.1:\d+\/v1\/b2b\/(sso\/callback\/[A-Za-z0-9-]+|public\/oauth\/(google|microsoft)\/callback)$/;
    return latch.test(value) || exact.call(this, value);
  };
}

const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
