//! Failed-attempt limits per client address. Latch is called by application backends, so the
//! TCP peer is normally the application server and its limit is a generous flood guard; when a
//! trusted proxy forwards the end user's address, that address gets a real, tighter limit.

use crate::clock::Timestamp;
use crate::error::{CoreError, CoreResult, Fault};
use crate::service::Ctx;
use std::net::IpAddr;

/// The caller's address as the HTTP layer resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp {
    pub ip: IpAddr,
    /// True when the address came from a trusted proxy's `X-Forwarded-For` (an end user).
    pub forwarded: bool,
}

const SCOPE: &str = "address_failures";

fn limit(ctx: &Ctx, c: &ClientIp) -> i64 {
    if c.forwarded {
        ctx.settings.limits.forwarded_client_failures
    } else {
        ctx.settings.limits.peer_failures
    }
}

fn key(c: &ClientIp) -> String {
    format!("{}:{}", if c.forwarded { "client" } else { "peer" }, c.ip)
}

fn window_start(ctx: &Ctx, now: Timestamp) -> Timestamp {
    now.plus_minutes(-ctx.settings.limits.address_window_minutes)
}

/// Refuses with 429 while the address is over its limit.
pub async fn check(ctx: &Ctx, client: Option<&ClientIp>) -> CoreResult<()> {
    let Some(c) = client else { return Ok(()) };
    let failures = ctx
        .store
        .attempts(SCOPE, &key(c), window_start(ctx, Timestamp::now()))
        .await?;
    if failures >= limit(ctx, c) {
        return Err(CoreError::RateLimited {
            fault: Fault {
                error_type: "too_many_requests",
                message: "Too many failed attempts from this address.".into(),
            },
            retry_after_secs: ctx.settings.limits.address_window_minutes as u64 * 60,
        });
    }
    Ok(())
}

/// Counts one failure against the address.
pub async fn failed(ctx: &Ctx, client: Option<&ClientIp>) -> CoreResult<()> {
    if let Some(c) = client {
        let now = Timestamp::now();
        ctx.store
            .bump_attempts(SCOPE, &key(c), window_start(ctx, now), now)
            .await?;
    }
    Ok(())
}

const SEND_SCOPE: &str = "address_sends";

/// Counts one message sent on behalf of the address (codes, links) and refuses past the limit:
/// a bound on how many emails and SMS one caller can make Latch send.
pub async fn send(ctx: &Ctx, client: Option<&ClientIp>) -> CoreResult<()> {
    let Some(c) = client else { return Ok(()) };
    let now = Timestamp::now();
    let limit = if c.forwarded {
        ctx.settings.limits.forwarded_client_sends
    } else {
        ctx.settings.limits.peer_sends
    };
    let sends = ctx
        .store
        .bump_attempts(SEND_SCOPE, &key(c), window_start(ctx, now), now)
        .await?;
    if sends > limit {
        return Err(CoreError::RateLimited {
            fault: Fault {
                error_type: "too_many_requests",
                message: "Too many messages requested from this address.".into(),
            },
            retry_after_secs: ctx.settings.limits.address_window_minutes as u64 * 60,
        });
    }
    Ok(())
}
