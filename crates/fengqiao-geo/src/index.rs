//! The in-memory point-to-grid index.
