-- Secrets the server reads back are sealed with a key-encryption key kept outside the database
-- (AES-256-GCM, `s1.<kid>.<…>` in the same columns). This table lists the keys values may be
-- sealed with, so a node started with another key refuses to start instead of failing each read.
-- Values an earlier version wrote in clear are sealed by the first start that knows sealing.
CREATE TABLE sealing_keys (
    kid        TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Recovery codes are kept sealed too, so `recovery_codes.get` can show them as Stytch does;
-- the digest stays for checking a code. Codes made before this have only the digest.
ALTER TABLE recovery_codes ADD COLUMN code_sealed TEXT;
