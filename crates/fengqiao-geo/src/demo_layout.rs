//! Generated grid polygons for the demo's real villages.
