//! The `latch` binary's library half: settings, startup and commands, shared with the tests.

#![forbid(unsafe_code)]

pub mod adapters;
pub mod app;
pub mod commands;
pub mod config;
pub mod data_dir;
pub mod kek;
pub mod serve;
pub mod telemetry;
pub mod tls;
pub mod wiring;
