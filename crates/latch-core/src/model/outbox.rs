//! Messages kept in the development outbox, as the store holds them: every email and SMS Latch
//! would send while no SMTP server or SMS provider is configured.

use crate::clock::Timestamp;
use crate::ids::ProjectId;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredMessage {
    pub message_id: String,
    #[serde(skip)]
    pub project_id: ProjectId,
    pub channel: Channel,
    pub recipient: String,
    pub kind: String,
    pub locale: String,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub code: Option<String>,
    pub token: Option<String>,
    pub url: Option<String>,
    pub created_at: Timestamp,
}
