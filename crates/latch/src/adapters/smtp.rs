//! Email over SMTP (lettre): STARTTLS, implicit TLS, or plain for a relay on the same host.

use super::{failed, install_tls_provider};
use latch_core::delivery::{Channel, Delivery, Message};
use latch_core::error::{CoreError, CoreResult};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

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
    pub password: Option<SecretString>,
    pub from: String,
    pub timeout: Duration,
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    pub fn new(s: SmtpSettings) -> CoreResult<Self> {
        install_tls_provider();
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
            b = b.credentials(Credentials::new(u, p.expose_secret().to_string()));
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
