//! Public identifiers, shaped like Stytch's (`organization-test-<uuid>`), so SDK users see familiar values.

use uuid::Uuid;

fn prefixed(kind: &str) -> String {
    format!("{kind}-test-{}", Uuid::new_v4())
}

pub fn project_id() -> String {
    prefixed("project")
}
pub fn organization_id() -> String {
    prefixed("organization")
}
pub fn member_id() -> String {
    prefixed("member")
}
pub fn email_id() -> String {
    prefixed("email")
}
pub fn request_id() -> String {
    format!("request-id-test-{}", Uuid::new_v4())
}
/// An audit event's id.
pub fn audit_event_id() -> String {
    prefixed("audit-event")
}
pub fn message_id() -> String {
    prefixed("message")
}
pub fn oidc_connection_id() -> String {
    prefixed("oidc-connection")
}
pub fn sso_registration_id() -> String {
    prefixed("member-registration")
}
pub fn oauth_registration_id() -> String {
    prefixed("member-oauth-registration")
}
pub fn public_token() -> String {
    prefixed("public-token")
}
