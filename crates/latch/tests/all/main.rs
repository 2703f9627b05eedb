//! The binary's integration tests, one test binary (each binary costs a link): the API over HTTP
//! (`api`), real delivery against local SMTP, Twilio and webhook peers (`delivery`), the OIDC
//! relying party against a scripted issuer (`oidc`), and several nodes, crashes and outages
//! (`resilience`).
#![allow(clippy::disallowed_methods)] // these tests drive a real server, which runs on the system clock

mod api;
mod delivery;
mod oidc;
mod resilience;
