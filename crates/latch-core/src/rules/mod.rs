//! Pure rules: no `Ctx`, no store, no async; time, when it matters, is passed in. Everything that
//! decides an authentication outcome lives here, so it can be unit-tested with fixed inputs.
//! Nothing here imports `engine` or `service` (tests/layers.rs checks).

pub mod args;
pub mod factors;
pub mod pkce;
pub mod requirements;
pub mod session;
pub mod sso_config;
