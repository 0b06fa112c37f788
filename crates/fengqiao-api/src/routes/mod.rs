//! The API's routes, one module per area.

pub mod audit;
pub mod auth;
pub mod cases;
pub mod catalog;
pub mod mediation;
pub mod ops;
pub mod org;
pub mod petitions;
pub mod public;
pub mod rates;
pub mod residents;
pub mod users;
