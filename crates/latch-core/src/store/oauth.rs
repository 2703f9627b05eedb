//! OAuth sign-in: the one-time tokens of the browser flow and members' provider registrations.

use super::StoreResult;
use crate::model::oauth::{OAuthProvider, OAuthRegistrationRecord, OAuthTokenRecord};

#[async_trait::async_trait]
pub trait OAuthStore: Send + Sync {
    async fn insert_oauth_token(&self, t: &OAuthTokenRecord) -> StoreResult<()>;
    async fn oauth_token(&self, project_id: &str, token_hash: &str) -> StoreResult<Option<OAuthTokenRecord>>;
    /// Deletes it; false when another request took it first.
    async fn take_oauth_token(&self, project_id: &str, token_hash: &str) -> StoreResult<bool>;

    /// Inserts the registration, or updates its member, tokens, picture and locale (by
    /// `registration_id`). A second registration of the same subject in the organization is a
    /// `UniqueViolation`.
    async fn save_oauth_registration(&self, r: &OAuthRegistrationRecord) -> StoreResult<()>;
    async fn oauth_registration(
        &self,
        project_id: &str,
        organization_id: &str,
        provider: OAuthProvider,
        subject: &str,
    ) -> StoreResult<Option<OAuthRegistrationRecord>>;
    async fn oauth_registrations(
        &self,
        project_id: &str,
        member_ids: &[String],
    ) -> StoreResult<Vec<OAuthRegistrationRecord>>;
}
