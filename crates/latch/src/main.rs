//! `latch`: a self-hosted authentication server that speaks Stytch's B2B API.

use clap::{Parser, Subcommand};
use latch::config::Config;
use latch_core::ids::ProjectId;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "latch",
    version,
    about = "Self-hosted B2B authentication server, compatible with Stytch's SDKs"
)]
struct Cli {
    /// TOML settings file (also LATCH_CONFIG).
    #[arg(long, global = true, env = "LATCH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve,
    /// Manage projects.
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Manage the keys of the Management API (`/pwa/v3`, `stytch-management`).
    WorkspaceKey {
        #[command(subcommand)]
        command: WorkspaceKeyCommand,
    },
    /// Manage the breached-password corpus.
    Breach {
        #[command(subcommand)]
        command: BreachCommand,
    },
    /// Manage session-JWT signing keys and the key-encryption key of secrets at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum BreachCommand {
    /// Import a Have I Been Pwned "Pwned Passwords" SHA-1 file (`HASH:COUNT` lines, sorted).
    Import {
        file: PathBuf,
        /// Where to write the corpus (default: <data_dir>/pwned-passwords.bin).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new signing key. It is published at once and signs after --prepublish-secs, when
    /// every running node lists it in its JWKS; the old ones stay published until every JWT they
    /// signed has expired.
    Rotate {
        #[arg(long)]
        project_id: ProjectId,
        /// Seconds the new key is only published before it signs. Shorter than the nodes' key
        /// cache lifetime (30 s) only with a single node: others may sign with a key their
        /// peers do not publish yet.
        #[arg(long, default_value_t = latch_core::token::keyring::PREPUBLISH_MS as u64 / 1000)]
        prepublish_secs: u64,
    },
    /// Reseal every secret at rest (signing keys, TOTP secrets, recovery codes, IdP client
    /// secrets, provider tokens, outbox messages) under the current `kek`, then forget the
    /// previous ones. Run it after every node has the new `kek` (and the old one in `previous_keks`).
    Rewrap,
    /// Print a new random key-encryption key (base64 of 32 bytes) for `kek` or a `kek_file`.
    NewKek,
    /// Stop accepting a leaked key at once: JWTs it signed are refused and it leaves the JWKS
    /// (running servers notice within 2 s). Without --kid, every key is revoked and a new one made.
    Revoke {
        #[arg(long)]
        project_id: ProjectId,
        #[arg(long)]
        kid: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project and print its id and secret as JSON (the secret is shown only once).
    Create {
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// Print every project (environment) with its slugs, public tokens and masked secrets as a
    /// JSON array.
    List,
    /// Print a project's id, name and public token (for SSO start URLs) as JSON.
    Show { project_id: ProjectId },
    /// Manage a project's secrets (several may be live, for rotation without a failed call).
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Add a secret and print it as JSON (shown only this once); the others keep working.
    Create { project_id: ProjectId },
    /// Delete one secret: it stops working at once (on other running nodes within 2 s).
    Delete { project_id: ProjectId, secret_id: String },
    /// Replace every secret of the project with a new one, printed as JSON.
    Rotate { project_id: ProjectId },
}

#[derive(Subcommand)]
enum WorkspaceKeyCommand {
    /// Create a Management API key and print its id and secret as JSON (shown only this once).
    Create {
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Print the keys (without secrets) as a JSON array.
    List,
    /// Delete a key: calls with it are refused at once.
    Delete { key_id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("latch: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    latch::telemetry::init(&config);
    for var in Config::unknown_env_vars(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(%var, "unknown LATCH_ variable ignored");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => latch::commands::serve(&config).await,
            Command::Project {
                command: ProjectCommand::Create { name },
            } => latch::commands::create_project(&config, &name).await,
            Command::Project {
                command: ProjectCommand::Show { project_id },
            } => latch::commands::show_project(&config, &project_id).await,
            Command::Project {
                command: ProjectCommand::List,
            } => latch::commands::list_projects(&config).await,
            Command::Project {
                command: ProjectCommand::Secret { command },
            } => match command {
                SecretCommand::Create { project_id } => latch::commands::add_project_secret(&config, &project_id).await,
                SecretCommand::Delete { project_id, secret_id } => {
                    latch::commands::delete_project_secret(&config, &project_id, &secret_id).await
                }
                SecretCommand::Rotate { project_id } => {
                    latch::commands::rotate_project_secret(&config, &project_id).await
                }
            },
            Command::WorkspaceKey { command } => match command {
                WorkspaceKeyCommand::Create { name } => latch::commands::create_workspace_key(&config, &name).await,
                WorkspaceKeyCommand::List => latch::commands::list_workspace_keys(&config).await,
                WorkspaceKeyCommand::Delete { key_id } => latch::commands::delete_workspace_key(&config, &key_id).await,
            },
            Command::Keys {
                command:
                    KeysCommand::Rotate {
                        project_id,
                        prepublish_secs,
                    },
            } => {
                let prepublish = std::time::Duration::from_secs(prepublish_secs);
                latch::commands::rotate_keys(&config, &project_id, prepublish).await
            }
            Command::Keys {
                command: KeysCommand::Rewrap,
            } => latch::commands::rewrap_secrets(&config).await,
            Command::Keys {
                command: KeysCommand::NewKek,
            } => {
                latch::commands::generate_kek();
                Ok(())
            }
            Command::Keys {
                command: KeysCommand::Revoke { project_id, kid },
            } => latch::commands::revoke_keys(&config, &project_id, kid.as_deref()).await,
            Command::Breach {
                command: BreachCommand::Import { file, output },
            } => latch::commands::import_breach_corpus(&config, &file, output).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "latch failed");
            eprintln!("latch: {e:#}");
            ExitCode::FAILURE
        }
    }
}
