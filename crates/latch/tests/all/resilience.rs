//! The promises an operator measured by hand (issue 18), kept as tests: several nodes on one
//! database, a kill -9 under load, a database outage, a SIGTERM under load. Nodes run in this
//! process where each only needs its own caches (and a shared manual clock), and as the real
//! binary where the process itself must die or get a signal. The multi-node, crash and shutdown
//! tests run on SQLite and, with LATCH_TEST_DATABASE_URL, on PostgreSQL; the outage test needs
//! PostgreSQL and is skipped without it.
#![allow(clippy::disallowed_methods)] // real servers on the system clock; the key test moves a manual one

use latch::app::Application;
use latch::config::Config;
use latch_core::clock::{Clock, ManualClock, SystemClock};
use latch_core::model::search::{Operator, Page, Query};
use latch_core::store::OrgStore;
use latch_testkit::{engines, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROJECT: &str = "project-test-00000000-0000-4000-8000-000000000018";
const SECRET: &str = "secret-test-resilience-tests-0123";

fn client() -> reqwest::Client {
    // reqwest is built without a bundled TLS provider; use aws-lc-rs like the server.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .basic_auth(PROJECT, Some(SECRET));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn assert_stytch_error(status: StatusCode, body: &Value, want_status: u16, want_type: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["status_code"], want_status, "{body}");
    assert_eq!(body["error_type"], want_type, "{body}");
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("request-id-")),
        "{body}"
    );
    assert!(body["error_message"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
}

/// A node in this process: `Application::build` and `run_until`, as `latch serve` runs them.
struct Node {
    base: String,
    http: reqwest::Client,
    state: latch_http::AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Node {
    async fn start(database_url: &str, clock: Arc<dyn Clock>, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            bootstrap_project_id: Some(PROJECT.into()),
            bootstrap_secret: Some(SECRET.into()),
            argon2_memory_kib: 8,
            argon2_iterations: 1,
            ..Config::default()
        };
        adjust(&mut config);
        let app = Application::build_with_clock(&config, clock).await.expect("build app");
        let base = format!("http://{}", app.local_addr());
        let state = app.state();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        Self {
            base,
            http: client(),
            state,
            stop,
            done,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        call(&self.http, &self.base, method, path, body).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A probe, without credentials.
    async fn probe(&self, path: &str) -> StatusCode {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("probe")
            .status()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.expect("server task").expect("clean shutdown");
    }
}

fn md5_hex(s: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `kid` in a JWT's header.
fn kid_of(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().expect("JWT header");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("base64url header"),
    )
    .expect("JSON header");
    header["kid"].as_str().expect("kid").to_string()
}

async fn published_kids(node: &Node) -> Vec<String> {
    let (st, body) = node
        .call(Method::GET, &format!("/v1/b2b/sessions/jwks/{PROJECT}"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Two nodes on one database, sharing nothing but it (and a clock, so that key rotation can be
/// stepped through in milliseconds): sessions, revocations, one-time codes, lockouts and signing
/// keys of one node hold on the other.
#[tokio::test]
async fn two_nodes_on_one_database_agree_on_sessions_codes_lockouts_and_keys() {
    use latch_core::token::keyring::PREPUBLISH_MS;
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let a = Node::start(&db.url, clock.clone(), |_| {}).await;
        let b = Node::start(&db.url, clock.clone(), |_| {}).await;
        let password = "Two-nodes-one-database-0123";
        let (st, body) = a
            .post(
                "/v1/b2b/organizations",
                json!({"organization_name": "Acme", "organization_slug": "acme"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        for email in ["s@acme.test", "locked@acme.test"] {
            let (st, body) = b
                .post(
                    "/v1/b2b/passwords/migrate",
                    json!({"organization_id": "acme", "email_address": email,
                           "hash_type": "md_5", "hash": md5_hex(password)}),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{body}");
        }

        // A session made on A authenticates on B, by token and by JWT.
        let (st, login) = a
            .post(
                "/v1/b2b/passwords/authenticate",
                json!({"organization_id": "acme", "email_address": "s@acme.test", "password": password}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{login}");
        let token = login["session_token"].as_str().unwrap().to_string();
        let session_id = login["member_session"]["member_session_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, body) = b
            .post("/v1/b2b/sessions/authenticate", json!({"session_token": token}))
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = b
            .post(
                "/v1/b2b/sessions/authenticate",
                json!({"session_jwt": login["session_jwt"]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");

        // An email code sent through A is accepted through B (once).
        let (st, body) = a
            .post(
                "/v1/b2b/otps/email/login_or_signup",
                json!({"organization_id": "acme", "email_address": "s@acme.test"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (_, outbox) = b
            .call(Method::GET, "/latch/v1/outbox?recipient=s@acme.test&limit=1", None)
            .await;
        let code = outbox["messages"][0]["code"].as_str().expect("a code").to_string();
        let otp = json!({"organization_id": "acme", "email_address": "s@acme.test", "code": code});
        let (st, body) = b.post("/v1/b2b/otps/email/authenticate", otp.clone()).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, _) = a.post("/v1/b2b/otps/email/authenticate", otp).await;
        assert!(st.is_client_error(), "a used code is refused on the other node");

        // Wrong passwords through both nodes add up to one lockout, which holds on both, even
        // for the right password.
        let attempt =
            |pw: &str| json!({"organization_id": "acme", "email_address": "locked@acme.test", "password": pw});
        for i in 0..10 {
            let node = if i % 2 == 0 { &a } else { &b };
            let (st, body) = node.post("/v1/b2b/passwords/authenticate", attempt("wrong")).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "attempt {i}: {body}");
        }
        for node in [&a, &b] {
            let (st, body) = node.post("/v1/b2b/passwords/authenticate", attempt(password)).await;
            assert_stytch_error(st, &body, 429, "too_many_requests");
        }

        // A key rotation through A: at every moment, every JWT either node signs carries a kid
        // both nodes publish and both accept; both switch to the new key together.
        let jwt_from = |node: &'static str| {
            let (a, b, token) = (&a, &b, token.clone());
            async move {
                let n = if node == "a" { a } else { b };
                let (st, body) = n
                    .post("/v1/b2b/sessions/authenticate", json!({"session_token": token}))
                    .await;
                assert_eq!(st, StatusCode::OK, "{body}");
                body["session_jwt"].as_str().unwrap().to_string()
            }
        };
        let mut signed = Vec::new();
        let check = |step: i64| {
            let (a, b, jwt_from) = (&a, &b, &jwt_from);
            async move {
                let mut kids = Vec::new();
                for name in ["a", "b"] {
                    let jwt = jwt_from(name).await;
                    let kid = kid_of(&jwt);
                    for other in [a, b] {
                        let published = published_kids(other).await;
                        assert!(
                            published.contains(&kid),
                            "+{step} ms: {kid} of node {name} not in {published:?}"
                        );
                        let (st, body) = other
                            .post("/v1/b2b/sessions/authenticate", json!({"session_jwt": jwt}))
                            .await;
                        assert_eq!(st, StatusCode::OK, "+{step} ms: {body}");
                    }
                    kids.push(kid);
                }
                kids
            }
        };
        let old = check(0).await;
        let rotated = a
            .state
            .ctx
            .keyring
            .rotate(&PROJECT.into(), Duration::from_millis(PREPUBLISH_MS as u64))
            .await
            .unwrap();
        let start = clock.now().millis();
        while clock.now() < rotated.signs_from {
            signed.push(check(clock.now().millis() - start).await);
            clock.advance_millis(5_000);
        }
        let after = check(clock.now().millis() - start).await;
        assert_eq!(old, [old[0].clone(), old[0].clone()]);
        assert!(
            signed.iter().all(|kids| *kids == old),
            "the old key signs until signs_from"
        );
        assert_eq!(after, [rotated.kid.clone(), rotated.kid.clone()]);

        // A revocation on A is refused on B within the record cache lifetime: B may answer from
        // its cache until then (its caches read the shared manual clock), never after.
        let (st, body) = a
            .post("/v1/b2b/sessions/revoke", json!({"member_session_id": session_id}))
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        clock.advance(latch_core::engine::RECORD_CACHE_TTL);
        let (st, body) = b
            .post("/v1/b2b/sessions/authenticate", json!({"session_token": token}))
            .await;
        assert_stytch_error(st, &body, 404, "session_not_found");
        a.stop().await;
        b.stop().await;
        db.dispose().await;
    }
}

/// `latch serve` as a child process, on port 0; its address is read from its JSON log.
struct Proc {
    child: std::process::Child,
    base: String,
}

impl Proc {
    fn spawn(database_url: &str, dir: &std::path::Path) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_latch"))
            .arg("serve")
            .env_clear()
            .env("LATCH_LISTEN", "127.0.0.1:0")
            .env("LATCH_DATABASE_URL", database_url)
            .env("LATCH_DATA_DIR", dir)
            .env("LATCH_KEK", latch_testkit::TEST_KEK)
            .env("LATCH_BOOTSTRAP_PROJECT_ID", PROJECT)
            .env("LATCH_BOOTSTRAP_SECRET", SECRET)
            .env("LATCH_ARGON2_MEMORY_KIB", "8")
            .env("LATCH_ARGON2_ITERATIONS", "1")
            .env("LATCH_LOG", "warn,latch::app=info")
            .env("LATCH_LOG_FORMAT", "json")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn latch");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the log to its end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if parsed["fields"]["message"] == "latch listening" {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(parsed["fields"]["addr"].as_str().unwrap_or("").to_string()));
                    }
                } else if let Some(tx) = &tx {
                    let _ = tx.send(Err(line));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut log = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Ok(addr)) => {
                    return Self {
                        child,
                        base: format!("http://{addr}"),
                    }
                }
                Ok(Err(line)) => log.push_str(&line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("latch serve did not start: {log}");
                }
            }
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Waits for the process to exit; its status.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("latch serve did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every organization name in the project, read straight from the database.
async fn stored_org_names(database_url: &str) -> HashSet<String> {
    let store = latch_store::SqlStore::connect(
        database_url,
        &latch_store::PoolOptions::default(),
        latch_testkit::test_sealer(),
    )
    .await
    .expect("open database");
    let found = store
        .search_orgs(
            &PROJECT.into(),
            &Query {
                operator: Operator::And,
                filters: vec![],
            },
            &Page {
                after: None,
                limit: 1000,
            },
        )
        .await
        .expect("search");
    assert!(!found.has_more, "the test writes fewer than 1000 organizations");
    store.close().await;
    found.items.into_iter().map(|o| o.name).collect()
}

/// What clients heard about their writes: the names answered 200, and those whose request failed
/// without an answer.
#[derive(Default)]
struct Outcomes {
    answered: Vec<String>,
    unanswered: Vec<String>,
}

/// `workers` clients each creating organizations one after another until a request fails.
fn write_load(
    base: &str,
    tag: &'static str,
    workers: usize,
) -> (Arc<Mutex<Outcomes>>, Vec<tokio::task::JoinHandle<()>>) {
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let tasks = (0..workers)
        .map(|w| {
            let (base, outcomes, http) = (base.to_string(), outcomes.clone(), client());
            tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("{tag}-{w}-{i}");
                    let sent = http
                        .post(format!("{base}/v1/b2b/organizations"))
                        .basic_auth(PROJECT, Some(SECRET))
                        .json(&json!({"organization_name": name}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::OK => outcomes.lock().unwrap().answered.push(name),
                        Ok(r) => panic!("{name}: {}", r.status()),
                        Err(_) => {
                            outcomes.lock().unwrap().unanswered.push(name);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    (outcomes, tasks)
}

async fn until_answered(outcomes: &Mutex<Outcomes>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while outcomes.lock().unwrap().answered.len() < count {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// kill -9 in the middle of writes from several clients: after a restart every write that was
/// acknowledged is there.
#[tokio::test]
async fn every_acknowledged_write_survives_kill_9() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let dir = std::env::temp_dir().join(format!("latch-crash-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut node = Proc::spawn(&db.url, &dir);
        let (outcomes, tasks) = write_load(&node.base, "crash", 4);
        until_answered(&outcomes, 40).await;
        node.child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        node.wait(Duration::from_secs(10));
        for t in tasks {
            t.await.unwrap();
        }
        drop(node);

        let restarted = Proc::spawn(&db.url, &dir);
        let http = client();
        let (st, _) = call(
            &http,
            &restarted.base,
            Method::GET,
            "/v1/b2b/organizations/missing",
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the restarted node serves");
        drop(restarted);
        let stored = stored_org_names(&db.url).await;
        let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
        let lost: Vec<&String> = outcomes.answered.iter().filter(|n| !stored.contains(*n)).collect();
        assert!(lost.is_empty(), "{engine}: acknowledged writes lost: {lost:?}");
        eprintln!(
            "{engine}: {} acknowledged writes all present after kill -9 ({} in flight)",
            outcomes.answered.len(),
            outcomes.unanswered.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
        db.dispose().await;
    }
}

/// SIGTERM in the middle of writes from several clients: the process exits 0, every request it
/// took in was answered, and every request left unanswered wrote nothing.
#[tokio::test]
async fn sigterm_answers_every_request_it_accepted() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let dir = std::env::temp_dir().join(format!("latch-term-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut node = Proc::spawn(&db.url, &dir);
        let (outcomes, tasks) = write_load(&node.base, "term", 8);
        until_answered(&outcomes, 30).await;
        let term = std::process::Command::new("kill")
            .args(["-TERM", &node.pid()])
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        let status = node.wait(Duration::from_secs(20));
        assert!(status.success(), "{engine}: exit after SIGTERM: {status}");
        for t in tasks {
            t.await.unwrap();
        }
        let stored = stored_org_names(&db.url).await;
        let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
        for name in &outcomes.answered {
            assert!(stored.contains(name), "{engine}: {name} answered but not stored");
        }
        for name in &outcomes.unanswered {
            assert!(
                !stored.contains(name),
                "{engine}: {name} was written but its answer was lost"
            );
        }
        assert_eq!(stored.len(), outcomes.answered.len(), "{engine}");
        eprintln!(
            "{engine}: SIGTERM under load: {} answered, {} refused unprocessed, exit 0",
            outcomes.answered.len(),
            outcomes.unanswered.len()
        );
        drop(node);
        let _ = std::fs::remove_dir_all(&dir);
        db.dispose().await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    Up,
    /// Packets vanish: connections stay open and nothing moves (a network partition).
    Partitioned,
    /// Every connection is closed at once, new ones too (the database went down).
    Down,
}

/// A TCP proxy between Latch and PostgreSQL whose link the test cuts and restores.
struct Proxy {
    addr: std::net::SocketAddr,
    link: tokio::sync::watch::Sender<Link>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (link, watch) = tokio::sync::watch::channel(Link::Up);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (mut watch, upstream) = (watch.clone(), upstream.clone());
                tokio::spawn(async move {
                    let state = *watch.borrow_and_update();
                    match state {
                        Link::Down => return,
                        Link::Partitioned => {
                            // Held open, silent, until the link changes; then closed.
                            let _ = watch.changed().await;
                            return;
                        }
                        Link::Up => {}
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                        _ = watch.changed() => {}
                    }
                    if *watch.borrow_and_update() == Link::Partitioned {
                        let _ = watch.changed().await;
                    }
                    // Dropping both ends closes them.
                });
            }
        });
        Self { addr, link }
    }

    fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

/// The host:port a database URL names, and the URL with them replaced by `addr`.
fn host_port(url: &str) -> (String, impl Fn(std::net::SocketAddr) -> String + '_) {
    let (scheme, rest) = url.split_once("://").expect("URL scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let upstream = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    (upstream, move |addr| format!("{scheme}://{user}{addr}{path}"))
}

/// PostgreSQL partitioned away, then down, then back: readiness says 503 within about a second
/// while liveness stays 200, API calls get Stytch's retryable 503, and the node recovers on its own.
#[tokio::test]
async fn a_database_outage_answers_503_and_recovers_without_a_restart() {
    if !engines().contains(&"postgres") {
        eprintln!("skipped: LATCH_TEST_DATABASE_URL is not set");
        return;
    }
    let db = TestDb::new("postgres").await;
    let (proxy, url) = {
        let (upstream, via) = host_port(&db.url);
        let proxy = Proxy::start(upstream).await;
        let url = via(proxy.addr);
        (proxy, url)
    };
    let node = Node::start(&url, Arc::new(SystemClock), |c| c.request_timeout_secs = 3).await;
    let create = |name: &str| json!({"organization_name": name});
    let (st, body) = node.post("/v1/b2b/organizations", create("Before")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(node.probe("/healthz").await, StatusCode::OK);

    proxy.set(Link::Partitioned);
    let t = Instant::now();
    assert_eq!(node.probe("/healthz").await, StatusCode::SERVICE_UNAVAILABLE);
    let ready = t.elapsed();
    assert!(ready < Duration::from_millis(1_900), "readiness took {ready:?}");
    assert_eq!(node.probe("/livez").await, StatusCode::OK);
    let t = Instant::now();
    let (st, body) = node.post("/v1/b2b/organizations", create("Partitioned")).await;
    assert_stytch_error(st, &body, 503, "server_unavailable");
    let partitioned = t.elapsed();

    proxy.set(Link::Down);
    let t = Instant::now();
    let (st, body) = node.post("/v1/b2b/organizations", create("Down")).await;
    assert_stytch_error(st, &body, 503, "server_unavailable");
    let down = t.elapsed();
    assert_eq!(node.probe("/healthz").await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(node.probe("/livez").await, StatusCode::OK);

    proxy.set(Link::Up);
    let t = Instant::now();
    while node.probe("/healthz").await != StatusCode::OK {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "not ready again after the outage"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = t.elapsed();
    let (st, body) = node.post("/v1/b2b/organizations", create("After")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    eprintln!(
        "outage: /healthz 503 after {ready:?}; API 503 after {partitioned:?} (partitioned), {down:?} (down); \
         ready again {recovered:?} after the database came back"
    );
    node.stop().await;
    db.dispose().await;
}
