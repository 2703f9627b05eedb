//! An environment's secrets and public tokens. Several secrets can be live at once, so a secret is
//! replaced without a failed call: create the new one, move the application to it, delete the
//! old. A secret is shown once, at creation, and stored as its SHA-256 digest; deleting one stops
//! it at once on this node and within the project cache's lifetime on the others.

use super::environment;
use crate::crypto::{last_four, project_secret, sha256_hex};
use crate::engine::Ctx;
use crate::error::{catalogue, CoreResult};
use crate::ids::ProjectId;
use crate::model::project::{ProjectSecret, PublicToken};

/// Live secrets per environment.
pub const MAX_SECRETS: usize = 5;
/// Public tokens per environment.
pub const MAX_PUBLIC_TOKENS: usize = 5;

/// A new secret record for `project_id` and the secret, shown once.
pub fn new_secret(project_id: &ProjectId, at: crate::clock::Timestamp) -> (ProjectSecret, String) {
    let secret = project_secret();
    let record = ProjectSecret {
        secret_id: format!("secret-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        secret_hash: sha256_hex(&secret),
        last_four: last_four(&secret),
        created_at: at,
    };
    (record, secret)
}

pub async fn create(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<(ProjectSecret, String)> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    if ctx.store.project_secrets(&env.project_id).await?.len() >= MAX_SECRETS {
        return Err(catalogue::TOO_MANY_SECRETS.detail(format!("at most {MAX_SECRETS}")));
    }
    let (record, secret) = new_secret(&env.project_id, ctx.now());
    ctx.store.insert_project_secret(&record).await?;
    ctx.forget_project(&env.project_id);
    Ok((record, secret))
}

pub async fn list(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<Vec<ProjectSecret>> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    Ok(ctx.store.project_secrets(&env.project_id).await?)
}

pub async fn get(ctx: &Ctx, project_slug: &str, environment_slug: &str, secret_id: &str) -> CoreResult<ProjectSecret> {
    list(ctx, project_slug, environment_slug)
        .await?
        .into_iter()
        .find(|s| s.secret_id == secret_id)
        .ok_or_else(|| catalogue::SECRET_NOT_FOUND.detail(secret_id))
}

pub async fn delete(ctx: &Ctx, project_slug: &str, environment_slug: &str, secret_id: &str) -> CoreResult<()> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    if !ctx.store.delete_project_secret(&env.project_id, secret_id).await? {
        return Err(catalogue::SECRET_NOT_FOUND.detail(secret_id));
    }
    ctx.forget_project(&env.project_id);
    Ok(())
}

pub async fn create_public_token(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<PublicToken> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    if ctx.store.public_token_records(&env.project_id).await?.len() >= MAX_PUBLIC_TOKENS {
        return Err(catalogue::TOO_MANY_PUBLIC_TOKENS.detail(format!("at most {MAX_PUBLIC_TOKENS}")));
    }
    let token = PublicToken {
        public_token: crate::ids::public_token(),
        created_at: ctx.now(),
    };
    ctx.store
        .insert_public_token(&env.project_id, &token.public_token, token.created_at)
        .await?;
    Ok(token)
}

pub async fn public_tokens(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<Vec<PublicToken>> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    Ok(ctx.store.public_token_records(&env.project_id).await?)
}

pub async fn public_token(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    token: &str,
) -> CoreResult<PublicToken> {
    public_tokens(ctx, project_slug, environment_slug)
        .await?
        .into_iter()
        .find(|t| t.public_token == token)
        .ok_or_else(|| catalogue::PUBLIC_TOKEN_NOT_FOUND.detail(token))
}

/// The last token stays: the SSO and OAuth start URLs need one.
pub async fn delete_public_token(ctx: &Ctx, project_slug: &str, environment_slug: &str, token: &str) -> CoreResult<()> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    let tokens = ctx.store.public_token_records(&env.project_id).await?;
    if !tokens.iter().any(|t| t.public_token == token) {
        return Err(catalogue::PUBLIC_TOKEN_NOT_FOUND.detail(token));
    }
    if tokens.len() == 1 {
        return Err(catalogue::UNABLE_TO_DELETE_LAST_PUBLIC_TOKEN.err());
    }
    ctx.store.delete_public_token(&env.project_id, token).await?;
    Ok(())
}
