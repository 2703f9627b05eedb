-- A revoked signing key is never used again, to sign or to verify: its private half is wiped and
-- it stays only as a marker that nodes poll for (the index keeps that poll off a table scan).
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;
CREATE INDEX signing_keys_revoked ON signing_keys (revoked_at);
-- Housekeeping deletes outbox messages by age.
CREATE INDEX outbox_created ON outbox_messages (created_at);
