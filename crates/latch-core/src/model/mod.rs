pub mod credentials;
pub mod member;
pub mod organization;
pub mod outbox;
pub mod project;
pub mod search;
pub mod session;
pub mod signing_key;
