//! Keeping the Chinese full-text index current, and searching it within the caller's scope.
//!
//! The index is derived data: every server polls the cases changed since its cursor (with a look-back window,
//! since servers' clocks differ) and re-indexes them in one commit, so a change is searchable on every server
//! within about a second; `rebuild` recreates it from the database.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::error::FieldError;
use fengqiao_search::{SearchDoc, SearchError, SearchIndex, SearchScope};
use fengqiao_store::{CaseSearchFields, CaseUnitRecord};

/// How far back each poll looks again: another server's clock may lag, and a transaction that took its time
/// commits after later ones.
const LOOK_BACK: chrono::Duration = chrono::Duration::seconds(5);

/// How many changed cases a poll reads at a time.
const PAGE: usize = 2000;

/// The most documents indexed in one commit: a poll commits once for everything that changed since the
/// previous one, a rebuild (or a poll after a long stop) once for each this many.
const DOCS_PER_COMMIT: usize = 10_000;

/// Where the indexer has got to, and what it indexed within the look-back window (so a case is not indexed
/// again unless it changed again).
#[derive(Debug, Clone)]
pub struct SearchCursor {
    pub after: DateTime<Utc>,
    pub after_id: i64,
    /// Case id → (version indexed, when it changed).
    recent: std::collections::HashMap<i64, (i64, DateTime<Utc>)>,
    /// When the previous poll started (this server's clock): a change stamped more than the look-back before
    /// it had committed by then and was seen, so an idle indexer stops reading the window again.
    polled_at: Option<DateTime<Utc>>,
}

impl SearchCursor {
    /// The digest of what this cursor indexed from `from` up to its position, in the form the store gives
    /// for what is there (`Store::case_versions_digest`).
    fn indexed_between(&self, from: DateTime<Utc>) -> fengqiao_store::VersionsDigest {
        let mut digest = fengqiao_store::VersionsDigest::default();
        for (&id, &(version, at)) in &self.recent {
            if at >= from && (at, id) <= (self.after, self.after_id) {
                digest.count += 1;
                digest.ids = digest.ids.wrapping_add(id);
                digest.versions = digest.versions.wrapping_add(version);
            }
        }
        digest
    }

    /// A cursor at a point in time (nothing indexed recently).
    pub fn at(after: DateTime<Utc>, after_id: i64) -> Self {
        Self {
            after,
            after_id,
            recent: std::collections::HashMap::new(),
            polled_at: None,
        }
    }
}

fn search_error(e: SearchError) -> AppError {
    match e {
        SearchError::EmptyQuery => AppError::Validation(vec![FieldError::new(
            "q",
            "empty",
            "请输入要检索的词语",
            "enter words to search for",
        )]),
        SearchError::QueryTooLong { .. } => AppError::Validation(vec![FieldError::new(
            "q",
            "length",
            "检索词过长",
            "the search text is too long",
        )]),
        other => AppError::Internal(format!("search: {other}")),
    }
}

fn doc(record: &CaseSearchFields, units: &[CaseUnitRecord], notes: Vec<String>) -> SearchDoc {
    SearchDoc {
        id: record.id,
        number: record.number.clone(),
        title: record.title.clone(),
        description: record.description.clone(),
        notes,
        path: record.path.clone(),
        owner_path: record.owner_path.clone(),
        units: units.iter().map(|u| u.unit_key.clone()).collect(),
        status: record.status.clone(),
        kind: record.kind.clone(),
        category: record.category_code.clone(),
        created_at: record.created_at.timestamp(),
    }
}

impl App {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SearchIndex) -> Result<T, SearchError> + Send + 'static,
    ) -> AppResult<T> {
        let index: Arc<SearchIndex> = self.search.clone();
        tokio::task::spawn_blocking(move || work(&index))
            .await
            .map_err(|e| AppError::Internal(format!("search task: {e}")))?
            .map_err(search_error)
    }

    /// Indexes the cases changed since the cursor (and a look-back window for commits that land out of time
    /// order), skipping those already indexed at the same change; returns the new cursor and how many were indexed.
    pub async fn index_changes(
        &self,
        cursor: Option<SearchCursor>,
    ) -> AppResult<(SearchCursor, usize)> {
        self.index_changes_paged(cursor, PAGE, DOCS_PER_COMMIT)
            .await
    }

    /// [`App::index_changes`], reading `page` changed cases at a time and committing at least every
    /// `per_commit` documents (tests use small sizes to go through several pages and commits).
    #[doc(hidden)]
    pub async fn index_changes_paged(
        &self,
        cursor: Option<SearchCursor>,
        page: usize,
        per_commit: usize,
    ) -> AppResult<(SearchCursor, usize)> {
        let beginning = DateTime::<Utc>::UNIX_EPOCH;
        let mut cursor = cursor.unwrap_or_else(|| SearchCursor::at(beginning, 0));
        let polled_at = self.now();
        let back = |t: DateTime<Utc>| t.checked_sub_signed(LOOK_BACK).unwrap_or(beginning);
        // Read again what may have committed since the previous poll: changes stamped within the look-back
        // of it (or of the cursor, on the first poll); once idle that is nothing before the cursor.
        let mut start = back(cursor.after);
        if let Some(previous) = cursor.polled_at {
            start = start.max(back(previous).min(cursor.after));
        }
        // To the microsecond, as the store keeps times.
        let start = DateTime::from_timestamp_micros(start.timestamp_micros()).unwrap_or(start);
        let (mut after, mut after_id) = (start.max(beginning), 0);
        // Most polls find that nothing committed late: when the window below the cursor holds exactly the
        // versions indexed there, read only what is past the cursor instead of the whole window again.
        if cursor.polled_at.is_some() && start < cursor.after {
            let found = self
                .store
                .case_versions_digest(start, cursor.after, cursor.after_id)
                .await?;
            if found == cursor.indexed_between(start) {
                (after, after_id) = (cursor.after, cursor.after_id);
            }
        }
        let mut total = 0;
        // The pages read are indexed together: one commit (one new segment per indexing thread, to be
        // merged later) for all that changed since the last poll, not one per page.
        let mut pending: Vec<SearchDoc> = Vec::new();
        let page = page.max(1);
        loop {
            let changed = self
                .store
                .changed_case_versions(after, after_id, page as i64)
                .await?;
            let full = changed.len() == page;
            let Some(&(last_id, _, last_at)) = changed.last() else {
                break;
            };
            let progress = (last_at, last_id) > (after, after_id);
            (after, after_id) = (last_at, last_id);
            if (last_at, last_id) > (cursor.after, cursor.after_id) {
                (cursor.after, cursor.after_id) = (last_at, last_id);
            }
            let ids: Vec<i64> = changed
                .iter()
                .filter(|(id, version, _)| {
                    cursor.recent.get(id).map(|(indexed, _)| indexed) != Some(version)
                })
                .map(|(id, _, _)| *id)
                .collect();
            // Read as they are now (a case may have changed again since: its newer version is indexed, and
            // the later change will be met again and skipped).
            let fresh = self.store.search_fields_of_cases(&ids).await?;
            let mut units = self.store.units_of_cases(&ids).await?;
            let mut texts = self.store.texts_of_cases(&ids).await?;
            total += fresh.len();
            for record in fresh {
                cursor
                    .recent
                    .insert(record.id, (record.version, record.updated_at));
                let case_units = units.remove(&record.id).unwrap_or_default();
                pending.push(doc(
                    &record,
                    &case_units,
                    texts.remove(&record.id).unwrap_or_default(),
                ));
            }
            if pending.len() >= per_commit {
                let docs = std::mem::take(&mut pending);
                self.blocking(move |index| index.upsert(&docs)).await?;
            }
            if !full || !progress {
                break;
            }
        }
        if !pending.is_empty() {
            self.blocking(move |index| index.upsert(&pending)).await?;
        }
        // Forget what fell out of the look-back window.
        let horizon = cursor
            .after
            .checked_sub_signed(LOOK_BACK)
            .unwrap_or(beginning);
        cursor.recent.retain(|_, (_, at)| *at >= horizon);
        cursor.polled_at = Some(polled_at);
        Ok((cursor, total))
    }

    /// Recreates the index from the database (an administrator's request, or a schema change).
    pub async fn rebuild_search_index(
        &self,
        actor: Option<&Actor>,
    ) -> AppResult<(SearchCursor, usize)> {
        if let Some(actor) = actor {
            self.require(actor, Permission::ConfigureOrganisation)
                .await?;
        }
        self.blocking(|index| index.clear()).await?;
        let (cursor, n) = self.index_changes(None).await?;
        let detail = serde_json::json!({ "cases": n });
        let audit = match actor {
            Some(actor) => actor.audit(self.now(), "search.rebuild", "search", "ok", detail),
            None => self.system_audit("search.rebuild", "search", detail),
        };
        self.store.append_audit(&[audit]).await?;
        Ok((cursor, n))
    }

    /// The ids of the cases the actor may see that match the text (newest first, at most 1,000).
    pub(crate) async fn search_case_ids(&self, actor: &Actor, text: &str) -> AppResult<Vec<i64>> {
        let visibility = self.case_visibility(actor);
        let scope = SearchScope {
            path_prefixes: visibility.path_prefixes,
            units: visibility.units,
        };
        let text = text.to_string();
        let hits = self
            .blocking(move |index| index.search(&text, &scope, 0, 1000, false))
            .await?;
        Ok(hits.ids)
    }
}
