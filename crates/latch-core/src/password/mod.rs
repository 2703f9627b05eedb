//! Passwords: argon2id hashing, verification of imported hashes in their own scheme, and the
//! strength policy.

pub mod breach;
pub mod corpus;
pub mod given;
pub mod hash;
pub mod imported;
mod memory;
pub mod policy;

pub use breach::BreachCheck;
pub use given::GivenPassword;
pub use hash::{Argon2Params, PasswordHash};
