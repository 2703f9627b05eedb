pub mod credentials;
pub mod member;
pub mod organization;
pub mod project;
pub mod search;
pub mod session;
