//! Black-box API tests: the real application on a random port, a fresh database per test (SQLite,
//! and PostgreSQL when LATCH_TEST_DATABASE_URL is set), driven over HTTP.

use base64::Engine;
use latch_core::delivery::{Channel, Message};
use latch_testkit::{
    engines, on_each_engine_app as on_each_engine, on_each_engine_app_with, spawn_app, spawn_app_with, AppBuilder,
    TestApp, TestDb, PROJECT, SECRET,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_type: &str) {
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
    assert!(
        body["error_url"].as_str().is_some_and(|s| s.ends_with(want_type)),
        "{body}"
    );
}

#[tokio::test]
async fn health_and_credentials() {
    on_each_engine(|s| async move {
        for probe in ["/healthz", "/livez"] {
            let r = s.http.get(s.url(probe)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{probe}");
        }

        let basic = |id: &str, secret: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
            )
        };
        let cases = [
            None,
            Some(basic(PROJECT, "wrong-secret")),
            Some(basic("project-test-unknown", SECRET)),
            Some("Bearer abc".to_string()),
            Some("Basic !!!not-base64".to_string()),
        ];
        for auth in cases {
            let mut req = s.http.get(s.url("/v1/b2b/organizations/anything"));
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap();
            assert_error(status, &body, 401, "unauthorized_credentials");
        }
        s
    })
    .await;
}

#[tokio::test]
async fn bad_requests_are_stytch_shaped_and_write_nothing() {
    on_each_engine(|s| async move {
        use reqwest::Method as M;
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", "{\"organization_name\": ").await;
        assert_error(st, &b, 400, "bad_request");
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", "{}").await;
        assert_error(st, &b, 400, "invalid_argument");
        assert!(b["error_message"].as_str().unwrap().contains("organization_name"));
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", "{\"organization_name\": 5}").await;
        assert_error(st, &b, 400, "invalid_argument");
        assert!(b["error_message"].as_str().unwrap().contains("organization_name"));
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", "[1, 2]").await;
        assert_error(st, &b, 400, "invalid_argument");
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", "{\"organization_name\": \"A\"} trailing").await;
        assert_error(st, &b, 400, "bad_request");
        let huge = format!("{{\"organization_name\": \"{}\"}}", "x".repeat(70 * 1024));
        let (st, b) = s.raw(M::POST, "/v1/b2b/organizations", &huge).await;
        assert_error(st, &b, 413, "request_too_large");
        let (st, b) = s
            .call(M::POST, "/v1/b2b/organizations", Some(json!({"organization_name": "Refused", "organization_slug": "refused", "email_allowed_domains": ["gmail.com"]})))
            .await;
        assert_error(st, &b, 400, "organization_settings_domain_too_common");
        let (st, b) = s.call(M::GET, "/v1/b2b/organizations/refused", None).await;
        assert_error(st, &b, 404, "organization_not_found");
        let (st, b) = s.call(M::GET, "/v1/b2b/nowhere", None).await;
        assert_error(st, &b, 404, "route_not_found");
        let (st, b) = s.call(M::PATCH, "/v1/b2b/organizations", None).await;
        assert_error(st, &b, 405, "method_not_allowed");
        let (st, b) = s.call(M::POST, "/v1/b2b/organizations/search", Some(json!({"limit": 0}))).await;
        assert_error(st, &b, 400, "invalid_argument");
        let (st, b) = s.call(M::POST, "/v1/b2b/organizations/search", Some(json!({"cursor": "garbage!"}))).await;
        assert_error(st, &b, 400, "invalid_argument");
        s
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_ignored_and_delete_accepts_empty_or_json_body() {
    on_each_engine(|s| async move {
        use reqwest::Method as M;
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/organizations",
                Some(json!({"organization_name": "Acme", "organization_slug": "acme", "made_up": [1]})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["status_code"], 200);
        assert!(b["request_id"].as_str().unwrap().starts_with("request-id-"));
        // Python sends no DELETE body, Node sends {}.
        let (st, _) = s
            .call(
                M::POST,
                "/v1/b2b/organizations",
                Some(json!({"organization_name": "Beta", "organization_slug": "beta"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, b) = s.raw(M::DELETE, "/v1/b2b/organizations/acme", "").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (st, b) = s.raw(M::DELETE, "/v1/b2b/organizations/beta", "{}").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (st, b) = s.call(M::GET, "/v1/b2b/organizations/beta", None).await;
        assert_error(st, &b, 404, "organization_not_found");
        s
    })
    .await;
}

#[tokio::test]
async fn outbox_shows_messages_of_the_project_newest_first() {
    on_each_engine(|s| async move {
        let send = |to: &str, code: &str| Message {
            project_id: PROJECT.into(),
            channel: Channel::Email,
            recipient: to.into(),
            kind: "login_otp".into(),
            locale: "en".into(),
            subject: Some("Your code".into()),
            text: format!("Your code is {code}"),
            html: Some(format!("<p>{code}</p>")),
            code: Some(code.into()),
            token: None,
            url: None,
        };
        s.state.ctx.delivery.send(send("a@acme.test", "111111")).await.unwrap();
        s.state.ctx.delivery.send(send("b@acme.test", "222222")).await.unwrap();
        s.state.ctx.delivery.send(send("a@acme.test", "333333")).await.unwrap();
        let other = Message {
            project_id: "project-test-other".into(),
            ..send("a@acme.test", "999999")
        };
        // Another project's message (its project need not exist for this check to matter).
        let _ = s.state.ctx.delivery.send(other).await;

        let (st, b) = s
            .call(reqwest::Method::GET, "/latch/v1/outbox?recipient=a@acme.test", None)
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let codes: Vec<&str> = b["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, vec!["333333", "111111"]);
        let m = &b["messages"][0];
        for field in [
            "message_id",
            "channel",
            "recipient",
            "kind",
            "locale",
            "subject",
            "text",
            "html",
            "code",
            "token",
            "url",
            "created_at",
        ] {
            assert!(m.get(field).is_some(), "missing {field}: {m}");
        }
        assert_eq!(m["channel"], "email");
        assert!(m["token"].is_null() && m["url"].is_null());
        let (_, b) = s.call(reqwest::Method::GET, "/latch/v1/outbox?limit=1", None).await;
        assert_eq!(b["messages"].as_array().unwrap().len(), 1);
        let (st, b) = s.call(reqwest::Method::GET, "/latch/v1/outbox?limit=0", None).await;
        assert_error(st, &b, 400, "invalid_argument");
        let resp = s.http.get(s.url("/latch/v1/outbox")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        s
    })
    .await;
}

#[tokio::test]
async fn member_session_headers_are_refused_until_sessions_exist() {
    on_each_engine(|s| async move {
        let (_, b) = s
            .call(
                reqwest::Method::POST,
                "/v1/b2b/organizations",
                Some(json!({"organization_name": "Acme", "organization_slug": "acme"})),
            )
            .await;
        assert_eq!(b["organization"]["organization_slug"], "acme");
        let resp = s
            .http
            .put(s.url("/v1/b2b/organizations/acme"))
            .basic_auth(PROJECT, Some(SECRET))
            .header("x-stytch-member-session", "forged")
            .json(&json!({"organization_name": "Hijacked"}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_error(status, &body, 401, "session_not_found");
        let (_, b) = s.call(reqwest::Method::GET, "/v1/b2b/organizations/acme", None).await;
        assert_eq!(b["organization"]["organization_name"], "Acme");
        s
    })
    .await;
}

/// One HTTP/1.1 answer read off a raw connection: its status and whether the server said it
/// would close the connection.
async fn read_answer(conn: &mut tokio::net::TcpStream) -> (u16, bool) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                return (status, head.contains("connection: close"));
            }
        }
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn a_request_refused_before_its_body_is_read_keeps_its_connection() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new("sqlite").await;
    let s = spawn_app(&db).await;
    let good = base64::engine::general_purpose::STANDARD.encode(format!("{PROJECT}:{SECRET}"));
    let bad = base64::engine::general_purpose::STANDARD.encode(format!("{PROJECT}:wrong"));
    let body = r#"{"member_id":"member-test-00000000-0000-4000-8000-000000000009"}"#;
    // Refused by the credentials check and by the session-header check, both of which answer
    // before the body is read. The body comes in its own segment, as urllib3 sends it.
    let refusals = [
        (bad.as_str(), "", 401),
        (good.as_str(), "x-stytch-member-session: forged\r\n", 401),
    ];
    let mut conn = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    conn.set_nodelay(true).unwrap();
    for (basic, extra, want) in refusals {
        let head = format!(
            "POST /v1/b2b/sessions/revoke HTTP/1.1\r\nhost: latch\r\nauthorization: Basic {basic}\r\n{extra}\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        conn.write_all(body.as_bytes()).await.unwrap();
        assert_eq!(read_answer(&mut conn).await, (want, false));
    }
    // The same connection still serves the next call.
    conn.write_all(b"GET /livez HTTP/1.1\r\nhost: latch\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut conn).await, (200, false));
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn housekeeping_purges_expired_records() {
    use latch_core::clock::Timestamp;
    use latch_testkit::fixtures::otp_record;
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = spawn_app_with(&db, |c| c.housekeeping_interval_secs = 1).await;
        let store = &s.state.ctx.store;
        let otp = |id: &str, recipient: &str, expires_at| otp_record(PROJECT, "discovery", id, recipient, expires_at);
        store
            .replace_otp(&otp("o-old", "old@acme.test", Timestamp(2)))
            .await
            .unwrap();
        store
            .replace_otp(&otp("o-live", "live@acme.test", Timestamp::now().plus_minutes(10)))
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store
            .otp_for(&PROJECT.into(), "discovery", "email", "old@acme.test")
            .await
            .unwrap()
            .is_some()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "[{engine}] not purged within 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(store
            .otp_for(&PROJECT.into(), "discovery", "email", "live@acme.test")
            .await
            .unwrap()
            .is_some());
        s.stop().await;
        db.dispose().await;
    }
}

fn sha1_upper(s: &str) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A stand-in for api.pwnedpasswords.com: `/range/{prefix}` lists suffixes (with padding lines),
/// and records which prefixes it was asked for.
async fn fake_hibp(pwned: &'static [&'static str]) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::Path;
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    let app = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(move |Path(prefix): Path<String>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(prefix.clone());
                let mut body = String::from("0000000000000000000000000000000000A:0\r\n");
                for p in pwned {
                    let h = sha1_upper(p);
                    if h.starts_with(&prefix) {
                        body.push_str(&format!("{}:1234\r\n", &h[5..]));
                    }
                }
                body
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), asked)
}

async fn strength(s: &TestApp, password: &str) -> (StatusCode, Value) {
    s.call(
        reqwest::Method::POST,
        "/v1/b2b/passwords/strength_check",
        Some(json!({"password": password})),
    )
    .await
}

#[tokio::test]
async fn breach_detection_uses_the_range_api_with_k_anonymity() {
    let (url, asked) = fake_hibp(&["Velvet-Harbor-Cobalt-93"]).await;
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| c.hibp_range_api_url = Some(url.clone())).await;
    let (_, r) = strength(&s, "Velvet-Harbor-Cobalt-93").await;
    assert_eq!(r["breached_password"], true, "{r}");
    assert_eq!(r["valid_password"], false);
    let (_, r) = strength(&s, "Orchid-Falcon-Meridian-42").await;
    assert_eq!(r["breached_password"], false, "{r}");
    assert_eq!(r["valid_password"], true);
    // Only five hex characters of the digest ever left the server.
    for prefix in asked.lock().unwrap().iter() {
        assert_eq!(prefix.len(), 5, "{prefix}");
    }
    assert_eq!(asked.lock().unwrap().len(), 2);
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn unreachable_range_api_fails_open_or_closed_as_configured() {
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for fail_closed in [false, true] {
        let db = TestDb::new("sqlite").await;
        let s = spawn_app_with(&db, |c| {
            c.hibp_range_api_url = Some(closed.clone());
            c.hibp_fail_closed = fail_closed;
            c.hibp_timeout_ms = 500;
        })
        .await;
        let (status, r) = strength(&s, "Orchid-Falcon-Meridian-42").await;
        if fail_closed {
            assert_error(status, &r, 503, "breach_detection_unavailable");
        } else {
            assert_eq!(status, StatusCode::OK, "{r}");
            assert_eq!(r["breached_password"], false);
        }
        s.stop().await;
        db.dispose().await;
    }
}

#[tokio::test]
async fn imported_corpus_marks_passwords_breached() {
    let db = TestDb::new("sqlite").await;
    let dir = std::env::temp_dir().join(format!("latch-corpus-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut lines: Vec<String> = ["Velvet-Harbor-Cobalt-93", "Amber-Quartz-Nimbus-17"]
        .iter()
        .map(|p| format!("{}:7", sha1_upper(p)))
        .collect();
    lines.sort();
    let corpus = dir.join("pwned.bin");
    latch_core::password::corpus::import(lines.join("\n").as_bytes(), &corpus, |_| {}).unwrap();
    let s = spawn_app_with(&db, |c| c.breach_corpus_file = Some(corpus.clone())).await;
    let (_, r) = strength(&s, "Amber-Quartz-Nimbus-17").await;
    assert_eq!(r["breached_password"], true, "{r}");
    let (_, r) = strength(&s, "Orchid-Falcon-Meridian-42").await;
    assert_eq!(r["breached_password"], false, "{r}");
    s.stop().await;
    db.dispose().await;
    std::fs::remove_dir_all(&dir).ok();
}

async fn login_as(s: &TestApp, forwarded_for: &str, email: &str, password: &str) -> StatusCode {
    s.http
        .post(s.url("/v1/b2b/passwords/authenticate"))
        .basic_auth(PROJECT, Some(SECRET))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"organization_id": "acme", "email_address": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn failed_logins_are_limited_per_forwarded_client_address_only_behind_a_trusted_proxy() {
    for trusted in [true, false] {
        let db = TestDb::new("sqlite").await;
        let s = spawn_app_with(&db, |c| {
            if trusted {
                c.trusted_proxies = vec!["127.0.0.1/32".into()];
            }
            c.forwarded_client_max_failures = 3;
        })
        .await;
        s.create_org("Acme", "acme").await;
        // Failures spread over several accounts, all from one end user.
        for i in 0..3 {
            assert_eq!(
                login_as(&s, "203.0.113.5", &format!("u{i}@acme.test"), "wrong").await,
                StatusCode::UNAUTHORIZED
            );
        }
        let fourth = login_as(&s, "203.0.113.5", "u9@acme.test", "wrong").await;
        let other_user = login_as(&s, "198.51.100.7", "u9@acme.test", "wrong").await;
        if trusted {
            assert_eq!(
                fourth,
                StatusCode::TOO_MANY_REQUESTS,
                "the forwarded address is over its limit"
            );
            assert_eq!(
                other_user,
                StatusCode::UNAUTHORIZED,
                "another end user is not throttled"
            );
        } else {
            // Without a trusted proxy the header is ignored: the peer's generous limit applies.
            assert_eq!(fourth, StatusCode::UNAUTHORIZED);
            assert_eq!(other_user, StatusCode::UNAUTHORIZED);
        }
        s.stop().await;
        db.dispose().await;
    }
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    on_each_engine_app_with(AppBuilder::manual_clock, |s| async move {
        use reqwest::Method as M;
        s.create_org("Acme", "acme").await;
        s.call(
            M::POST,
            "/v1/b2b/organizations/acme/members",
            Some(json!({"email_address": "a@acme.test"})),
        )
        .await;
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/otps/email/login_or_signup",
                Some(json!({"organization_id": "acme", "email_address": "a@acme.test"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (_, outbox) = s.call(M::GET, "/latch/v1/outbox?recipient=a@acme.test", None).await;
        let code = outbox["messages"][0]["code"].as_str().unwrap().to_string();
        let store = &s.state.ctx.store;
        let org = store.find_org(&PROJECT.into(), "acme").await.unwrap().unwrap();
        let otp = store
            .otp_for(&PROJECT.into(), &org.organization_id, "email", "a@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(otp.code_hash, code, "the code itself is never stored");
        // An email code lives 10 minutes by default: move past them.
        s.clock().advance_minutes(11);
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/otps/email/authenticate",
                Some(json!({"organization_id": "acme", "email_address": "a@acme.test", "code": code})),
            )
            .await;
        assert_error(st, &b, 404, "otp_code_not_found");
        s
    })
    .await;
}

#[tokio::test]
async fn custom_templates_by_id() {
    let dir = std::env::temp_dir().join(format!("latch-templates-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join(PROJECT)).unwrap();
    std::fs::write(
        dir.join(PROJECT).join("brand-reset.toml"),
        "kind = \"password_reset\"\nsubject = \"{org}: new password\"\ntext = \"Go to {url} ({minutes} min)\"\n\
         [locales.es]\nsubject = \"{org}: nueva contraseña\"\ntext = \"Ve a {url}\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("brand-login.toml"),
        "kind = \"login_otp\"\nsubject = \"Sign in to {org}\"\ntext = \"Code: {code}\"\n",
    )
    .unwrap();
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| c.templates_dir = Some(dir.clone())).await;
    use reqwest::Method as M;
    s.create_org("Acme", "acme").await;
    s.call(
        M::POST,
        "/v1/b2b/organizations/acme/members",
        Some(json!({"email_address": "a@acme.test"})),
    )
    .await;
    let start = |template: &str, locale: &str| {
        json!({"organization_id": "acme", "email_address": "a@acme.test", "reset_password_redirect_url": "https://app.test/r",
               "reset_password_template_id": template, "locale": locale})
    };
    let (st, b) = s
        .call(
            M::POST,
            "/v1/b2b/passwords/email/reset/start",
            Some(start("brand-reset", "es")),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, outbox) = s.call(M::GET, "/latch/v1/outbox?recipient=a@acme.test", None).await;
    let m = &outbox["messages"][0];
    assert_eq!(m["subject"], "Acme: nueva contraseña");
    assert!(m["text"]
        .as_str()
        .unwrap()
        .starts_with("Ve a https://app.test/r?stytch_token_type=multi_tenant_passwords&token="));
    for bad in ["nope", "brand-login"] {
        let (st, b) = s
            .call(M::POST, "/v1/b2b/passwords/email/reset/start", Some(start(bad, "en")))
            .await;
        assert_error(st, &b, 400, "invalid_template_id");
    }
    let (_, after) = s.call(M::GET, "/latch/v1/outbox?recipient=a@acme.test", None).await;
    assert_eq!(
        after["messages"].as_array().unwrap().len(),
        1,
        "a refused request sends nothing"
    );
    let (st, b) = s
        .call(
            M::POST,
            "/v1/b2b/otps/email/login_or_signup",
            Some(
                json!({"organization_id": "acme", "email_address": "a@acme.test", "login_template_id": "brand-login"}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, outbox) = s.call(M::GET, "/latch/v1/outbox?recipient=a@acme.test", None).await;
    let m = &outbox["messages"][0];
    assert_eq!(m["subject"], "Sign in to Acme");
    assert_eq!(m["text"], format!("Code: {}", m["code"].as_str().unwrap()));
    s.stop().await;
    db.dispose().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn sends_are_limited_per_forwarded_client_address() {
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.forwarded_client_max_sends = 2;
    })
    .await;
    s.create_org("Acme", "acme").await;
    for i in 0..3 {
        s.call(
            reqwest::Method::POST,
            "/v1/b2b/organizations/acme/members",
            Some(json!({"email_address": format!("u{i}@acme.test")})),
        )
        .await;
    }
    let send = |who: &'static str, email: String| {
        s.http
            .post(s.url("/v1/b2b/otps/email/login_or_signup"))
            .basic_auth(PROJECT, Some(SECRET))
            .header("x-forwarded-for", who)
            .json(&json!({"organization_id": "acme", "email_address": email}))
            .send()
    };
    // Different recipients, one end user: the address limit, not the recipient limit, applies.
    assert_eq!(
        send("203.0.113.9", "u0@acme.test".into()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        send("203.0.113.9", "u1@acme.test".into()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        send("203.0.113.9", "u2@acme.test".into()).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send("198.51.100.1", "u2@acme.test".into()).await.unwrap().status(),
        StatusCode::OK
    );
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn restricted_mfa_methods_refuse_the_others() {
    on_each_engine(|s| async move {
        use reqwest::Method as M;
        for (slug, allowed) in [("sms-only", "sms_otp"), ("totp-only", "totp")] {
            s.call(
                M::POST,
                "/v1/b2b/organizations",
                Some(json!({"organization_name": slug, "organization_slug": slug, "mfa_methods": "RESTRICTED", "allowed_mfa_methods": [allowed]})),
            )
            .await;
            s.call(M::POST, &format!("/v1/b2b/organizations/{slug}/members"), Some(json!({"email_address": "a@acme.test"}))).await;
        }
        let (_, m) = s.call(M::GET, "/v1/b2b/organizations/sms-only/member?email_address=a@acme.test", None).await;
        let (st, b) = s
            .call(M::POST, "/v1/b2b/totp", Some(json!({"organization_id": "sms-only", "member_id": m["member_id"]})))
            .await;
        assert_error(st, &b, 400, "operation_restricted_by_organization_mfa_methods");
        let (_, m) = s.call(M::GET, "/v1/b2b/organizations/totp-only/member?email_address=a@acme.test", None).await;
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/otps/sms/send",
                Some(json!({"organization_id": "totp-only", "member_id": m["member_id"], "mfa_phone_number": "+12025550142"})),
            )
            .await;
        assert_error(st, &b, 400, "operation_restricted_by_organization_mfa_methods");
        let (_, after) = s.call(M::GET, "/v1/b2b/organizations/totp-only/member?email_address=a@acme.test", None).await;
        assert_eq!(after["member"]["mfa_phone_number"], "", "nothing linked");
        s
    })
    .await;
}

#[tokio::test]
async fn session_checks_store_the_access_time_at_most_once_a_minute() {
    use latch_core::clock::Timestamp;
    use latch_core::crypto::sha256_hex;
    use latch_core::engine::session::TOUCH_INTERVAL_SECS;
    on_each_engine(|s| async move {
        use reqwest::Method as M;
        let (token, _) = member_with_session(&s, "t@acme.test").await;
        let store = &s.state.ctx.store;
        let stored = || async {
            store
                .session_by_token_hash(&PROJECT.into(), &sha256_hex(&token))
                .await
                .unwrap()
                .unwrap()
        };
        // Backdates the stored access time by `secs`.
        let backdate = |secs: i64| async move {
            let mut rec = stored().await;
            rec.last_accessed_at = Timestamp(Timestamp::now().millis() - secs * 1000);
            store.update_session(&rec).await.unwrap();
            rec.last_accessed_at
        };
        let check = || async {
            let (st, b) = s
                .call(
                    M::POST,
                    "/v1/b2b/sessions/authenticate",
                    Some(json!({"session_token": token})),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{b}");
            Timestamp::parse(b["member_session"]["last_accessed_at"].as_str().unwrap()).unwrap()
        };

        // Within the interval: the answer shows now, the store keeps the earlier time.
        let earlier = backdate(TOUCH_INTERVAL_SECS / 2).await;
        let shown = check().await;
        assert!(shown.unix_seconds() >= Timestamp::now().unix_seconds() - 1, "{shown:?}");
        assert_eq!(stored().await.last_accessed_at, earlier);

        // Past it: the check stores the time it shows.
        backdate(TOUCH_INTERVAL_SECS + 1).await;
        let shown = check().await;
        assert_eq!(stored().await.last_accessed_at.unix_seconds(), shown.unix_seconds());
        s
    })
    .await;
}

fn md5_hex(s: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates org "acme" and a member with a password; a fresh session token and the member id.
async fn member_with_session(s: &TestApp, email: &str) -> (String, String) {
    use reqwest::Method as M;
    let password = "Cache-me-if-you-can-0123";
    s.create_org("Acme", "acme").await;
    let (st, b) = s
        .call(
            M::POST,
            "/v1/b2b/passwords/migrate",
            Some(json!({"organization_id": "acme", "email_address": email,
                        "hash_type": "md_5", "hash": md5_hex(password)})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = s
        .call(
            M::POST,
            "/v1/b2b/passwords/authenticate",
            Some(json!({"organization_id": "acme", "email_address": email, "password": password})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    (
        b["session_token"].as_str().unwrap().to_string(),
        b["member_id"].as_str().unwrap().to_string(),
    )
}

async fn check_session(s: &TestApp, token: &str) -> (StatusCode, Value) {
    s.call(
        reqwest::Method::POST,
        "/v1/b2b/sessions/authenticate",
        Some(json!({"session_token": token})),
    )
    .await
}

#[tokio::test]
async fn cached_session_checks_see_this_nodes_changes_at_once() {
    on_each_engine(|s| async move {
        use reqwest::Method as M;
        let (token, member_id) = member_with_session(&s, "c@acme.test").await;
        let (st, b) = check_session(&s, &token).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let jwt = b["session_jwt"].as_str().unwrap().to_string();
        let org_id = b["organization"]["organization_id"].as_str().unwrap().to_string();
        let session_id = b["member_session"]["member_session_id"].as_str().unwrap().to_string();
        // A member change shows in the very next check, by token and by JWT.
        let (st, b) = s
            .call(
                M::PUT,
                &format!("/v1/b2b/organizations/{org_id}/members/{member_id}"),
                Some(json!({"name": "Renamed"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (_, b) = check_session(&s, &token).await;
        assert_eq!(b["member"]["name"], "Renamed", "{b}");
        let (_, b) = s
            .call(
                M::POST,
                "/v1/b2b/sessions/authenticate",
                Some(json!({"session_jwt": jwt})),
            )
            .await;
        assert_eq!(b["member"]["name"], "Renamed", "{b}");
        // A revoked session is refused at once.
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/sessions/revoke",
                Some(json!({"member_session_id": session_id})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (st, b) = check_session(&s, &token).await;
        assert_error(st, &b, 404, "session_not_found");
        let (st, b) = s
            .call(
                M::POST,
                "/v1/b2b/sessions/authenticate",
                Some(json!({"session_jwt": jwt})),
            )
            .await;
        assert_eq!(st.as_u16(), 404, "{b}");
        s
    })
    .await;
}

// Connection limits (finding 12 of the security review: slowloris).

/// How long the server took to close `conn` (reads, and discards, whatever it sends first).
async fn closed_within(conn: &mut tokio::net::TcpStream, limit: std::time::Duration) -> std::time::Duration {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), conn.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("connection still open after {limit:?}"),
        }
    }
}

async fn connect(s: &TestApp) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 30;
    })
    .await;
    // Part of a request line and one header, then nothing.
    let mut partial = connect(&s).await;
    partial
        .write_all(b"GET /livez HTTP/1.1\r\nhost: latch\r\n")
        .await
        .unwrap();
    // A header line trickled every 300 ms: each byte moving must not restart the clock.
    let mut trickle = connect(&s).await;
    trickle.write_all(b"GET /livez HTTP/1.1\r\n").await.unwrap();
    let trickling = tokio::spawn(async move {
        let started = std::time::Instant::now();
        for i in 0.. {
            if trickle
                .write_all(format!("x-slow-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        started.elapsed()
    });
    // A connection that sends nothing at all.
    let mut silent = connect(&s).await;
    let limit = std::time::Duration::from_secs(5);
    let took = closed_within(&mut partial, limit).await;
    assert!(
        took >= std::time::Duration::from_millis(900),
        "closed too early: {took:?}"
    );
    closed_within(&mut silent, limit).await;
    let trickled = tokio::time::timeout(std::time::Duration::from_secs(10), trickling)
        .await
        .expect("a trickling connection stays open")
        .unwrap();
    assert!(trickled < limit, "trickled for {trickled:?}");
    // Complete requests are still served.
    let (status, _) = s.call(reqwest::Method::GET, "/livez", None).await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| {
        c.header_read_timeout_secs = 30;
        c.idle_timeout_secs = 1;
    })
    .await;
    let mut conn = connect(&s).await;
    conn.write_all(b"GET /livez HTTP/1.1\r\nhost: latch\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut conn).await, (200, false));
    // Kept alive (the answer did not say close), then idle: closed after about a second.
    let took = closed_within(&mut conn, std::time::Duration::from_secs(5)).await;
    assert!(
        took >= std::time::Duration::from_millis(900),
        "closed too early: {took:?}"
    );
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new("sqlite").await;
    let s = spawn_app_with(&db, |c| c.max_connections = 1).await;
    let mut first = connect(&s).await;
    first
        .write_all(b"GET /livez HTTP/1.1\r\nhost: latch\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut first).await, (200, false));
    // The second connection completes in the kernel but is not served while the first is open.
    let mut second = connect(&s).await;
    second
        .write_all(b"GET /livez HTTP/1.1\r\nhost: latch\r\n\r\n")
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(500), read_answer(&mut second))
            .await
            .is_err(),
        "served past the cap"
    );
    drop(first);
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), read_answer(&mut second))
        .await
        .expect("served once a slot is free");
    assert_eq!(answer, (200, false));
    s.stop().await;
    db.dispose().await;
}

// File modes of the embedded database (finding 11 of the security review).

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `latch <args>` run by a shell with umask 022, on the embedded database in `data_dir`.
#[cfg(unix)]
fn latch_with_umask_022(data_dir: &std::path::Path, args: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask 022 && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_latch"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LATCH_DATA_DIR", data_dir)
        .env("LATCH_LISTEN", "127.0.0.1:0")
        .env("LATCH_ARGON2_MEMORY_KIB", "8")
        .env("LATCH_ARGON2_ITERATIONS", "1");
    cmd
}

#[cfg(unix)]
#[test]
fn the_embedded_database_is_readable_by_its_owner_only() {
    let root = std::env::temp_dir().join(format!("latch-modes-{}", uuid::Uuid::new_v4()));
    // A CLI command on a fresh install: the directory (and its missing parents) 0700, the file 0600.
    let cli_dir = root.join("cli/latch-data");
    let out = latch_with_umask_022(&cli_dir, "project create --name modes")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode_of(&cli_dir), 0o700);
    assert_eq!(mode_of(&root.join("cli")), 0o700);
    assert_eq!(mode_of(&cli_dir.join("latch.db")), 0o600);

    // The server, with its WAL files open.
    let serve_dir = root.join("serve");
    let mut server = latch_with_umask_022(&serve_dir, "serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let names = ["latch.db", "latch.db-wal", "latch.db-shm"];
    while !names.iter().all(|n| serve_dir.join(n).exists()) {
        assert!(std::time::Instant::now() < deadline, "no WAL files after 30 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let modes: Vec<u32> = names.iter().map(|n| mode_of(&serve_dir.join(n))).collect();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(mode_of(&serve_dir), 0o700);
    assert_eq!(modes, [0o600; 3], "{names:?}");

    // An existing deployment's files are tightened; its open directory is reported.
    let old_dir = root.join("old");
    std::fs::create_dir_all(&old_dir).unwrap();
    std::fs::copy(cli_dir.join("latch.db"), old_dir.join("latch.db")).unwrap();
    // The database's secrets are sealed with the key beside it: it moves with the database.
    std::fs::copy(cli_dir.join("kek"), old_dir.join("kek")).unwrap();
    for (path, mode) in [(old_dir.clone(), 0o755), (old_dir.join("latch.db"), 0o644)] {
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let out = latch_with_umask_022(&old_dir, "project create --name again")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(mode_of(&old_dir.join("latch.db")), 0o600);
    assert!(stderr.contains("data directory is open to other users"), "{stderr}");
    assert!(stderr.contains("database file was open to other users"), "{stderr}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn housekeeping_purges_outbox_messages_past_their_retention() {
    use latch_core::clock::Timestamp;
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = spawn_app_with(&db, |c| {
            c.housekeeping_interval_secs = 1;
            c.outbox_retention_minutes = 1;
        })
        .await;
        let store = &s.state.ctx.store;
        let message = |id: &str, created_at| latch_testkit::fixtures::message(PROJECT, id, created_at);
        let now = Timestamp::now();
        store
            .insert_message(&message("m-old", Timestamp(now.millis() - 61_000)))
            .await
            .unwrap();
        store.insert_message(&message("m-recent", now)).await.unwrap();
        let ids = || async {
            store
                .list_messages(&PROJECT.into(), None, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.message_id)
                .collect::<Vec<_>>()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while ids().await.len() > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "[{engine}] not purged within 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(ids().await, ["m-recent"], "[{engine}]");
        s.stop().await;
        db.dispose().await;
    }
}

/// Rotating the key-encryption key with the CLI: a key that cannot open the database is refused
/// at once; `keys rewrap` with the new key current and the old one previous reseals everything;
/// afterwards the new key alone opens the database and the old one no longer does.
#[cfg(unix)]
#[test]
fn the_key_encryption_key_rotates_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("latch-kek-cli-{}", uuid::Uuid::new_v4()));
    let run = |args: &str, kek: &str, previous: Option<&str>| {
        let mut cmd = latch_with_umask_022(&dir, args);
        cmd.env("LATCH_KEK", kek);
        if let Some(p) = previous {
            cmd.env("LATCH_PREVIOUS_KEKS", p);
        }
        let out = cmd.output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let new_kek = || {
        let out = latch_with_umask_022(&dir, "keys new-kek").output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (old, new) = (new_kek(), new_kek());
    assert_ne!(old, new);

    let (ok, out, err) = run("project create --name kek", &old, None);
    assert!(ok, "{err}");
    let project: serde_json::Value = serde_json::from_str(&out).unwrap();
    let project_id = project["project_id"].as_str().unwrap().to_string();
    // A signing key: a private key sealed under the old KEK.
    let (ok, _, err) = run(
        &format!("keys rotate --project-id {project_id} --prepublish-secs 0"),
        &old,
        None,
    );
    assert!(ok, "{err}");

    let show = format!("project show {project_id}");
    let (ok, _, err) = run(&show, &new, None);
    assert!(!ok && err.contains("which this server was not given"), "{err}");

    let (ok, out, err) = run("keys rewrap", &new, Some(&old));
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(report["rewrapped"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["retired_keks"].as_array().unwrap().len(), 1, "{report}");

    let (ok, _, err) = run(&show, &new, None);
    assert!(ok, "{err}");
    // The new key alone opens the rewrapped signing keys: a rotation reads and retires them.
    let (ok, _, err) = run(
        &format!("keys rotate --project-id {project_id} --prepublish-secs 0"),
        &new,
        None,
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(&show, &old, None);
    assert!(!ok, "the retired key no longer opens the database: {err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
