//! Tokens: session JWTs and the keys that sign them.

pub mod jwt;
pub mod keyring;
