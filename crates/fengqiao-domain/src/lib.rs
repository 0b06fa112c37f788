//! Fengqiao's domain: validated values, access rules and the audit chain, with no I/O.
//!
//! Nothing here knows of HTTP, SQL or the clock; time, ids and actors are parameters.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod codes;
pub mod error;
pub mod mediation;
pub mod personal;
pub mod petition;
