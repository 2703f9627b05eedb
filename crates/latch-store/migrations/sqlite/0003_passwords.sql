-- Member passwords, intermediate sessions, and failed-attempt counters for rate limits.

CREATE TABLE member_passwords (
    member_password_id TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    member_id          TEXT NOT NULL UNIQUE REFERENCES members (member_id) ON DELETE CASCADE,
    hash               TEXT NOT NULL,
    require_reset      BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE intermediate_sessions (
    ist_id          TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,
    organization_id TEXT,
    member_id       TEXT,
    email           TEXT NOT NULL,
    factors         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX intermediate_sessions_expiry ON intermediate_sessions (expires_at);

-- Fixed-window counters: (scope, key) -> failures since window_start. Shared by every node.
CREATE TABLE attempt_counters (
    scope        TEXT NOT NULL,
    counter_key  TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    PRIMARY KEY (scope, counter_key)
);
