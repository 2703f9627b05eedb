//! Session-JWT signing keys as the store holds them.

use crate::clock::Timestamp;
use crate::ids::ProjectId;
use zeroize::Zeroizing;

/// A key as stored. The private key is PKCS#8 DER, base64, wiped from memory when dropped and
/// left out of `Debug`.
#[derive(Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub project_id: ProjectId,
    pub private_pkcs8: Zeroizing<String>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    /// Never to be used again; the private key is then empty.
    pub revoked_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("project_id", &self.project_id)
            .field("private_pkcs8", &"[REDACTED]")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}
