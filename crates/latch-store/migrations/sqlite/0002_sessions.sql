-- Member sessions, session-JWT signing keys, and organization-scoped RBAC roles.

CREATE TABLE member_sessions (
    member_session_id TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id   TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id         TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    token_hash        TEXT NOT NULL UNIQUE,
    started_at        BIGINT NOT NULL,
    last_accessed_at  BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    factors           TEXT NOT NULL,
    custom_claims     TEXT NOT NULL
);
CREATE INDEX member_sessions_member ON member_sessions (member_id, expires_at);
CREATE INDEX member_sessions_expiry ON member_sessions (expires_at);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    private_pkcs8 TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT
);
CREATE INDEX signing_keys_project ON signing_keys (project_id);

CREATE TABLE org_policies (
    organization_id TEXT PRIMARY KEY REFERENCES organizations (organization_id) ON DELETE CASCADE,
    roles           TEXT NOT NULL
);
