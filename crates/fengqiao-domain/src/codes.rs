//! Statistical division codes, grid codes and data scopes.
