//! The CLI's commands.

use crate::app::{anyhow_like, shutdown_signal, Application};
use crate::config::Config;
use latch_core::cpu::CpuPool;
use latch_core::service::projects;
use latch_core::store::Store;
use latch_core::token::keyring::Keyring;
use latch_store::{PoolOptions, SqlStore};
use std::sync::Arc;

pub async fn serve(config: &Config) -> anyhow_like::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| anyhow_like::err(e.to_string()))
}

async fn open(config: &Config) -> anyhow_like::Result<SqlStore> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| anyhow_like::err(e.to_string()))?;
    }
    SqlStore::connect(
        &config.database_url(),
        &PoolOptions {
            max_connections: 2,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow_like::err(format!("database: {e}")))
}

pub async fn create_project(config: &Config, name: &str) -> anyhow_like::Result<()> {
    let store = open(config).await?;
    let created = projects::create(&store, name)
        .await
        .map_err(|e| anyhow_like::err(e.to_string()))?;
    let out = serde_json::json!({
        "project_id": created.project.project_id,
        "secret": created.secret,
        "name": created.project.name,
    });
    println!("{out}");
    store.close().await;
    Ok(())
}

pub async fn rotate_keys(config: &Config, project_id: &str) -> anyhow_like::Result<()> {
    let store = open(config).await?;
    if store
        .get_project(project_id)
        .await
        .map_err(|e| anyhow_like::err(e.to_string()))?
        .is_none()
    {
        return Err(anyhow_like::err(format!("no project {project_id}")));
    }
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let keyring = Keyring::new(shared, CpuPool::per_core());
    let kid = keyring
        .rotate(project_id)
        .await
        .map_err(|e| anyhow_like::err(e.to_string()))?;
    println!("{}", serde_json::json!({"project_id": project_id, "kid": kid}));
    store.close().await;
    Ok(())
}
