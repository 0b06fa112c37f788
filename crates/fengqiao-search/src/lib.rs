//! A derived, rebuildable Chinese full-text index of cases.
//!
//! The index is a cache of what the case store holds: it can be deleted and rebuilt from the store at any
//! time, and it answers with case ids only (nothing is stored in it but what searching needs).
//!
//! - Text (title, description, timeline notes) is segmented with jieba's dictionary in *full mode*: every
//!   dictionary word found anywhere in the text is indexed at its character position, and so is every
//!   single Chinese character. A query is segmented with jieba too; every word of it is then required, and a
//!   word is found wherever its characters occur, whatever jieba made of the surrounding text (the
//!   `analysis` module says why jieba's usual "search mode" is not enough).
//! - Visibility is a term-set query: every prefix of a case's region path and of its owner's path, and every
//!   unit the case is with, is indexed as an untokenized term.
//! - Results are case ids, newest first or by relevance, with the total count.
//!
//! The index is blocking (tantivy does its own threading); call it from `spawn_blocking` in async code.

mod analysis;
mod error;
mod index;
mod query;
mod schema;

pub use error::SearchError;
pub use index::{MAX_PAGE_SIZE, MAX_QUERY_CHARS, SearchIndex};

use serde::{Deserialize, Serialize};

/// What the index knows of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDoc {
    /// The case's id; upserting a document with the same id replaces it.
    pub id: i64,
    /// The case number; a query equal to it finds the case.
    pub number: String,
    /// The case's title.
    pub title: String,
    /// The case's description.
    pub description: String,
    /// Notes, results and other free text from the case's timeline.
    pub notes: Vec<String>,
    /// Region path of the case's location, like "/37/3708/370883/370883107/370883107001/370883107001001/".
    pub path: String,
    /// Region path of the center that owns the case now.
    pub owner_path: String,
    /// Units the case is currently with: "dept:12", "grid:370883107001001".
    pub units: Vec<String>,
    /// The case's status (indexed as a raw term; not yet used by [`SearchIndex::search`]).
    pub status: String,
    /// The case's kind (indexed as a raw term; not yet used by [`SearchIndex::search`]).
    pub kind: String,
    /// The case's category, if any (indexed as a raw term; not yet used by [`SearchIndex::search`]).
    pub category: Option<String>,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// Which cases a caller may see: any case whose path or owner_path starts with one of the prefixes, or that
/// is with one of the units.
///
/// Prefixes are whole path segments: "/37/3708/" and "/37/3708" both mean region 3708 and everything
/// under it (never region 37081). An empty prefix grants nothing; "/" grants everything. An empty scope
/// sees no case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchScope {
    /// Region path prefixes, like "/37/3708/".
    pub path_prefixes: Vec<String>,
    /// Units, like "dept:12" or "grid:370883107001001".
    pub units: Vec<String>,
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHits {
    /// Case ids of the page, in the order asked for.
    pub ids: Vec<i64>,
    /// How many cases match in all (within the scope).
    pub total: usize,
}
