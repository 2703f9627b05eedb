-- Optimistic concurrency for members and organizations: a whole-record write matches the version
-- it read and bumps it, so a write based on a stale read changes nothing and is reported as a
-- conflict instead of silently undoing the write that came first. Existing rows start at 0.
ALTER TABLE members ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
