//! Session-JWT signing keys as the store holds them.

use crate::clock::Timestamp;

/// A key as stored. The private key is PKCS#8 DER, base64.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub project_id: String,
    pub private_pkcs8: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    /// Never to be used again; the private key is then empty.
    pub revoked_at: Option<Timestamp>,
}
