//! Failed-attempt limits per client address. Latch is called by application backends, so the
//! TCP peer is normally the application server: its failures only slow a flood down, they never
//! refuse logins (that would lock out every user of the application). When a trusted proxy
//! forwards the end user's address, that address gets a real limit and is refused past it.

use crate::clock::Timestamp;
use crate::engine::attempts::{Limit, Reservation};
use crate::engine::Ctx;
use crate::error::CoreResult;
use std::net::IpAddr;

/// The caller's address as the HTTP layer resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp {
    pub ip: IpAddr,
    /// True when the address came from a trusted proxy's `X-Forwarded-For` (an end user).
    pub forwarded: bool,
}

/// Failed password checks per end-user address (forwarded by a trusted proxy).
const CLIENT_SCOPE: &str = "client_failures";
/// Failed password checks per direct TCP peer.
const PEER_SCOPE: &str = "peer_failures";

fn key(c: &ClientIp) -> String {
    format!("{}:{}", if c.forwarded { "client" } else { "peer" }, c.ip)
}

fn window_start(ctx: &Ctx, now: Timestamp) -> Timestamp {
    now.plus_minutes(-ctx.settings.limits.address_window_minutes)
}

/// Before a password check. An end user's own address (forwarded by a trusted proxy) is one
/// person's: past its limit it is refused, counted before the check like every attempt limit;
/// give the reservation back with `succeeded`. A direct peer is never refused here (see `failed`).
pub async fn reserve(ctx: &Ctx, client: Option<&ClientIp>, now: Timestamp) -> CoreResult<Option<Reservation>> {
    let Some(c) = client.filter(|c| c.forwarded) else {
        return Ok(None);
    };
    let limit = Limit {
        scope: CLIENT_SCOPE,
        max: ctx.settings.limits.forwarded_client_failures,
        window_minutes: ctx.settings.limits.address_window_minutes,
    };
    let refused = |retry_after_secs| {
        crate::error::catalogue::TOO_MANY_REQUESTS.retry_after("failed attempts from this address", retry_after_secs)
    };
    limit.reserve(ctx, key(c), now, refused).await.map(Some)
}

/// The check succeeded: the end user's reserved attempt was no failure.
pub async fn succeeded(ctx: &Ctx, reservation: Option<Reservation>) -> CoreResult<()> {
    match reservation {
        Some(r) => r.refund(ctx).await,
        None => Ok(()),
    }
}

/// After a failed check, from a direct peer. The peer is normally the application server, which
/// speaks for every user: refusing it would lock every user out because of one attacker. So past
/// `peer_failures` in the window its failures are answered only after `peer_flood_delay`: a
/// flood through the application's login form is slowed (each wrong guess holds one of the
/// application's connections), while every correct password is still answered at once.
pub async fn failed(ctx: &Ctx, client: Option<&ClientIp>, now: Timestamp) -> CoreResult<()> {
    let Some(c) = client.filter(|c| !c.forwarded) else {
        return Ok(());
    };
    let failures = ctx
        .store
        .bump_attempts(PEER_SCOPE, &key(c), window_start(ctx, now), now)
        .await?;
    let limits = &ctx.settings.limits;
    if failures > limits.peer_failures && !limits.peer_flood_delay.is_zero() {
        tokio::time::sleep(limits.peer_flood_delay).await;
    }
    Ok(())
}

const SEND_SCOPE: &str = "address_sends";

/// Counts one message sent on behalf of the address (codes, links) and refuses past the limit:
/// a bound on how many emails and SMS one caller can make Latch send.
pub async fn send(ctx: &Ctx, client: Option<&ClientIp>) -> CoreResult<()> {
    let Some(c) = client else { return Ok(()) };
    let now = ctx.now();
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
        let retry = ctx.settings.limits.address_window_minutes as u64 * 60;
        return Err(
            crate::error::catalogue::TOO_MANY_REQUESTS.retry_after("messages requested from this address", retry)
        );
    }
    Ok(())
}
