//! Projects and their API credentials. A secret is shown once and stored as its SHA-256 digest;
//! it has 256 bits of entropy, so a slow hash would add latency to every call and no safety. A
//! project may have several live secrets (rotation without a failed call).

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, project_secret, sha256_hex};
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::ProjectId;
use crate::model::project::{EnvironmentType, Project, ProjectSecret, WorkspaceProject};
use crate::store::Store;

/// A digest no secret maps to in practice, compared against when the project is unknown so that
/// both paths do the same work.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub struct NewProject {
    pub project: Project,
    pub secret: String,
    /// Identifies the project in browser-facing URLs (SSO start); not a credential.
    pub public_token: String,
}

/// A project made outside the Management API (the CLI, bootstrap): its own workspace project,
/// named after it, with the project as its test environment. Its settings are the server's
/// defaults until changed (`Ctx::project_config`); the next start stores them.
#[allow(clippy::disallowed_methods)] // projects are created by the CLI and at bootstrap, before any Ctx
async fn insert_standalone(store: &dyn Store, project_id: &ProjectId, name: &str, secret: &str) -> CoreResult<Project> {
    let now = Timestamp::now();
    let live = project_id.starts_with("project-live-");
    let project = Project {
        project_id: project_id.clone(),
        name: name.to_string(),
        project_slug: project_id.to_string(),
        environment_slug: if live { "live" } else { "test" }.to_string(),
        environment_type: if live {
            EnvironmentType::Live
        } else {
            EnvironmentType::Test
        },
        secret_hashes: vec![sha256_hex(secret)],
        created_at: now,
    };
    store
        .insert_workspace_project(&WorkspaceProject {
            project_slug: project.project_slug.clone(),
            name: name.to_string(),
            vertical: "B2B".into(),
            created_at: now,
        })
        .await?;
    let record = secret_record(project_id, secret, now);
    store.insert_project(&project, &[record]).await?;
    Ok(project)
}

fn secret_record(project_id: &ProjectId, secret: &str, at: Timestamp) -> ProjectSecret {
    ProjectSecret {
        secret_id: format!("secret-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        secret_hash: sha256_hex(secret),
        last_four: crate::crypto::last_four(secret),
        created_at: at,
    }
}

pub async fn create(store: &dyn Store, name: &str) -> CoreResult<NewProject> {
    let secret = project_secret();
    let project = insert_standalone(store, &ProjectId::generate(), name, &secret).await?;
    let public_token = public_token(store, &project.project_id).await?;
    Ok(NewProject {
        project,
        secret,
        public_token,
    })
}

/// The project's first public token, created if it has none (projects from before SSO).
#[allow(clippy::disallowed_methods)] // called by the CLI and at bootstrap, before any Ctx
pub async fn public_token(store: &dyn Store, project_id: &ProjectId) -> CoreResult<String> {
    if let Some(t) = store.public_tokens(project_id).await?.into_iter().next() {
        return Ok(t);
    }
    let token = ids::public_token();
    store.insert_public_token(project_id, &token, Timestamp::now()).await?;
    Ok(token)
}

/// What `ensure` found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Unchanged,
    /// The project existed without this secret; it is now its only one.
    SecretChanged,
    Created,
}

/// Makes sure `project_id` exists and accepts `secret` (bootstrap for tests and containers).
#[allow(clippy::disallowed_methods)] // projects are created by the CLI and at bootstrap, before any Ctx
pub async fn ensure(store: &dyn Store, project_id: &ProjectId, secret: &str) -> CoreResult<Ensured> {
    if !project_id.starts_with("project-") || secret.len() < 16 {
        return Err(CoreError::argument(
            "bootstrap project",
            "the id must start with 'project-' and the secret be at least 16 characters",
        ));
    }
    let hash = sha256_hex(secret);
    let done = match store.get_project(project_id).await? {
        Some(p) if p.secret_hashes.contains(&hash) => Ensured::Unchanged,
        Some(_) => {
            store
                .replace_project_secrets(&secret_record(project_id, secret, Timestamp::now()))
                .await?;
            Ensured::SecretChanged
        }
        None => {
            insert_standalone(store, project_id, "bootstrap", secret).await?;
            Ensured::Created
        }
    };
    public_token(store, project_id).await?;
    Ok(done)
}

/// Gives the project a new secret in place of all it had (shown once; only its digest is kept):
/// the old ones stop working at once on this node and within the project cache's lifetime on
/// the others. The Management API's secrets routes rotate without a gap instead.
#[allow(clippy::disallowed_methods)] // called by the CLI, before any Ctx
pub async fn rotate_secret(store: &dyn Store, project_id: &ProjectId) -> CoreResult<String> {
    if store.get_project(project_id).await?.is_none() {
        return Err(crate::error::catalogue::PROJECT_NOT_FOUND.err());
    }
    let secret = project_secret();
    store
        .replace_project_secrets(&secret_record(project_id, &secret, Timestamp::now()))
        .await?;
    Ok(secret)
}

/// Stores the server's configured settings for every project that has none: projects from before
/// settings moved into the database keep behaving as configured. Run at start.
pub async fn init_settings(ctx: &Ctx) -> CoreResult<usize> {
    let mut stored = 0;
    for project_id in ctx.store.project_ids().await? {
        let settings = ctx.default_project_settings(&project_id);
        if ctx
            .store
            .init_project_settings(&project_id, &settings.to_json(), ctx.now())
            .await?
        {
            stored += 1;
        }
    }
    Ok(stored)
}

/// Checks HTTP Basic credentials. Which part was wrong is never revealed. The project record is
/// cached briefly (the secret is still compared on every call): every request makes this check.
pub async fn authenticate(ctx: &Ctx, project_id: &ProjectId, secret: &str) -> CoreResult<Project> {
    // Bounded before hashing: a secret is far shorter.
    if secret.len() > 256 {
        return Err(bad_credentials());
    }
    let presented = sha256_hex(secret);
    let cached = ctx.projects.lookup(project_id, 0, ctx.now());
    let from_cache = cached.is_some();
    let found = match cached {
        Some(p) => Some(p),
        None => load(ctx, project_id).await?,
    };
    if let Some(p) = found.as_ref().filter(|p| accepts(p, &presented)) {
        return Ok(p.clone());
    }
    // A secret made since this node cached the project (by another node or the CLI) works at
    // once: a miss on a cached record is checked against the database before it is refused.
    if from_cache {
        if let Some(p) = load(ctx, project_id).await?.filter(|p| accepts(p, &presented)) {
            return Ok(p);
        }
    }
    Err(bad_credentials())
}

async fn load(ctx: &Ctx, project_id: &ProjectId) -> CoreResult<Option<Project>> {
    let found = ctx.store.get_project(project_id).await?;
    if let Some(p) = &found {
        ctx.projects.put(project_id.clone(), 0, ctx.now(), p.clone());
    }
    Ok(found)
}

/// Whether `presented` (a digest) is one of the project's live secrets. Every secret is compared,
/// without stopping at a match; a project without secrets still costs one comparison.
fn accepts(project: &Project, presented: &str) -> bool {
    let dummy = [DUMMY_HASH.to_string()];
    let expected = if project.secret_hashes.is_empty() {
        &dummy[..]
    } else {
        &project.secret_hashes[..]
    };
    expected.iter().fold(false, |any, h| {
        any | (constant_time_eq(presented, h) && h != DUMMY_HASH)
    })
}

pub fn bad_credentials() -> CoreError {
    crate::error::catalogue::UNAUTHORIZED_CREDENTIALS.err()
}
