//! The audit log's HTTP half: one event per audited call, recorded when its answer is known.
//!
//! `record` (around everything but the access log) opens the request's notes
//! (`latch_core::engine::audit`), lets the call run, then names the call by its route
//! (`event_type`: Stytch's SDK method, `passwords.authenticate`), takes its outcome from the
//! status and its reason from the `error_type` of the answer (`ErrorType`), and hands the event,
//! with whatever the extractors and use cases noted, to the audit log's channel. Reads are not
//! audited (searches, gets, session checks), except those that show secrets. A write route
//! missing from the table is still recorded, as `api.request` with its route.

use crate::client_addr::ResolvedClient;
use crate::observe::current_request_id;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use latch_core::engine::audit::{self, Answer, Notes};
use latch_core::model::audit::AuditOutcome;
use std::sync::{Arc, Mutex};

/// The `error_type` an error answer carried (set by `crate::error`), for the event's reason.
#[derive(Debug, Clone)]
pub struct ErrorType(pub String);

/// Notes the matched route template (a route layer: only the router knows it).
pub async fn note_route(req: Request, next: Next) -> Response {
    if let Some(p) = req.extensions().get::<MatchedPath>() {
        audit::route(p.as_str());
    }
    next.run(req).await
}

/// Runs the call inside fresh notes and records its event(s) once it is answered.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let notes = Arc::new(Mutex::new(Notes::default()));
    let method = req.method().clone();
    let client = req.extensions().get::<ResolvedClient>().map(|c| c.addr.0.to_string());
    let response = audit::scope(notes.clone(), next.run(req)).await;
    let mut notes = match notes.lock() {
        Ok(mut n) => std::mem::take(&mut *n),
        Err(_) => return response,
    };
    let Some(route) = notes.route.take() else {
        return response;
    };
    let event_type = match event_type(&method, &route) {
        Audited::Yes(name) => name,
        Audited::No => return response,
        Audited::Unlisted => {
            notes.details.insert("route".into(), route.clone().into());
            notes.details.insert("method".into(), method.as_str().into());
            "api.request"
        }
    };
    let status = response.status();
    let outcome = if status.is_client_error() || status.is_server_error() {
        AuditOutcome::Failure
    } else {
        AuditOutcome::Success
    };
    let reason = response.extensions().get::<ErrorType>().map(|e| e.0.clone());
    let request_id = current_request_id();
    let events = notes.into_events(Answer {
        event_type,
        outcome,
        reason: reason.as_deref().filter(|_| outcome == AuditOutcome::Failure),
        status_code: status.as_u16(),
        request_id: &request_id,
        client_address: client,
        time: state.ctx.now(),
    });
    for event in events {
        state.ctx.audit.record(event).await;
    }
    response
}

pub enum Audited {
    Yes(&'static str),
    /// A read (or a route Latch does not serve): no event.
    No,
    /// A write route the table does not name: recorded as `api.request`.
    Unlisted,
}

/// The event of a call: the Stytch SDK method it is, by method and route template.
pub fn event_type(method: &Method, route: &str) -> Audited {
    use Audited::{No, Yes};
    let member = route.strip_prefix("/v1/b2b/organizations/{organization_id}/members/{member_id}");
    let m = method.as_str();
    let found = match (m, route) {
        ("POST", "/v1/b2b/organizations") => Yes("organizations.create"),
        ("PUT", "/v1/b2b/organizations/{organization_id}") => Yes("organizations.update"),
        ("DELETE", "/v1/b2b/organizations/{organization_id}") => Yes("organizations.delete"),
        ("DELETE", "/v1/b2b/organizations/{organization_id}/external_id") => Yes("organizations.delete_external_id"),
        ("POST", "/v1/b2b/organizations/{organization_id}/members") => Yes("organizations.members.create"),
        ("DELETE", "/v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}") => {
            Yes("organizations.members.delete_password")
        }
        ("DELETE", "/v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}") => {
            Yes("organizations.members.delete_mfa_phone_number")
        }
        ("POST", "/v1/b2b/scim/{organization_id}/connection") => Yes("scim.connection.create"),
        ("PUT", "/v1/b2b/scim/{organization_id}/connection/{connection_id}") => Yes("scim.connection.update"),
        ("DELETE", "/v1/b2b/scim/{organization_id}/connection/{connection_id}") => Yes("scim.connection.delete"),
        ("POST", "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/start") => {
            Yes("scim.connection.rotate_start")
        }
        ("POST", "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/complete") => {
            Yes("scim.connection.rotate_complete")
        }
        ("POST", "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/cancel") => {
            Yes("scim.connection.rotate_cancel")
        }
        // The SCIM service (its first segment is the connection id): an identity provider's
        // writes. `/.search` is a read sent as POST.
        ("POST", "/v1/b2b/scim/{organization_id}/{*rest}") => Yes("scim.resource.create"),
        ("PUT", "/v1/b2b/scim/{organization_id}/{*rest}") => Yes("scim.resource.replace"),
        ("PATCH", "/v1/b2b/scim/{organization_id}/{*rest}") => Yes("scim.resource.patch"),
        ("DELETE", "/v1/b2b/scim/{organization_id}/{*rest}") => Yes("scim.resource.delete"),
        ("POST", "/v1/b2b/sso/authenticate") => Yes("sso.authenticate"),
        ("DELETE", "/v1/b2b/sso/{organization_id}/connections/{connection_id}") => Yes("sso.delete_connection"),
        ("POST", "/v1/b2b/sso/oidc/{organization_id}") => Yes("sso.oidc.create_connection"),
        ("PUT", "/v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}") => Yes("sso.oidc.update_connection"),
        ("GET", "/v1/public/sso/start") => Yes("sso.start"),
        ("GET", "/v1/b2b/sso/callback/{connection_id}") => Yes("sso.callback"),
        ("POST", "/v1/b2b/sso/callback/{connection_id}") => Yes("sso.saml.acs"),
        ("POST", "/v1/b2b/sso/saml/{organization_id}") => Yes("sso.saml.create_connection"),
        ("PUT", "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}") => Yes("sso.saml.update_connection"),
        ("PUT", "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url") => Yes("sso.saml.update_by_url"),
        (
            "DELETE",
            "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/verification_certificates/{certificate_id}",
        ) => Yes("sso.saml.delete_verification_certificate"),
        (
            "DELETE",
            "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/encryption_private_keys/{private_key_id}",
        ) => Yes("sso.saml.delete_encryption_private_key"),
        ("POST", "/v1/b2b/oauth/authenticate") => Yes("oauth.authenticate"),
        ("POST", "/v1/b2b/oauth/discovery/authenticate") => Yes("oauth.discovery.authenticate"),
        ("GET", "/v1/b2b/public/oauth/{provider}/start") => Yes("oauth.start"),
        ("GET", "/v1/b2b/public/oauth/{provider}/discovery/start") => Yes("oauth.discovery.start"),
        ("GET", "/v1/b2b/public/oauth/{provider}/callback") => Yes("oauth.callback"),
        ("POST", "/v1/b2b/magic_links/email/login_or_signup") => Yes("magic_links.email.login_or_signup"),
        ("POST", "/v1/b2b/magic_links/email/invite") => Yes("magic_links.email.invite"),
        ("POST", "/v1/b2b/magic_links/authenticate") => Yes("magic_links.authenticate"),
        ("POST", "/v1/b2b/magic_links/email/discovery/send") => Yes("magic_links.email.discovery.send"),
        ("POST", "/v1/b2b/magic_links/discovery/authenticate") => Yes("magic_links.discovery.authenticate"),
        ("POST", "/v1/b2b/passwords/migrate") => Yes("passwords.migrate"),
        ("POST", "/v1/b2b/passwords/authenticate") => Yes("passwords.authenticate"),
        ("POST", "/v1/b2b/passwords/email/reset/start") => Yes("passwords.email.reset_start"),
        ("POST", "/v1/b2b/passwords/email/reset") => Yes("passwords.email.reset"),
        ("POST", "/v1/b2b/passwords/email/require_reset") => Yes("passwords.email.require_reset"),
        ("POST", "/v1/b2b/passwords/email/delete") => Yes("passwords.email.delete"),
        ("POST", "/v1/b2b/passwords/session/reset") => Yes("passwords.sessions.reset"),
        ("POST", "/v1/b2b/passwords/existing_password/reset") => Yes("passwords.existing_password.reset"),
        ("POST", "/v1/b2b/passwords/discovery/authenticate") => Yes("passwords.discovery.authenticate"),
        ("POST", "/v1/b2b/passwords/discovery/email/reset/start") => Yes("passwords.discovery.email.reset_start"),
        ("POST", "/v1/b2b/passwords/discovery/email/reset") => Yes("passwords.discovery.email.reset"),
        ("POST", "/v1/b2b/otps/email/login_or_signup") => Yes("otps.email.login_or_signup"),
        ("POST", "/v1/b2b/otps/email/authenticate") => Yes("otps.email.authenticate"),
        ("POST", "/v1/b2b/otps/sms/send") => Yes("otps.sms.send"),
        ("POST", "/v1/b2b/otps/sms/authenticate") => Yes("otps.sms.authenticate"),
        ("POST", "/v1/b2b/otps/email/discovery/send") => Yes("otps.email.discovery.send"),
        ("POST", "/v1/b2b/otps/email/discovery/authenticate") => Yes("otps.email.discovery.authenticate"),
        ("POST", "/v1/b2b/discovery/organizations/create") => Yes("discovery.organizations.create"),
        ("POST", "/v1/b2b/discovery/intermediate_sessions/exchange") => Yes("discovery.intermediate_sessions.exchange"),
        ("POST", "/v1/b2b/totp") => Yes("totps.create"),
        ("POST", "/v1/b2b/totp/authenticate") => Yes("totps.authenticate"),
        ("POST", "/v1/b2b/totp/migrate") => Yes("totps.migrate"),
        ("POST", "/v1/b2b/recovery_codes/recover") => Yes("recovery_codes.recover"),
        ("POST", "/v1/b2b/recovery_codes/rotate") => Yes("recovery_codes.rotate"),
        // Reads that show secrets: who saw them is worth knowing.
        ("GET", "/v1/b2b/recovery_codes/{organization_id}/{member_id}") => Yes("recovery_codes.get"),
        ("POST", "/v1/b2b/sessions/revoke") => Yes("sessions.revoke"),
        ("POST", "/v1/b2b/sessions/exchange") => Yes("sessions.exchange"),
        ("PUT", "/v1/b2b/rbac/organizations/{organization_id}") => Yes("rbac.organizations.set_org_policy"),
        // Reads sent as POST, and routes answered 501.
        (
            "POST",
            "/v1/b2b/organizations/search"
            | "/v1/b2b/organizations/members/search"
            | "/v1/b2b/passwords/strength_check"
            | "/v1/b2b/sessions/authenticate"
            | "/v1/b2b/discovery/organizations"
            | "/v1/b2b/sessions/exchange_access_token"
            | "/v1/b2b/sessions/attest"
            | "/v1/b2b/sessions/migrate",
        ) => No,
        _ => Audited::Unlisted,
    };
    if !matches!(found, Audited::Unlisted) {
        return found;
    }
    if let Some(rest) = route.strip_prefix("/pwa/v3/projects") {
        return management_event(m, rest);
    }
    match (m, member) {
        ("PUT", Some("")) => Yes("organizations.members.update"),
        ("DELETE", Some("")) => Yes("organizations.members.delete"),
        ("PUT", Some("/reactivate")) => Yes("organizations.members.reactivate"),
        ("DELETE", Some("/totp")) => Yes("organizations.members.delete_totp"),
        ("DELETE", Some("/external_id")) => Yes("organizations.members.delete_external_id"),
        ("POST", Some("/unlink_retired_email")) => Yes("organizations.members.unlink_retired_email"),
        ("POST", Some("/start_email_update")) => Yes("organizations.members.start_email_update"),
        ("POST", Some("/connected_apps/{connected_app_id}/revoke")) => {
            Yes("organizations.members.connected_apps.revoke")
        }
        // The provider's access and refresh tokens.
        ("GET", Some("/oauth_providers/{provider}")) => Yes("organizations.members.oauth_providers.get"),
        ("GET" | "HEAD" | "OPTIONS", _) => No,
        _ => Audited::Unlisted,
    }
}

/// Management API calls, by the route below `/pwa/v3/projects` (the client's method names).
fn management_event(m: &str, rest: &str) -> Audited {
    use Audited::{No, Yes};
    let env = rest.strip_prefix("/{project_slug}/environments/{environment_slug}");
    match (m, rest, env) {
        ("GET" | "HEAD" | "OPTIONS", _, _) => No,
        ("POST", "", _) => Yes("management.projects.create"),
        ("PATCH", "/{project_slug}", _) => Yes("management.projects.update"),
        ("DELETE", "/{project_slug}", _) => Yes("management.projects.delete"),
        ("POST", "/{project_slug}/environments", _) => Yes("management.environments.create"),
        ("PATCH", _, Some("")) => Yes("management.environments.update"),
        ("DELETE", _, Some("")) => Yes("management.environments.delete"),
        ("POST", _, Some("/secrets")) => Yes("management.secrets.create"),
        ("DELETE", _, Some("/secrets/{secret_id}")) => Yes("management.secrets.delete"),
        ("POST", _, Some("/public_tokens")) => Yes("management.public_tokens.create"),
        ("DELETE", _, Some("/public_tokens/{public_token}")) => Yes("management.public_tokens.delete"),
        ("PUT", _, Some("/password_strength_config")) => Yes("management.password_strength_config.set"),
        ("POST", _, Some("/redirect_urls")) => Yes("management.redirect_urls.create"),
        ("PUT", _, Some("/redirect_urls")) => Yes("management.redirect_urls.update"),
        ("DELETE", _, Some("/redirect_urls")) => Yes("management.redirect_urls.delete"),
        ("PUT", _, Some("/rbac_policy")) => Yes("management.rbac_policy.set"),
        ("POST", _, Some("/allowed_country_codes/sms")) => {
            Yes("management.country_code_allowlist.set_allowed_sms_country_codes")
        }
        _ => Audited::Unlisted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(method: Method, route: &str) -> Option<&'static str> {
        match event_type(&method, route) {
            Audited::Yes(n) => Some(n),
            Audited::No => None,
            Audited::Unlisted => Some("api.request"),
        }
    }

    #[test]
    fn management_calls_are_named_after_the_clients_methods() {
        let env = "/pwa/v3/projects/{project_slug}/environments/{environment_slug}";
        assert_eq!(
            name(Method::POST, &format!("{env}/secrets")),
            Some("management.secrets.create")
        );
        assert_eq!(
            name(Method::PUT, &format!("{env}/rbac_policy")),
            Some("management.rbac_policy.set")
        );
        assert_eq!(name(Method::GET, &format!("{env}/secrets")), None);
        assert_eq!(
            name(Method::POST, "/pwa/v3/projects"),
            Some("management.projects.create")
        );
    }

    #[test]
    fn calls_are_named_after_their_sdk_method() {
        assert_eq!(
            name(Method::POST, "/v1/b2b/passwords/authenticate"),
            Some("passwords.authenticate")
        );
        assert_eq!(
            name(
                Method::PUT,
                "/v1/b2b/organizations/{organization_id}/members/{member_id}"
            ),
            Some("organizations.members.update")
        );
        assert_eq!(
            name(
                Method::GET,
                "/v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/{provider}"
            ),
            Some("organizations.members.oauth_providers.get")
        );
    }

    #[test]
    fn reads_are_not_audited_and_unknown_writes_are() {
        assert_eq!(name(Method::GET, "/v1/b2b/organizations/{organization_id}"), None);
        assert_eq!(name(Method::POST, "/v1/b2b/sessions/authenticate"), None);
        assert_eq!(name(Method::GET, "/latch/v1/events"), None);
        assert_eq!(name(Method::POST, "/v1/b2b/something/new"), Some("api.request"));
    }
}
