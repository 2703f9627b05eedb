-- Initial schema: projects, organizations, members, retired emails, development outbox.
CREATE TABLE projects (
    project_id  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE organizations (
    organization_id  TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL,
    logo_url         TEXT NOT NULL,
    external_id      TEXT,
    trusted_metadata TEXT NOT NULL,
    settings         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug ON organizations (project_id, slug);
CREATE UNIQUE INDEX organizations_external_id ON organizations (project_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX organizations_page ON organizations (project_id, created_at, organization_id);

-- Allowed and claimed email domains, one row each, so searches can use an index.
CREATE TABLE organization_domains (
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    PRIMARY KEY (organization_id, kind, domain)
);
CREATE INDEX organization_domains_domain ON organization_domains (kind, domain);

CREATE TABLE members (
    member_id            TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL,
    organization_id      TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    email                TEXT NOT NULL,
    status               TEXT NOT NULL,
    name                 TEXT NOT NULL,
    external_id          TEXT,
    is_breakglass        BOOLEAN NOT NULL,
    email_verified       BOOLEAN NOT NULL,
    mfa_enrolled         BOOLEAN NOT NULL,
    mfa_phone_number     TEXT NOT NULL,
    mfa_phone_verified   BOOLEAN NOT NULL,
    default_mfa_method   TEXT NOT NULL,
    member_password_id   TEXT NOT NULL,
    totp_registration_id TEXT NOT NULL,
    roles                TEXT NOT NULL,
    trusted_metadata     TEXT NOT NULL,
    untrusted_metadata   TEXT NOT NULL,
    lock_created_at      BIGINT,
    lock_expires_at      BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
-- Identifiers are unique among the organization's live members; a deleted member frees them.
CREATE UNIQUE INDEX members_email ON members (organization_id, email) WHERE status <> 'deleted';
CREATE UNIQUE INDEX members_external_id ON members (organization_id, external_id) WHERE external_id IS NOT NULL AND status <> 'deleted';
CREATE UNIQUE INDEX members_phone ON members (organization_id, mfa_phone_number) WHERE mfa_phone_number <> '' AND status <> 'deleted';
CREATE INDEX members_page ON members (organization_id, created_at, member_id);
CREATE INDEX members_project_email ON members (project_id, email);
CREATE INDEX members_password ON members (organization_id, member_password_id);

CREATE TABLE retired_emails (
    email_id        TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    member_id       TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX retired_emails_email ON retired_emails (organization_id, email);
CREATE INDEX retired_emails_member ON retired_emails (member_id);

CREATE TABLE outbox_messages (
    seq        BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    subject    TEXT,
    text       TEXT NOT NULL,
    html       TEXT,
    code       TEXT,
    token      TEXT,
    url        TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_recipient ON outbox_messages (project_id, recipient, seq);
