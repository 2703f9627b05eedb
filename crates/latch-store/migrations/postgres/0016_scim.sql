-- SCIM provisioning: one connection per organization that an identity provider calls with a
-- bearer token (stored as SHA-256 digests: the current one and, during a rotation, the next),
-- the users and groups it pushed, and the roles members hold through those groups.

CREATE TABLE scim_connections (
    connection_id         TEXT PRIMARY KEY,
    project_id            TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id       TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    display_name          TEXT NOT NULL,
    identity_provider     TEXT NOT NULL,
    token_hash            TEXT NOT NULL,
    token_last_four       TEXT NOT NULL,
    token_expires_at      BIGINT,
    next_token_hash       TEXT,
    next_token_last_four  TEXT NOT NULL,
    next_token_expires_at BIGINT,
    role_assignments      TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
-- One connection per organization (Stytch: active_scim_connection_exists).
CREATE UNIQUE INDEX scim_connections_org ON scim_connections (project_id, organization_id);

-- A SCIM User: the member it provisions (its SCIM id is the member id) and the resource as the
-- identity provider last wrote it.
CREATE TABLE scim_users (
    member_id       TEXT PRIMARY KEY REFERENCES members (member_id) ON DELETE CASCADE,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES scim_connections (connection_id) ON DELETE CASCADE,
    registration_id TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    external_id     TEXT,
    active          BOOLEAN NOT NULL,
    resource        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- userName is unique per connection, compared case-insensitively (RFC 7643 §4.1.1): stored folded.
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (connection_id, user_name);
CREATE INDEX scim_users_project ON scim_users (project_id, connection_id);

-- A SCIM Group and its members (SCIM user ids, i.e. member ids).
CREATE TABLE scim_groups (
    group_id        TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL REFERENCES scim_connections (connection_id) ON DELETE CASCADE,
    display_name    TEXT NOT NULL,
    external_id     TEXT,
    members         TEXT NOT NULL,
    resource        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX scim_groups_display_name ON scim_groups (connection_id, display_name);
CREATE INDEX scim_groups_project ON scim_groups (project_id, connection_id);

-- Roles a member holds through its SCIM groups (`scim_connection_group` role sources), kept on
-- the member so that every session check reads them with the member.
ALTER TABLE members ADD COLUMN scim_roles TEXT NOT NULL DEFAULT '[]';
