//! What an email address can enter: its memberships (active, pending, invited) and, for an
//! intermediate session that proved the address, organizations eligible by email domain (JIT
//! restricted to the domain and already one member with a verified email of that domain, a guard
//! against phishing); and the discovery intermediate session that carries the factors.

use crate::clock::Timestamp;
use crate::crypto::sha256_hex;
use crate::engine::members::MemberView;
use crate::engine::Ctx;
use crate::engine::{intermediate, organizations};
use crate::error::CoreResult;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::member::MemberStatus;
use crate::model::oauth::OAuthProvider;
use crate::model::organization::{OrgRecord, Restriction};
use crate::model::search::{MemberFilter, Operator, OrgFilter, Page, Query};
use crate::model::session::AuthFactor;
use crate::rules::factors::proves_email;
use crate::rules::requirements;
use crate::rules::requirements::{MfaRequired, PrimaryRequired};
use crate::validate;

pub const SCOPE: &str = "discovery";

/// An email id for a factor proven before any member exists.
fn email_id(email: &str) -> String {
    let d = sha256_hex(&format!("discovery|{email}"));
    format!(
        "email-test-{}-{}-{}-{}-{}",
        &d[0..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    )
}

pub struct Discovered {
    pub organization: OrgRecord,
    pub membership_type: &'static str,
    pub member: Option<MemberView>,
    pub primary_required: Option<PrimaryRequired>,
    pub mfa_required: Option<MfaRequired>,
}

impl Discovered {
    pub fn member_authenticated(&self) -> bool {
        self.member.is_some() && self.primary_required.is_none() && self.mfa_required.is_none()
    }
}

/// Organizations with a verified member of `domain` and a JIT rule for it.
async fn eligible_by_domain(
    ctx: &Ctx,
    project_id: &ProjectId,
    domain: &str,
    skip: &[OrganizationId],
) -> CoreResult<Vec<OrgRecord>> {
    let q = Query {
        operator: Operator::And,
        filters: vec![OrgFilter::AllowedDomains(vec![domain.to_string()])],
    };
    let orgs = ctx
        .store
        .search_orgs(
            project_id,
            &q,
            &Page {
                after: None,
                limit: 1000,
            },
        )
        .await?
        .items;
    let mut out = Vec::new();
    for org in orgs {
        if skip.contains(&org.organization_id) || org.settings.email_jit_provisioning != Restriction::Restricted {
            continue;
        }
        let suffix = format!("@{domain}");
        let mq = Query {
            operator: Operator::And,
            filters: vec![MemberFilter::EmailFuzzy(suffix.clone())],
        };
        let found = ctx
            .store
            .search_members(
                project_id,
                std::slice::from_ref(&org.organization_id),
                &mq,
                &Page {
                    after: None,
                    limit: 100,
                },
            )
            .await?;
        if found
            .items
            .iter()
            .any(|m| m.email_verified && m.email.ends_with(&suffix))
        {
            out.push(org);
        }
    }
    Ok(out)
}

/// What `email` can enter with `factors`. Eligible organizations are listed only for an
/// intermediate session (`include_eligible`).
pub async fn discover(
    ctx: &Ctx,
    project_id: &ProjectId,
    email: &str,
    factors: &[AuthFactor],
    include_eligible: bool,
) -> CoreResult<Vec<Discovered>> {
    let mut out = Vec::new();
    let members = ctx.store.members_with_email(project_id, email).await?;
    let mut seen = Vec::new();
    for m in members {
        let membership_type = match m.status {
            MemberStatus::Active => "active_member",
            MemberStatus::Pending => "pending_member",
            MemberStatus::Invited => "invited_member",
            _ => continue,
        };
        let org = organizations::get(ctx, project_id, &m.organization_id).await?;
        seen.push(org.organization_id.clone());
        out.push(Discovered {
            primary_required: requirements::primary_missing(&org, &m, factors),
            mfa_required: requirements::mfa_missing(&org, &m, factors),
            member: Some(MemberView::load(ctx, m, org.clone()).await?),
            organization: org,
            membership_type,
        });
    }
    if include_eligible && factors.iter().any(|f| proves_email(f, email)) {
        for org in eligible_by_domain(ctx, project_id, validate::email_domain(email), &seen).await? {
            out.push(Discovered {
                organization: org,
                membership_type: "eligible_to_join_by_email_domain",
                member: None,
                primary_required: None,
                mfa_required: None,
            });
        }
    }
    Ok(out)
}

pub struct DiscoveryResult {
    pub intermediate_session_token: String,
    pub email: String,
    pub discovered: Vec<Discovered>,
    pub organization_id_hint: Option<OrganizationId>,
}

/// An email factor proven before any member exists.
pub fn email_factor(email: &str, now: Timestamp) -> AuthFactor {
    AuthFactor::email_otp(&email_id(email), email, now)
}

/// A magic-link factor proven before any member exists.
pub fn magic_link_factor(email: &str, now: Timestamp) -> AuthFactor {
    AuthFactor::magic_link(&email_id(email), email, now)
}

/// An OAuth login proven before any member exists: the provider's subject and the address.
pub fn oauth_factor(provider: OAuthProvider, subject: &str, email: &str, now: Timestamp) -> AuthFactor {
    crate::engine::oauth::factor(provider, "", subject, &email_id(email), email, now)
}

/// A discovery intermediate session holding `factors` for `email`, and what it can enter.
pub async fn with_factors(
    ctx: &Ctx,
    project_id: &ProjectId,
    email: &str,
    factors: Vec<AuthFactor>,
) -> CoreResult<DiscoveryResult> {
    let discovered = discover(ctx, project_id, email, &factors, true).await?;
    let (_, token) = intermediate::create(ctx, project_id, None, None, email, factors).await?;
    Ok(DiscoveryResult {
        intermediate_session_token: token,
        email: email.to_string(),
        discovered,
        organization_id_hint: None,
    })
}
