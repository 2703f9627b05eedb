//! A project: the API tenant that owns organizations, authenticated by any of its live secrets.
//!
//! Stytch's Management API groups projects: a workspace project (`project_slug`) holds a test and
//! a live environment, and each environment is what the B2B API calls a project (`project_id`).
//! Latch keeps that shape: a `Project` here is one environment of a `WorkspaceProject`.

use crate::clock::Timestamp;
use crate::ids::ProjectId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub project_id: ProjectId,
    /// The environment's name.
    pub name: String,
    /// The workspace project it belongs to.
    pub project_slug: String,
    pub environment_slug: String,
    pub environment_type: EnvironmentType,
    /// SHA-256 digests of the live secrets; each secret is shown once and never stored.
    pub secret_hashes: Vec<String>,
    pub created_at: Timestamp,
}

/// Stytch's `EnvironmentType`: which base URL the SDKs pick and which id prefix the project has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EnvironmentType {
    Test,
    Live,
}

impl EnvironmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentType::Test => "TEST",
            EnvironmentType::Live => "LIVE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TEST" => Some(EnvironmentType::Test),
            "LIVE" => Some(EnvironmentType::Live),
            _ => None,
        }
    }
}

/// The Management API's project: a name and the environments under it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceProject {
    pub project_slug: String,
    pub name: String,
    /// Stytch's `Vertical`; Latch serves B2B.
    pub vertical: String,
    pub created_at: Timestamp,
}

/// One secret of a project, without the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSecret {
    pub secret_id: String,
    pub project_id: ProjectId,
    pub secret_hash: String,
    pub last_four: String,
    pub created_at: Timestamp,
}

/// A Management API credential, without the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceKey {
    pub key_id: String,
    pub secret_hash: String,
    pub name: String,
    pub last_four: String,
    pub created_at: Timestamp,
}

/// A public token: identifies a project in browser-facing URLs; not a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicToken {
    pub public_token: String,
    pub created_at: Timestamp,
}
