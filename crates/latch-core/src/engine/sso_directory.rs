//! An organization's SSO connections of every kind (SAML and OIDC): where their identity
//! providers send browsers back to, and the organization's view of them (the active ones, the
//! default connection, the JIT allow-list), kept in step as connections change.

use crate::engine::grant::Grant;
use crate::engine::{organizations, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::model::organization::OrgRecord;
use crate::model::sso::ActiveSsoConnection;

/// The callback URL of a connection, given to its provider (`redirect_url` on the object).
pub fn redirect_url(ctx: &Ctx, connection_id: &str) -> String {
    format!(
        "{}/v1/b2b/sso/callback/{connection_id}",
        ctx.settings.public_url.trim_end_matches('/')
    )
}

pub fn connection_not_found() -> CoreError {
    SSO_CONNECTION_NOT_FOUND.err()
}

/// The organization's view of its connections: the active ones listed, a default that exists
/// (the first connection when none is chosen, as Stytch does), JIT allow-list entries that exist.
pub async fn sync_organization(ctx: &Ctx, grant: &Grant, org: &OrgRecord) -> CoreResult<()> {
    crate::store::retry::on_conflict(|| async {
        let mut org = organizations::get(ctx, &org.project_id, &org.organization_id).await?;
        let all = all_connections(ctx, &org).await?;
        let active: Vec<ActiveSsoConnection> = all.iter().filter(|c| c.1).map(|c| c.0.clone()).collect();
        let all: Vec<ActiveSsoConnection> = all.into_iter().map(|c| c.0).collect();
        let s = &mut org.settings;
        let before = (
            s.sso_active_connections.clone(),
            s.sso_default_connection_id.clone(),
            s.sso_jit_provisioning_allowed_connections.clone(),
        );
        s.sso_active_connections = active;
        let exists = |id: &String| all.iter().any(|c| &c.connection_id == id);
        if !s.sso_default_connection_id.as_ref().is_some_and(exists) {
            s.sso_default_connection_id = all.first().map(|c| c.connection_id.clone());
        }
        s.sso_jit_provisioning_allowed_connections.retain(exists);
        let after = (
            s.sso_active_connections.clone(),
            s.sso_default_connection_id.clone(),
            s.sso_jit_provisioning_allowed_connections.clone(),
        );
        if before != after {
            organizations::save(ctx, grant, &mut org).await?;
        }
        Ok(())
    })
    .await
}

/// Every SSO connection of the organization (SAML first, then OIDC, each oldest first), and
/// whether it is active.
async fn all_connections(ctx: &Ctx, org: &OrgRecord) -> CoreResult<Vec<(ActiveSsoConnection, bool)>> {
    let saml = ctx
        .store
        .saml_connections(&org.project_id, &org.organization_id)
        .await?;
    let oidc = ctx
        .store
        .oidc_connections(&org.project_id, &org.organization_id)
        .await?;
    let mut all: Vec<(ActiveSsoConnection, bool)> = saml
        .iter()
        .map(|c| {
            let entry = ActiveSsoConnection {
                connection_id: c.connection_id.clone(),
                display_name: c.config.display_name.clone(),
                identity_provider: c.config.identity_provider.clone(),
            };
            (entry, c.is_active())
        })
        .collect();
    all.extend(oidc.iter().map(|c| {
        let entry = ActiveSsoConnection {
            connection_id: c.connection_id.clone(),
            display_name: c.display_name.clone(),
            identity_provider: c.identity_provider.clone(),
        };
        (entry, c.is_active())
    }));
    Ok(all)
}

/// Checks an `sso_default_connection_id` / `sso_jit_provisioning_allowed_connections` entry
/// names a connection of the organization.
pub async fn check_connection_ids(ctx: &Ctx, org: &OrgRecord, ids: &[String]) -> CoreResult<()> {
    let all = all_connections(ctx, org).await?;
    for id in ids {
        if !all.iter().any(|c| &c.0.connection_id == id) {
            return Err(INVALID_SSO_DEFAULT_CONNECTION_ID.detail(id));
        }
    }
    Ok(())
}
