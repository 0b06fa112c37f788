//! Errors of the search index.

use std::path::PathBuf;

/// What can go wrong when indexing or searching.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query has no words to search for (it is empty, blank or only punctuation).
    #[error("the search text has no words to search for")]
    EmptyQuery,
    /// The query is longer than [`crate::MAX_QUERY_CHARS`] characters.
    #[error("the search text is longer than {max_chars} characters")]
    QueryTooLong {
        /// The limit.
        max_chars: usize,
    },
    /// The index in the directory was built with another schema, analysis or tantivy format.
    /// The index is derived data: delete the directory, open it again and rebuild from the case store.
    #[error(
        "the search index in {path} cannot be used ({detail}): delete the directory and rebuild the index"
    )]
    SchemaMismatch {
        /// The index directory.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// Another process (or another `SearchIndex`) is writing to the index directory.
    #[error("the search index in {path} is already open for writing elsewhere")]
    Locked {
        /// The index directory.
        path: PathBuf,
    },
    /// The index directory could not be created.
    #[error("cannot create the search index directory {path}: {source}")]
    CreateDirectory {
        /// The index directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The writer was lost after an earlier failure; reopen the index.
    #[error("the search index writer is unavailable after an earlier failure; reopen the index")]
    WriterUnavailable,
    /// Any other error of the underlying index.
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
}
