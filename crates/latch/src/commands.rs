//! The CLI's commands.

use crate::app::{anyhow_like, shutdown_signal, Application};
use crate::config::Config;
use latch_core::service::projects;
use latch_store::{PoolOptions, SqlStore};

pub async fn serve(config: &Config) -> anyhow_like::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| anyhow_like::err(e.to_string()))
}

pub async fn create_project(config: &Config, name: &str) -> anyhow_like::Result<()> {
    let url = config.database_url();
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| anyhow_like::err(e.to_string()))?;
    }
    let store = SqlStore::connect(
        &url,
        &PoolOptions {
            max_connections: 2,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow_like::err(format!("database: {e}")))?;
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
