-- Enterprise SSO (OIDC), the public tokens its browser flow starts with, and the one-time
-- values of that flow (stored as SHA-256 digests).

CREATE TABLE public_tokens (
    public_token TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX public_tokens_project ON public_tokens (project_id);

CREATE TABLE oidc_connections (
    connection_id     TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id   TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    display_name      TEXT NOT NULL,
    identity_provider TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    client_secret     TEXT NOT NULL,
    authorization_url TEXT NOT NULL,
    token_url         TEXT NOT NULL,
    userinfo_url      TEXT NOT NULL,
    jwks_url          TEXT NOT NULL,
    custom_scopes     TEXT NOT NULL,
    attribute_mapping TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX oidc_connections_org ON oidc_connections (project_id, organization_id);

-- One browser's trip to the identity provider: `state` names it, the cookie binds it to the
-- browser that started it, the nonce and PKCE verifier go with it to the token exchange.
CREATE TABLE sso_states (
    state_hash          TEXT PRIMARY KEY,
    project_id          TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    connection_id       TEXT NOT NULL,
    browser_hash        TEXT NOT NULL,
    nonce               TEXT NOT NULL,
    pkce_verifier       TEXT NOT NULL,
    code_challenge      TEXT,
    login_redirect_url  TEXT NOT NULL,
    signup_redirect_url TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL
);
CREATE INDEX sso_states_expiry ON sso_states (expires_at);

-- The one-time token the application's backend exchanges with sso.authenticate, holding the
-- identity the provider vouched for.
CREATE TABLE sso_tokens (
    token_hash      TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL,
    identity        TEXT NOT NULL,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sso_tokens_expiry ON sso_tokens (expires_at);

-- A member's link to a subject at a connection's identity provider.
CREATE TABLE sso_registrations (
    registration_id TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id       TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    sso_attributes  TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX sso_registrations_subject ON sso_registrations (project_id, connection_id, external_id);
CREATE INDEX sso_registrations_member ON sso_registrations (member_id);
