//! The one test harness of the workspace (a dev-dependency only): fresh databases on each engine
//! (`db`), the real application on a free port or in process (`app`), and records to seed a
//! store with (`fixtures`).
#![forbid(unsafe_code)]
// Tests of a real server run on the system clock where no manual one is given.
#![allow(clippy::disallowed_methods)]

pub mod app;
pub mod db;
pub mod fixtures;

pub use app::{
    manual_clock, on_each_engine_app, on_each_engine_app_with, spawn_app, spawn_app_with, test_config, AppBuilder,
    RouterApp, TestApp, PROJECT, SECRET,
};
pub use db::{engines, on_each_engine, on_each_seeded_engine, test_sealer, TestDb, TEST_KEK};
