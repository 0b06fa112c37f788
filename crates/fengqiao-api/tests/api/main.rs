//! The API's conformance story: the real router on port 0, over HTTP, against SQLite and PostgreSQL.
//!
//! Every test runs once per backend: SQLite always; PostgreSQL when `FQ_TEST_POSTGRES_URL` names a server
//! (each test gets a fresh database on it). CI sets `FQ_REQUIRE_POSTGRES=1`, so a missing server fails
//! rather than skips.

#![allow(clippy::unwrap_used)] // Tests unwrap what they have just asserted.

mod support;

mod audit_trail;
mod cases;
mod citizen;
mod mediation;
mod organisation;
mod personal_data;
mod rates;
mod sessions;
mod surface;
