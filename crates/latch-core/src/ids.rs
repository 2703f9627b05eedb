//! Public identifiers, shaped like Stytch's (`organization-test-<uuid>`), so SDK users see familiar values.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use uuid::Uuid;

fn prefixed(kind: &str) -> String {
    format!("{kind}-test-{}", Uuid::new_v4())
}

/// The tenant ids the engine passes around, typed so that a member id can never be handed where an
/// organization id belongs (they are all strings on the wire). Serialized as the bare string.
/// `Deref<Target = str>` lets them go to the store and into SQL unchanged; the way back from `&str`
/// is an explicit `from`, made where an id enters from a request or a row.
///
/// ```compile_fail
/// // An organization id where a member id belongs does not compile.
/// fn revoke(_member: &latch_core::ids::MemberId) {}
/// revoke(&latch_core::ids::OrganizationId::generate());
/// ```
/// ```
/// fn revoke(_member: &latch_core::ids::MemberId) {}
/// revoke(&latch_core::ids::MemberId::generate());
/// ```
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        // A plain string in the OpenAPI document.
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            /// A fresh id, shaped like Stytch's.
            pub fn generate() -> Self {
                Self(prefixed($prefix))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.to_owned()))
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }
        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
        impl PartialEq<&$name> for $name {
            fn eq(&self, other: &&$name) -> bool {
                self.0 == other.0
            }
        }
        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }
    };
}

typed_id!(
    /// A project: the API tenant, authenticated by its secret.
    ProjectId,
    "project"
);
typed_id!(
    /// An organization within a project.
    OrganizationId,
    "organization"
);
typed_id!(
    /// A member of one organization.
    MemberId,
    "member"
);
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
pub fn saml_connection_id() -> String {
    prefixed("saml-connection")
}
pub fn x509_certificate_id() -> String {
    prefixed("x509-certificate")
}
pub fn saml_encryption_key_id() -> String {
    prefixed("saml-encryption-key")
}
pub fn sso_registration_id() -> String {
    prefixed("member-registration")
}
pub fn oauth_registration_id() -> String {
    prefixed("member-oauth-registration")
}
pub fn scim_connection_id() -> String {
    prefixed("scim-connection")
}
pub fn scim_registration_id() -> String {
    prefixed("scim-registration")
}
pub fn scim_group_id() -> String {
    prefixed("scim-group")
}
pub fn public_token() -> String {
    prefixed("public-token")
}
