//! The real application for tests: built from `test_config` on a fresh database, serving on a
//! free port (`spawn_app`), or driven in process through `router(state).oneshot` (`RouterApp`).
//! Either can read its time from a `ManualClock`. Delivery goes to the development outbox, which
//! `outbox` reads back.

use crate::db::{engines, TestDb};
use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use base64::Engine;
use latch::app::Application;
use latch::config::Config;
use latch_core::clock::{Clock, ManualClock, SystemClock};
use reqwest::StatusCode;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use tower::ServiceExt;

/// The project every test app bootstraps, and its secret.
pub const PROJECT: &str = "project-test-00000000-0000-4000-8000-000000000001";
pub const SECRET: &str = "secret-test-api-tests-0123456789";

/// What every test app starts from: a free port, `db`, the bootstrap project (with one allowed
/// redirect URL), a 64 KiB body limit, and the cheapest argon2 cost, so tests never pay
/// production hashing.
pub fn test_config(db: &TestDb) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        kek: Some(crate::db::TEST_KEK.into()),
        bootstrap_project_id: Some(PROJECT.into()),
        bootstrap_secret: Some(SECRET.into()),
        max_body_bytes: 64 * 1024,
        argon2_memory_kib: 8,
        argon2_iterations: 1,
        bootstrap_redirect_urls: vec!["https://app.test/r".into()],
        ..Config::default()
    }
}

/// A manual clock set to the wall clock's time, so records it stamps look current.
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(SystemClock.now()))
}

/// A test app being configured: `TestApp::builder(&db).config(|c| …).clock(…).spawn()`.
pub struct AppBuilder {
    config: Config,
    clock: Option<Arc<ManualClock>>,
}

impl AppBuilder {
    /// Changes the test configuration.
    pub fn config(mut self, adjust: impl FnOnce(&mut Config)) -> Self {
        adjust(&mut self.config);
        self
    }

    /// Reads time from `clock` (share one between apps to move them together).
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Reads time from a new manual clock (`TestApp::clock`).
    pub fn manual_clock(self) -> Self {
        self.clock(manual_clock())
    }

    async fn build(&self) -> Application {
        let app = Application::build(&self.config).await.expect("build app");
        match &self.clock {
            Some(c) => app.with_clock(c.clone()),
            None => app,
        }
    }

    /// Serves on a free port until `TestApp::stop`.
    pub async fn spawn(self) -> TestApp {
        // reqwest is built without a bundled TLS provider; use aws-lc-rs like the server.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let app = self.build().await;
        let base = format!("http://{}", app.local_addr());
        let state = app.state();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        TestApp {
            base,
            http: reqwest::Client::new(),
            state,
            clock: self.clock,
            stop,
            done,
        }
    }

    /// The use cases' context alone (no server): for engine tests, and for a second node on the
    /// same database.
    pub async fn ctx(self) -> Arc<latch_core::engine::Ctx> {
        self.build().await.state().ctx
    }

    /// The router alone, called in process (no socket, no background chores).
    pub async fn router(self) -> RouterApp {
        let app = self.build().await;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{PROJECT}:{SECRET}"));
        RouterApp {
            router: latch_http::router(app.state()),
            basic: format!("Basic {basic}"),
            clock: self.clock,
            _db: None,
        }
    }
}

/// A running app, called over HTTP as the bootstrap project.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: latch_http::AppState,
    clock: Option<Arc<ManualClock>>,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The app on `db` with the test configuration and the system clock.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    TestApp::builder(db).spawn().await
}

/// The app on `db` with the test configuration changed by `adjust`.
pub async fn spawn_app_with(db: &TestDb, adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::builder(db).config(adjust).spawn().await
}

/// Runs an app test on each engine, each time on a fresh database; the test hands the app back
/// to be stopped.
pub async fn on_each_engine_app<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    on_each_engine_app_with(|b| b, test).await
}

/// Like `on_each_engine_app`, with the app configured by `configure` (e.g. `AppBuilder::manual_clock`).
pub async fn on_each_engine_app_with<F, Fut>(configure: impl Fn(AppBuilder) -> AppBuilder, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let app = configure(TestApp::builder(&db)).spawn().await;
        test(app).await.stop().await;
        db.dispose().await;
    }
}

impl TestApp {
    pub fn builder(db: &TestDb) -> AppBuilder {
        AppBuilder {
            config: test_config(db),
            clock: None,
        }
    }

    /// The manual clock the app reads; panics if it was built without one.
    pub fn clock(&self) -> &ManualClock {
        self.clock.as_deref().expect("an app built with a manual clock")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A JSON call as the project; the status and the JSON answer.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .basic_auth(PROJECT, Some(SECRET));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.expect("JSON body"))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A call whose body is sent as given, labelled JSON.
    pub async fn raw(&self, method: reqwest::Method, path: &str, body: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method, self.url(path))
            .basic_auth(PROJECT, Some(SECRET))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.expect("JSON body"))
    }

    /// Creates an organization with `name` and `slug`; its JSON answer.
    pub async fn create_org(&self, name: &str, slug: &str) -> Value {
        let (status, body) = self
            .post(
                "/v1/b2b/organizations",
                serde_json::json!({"organization_name": name, "organization_slug": slug}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The development outbox's messages to `recipient`, newest first.
    pub async fn outbox(&self, recipient: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/latch/v1/outbox?recipient={recipient}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["messages"].as_array().expect("messages").clone()
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.expect("server task").expect("clean shutdown");
    }
}

/// The router of a test app, called in process as the bootstrap project.
pub struct RouterApp {
    pub router: axum::Router,
    pub basic: String,
    clock: Option<Arc<ManualClock>>,
    _db: Option<crate::db::DropDb>,
}

impl RouterApp {
    /// A router app on its own fresh SQLite database, removed when the app is dropped: for
    /// tests of the HTTP layer, where the engine does not matter.
    pub async fn sqlite(configure: impl FnOnce(AppBuilder) -> AppBuilder) -> Self {
        let db = TestDb::new("sqlite").await;
        let mut app = configure(TestApp::builder(&db)).router().await;
        app._db = Some(crate::db::DropDb(db));
        app
    }

    /// The manual clock the app reads; panics if it was built without one.
    pub fn clock(&self) -> &ManualClock {
        self.clock.as_deref().expect("an app built with a manual clock")
    }

    /// Creates an organization named `name`; its id.
    pub async fn create_org(&self, name: &str) -> String {
        let body = serde_json::json!({ "organization_name": name }).to_string();
        let (status, created, _) = self.call("POST", "/v1/b2b/organizations", &body, &[]).await;
        assert_eq!(status, axum::http::StatusCode::OK, "{created}");
        created["organization"]["organization_id"].as_str().unwrap().to_string()
    }

    /// One request with extra headers; the status, the JSON answer (null if none) and any
    /// `Retry-After`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: &str,
        extra: &[(&str, &[u8])],
    ) -> (axum::http::StatusCode, Value, Option<String>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, &self.basic)
            .header(header::CONTENT_TYPE, "application/json");
        for (name, value) in extra {
            req = req.header(*name, axum::http::HeaderValue::from_bytes(value).unwrap());
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            retry_after,
        )
    }
}
