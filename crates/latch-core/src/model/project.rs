//! A project: the API tenant that owns organizations. Authenticated by its secret's digest.

use crate::clock::Timestamp;
use crate::ids::ProjectId;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub project_id: ProjectId,
    pub name: String,
    /// SHA-256 of the secret; the secret itself is shown once and never stored.
    pub secret_hash: String,
    pub created_at: Timestamp,
}
