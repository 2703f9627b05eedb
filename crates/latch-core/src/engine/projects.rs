//! Projects and their API credentials. A secret is shown once and stored as its SHA-256 digest;
//! it has 256 bits of entropy, so a slow hash would add latency to every call and no safety.

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, project_secret, sha256_hex};
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::ProjectId;
use crate::model::project::Project;
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

#[allow(clippy::disallowed_methods)] // projects are created by the CLI and at bootstrap, before any Ctx
pub async fn create(store: &dyn Store, name: &str) -> CoreResult<NewProject> {
    let secret = project_secret();
    let project = Project {
        project_id: ProjectId::generate(),
        name: name.to_string(),
        secret_hash: sha256_hex(&secret),
        created_at: Timestamp::now(),
    };
    store.insert_project(&project).await?;
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
    /// The project existed with another secret, now replaced.
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
        Some(p) if p.secret_hash == hash => Ensured::Unchanged,
        Some(_) => {
            store.set_project_secret(project_id, &hash).await?;
            Ensured::SecretChanged
        }
        None => {
            let project = Project {
                project_id: project_id.clone(),
                name: "bootstrap".to_string(),
                secret_hash: hash,
                created_at: Timestamp::now(),
            };
            store.insert_project(&project).await?;
            Ensured::Created
        }
    };
    public_token(store, project_id).await?;
    Ok(done)
}

/// Gives the project a new secret (shown once; only its digest is kept): the old one stops
/// working at once on this node and within the project cache's lifetime on the others.
pub async fn rotate_secret(store: &dyn Store, project_id: &ProjectId) -> CoreResult<String> {
    if store.get_project(project_id).await?.is_none() {
        return Err(crate::error::catalogue::PROJECT_NOT_FOUND.err());
    }
    let secret = project_secret();
    store.set_project_secret(project_id, &sha256_hex(&secret)).await?;
    Ok(secret)
}

/// Checks HTTP Basic credentials. Which part was wrong is never revealed. The project record is
/// cached briefly (the secret is still compared on every call): every request makes this check.
pub async fn authenticate(ctx: &Ctx, project_id: &ProjectId, secret: &str) -> CoreResult<Project> {
    let found = ctx
        .projects
        .get_or_load(project_id.to_owned(), 0, ctx.now(), || {
            ctx.store.get_project(project_id)
        })
        .await?;
    let presented = sha256_hex(secret);
    let expected = found.as_ref().map(|p| p.secret_hash.as_str()).unwrap_or(DUMMY_HASH);
    match found {
        Some(p) if constant_time_eq(&presented, expected) => Ok(p),
        _ => Err(bad_credentials()),
    }
}

pub fn bad_credentials() -> CoreError {
    crate::error::catalogue::UNAUTHORIZED_CREDENTIALS.err()
}
