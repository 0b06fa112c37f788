//! An in-process cache of the reference tables every request reads: regions, grids, departments, categories
//! and users' role grants.
//!
//! A registration used to read each of them from the database (five round trips, each a hop to the pool's
//! worker thread). They change rarely, so the store keeps what it read, and throws it all away when they change:
//! triggers on those tables bump `reference_version` (migration 0005), and the session query, which every
//! authenticated request runs anyway, reads the version in the same statement. Another server's change is
//! therefore seen by this server's next request; this server's own changes clear the cache when they commit;
//! background work that runs no session query checks the version itself (`Store::check_reference_version`).
//!
//! A read that started before a clear must not put what it read into the cleared cache: every fill carries the
//! generation it started in and is dropped when the generation has moved on.
//!
//! Sessions with their users are kept too, for `SESSION_FRESH` only: a browser opening a page sends several
//! requests at once, and each would otherwise read the same session. This server's own logouts, session
//! extensions and user changes drop them at once; another server's are seen within `SESSION_FRESH`, the bound
//! the design already accepts for search and reference data.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::{CategoryRecord, DepartmentRecord, GridRecord, RegionRecord, RoleGrant, UserRecord};

/// How long a session read from the database answers for itself without being read again.
pub(crate) const SESSION_FRESH: Duration = Duration::from_secs(1);

/// A session as read: its CSRF token, last use, expiry and user (roles come from `roles`).
#[derive(Debug, Clone)]
pub(crate) struct CachedSession {
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user: UserRecord,
}

/// Above this many entries in one table's map, the map starts over (a province's villages fit easily).
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// The database's `reference_version` when last seen (None before the first look).
    version: Option<i64>,
    /// Bumped by every clear.
    generation: u64,
    regions: HashMap<String, Option<RegionRecord>>,
    grids: HashMap<String, Option<GridRecord>>,
    departments: HashMap<i64, Option<DepartmentRecord>>,
    categories: HashMap<String, Option<CategoryRecord>>,
    roles: HashMap<i64, Vec<RoleGrant>>,
    /// Sessions by token hash, with when they were read.
    sessions: HashMap<String, (Instant, CachedSession)>,
}

impl Inner {
    fn clear(&mut self) {
        self.generation += 1;
        self.regions.clear();
        self.grids.clear();
        self.departments.clear();
        self.categories.clear();
        self.roles.clear();
        self.sessions.clear();
    }
}

/// The cache (one per store, shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct ReferenceCache {
    inner: Mutex<Inner>,
}

/// Which map of the cache.
pub(crate) trait Table<K, V> {
    fn map(inner: &mut Inner) -> &mut HashMap<K, V>;
}

pub(crate) struct Regions;
pub(crate) struct Grids;
pub(crate) struct Departments;
pub(crate) struct Categories;
pub(crate) struct Roles;
pub(crate) struct Sessions;

impl Table<String, Option<RegionRecord>> for Regions {
    fn map(inner: &mut Inner) -> &mut HashMap<String, Option<RegionRecord>> {
        &mut inner.regions
    }
}
impl Table<String, Option<GridRecord>> for Grids {
    fn map(inner: &mut Inner) -> &mut HashMap<String, Option<GridRecord>> {
        &mut inner.grids
    }
}
impl Table<i64, Option<DepartmentRecord>> for Departments {
    fn map(inner: &mut Inner) -> &mut HashMap<i64, Option<DepartmentRecord>> {
        &mut inner.departments
    }
}
impl Table<String, Option<CategoryRecord>> for Categories {
    fn map(inner: &mut Inner) -> &mut HashMap<String, Option<CategoryRecord>> {
        &mut inner.categories
    }
}
impl Table<i64, Vec<RoleGrant>> for Roles {
    fn map(inner: &mut Inner) -> &mut HashMap<i64, Vec<RoleGrant>> {
        &mut inner.roles
    }
}

impl Table<String, (Instant, CachedSession)> for Sessions {
    fn map(inner: &mut Inner) -> &mut HashMap<String, (Instant, CachedSession)> {
        &mut inner.sessions
    }
}

impl ReferenceCache {
    /// The session read less than `SESSION_FRESH` ago, or the generation to fill with.
    pub(crate) fn session(&self, token_hash: &str) -> Result<CachedSession, u64> {
        let inner = self.lock();
        match inner.sessions.get(token_hash) {
            Some((read, session)) if read.elapsed() < SESSION_FRESH => Ok(session.clone()),
            _ => Err(inner.generation),
        }
    }

    /// Forgets one session (it ended or was extended here); called after the commit. A read of it that began
    /// before is not kept either: the generation moves on.
    pub(crate) fn forget_session(&self, token_hash: &str) {
        let mut inner = self.lock();
        inner.sessions.remove(token_hash);
        inner.generation += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves at worst a partly filled map of correct entries.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the database's version; a different one from the last seen clears everything.
    pub(crate) fn observe(&self, version: i64) {
        let mut inner = self.lock();
        if inner.version != Some(version) {
            inner.clear();
            inner.version = Some(version);
        }
    }

    /// Forgets everything (this server changed a reference table).
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.clear();
        inner.version = None;
    }

    /// The cached value and the generation to fill with when there is none.
    pub(crate) fn get<T: Table<K, V>, K: Hash + Eq, V: Clone>(&self, key: &K) -> Result<V, u64> {
        let mut inner = self.lock();
        match T::map(&mut inner).get(key) {
            Some(value) => Ok(value.clone()),
            None => Err(inner.generation),
        }
    }

    /// Keeps a value read from the database, unless the cache was cleared since the read began.
    pub(crate) fn fill<T: Table<K, V>, K: Hash + Eq, V>(&self, generation: u64, key: K, value: V) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let map = T::map(&mut inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> Option<RegionRecord> {
        Some(RegionRecord {
            code: code.into(),
            name: "测试".into(),
            parent_code: None,
            level: "county".into(),
            path: format!("/{code}/"),
        })
    }

    #[test]
    fn a_new_version_or_a_clear_empties_the_cache() {
        let cache = ReferenceCache::default();
        cache.observe(1);
        let generation = cache
            .get::<Regions, _, _>(&"370883".to_string())
            .unwrap_err();
        cache.fill::<Regions, _, _>(generation, "370883".into(), region("370883"));
        assert_eq!(
            cache.get::<Regions, _, _>(&"370883".to_string()),
            Ok(region("370883"))
        );
        cache.observe(1);
        assert!(cache.get::<Regions, _, _>(&"370883".to_string()).is_ok());
        cache.observe(2);
        assert!(cache.get::<Regions, _, _>(&"370883".to_string()).is_err());
        let generation = cache
            .get::<Regions, _, _>(&"370883".to_string())
            .unwrap_err();
        cache.fill::<Regions, _, _>(generation, "370883".into(), None);
        assert_eq!(cache.get::<Regions, _, _>(&"370883".to_string()), Ok(None));
        cache.clear();
        assert!(cache.get::<Regions, _, _>(&"370883".to_string()).is_err());
    }

    #[test]
    fn a_read_begun_before_a_clear_is_not_kept() {
        let cache = ReferenceCache::default();
        cache.observe(1);
        let generation = cache
            .get::<Regions, _, _>(&"370883".to_string())
            .unwrap_err();
        // Another request sees a newer version while this one reads the old row.
        cache.observe(2);
        cache.fill::<Regions, _, _>(generation, "370883".into(), region("370883"));
        assert!(cache.get::<Regions, _, _>(&"370883".to_string()).is_err());
    }
}
