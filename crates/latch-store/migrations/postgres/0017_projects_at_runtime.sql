-- Projects configured at runtime (the Management API): workspace projects that group a test and a
-- live environment, several secrets per environment, per-project settings, workspace keys and
-- email templates. A Latch project (the B2B project_id) is one environment.

CREATE TABLE workspace_projects (
    project_slug TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    vertical     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- Every project from before becomes the one environment of a workspace project named after it.
INSERT INTO workspace_projects (project_slug, name, vertical, created_at)
    SELECT project_id, name, 'B2B', created_at FROM projects;

ALTER TABLE projects ADD COLUMN project_slug TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN environment_slug TEXT NOT NULL DEFAULT 'test';
ALTER TABLE projects ADD COLUMN environment_type TEXT NOT NULL DEFAULT 'TEST';
UPDATE projects SET project_slug = project_id;
UPDATE projects SET environment_slug = 'live', environment_type = 'LIVE' WHERE project_id LIKE 'project-live-%';
CREATE UNIQUE INDEX projects_environment ON projects (project_slug, environment_slug);

-- Secrets of the B2B API, stored as SHA-256 digests (each has 256 bits of entropy). Several may
-- be live at once, so one can be replaced without a failed call.
CREATE TABLE project_secrets (
    secret_id   TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    last_four   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX project_secrets_project ON project_secrets (project_id);
INSERT INTO project_secrets (secret_id, project_id, secret_hash, last_four, created_at)
    SELECT 'secret-' || project_id, project_id, secret_hash, '', created_at FROM projects;
ALTER TABLE projects DROP COLUMN secret_hash;

-- The project's settings as one JSON document (`latch_core::project_settings`). A project without
-- a row is given the server's configured values at the next start (the upgrade path).
CREATE TABLE project_settings (
    project_id TEXT PRIMARY KEY REFERENCES projects (project_id) ON DELETE CASCADE,
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Credentials of the Management API, stored as digests.
CREATE TABLE workspace_keys (
    key_id      TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    last_four   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Email templates belong to the workspace project (shared by its environments).
CREATE TABLE email_templates (
    project_slug TEXT NOT NULL REFERENCES workspace_projects (project_slug) ON DELETE CASCADE,
    template_id  TEXT NOT NULL,
    template     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (project_slug, template_id)
);

CREATE TABLE default_email_templates (
    project_slug  TEXT NOT NULL REFERENCES workspace_projects (project_slug) ON DELETE CASCADE,
    template_type TEXT NOT NULL,
    template_id   TEXT NOT NULL,
    PRIMARY KEY (project_slug, template_type),
    FOREIGN KEY (project_slug, template_id) REFERENCES email_templates (project_slug, template_id) ON DELETE CASCADE
);
