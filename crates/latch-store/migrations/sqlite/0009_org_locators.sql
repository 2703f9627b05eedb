-- Every string that addresses an organization (its id, slug and external id), unique per project,
-- so that no organization can shadow another's locator: a unique index cannot span three columns,
-- and a check before the write would leave a window between two concurrent updates.
CREATE TABLE organization_locators (
    project_id      TEXT NOT NULL,
    locator         TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, locator)
);
CREATE INDEX organization_locators_org ON organization_locators (organization_id);

-- Existing rows: ids first, then slugs, then external ids, oldest organization first, so that an
-- existing collision keeps resolving as find_org resolved it (the loser's next update is refused).
INSERT OR IGNORE INTO organization_locators (project_id, locator, organization_id)
    SELECT project_id, organization_id, organization_id FROM organizations ORDER BY created_at;
INSERT OR IGNORE INTO organization_locators (project_id, locator, organization_id)
    SELECT project_id, slug, organization_id FROM organizations ORDER BY created_at;
INSERT OR IGNORE INTO organization_locators (project_id, locator, organization_id)
    SELECT project_id, external_id, organization_id FROM organizations
    WHERE external_id IS NOT NULL ORDER BY created_at;
