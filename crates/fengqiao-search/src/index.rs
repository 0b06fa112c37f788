//! The search index itself: opening, writing (one writer, every write committed) and searching.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy, Searcher,
    TantivyError, Term,
};

use crate::analysis::{self, CaseTextTokenizer, TOKENIZER_NAME};
use crate::query::{scope_query, text_query};
use crate::schema::{self, CREATED_AT, Fields, ID};
use crate::{SearchDoc, SearchError, SearchHits, SearchScope};

/// The largest page [`SearchIndex::search`] returns; larger limits are cut to it.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Memory the writer may use before it flushes a segment (split between its threads).
const WRITER_MEMORY_BUDGET: usize = 50_000_000;

/// A Chinese full-text index of cases (see the crate documentation).
///
/// It is `Send + Sync`: share it (in an `Arc`) between threads. Writes are serialized on one writer and
/// committed one call at a time; searches run concurrently with them.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// The single writer. `None` only if it could not be recreated after [`SearchIndex::wait_for_merges`].
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    /// The index directory, if the index is on disk.
    directory: Option<PathBuf>,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// An empty index in memory (for tests, or a small deployment that rebuilds on start).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        Self::start(Index::create_in_ram(schema), fields, None)
    }

    /// Opens (or creates) an index in a directory (memory-mapped). The directory is created if missing.
    ///
    /// An index built with another schema, text analysis or tantivy format gives
    /// [`SearchError::SchemaMismatch`]: the index is derived data, so delete the directory, open it again
    /// and rebuild it from the case store. Another writer on the same directory gives
    /// [`SearchError::Locked`].
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|source| SearchError::CreateDirectory {
            path: dir.to_owned(),
            source,
        })?;
        let directory = MmapDirectory::open(dir).map_err(TantivyError::from)?;
        let (schema, fields) = schema::build();
        let exists = Index::exists(&directory).map_err(TantivyError::from)?;
        let index = if exists {
            let index = Index::open(directory).map_err(|error| match error {
                TantivyError::IncompatibleIndex(incompatibility) => SearchError::SchemaMismatch {
                    path: dir.to_owned(),
                    detail: format!("{incompatibility:?}"),
                },
                other => SearchError::Index(other),
            })?;
            if index.schema() != schema {
                return Err(SearchError::SchemaMismatch {
                    path: dir.to_owned(),
                    detail: "its schema or text analysis differs from this version's".to_owned(),
                });
            }
            index
        } else {
            Index::create(directory, schema, IndexSettings::default())?
        };
        Self::start(index, fields, Some(dir.to_owned()))
    }

    fn start(
        index: Index,
        fields: Fields,
        directory: Option<PathBuf>,
    ) -> Result<Self, SearchError> {
        analysis::load_dictionary();
        index
            .tokenizers()
            .register(TOKENIZER_NAME, TextAnalyzer::from(CaseTextTokenizer));
        let writer = new_writer(&index, directory.as_deref())?;
        // Writes reload the reader themselves, so they are visible when they return; the policy also picks
        // up segments that background merges publish later.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            directory,
        })
    }

    /// Adds or replaces documents by id, and commits (visible to searches after this returns). Within one
    /// call, the last document with a given id wins.
    pub fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.write(|writer| {
            for doc in docs {
                writer.delete_term(Term::from_field_i64(self.fields.id, doc.id));
                writer.add_document(self.fields.document(doc))?;
            }
            Ok(())
        })
    }

    /// Removes documents by id (ids not in the index are ignored), and commits.
    pub fn delete(&self, ids: &[i64]) -> Result<(), SearchError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(|writer| {
            for id in ids {
                writer.delete_term(Term::from_field_i64(self.fields.id, *id));
            }
            Ok(())
        })
    }

    /// Removes every document, and commits (before a rebuild).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.write(|writer| {
            writer.delete_all_documents()?;
            Ok(())
        })
    }

    /// How many documents searches see.
    pub fn len(&self) -> Result<u64, SearchError> {
        Ok(self.reader.searcher().num_docs())
    }

    /// Whether searches see no document at all.
    pub fn is_empty(&self) -> Result<bool, SearchError> {
        Ok(self.len()? == 0)
    }

    /// Blocks until the writer's background merges are done, then makes the merged segments visible.
    /// For bulk rebuilds and benchmarks; ordinary writes never need it.
    pub fn wait_for_merges(&self) -> Result<(), SearchError> {
        let mut slot = self.lock_writer();
        let writer = slot.take().ok_or(SearchError::WriterUnavailable)?;
        let waited = writer.wait_merging_threads();
        *slot = Some(new_writer(&self.index, self.directory.as_deref())?);
        waited?;
        self.reader.reload()?;
        Ok(())
    }

    /// Full-text search in title, description and notes (jieba-segmented, all words required), limited
    /// to the scope, newest first (by `created_at`, then id, descending) — or by relevance when
    /// `by_relevance` — with paging and the total count.
    ///
    /// A text equal to a case number also finds that case. Query-syntax characters are plain text.
    /// `limit` is cut to [`MAX_PAGE_SIZE`]; a limit of 0 gives only the total.
    ///
    /// # Errors
    /// [`SearchError::EmptyQuery`] when the text has no words (empty, blank, only punctuation);
    /// [`SearchError::QueryTooLong`] past [`MAX_QUERY_CHARS`] characters.
    pub fn search(
        &self,
        text: &str,
        scope: &SearchScope,
        offset: usize,
        limit: usize,
        by_relevance: bool,
    ) -> Result<SearchHits, SearchError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong {
                max_chars: MAX_QUERY_CHARS,
            });
        }
        let text_query = text_query(&self.fields, text)?;
        let Some(scope_query) = scope_query(&self.fields, scope) else {
            return Ok(SearchHits::default());
        };
        let query = BooleanQuery::new(vec![(Occur::Must, text_query), (Occur::Must, scope_query)]);

        let searcher = self.reader.searcher();
        let limit = limit.min(MAX_PAGE_SIZE);
        // Past the last document no page can have rows; this also bounds the collector's buffer.
        let offset_is_past_the_end =
            u64::try_from(offset).map_or(true, |offset| offset >= searcher.num_docs());
        if limit == 0 || offset_is_past_the_end {
            let total = searcher.search(&query, &Count)?;
            return Ok(SearchHits {
                ids: Vec::new(),
                total,
            });
        }
        let page = TopDocs::with_limit(limit).and_offset(offset);
        let (addresses, total): (Vec<DocAddress>, usize) = if by_relevance {
            let (hits, total) = searcher.search(&query, &(page.order_by_score(), Count))?;
            (
                hits.into_iter().map(|(_, address)| address).collect(),
                total,
            )
        } else {
            let newest_first = page.order_by((
                (
                    SortByStaticFastValue::<i64>::for_field(CREATED_AT),
                    Order::Desc,
                ),
                (SortByStaticFastValue::<i64>::for_field(ID), Order::Desc),
            ));
            let (hits, total) = searcher.search(&query, &(newest_first, Count))?;
            (
                hits.into_iter().map(|(_, address)| address).collect(),
                total,
            )
        };
        let ids = ids_of(&searcher, &addresses)?;
        Ok(SearchHits { ids, total })
    }

    /// Runs one write under the writer lock, commits it and reloads the reader; on failure the pending
    /// changes are rolled back.
    fn write(
        &self,
        changes: impl FnOnce(&IndexWriter) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let mut slot = self.lock_writer();
        let writer = slot.as_mut().ok_or(SearchError::WriterUnavailable)?;
        let outcome = changes(writer).and_then(|()| {
            writer.commit()?;
            Ok(())
        });
        if let Err(error) = outcome {
            if writer.rollback().is_err() {
                // A writer that cannot roll back cannot be trusted with the next write either.
                *slot = None;
            }
            return Err(error);
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The writer slot. A thread that panicked while writing leaves uncommitted changes behind: they are
    /// rolled back rather than committed by the next write.
    fn lock_writer(&self) -> MutexGuard<'_, Option<IndexWriter>> {
        match self.writer.lock() {
            Ok(slot) => slot,
            Err(poisoned) => {
                let mut slot = poisoned.into_inner();
                if let Some(writer) = slot.as_mut()
                    && writer.rollback().is_err()
                {
                    *slot = None;
                }
                self.writer.clear_poison();
                slot
            }
        }
    }
}

/// A writer for the index; a lock held by another writer becomes [`SearchError::Locked`].
fn new_writer(index: &Index, directory: Option<&Path>) -> Result<IndexWriter, SearchError> {
    index
        .writer(WRITER_MEMORY_BUDGET)
        .map_err(|error| match (error, directory) {
            (TantivyError::LockFailure(..), Some(path)) => SearchError::Locked {
                path: path.to_owned(),
            },
            (other, _) => SearchError::Index(other),
        })
}

/// The case ids of documents, read from the id fast field (opened only for the segments the page uses).
fn ids_of(searcher: &Searcher, addresses: &[DocAddress]) -> Result<Vec<i64>, SearchError> {
    let segments = searcher.segment_readers();
    let mut columns: Vec<Option<Column<i64>>> = vec![None; segments.len()];
    let mut ids = Vec::with_capacity(addresses.len());
    for address in addresses {
        let Ok(segment_ord) = usize::try_from(address.segment_ord) else {
            continue;
        };
        let (Some(segment), Some(column)) =
            (segments.get(segment_ord), columns.get_mut(segment_ord))
        else {
            continue;
        };
        if column.is_none() {
            *column = Some(segment.fast_fields().i64(ID)?);
        }
        if let Some(id) = column
            .as_ref()
            .and_then(|column| column.first(address.doc_id))
        {
            ids.push(id);
        }
    }
    Ok(ids)
}
