//! Use cases, one module per Stytch API family. Each takes the `Ctx` and the authenticated project
//! id, and builds on `engine` and `rules`; no family imports another (tests/layers.rs checks).

pub mod discovery;
pub mod magic_links;
pub mod management;
pub mod members;
pub mod oauth;
pub mod organizations;
pub mod otps;
pub mod password_resets;
pub mod passwords;
pub mod saml;
pub mod scim;
pub mod sessions;
pub mod sso;
pub mod totps;

pub use crate::engine::Ctx;
