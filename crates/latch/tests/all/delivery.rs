//! Real delivery against local peers: an SMTP server (speaking enough SMTP for lettre), a server
//! speaking Twilio's Messages API, and a webhook receiver that checks the signature.

use axum::extract::{Path, State};
use latch_testkit::{spawn_app_with, TestApp, TestDb, PROJECT};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

type Captured = Arc<Mutex<Vec<String>>>;

/// A minimal SMTP server: accepts every message and keeps its DATA.
async fn smtp_sink() -> (u16, Captured) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Captured = Arc::default();
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        w.write_all(b"250 sink\r\n").await.unwrap();
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        keep.lock().unwrap().push(data);
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if cmd.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

/// Records POST bodies and headers; answers like Twilio (201 + JSON).
async fn http_capture() -> (String, Captured) {
    async fn twilio(
        State(c): State<Captured>,
        Path(sid): Path<String>,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> (StatusCode, String) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        c.lock()
            .unwrap()
            .push(json!({"sid": sid, "auth": auth, "body": body}).to_string());
        (StatusCode::CREATED, "{\"sid\":\"SM123\",\"status\":\"queued\"}".into())
    }
    async fn hook(State(c): State<Captured>, headers: axum::http::HeaderMap, body: String) -> StatusCode {
        let sig = headers
            .get("x-latch-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        c.lock()
            .unwrap()
            .push(json!({"signature": sig, "body": body}).to_string());
        StatusCode::OK
    }
    let got: Captured = Arc::default();
    let app = axum::Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(twilio))
        .route("/hook", axum::routing::post(hook))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), got)
}

/// The test app, with deliveries that give up after 2 s.
async fn spawn(db: &TestDb, adjust: impl FnOnce(&mut latch::config::Config)) -> TestApp {
    spawn_app_with(db, |c| {
        c.delivery_timeout_secs = 2;
        adjust(c)
    })
    .await
}

/// Decodes quoted-printable bodies (soft breaks and =XX escapes).
fn quoted_printable(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn org_and_member(s: &TestApp, phone: Option<&str>) -> String {
    s.post(
        "/v1/b2b/organizations",
        json!({"organization_name": "Acme & Co", "organization_slug": "acme"}),
    )
    .await;
    let mut member = json!({"email_address": "a@acme.test"});
    if let Some(p) = phone {
        member["mfa_phone_number"] = json!(p);
    }
    let (_, b) = s.post("/v1/b2b/organizations/acme/members", member).await;
    b["member_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn email_goes_out_over_smtp_with_both_parts_in_the_requested_language() {
    let (port, mail) = smtp_sink().await;
    let db = TestDb::new("sqlite").await;
    let s = spawn(&db, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = "none".into();
        c.email_from = "Acme Login <login@acme.test>".into();
    })
    .await;
    org_and_member(&s, None).await;
    let (st, b) = s
        .post(
            "/v1/b2b/otps/email/login_or_signup",
            json!({"organization_id": "acme", "email_address": "a@acme.test", "locale": "fr"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let data = mail.lock().unwrap().last().cloned().expect("one message over SMTP");
    assert!(data.contains("From: \"Acme Login\" <login@acme.test>"), "{data}");
    assert!(data.contains("To: a@acme.test"), "{data}");
    assert!(data.contains("Subject: "), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"), "{data}");
    let decoded = quoted_printable(&data);
    assert!(
        decoded.contains("Votre code de connexion à Acme & Co est"),
        "French text part: {decoded}"
    );
    assert!(decoded.contains("expire dans 10 minutes"), "French copy: {decoded}");
    assert!(
        decoded.contains("<p>Votre code de connexion à Acme &amp; Co est"),
        "the HTML part escapes values: {decoded}"
    );
    assert!(
        s.outbox("a@acme.test").await.is_empty(),
        "with SMTP configured nothing goes to the outbox"
    );
    // The code in the email authenticates.
    let code = decoded
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_digit()))
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .expect("a code")
        .to_string();
    let (st, b) = s
        .post(
            "/v1/b2b/otps/email/authenticate",
            json!({"organization_id": "acme", "email_address": "a@acme.test", "code": code}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn an_invite_goes_out_over_smtp_and_its_link_signs_the_member_in() {
    let (port, mail) = smtp_sink().await;
    let db = TestDb::new("sqlite").await;
    let s = spawn(&db, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = "none".into();
        c.bootstrap_redirect_urls = vec!["https://app.acme.test/invite".into()];
    })
    .await;
    org_and_member(&s, None).await;
    let (st, b) = s
        .post(
            "/v1/b2b/magic_links/email/invite",
            json!({"organization_id": "acme", "email_address": "new@acme.test", "locale": "es",
                   "invite_redirect_url": "https://app.acme.test/invite", "name": "Nueva"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["member"]["status"], "invited");
    let data = mail.lock().unwrap().last().cloned().expect("one message over SMTP");
    assert!(data.contains("To: new@acme.test"), "{data}");
    let decoded = quoted_printable(&data);
    assert!(
        decoded.contains("Te invitaron a unirte a Acme & Co"),
        "Spanish copy: {decoded}"
    );
    let prefix = "https://app.acme.test/invite?stytch_token_type=multi_tenant_magic_links&token=";
    let at = decoded.find(prefix).expect("the link in the text part") + prefix.len();
    let token: String = decoded[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "a 256-bit token: {token}");
    assert!(s.outbox("new@acme.test").await.is_empty());
    let (st, b) = s
        .post("/v1/b2b/magic_links/authenticate", json!({"magic_links_token": token}))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["member"]["status"], "active");
    assert_eq!(b["member"]["email_address_verified"], true);
    assert!(b["session_token"].as_str().is_some_and(|t| !t.is_empty()));
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn a_failed_delivery_is_reported_and_leaves_no_live_code() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = TestDb::new("sqlite").await;
    let s = spawn(&db, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = closed;
        c.smtp_tls = "none".into();
    })
    .await;
    org_and_member(&s, None).await;
    let (st, b) = s
        .post(
            "/v1/b2b/otps/email/login_or_signup",
            json!({"organization_id": "acme", "email_address": "a@acme.test"}),
        )
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error_type"], "email_delivery_failed");
    let org = s
        .state
        .ctx
        .store
        .find_org(&PROJECT.into(), "acme")
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .state
        .ctx
        .store
        .otp_for(&PROJECT.into(), &org.organization_id, "email", "a@acme.test")
        .await
        .unwrap()
        .is_none());
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn sms_goes_to_a_twilio_compatible_api() {
    let (url, got) = http_capture().await;
    let db = TestDb::new("sqlite").await;
    let s = spawn(&db, |c| {
        c.sms_provider = "twilio".into();
        c.twilio_base_url = url.clone();
        c.twilio_account_sid = Some("AC123".into());
        c.twilio_auth_token = Some("tok".into());
        c.twilio_from = Some("+15005550006".into());
    })
    .await;
    let member = org_and_member(&s, Some("+12025550188")).await;
    let (st, b) = s
        .post(
            "/v1/b2b/otps/sms/send",
            json!({"organization_id": "acme", "member_id": member, "locale": "es"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let rec: Value = serde_json::from_str(got.lock().unwrap().last().unwrap()).unwrap();
    assert_eq!(rec["sid"], "AC123");
    assert_eq!(
        rec["auth"],
        format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "AC123:tok")
        )
    );
    let form: std::collections::HashMap<String, String> = serde_urlencoded_parse(rec["body"].as_str().unwrap());
    assert_eq!(form["To"], "+12025550188");
    assert_eq!(form["From"], "+15005550006");
    assert!(
        form["Body"].contains("es tu código de verificación de Acme & Co"),
        "{}",
        form["Body"]
    );
    s.stop().await;
    db.dispose().await;
}

fn serde_urlencoded_parse(body: &str) -> std::collections::HashMap<String, String> {
    url_decode_pairs(body)
}

fn url_decode_pairs(body: &str) -> std::collections::HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                let bytes = s.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[tokio::test]
async fn sms_goes_to_a_signed_webhook() {
    let (url, got) = http_capture().await;
    let db = TestDb::new("sqlite").await;
    let s = spawn(&db, |c| {
        c.sms_provider = "webhook".into();
        c.sms_webhook_url = Some(format!("{url}/hook"));
        c.sms_webhook_secret = Some("whsec-test".into());
    })
    .await;
    let member = org_and_member(&s, Some("+12025550189")).await;
    let (st, b) = s
        .post(
            "/v1/b2b/otps/sms/send",
            json!({"organization_id": "acme", "member_id": member}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let rec: Value = serde_json::from_str(got.lock().unwrap().last().unwrap()).unwrap();
    let body = rec["body"].as_str().unwrap();
    let sig = rec["signature"].as_str().unwrap();
    let (t, v1) = sig.split_once(",v1=").unwrap();
    let t: i64 = t.trim_start_matches("t=").parse().unwrap();
    assert_eq!(
        v1,
        latch::adapters::webhook::webhook_signature("whsec-test", t, body),
        "signature verifies"
    );
    assert_ne!(v1, latch::adapters::webhook::webhook_signature("other-secret", t, body));
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["channel"], "sms");
    assert_eq!(payload["recipient"], "+12025550189");
    assert_eq!(payload["kind"], "sms_otp");
    s.stop().await;
    db.dispose().await;
}

#[tokio::test]
async fn sms_countries_follow_the_allow_list() {
    for (allowed, ok) in [(vec!["US", "CA"], false), (vec!["US", "GB"], true)] {
        let db = TestDb::new("sqlite").await;
        let s = spawn(&db, |c| {
            c.sms_allowed_countries = allowed.iter().map(|s| s.to_string()).collect()
        })
        .await;
        let member = org_and_member(&s, None).await;
        let (st, b) = s
            .post(
                "/v1/b2b/otps/sms/send",
                json!({"organization_id": "acme", "member_id": member, "mfa_phone_number": "+442071838750"}),
            )
            .await;
        if ok {
            assert_eq!(st, StatusCode::OK, "{b}");
        } else {
            assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
            assert_eq!(b["error_type"], "invalid_phone_number_country_code");
            // Nothing written: the number was not linked.
            let (_, m) = s
                .post(
                    "/v1/b2b/organizations/members/search",
                    json!({"organization_ids": ["acme"]}),
                )
                .await;
            assert_eq!(m["members"][0]["mfa_phone_number"], "");
        }
        s.stop().await;
        db.dispose().await;
    }
}
