//! Outbound messages (emails and SMS) and the seam they leave through. Services build a
//! `Message`; a `Delivery` sends it. With nothing configured the development outbox keeps each
//! message in the database, readable at `GET /latch/v1/outbox`, so a developer can log in
//! without a mail server.

use crate::clock::Timestamp;
use crate::error::CoreResult;
use crate::ids;
use crate::ids::ProjectId;
pub use crate::model::outbox::{Channel, StoredMessage};
use crate::store::Store;
use std::sync::Arc;

/// A rendered message plus the one-time values it carries (for the outbox and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub project_id: ProjectId,
    pub channel: Channel,
    pub recipient: String,
    /// What the message is for, e.g. `login_otp`, `password_reset`.
    pub kind: String,
    pub locale: String,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub code: Option<String>,
    pub token: Option<String>,
    pub url: Option<String>,
}

#[async_trait::async_trait]
pub trait Delivery: Send + Sync + 'static {
    /// Sends or fails; on failure the caller must not leave the message's secret live.
    async fn send(&self, message: Message) -> CoreResult<()>;
}

/// The development sink: messages go to the database instead of the world.
pub struct Outbox {
    store: Arc<dyn Store>,
}

impl Outbox {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Delivery for Outbox {
    #[allow(clippy::disallowed_methods)] // the outbox stamps a message when it stores it
    async fn send(&self, m: Message) -> CoreResult<()> {
        // Only kind and recipient are logged: the body carries a one-time secret.
        tracing::info!(kind = %m.kind, recipient = %m.recipient, channel = m.channel.as_str(), "message stored in outbox");
        let stored = StoredMessage {
            message_id: ids::message_id(),
            project_id: m.project_id,
            channel: m.channel,
            recipient: m.recipient,
            kind: m.kind,
            locale: m.locale,
            subject: m.subject,
            text: m.text,
            html: m.html,
            code: m.code,
            token: m.token,
            url: m.url,
            created_at: Timestamp::now(),
        };
        self.store.insert_message(&stored).await?;
        Ok(())
    }
}
pub mod custom;
pub mod templates;
