-- OAuth sign-in (Google, Microsoft): the browser's trip to the provider reuses `sso_states`
-- (a trip names either an SSO connection or an OAuth provider, with the organization it logs
-- into, none for discovery); the one-time token the application redeems; and a member's
-- registration at a provider with the provider's latest tokens (for the token reads).

ALTER TABLE sso_states ADD COLUMN oauth_provider TEXT;
ALTER TABLE sso_states ADD COLUMN organization_id TEXT;

CREATE TABLE oauth_tokens (
    token_hash      TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations (organization_id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    identity        TEXT NOT NULL,
    provider_tokens TEXT NOT NULL,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE oauth_registrations (
    registration_id     TEXT PRIMARY KEY,
    project_id          TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id     TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id           TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    provider            TEXT NOT NULL,
    subject             TEXT NOT NULL,
    profile_picture_url TEXT,
    locale              TEXT,
    provider_tokens     TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_registrations_subject ON oauth_registrations (project_id, organization_id, provider, subject);
CREATE INDEX oauth_registrations_member ON oauth_registrations (member_id);
