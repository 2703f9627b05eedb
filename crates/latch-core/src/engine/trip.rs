//! A browser's trip to an identity provider and back, shared by enterprise SSO and OAuth
//! sign-in.
//!
//! `begin` stores a state (its digest) bound to a cookie on the browser that starts the trip,
//! with a nonce and Latch's PKCE verifier towards the provider, and builds the provider's
//! authorization URL; `take` uses the state up at the callback (single use, expiring, the same
//! browser). Where the trip goes (an SSO connection, or an OAuth provider and the organization it
//! logs into, none for discovery) is stored with it, and the caller checks it matches the
//! callback it arrived at.

use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::engine::Ctx;
use crate::error::catalogue::ErrorKind;
use crate::error::CoreResult;
use crate::ids::ProjectId;
use crate::model::sso::{SsoStateRecord, TripDestination};

/// How long a browser has at the provider.
const STATE_MINUTES: i64 = 10;

/// Parameters of the authorization request Latch sets itself; a caller's extra parameters
/// (`provider_*` on the OAuth start) never replace them.
const OWN_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// What a trip needs: where it goes and returns, and the provider's side of it.
pub struct Begin<'a> {
    pub project_id: &'a ProjectId,
    pub destination: TripDestination,
    /// The application's PKCE challenge, checked when its token is redeemed.
    pub code_challenge: Option<&'a str>,
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub authorization_url: &'a str,
    pub client_id: &'a str,
    /// Latch's callback, registered at the provider.
    pub redirect_uri: &'a str,
    pub scopes: Vec<&'a str>,
    pub extra_params: &'a [(String, String)],
}

/// What the start endpoint hands the browser: where to go, and the cookie that binds the trip.
pub struct Started {
    pub authorization_url: String,
    pub browser_secret: String,
    /// The provider answers with a cross-site POST (SAML), so the cookie must be sent on one.
    pub posted_back: bool,
}

/// Stores the trip and builds the provider's authorization URL (`bad_url` when the configured
/// endpoint is not a URL).
pub async fn begin(ctx: &Ctx, b: Begin<'_>, bad_url: ErrorKind) -> CoreResult<Started> {
    let mut url = url::Url::parse(b.authorization_url).map_err(|_| bad_url.detail("authorization_url is not a URL"))?;
    let nonce = random_token(32);
    let pkce_verifier = random_token(48);
    let challenge = crate::rules::pkce::challenge_of(&pkce_verifier);
    let mut scopes = b.scopes;
    if !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    let mut seen = Vec::new();
    scopes.retain(|s| {
        let new = !seen.contains(s);
        seen.push(*s);
        new
    });
    let recorded = remember(
        ctx,
        Trip {
            project_id: b.project_id,
            destination: b.destination,
            code_challenge: b.code_challenge,
            login_redirect_url: b.login_redirect_url,
            signup_redirect_url: b.signup_redirect_url,
            nonce: nonce.clone(),
            pkce_verifier,
        },
    )
    .await?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", b.client_id)
            .append_pair("redirect_uri", b.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &recorded.state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in b.extra_params {
            if !OWN_PARAMS.contains(&k.as_str()) {
                q.append_pair(k, v);
            }
        }
    }
    Ok(Started {
        authorization_url: url.into(),
        browser_secret: recorded.browser_secret,
        posted_back: false,
    })
}

/// A trip to store, whatever the protocol: OIDC's nonce and PKCE verifier, or SAML's
/// AuthnRequest ID as the nonce (and no verifier).
pub struct Trip<'a> {
    pub project_id: &'a ProjectId,
    pub destination: TripDestination,
    pub code_challenge: Option<&'a str>,
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The stored trip's state (sent to the provider) and the browser's binding secret (its cookie).
pub struct Recorded {
    pub state: String,
    pub browser_secret: String,
}

/// Stores a trip: single use, expiring, bound to the browser by the returned secret.
pub async fn remember(ctx: &Ctx, t: Trip<'_>) -> CoreResult<Recorded> {
    let state = random_token(32);
    let browser_secret = random_token(32);
    let now = ctx.now();
    ctx.store
        .insert_sso_state(&SsoStateRecord {
            state_hash: sha256_hex(&state),
            project_id: t.project_id.clone(),
            destination: t.destination,
            browser_hash: sha256_hex(&browser_secret),
            nonce: t.nonce,
            pkce_verifier: t.pkce_verifier,
            code_challenge: t.code_challenge.filter(|s| !s.is_empty()).map(str::to_string),
            login_redirect_url: t.login_redirect_url,
            signup_redirect_url: t.signup_redirect_url,
            created_at: now,
            expires_at: now.plus_minutes(STATE_MINUTES),
        })
        .await?;
    Ok(Recorded { state, browser_secret })
}

/// The trip `state` names, used up (whatever follows); `None` when no trip has that state.
async fn take_named(ctx: &Ctx, state: &str) -> CoreResult<Option<SsoStateRecord>> {
    if state.is_empty() || state.len() > 128 {
        return Ok(None);
    }
    let state_hash = sha256_hex(state);
    let Some(project_id) = ctx.store.sso_state_project(&state_hash).await? else {
        return Ok(None);
    };
    crate::engine::audit::project(&project_id);
    Ok(ctx.store.take_sso_state(&project_id, &state_hash).await?)
}

/// Whether the trip is still live; its expiry noted for the audit log when it is not.
fn live(ctx: &Ctx, trip: &SsoStateRecord) -> bool {
    let live = trip.expires_at > ctx.now();
    if !live {
        crate::engine::audit::detail("cause", "state_expired");
    }
    live
}

fn same_browser(browser_secret: &str, trip: &SsoStateRecord) -> bool {
    constant_time_eq(&sha256_hex(browser_secret), &trip.browser_hash)
}

/// Takes the trip `state` names (used up whatever follows): live, and started by this browser;
/// else `unsolicited`. The caller checks its destination.
pub async fn take(
    ctx: &Ctx,
    state: &str,
    browser_secret: Option<&str>,
    unsolicited: ErrorKind,
) -> CoreResult<SsoStateRecord> {
    let trip = take_named(ctx, state).await?.ok_or_else(|| unsolicited.err())?;
    if !browser_secret.is_some_and(|b| same_browser(b, &trip)) {
        crate::engine::audit::detail("cause", "other_browser");
        return Err(unsolicited.err());
    }
    if !live(ctx, &trip) {
        return Err(unsolicited.err());
    }
    Ok(trip)
}

/// The application's URL with the one-time token the browser brings it.
pub fn land(target: &str, token_type: &str, token: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}stytch_token_type={token_type}&token={token}")
}

/// Takes the trip a SAML response names by its RelayState, or `None` when no trip has that
/// state (an IdP-initiated response may carry any RelayState). The IdP posts the response
/// cross-site: the binding cookie (SameSite=None) must be there and match when the server is
/// on HTTPS; on plain HTTP, where browsers drop such a cookie, an absent one is accepted and the
/// AuthnRequest ID the response must answer is the binding. A present cookie always must match.
pub async fn take_posted(
    ctx: &Ctx,
    state: &str,
    browser_secret: Option<&str>,
    unsolicited: ErrorKind,
    mismatch: ErrorKind,
) -> CoreResult<Option<SsoStateRecord>> {
    let Some(trip) = take_named(ctx, state).await? else {
        return Ok(None);
    };
    let cookie_required = ctx.settings.public_url.starts_with("https://");
    let matches = match browser_secret {
        Some(b) => same_browser(b, &trip),
        None => !cookie_required,
    };
    if !matches {
        crate::engine::audit::detail("cause", "other_browser");
        return Err(mismatch.err());
    }
    if !live(ctx, &trip) {
        return Err(unsolicited.err());
    }
    Ok(Some(trip))
}
