//! The store contract, one test binary: every test runs on SQLite, and on PostgreSQL when
//! LATCH_TEST_DATABASE_URL is set, each in a fresh database (`latch_testkit::db`).
#![allow(clippy::disallowed_methods)] // store tests stamp records with the wall clock

mod audit;
mod contract;
mod credentials;
mod projects;
mod scim;
mod sealing;

#[test]
fn the_test_database_url_names_the_fresh_database() {
    use latch_testkit::db::with_database;
    assert_eq!(with_database("postgres://u@h:5432/x", "y"), "postgres://u@h:5432/y");
    assert_eq!(with_database("postgres://u@h", "y"), "postgres://u@h/y");
    assert_eq!(
        with_database("postgres://h/x?sslmode=disable", "y"),
        "postgres://h/y?sslmode=disable"
    );
}
