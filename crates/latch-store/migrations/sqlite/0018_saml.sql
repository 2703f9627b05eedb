-- SAML SSO connections: Latch is the service provider of each. `config` holds the connection's
-- non-secret values as JSON (IdP entity id and SSO URL, certificates, attribute mapping, role
-- assignments); `secrets` the private keys (signing, decryption), sealed with the KEK.
CREATE TABLE saml_connections (
    connection_id   TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    config          TEXT NOT NULL,
    secrets         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX saml_connections_org ON saml_connections (project_id, organization_id);

-- Assertions a connection accepted (SHA-256 of connection id and assertion id), kept until the
-- assertion expires: a replayed assertion finds its key here (the primary key makes the check
-- and the record one atomic insert).
CREATE TABLE saml_assertions (
    assertion_key TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);

-- Roles a member holds through its last sign-in at each SAML connection.
ALTER TABLE members ADD COLUMN sso_roles TEXT NOT NULL DEFAULT '[]';
