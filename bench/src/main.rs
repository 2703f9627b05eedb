//! `latch-bench`: capacity benchmark of Latch over its real HTTP API.
//!
//! Starts the `latch` binary that sits next to this one (unless `--target` names a running
//! server), seeds it through the API, drives each scenario from a tokio load generator at a fixed
//! concurrency for a fixed time, measures the CPU limits of the same machine (argon2id hashes and
//! RS256 signatures per second, the HTTP ceiling of `GET /livez`), then prints one table and
//! writes it as JSON to `<results-dir>/bench-<unix time>.json`.
//!
//! The scale scenario then bulk-loads a million members and two million live sessions straight
//! into the server's database and checks sessions again, against the empty-database figures.

// The bench measures latencies and run lengths with `Instant`: durations, never an expiry.
#![allow(clippy::disallowed_methods)]

mod db;
mod limits;
mod load;
mod scale;
mod server;

use clap::Parser;
use latch_core::password::Argon2Params;
use load::{run_load, LoadResult};
use serde_json::{json, Value};
use server::{read_rss_kib, RssSampler, Server};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser, Debug)]
#[command(name = "latch-bench", about = "Capacity benchmark of a Latch server")]
struct Args {
    /// Small and fast: cheap argon2, 1,000 search members, concurrency 8, 2 s per scenario.
    #[arg(long)]
    quick: bool,
    /// PostgreSQL URL for the server this tool starts. It must point to an EMPTY database.
    #[arg(long)]
    database_url: Option<String>,
    /// Base URL of an already running server (then --project-id and --secret are required).
    #[arg(long, requires_all = ["project_id", "secret"])]
    target: Option<String>,
    #[arg(long)]
    project_id: Option<String>,
    #[arg(long)]
    secret: Option<String>,
    /// Concurrent clients per scenario (default 32, --quick 8).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Seconds per scenario (default 10, --quick 2).
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Members of the organization used by member_search (default 10,000, --quick 1,000).
    #[arg(long)]
    search_members: Option<usize>,
    /// The server binary to start (default: the `latch` next to this program), e.g. an older
    /// build to compare against in one run.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Run only these scenarios (comma-separated names from the table); the limits are always measured.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Run the scale scenario (the default; --quick runs it small): bulk-seed members and live
    /// sessions into the server's database, then check sessions again.
    #[arg(long, conflicts_with = "no_scale")]
    scale: bool,
    /// Skip the scale scenario.
    #[arg(long)]
    no_scale: bool,
    /// Members the scale scenario seeds (default 1,000,000, --quick 20,000).
    #[arg(long)]
    scale_members: Option<usize>,
    /// Live sessions the scale scenario seeds (default 2,000,000, --quick 40,000).
    #[arg(long)]
    scale_sessions: Option<usize>,
    /// Distinct sampled sessions the scale scenarios check per second (default: as many as the
    /// empty-database scenarios use, so both find as many sessions in the server's cache and
    /// make as many last_accessed_at writes; 0: every sampled session in turn).
    #[arg(long)]
    scale_window: Option<usize>,
    /// Where the JSON report goes.
    #[arg(long, default_value = "bench/results")]
    results_dir: PathBuf,
}

/// The HTTP API as the load generator sees it.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    project_id: Arc<str>,
    secret: Arc<str>,
}

impl Api {
    fn new(base: &str, project_id: &str, secret: &str, pool: usize) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').into(),
            project_id: project_id.into(),
            secret: secret.into(),
        })
    }

    /// POST with a JSON body; Ok only for 2xx, with the body read but not parsed.
    async fn post_status(&self, path: &str, body: &Value) -> Result<(), String> {
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .basic_auth(&*self.project_id, Some(&*self.secret))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{path}: {status} {}", abbreviate(&bytes)))
        }
    }

    /// POST with a JSON body; the parsed response of a 2xx.
    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let req = self.http.post(format!("{}{}", self.base, path)).json(body);
        self.send_json(path, req).await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let req = self.http.get(format!("{}{}", self.base, path));
        self.send_json(path, req).await
    }

    async fn send_json(&self, path: &str, req: reqwest::RequestBuilder) -> Result<Value, String> {
        let resp = req
            .basic_auth(&*self.project_id, Some(&*self.secret))
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {}", abbreviate(&bytes)));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{path}: bad JSON: {e}"))
    }

    /// GET without credentials; Ok only for 2xx, with the body read but not parsed.
    async fn probe(&self, path: &str) -> Result<(), String> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        resp.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{path}: {status}"))
        }
    }
}

fn abbreviate(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text: String = text.chars().take(300).collect();
    text.replace('\n', " ")
}

fn str_field(v: &Value, pointer: &str) -> Result<String, String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("response has no {pointer}: {}", abbreviate(v.to_string().as_bytes())))
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `f(0..n)` with at most `concurrency` in flight; the results in order.
async fn parallel<T, F, Fut>(n: usize, concurrency: usize, f: F) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, String>> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (f, next) = (f.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(out);
                }
                out.push((i, f(i).await?));
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await.map_err(|e| e.to_string())??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

/// What a row's rate is compared with.
#[derive(Clone, Copy)]
enum Baseline {
    /// A limit of the machine, by name.
    Limit(&'static str),
    /// Another row of the same run, by scenario name.
    Scenario(&'static str),
}

impl Baseline {
    fn name(self) -> &'static str {
        match self {
            Baseline::Limit(n) | Baseline::Scenario(n) => n,
        }
    }
}

/// One row of the report.
struct Row {
    name: &'static str,
    concurrency: usize,
    result: LoadResult,
    baseline: Option<Baseline>,
    peak_rss_kib: Option<u64>,
    extra: Value,
}

struct Seeded {
    org_id: String,
    big_org_id: String,
    /// (email, password) of members with passwords in `org_id`.
    members: Vec<(String, String)>,
    session_tokens: Vec<String>,
    big_emails: Vec<String>,
}

struct Bench {
    api: Api,
    only: Vec<String>,
    pid: Option<u32>,
    concurrency: usize,
    duration: Duration,
    rows: Vec<Row>,
}

impl Bench {
    /// Runs one scenario, sampling the server's RSS meanwhile.
    async fn scenario<F, Fut>(&mut self, name: &'static str, baseline: Option<Baseline>, concurrency: usize, op: F)
    where
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        if !self.wants(name) {
            return;
        }
        eprintln!("  running {name} (concurrency {concurrency}, {:?})", self.duration);
        let sampler = RssSampler::start(self.pid);
        let result = run_load(concurrency, self.duration, op).await;
        let peak_rss_kib = sampler.stop().await;
        self.rows.push(Row {
            name,
            concurrency,
            result,
            baseline,
            peak_rss_kib,
            extra: json!({}),
        });
    }

    /// Whether `--only` selects the scenario; the HTTP ceiling is a limit, so it always runs, and
    /// a scale row comes with its empty-database row.
    fn wants(&self, name: &str) -> bool {
        let base = name.strip_prefix("scale_").unwrap_or(name);
        name == "http_ceiling"
            || self.only.is_empty()
            || self
                .only
                .iter()
                .any(|o| name.starts_with(o.as_str()) || base.starts_with(o.as_str()))
    }
}

async fn seed(api: &Api, n_members: usize, n_big: usize, concurrency: usize) -> Result<Seeded, String> {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let org = api
        .post(
            "/v1/b2b/organizations",
            &json!({"organization_name": "Bench", "organization_slug": format!("bench-{tag}")}),
        )
        .await?;
    let org_id = str_field(&org, "/organization/organization_id")?;
    let big = api
        .post(
            "/v1/b2b/organizations",
            &json!({"organization_name": "Bench big", "organization_slug": format!("bench-big-{tag}")}),
        )
        .await?;
    let big_org_id = str_field(&big, "/organization/organization_id")?;

    let t = Instant::now();
    let members: Vec<(String, String)> = (0..n_members)
        .map(|i| {
            (
                format!("pw{i}-{tag}@bench.example.com"),
                format!("Bench-{tag}-correct-horse-{i}"),
            )
        })
        .collect();
    let shared = Arc::new(members.clone());
    {
        let (api, shared, org_id) = (api.clone(), shared.clone(), org_id.clone());
        parallel(n_members, concurrency, move |i| {
            let (api, shared, org_id) = (api.clone(), shared.clone(), org_id.clone());
            async move {
                let (email, password) = &shared[i];
                api.post_status(
                    "/v1/b2b/passwords/migrate",
                    &json!({"organization_id": org_id, "email_address": email,
                            "hash_type": "md_5", "hash": md5_hex(password)}),
                )
                .await
            }
        })
        .await?;
    }
    // The first login upgrades md_5 to argon2id; its session is one of the live sessions.
    let session_tokens = {
        let (api, shared, org_id) = (api.clone(), shared.clone(), org_id.clone());
        parallel(n_members, concurrency, move |i| {
            let (api, shared, org_id) = (api.clone(), shared.clone(), org_id.clone());
            async move {
                let (email, password) = &shared[i];
                let r = api
                    .post(
                        "/v1/b2b/passwords/authenticate",
                        &json!({"organization_id": org_id, "email_address": email, "password": password}),
                    )
                    .await?;
                str_field(&r, "/session_token")
            }
        })
        .await?
    };
    eprintln!(
        "  seeded {n_members} password members, upgraded and logged in, in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let big_emails: Vec<String> = (0..n_big).map(|i| format!("u{i}-{tag}@big.example.com")).collect();
    {
        let (api, emails, big_org_id) = (api.clone(), Arc::new(big_emails.clone()), big_org_id.clone());
        let path = format!("/v1/b2b/organizations/{big_org_id}/members");
        parallel(n_big, concurrency, move |i| {
            let (api, emails, path) = (api.clone(), emails.clone(), path.clone());
            async move {
                api.post_status(&path, &json!({"email_address": emails[i], "name": format!("User {i}")}))
                    .await
            }
        })
        .await?;
    }
    eprintln!(
        "  seeded {n_big} members in the search organization in {:.1} s ({:.0}/s)",
        t.elapsed().as_secs_f64(),
        n_big as f64 / t.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        org_id,
        big_org_id,
        members,
        session_tokens,
        big_emails,
    })
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    if let Err(e) = real_main().await {
        eprintln!("latch-bench: {e}");
        std::process::exit(1);
    }
}

async fn real_main() -> Result<(), String> {
    let args = Args::parse();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let concurrency = args.concurrency.unwrap_or(if args.quick { 8 } else { 32 }).max(1);
    let duration = Duration::from_secs(args.duration_secs.unwrap_or(if args.quick { 2 } else { 10 }).max(1));
    let n_big = args.search_members.unwrap_or(if args.quick { 1_000 } else { 10_000 });
    let argon2 = if args.quick {
        Argon2Params::minimum_for_tests()
    } else {
        Argon2Params::default()
    };
    let started = Instant::now();

    // 1. The server.
    let (server, api) = match &args.target {
        Some(target) => {
            let api = Api::new(
                target,
                args.project_id.as_deref().unwrap_or_default(),
                args.secret.as_deref().unwrap_or_default(),
                concurrency * 2 + 4,
            )?;
            api.probe("/healthz").await?;
            (None, api)
        }
        None => {
            let server = Server::start(args.server_bin.as_deref(), args.database_url.as_deref(), args.quick).await?;
            let api = Api::new(
                &server.base_url,
                &server.project_id,
                &server.secret,
                concurrency * 2 + 4,
            )?;
            (Some(server), api)
        }
    };
    let pid = server.as_ref().map(|s| s.pid);
    let startup_ms = server.as_ref().map(|s| s.startup.as_secs_f64() * 1000.0);
    let idle_rss_kib = pid.and_then(read_rss_kib);
    if let Some(ms) = startup_ms {
        eprintln!("latch started in {ms:.0} ms, idle RSS {:.1} MB", kib_mb(idle_rss_kib));
    }

    let target_db = server.as_ref().map(|s| TargetDb {
        url: s.database_url.clone(),
        project_id: s.project_id.clone(),
    });
    let outcome = run_all(&args, api, pid, target_db, concurrency, duration, n_big, argon2).await;
    let server_log = match server {
        Some(s) => s.stop(),
        None => None,
    };
    if let (Err(_), Some(log)) = (&outcome, &server_log) {
        // A failed run is most often a server that failed: show why.
        for line in log.iter().rev().take(20).rev() {
            eprintln!("  server: {line}");
        }
    }
    let (mut bench, limits_found) = outcome?;

    // Report.
    let peak_rss_kib = bench.rows.iter().filter_map(|r| r.peak_rss_kib).max();
    let rate_of = |b: Baseline| match b {
        Baseline::Limit(name) => limits_found.iter().find(|(n, _)| *n == name).map(|(_, r)| *r),
        Baseline::Scenario(name) => bench.rows.iter().find(|r| r.name == name).map(|r| r.result.rate()),
    };
    // Resolved before the loop below borrows the rows mutably.
    let ratios: Vec<Option<(Baseline, f64)>> = bench
        .rows
        .iter()
        .map(|row| {
            let rps = row.result.rate();
            row.baseline
                .and_then(|b| rate_of(b).map(|base| (b, if base > 0.0 { rps / base } else { 0.0 })))
        })
        .collect();
    let mut table = String::new();
    table.push_str(&format!(
        "{:<32} {:>5} {:>10} {:>9} {:>9} {:>9} {:>7}  {}\n",
        "scenario", "conc", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "ratio to limit"
    ));
    let mut rows_json = Vec::new();
    for (row, ratio) in bench.rows.iter_mut().zip(ratios) {
        let r = &row.result;
        let rps = r.rate();
        let ratio_text = match ratio {
            Some((b, x)) => format!("{x:.2} of {}", b.name()),
            None => "—".to_owned(),
        };
        let (limit, limit_ratio, scenario, scenario_ratio) = match ratio {
            Some((Baseline::Limit(l), x)) => (Some(l), Some(x), None, None),
            Some((Baseline::Scenario(n), x)) => (None, None, Some(n), Some(x)),
            None => (row.baseline.map(Baseline::name), None, None, None),
        };
        table.push_str(&format!(
            "{:<32} {:>5} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>7}  {}\n",
            row.name,
            row.concurrency,
            rps,
            ms(r.p50()),
            ms(r.p99()),
            ms(r.max()),
            r.errors,
            ratio_text
        ));
        rows_json.push(json!({
            "scenario": row.name,
            "concurrency": row.concurrency,
            "operations": r.count(),
            "seconds": r.elapsed.as_secs_f64(),
            "req_per_s": rps,
            "p50_ms": ms(r.p50()),
            "p99_ms": ms(r.p99()),
            "max_ms": ms(r.max()),
            "errors": r.errors,
            "error_samples": r.error_samples,
            "limit": limit,
            "ratio_to_limit": limit_ratio,
            "compared_to_scenario": scenario,
            "ratio_to_scenario": scenario_ratio,
            "peak_rss_mb": row.peak_rss_kib.map(|k| k as f64 / 1024.0),
            "extra": std::mem::take(&mut row.extra),
        }));
    }
    table.push_str("\nlimits:\n");
    for (name, rate) in &limits_found {
        table.push_str(&format!("  {name:<20} {rate:>10.1} /s\n"));
    }
    if let Some(ms) = startup_ms {
        table.push_str(&format!("startup: {ms:.0} ms\n"));
    }
    if pid.is_some() {
        table.push_str(&format!(
            "RSS: idle {:.1} MB, peak {:.1} MB\n",
            kib_mb(idle_rss_kib),
            kib_mb(peak_rss_kib)
        ));
    }
    println!(
        "\nLatch capacity ({}; argon2 m={} KiB t={} p={}; {} s per scenario)",
        if args.quick { "quick" } else { "full" },
        argon2.memory_kib,
        argon2.iterations,
        argon2.parallelism,
        duration.as_secs()
    );
    print!("{table}");
    for row in &bench.rows {
        for e in &row.result.error_samples {
            println!("  error in {}: {e}", row.name);
        }
    }
    if let Some(log) = &server_log {
        if !log.is_empty() {
            println!("server log (warn and above), {} lines; first ones:", log.len());
            for line in log.iter().take(10) {
                println!("  {line}");
            }
        }
    }

    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let report = json!({
        "unix_time": unix,
        "mode": if args.quick { "quick" } else { "full" },
        "target": args.target,
        "database": if args.target.is_some() { "external" } else if args.database_url.is_some() { "postgres" } else { "sqlite" },
        "concurrency": concurrency,
        "duration_secs": duration.as_secs(),
        "search_members": n_big,
        "otp_flow_writes": OTP_FLOW_WRITES,
        "machine_cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "argon2": {"memory_kib": argon2.memory_kib, "iterations": argon2.iterations, "parallelism": argon2.parallelism},
        "startup_ms": startup_ms,
        "rss_idle_mb": idle_rss_kib.map(|k| k as f64 / 1024.0),
        "rss_peak_mb": peak_rss_kib.map(|k| k as f64 / 1024.0),
        "limits": limits_found.iter().map(|(n, r)| (n.to_string(), json!(r))).collect::<serde_json::Map<_, _>>(),
        "scenarios": rows_json,
        "server_log_lines": server_log.as_ref().map(Vec::len),
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    std::fs::create_dir_all(&args.results_dir).map_err(|e| format!("{}: {e}", args.results_dir.display()))?;
    let path = args.results_dir.join(format!("bench-{unix}.json"));
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "\nwritten to {} (total {:.1} s)",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn kib_mb(kib: Option<u64>) -> f64 {
    kib.map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN)
}

type Limits = Vec<(&'static str, f64)>;

/// The database of the server this tool started, which the bench may write to directly.
struct TargetDb {
    url: String,
    project_id: String,
}

/// Write transactions one otp_flow makes, counted along its code path (service/otps.rs,
/// address_guard.rs, auth_flow.rs, sessions.rs, delivery/mod.rs, and in latch-store each call
/// being one transaction):
/// - login_or_signup: address_guard::send's bump_attempts (per client address), send_code's
///   bump_attempts (per recipient), replace_otp (DELETE + INSERT, one transaction), and the
///   outbox's insert_message: 4;
/// - authenticate: verify_code's delete_otp, update_member setting email_verified (a member's
///   first OTP; the bench cycles through members never verified, so every flow here), and
///   sessions::issue's insert_session: 3.
///
/// The outbox read, the member, org and OTP lookups are reads.
const OTP_FLOW_WRITES: f64 = 7.0;

#[allow(clippy::too_many_arguments)]
async fn run_all(
    args: &Args,
    api: Api,
    pid: Option<u32>,
    target_db: Option<TargetDb>,
    concurrency: usize,
    duration: Duration,
    n_big: usize,
    argon2: Argon2Params,
) -> Result<(Bench, Limits), String> {
    // Limits of this machine, measured while the server is idle.
    let cpu_secs = if args.quick { 1.0 } else { 2.0 };
    eprintln!("measuring argon2id hash rate ({cpu_secs} s, all cores)");
    let argon2_rate = tokio::task::spawn_blocking(move || limits::argon2_hash_rate(argon2, cpu_secs))
        .await
        .map_err(|e| e.to_string())??;
    eprintln!("measuring RS256 sign rate ({cpu_secs} s, all cores)");
    let sign_rate = tokio::task::spawn_blocking(move || limits::rs256_sign_rate(cpu_secs))
        .await
        .map_err(|e| e.to_string())??;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let db = match &target_db {
        Some(t) => {
            // SQLite: one connection, as the server funnels its writes through one; concurrent
            // writers on SQLite would measure its busy-handler backoff instead.
            let connections = if t.url.starts_with("sqlite:") { 1 } else { cores as u32 };
            Some(db::Db::connect(&t.url, connections).await?)
        }
        None => None,
    };
    let commit_rate = match &db {
        Some(db) => {
            eprintln!("measuring database commit rate ({cpu_secs} s, {cores} writers)");
            Some(db.commit_rate(cores, cpu_secs).await?)
        }
        None => {
            eprintln!("no db_commit_rate: the database of a --target server is not reachable from here");
            None
        }
    };

    let mut bench = Bench {
        api: api.clone(),
        only: args.only.clone(),
        pid,
        concurrency,
        duration,
        rows: Vec::new(),
    };
    let a = api.clone();
    bench
        .scenario("http_ceiling", None, concurrency, move |_| {
            let a = a.clone();
            // /livez answers without the database (/healthz pings it): the bare HTTP stack.
            async move { a.probe("/livez").await }
        })
        .await;
    let ceiling = bench.rows.last().map_or(0.0, |r| r.result.rate());
    let mut limits_found: Limits = vec![
        ("argon2_hash_rate", argon2_rate),
        ("rs256_sign_rate", sign_rate),
        ("http_ceiling", ceiling),
    ];
    // One flow signs one JWT and makes OTP_FLOW_WRITES small write transactions, one after the
    // other: its time is the sum of both costs.
    let otp_limit = match commit_rate {
        Some(commits) if commits > 0.0 && sign_rate > 0.0 => {
            limits_found.push(("db_commit_rate", commits));
            let flow = 1.0 / (1.0 / sign_rate + OTP_FLOW_WRITES / commits);
            limits_found.push(("otp_flow_limit", flow));
            Baseline::Limit("otp_flow_limit")
        }
        _ => Baseline::Limit("rs256_sign_rate"),
    };

    eprintln!("seeding over the API");
    let n_members = (concurrency * 2).max(16);
    let seeded = Arc::new(seed(&api, n_members, n_big, concurrency.max(16)).await?);

    // password_authenticate
    let (a, s) = (bench.api.clone(), seeded.clone());
    let c = bench.concurrency;
    bench
        .scenario(
            "password_authenticate",
            Some(Baseline::Limit("argon2_hash_rate")),
            c,
            move |i| {
                let (a, s) = (a.clone(), s.clone());
                async move { password_login(&a, &s, i).await }
            },
        )
        .await;

    // session_authenticate_token
    let (a, s) = (bench.api.clone(), seeded.clone());
    bench
        .scenario(
            "session_authenticate_token",
            Some(Baseline::Limit("http_ceiling")),
            c,
            move |i| {
                let (a, s) = (a.clone(), s.clone());
                async move { session_check(&a, &s, i).await }
            },
        )
        .await;

    // session_authenticate_jwt, with JWTs minted just now.
    if bench.wants("session_authenticate_jwt") {
        let jwts = {
            let (a, s) = (bench.api.clone(), seeded.clone());
            let n = s.session_tokens.len();
            Arc::new(
                parallel(n, c, move |i| {
                    let (a, s) = (a.clone(), s.clone());
                    async move {
                        let r = a
                            .post(
                                "/v1/b2b/sessions/authenticate",
                                &json!({"session_token": s.session_tokens[i]}),
                            )
                            .await?;
                        str_field(&r, "/session_jwt")
                    }
                })
                .await?,
            )
        };
        let a = bench.api.clone();
        bench
            .scenario(
                "session_authenticate_jwt",
                Some(Baseline::Limit("http_ceiling")),
                c,
                move |i| {
                    let (a, jwts) = (a.clone(), jwts.clone());
                    async move {
                        let jwt = &jwts[i as usize % jwts.len()];
                        a.post_status("/v1/b2b/sessions/authenticate", &json!({"session_jwt": jwt}))
                            .await
                    }
                },
            )
            .await;
    }

    // strength_check
    let a = bench.api.clone();
    bench
        .scenario("strength_check", None, c, move |i| {
            let a = a.clone();
            async move {
                const SAMPLES: [&str; 4] = ["password123", "Tr0ub4dor&3", "correct horse battery staple", "qwerty"];
                let pw = format!("{}{}", SAMPLES[i as usize % SAMPLES.len()], i % 1000);
                a.post_status("/v1/b2b/passwords/strength_check", &json!({"password": pw}))
                    .await
            }
        })
        .await;

    // member_search over the big organization.
    let (a, s) = (bench.api.clone(), seeded.clone());
    let n_big_u64 = n_big.max(1) as u64;
    bench
        .scenario("member_search", None, c, move |i| {
            let (a, s) = (a.clone(), s.clone());
            async move {
                // "u<k>-" matches one member; "u<two digits>" (the 3-character minimum) about 1% of them.
                let k = (i * 7919) % n_big_u64;
                let value = if i % 2 == 0 {
                    format!("u{k}-")
                } else {
                    format!("u{:02}", k % 100)
                };
                a.post_status(
                    "/v1/b2b/organizations/members/search",
                    &json!({"organization_ids": [s.big_org_id],
                            "query": {"operator": "AND",
                                      "operands": [{"filter_name": "member_email_fuzzy", "filter_value": value}]}}),
                )
                .await
            }
        })
        .await;

    // otp_flow: send, read the code from the outbox, authenticate. One flow = one operation.
    let (a, s) = (bench.api.clone(), seeded.clone());
    let otp_counter = Arc::new(AtomicUsize::new(0));
    bench
        .scenario("otp_flow", Some(otp_limit), c, move |_| {
            let (a, s, counter) = (a.clone(), s.clone(), otp_counter.clone());
            async move {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let email = &s.big_emails[n % s.big_emails.len()];
                otp_flow(&a, &s.big_org_id, email).await
            }
        })
        .await;

    if bench.wants("mixed") {
        mixed(&mut bench, &seeded).await?;
    }

    let scale_on = args.scale || !args.no_scale;
    let scale_wanted = bench.wants("scale_session_authenticate_token") || bench.wants("scale_session_authenticate_jwt");
    match (&db, &target_db) {
        (Some(db), Some(t)) if scale_on && scale_wanted => {
            let plan = scale::Plan {
                project_id: t.project_id.clone(),
                members: args
                    .scale_members
                    .unwrap_or(if args.quick { 20_000 } else { 1_000_000 }),
                sessions: args
                    .scale_sessions
                    .unwrap_or(if args.quick { 40_000 } else { 2_000_000 }),
            };
            let window = args.scale_window.unwrap_or(seeded.session_tokens.len());
            run_scale(&mut bench, db, &plan, window).await?;
        }
        _ if scale_on && scale_wanted => {
            eprintln!("scale skipped: the database of a --target server cannot be bulk-seeded from here");
        }
        _ => {}
    }
    if let Some(db) = db {
        db.close().await;
    }
    Ok((bench, limits_found))
}

/// The scale scenario: bulk-seeds members and live sessions while the server idles, then checks
/// sampled sessions by token and by JWT, each compared with its empty-database row.
async fn run_scale(bench: &mut Bench, db: &db::Db, plan: &scale::Plan, window: usize) -> Result<(), String> {
    eprintln!(
        "scale: bulk-seeding {} members and {} live sessions into the server's database",
        plan.members, plan.sessions
    );
    let seeded = scale::seed(db, plan).await?;
    let tokens = Arc::new(seeded.sample_tokens);
    let n = tokens.len();
    // Checking as many distinct sessions per second as the empty-database rows keeps the
    // server's cache hits and last_accessed_at writes equal, so the ratio shows the reads' cost
    // at size. A window is a stride across the whole
    // sample, so every second reads rows from all over the table.
    let window = if window == 0 { n } else { window.min(n) };
    let stride = (n / window.max(1)).max(1);
    let pick = move |start: Instant, i: u64| {
        let sec = start.elapsed().as_secs() as usize;
        ((i as usize % window) * stride + sec % stride) % n
    };
    let mut extra = seeded.report;
    extra["sessions_checked_per_second"] = json!(window);

    // JWTs minted just now, as the jwt row does; this also proves every sampled row parses.
    eprintln!("  authenticating the {n} sampled sessions (and minting their JWTs)");
    let jwts = {
        let (a, tokens) = (bench.api.clone(), tokens.clone());
        Arc::new(
            parallel(n, bench.concurrency, move |i| {
                let (a, tokens) = (a.clone(), tokens.clone());
                async move {
                    let r = a
                        .post("/v1/b2b/sessions/authenticate", &json!({"session_token": tokens[i]}))
                        .await?;
                    str_field(&r, "/session_jwt")
                }
            })
            .await?,
        )
    };
    let c = bench.concurrency;
    let rows: [(&'static str, &'static str, &'static str, Arc<Vec<String>>); 2] = [
        (
            "scale_session_authenticate_token",
            "session_authenticate_token",
            "session_token",
            tokens,
        ),
        (
            "scale_session_authenticate_jwt",
            "session_authenticate_jwt",
            "session_jwt",
            jwts,
        ),
    ];
    for (name, baseline, field, credentials) in rows {
        let (a, start) = (bench.api.clone(), Instant::now());
        bench
            .scenario(name, Some(Baseline::Scenario(baseline)), c, move |i| {
                let (a, credentials) = (a.clone(), credentials.clone());
                async move {
                    let credential = &credentials[pick(start, i)];
                    a.post_status("/v1/b2b/sessions/authenticate", &json!({ field: credential }))
                        .await
                }
            })
            .await;
        if let Some(row) = bench.rows.last_mut().filter(|r| r.name == name) {
            row.extra = extra.clone();
        }
    }
    Ok(())
}

/// mixed: password logins at full concurrency, one client checking sessions meanwhile.
async fn mixed(bench: &mut Bench, seeded: &Arc<Seeded>) -> Result<(), String> {
    let (c, duration, pid) = (bench.concurrency, bench.duration, bench.pid);
    eprintln!("  running mixed (password logins at {c} + session_authenticate_token at 1)");
    let sampler = RssSampler::start(pid);
    let (a, s) = (bench.api.clone(), seeded.clone());
    let background = tokio::spawn(run_load(c, duration, move |i| {
        let (a, s) = (a.clone(), s.clone());
        async move { password_login(&a, &s, i).await }
    }));
    let (a, s) = (bench.api.clone(), seeded.clone());
    let probe = run_load(1, duration, move |i| {
        let (a, s) = (a.clone(), s.clone());
        async move { session_check(&a, &s, i).await }
    })
    .await;
    let background = background.await.map_err(|e| e.to_string())?;
    let peak = sampler.stop().await;
    bench.rows.push(Row {
        name: "mixed (session @1)",
        concurrency: 1,
        result: probe,
        baseline: None,
        peak_rss_kib: peak,
        extra: json!({
            "background": "password_authenticate",
            "background_concurrency": c,
            "background_req_per_s": background.rate(),
            "background_p50_ms": ms(background.p50()),
            "background_p99_ms": ms(background.p99()),
            "background_errors": background.errors,
            "background_error_samples": background.error_samples,
        }),
    });
    eprintln!(
        "  (mixed background: {:.1} password logins/s, {} errors)",
        background.rate(),
        background.errors
    );
    Ok(())
}

async fn password_login(a: &Api, s: &Seeded, i: u64) -> Result<(), String> {
    let (email, password) = &s.members[i as usize % s.members.len()];
    a.post_status(
        "/v1/b2b/passwords/authenticate",
        &json!({"organization_id": s.org_id, "email_address": email, "password": password}),
    )
    .await
}

async fn session_check(a: &Api, s: &Seeded, i: u64) -> Result<(), String> {
    let token = &s.session_tokens[i as usize % s.session_tokens.len()];
    a.post_status("/v1/b2b/sessions/authenticate", &json!({"session_token": token}))
        .await
}

async fn otp_flow(a: &Api, org_id: &str, email: &str) -> Result<(), String> {
    a.post_status(
        "/v1/b2b/otps/email/login_or_signup",
        &json!({"organization_id": org_id, "email_address": email}),
    )
    .await?;
    let outbox = a.get(&format!("/latch/v1/outbox?recipient={email}&limit=1")).await?;
    let code = str_field(&outbox, "/messages/0/code")?;
    a.post_status(
        "/v1/b2b/otps/email/authenticate",
        &json!({"organization_id": org_id, "email_address": email, "code": code}),
    )
    .await
}
