//! OAuth sign-in: the one-time tokens of the browser flow and members' provider registrations.

use super::StoreResult;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::oauth::{OAuthProvider, OAuthRegistrationRecord, OAuthTokenRecord};

#[async_trait::async_trait]
pub trait OAuthStore: Send + Sync {
    async fn insert_oauth_token(&self, t: &OAuthTokenRecord) -> StoreResult<()>;
    async fn oauth_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<OAuthTokenRecord>>;
    /// Deletes it; false when another request took it first.
    async fn take_oauth_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool>;

    /// Inserts the registration, or updates its member, tokens, picture and locale (by
    /// `registration_id`). A second registration of the same subject in the organization is a
    /// `UniqueViolation`.
    async fn save_oauth_registration(&self, r: &OAuthRegistrationRecord) -> StoreResult<()>;
    async fn oauth_registration(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        provider: OAuthProvider,
        subject: &str,
    ) -> StoreResult<Option<OAuthRegistrationRecord>>;
    async fn oauth_registrations(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<OAuthRegistrationRecord>>;
}
