//! Have I Been Pwned's range API (k-anonymity): only the first five hex characters of the
//! password's SHA-1 leave the server; the answer lists every known suffix with that prefix.
//! When the service cannot be reached the configured choice applies: fail open (treat as not
//! breached, and log it) or fail closed (refuse with `breach_detection_unavailable`).

use latch_core::error::{CoreError, CoreResult};
use latch_core::password::BreachCheck;
use sha1::{Digest, Sha1};
use std::time::Duration;

pub struct RangeApi {
    client: reqwest::Client,
    base_url: String,
    fail_closed: bool,
}

impl RangeApi {
    pub fn new(base_url: &str, timeout: Duration, fail_closed: bool) -> CoreResult<Self> {
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(CoreError::internal)?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            fail_closed,
        })
    }

    async fn lookup(&self, prefix: &str, suffix: &str) -> Result<bool, String> {
        let url = format!("{}/range/{prefix}", self.base_url);
        let resp = self
            .client
            .get(&url)
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        let body = resp.text().await.map_err(|e| e.to_string())?;
        // Padding entries have a count of 0.
        Ok(body
            .lines()
            .filter_map(|l| l.trim().split_once(':'))
            .any(|(s, count)| s.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|c| c > 0)))
    }
}

#[async_trait::async_trait]
impl BreachCheck for RangeApi {
    async fn is_pwned(&self, password: &str) -> CoreResult<bool> {
        let hex: String = Sha1::digest(password.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let (prefix, suffix) = hex.split_at(5);
        match self.lookup(prefix, suffix).await {
            Ok(found) => Ok(found),
            Err(e) if self.fail_closed => {
                tracing::warn!(error = %e, "breach check unavailable; refusing (fail closed)");
                Err(latch_core::error::catalogue::BREACH_DETECTION_UNAVAILABLE.err())
            }
            Err(e) => {
                tracing::warn!(error = %e, "breach check unavailable; allowing (fail open)");
                Ok(false)
            }
        }
    }
}
