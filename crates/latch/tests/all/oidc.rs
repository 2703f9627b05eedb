//! The OIDC relying party (`adapters::oidc`) against a scripted issuer that can mint every kind of
//! bad ID token a real provider never would: another issuer or audience, expired, issued in the
//! future, a wrong nonce, `alg: none`, HS256 keyed with the public key, a tampered payload, an
//! unknown `kid`, a foreign `azp`. Good tokens (RS256, ES256, and after a key rotation) pass. The
//! end-to-end flow against a real provider is the SDK suite's (tests/sdk/python/test_sso_oidc.py).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latch::adapters::oidc::OidcAdapter;
use latch_core::clock::Timestamp;
use latch_core::model::sso::OidcConnectionRecord;
use latch_core::oidc::{OidcCallback, OidcClient};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENT_ID: &str = "latch-client";
const NONCE: &str = "nonce-of-this-login";

struct Keys {
    rsa: RsaKeyPair,
    rsa_kid: String,
    ec: EcdsaKeyPair,
}

#[derive(Default)]
struct Issuer {
    url: String,
    /// What the token endpoint answers with next.
    id_token: String,
    /// The JWKS it publishes.
    jwks: Value,
}

type Shared = Arc<Mutex<Issuer>>;

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let url = s.lock().unwrap().url.clone();
    Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/auth"),
        "token_endpoint": format!("{url}/token"),
        "userinfo_endpoint": format!("{url}/userinfo"),
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    Json(s.lock().unwrap().jwks.clone())
}

async fn token(State(s): State<Shared>) -> Json<Value> {
    let mut answer = json!({"access_token": "access-token", "token_type": "Bearer", "expires_in": 300});
    let id_token = s.lock().unwrap().id_token.clone();
    // A refresh answers without one until the test scripts one.
    if !id_token.is_empty() {
        answer["id_token"] = json!(id_token);
    }
    Json(answer)
}

async fn userinfo() -> Json<Value> {
    Json(json!({"sub": "alice", "email": "alice@acme.test", "email_verified": true, "department": "eng"}))
}

async fn issuer() -> Shared {
    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    shared
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

fn rsa_jwk(k: &RsaKeyPair, kid: &str) -> Value {
    let p = k.public_key();
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
           "n": b64(p.modulus().big_endian_without_leading_zero()),
           "e": b64(p.exponent().big_endian_without_leading_zero())})
}

fn ec_jwk(k: &EcdsaKeyPair, kid: &str) -> Value {
    let point = k.public_key().as_ref(); // 0x04 || x || y
    json!({"kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid,
           "x": b64(&point[1..33]), "y": b64(&point[33..65])})
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(iss: &str) -> Map<String, Value> {
    let t = now();
    let Value::Object(m) = json!({"iss": iss, "sub": "alice", "aud": CLIENT_ID, "exp": t + 300, "iat": t,
                                  "nonce": NONCE, "email": "alice@acme.test", "email_verified": true})
    else {
        unreachable!()
    };
    m
}

fn signing_input(header: &Value, claims: &Map<String, Value>) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(claims.clone()).to_string().as_bytes())
    )
}

fn rs256(k: &RsaKeyPair, kid: &str, claims: &Map<String, Value>) -> String {
    let input = signing_input(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}), claims);
    let mut sig = vec![0u8; k.public_modulus_len()];
    k.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

fn es256(k: &EcdsaKeyPair, kid: &str, claims: &Map<String, Value>) -> String {
    let input = signing_input(&json!({"alg": "ES256", "kid": kid, "typ": "JWT"}), claims);
    let sig = k.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig.as_ref()))
}

fn connection(issuer: &str) -> OidcConnectionRecord {
    OidcConnectionRecord {
        connection_id: "oidc-connection-test-1".into(),
        project_id: "p".into(),
        organization_id: "o".into(),
        display_name: String::new(),
        identity_provider: "generic".into(),
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: "secret".into(),
        authorization_url: format!("{issuer}/auth"),
        token_url: format!("{issuer}/token"),
        userinfo_url: format!("{issuer}/userinfo"),
        jwks_url: format!("{issuer}/jwks"),
        custom_scopes: String::new(),
        attribute_mapping: Map::new(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

async fn finish(adapter: &OidcAdapter, s: &Shared, id_token: String) -> Result<String, String> {
    finish_as(adapter, s, id_token, |_| {}).await
}

/// `finish` with the connection adjusted (e.g. a tenant issuer).
async fn finish_as(
    adapter: &OidcAdapter,
    s: &Shared,
    id_token: String,
    adjust: impl FnOnce(&mut OidcConnectionRecord),
) -> Result<String, String> {
    let url = {
        let mut i = s.lock().unwrap();
        i.id_token = id_token;
        i.url.clone()
    };
    let mut c = connection(&url);
    adjust(&mut c);
    adapter
        .finish(OidcCallback {
            party: (&c).into(),
            redirect_url: "http://127.0.0.1/v1/b2b/sso/callback/oidc-connection-test-1",
            code: "code",
            pkce_verifier: "verifier-verifier-verifier-verifier-verifier",
            nonce: NONCE,
        })
        .await
        .map(|login| login.identity.subject)
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn only_a_genuine_id_token_for_this_client_and_login_is_accepted() {
    let rng = SystemRandom::new();
    let keys = Keys {
        rsa: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
        rsa_kid: "rsa-1".into(),
        ec: EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap()
                .as_ref(),
        )
        .unwrap(),
    };
    let other_rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let s = issuer().await;
    let iss = s.lock().unwrap().url.clone();
    s.lock().unwrap().jwks = json!({"keys": [rsa_jwk(&keys.rsa, &keys.rsa_kid), ec_jwk(&keys.ec, "ec-1")]});
    let adapter = OidcAdapter::new(Duration::from_secs(5)).unwrap();
    let good = claims(&iss);

    // Accepted: RS256 and ES256 from the published keys; the userinfo subject matches.
    assert_eq!(
        finish(&adapter, &s, rs256(&keys.rsa, &keys.rsa_kid, &good)).await,
        Ok("alice".into())
    );
    assert_eq!(
        finish(&adapter, &s, es256(&keys.ec, "ec-1", &good)).await,
        Ok("alice".into())
    );
    // The provider's clock may be a little ahead.
    let mut ahead = good.clone();
    ahead.insert("iat".into(), json!(now() + 30));
    assert!(finish(&adapter, &s, rs256(&keys.rsa, &keys.rsa_kid, &ahead))
        .await
        .is_ok());

    let mut refused: Vec<(&str, String)> = Vec::new();
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c.insert(k.into(), v);
        c
    };
    refused.push((
        "another issuer",
        rs256(&keys.rsa, &keys.rsa_kid, &with("iss", json!("https://evil.test"))),
    ));
    refused.push((
        "another audience",
        rs256(&keys.rsa, &keys.rsa_kid, &with("aud", json!("other-client"))),
    ));
    refused.push((
        "expired",
        rs256(&keys.rsa, &keys.rsa_kid, &with("exp", json!(now() - 120))),
    ));
    refused.push((
        "issued in the future",
        rs256(&keys.rsa, &keys.rsa_kid, &with("iat", json!(now() + 600))),
    ));
    refused.push((
        "issued long ago",
        rs256(&keys.rsa, &keys.rsa_kid, &with("iat", json!(now() - 3600))),
    ));
    refused.push((
        "another login's nonce",
        rs256(&keys.rsa, &keys.rsa_kid, &with("nonce", json!("other"))),
    ));
    refused.push(("no nonce", {
        let mut c = good.clone();
        c.remove("nonce");
        rs256(&keys.rsa, &keys.rsa_kid, &c)
    }));
    refused.push((
        "a foreign azp",
        rs256(
            &keys.rsa,
            &keys.rsa_kid,
            &with("aud", json!([CLIENT_ID, "other-client"]))
                .into_iter()
                .chain([("azp".to_string(), json!("other-client"))])
                .collect(),
        ),
    ));
    refused.push((
        "several audiences, no azp",
        rs256(
            &keys.rsa,
            &keys.rsa_kid,
            &with("aud", json!([CLIENT_ID, "other-client"])),
        ),
    ));
    refused.push((
        "alg none",
        format!("{}.", signing_input(&json!({"alg": "none", "typ": "JWT"}), &good)),
    ));
    refused.push(("an unknown kid", rs256(&other_rsa, "rsa-unknown", &good)));
    refused.push(("a published kid, another key", rs256(&other_rsa, &keys.rsa_kid, &good)));
    refused.push(("a tampered payload", {
        let t = rs256(&keys.rsa, &keys.rsa_kid, &good);
        let parts: Vec<&str> = t.split('.').collect();
        let forged = b64(Value::Object(with("sub", json!("mallory"))).to_string().as_bytes());
        format!("{}.{forged}.{}", parts[0], parts[2])
    }));
    refused.push(("HS256 keyed with the public modulus", {
        use aws_lc_rs::hmac;
        let input = signing_input(&json!({"alg": "HS256", "kid": keys.rsa_kid, "typ": "JWT"}), &good);
        let secret = keys
            .rsa
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), input.as_bytes());
        format!("{input}.{}", b64(tag.as_ref()))
    }));
    for (what, token) in refused {
        let r = finish(&adapter, &s, token).await;
        assert!(r.is_err(), "{what}: accepted {r:?}");
    }

    // Key rotation: the provider publishes a new key and signs with it; the next login verifies.
    s.lock().unwrap().jwks = json!({"keys": [rsa_jwk(&other_rsa, "rsa-2")]});
    assert_eq!(
        finish(&adapter, &s, rs256(&other_rsa, "rsa-2", &good)).await,
        Ok("alice".into())
    );
    assert!(
        finish(&adapter, &s, rs256(&keys.rsa, &keys.rsa_kid, &good))
            .await
            .is_err(),
        "a key the provider withdrew no longer verifies"
    );
}

#[tokio::test]
async fn discovery_reads_the_providers_endpoints() {
    let s = issuer().await;
    let iss = s.lock().unwrap().url.clone();
    // Discovery reads the key set too.
    s.lock().unwrap().jwks = json!({"keys": []});
    let adapter = OidcAdapter::new(Duration::from_secs(5)).unwrap();
    let found = adapter.discover(&iss).await.unwrap();
    assert_eq!(found.token_url, format!("{iss}/token"));
    assert_eq!(found.jwks_url, format!("{iss}/jwks"));
    assert_eq!(found.userinfo_url, format!("{iss}/userinfo"));
    assert!(adapter.discover(&format!("{iss}/nothing")).await.is_err());
}

/// Microsoft's multi-tenant issuer (`…/{tenantid}/v2.0`): a token is accepted only when its
/// issuer names its own tenant (`tid`), never another tenant's or a made-up one.
#[tokio::test]
async fn a_tenant_issuer_accepts_only_the_tokens_own_tenant() {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let s = issuer().await;
    let url = s.lock().unwrap().url.clone();
    s.lock().unwrap().jwks = json!({"keys": [rsa_jwk(&key, "k")]});
    let adapter = OidcAdapter::new(Duration::from_secs(5)).unwrap();
    let template = format!("{url}/{{tenantid}}/v2.0");
    let token = |iss: String, tid: Option<&str>| {
        let mut c = claims(&iss);
        if let Some(t) = tid {
            c.insert("tid".into(), json!(t));
        }
        rs256(&key, "k", &c)
    };
    let with_template = |c: &mut OidcConnectionRecord| c.issuer = template.clone();
    let own = token(format!("{url}/tenant-a/v2.0"), Some("tenant-a"));
    assert_eq!(finish_as(&adapter, &s, own, with_template).await, Ok("alice".into()));
    for (what, t) in [
        (
            "another tenant's issuer",
            token(format!("{url}/tenant-b/v2.0"), Some("tenant-a")),
        ),
        ("no tid", token(format!("{url}/tenant-a/v2.0"), None)),
        ("a tid that is a path", token(format!("{url}/a/b/v2.0"), Some("a/b"))),
        ("the template itself", token(template.clone(), Some("{tenantid}"))),
        (
            "another issuer",
            token("https://evil.test/tenant-a/v2.0".into(), Some("tenant-a")),
        ),
    ] {
        let r = finish_as(&adapter, &s, t, with_template).await;
        assert!(r.is_err(), "{what}: accepted {r:?}");
    }
}

#[tokio::test]
async fn a_refresh_returns_the_providers_new_access_token() {
    let s = issuer().await;
    let url = s.lock().unwrap().url.clone();
    let adapter = OidcAdapter::new(Duration::from_secs(5)).unwrap();
    let c = connection(&url);
    let fresh = adapter.refresh((&c).into(), "refresh-token").await.unwrap();
    assert_eq!(fresh.tokens.access_token, "access-token");
    assert_eq!(fresh.expires_in_secs, Some(300));
}
