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
    /// Print a project's id, name and public token (for SSO start URLs) as JSON.
    Show { project_id: ProjectId },
    /// Give a project a new secret and print it as JSON (shown only this once); the old one
    /// stops working (on other running nodes within 2 s).
    Secret { project_id: ProjectId },
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
                command: ProjectCommand::Secret { project_id },
            } => latch::commands::rotate_project_secret(&config, &project_id).await,
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
