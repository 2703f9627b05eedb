-- The audit log: one row per authentication attempt, change or secret operation. Written in
-- batches by each node's background writer, listed per project newest first (by time, then
-- event id, which is also the cursor), and deleted by housekeeping after the retention time.
-- No foreign keys: an event outlives what it is about (a deleted member, a deleted organization).
-- Never a secret in any column: identifiers, names and outcomes only.

CREATE TABLE audit_events (
    event_id        TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL,
    time            BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT,
    actor_type      TEXT NOT NULL,
    actor_id        TEXT,
    organization_id TEXT,
    member_id       TEXT,
    session_id      TEXT,
    client_address  TEXT,
    request_id      TEXT,
    status_code     BIGINT,
    details         TEXT NOT NULL
);
CREATE INDEX audit_events_listing ON audit_events (project_id, time, event_id);
CREATE INDEX audit_events_member ON audit_events (project_id, member_id, time);
CREATE INDEX audit_events_organization ON audit_events (project_id, organization_id, time);
CREATE INDEX audit_events_time ON audit_events (time);
