//! Real delivery: email over SMTP (lettre; STARTTLS, implicit TLS or plain for local relays),
//! SMS through a Twilio-compatible REST API or a signed webhook, and `Dispatch`, which sends
//! each channel to its configured sender (the development outbox when none is configured).
//! A failure is logged (kind and recipient only) and reported as `*_delivery_failed`.

use crate::clock::Timestamp;
use crate::delivery::{Channel, Delivery, Message};
use crate::error::{CoreError, CoreResult, Fault};
use hmac::{Hmac, Mac};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

fn failed(channel: Channel, m: &Message, detail: impl std::fmt::Display) -> CoreError {
    tracing::error!(kind = %m.kind, recipient = %m.recipient, error = %detail, "delivery failed");
    CoreError::Unavailable(Fault {
        error_type: if channel == Channel::Email {
            "email_delivery_failed"
        } else {
            "sms_delivery_failed"
        },
        message: "The message could not be delivered; try again later.".into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Upgrade a plain connection with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only for a relay on the same host or network.
    None,
}

pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub timeout: Duration,
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    pub fn new(s: SmtpSettings) -> CoreResult<Self> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| CoreError::internal(format!("email_from: {e}")))?;
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .timeout(Some(s.timeout));
        let params = || TlsParameters::new(s.host.clone()).map_err(|e| CoreError::internal(format!("smtp tls: {e}")));
        b = match s.tls {
            SmtpTls::StartTls => b.tls(Tls::Required(params()?)),
            SmtpTls::Implicit => b.tls(Tls::Wrapper(params()?)),
            SmtpTls::None => b.tls(Tls::None),
        };
        if let (Some(u), Some(p)) = (s.username, s.password) {
            b = b.credentials(Credentials::new(u, p));
        }
        Ok(Self {
            transport: b.build(),
            from,
        })
    }
}

#[async_trait::async_trait]
impl Delivery for Smtp {
    async fn send(&self, m: Message) -> CoreResult<()> {
        let to: Mailbox = m.recipient.parse().map_err(|e| failed(Channel::Email, &m, e))?;
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone());
        let body = match &m.html {
            Some(html) => MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone())),
            None => MultiPart::mixed().singlepart(text),
        };
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone().unwrap_or_default())
            .multipart(body)
            .map_err(|e| failed(Channel::Email, &m, e))?;
        self.transport
            .send(email)
            .await
            .map_err(|e| failed(Channel::Email, &m, e))?;
        tracing::info!(kind = %m.kind, recipient = %m.recipient, "email sent");
        Ok(())
    }
}

/// Twilio's Messages API (or anything speaking it): form POST with Basic account:token.
pub struct Twilio {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl Twilio {
    pub fn new(base_url: &str, account_sid: &str, auth_token: &str, from: &str, timeout: Duration) -> CoreResult<Self> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(CoreError::internal)?,
            url: format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                base_url.trim_end_matches('/')
            ),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            from: from.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl Delivery for Twilio {
    async fn send(&self, m: Message) -> CoreResult<()> {
        let form = [
            ("To", m.recipient.as_str()),
            ("From", self.from.as_str()),
            ("Body", m.text.trim()),
        ];
        let resp = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| failed(Channel::Sms, &m, e))?;
        if !resp.status().is_success() {
            return Err(failed(Channel::Sms, &m, format!("provider answered {}", resp.status())));
        }
        tracing::info!(kind = %m.kind, recipient = %m.recipient, "sms sent");
        Ok(())
    }
}

/// A JSON POST to your own endpoint, signed so it can tell the message came from Latch:
/// `X-Latch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: String,
}

pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

impl Webhook {
    pub fn new(url: &str, secret: &str, timeout: Duration) -> CoreResult<Self> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(CoreError::internal)?,
            url: url.to_string(),
            secret: secret.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl Delivery for Webhook {
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
                format!("t={t},v1={}", webhook_signature(&self.secret, t, &body)),
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

/// Sends each channel through its own sender.
pub struct Dispatch {
    pub email: Arc<dyn Delivery>,
    pub sms: Arc<dyn Delivery>,
}

#[async_trait::async_trait]
impl Delivery for Dispatch {
    async fn send(&self, m: Message) -> CoreResult<()> {
        match m.channel {
            Channel::Email => self.email.send(m).await,
            Channel::Sms => self.sms.send(m).await,
        }
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
