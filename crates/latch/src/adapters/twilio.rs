//! SMS through Twilio's Messages API, or anything that speaks it.

use super::{failed, install_tls_provider};
use latch_core::delivery::{Channel, Delivery, Message};
use latch_core::error::{CoreError, CoreResult};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Twilio's Messages API (or anything speaking it): form POST with Basic account:token.
pub struct Twilio {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

impl Twilio {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: SecretString,
        from: &str,
        timeout: Duration,
    ) -> CoreResult<Self> {
        install_tls_provider();
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
            auth_token,
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
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
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
