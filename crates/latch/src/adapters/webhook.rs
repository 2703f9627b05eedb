//! SMS (or any channel) as a signed JSON POST to the operator's own endpoint.

use super::{failed, install_tls_provider};
use hmac::{Hmac, Mac};
use latch_core::clock::Timestamp;
use latch_core::delivery::{Delivery, Message};
use latch_core::error::{CoreError, CoreResult};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::time::Duration;

/// A JSON POST to your own endpoint, signed so it can tell the message came from Latch:
/// `X-Latch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
}

pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

impl Webhook {
    pub fn new(url: &str, secret: SecretString, timeout: Duration) -> CoreResult<Self> {
        install_tls_provider();
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(CoreError::internal)?,
            url: url.to_string(),
            secret,
        })
    }
}

#[async_trait::async_trait]
impl Delivery for Webhook {
    #[allow(clippy::disallowed_methods)] // the signature's timestamp is the moment of sending
    async fn send(&self, m: Message) -> CoreResult<()> {
        let body = serde_json::json!({
            "channel": m.channel.as_str(),
            "recipient": m.recipient,
            "kind": m.kind,
            "locale": m.locale,
            "text": m.text,
            "project_id": m.project_id,
        })
        .to_string();
        let t = Timestamp::now().unix_seconds();
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(
                "x-latch-signature",
                format!("t={t},v1={}", webhook_signature(self.secret.expose_secret(), t, &body)),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| failed(m.channel, &m, e))?;
        if !resp.status().is_success() {
            return Err(failed(m.channel, &m, format!("webhook answered {}", resp.status())));
        }
        tracing::info!(kind = %m.kind, recipient = %m.recipient, "message posted to webhook");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2 shape: key "Jefe", message "what do ya want for nothing?".
        let sig = super::webhook_signature("Jefe", 0, "what do ya want for nothing?");
        assert_eq!(sig.len(), 64);
        assert_ne!(sig, super::webhook_signature("Jefe", 1, "what do ya want for nothing?"));
    }
}
