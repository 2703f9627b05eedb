//! The outer ring: adapters that talk to the world on core's behalf. Email over SMTP, SMS
//! through Twilio or a signed webhook, and Have I Been Pwned's range API. Core defines the seams
//! (`Delivery`, `BreachCheck`); these implement them, so core compiles no TLS stack or HTTP
//! client. A delivery failure is logged (kind and recipient only) and reported as
//! `*_delivery_failed`.

pub mod audit;
pub mod hibp;
pub mod oidc;
pub mod saml;
pub mod smtp;
pub mod twilio;
pub mod webhook;

use latch_core::delivery::{Channel, Delivery, Message};
use latch_core::error::{CoreError, CoreResult};
use std::sync::Arc;

/// Logs a failed send without its body (which carries a one-time secret) and turns it into the
/// 503 the API answers.
pub(crate) fn failed(channel: Channel, m: &Message, detail: impl std::fmt::Display) -> CoreError {
    tracing::error!(kind = %m.kind, recipient = %m.recipient, error = %detail, "delivery failed");
    metrics::counter!("latch_delivery_failures_total", "channel" => channel.as_str()).increment(1);
    if channel == Channel::Email {
        latch_core::error::catalogue::EMAIL_DELIVERY_FAILED.err()
    } else {
        latch_core::error::catalogue::SMS_DELIVERY_FAILED.err()
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

/// The client for an identity provider's own endpoints (OIDC discovery and tokens, SAML
/// metadata): they answer directly, so redirects are not followed (a configured URL must not
/// lead the server anywhere else).
pub(crate) fn idp_http_client(timeout: std::time::Duration) -> CoreResult<reqwest::Client> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(CoreError::internal)
}

/// reqwest and lettre are built without a bundled TLS provider: use aws-lc-rs, the crypto
/// already in the tree (an "already installed" answer is fine).
pub(crate) fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
