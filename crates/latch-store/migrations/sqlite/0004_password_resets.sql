-- One-time password reset tokens (stored as SHA-256 digests).

CREATE TABLE password_reset_tokens (
    token_hash      TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id       TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX password_reset_tokens_member ON password_reset_tokens (member_id);
CREATE INDEX password_reset_tokens_expiry ON password_reset_tokens (expires_at);
