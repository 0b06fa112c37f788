//! Geometry for Fengqiao: coordinate systems, the point-to-grid index, GeoJSON grids, and demo grid layouts.
//!
//! Pure computation; no I/O.

pub mod coords;
pub mod demo_layout;
pub mod geojson_grids;
pub mod index;

/// The `geo` crate this crate's types come from, so callers build shapes with the same version.
pub use geo;
