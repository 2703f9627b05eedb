//! The binary's integration tests, one test binary (each binary costs a link): the API over HTTP
//! (`api`) and real delivery against local SMTP, Twilio and webhook peers (`delivery`).
#![allow(clippy::disallowed_methods)] // these tests drive a real server, which runs on the system clock

mod api;
mod delivery;
