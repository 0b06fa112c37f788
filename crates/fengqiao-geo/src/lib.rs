//! Geometry for Fengqiao: coordinate systems, the point-to-grid index, GeoJSON grids, and demo grid layouts.
//!
//! Pure computation; no I/O.

pub mod coords;
pub mod demo_layout;
pub mod index;
