//! `/pwa/v3/…`: Stytch's Management API (management.md), as `stytch-management` calls it. Its own
//! credentials (workspace keys, `WorkspaceAuth`); a project's secret never opens it, and a
//! workspace key never opens the B2B API. The client insists on HTTPS: serve it with
//! `tls_cert_file` and `tls_key_file`.

mod projects;
mod settings;
mod templates;

use crate::error::ApiError;
use crate::extract::basic_credentials;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use latch_core::engine::audit;
use latch_core::error::catalogue;
use latch_core::model::audit::AuditActor;
use latch_core::service::management::workspace_keys;

/// A Management API call made with a valid workspace key.
pub struct WorkspaceAuth;

impl FromRequestParts<AppState> for WorkspaceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some((id, secret)) = basic_credentials(parts) else {
            return Err(ApiError::Core(catalogue::UNAUTHORIZED_CREDENTIALS.err()));
        };
        let key = workspace_keys::authenticate(&state.ctx, &id, &secret).await?;
        audit::actor(AuditActor::operator(&key.key_id));
        Ok(WorkspaceAuth)
    }
}

/// Routes of features Latch does not have, behind the same credentials as the rest.
async fn unsupported(_: WorkspaceAuth, uri: axum::http::Uri) -> ApiError {
    ApiError::http_detail(catalogue::ENDPOINT_NOT_SUPPORTED, uri.path())
}

/// The Management API's routes.
pub fn routes() -> Router<AppState> {
    let project = "/pwa/v3/projects/{project_slug}";
    let env = "/pwa/v3/projects/{project_slug}/environments/{environment_slug}";
    Router::new()
        .route("/pwa/v3/projects", post(projects::create).get(projects::list))
        .route(
            project,
            get(projects::get).patch(projects::update).delete(projects::delete),
        )
        .route(
            &format!("{project}/environments"),
            post(projects::create_environment).get(projects::environments),
        )
        .route(
            env,
            get(projects::environment)
                .patch(projects::update_environment)
                .delete(projects::delete_environment),
        )
        .route(&format!("{env}/metrics"), get(projects::metrics))
        .route(
            &format!("{env}/secrets"),
            post(projects::create_secret).get(projects::secrets),
        )
        .route(
            &format!("{env}/secrets/{{secret_id}}"),
            get(projects::secret).delete(projects::delete_secret),
        )
        .route(
            &format!("{env}/public_tokens"),
            post(projects::create_public_token).get(projects::public_tokens),
        )
        .route(
            &format!("{env}/public_tokens/{{public_token}}"),
            get(projects::public_token).delete(projects::delete_public_token),
        )
        .route(
            &format!("{env}/password_strength_config"),
            get(settings::password_strength).put(settings::set_password_strength),
        )
        .route(
            &format!("{env}/redirect_urls"),
            post(settings::create_redirect_url)
                .get(settings::redirect_url)
                .put(settings::update_redirect_url)
                .delete(settings::delete_redirect_url),
        )
        .route(&format!("{env}/redirect_urls/all"), get(settings::redirect_urls))
        .route(
            &format!("{env}/rbac_policy"),
            get(settings::rbac_policy).put(settings::set_rbac_policy),
        )
        .route(
            &format!("{env}/allowed_country_codes/sms"),
            get(settings::sms_countries).post(settings::set_sms_countries),
        )
        .route(
            &format!("{env}/allowed_country_codes/whatsapp"),
            get(settings::whatsapp_countries).post(settings::set_whatsapp_countries),
        )
        .route(
            &format!("{project}/email_templates"),
            post(templates::create).get(templates::list),
        )
        .route(
            &format!("{project}/email_templates/{{template_id}}"),
            get(templates::get).put(templates::update).delete(templates::delete),
        )
        .route(
            &format!("{project}/default_email_templates/{{email_template_type}}"),
            post(templates::set_default)
                .get(templates::get_default)
                .delete(templates::unset_default),
        )
        // JWT templates, frontend SDK configuration, event log streaming and trusted token
        // profiles configure features Latch does not have: say so rather than accept settings
        // that would do nothing.
        .route(
            &format!("{env}/jwt_templates/{{jwt_template_type}}"),
            get(unsupported).put(unsupported),
        )
        .route(&format!("{env}/sdk/{{vertical}}"), get(unsupported).put(unsupported))
        .route(&format!("{env}/event_log_streaming"), post(unsupported))
        .route(
            &format!("{env}/event_log_streaming/{{destination_type}}"),
            get(unsupported).put(unsupported).delete(unsupported),
        )
        .route(
            &format!("{env}/event_log_streaming/{{destination_type}}/{{action}}"),
            post(unsupported),
        )
        .route(
            &format!("{env}/trusted_token_profiles"),
            post(unsupported).get(unsupported),
        )
        .route(
            &format!("{env}/trusted_token_profiles/{{profile_id}}"),
            get(unsupported).patch(unsupported).delete(unsupported),
        )
        .route(
            &format!("{env}/trusted_token_profiles/{{profile_id}}/keys"),
            post(unsupported),
        )
        .route(
            &format!("{env}/trusted_token_profiles/{{profile_id}}/keys/{{pem_file_id}}"),
            get(unsupported).delete(unsupported),
        )
}
