//! `OAuthStore`: the OAuth flow's one-time tokens and members' provider registrations. The
//! provider's tokens are kept as one JSON document per row.

use crate::exec::{args, Arg};
use crate::sealing::{OAUTH_REGISTRATION_TOKENS, OAUTH_TOKEN_GRANT};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::model::oauth::{OAuthProvider, OAuthRegistrationRecord, OAuthTokenRecord, ProviderTokens};
use latch_core::model::sso::SsoIdentity;
use latch_core::store::{OAuthStore, StoreResult};

fn corrupt(what: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::Backend(format!("corrupt {what}: {e}"))
}

fn provider(p: &str) -> Result<OAuthProvider, StoreError> {
    OAuthProvider::parse(p).ok_or_else(|| StoreError::Backend(format!("corrupt provider: {p}")))
}

fn unwritable(e: serde_json::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    project_id: String,
    organization_id: Option<String>,
    provider: String,
    identity: String,
    provider_tokens: String,
    code_challenge: Option<String>,
    created_at: i64,
    expires_at: i64,
}

const REGISTRATION_COLUMNS: &str = "registration_id, project_id, organization_id, member_id, provider, subject, \
     profile_picture_url, locale, provider_tokens, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    registration_id: String,
    project_id: String,
    organization_id: String,
    member_id: String,
    provider: String,
    subject: String,
    profile_picture_url: Option<String>,
    locale: Option<String>,
    provider_tokens: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<RegistrationRow> for OAuthRegistrationRecord {
    type Error = StoreError;

    fn try_from(r: RegistrationRow) -> Result<Self, StoreError> {
        Ok(OAuthRegistrationRecord {
            provider: provider(&r.provider)?,
            tokens: serde_json::from_str(&r.provider_tokens).map_err(corrupt("provider_tokens"))?,
            registration_id: r.registration_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            subject: r.subject,
            profile_picture_url: r.profile_picture_url,
            locale: r.locale,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

impl SqlStore {
    fn unseal_registration(&self, mut r: RegistrationRow) -> StoreResult<OAuthRegistrationRecord> {
        r.provider_tokens = self.open(OAUTH_REGISTRATION_TOKENS, &r.registration_id, &r.provider_tokens)?;
        r.try_into()
    }
}

#[async_trait::async_trait]
impl OAuthStore for SqlStore {
    async fn insert_oauth_token(&self, t: &OAuthTokenRecord) -> StoreResult<()> {
        self.exec(
            "INSERT INTO oauth_tokens (token_hash, project_id, organization_id, provider, identity, provider_tokens, \
             code_challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            args![
                &t.token_hash,
                &t.project_id,
                t.organization_id.clone(),
                t.provider.key(),
                serde_json::to_string(&t.identity).map_err(unwritable)?,
                self.seal(
                    OAUTH_TOKEN_GRANT,
                    &t.token_hash,
                    &serde_json::to_string(&t.tokens).map_err(unwritable)?
                ),
                t.code_challenge.clone(),
                t.created_at.millis(),
                t.expires_at.millis()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn oauth_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<OAuthTokenRecord>> {
        let row: Option<TokenRow> = self
            .opt(
                "SELECT token_hash, project_id, organization_id, provider, identity, provider_tokens, code_challenge, \
                 created_at, expires_at FROM oauth_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let identity: SsoIdentity = serde_json::from_str(&r.identity).map_err(corrupt("identity"))?;
        let tokens = self.open(OAUTH_TOKEN_GRANT, &r.token_hash, &r.provider_tokens)?;
        let tokens: ProviderTokens = serde_json::from_str(&tokens).map_err(corrupt("provider_tokens"))?;
        Ok(Some(OAuthTokenRecord {
            provider: provider(&r.provider)?,
            token_hash: r.token_hash,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.map(Into::into),
            identity,
            tokens,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }))
    }

    async fn take_oauth_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM oauth_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn save_oauth_registration(&self, r: &OAuthRegistrationRecord) -> StoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO oauth_registrations ({REGISTRATION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (registration_id) DO UPDATE SET member_id = excluded.member_id, profile_picture_url = excluded.profile_picture_url, \
                 locale = excluded.locale, provider_tokens = excluded.provider_tokens, updated_at = excluded.updated_at"
            ),
            args![
                &r.registration_id,
                &r.project_id,
                &r.organization_id,
                &r.member_id,
                r.provider.key(),
                &r.subject,
                r.profile_picture_url.clone(),
                r.locale.clone(),
                self.seal(
                    OAUTH_REGISTRATION_TOKENS,
                    &r.registration_id,
                    &serde_json::to_string(&r.tokens).map_err(unwritable)?
                ),
                r.created_at.millis(),
                r.updated_at.millis()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn oauth_registration(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        provider: OAuthProvider,
        subject: &str,
    ) -> StoreResult<Option<OAuthRegistrationRecord>> {
        let row: Option<RegistrationRow> = self
            .opt(
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM oauth_registrations \
                     WHERE project_id = $1 AND organization_id = $2 AND provider = $3 AND subject = $4"
                ),
                args![project_id, organization_id, provider.key(), subject],
            )
            .await?;
        row.map(|r| self.unseal_registration(r)).transpose()
    }

    async fn oauth_registrations(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<OAuthRegistrationRecord>> {
        if member_ids.is_empty() {
            return Ok(vec![]);
        }
        let placeholders: Vec<String> = (0..member_ids.len()).map(|i| format!("${}", i + 2)).collect();
        let mut values: Vec<Arg> = args![project_id];
        values.extend(member_ids.iter().map(|m| Arg::from(m.as_str())));
        let rows: Vec<RegistrationRow> = self
            .all(
                &format!(
                    "SELECT {REGISTRATION_COLUMNS} FROM oauth_registrations WHERE project_id = $1 AND member_id IN ({}) \
                     ORDER BY created_at, registration_id",
                    placeholders.join(", ")
                ),
                values,
            )
            .await?;
        rows.into_iter().map(|r| self.unseal_registration(r)).collect()
    }
}
