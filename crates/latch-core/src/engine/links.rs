//! Email magic links, sent and redeemed. A token is 256 bits from the OS CSPRNG, lives only in
//! the email (we keep its SHA-256), works once, until its expiry, and only with the PKCE verifier
//! when it was sent with a challenge. Sends share the per-recipient budget of every other
//! message; a link that could not be rendered or delivered is deleted, so no live token exists
//! that its owner never received.

use crate::crypto::{random_token, sha256_hex};
use crate::delivery::templates::Kind;
use crate::delivery::{Channel, Message};
use crate::engine::audit;
use crate::engine::{codes, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, ProjectId};
use crate::model::links::{LinkPurpose, MagicLinkRecord};
use crate::model::organization::OrgRecord;
use crate::rules::pkce;

pub const DEFAULT_MINUTES: i64 = 60;
pub const INVITE_DEFAULT_MINUTES: i64 = 10_080;
const MAX_MINUTES: i64 = 10_080;
/// Longer than any token we issue (43 characters); a longer one is not looked up at all.
const MAX_TOKEN_CHARS: usize = 128;

/// A link's validity from the request (`*_expiration_minutes`), 5 minutes to a week.
pub fn minutes(field: &'static str, given: Option<i64>, default: i64) -> CoreResult<i64> {
    let m = given.unwrap_or(default);
    if !(5..=MAX_MINUTES).contains(&m) {
        return Err(crate::error::catalogue::INVALID_EXPIRATION.field(field));
    }
    Ok(m)
}

/// `<redirect>?stytch_token_type=<type>&token=<token>`, as Stytch builds its links.
fn link_url(redirect: &str, purpose: LinkPurpose, token: &str) -> String {
    let token_type = match purpose {
        LinkPurpose::Discovery => "discovery",
        _ => "multi_tenant_magic_links",
    };
    let sep = if redirect.contains('?') { '&' } else { '?' };
    format!("{redirect}{sep}stytch_token_type={token_type}&token={token}")
}

/// One link to send: what it does, for whom, where it points and how it reads.
pub struct LinkEmail<'a> {
    pub purpose: LinkPurpose,
    pub kind: Kind,
    /// None for discovery links.
    pub org: Option<&'a OrgRecord>,
    pub member_id: Option<&'a MemberId>,
    pub email: &'a str,
    pub redirect: &'a str,
    pub minutes: i64,
    pub challenge: Option<&'a str>,
    pub locale: &'static str,
    pub template_id: Option<&'a str>,
}

/// Checks a custom template before anything is stored or sent.
pub fn check_template(ctx: &Ctx, project_id: &ProjectId, template_id: Option<&str>, kind: Kind) -> CoreResult<()> {
    if let Some(t) = template_id.filter(|t| !t.is_empty()) {
        ctx.templates.find(project_id, t, kind)?;
    }
    Ok(())
}

/// One message counted against the recipient's budget, before the request wrote anything: a
/// send refused with 429 must leave no member provisioned or updated. [`send`] takes it, so no
/// link goes out uncounted.
#[must_use]
pub struct Counted {
    email: String,
}

/// Counts a link to `email` (see [`codes::count_send_to`]); refuses it past the budget.
pub async fn count(ctx: &Ctx, project_id: &ProjectId, email: &str) -> CoreResult<Counted> {
    codes::count_send_to(ctx, project_id, Channel::Email, email).await?;
    Ok(Counted {
        email: email.to_string(),
    })
}

/// Stores a fresh link and emails it. An email-update link replaces the member's earlier one.
pub async fn send(ctx: &Ctx, project_id: &ProjectId, counted: Counted, link: LinkEmail<'_>) -> CoreResult<()> {
    if counted.email != link.email {
        return Err(CoreError::internal("a link was counted for another recipient"));
    }
    let token = random_token(32);
    let token_hash = sha256_hex(&token);
    let now = ctx.now();
    let record = MagicLinkRecord {
        token_hash: token_hash.clone(),
        project_id: project_id.clone(),
        purpose: link.purpose,
        organization_id: link.org.map(|o| o.organization_id.clone()),
        member_id: link.member_id.cloned(),
        email: link.email.to_string(),
        code_challenge: link.challenge.filter(|c| !c.is_empty()).map(str::to_string),
        created_at: now,
        expires_at: now.plus_minutes(link.minutes),
        used_at: None,
    };
    let template = ctx.template(project_id, link.template_id, link.kind).await?;
    ctx.store
        .insert_magic_link(&record, link.purpose == LinkPurpose::EmailUpdate)
        .await?;
    let url = link_url(link.redirect, link.purpose, &token);
    let minutes = link.minutes.to_string();
    let vars = [
        ("org", link.org.map(|o| o.name.as_str()).unwrap_or("")),
        ("email", link.email),
        ("minutes", minutes.as_str()),
    ];
    let rendered = template.render(link.kind, link.locale, &vars, Some(&url));
    let sent = ctx
        .delivery
        .send(Message {
            project_id: project_id.clone(),
            channel: Channel::Email,
            recipient: link.email.to_string(),
            kind: link.kind.as_str().into(),
            locale: link.locale.into(),
            subject: Some(rendered.subject),
            text: rendered.text,
            html: Some(rendered.html),
            code: None,
            token: Some(token),
            url: Some(url),
        })
        .await;
    if let Err(e) = sent {
        ctx.store.delete_magic_link(project_id, &token_hash).await?;
        return Err(e);
    }
    Ok(())
}

pub fn not_found() -> CoreError {
    crate::error::catalogue::MAGIC_LINK_NOT_FOUND.err()
}

pub fn unusable() -> CoreError {
    crate::error::catalogue::UNABLE_TO_AUTH_MAGIC_LINK.err()
}

/// Claims the link behind `token`: a discovery link for the discovery endpoint, an organization
/// link for the other. Expiry and PKCE are checked before the claim, so a wrong verifier leaves
/// the link usable; the claim itself is one conditional update, so two concurrent requests
/// cannot both redeem it. A caller whose later steps fail gives the link back with [`release`].
pub async fn claim(
    ctx: &Ctx,
    project_id: &ProjectId,
    token: &str,
    verifier: Option<&str>,
    discovery: bool,
) -> CoreResult<MagicLinkRecord> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(not_found());
    }
    let token_hash = sha256_hex(token);
    let link = ctx
        .store
        .magic_link(project_id, &token_hash)
        .await?
        .ok_or_else(not_found)?;
    if (link.purpose == LinkPurpose::Discovery) != discovery {
        audit::detail("cause", "other_flows_link");
        return Err(not_found());
    }
    if let (Some(org), Some(member)) = (&link.organization_id, &link.member_id) {
        audit::member_ids(org, member);
    }
    let now = ctx.now();
    if link.used_at.is_some() || link.expires_at <= now {
        audit::detail(
            "cause",
            if link.used_at.is_some() {
                "link_used"
            } else {
                "link_expired"
            },
        );
        return Err(unusable());
    }
    pkce::check(link.code_challenge.as_deref(), verifier).inspect_err(|_| audit::detail("cause", "pkce_mismatch"))?;
    if !ctx.store.use_magic_link(project_id, &token_hash, now).await? {
        audit::detail("cause", "link_used");
        return Err(unusable());
    }
    Ok(link)
}

/// Gives a claimed link back after the redemption failed (bad input found late, a conflict):
/// a request that changed nothing must not have used up the member's link.
pub async fn release(ctx: &Ctx, link: &MagicLinkRecord) {
    if let Err(e) = ctx.store.unuse_magic_link(&link.project_id, &link.token_hash).await {
        tracing::warn!(error = %e, "a magic link could not be given back after a failed redemption");
    }
}
