//! The CLI's commands.

use crate::app::{shutdown_signal, Application};
use crate::config::Config;
use anyhow::Context;
use latch_core::clock::SystemClock;
use latch_core::cpu::{CpuPool, Priority};
use latch_core::engine::projects;
use latch_core::ids::ProjectId;
use latch_core::store::prelude::*;
use latch_core::token::keyring::{self, Keyring};
use latch_store::{PoolOptions, SqlStore};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await.map_err(anyhow::Error::from)
}

async fn open(config: &Config) -> anyhow::Result<SqlStore> {
    if config.database_url.is_empty() {
        crate::data_dir::prepare(&config.data_dir).context("data directory")?;
    }
    let (sealer, source) = crate::kek::sealer(config)?;
    crate::kek::report(&sealer, &source);
    SqlStore::connect(
        &config.database_url(),
        &PoolOptions {
            max_connections: 2,
            sqlite_synchronous: config.sqlite_durability()?,
            ..Default::default()
        },
        Arc::new(sealer),
    )
    .await
    .context("database")
}

/// Reseals every secret at rest under the current key-encryption key (`kek`), so the previous
/// ones (`previous_keks`) can be dropped. Servers keep serving meanwhile.
pub async fn rewrap_secrets(config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let report = store.rewrap().await?;
    println!(
        "{}",
        serde_json::json!({
            "kek": crate::kek::sealer(config)?.0.current_id(),
            "rewrapped": report.rewrapped,
            "sealed_plaintext": report.sealed_plaintext,
            "retired_keks": report.retired_keys,
        })
    );
    store.close().await;
    Ok(())
}

/// Prints a new random key-encryption key (base64), for `kek` or a `kek_file`.
pub fn generate_kek() {
    println!("{}", latch_core::seal::generate_key().as_str());
}

pub async fn create_project(config: &Config, name: &str) -> anyhow::Result<()> {
    let store = open(config).await?;
    let created = projects::create(&store, name).await?;
    record(
        &store,
        &created.project.project_id,
        "project.created",
        &[("name", json!(name))],
    )
    .await?;
    let out = serde_json::json!({
        "project_id": created.project.project_id,
        "secret": created.secret,
        "name": created.project.name,
        "public_token": created.public_token,
    });
    println!("{out}");
    store.close().await;
    Ok(())
}

/// Gives a project a new secret and prints it (shown only this once).
pub async fn rotate_project_secret(config: &Config, project_id: &ProjectId) -> anyhow::Result<()> {
    let store = open(config).await?;
    let secret = projects::rotate_secret(&store, project_id)
        .await
        .with_context(|| format!("project {project_id}"))?;
    record(&store, project_id, "project.secret_rotated", &[]).await?;
    println!("{}", json!({"project_id": project_id, "secret": secret}));
    store.close().await;
    Ok(())
}

/// Every project (environment) with its slugs, public tokens and masked secrets.
pub async fn list_projects(config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let mut out = Vec::new();
    for project_id in store.project_ids().await? {
        let Some(p) = store.get_project(&project_id).await? else {
            continue;
        };
        let secrets: Vec<Value> = store
            .project_secrets(&project_id)
            .await?
            .iter()
            .map(|s| json!({"secret_id": s.secret_id, "last_four": s.last_four, "created_at": s.created_at}))
            .collect();
        let tokens: Vec<String> = store.public_tokens(&project_id).await?;
        out.push(json!({
            "project_id": p.project_id,
            "name": p.name,
            "project_slug": p.project_slug,
            "environment_slug": p.environment_slug,
            "environment_type": p.environment_type.as_str(),
            "created_at": p.created_at,
            "public_tokens": tokens,
            "secrets": secrets,
        }));
    }
    println!("{}", Value::Array(out));
    store.close().await;
    Ok(())
}

/// Adds a secret to a project and prints it (shown only this once).
pub async fn add_project_secret(config: &Config, project_id: &ProjectId) -> anyhow::Result<()> {
    use latch_core::service::management::secrets::{new_secret, MAX_SECRETS};
    let store = open(config).await?;
    if store.get_project(project_id).await?.is_none() {
        anyhow::bail!("no project {project_id}");
    }
    if store.project_secrets(project_id).await?.len() >= MAX_SECRETS {
        anyhow::bail!("project {project_id} has {MAX_SECRETS} secrets already; delete one first");
    }
    #[allow(clippy::disallowed_methods)] // a command, before any Ctx
    let (added, secret) = new_secret(project_id, latch_core::clock::Timestamp::now());
    store.insert_project_secret(&added).await?;
    record(
        &store,
        project_id,
        "project.secret_created",
        &[("secret_id", json!(added.secret_id))],
    )
    .await?;
    println!(
        "{}",
        json!({"project_id": project_id, "secret_id": added.secret_id, "secret": secret})
    );
    store.close().await;
    Ok(())
}

pub async fn delete_project_secret(config: &Config, project_id: &ProjectId, secret_id: &str) -> anyhow::Result<()> {
    let store = open(config).await?;
    if !store.delete_project_secret(project_id, secret_id).await? {
        anyhow::bail!("project {project_id} has no secret {secret_id}");
    }
    record(
        &store,
        project_id,
        "project.secret_deleted",
        &[("secret_id", json!(secret_id))],
    )
    .await?;
    println!(
        "{}",
        json!({"project_id": project_id, "secret_id": secret_id, "deleted": true})
    );
    store.close().await;
    Ok(())
}

/// Creates a Management API key and prints it (the secret only this once).
pub async fn create_workspace_key(config: &Config, name: &str) -> anyhow::Result<()> {
    let store = open(config).await?;
    let created = latch_core::service::management::workspace_keys::create(&store, name).await?;
    tracing::info!(key_id = %created.key.key_id, "workspace key created");
    println!(
        "{}",
        json!({
            "key_id": created.key.key_id,
            "secret": created.secret,
            "name": created.key.name,
            "created_at": created.key.created_at,
        })
    );
    store.close().await;
    Ok(())
}

pub async fn list_workspace_keys(config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let keys: Vec<Value> = store
        .workspace_keys()
        .await?
        .iter()
        .map(|k| json!({"key_id": k.key_id, "name": k.name, "last_four": k.last_four, "created_at": k.created_at}))
        .collect();
    println!("{}", Value::Array(keys));
    store.close().await;
    Ok(())
}

pub async fn delete_workspace_key(config: &Config, key_id: &str) -> anyhow::Result<()> {
    let store = open(config).await?;
    if !store.delete_workspace_key(key_id).await? {
        anyhow::bail!("no workspace key {key_id}");
    }
    tracing::info!(%key_id, "workspace key deleted");
    println!("{}", json!({"key_id": key_id, "deleted": true}));
    store.close().await;
    Ok(())
}

/// The audit event of a command: by the operator at the command line.
async fn record(
    store: &SqlStore,
    project_id: &ProjectId,
    event_type: &str,
    details: &[(&str, Value)],
) -> anyhow::Result<()> {
    latch_core::engine::audit::record_operator(store, project_id, event_type, "cli", details)
        .await
        .context("audit log")
}

pub async fn show_project(config: &Config, project_id: &ProjectId) -> anyhow::Result<()> {
    let store = open(config).await?;
    let Some(project) = store.get_project(project_id).await? else {
        return Err(anyhow::anyhow!("no project {project_id}"));
    };
    let public_token = projects::public_token(&store, project_id).await?;
    let out = serde_json::json!({
        "project_id": project.project_id,
        "name": project.name,
        "public_token": public_token,
    });
    println!("{out}");
    store.close().await;
    Ok(())
}

/// Makes a new signing key that signs after `prepublish` (see `Keyring::rotate`).
pub async fn rotate_keys(config: &Config, project_id: &ProjectId, prepublish: Duration) -> anyhow::Result<()> {
    if (prepublish.as_millis() as i64) <= keyring::CACHE_TTL_MS {
        tracing::warn!(
            prepublish_secs = prepublish.as_secs(),
            "the new key signs before every running node has reread its keys: an application that \
             verifies JWTs locally against another node's JWKS may refuse them for up to 30 s"
        );
    }
    let store = open(config).await?;
    if store.get_project(project_id).await?.is_none() {
        return Err(anyhow::anyhow!("no project {project_id}"));
    }
    let done = keyring(&store).rotate(project_id, prepublish).await?;
    record(
        &store,
        project_id,
        "signing_key.rotated",
        &[("kid", json!(done.kid)), ("signs_from", json!(done.signs_from))],
    )
    .await?;
    println!(
        "{}",
        serde_json::json!({"project_id": project_id, "kid": done.kid, "signs_from": done.signs_from})
    );
    store.close().await;
    Ok(())
}

/// A keyring on the wall clock: there is no Ctx here.
fn keyring(store: &SqlStore) -> Keyring {
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    Keyring::new(shared, Arc::new(SystemClock), CpuPool::per_core(Priority::Normal))
}

/// Revokes a leaked signing key (or all of them but a new one): see `Keyring::revoke`.
pub async fn revoke_keys(config: &Config, project_id: &ProjectId, kid: Option<&str>) -> anyhow::Result<()> {
    let store = open(config).await?;
    if store.get_project(project_id).await?.is_none() {
        return Err(anyhow::anyhow!("no project {project_id}"));
    }
    let done = keyring(&store).revoke(project_id, kid).await?;
    record(
        &store,
        project_id,
        "signing_key.revoked",
        &[("revoked", json!(done.revoked)), ("new_kid", json!(done.new_kid))],
    )
    .await?;
    println!(
        "{}",
        serde_json::json!({"project_id": project_id, "new_kid": done.new_kid, "revoked": done.revoked})
    );
    store.close().await;
    Ok(())
}

/// Builds the breach corpus from a Pwned Passwords file, drawing a progress bar on stderr.
pub async fn import_breach_corpus(config: &Config, file: &Path, output: Option<PathBuf>) -> anyhow::Result<()> {
    let output = output.unwrap_or_else(|| config.data_dir.join("pwned-passwords.bin"));
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let input = std::fs::File::open(file).with_context(|| format!("{}", file.display()))?;
    let total = input.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    #[allow(clippy::disallowed_methods)] // measures the import's duration for its report
    let started = std::time::Instant::now();
    let out = output.clone();
    let count = tokio::task::spawn_blocking(move || {
        latch_core::password::corpus::import(input, &out, |read| {
            let pct = (read as f64 / total as f64 * 100.0).min(100.0);
            let filled = ((pct / 2.5) as usize).min(40);
            eprint!(
                "\r[{}{}] {pct:5.1}%  {} / {} MB",
                "#".repeat(filled),
                " ".repeat(40 - filled),
                read >> 20,
                total >> 20
            );
        })
    })
    .await??;
    eprintln!();
    println!(
        "{}",
        serde_json::json!({"output": output.display().to_string(), "entries": count, "seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}
