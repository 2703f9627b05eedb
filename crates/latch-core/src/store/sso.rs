//! SSO connections, registrations, public tokens and the browser flow's one-time records.

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::saml::SamlConnectionRecord;
use crate::model::sso::{OidcConnectionRecord, SsoRegistration, SsoStateRecord, SsoTokenRecord};

#[async_trait::async_trait]
pub trait SsoStore: Send + Sync {
    async fn insert_public_token(&self, project_id: &ProjectId, public_token: &str, at: Timestamp) -> StoreResult<()>;
    async fn public_tokens(&self, project_id: &ProjectId) -> StoreResult<Vec<String>>;
    /// The project a public token belongs to.
    async fn project_of_public_token(&self, public_token: &str) -> StoreResult<Option<ProjectId>>;

    async fn save_oidc_connection(&self, c: &OidcConnectionRecord) -> StoreResult<()>;
    async fn oidc_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<OidcConnectionRecord>>;
    async fn oidc_connections(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Vec<OidcConnectionRecord>>;
    /// Deletes the connection and the registrations made through it; false if there was none.
    async fn delete_oidc_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool>;

    async fn save_saml_connection(&self, c: &SamlConnectionRecord) -> StoreResult<()>;
    async fn saml_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<SamlConnectionRecord>>;
    async fn saml_connections(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Vec<SamlConnectionRecord>>;
    /// A SAML connection by its id alone, for the IdP's POST to its ACS URL and the public SP
    /// metadata, which arrive with nothing else (the id is unique across projects).
    async fn find_saml_connection(&self, connection_id: &str) -> StoreResult<Option<SamlConnectionRecord>>;
    /// Deletes the connection and the registrations made through it; false if there was none.
    async fn delete_saml_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool>;
    /// Records an accepted assertion until `expires_at`; false when it was already recorded (a
    /// replay). One atomic insert, so two nodes cannot both accept it.
    async fn record_saml_assertion(
        &self,
        project_id: &ProjectId,
        assertion_key: &str,
        expires_at: Timestamp,
    ) -> StoreResult<bool>;
    /// The registrations made through a connection.
    async fn sso_registrations_of_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Vec<SsoRegistration>>;

    async fn insert_sso_state(&self, s: &SsoStateRecord) -> StoreResult<()>;
    /// Takes the state (single use): it is deleted whether or not it is still valid.
    async fn take_sso_state(&self, project_id: &ProjectId, state_hash: &str) -> StoreResult<Option<SsoStateRecord>>;
    /// The project a state belongs to, for a callback that arrives with nothing else.
    async fn sso_state_project(&self, state_hash: &str) -> StoreResult<Option<ProjectId>>;

    async fn insert_sso_token(&self, t: &SsoTokenRecord) -> StoreResult<()>;
    async fn sso_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<SsoTokenRecord>>;
    /// Deletes it; false when another request took it first.
    async fn take_sso_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool>;

    async fn insert_sso_registration(&self, r: &SsoRegistration) -> StoreResult<()>;
    async fn sso_registration(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<SsoRegistration>>;
    async fn sso_registrations(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<SsoRegistration>>;
}
