-- TOTP registrations and recovery codes. The TOTP secret must stay readable to check codes;
-- recovery codes are stored only as digests.

CREATE TABLE totp_registrations (
    totp_id        TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    member_id      TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    secret         TEXT NOT NULL,
    active         BOOLEAN NOT NULL,
    last_used_step BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX totp_registrations_member ON totp_registrations (member_id);

CREATE TABLE recovery_codes (
    code_id    TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    hint       TEXT NOT NULL,
    used       BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX recovery_codes_member ON recovery_codes (member_id);
