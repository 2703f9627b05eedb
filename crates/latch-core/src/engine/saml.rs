//! Enterprise SSO over SAML 2.0: Latch is the service provider of each connection. The
//! connection's keys and certificates, the AuthnRequest the browser takes to the IdP (the same
//! public start as OIDC), and the assertion consumer service (ACS) the IdP posts its response to.
//! XML and signatures are the `SamlProvider` adapter's (samael with libxmlsec1); here are the
//! records around them: the trip the response must answer, the replay cache, the identity, and
//! the one-time SSO token `sso.authenticate` redeems exactly as for OIDC.

use crate::clock::Timestamp;
use crate::crypto::{random_token, sha256_hex};
use crate::engine::grant::Grant;
use crate::engine::sso_directory as directory;
use crate::engine::sso_identity::{self as identity_rules, Finished};
use crate::engine::{organizations, redirects, trip, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::model::member::MemberRecord;
use crate::model::organization::OrgRecord;
use crate::model::saml::{EncryptionPrivateKey, SamlConnection, SamlConnectionRecord, SsoRoleGrant, X509Certificate};
use crate::model::sso::{SsoIdentity, SsoTokenRecord, TripDestination};
use crate::saml::{AuthnRequest, KeyWithCertificate, Refusal, ServiceProvider, SpMetadata, VerifiedAssertion};
use crate::settings::RedirectType;
use serde_json::{Map, Value};

const PREFIX: &str = "saml-connection-";
/// How long an accepted assertion's id is kept when the assertion names no end of validity.
const REPLAY_WINDOW_MINUTES: i64 = 60;

/// Whether a connection id names a SAML connection (ids carry their kind, as Stytch's do).
pub fn is_saml(connection_id: &str) -> bool {
    connection_id.starts_with(PREFIX)
}

/// The ACS URL, which is also the SP entity id (`audience_uri`): the callback path OIDC uses.
pub fn acs_url(ctx: &Ctx, connection_id: &str) -> String {
    directory::redirect_url(ctx, connection_id)
}

pub fn view<'a>(ctx: &Ctx, c: &'a SamlConnectionRecord) -> SamlConnection<'a> {
    let cfg = &c.config;
    SamlConnection {
        organization_id: &c.organization_id,
        connection_id: &c.connection_id,
        status: c.status(),
        idp_entity_id: &cfg.idp_entity_id,
        display_name: &cfg.display_name,
        idp_sso_url: &cfg.idp_sso_url,
        acs_url: acs_url(ctx, &c.connection_id),
        audience_uri: acs_url(ctx, &c.connection_id),
        signing_certificates: vec![&cfg.signing_certificate],
        verification_certificates: &cfg.verification_certificates,
        encryption_private_keys: cfg
            .encryption_keys
            .iter()
            .map(|k| EncryptionPrivateKey {
                private_key_id: &k.private_key_id,
                private_key: &k.public_key_pem,
                created_at: k.created_at,
            })
            .collect(),
        saml_connection_implicit_role_assignments: &cfg.connection_roles,
        saml_group_implicit_role_assignments: &cfg.group_roles,
        alternative_audience_uri: &cfg.alternative_audience_uri,
        identity_provider: &cfg.identity_provider,
        nameid_format: &cfg.nameid_format,
        alternative_acs_url: &cfg.alternative_acs_url,
        idp_initiated_auth_disabled: cfg.idp_initiated_auth_disabled,
        allow_gateway_callback: cfg.allow_gateway_callback,
        attribute_mapping: &cfg.attribute_mapping,
    }
}

/// A connection of the organization (never another organization's, whatever its id).
pub async fn connection(ctx: &Ctx, org: &OrgRecord, connection_id: &str) -> CoreResult<SamlConnectionRecord> {
    ctx.store
        .saml_connection(&org.project_id, connection_id)
        .await?
        .filter(|c| c.organization_id == org.organization_id)
        .ok_or_else(directory::connection_not_found)
}

/// Writes the connection and brings the organization's SSO settings in step.
pub async fn save_connection(ctx: &Ctx, grant: &Grant, org: &OrgRecord, c: &SamlConnectionRecord) -> CoreResult<()> {
    ctx.store.save_saml_connection(c).await?;
    crate::engine::audit::detail("connection_id", c.connection_id.as_str());
    directory::sync_organization(ctx, grant, org).await
}

/// A certificate entry for a key Latch holds (issuer "Latch", as Stytch's say "Stytch").
pub fn own_certificate(k: &KeyWithCertificate, now: Timestamp) -> X509Certificate {
    X509Certificate {
        certificate_id: ids::x509_certificate_id(),
        certificate: k.certificate_pem.clone(),
        issuer: "Latch".into(),
        created_at: now,
        expires_at: Timestamp(k.not_after_secs.saturating_mul(1000)),
        updated_at: now,
    }
}

/// A new RSA key and its certificate, made on the CPU pool (key generation takes a while).
pub async fn new_signing_key(ctx: &Ctx, common_name: &str) -> CoreResult<KeyWithCertificate> {
    let saml = ctx.saml.clone();
    let name = common_name.to_string();
    ctx.cpu.run(move || saml.generate_signing_key(&name)).await?
}

/// The SP metadata the IdP is configured from (public, like Stytch's).
pub async fn sp_metadata(ctx: &Ctx, connection_id: &str) -> CoreResult<String> {
    if !is_saml(connection_id) || connection_id.len() > 128 {
        return Err(directory::connection_not_found());
    }
    let c = ctx
        .store
        .find_saml_connection(connection_id)
        .await?
        .ok_or_else(directory::connection_not_found)?;
    let acs = acs_url(ctx, &c.connection_id);
    ctx.saml.sp_metadata(&SpMetadata {
        entity_id: &acs,
        acs_url: &acs,
        nameid_format: &c.config.nameid_format,
        signing_certificate_pem: &c.config.signing_certificate.certificate,
        encryption_certificates_pem: c
            .config
            .encryption_keys
            .iter()
            .map(|k| k.certificate_pem.as_str())
            .collect(),
    })
}

/// What the public start resolved for a SAML connection.
pub struct StartRequest<'a> {
    pub connection: &'a SamlConnectionRecord,
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub code_challenge: Option<&'a str>,
}

/// Stores the trip (its nonce is the AuthnRequest's ID, which the response must answer) and
/// builds the IdP URL with the signed AuthnRequest (HTTP-Redirect binding), the trip's state as
/// RelayState.
pub async fn start(ctx: &Ctx, req: StartRequest<'_>) -> CoreResult<trip::Started> {
    let c = req.connection;
    if !c.is_active() {
        return Err(SSO_CONNECTION_NOT_ACTIVE.err());
    }
    // An NCName (xs:ID: base64url after a letter), 128 random bits.
    let request_id = format!("id-{}", random_token(16));
    let recorded = trip::remember(
        ctx,
        trip::Trip {
            project_id: &c.project_id,
            destination: TripDestination::Sso {
                connection_id: c.connection_id.clone(),
            },
            code_challenge: req.code_challenge,
            login_redirect_url: req.login_redirect_url,
            signup_redirect_url: req.signup_redirect_url,
            nonce: request_id.clone(),
            pkce_verifier: String::new(),
        },
    )
    .await?;
    let acs = acs_url(ctx, &c.connection_id);
    let destination_acs = if c.config.alternative_acs_url.is_empty() {
        acs.clone()
    } else {
        c.config.alternative_acs_url.clone()
    };
    let saml = ctx.saml.clone();
    let (idp_sso_url, nameid_format, key) = (
        c.config.idp_sso_url.clone(),
        c.config.nameid_format.clone(),
        c.secrets.signing_private_key.clone(),
    );
    let state = recorded.state.clone();
    let url = ctx
        .cpu
        .run(move || {
            saml.authn_request_url(&AuthnRequest {
                id: &request_id,
                idp_sso_url: &idp_sso_url,
                issuer: &acs,
                acs_url: &destination_acs,
                nameid_format: &nameid_format,
                relay_state: &state,
                signing_key_pem: &key,
            })
        })
        .await??;
    Ok(trip::Started {
        authorization_url: url,
        browser_secret: recorded.browser_secret,
        posted_back: true,
    })
}

fn refused(r: Refusal) -> CoreError {
    let (kind, detail) = match r {
        Refusal::MissingSignature => (MISSING_SIGNATURE_SAML_RESPONSE, None),
        Refusal::InvalidSignature(d) => (INVALID_SIGNATURE_SAML_RESPONSE, Some(d)),
        Refusal::Audience(d) => (INVALID_AUDIENCE_SAML_RESPONSE, Some(d)),
        Refusal::Expired(d) => (EXPIRED_SAML_RESPONSE, Some(d)),
        Refusal::NotYetValid(d) => (NOT_YET_VALID_SAML_RESPONSE, Some(d)),
        Refusal::Unsolicited(d) => (UNSOLICITED_SAML_RESPONSE, Some(d)),
        Refusal::Invalid(d) => (INVALID_SAML_RESPONSE, Some(d)),
    };
    crate::engine::audit::detail("cause", kind.error_type);
    match detail {
        Some(d) => kind.detail(d),
        None => kind.err(),
    }
}

/// Verifies the response on the CPU pool (xmlsec's work), for this connection and the request it
/// must answer (`None`: none).
async fn verify(
    ctx: &Ctx,
    c: &SamlConnectionRecord,
    request_id: Option<String>,
    saml_response: &str,
) -> CoreResult<VerifiedAssertion> {
    let saml = ctx.saml.clone();
    let c = c.clone();
    let acs = acs_url(ctx, &c.connection_id);
    let response = saml_response.to_string();
    let verified = ctx
        .cpu
        .run(move || {
            let cfg = &c.config;
            let mut audiences = vec![acs.as_str()];
            if !cfg.alternative_audience_uri.is_empty() {
                audiences.push(&cfg.alternative_audience_uri);
            }
            let mut acs_urls = vec![acs.as_str()];
            if !cfg.alternative_acs_url.is_empty() {
                acs_urls.push(&cfg.alternative_acs_url);
            }
            saml.verify_response(
                &ServiceProvider {
                    audiences,
                    acs_urls,
                    idp_entity_id: &cfg.idp_entity_id,
                    verification_certificates: cfg
                        .verification_certificates
                        .iter()
                        .map(|x| x.certificate.as_str())
                        .collect(),
                    decryption_keys: c.decryption_keys(),
                    request_id: request_id.as_deref(),
                },
                &response,
            )
        })
        .await?;
    verified.map_err(refused)
}

/// The value of a mapped attribute (the first, when the IdP sent several).
fn first_value(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// What the IdP vouched for, as the identity an SSO token holds: the NameID as the subject,
/// the email from the mapped attribute (else an email-format NameID), every attribute as claims.
fn identity(c: &SamlConnectionRecord, a: &VerifiedAssertion) -> CoreResult<SsoIdentity> {
    let mapped = crate::oidc::mapped_attributes(&c.config.attribute_mapping, &a.attributes);
    let email_format = a
        .name_id_format
        .as_deref()
        .is_some_and(|f| f.ends_with(":nameid-format:emailAddress"));
    let email = mapped
        .get("email")
        .and_then(first_value)
        .map(str::to_string)
        .or_else(|| email_format.then(|| a.name_id.clone()))
        .ok_or_else(|| INVALID_SAML_RESPONSE_EMAIL.err())?;
    let email = crate::validate::normalize_email(&email).map_err(|_| INVALID_SAML_RESPONSE_EMAIL.err())?;
    let name = match (
        mapped.get("full_name"),
        mapped.get("first_name"),
        mapped.get("last_name"),
    ) {
        (Some(full), _, _) => first_value(full).map(str::to_string),
        (None, first, last) => {
            let parts: Vec<&str> = [first, last].into_iter().flatten().filter_map(first_value).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
    };
    Ok(SsoIdentity {
        subject: a.name_id.clone(),
        email: Some(email),
        // The IdP asserts the address it has for its user; SAML has no separate claim for it.
        email_verified: None,
        name,
        claims: a.attributes.clone(),
    })
}

/// The IdP's POST to the ACS URL. With a RelayState naming a live trip of this connection, the
/// response must answer that trip's AuthnRequest; otherwise it is IdP-initiated (when the
/// connection allows it) and must answer no request. Each assertion is accepted once. Then the
/// browser goes to the application with a one-time SSO token.
pub async fn consume(
    ctx: &Ctx,
    connection_id: &str,
    saml_response: &str,
    relay_state: &str,
    browser_secret: Option<&str>,
) -> CoreResult<Finished> {
    if !is_saml(connection_id) || connection_id.len() > 128 {
        return Err(directory::connection_not_found());
    }
    let c = ctx
        .store
        .find_saml_connection(connection_id)
        .await?
        .filter(SamlConnectionRecord::is_active)
        .ok_or_else(directory::connection_not_found)?;
    crate::engine::audit::project(&c.project_id);
    if saml_response.is_empty() {
        return Err(INVALID_SAML_RESPONSE.detail("no SAMLResponse"));
    }
    let trip = trip::take_posted(
        ctx,
        relay_state,
        browser_secret,
        UNSOLICITED_SAML_RESPONSE,
        SAML_CSRF_COOKIE_MISMATCH,
    )
    .await?;
    if let Some(t) = &trip {
        let for_this = t.project_id == c.project_id
            && matches!(&t.destination, TripDestination::Sso { connection_id: id } if id == connection_id);
        if !for_this {
            return Err(UNSOLICITED_SAML_RESPONSE.err());
        }
    }
    let assertion = verify(ctx, &c, trip.as_ref().map(|t| t.nonce.clone()), saml_response).await?;
    if trip.is_none() && c.config.idp_initiated_auth_disabled {
        return Err(SAML_IDP_INITIATED_AUTH_DISABLED.err());
    }
    let identity = identity(&c, &assertion)?;
    let org = organizations::get(ctx, &c.project_id, &c.organization_id).await?;
    // Refused here as at sso.authenticate, so the browser learns it before the application.
    let known = identity_rules::existing_member(ctx, &org, &c.connection_id, &identity).await?;
    if known.is_none() {
        identity_rules::check_jit(&org, &c.connection_id)?;
    }
    let now = ctx.now();
    let (login, signup, code_challenge) = match trip {
        Some(t) => (t.login_redirect_url, t.signup_redirect_url, t.code_challenge),
        None => (
            redirects::required(ctx, &c.project_id, RedirectType::Login, None).await?,
            redirects::required(ctx, &c.project_id, RedirectType::Signup, None).await?,
            None,
        ),
    };
    // Recorded last of the checks and before the token: one atomic insert, so of two posts of
    // one assertion (to any node) exactly one goes on.
    let until = assertion
        .valid_until_secs
        .map(|s| Timestamp(s.saturating_mul(1000)))
        .filter(|t| *t > now)
        .unwrap_or(now.plus_minutes(REPLAY_WINDOW_MINUTES));
    let key = sha256_hex(&format!("{}\n{}", c.connection_id, assertion.assertion_id));
    if !ctx.store.record_saml_assertion(&c.project_id, &key, until).await? {
        crate::engine::audit::detail("cause", "replayed_assertion");
        return Err(DUPLICATE_SAML_RESPONSE.err());
    }
    let token = random_token(32);
    ctx.store
        .insert_sso_token(&SsoTokenRecord {
            token_hash: sha256_hex(&token),
            project_id: c.project_id.clone(),
            organization_id: org.organization_id.clone(),
            connection_id: c.connection_id.clone(),
            identity,
            code_challenge,
            created_at: now,
            expires_at: now.plus_minutes(identity_rules::TOKEN_MINUTES),
        })
        .await?;
    let target = if known.is_some() { login } else { signup };
    Ok(Finished {
        redirect_url: trip::land(&target, "sso", &token),
    })
}

/// The roles a SAML sign-in grants: the connection's, and those of the groups the IdP lists in
/// the mapped `groups` attribute.
pub fn role_grants(c: &SamlConnectionRecord, claims: &Map<String, Value>) -> Vec<SsoRoleGrant> {
    let mapped = crate::oidc::mapped_attributes(&c.config.attribute_mapping, claims);
    let groups: Vec<&str> = match mapped.get("groups") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let mut out: Vec<SsoRoleGrant> = c
        .config
        .connection_roles
        .iter()
        .map(|r| SsoRoleGrant {
            role_id: r.role_id.clone(),
            connection_id: c.connection_id.clone(),
            group: None,
        })
        .collect();
    for r in &c.config.group_roles {
        if groups.contains(&r.group.as_str()) {
            out.push(SsoRoleGrant {
                role_id: r.role_id.clone(),
                connection_id: c.connection_id.clone(),
                group: Some(r.group.clone()),
            });
        }
    }
    out
}

/// The member's roles from this connection become those of this sign-in.
pub fn apply_role_grants(member: &mut MemberRecord, connection_id: &str, grants: Vec<SsoRoleGrant>) -> bool {
    let before = member.sso_roles.clone();
    member.sso_roles.retain(|g| g.connection_id != connection_id);
    member.sso_roles.extend(grants);
    member.sso_roles != before
}
