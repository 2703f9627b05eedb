-- Email magic links (stored as SHA-256 digests of their tokens) and pending email updates.

CREATE TABLE magic_links (
    token_hash      TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    -- Both NULL for discovery links, which prove an address before any membership.
    organization_id TEXT REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id       TEXT REFERENCES members (member_id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    -- Kept after use until expiry, so a second use is answered as used rather than unknown.
    used_at         BIGINT
);
CREATE INDEX magic_links_member ON magic_links (member_id);
CREATE INDEX magic_links_expiry ON magic_links (expires_at);

-- One pending change of address per member; the new address is held until proven or expired.
CREATE TABLE email_updates (
    member_id       TEXT PRIMARY KEY REFERENCES members (member_id) ON DELETE CASCADE,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    new_email       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX email_updates_target ON email_updates (project_id, organization_id, new_email);
CREATE INDEX email_updates_expiry ON email_updates (expires_at);
