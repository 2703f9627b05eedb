//! `SsoStore`: OIDC connections, registrations, public tokens, SSO states and tokens.

use crate::exec::{args, Arg};
use crate::sealing::{OIDC_CLIENT_SECRET, PKCE_VERIFIER, SAML_SECRETS};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::model::oauth::OAuthProvider;
use latch_core::model::saml::{SamlConfig, SamlConnectionRecord, SamlSecrets};
use latch_core::model::sso::{
    OidcConnectionRecord, SsoIdentity, SsoRegistration, SsoStateRecord, SsoTokenRecord, TripDestination,
};
use latch_core::store::{SsoStore, StoreResult};
use serde_json::{Map, Value};

impl SqlStore {
    fn unseal_connection(&self, mut r: ConnectionRow) -> StoreResult<OidcConnectionRecord> {
        r.client_secret = self.open(OIDC_CLIENT_SECRET, &r.connection_id, &r.client_secret)?;
        r.try_into()
    }
}

#[derive(sqlx::FromRow)]
struct SamlRow {
    connection_id: String,
    project_id: String,
    organization_id: String,
    config: String,
    secrets: String,
    created_at: i64,
    updated_at: i64,
}

const SAML_COLUMNS: &str = "connection_id, project_id, organization_id, config, secrets, created_at, updated_at";

impl SqlStore {
    fn unseal_saml(&self, r: SamlRow) -> StoreResult<SamlConnectionRecord> {
        let corrupt = |what: &str, e: serde_json::Error| StoreError::Backend(format!("corrupt SAML {what}: {e}"));
        let config: SamlConfig = serde_json::from_str(&r.config).map_err(|e| corrupt("config", e))?;
        let secrets_json = self.open(SAML_SECRETS, &r.connection_id, &r.secrets)?;
        let secrets: SamlSecrets = serde_json::from_str(&secrets_json).map_err(|e| corrupt("secrets", e))?;
        Ok(SamlConnectionRecord {
            connection_id: r.connection_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            config,
            secrets,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

fn json_map(text: &str, what: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("corrupt {what}: {e}")))
}

const CONNECTION_COLUMNS: &str =
    "connection_id, project_id, organization_id, display_name, identity_provider, issuer, \
     client_id, client_secret, authorization_url, token_url, userinfo_url, jwks_url, custom_scopes, attribute_mapping, \
     created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    connection_id: String,
    project_id: String,
    organization_id: String,
    display_name: String,
    identity_provider: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    authorization_url: String,
    token_url: String,
    userinfo_url: String,
    jwks_url: String,
    custom_scopes: String,
    attribute_mapping: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ConnectionRow> for OidcConnectionRecord {
    type Error = StoreError;

    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        Ok(OidcConnectionRecord {
            attribute_mapping: json_map(&r.attribute_mapping, "attribute_mapping")?,
            connection_id: r.connection_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            display_name: r.display_name,
            identity_provider: r.identity_provider,
            issuer: r.issuer,
            client_id: r.client_id,
            client_secret: r.client_secret,
            authorization_url: r.authorization_url,
            token_url: r.token_url,
            userinfo_url: r.userinfo_url,
            jwks_url: r.jwks_url,
            custom_scopes: r.custom_scopes,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

const STATE_COLUMNS: &str =
    "state_hash, project_id, connection_id, browser_hash, nonce, pkce_verifier, code_challenge, \
     login_redirect_url, signup_redirect_url, created_at, expires_at, oauth_provider, organization_id";

#[derive(sqlx::FromRow)]
struct StateRow {
    state_hash: String,
    project_id: String,
    connection_id: String,
    browser_hash: String,
    nonce: String,
    pkce_verifier: String,
    code_challenge: Option<String>,
    login_redirect_url: String,
    signup_redirect_url: String,
    created_at: i64,
    expires_at: i64,
    oauth_provider: Option<String>,
    organization_id: Option<String>,
}

impl TryFrom<StateRow> for SsoStateRecord {
    type Error = StoreError;

    fn try_from(r: StateRow) -> Result<Self, StoreError> {
        let destination = match r.oauth_provider {
            None => TripDestination::Sso {
                connection_id: r.connection_id,
            },
            Some(p) => TripDestination::OAuth {
                provider: OAuthProvider::parse(&p)
                    .ok_or_else(|| StoreError::Backend(format!("corrupt oauth_provider: {p}")))?,
                organization_id: r.organization_id.map(Into::into),
            },
        };
        Ok(SsoStateRecord {
            state_hash: r.state_hash,
            project_id: r.project_id.into(),
            destination,
            browser_hash: r.browser_hash,
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            code_challenge: r.code_challenge,
            login_redirect_url: r.login_redirect_url,
            signup_redirect_url: r.signup_redirect_url,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    project_id: String,
    organization_id: String,
    connection_id: String,
    identity: String,
    code_challenge: Option<String>,
    created_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    registration_id: String,
    project_id: String,
    organization_id: String,
    member_id: String,
    connection_id: String,
    external_id: String,
    sso_attributes: String,
    created_at: i64,
}

impl TryFrom<RegistrationRow> for SsoRegistration {
    type Error = StoreError;

    fn try_from(r: RegistrationRow) -> Result<Self, StoreError> {
        Ok(SsoRegistration {
            sso_attributes: json_map(&r.sso_attributes, "sso_attributes")?,
            registration_id: r.registration_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            connection_id: r.connection_id,
            external_id: r.external_id,
            created_at: Timestamp(r.created_at),
        })
    }
}

const REGISTRATION_COLUMNS: &str =
    "registration_id, project_id, organization_id, member_id, connection_id, external_id, sso_attributes, created_at";

#[async_trait::async_trait]
impl SsoStore for SqlStore {
    async fn insert_public_token(&self, project_id: &ProjectId, public_token: &str, at: Timestamp) -> StoreResult<()> {
        self.exec(
            "INSERT INTO public_tokens (public_token, project_id, created_at) VALUES ($1, $2, $3)",
            args![public_token, project_id, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn public_tokens(&self, project_id: &ProjectId) -> StoreResult<Vec<String>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            public_token: String,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT public_token FROM public_tokens WHERE project_id = $1 ORDER BY created_at, public_token",
                args![project_id],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.public_token).collect())
    }

    async fn project_of_public_token(&self, public_token: &str) -> StoreResult<Option<ProjectId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            project_id: String,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT project_id FROM public_tokens WHERE public_token = $1",
                args![public_token],
            )
            .await?;
        Ok(row.map(|r| r.project_id.into()))
    }

    async fn save_oidc_connection(&self, c: &OidcConnectionRecord) -> StoreResult<()> {
        let mapping = serde_json::to_string(&c.attribute_mapping).unwrap_or_else(|_| "{}".into());
        let values: Vec<Arg> = args![
            &c.connection_id,
            &c.project_id,
            &c.organization_id,
            &c.display_name,
            &c.identity_provider,
            &c.issuer,
            &c.client_id,
            self.seal(OIDC_CLIENT_SECRET, &c.connection_id, &c.client_secret),
            &c.authorization_url,
            &c.token_url,
            &c.userinfo_url,
            &c.jwks_url,
            &c.custom_scopes,
            mapping,
            c.created_at.millis(),
            c.updated_at.millis()
        ];
        // Delete-and-insert in one transaction: one statement list for both dialects.
        self.tx(vec![
            (
                "DELETE FROM oidc_connections WHERE connection_id = $1 AND project_id = $2",
                args![&c.connection_id, &c.project_id],
            ),
            (
                "INSERT INTO oidc_connections (connection_id, project_id, organization_id, display_name, identity_provider, \
                 issuer, client_id, client_secret, authorization_url, token_url, userinfo_url, jwks_url, custom_scopes, \
                 attribute_mapping, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                values,
            ),
        ])
        .await
    }

    async fn oidc_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<OidcConnectionRecord>> {
        let row: Option<ConnectionRow> = self
            .opt(
                &format!(
                    "SELECT {CONNECTION_COLUMNS} FROM oidc_connections WHERE connection_id = $1 AND project_id = $2"
                ),
                args![connection_id, project_id],
            )
            .await?;
        row.map(|r| self.unseal_connection(r)).transpose()
    }

    async fn oidc_connections(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Vec<OidcConnectionRecord>> {
        let rows: Vec<ConnectionRow> = self
            .all(
                &format!(
                    "SELECT {CONNECTION_COLUMNS} FROM oidc_connections WHERE project_id = $1 AND organization_id = $2 \
                     ORDER BY created_at, connection_id"
                ),
                args![project_id, organization_id],
            )
            .await?;
        rows.into_iter().map(|r| self.unseal_connection(r)).collect()
    }

    async fn delete_oidc_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool> {
        let existed = self.oidc_connection(project_id, connection_id).await?.is_some();
        self.tx(vec![
            (
                "DELETE FROM sso_registrations WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
            (
                "DELETE FROM oidc_connections WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
        ])
        .await?;
        Ok(existed)
    }

    async fn save_saml_connection(&self, c: &SamlConnectionRecord) -> StoreResult<()> {
        let config = serde_json::to_string(&c.config).map_err(|e| StoreError::Backend(format!("SAML config: {e}")))?;
        let secrets =
            serde_json::to_string(&c.secrets).map_err(|e| StoreError::Backend(format!("SAML secrets: {e}")))?;
        self.tx(vec![
            (
                "DELETE FROM saml_connections WHERE connection_id = $1 AND project_id = $2",
                args![&c.connection_id, &c.project_id],
            ),
            (
                "INSERT INTO saml_connections (connection_id, project_id, organization_id, config, secrets, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    &c.connection_id,
                    &c.project_id,
                    &c.organization_id,
                    config,
                    self.seal(SAML_SECRETS, &c.connection_id, &secrets),
                    c.created_at.millis(),
                    c.updated_at.millis()
                ],
            ),
        ])
        .await
    }

    async fn saml_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<SamlConnectionRecord>> {
        let row: Option<SamlRow> = self
            .opt(
                &format!("SELECT {SAML_COLUMNS} FROM saml_connections WHERE connection_id = $1 AND project_id = $2"),
                args![connection_id, project_id],
            )
            .await?;
        row.map(|r| self.unseal_saml(r)).transpose()
    }

    async fn saml_connections(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Vec<SamlConnectionRecord>> {
        let rows: Vec<SamlRow> = self
            .all(
                &format!(
                    "SELECT {SAML_COLUMNS} FROM saml_connections WHERE project_id = $1 AND organization_id = $2 \
                     ORDER BY created_at, connection_id"
                ),
                args![project_id, organization_id],
            )
            .await?;
        rows.into_iter().map(|r| self.unseal_saml(r)).collect()
    }

    async fn find_saml_connection(&self, connection_id: &str) -> StoreResult<Option<SamlConnectionRecord>> {
        let row: Option<SamlRow> = self
            .opt(
                &format!("SELECT {SAML_COLUMNS} FROM saml_connections WHERE connection_id = $1"),
                args![connection_id],
            )
            .await?;
        row.map(|r| self.unseal_saml(r)).transpose()
    }

    async fn delete_saml_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool> {
        let existed = self.saml_connection(project_id, connection_id).await?.is_some();
        self.tx(vec![
            (
                "DELETE FROM sso_registrations WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
            (
                "DELETE FROM saml_connections WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
        ])
        .await?;
        Ok(existed)
    }

    async fn record_saml_assertion(
        &self,
        project_id: &ProjectId,
        assertion_key: &str,
        expires_at: Timestamp,
    ) -> StoreResult<bool> {
        let rows = self
            .exec(
                "INSERT INTO saml_assertions (assertion_key, project_id, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (assertion_key) DO NOTHING",
                args![assertion_key, project_id, expires_at.millis()],
            )
            .await?;
        Ok(rows == 1)
    }

    async fn sso_registrations_of_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Vec<SsoRegistration>> {
        let rows: Vec<RegistrationRow> = self
            .all(
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM sso_registrations WHERE project_id = $1 AND connection_id = $2 \
                     ORDER BY created_at, registration_id"
                ),
                args![project_id, connection_id],
            )
            .await?;
        rows.into_iter().map(SsoRegistration::try_from).collect()
    }

    async fn insert_sso_state(&self, s: &SsoStateRecord) -> StoreResult<()> {
        let (connection_id, oauth_provider, organization_id) = match &s.destination {
            TripDestination::Sso { connection_id } => (connection_id.as_str(), None, None),
            TripDestination::OAuth {
                provider,
                organization_id,
            } => ("", Some(provider.key().to_string()), organization_id.clone()),
        };
        self.exec(
            &format!(
                "INSERT INTO sso_states ({STATE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            args![
                &s.state_hash,
                &s.project_id,
                connection_id,
                &s.browser_hash,
                &s.nonce,
                self.seal(PKCE_VERIFIER, &s.state_hash, &s.pkce_verifier),
                s.code_challenge.clone(),
                &s.login_redirect_url,
                &s.signup_redirect_url,
                s.created_at.millis(),
                s.expires_at.millis(),
                oauth_provider,
                organization_id
            ],
        )
        .await
        .map(|_| ())
    }

    async fn take_sso_state(&self, project_id: &ProjectId, state_hash: &str) -> StoreResult<Option<SsoStateRecord>> {
        let row: Option<StateRow> = self
            .opt(
                &format!("SELECT {STATE_COLUMNS} FROM sso_states WHERE state_hash = $1 AND project_id = $2"),
                args![state_hash, project_id],
            )
            .await?;
        let Some(mut row) = row else { return Ok(None) };
        row.pkce_verifier = self.open(PKCE_VERIFIER, &row.state_hash, &row.pkce_verifier)?;
        // Whoever deletes it owns it: a replayed or concurrent callback finds nothing.
        let n = self
            .exec(
                "DELETE FROM sso_states WHERE state_hash = $1 AND project_id = $2",
                args![state_hash, project_id],
            )
            .await?;
        if n == 1 {
            row.try_into().map(Some)
        } else {
            Ok(None)
        }
    }

    async fn sso_state_project(&self, state_hash: &str) -> StoreResult<Option<ProjectId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            project_id: String,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT project_id FROM sso_states WHERE state_hash = $1",
                args![state_hash],
            )
            .await?;
        Ok(row.map(|r| r.project_id.into()))
    }

    async fn insert_sso_token(&self, t: &SsoTokenRecord) -> StoreResult<()> {
        let identity = serde_json::to_string(&t.identity).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.exec(
            "INSERT INTO sso_tokens (token_hash, project_id, organization_id, connection_id, identity, code_challenge, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                &t.token_hash,
                &t.project_id,
                &t.organization_id,
                &t.connection_id,
                identity,
                t.code_challenge.clone(),
                t.created_at.millis(),
                t.expires_at.millis()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn sso_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<SsoTokenRecord>> {
        let row: Option<TokenRow> = self
            .opt(
                "SELECT token_hash, project_id, organization_id, connection_id, identity, code_challenge, created_at, \
                 expires_at FROM sso_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let identity: SsoIdentity =
            serde_json::from_str(&r.identity).map_err(|e| StoreError::Backend(format!("corrupt identity: {e}")))?;
        Ok(Some(SsoTokenRecord {
            token_hash: r.token_hash,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            connection_id: r.connection_id,
            identity,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }))
    }

    async fn take_sso_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM sso_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn insert_sso_registration(&self, r: &SsoRegistration) -> StoreResult<()> {
        let attrs = serde_json::to_string(&r.sso_attributes).unwrap_or_else(|_| "{}".into());
        self.exec(
            &format!("INSERT INTO sso_registrations ({REGISTRATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            args![
                &r.registration_id,
                &r.project_id,
                &r.organization_id,
                &r.member_id,
                &r.connection_id,
                &r.external_id,
                attrs,
                r.created_at.millis()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn sso_registration(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<SsoRegistration>> {
        let row: Option<RegistrationRow> = self
            .opt(
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM sso_registrations \
                     WHERE project_id = $1 AND connection_id = $2 AND external_id = $3"
                ),
                args![project_id, connection_id, external_id],
            )
            .await?;
        row.map(SsoRegistration::try_from).transpose()
    }

    async fn sso_registrations(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<SsoRegistration>> {
        if member_ids.is_empty() {
            return Ok(vec![]);
        }
        let placeholders: Vec<String> = (0..member_ids.len()).map(|i| format!("${}", i + 2)).collect();
        let mut values: Vec<Arg> = args![project_id];
        values.extend(member_ids.iter().map(|m| Arg::from(m.as_str())));
        let rows: Vec<RegistrationRow> = self
            .all(
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM sso_registrations WHERE project_id = $1 AND member_id IN ({}) \
                     ORDER BY created_at, registration_id",
                    placeholders.join(", ")
                ),
                values,
            )
            .await?;
        rows.into_iter().map(SsoRegistration::try_from).collect()
    }
}
