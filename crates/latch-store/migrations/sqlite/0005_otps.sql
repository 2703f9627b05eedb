-- One-time passcodes (email and SMS). One live code per (project, scope, channel, recipient):
-- sending a new one replaces the old. Codes are stored as salted SHA-256 digests.

CREATE TABLE otp_codes (
    otp_id      TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    member_id   TEXT,
    code_hash   TEXT NOT NULL,
    salt        TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX otp_codes_latest ON otp_codes (project_id, scope, channel, recipient);
CREATE INDEX otp_codes_expiry ON otp_codes (expires_at);
