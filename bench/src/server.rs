//! Starting and stopping the `latch` binary next to this one, and reading its RSS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Server {
    child: Option<Child>,
    pub pid: u32,
    pub base_url: String,
    pub project_id: String,
    pub secret: String,
    pub startup: Duration,
    /// The server's database as sqlx opens it: its SQLite file, or the PostgreSQL URL given.
    pub database_url: String,
    dir: PathBuf,
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Server {
    pub async fn start(bin: Option<&Path>, database_url: Option<&str>, quick: bool) -> Result<Self, String> {
        let exe = match bin {
            Some(b) => b.to_path_buf(),
            None => std::env::current_exe()
                .map_err(|e| e.to_string())?
                .with_file_name("latch"),
        };
        if !exe.is_file() {
            return Err(format!(
                "{} not found: build the server first with `cargo build --release -p latch` \
                 (or `cargo build -p latch` for the debug build next to a debug latch-bench)",
                exe.display()
            ));
        }
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("latch-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let project_id = format!("project-test-{}", uuid::Uuid::new_v4());
        let secret = format!("secret-test-{}", uuid::Uuid::new_v4().simple());
        let log_path = dir.join("latch.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;

        let mut cmd = Command::new(&exe);
        cmd.arg("serve")
            .env("LATCH_LISTEN", format!("127.0.0.1:{port}"))
            .env("LATCH_DATA_DIR", dir.join("data"))
            .env("LATCH_BOOTSTRAP_PROJECT_ID", &project_id)
            .env("LATCH_BOOTSTRAP_SECRET", &secret)
            .env("LATCH_LOG", "warn")
            .env("LATCH_PASSWORD_MAX_FAILURES", "1000000")
            .env("LATCH_PEER_MAX_FAILURES", "100000000")
            .env("LATCH_PEER_MAX_SENDS", "100000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = database_url {
            eprintln!("using PostgreSQL: {url} must be an EMPTY database (the seeded data stays there)");
            cmd.env("LATCH_DATABASE_URL", url);
        }
        if quick {
            cmd.env("LATCH_ARGON2_MEMORY_KIB", "8")
                .env("LATCH_ARGON2_ITERATIONS", "1");
        }
        let spawned = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", exe.display()))?;
        let mut server = Server {
            pid: child.id(),
            child: Some(child),
            base_url: format!("http://127.0.0.1:{port}"),
            project_id,
            secret,
            startup: Duration::ZERO,
            // Where `latch serve` puts SQLite without LATCH_DATABASE_URL: <data dir>/latch.db.
            database_url: match database_url {
                Some(url) => url.to_owned(),
                None => format!("sqlite:{}", dir.join("data").join("latch.db").display()),
            },
            dir,
        };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}/healthz", server.base_url);
        loop {
            if let Ok(resp) = probe.get(&url).send().await {
                if resp.status().is_success() {
                    break;
                }
            }
            if let Some(status) = server.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("latch exited during startup ({status}):\n{log}"));
            }
            if spawned.elapsed() > Duration::from_secs(60) {
                return Err("latch did not answer /healthz within 60 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.startup = spawned.elapsed();
        Ok(server)
    }

    /// SIGTERM, wait for the exit, remove the temp directory; the log lines the server wrote.
    pub fn stop(mut self) -> Option<Vec<String>> {
        self.terminate();
        let log = std::fs::read_to_string(self.dir.join("latch.log")).ok()?;
        Some(
            log.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill").arg("-TERM").arg(self.pid.to_string()).status();
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    eprintln!("latch did not stop within 15 s of SIGTERM; killing it");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `VmRSS` of a process, in KiB.
pub fn read_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples a process's RSS every 50 ms until stopped; the peak.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<Option<u64>>>,
}

impl RssSampler {
    pub fn start(pid: Option<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = pid.map(|pid| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut peak = read_rss_kib(pid);
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    peak = peak.max(read_rss_kib(pid));
                }
                peak
            })
        });
        Self { stop, task }
    }

    pub async fn stop(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task?.await.ok().flatten()
    }
}
