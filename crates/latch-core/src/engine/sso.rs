//! Enterprise SSO over OpenID Connect: connections, the browser's trip to the provider (start
//! and callback), and the member an SSO login stands for.
//!
//! The trip (`engine::trip`): `start` stores a state bound to the browser and sends it to the
//! provider; `callback` takes the state once, has the provider's code exchanged and its ID token
//! verified (the `OidcClient` adapter), and sends the browser to the application with a one-time
//! SSO token that holds the verified identity. The application's backend turns that token into a
//! member and a session with `sso.authenticate`.

use crate::crypto::{random_token, sha256_hex};
use crate::engine::grant::Grant;
use crate::engine::members::{MemberInput, MemberView};
use crate::engine::{members, organizations, saml, trip, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::ProjectId;
use crate::model::member::MemberRecord;
use crate::model::organization::OrgRecord;
use crate::model::sso::{OidcConnection, OidcConnectionRecord, SsoRegistration, SsoTokenRecord, TripDestination};
use crate::oidc::{OidcCallback, RelyingParty};
use serde_json::{Map, Value};

const DEFAULT_SCOPES: &str = "openid email profile";

use crate::engine::sso_directory::sync_organization;
pub use crate::engine::sso_directory::{check_connection_ids, connection_not_found, redirect_url};
use crate::engine::sso_identity::{check_jit, existing_member, identity_email, TOKEN_MINUTES};
pub use crate::engine::sso_identity::{follow_idp_email, Finished};

pub fn view<'a>(ctx: &Ctx, c: &'a OidcConnectionRecord) -> OidcConnection<'a> {
    OidcConnection {
        organization_id: &c.organization_id,
        connection_id: &c.connection_id,
        status: c.status(),
        display_name: &c.display_name,
        redirect_url: redirect_url(ctx, &c.connection_id),
        client_id: &c.client_id,
        client_secret: &c.client_secret,
        issuer: &c.issuer,
        authorization_url: &c.authorization_url,
        token_url: &c.token_url,
        userinfo_url: &c.userinfo_url,
        jwks_url: &c.jwks_url,
        identity_provider: &c.identity_provider,
        custom_scopes: &c.custom_scopes,
        attribute_mapping: &c.attribute_mapping,
    }
}

/// A connection of the organization (never another organization's, whatever its id).
pub async fn connection(ctx: &Ctx, org: &OrgRecord, connection_id: &str) -> CoreResult<OidcConnectionRecord> {
    ctx.store
        .oidc_connection(&org.project_id, connection_id)
        .await?
        .filter(|c| c.organization_id == org.organization_id)
        .ok_or_else(connection_not_found)
}

/// Writes the connection and brings the organization's `sso_active_connections` and default
/// connection in step with its connections.
pub async fn save_connection(ctx: &Ctx, grant: &Grant, org: &OrgRecord, c: &OidcConnectionRecord) -> CoreResult<()> {
    ctx.store.save_oidc_connection(c).await?;
    crate::engine::audit::detail("connection_id", c.connection_id.as_str());
    sync_organization(ctx, grant, org).await
}

pub async fn delete_connection(ctx: &Ctx, grant: &Grant, org: &OrgRecord, connection_id: &str) -> CoreResult<()> {
    if saml::is_saml(connection_id) {
        saml::connection(ctx, org, connection_id).await?;
        // Roles held through the connection go with it.
        let registrations = ctx
            .store
            .sso_registrations_of_connection(&org.project_id, connection_id)
            .await?;
        for r in registrations {
            if let Some(mut m) = ctx.store.member_by_id(&org.project_id, &r.member_id).await? {
                if saml::apply_role_grants(&mut m, connection_id, vec![]) {
                    members::save(ctx, grant, &mut m, members::Write::Plain).await?;
                }
            }
        }
        ctx.store.delete_saml_connection(&org.project_id, connection_id).await?;
    } else {
        connection(ctx, org, connection_id).await?;
        ctx.store.delete_oidc_connection(&org.project_id, connection_id).await?;
    }
    crate::engine::audit::detail("connection_id", connection_id);
    sync_organization(ctx, grant, org).await
}

pub use crate::engine::trip::Started;

/// What a start asks for (the public start endpoint's query, resolved).
pub struct StartRequest<'a> {
    pub connection: &'a OidcConnectionRecord,
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub code_challenge: Option<&'a str>,
    pub custom_scopes: Option<&'a str>,
}

/// Stores the trip and builds the provider's authorization URL.
pub async fn start(ctx: &Ctx, req: StartRequest<'_>) -> CoreResult<Started> {
    let c = req.connection;
    if !c.is_active() {
        return Err(SSO_CONNECTION_NOT_ACTIVE.err());
    }
    let mut scopes: Vec<&str> = if c.custom_scopes.trim().is_empty() {
        DEFAULT_SCOPES.split(' ').collect()
    } else {
        c.custom_scopes.split_whitespace().collect()
    };
    if let Some(extra) = req.custom_scopes {
        scopes.extend(extra.split_whitespace());
    }
    trip::begin(
        ctx,
        trip::Begin {
            project_id: &c.project_id,
            destination: TripDestination::Sso {
                connection_id: c.connection_id.clone(),
            },
            code_challenge: req.code_challenge,
            login_redirect_url: req.login_redirect_url,
            signup_redirect_url: req.signup_redirect_url,
            authorization_url: &c.authorization_url,
            client_id: &c.client_id,
            redirect_uri: &redirect_url(ctx, &c.connection_id),
            scopes,
            extra_params: &[],
        },
        INVALID_SSO_IDP,
    )
    .await
}

/// The provider's answer at the callback: `state` must be a live trip started by this browser
/// for this connection (it is used up either way); then the code is exchanged and the identity
/// verified, and the browser is sent to the application with a one-time SSO token.
pub async fn callback(
    ctx: &Ctx,
    connection_id: &str,
    state: &str,
    code: &str,
    browser_secret: Option<&str>,
) -> CoreResult<Finished> {
    let trip = trip::take(ctx, state, browser_secret, UNSOLICITED_OIDC_RESPONSE).await?;
    let for_this = matches!(&trip.destination, TripDestination::Sso { connection_id: c } if c == connection_id);
    if !for_this {
        return Err(UNSOLICITED_OIDC_RESPONSE.err());
    }
    let project_id = trip.project_id;
    let c = ctx
        .store
        .oidc_connection(&project_id, connection_id)
        .await?
        .filter(|c| c.is_active())
        .ok_or_else(connection_not_found)?;
    if code.is_empty() {
        return Err(INVALID_OIDC_RESPONSE.detail("no code"));
    }
    let identity = ctx
        .oidc
        .finish(OidcCallback {
            party: RelyingParty::from(&c),
            redirect_url: &redirect_url(ctx, &c.connection_id),
            code,
            pkce_verifier: &trip.pkce_verifier,
            nonce: &trip.nonce,
        })
        .await?
        .identity;
    let org = organizations::get(ctx, &project_id, &c.organization_id).await?;
    // Refused here as at sso.authenticate, so the browser learns it before the application.
    let known = existing_member(ctx, &org, &c.connection_id, &identity).await?;
    if known.is_none() {
        check_jit(&org, &c.connection_id)?;
    }
    let token = random_token(32);
    let now = ctx.now();
    ctx.store
        .insert_sso_token(&SsoTokenRecord {
            token_hash: sha256_hex(&token),
            project_id: project_id.clone(),
            organization_id: org.organization_id.clone(),
            connection_id: c.connection_id.clone(),
            identity,
            code_challenge: trip.code_challenge,
            created_at: now,
            expires_at: now.plus_minutes(TOKEN_MINUTES),
        })
        .await?;
    let target = if known.is_some() {
        trip.login_redirect_url
    } else {
        trip.signup_redirect_url
    };
    Ok(Finished {
        redirect_url: trip::land(&target, "sso", &token),
    })
}

pub fn token_not_found() -> CoreError {
    SSO_TOKEN_NOT_FOUND.err()
}

/// Takes the SSO token (single use, unexpired, PKCE-checked): what the provider vouched for.
pub async fn redeem(
    ctx: &Ctx,
    project_id: &ProjectId,
    token: &str,
    verifier: Option<&str>,
) -> CoreResult<SsoTokenRecord> {
    if token.is_empty() || token.len() > 128 {
        return Err(token_not_found());
    }
    let hash = sha256_hex(token);
    let t = ctx
        .store
        .sso_token(project_id, &hash)
        .await?
        .ok_or_else(token_not_found)?;
    if t.expires_at <= ctx.now() {
        ctx.store.take_sso_token(project_id, &hash).await?;
        return Err(token_not_found());
    }
    crate::rules::pkce::check(t.code_challenge.as_deref(), verifier)?;
    if !ctx.store.take_sso_token(project_id, &hash).await? {
        return Err(token_not_found());
    }
    Ok(t)
}

/// The member an SSO login stands for, registered at the connection (JIT-provisioned when the
/// organization allows it), the registration for the session's factor, and whether the member
/// just moved to a new address from the provider (its earlier sessions ended with the old one).
pub async fn member_for(
    ctx: &Ctx,
    org: &OrgRecord,
    token: &SsoTokenRecord,
) -> CoreResult<(MemberRecord, SsoRegistration, bool)> {
    let (connection_id, mapping, saml_connection) = if saml::is_saml(&token.connection_id) {
        let c = saml::connection(ctx, org, &token.connection_id).await?;
        (c.connection_id.clone(), c.config.attribute_mapping.clone(), Some(c))
    } else {
        let c = connection(ctx, org, &token.connection_id).await?;
        (c.connection_id, c.attribute_mapping, None)
    };
    let identity = &token.identity;
    let attributes = crate::oidc::mapped_attributes(&mapping, &identity.claims);
    let mut moved = false;
    let (mut member, registration) = match existing_member(ctx, org, &connection_id, identity).await? {
        Some((member, Some(reg))) => {
            let before = member.email.clone();
            let member = follow_idp_email(ctx, member, identity_email(identity)?).await?;
            moved = member.email != before;
            (member, Some(reg))
        }
        Some(found) => found,
        None => {
            check_jit(org, &connection_id)?;
            let Some(email) = identity_email(identity)? else {
                return Err(OIDC_RESPONSE_EMAIL_MISSING.err());
            };
            let name = attributes
                .get("full_name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| identity.name.clone());
            let metadata: Map<String, Value> = attributes
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "email" | "full_name" | "first_name" | "last_name"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let input = MemberInput {
                email_address: Some(email),
                name,
                trusted_metadata: (!metadata.is_empty()).then_some(Value::Object(metadata)),
                ..Default::default()
            };
            let view: MemberView = members::provision(ctx, &org.project_id, &org.organization_id, input).await?;
            (view.member, None)
        }
    };
    let registration = match registration {
        Some(r) => r,
        None => {
            let r = SsoRegistration {
                connection_id: connection_id.clone(),
                external_id: identity.subject.clone(),
                registration_id: ids::sso_registration_id(),
                sso_attributes: attributes,
                member_id: member.member_id.clone(),
                project_id: org.project_id.clone(),
                organization_id: org.organization_id.clone(),
                created_at: ctx.now(),
            };
            ctx.store.insert_sso_registration(&r).await?;
            r
        }
    };
    if let Some(c) = saml_connection {
        let grants = saml::role_grants(&c, &identity.claims);
        if saml::apply_role_grants(&mut member, &c.connection_id, grants) {
            members::save(ctx, &Grant::engine(), &mut member, members::Write::Plain).await?;
        }
    }
    Ok((member, registration, moved))
}
