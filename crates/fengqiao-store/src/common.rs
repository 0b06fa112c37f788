//! The store's methods whose SQL is the same on both backends, written once and compiled for each.
//!
//! `on_pool!` expands a body once per backend, so each copy is checked against its own driver's types.
//! SQL uses `$N` placeholders, which both drivers accept.

use crate::*;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// Runs `$body` with `$pool` bound to the backend's pool.
macro_rules! on_pool {
    ($self:ident, $pool:ident => $body:expr) => {
        match $self {
            Store::Sqlite(s) => {
                let $pool = &s.pool;
                $body
            }
            Store::Postgres(s) => {
                let $pool = &s.pool;
                $body
            }
        }
    };
}

/// Runs a filtered list query twice with the same filters: once to count, once for the page.
macro_rules! paged {
    ($pool:ident, $page:expr, count: $count:expr, select: $select:expr, order: $order:expr, |$qb:ident| $filters:block, |$row:ident| $map:expr) => {{
        let mut total = 0i64;
        let mut items = Vec::new();
        for counting in [true, false] {
            let mut $qb = sqlx::QueryBuilder::new(if counting { $count.to_string() } else { $select.to_string() });
            $filters
            if counting {
                total = $qb.build().fetch_one($pool).await?.try_get("n")?;
            } else {
                $qb.push(" ").push($order).push(" LIMIT ").push_bind($page.limit);
                $qb.push(" OFFSET ").push_bind($page.offset);
                for $row in $qb.build().fetch_all($pool).await? {
                    items.push($map);
                }
            }
        }
        (items, total)
    }};
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, so a transaction that reads before it writes
/// waits for the write lock up front instead of failing when another writer committed in between.
macro_rules! begin_write {
    ($self:ident, $pool:ident) => {
        match $self.backend() {
            Backend::Sqlite => $pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => $pool.begin().await?,
        }
    };
}

/// Appends `AND (col LIKE p1% OR col LIKE p2% …)`, or `AND 1=0` when nothing is visible.
macro_rules! push_visibility {
    ($qb:ident, $column:expr, $visibility:expr) => {{
        let prefixes = &$visibility.path_prefixes;
        if prefixes.is_empty() {
            $qb.push(" AND 1=0");
        } else {
            $qb.push(" AND (");
            for (i, prefix) in prefixes.iter().enumerate() {
                if i > 0 {
                    $qb.push(" OR ");
                }
                $qb.push($column);
                $qb.push(" LIKE ");
                $qb.push_bind(format!("{prefix}%"));
            }
            $qb.push(")");
        }
    }};
}

/// Inserts audit drafts through an executor (a transaction).
macro_rules! insert_audit {
    ($tx:expr, $drafts:expr) => {{
        for draft in $drafts {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, object, result, source, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(micros(draft.at))
            .bind(&draft.actor)
            .bind(&draft.action)
            .bind(&draft.object)
            .bind(&draft.result)
            .bind(&draft.source)
            .bind(draft.detail.to_string())
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

macro_rules! user_from_row {
    ($row:expr) => {
        UserRecord {
            id: $row.try_get("id")?,
            username: $row.try_get("username")?,
            display_name: $row.try_get("display_name")?,
            disabled: $row.try_get("disabled")?,
            can_unmask: $row.try_get("can_unmask")?,
            department_id: $row.try_get("department_id")?,
            grid_code: $row.try_get("grid_code")?,
            home_path: $row.try_get("home_path")?,
            roles: Vec::new(),
        }
    };
}

macro_rules! sealed_from_row {
    ($row:expr, $prefix:literal) => {{
        let ciphertext: Option<String> = $row.try_get(concat!($prefix, "_enc"))?;
        let blind_index: Option<String> = $row.try_get(concat!($prefix, "_hash"))?;
        let masked: Option<String> = $row.try_get(concat!($prefix, "_mask"))?;
        match (ciphertext, blind_index, masked) {
            (Some(ciphertext), Some(blind_index), Some(masked)) => Some(SealedValue {
                ciphertext,
                blind_index,
                masked,
            }),
            _ => None,
        }
    }};
}

macro_rules! resident_from_row {
    ($row:expr) => {
        ResidentRecord {
            id: $row.try_get("id")?,
            name: $row.try_get("name")?,
            id_number: sealed_from_row!($row, "id_number"),
            phone: sealed_from_row!($row, "phone"),
            region_code: $row.try_get("region_code")?,
            path: $row.try_get("path")?,
            address: $row.try_get("address")?,
            created_at: $row.try_get("created_at")?,
        }
    };
}

macro_rules! audit_from_row {
    ($row:expr) => {{
        let detail: String = $row.try_get("detail")?;
        AuditRecord {
            id: $row.try_get("id")?,
            at: $row.try_get("at")?,
            actor: $row.try_get("actor")?,
            action: $row.try_get("action")?,
            object: $row.try_get("object")?,
            result: $row.try_get("result")?,
            source: $row.try_get("source")?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
            chain_seq: $row.try_get("chain_seq")?,
            hash: $row.try_get("hash")?,
        }
    }};
}

/// Loads the role grants of a set of users into their records.
macro_rules! load_roles {
    ($pool:expr, $users:expr) => {{
        for user in $users.iter_mut() {
            let rows = sqlx::query(
                "SELECT role, scope FROM user_roles WHERE user_id = $1 ORDER BY role, scope",
            )
            .bind(user.id)
            .fetch_all($pool)
            .await?;
            user.roles = rows
                .iter()
                .map(|r| {
                    Ok(RoleGrant {
                        role: r.try_get("role")?,
                        scope: r.try_get("scope")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
        }
    }};
}

/// Audit records sealed per UPDATE (3 values each, under both backends' limits on bound values).
const SEAL_ROWS_PER_UPDATE: usize = 2_000;

/// Time truncated to microseconds, the precision both backends keep.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn region_path(parent_path: Option<&str>, code: &str) -> String {
    match parent_path {
        Some(parent) => format!("{parent}{code}/"),
        None => format!("/{code}/"),
    }
}

const USER_COLUMNS: &str =
    "id, username, display_name, disabled, can_unmask, department_id, grid_code, home_path";
const RESIDENT_COLUMNS: &str = "id, name, id_number_enc, id_number_hash, id_number_mask, phone_enc, phone_hash, phone_mask, region_code, path, address, created_at";

impl Store {
    // ---------------------------------------------------------------- audit

    /// Appends audit records on their own (a login attempt, a denied access, an unmask).
    pub async fn append_audit(&self, drafts: &[AuditDraft]) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            insert_audit!(tx, drafts);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Lists audit records, newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Paged<AuditRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM audit_log WHERE 1=1",
                select: "SELECT id, at, actor, action, object, result, source, detail, chain_seq, hash FROM audit_log WHERE 1=1",
                order: "ORDER BY id DESC",
                |qb| {
                    if let Some(prefix) = &filter.action_prefix {
                        qb.push(" AND action LIKE ").push_bind(format!("{prefix}%"));
                    }
                    if let Some(actor) = &filter.actor {
                        qb.push(" AND actor = ").push_bind(actor.clone());
                    }
                    if let Some(object) = &filter.object {
                        qb.push(" AND object = ").push_bind(object.clone());
                    }
                    if let Some(since) = filter.since {
                        qb.push(" AND at >= ").push_bind(since);
                    }
                    if let Some(until) = filter.until {
                        qb.push(" AND at < ").push_bind(until);
                    }
                },
                |row| audit_from_row!(row));
            Ok(Paged { items, total })
        })
    }

    /// Sealed records in chain order after `after_seq`, at most `limit`.
    pub async fn audit_chain(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<fengqiao_domain::audit::SealedRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, object, result, source, detail, chain_seq, hash \
                 FROM audit_log WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let hash: String = row.try_get("hash")?;
                out.push(fengqiao_domain::audit::SealedRecord {
                    chain_seq: row.try_get("chain_seq")?,
                    hash: fengqiao_domain::audit::parse_hash(&hash).unwrap_or([0; 32]),
                    entry: fengqiao_domain::audit::AuditEntry {
                        id: row.try_get("id")?,
                        at: row.try_get("at")?,
                        actor: row.try_get("actor")?,
                        action: row.try_get("action")?,
                        object: row.try_get("object")?,
                        result: row.try_get("result")?,
                        source: row.try_get("source")?,
                        detail: row.try_get("detail")?,
                    },
                });
            }
            Ok(out)
        })
    }

    /// How many records wait for the sealer.
    pub async fn unsealed_audit_count(&self) -> StoreResult<i64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE chain_seq IS NULL")
                .fetch_one(pool)
                .await?
                .try_get("n")?)
        })
    }

    /// Seals up to `batch` unsealed records in id order onto the chain head. Only one sealer runs at a time:
    /// PostgreSQL takes an advisory lock (another server's sealer skips this tick), SQLite a write lock.
    pub async fn seal_audit(&self, batch: i64) -> StoreResult<SealOutcome> {
        use fengqiao_domain::audit::{AuditEntry, GENESIS, chain_hash, parse_hash};
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            if self.backend() == Backend::Postgres {
                let locked: bool = sqlx::query("SELECT pg_try_advisory_xact_lock(7261001) AS locked")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("locked")?;
                if !locked {
                    tx.rollback().await?;
                    return Ok(SealOutcome { sealed_now: 0, head_seq: -1, head_hash: GENESIS });
                }
            }
            let head = sqlx::query("SELECT chain_seq, hash FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
            let (mut seq, mut previous) = match head {
                Some(row) => {
                    let hash: String = row.try_get("hash")?;
                    let parsed = parse_hash(&hash)
                        .ok_or_else(|| StoreError::Corrupt(format!("audit head hash {hash:?}")))?;
                    (row.try_get::<i64, _>("chain_seq")?, parsed)
                }
                None => (0, GENESIS),
            };
            let rows = sqlx::query(
                "SELECT id, at, actor, action, object, result, source, detail FROM audit_log \
                 WHERE chain_seq IS NULL ORDER BY id LIMIT $1",
            )
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
            let sealed_now = rows.len() as i64;
            let mut sealed: Vec<(i64, i64, String)> = Vec::with_capacity(rows.len());
            for row in rows {
                let entry = AuditEntry {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    object: row.try_get("object")?,
                    result: row.try_get("result")?,
                    source: row.try_get("source")?,
                    detail: row.try_get("detail")?,
                };
                seq += 1;
                previous = chain_hash(&previous, seq, &entry);
                sealed.push((entry.id, seq, hex::encode(previous)));
            }
            // One statement per chunk rather than one per record: the sealer holds the write lock meanwhile.
            for chunk in sealed.chunks(SEAL_ROWS_PER_UPDATE) {
                let mut qb = sqlx::QueryBuilder::new("WITH x(id, seq, hash) AS (");
                qb.push_values(chunk, |mut b, (id, seq, hash)| {
                    b.push_bind(*id).push_bind(*seq).push_bind(hash.clone());
                });
                qb.push(") UPDATE audit_log SET chain_seq = x.seq, hash = x.hash FROM x WHERE audit_log.id = x.id");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(SealOutcome { sealed_now, head_seq: seq, head_hash: previous })
        })
    }

    // ---------------------------------------------------------------- regions

    /// A region (cached; see `reference.rs`).
    pub async fn get_region(&self, code: &str) -> StoreResult<Option<RegionRecord>> {
        self.cached::<reference::Regions, _, _, _>(code.to_string(), self.load_region(code))
            .await
    }

    /// A grid (cached; see `reference.rs`).
    pub async fn get_grid(&self, code: &str) -> StoreResult<Option<GridRecord>> {
        self.cached::<reference::Grids, _, _, _>(code.to_string(), self.load_grid(code))
            .await
    }

    /// A department (cached; see `reference.rs`).
    pub async fn get_department(&self, id: i64) -> StoreResult<Option<DepartmentRecord>> {
        self.cached::<reference::Departments, _, _, _>(id, self.load_department(id))
            .await
    }

    pub(crate) fn reference(&self) -> &reference::ReferenceCache {
        match self {
            Store::Sqlite(s) => &s.reference,
            Store::Postgres(s) => &s.reference,
        }
    }

    /// The cached value of `key`, or what `load` reads (kept unless the cache was cleared meanwhile).
    pub(crate) async fn cached<T, K, V, F>(&self, key: K, load: F) -> StoreResult<V>
    where
        T: reference::Table<K, V>,
        K: std::hash::Hash + Eq,
        V: Clone,
        F: std::future::Future<Output = StoreResult<V>>,
    {
        match self.reference().get::<T, K, V>(&key) {
            Ok(value) => Ok(value),
            Err(generation) => {
                let value = load.await?;
                self.reference()
                    .fill::<T, K, V>(generation, key, value.clone());
                Ok(value)
            }
        }
    }

    /// Reads the reference tables' version and drops the cache when it moved (for work that runs no session
    /// query, such as the background sweeps).
    pub async fn check_reference_version(&self) -> StoreResult<()> {
        let version: i64 = on_pool!(self, pool => {
            sqlx::query("SELECT version FROM reference_version WHERE id = 1")
                .fetch_one(pool)
                .await?
                .try_get("version")?
        });
        self.reference().observe(version);
        Ok(())
    }

    /// Inserts or renames regions (parents before children, as sorted by code), all or nothing.
    pub async fn upsert_regions(
        &self,
        regions: &[NewRegion],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<usize> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            for region in regions {
                let parent_path: Option<String> = match &region.parent_code {
                    Some(parent) => Some(
                        sqlx::query("SELECT path FROM regions WHERE code = $1")
                            .bind(parent)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::MissingReference(format!("parent_code {parent}")))?
                            .try_get("path")?,
                    ),
                    None => None,
                };
                let path = region_path(parent_path.as_deref(), &region.code);
                sqlx::query(
                    "INSERT INTO regions (code, name, parent_code, level, path, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                )
                .bind(&region.code)
                .bind(&region.name)
                .bind(&region.parent_code)
                .bind(&region.level)
                .bind(&path)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, &format!("region {}", region.code)))?;
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(regions.len())
        })
    }

    async fn load_region(&self, code: &str) -> StoreResult<Option<RegionRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT code, name, parent_code, level, path FROM regions WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(<RegionRecord as sqlx::FromRow<_>>::from_row(&row)?),
                None => None,
            })
        })
    }

    /// The ancestors of a region path, top first (for breadcrumbs and placing a point).
    pub async fn regions_on_path(&self, path: &str) -> StoreResult<Vec<RegionRecord>> {
        let codes: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut out = Vec::new();
        for code in codes {
            if let Some(region) = self.get_region(&code).await? {
                out.push(region);
            }
        }
        Ok(out)
    }

    pub async fn list_regions(
        &self,
        visibility: &Visibility,
        filter: &RegionFilter,
        page: Page,
    ) -> StoreResult<Paged<RegionRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM regions WHERE 1=1",
                select: "SELECT code, name, parent_code, level, path FROM regions WHERE 1=1",
                order: "ORDER BY code",
                |qb| {
                    push_visibility!(qb, "path", visibility);
                    if let Some(parent) = &filter.parent_code {
                        qb.push(" AND parent_code = ").push_bind(parent.clone());
                    }
                    if let Some(level) = &filter.level {
                        qb.push(" AND level = ").push_bind(level.clone());
                    }
                    if let Some(name) = &filter.name_contains {
                        qb.push(" AND name LIKE ").push_bind(format!("%{}%", name.replace(['%', '_'], "")));
                    }
                },
                |row| <RegionRecord as sqlx::FromRow<_>>::from_row(&row)?);
            Ok(Paged { items, total })
        })
    }

    // ---------------------------------------------------------------- grids

    /// Inserts or replaces grids (their village must exist), all or nothing.
    pub async fn upsert_grids(
        &self,
        grids: &[NewGrid],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<usize> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            for grid in grids {
                let village_path: String = sqlx::query("SELECT path FROM regions WHERE code = $1")
                    .bind(&grid.village_code)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::MissingReference(format!("village {} of grid {}", grid.village_code, grid.code)))?
                    .try_get("path")?;
                let path = format!("{village_path}{}/", grid.code);
                sqlx::query(
                    "INSERT INTO grids (code, village_code, name, kind, geometry, path, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                     geometry = excluded.geometry, updated_at = excluded.updated_at",
                )
                .bind(&grid.code)
                .bind(&grid.village_code)
                .bind(&grid.name)
                .bind(&grid.kind)
                .bind(&grid.geometry)
                .bind(&path)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, &format!("grid {}", grid.code)))?;
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(grids.len())
        })
    }

    async fn load_grid(&self, code: &str) -> StoreResult<Option<GridRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT code, village_code, name, kind, geometry, path, worker_user_id, leader_user_id FROM grids WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(<GridRecord as sqlx::FromRow<_>>::from_row(&row)?),
                None => None,
            })
        })
    }

    /// Every grid, for building the point-to-grid index.
    pub async fn all_grids(&self) -> StoreResult<Vec<GridRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT code, village_code, name, kind, geometry, path, worker_user_id, leader_user_id FROM grids ORDER BY code")
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(<GridRecord as sqlx::FromRow<_>>::from_row(&row)?);
            }
            Ok(out)
        })
    }

    /// The names of the grids with these codes (for labelling figures), in one query.
    pub async fn grid_names(
        &self,
        codes: &[String],
    ) -> StoreResult<std::collections::HashMap<String, String>> {
        self.names_of("grids", "code", "name", codes).await
    }

    /// The display names of the users with these ids (for naming who acted on a timeline), in one query.
    pub async fn user_display_names(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, String>> {
        self.names_of("users", "id", "display_name", ids).await
    }

    /// The names of the departments with these ids (for labelling figures), in one query.
    pub async fn department_names(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, String>> {
        self.names_of("departments", "id", "name", ids).await
    }

    /// `key → name` for the rows of `table` whose `key_column` is one of `keys`, in one query.
    async fn names_of<K>(
        &self,
        table: &str,
        key_column: &str,
        name_column: &str,
        keys: &[K],
    ) -> StoreResult<std::collections::HashMap<K, String>>
    where
        K: Clone
            + Eq
            + std::hash::Hash
            + Send
            + Sync
            + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + 'static,
    {
        let mut out = std::collections::HashMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!(
                "SELECT {key_column} AS k, {name_column} AS n FROM {table} WHERE {key_column} IN ("
            ));
            let mut separated = qb.separated(", ");
            for key in keys {
                separated.push_bind(key.clone());
            }
            qb.push(")");
            for row in qb.build().fetch_all(pool).await? {
                out.insert(row.try_get("k")?, row.try_get("n")?);
            }
            Ok(out)
        })
    }

    pub async fn list_grids(
        &self,
        visibility: &Visibility,
        filter: &GridFilter,
        page: Page,
    ) -> StoreResult<Paged<GridRecord>> {
        let region_path = match &filter.region_code {
            Some(code) => match self.get_region(code).await? {
                Some(region) => Some(region.path),
                None => {
                    return Ok(Paged {
                        items: Vec::new(),
                        total: 0,
                    });
                }
            },
            None => None,
        };
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM grids WHERE 1=1",
                select: "SELECT code, village_code, name, kind, geometry, path, worker_user_id, leader_user_id FROM grids WHERE 1=1",
                order: "ORDER BY code",
                |qb| {
                    push_visibility!(qb, "path", visibility);
                    if let Some(path) = &region_path {
                        qb.push(" AND path LIKE ").push_bind(format!("{path}%"));
                    }
                    if let Some(kind) = &filter.kind {
                        qb.push(" AND kind = ").push_bind(kind.clone());
                    }
                },
                |row| <GridRecord as sqlx::FromRow<_>>::from_row(&row)?);
            Ok(Paged { items, total })
        })
    }

    /// Names a grid's worker and leader.
    pub async fn set_grid_staff(
        &self,
        code: &str,
        worker: Option<i64>,
        leader: Option<i64>,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<()> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query("UPDATE grids SET worker_user_id = $1, leader_user_id = $2, updated_at = $3 WHERE code = $4")
                .bind(worker)
                .bind(leader)
                .bind(now)
                .bind(code)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "grid staff"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(())
        })
    }

    // ---------------------------------------------------------------- departments

    pub async fn create_department(
        &self,
        department: &NewDepartment,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<DepartmentRecord> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let path: String = sqlx::query("SELECT path FROM regions WHERE code = $1")
                .bind(&department.region_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::MissingReference(format!("region {}", department.region_code)))?
                .try_get("path")?;
            let id: i64 = sqlx::query(
                "INSERT INTO departments (name, kind, region_code, path, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(&department.name)
            .bind(&department.kind)
            .bind(&department.region_code)
            .bind(&path)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, &format!("department {}", department.name)))?
            .try_get("id")?;
            let mut audit = audit.to_vec();
            for draft in &mut audit {
                if draft.object.is_empty() {
                    draft.object = format!("dept:{id}");
                }
            }
            insert_audit!(tx, &audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(DepartmentRecord { id, name: department.name.clone(), kind: department.kind.clone(), region_code: department.region_code.clone(), path })
        })
    }

    async fn load_department(&self, id: i64) -> StoreResult<Option<DepartmentRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT id, name, kind, region_code, path FROM departments WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(<DepartmentRecord as sqlx::FromRow<_>>::from_row(&row)?),
                None => None,
            })
        })
    }

    pub async fn list_departments(
        &self,
        visibility: &Visibility,
        filter: &DepartmentFilter,
        page: Page,
    ) -> StoreResult<Paged<DepartmentRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM departments WHERE 1=1",
                select: "SELECT id, name, kind, region_code, path FROM departments WHERE 1=1",
                order: "ORDER BY path, id",
                |qb| {
                    push_visibility!(qb, "path", visibility);
                    if let Some(region) = &filter.region_code {
                        qb.push(" AND region_code = ").push_bind(region.clone());
                    }
                    if let Some(kind) = &filter.kind {
                        qb.push(" AND kind = ").push_bind(kind.clone());
                    }
                },
                |row| <DepartmentRecord as sqlx::FromRow<_>>::from_row(&row)?);
            Ok(Paged { items, total })
        })
    }

    // ---------------------------------------------------------------- users

    pub async fn create_user(
        &self,
        user: &NewUser,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let id: i64 = sqlx::query(
                "INSERT INTO users (username, display_name, password_hash, can_unmask, department_id, grid_code, home_path, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            )
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(user.can_unmask)
            .bind(user.department_id)
            .bind(&user.grid_code)
            .bind(&user.home_path)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, &format!("username {}", user.username)))?
            .try_get("id")?;
            for grant in &user.roles {
                sqlx::query("INSERT INTO user_roles (user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(&grant.role)
                    .bind(&grant.scope)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut audit = audit.to_vec();
            for draft in &mut audit {
                if draft.object.is_empty() {
                    draft.object = format!("user:{id}");
                }
            }
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT id, password_hash, disabled FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(Credentials {
                    user_id: row.try_get("id")?,
                    password_hash: row.try_get("password_hash")?,
                    disabled: row.try_get("disabled")?,
                }),
                None => None,
            })
        })
    }

    pub async fn get_user(&self, id: i64) -> StoreResult<Option<UserRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            let mut users = match row {
                Some(row) => vec![user_from_row!(row)],
                None => Vec::new(),
            };
            load_roles!(pool, users);
            Ok(users.pop())
        })
    }

    pub async fn list_users(
        &self,
        visibility: &Visibility,
        username_contains: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<UserRecord>> {
        on_pool!(self, pool => {
            let (mut items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM users WHERE 1=1".to_string(),
                select: format!("SELECT {USER_COLUMNS} FROM users WHERE 1=1"),
                order: "ORDER BY id",
                |qb| {
                    push_visibility!(qb, "home_path", visibility);
                    if let Some(q) = username_contains {
                        let pattern = format!("%{}%", q.replace(['%', '_'], ""));
                        qb.push(" AND (username LIKE ").push_bind(pattern.clone());
                        qb.push(" OR display_name LIKE ").push_bind(pattern).push(")");
                    }
                },
                |row| user_from_row!(row));
            load_roles!(pool, items);
            Ok(Paged { items, total })
        })
    }

    /// Applies a patch; a disabled user's sessions end with it.
    pub async fn update_user(
        &self,
        id: i64,
        patch: &UserPatch,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<()> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let exists = sqlx::query("SELECT id FROM users WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            if let Some(name) = &patch.display_name {
                sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *tx).await?;
            }
            if let Some(disabled) = patch.disabled {
                sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(id).execute(&mut *tx).await?;
                if disabled {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
            }
            if let Some(can_unmask) = patch.can_unmask {
                sqlx::query("UPDATE users SET can_unmask = $1 WHERE id = $2").bind(can_unmask).bind(id).execute(&mut *tx).await?;
            }
            if let Some(hash) = &patch.password_hash {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            }
            if let Some(department) = patch.department_id {
                sqlx::query("UPDATE users SET department_id = $1 WHERE id = $2").bind(department).bind(id).execute(&mut *tx).await?;
            }
            if let Some(grid) = &patch.grid_code {
                sqlx::query("UPDATE users SET grid_code = $1 WHERE id = $2").bind(grid).bind(id).execute(&mut *tx).await?;
            }
            if let Some((roles, home_path)) = &patch.roles {
                sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                for grant in roles {
                    sqlx::query("INSERT INTO user_roles (user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(&grant.role)
                        .bind(&grant.scope)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE users SET home_path = $1 WHERE id = $2").bind(home_path).bind(id).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *tx).await?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(())
        })
    }

    // ---------------------------------------------------------------- sessions and throttling

    pub async fn create_session(
        &self,
        session: &NewSession,
        audit: &[AuditDraft],
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, source, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(&session.token_hash)
            .bind(session.user_id)
            .bind(&session.csrf_token)
            .bind(&session.source)
            .bind(micros(session.created_at))
            .bind(micros(session.expires_at))
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The live session behind a token hash, with its user as they are now (or as read less than a second ago:
    /// `reference::SESSION_FRESH`).
    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        // The session, its user and the reference tables' version in one query; the user's roles from the
        // cache when they have not changed (`reference.rs`).
        let session = match self.reference().session(token_hash) {
            Ok(session) => session,
            Err(generation) => {
                let found = on_pool!(self, pool => {
                    let row = sqlx::query("SELECT s.csrf_token, s.last_seen_at, s.expires_at, u.id, u.username, u.display_name, u.disabled, u.can_unmask, u.department_id, u.grid_code, u.home_path, \
                                           (SELECT version FROM reference_version WHERE id = 1) AS reference_version \
                                           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(pool)
                        .await?;
                    match row {
                        Some(row) => Some((
                            row.try_get::<i64, _>("reference_version")?,
                            reference::CachedSession {
                                csrf_token: row.try_get("csrf_token")?,
                                last_seen_at: row.try_get("last_seen_at")?,
                                expires_at: row.try_get("expires_at")?,
                                user: user_from_row!(row),
                            },
                        )),
                        None => None,
                    }
                });
                let Some((version, session)) = found else {
                    return Ok(None);
                };
                self.reference().observe(version);
                self.reference().fill::<reference::Sessions, _, _>(
                    generation,
                    token_hash.to_string(),
                    (std::time::Instant::now(), session.clone()),
                );
                session
            }
        };
        let mut user = session.user;
        user.roles = self
            .cached::<reference::Roles, _, _, _>(user.id, self.load_roles(user.id))
            .await?;
        Ok(Some(SessionRecord {
            token_hash: token_hash.to_string(),
            csrf_token: session.csrf_token,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            user,
        }))
    }

    async fn load_roles(&self, user_id: i64) -> StoreResult<Vec<RoleGrant>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT role, scope FROM user_roles WHERE user_id = $1 ORDER BY role, scope")
                .bind(user_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok(RoleGrant { role: r.try_get("role")?, scope: r.try_get("scope")? }))
                .collect()
        })
    }

    pub async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
                .bind(micros(now))
                .bind(micros(expires_at))
                .bind(token_hash)
                .execute(pool)
                .await?;
            self.reference().forget_session(token_hash);
            Ok(())
        })
    }

    /// Ends a session on the server.
    pub async fn delete_session(
        &self,
        token_hash: &str,
        audit: &[AuditDraft],
    ) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().forget_session(token_hash);
            Ok(done.rows_affected() > 0)
        })
    }

    /// Drops sessions past their expiry.
    pub async fn purge_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(micros(now)).execute(pool).await?.rows_affected())
        })
    }

    pub async fn record_login_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            for key in keys {
                sqlx::query("INSERT INTO login_failures (throttle_key, at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn login_failures_since(&self, key: &str, since: DateTime<Utc>) -> StoreResult<i64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE throttle_key = $1 AND at >= $2")
                .bind(key)
                .bind(micros(since))
                .fetch_one(pool)
                .await?
                .try_get("n")?)
        })
    }

    pub async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1").bind(key).execute(pool).await?;
            Ok(())
        })
    }

    pub async fn purge_login_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(micros(before)).execute(pool).await?.rows_affected())
        })
    }

    // ---------------------------------------------------------------- residents

    pub async fn create_resident(
        &self,
        resident: &NewResident,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let path: String = sqlx::query("SELECT path FROM regions WHERE code = $1")
                .bind(&resident.region_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::MissingReference(format!("region {}", resident.region_code)))?
                .try_get("path")?;
            let id: i64 = sqlx::query(
                "INSERT INTO residents (name, id_number_enc, id_number_hash, id_number_mask, phone_enc, phone_hash, phone_mask, \
                 region_code, path, address, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(&resident.name)
            .bind(resident.id_number.as_ref().map(|v| v.ciphertext.clone()))
            .bind(resident.id_number.as_ref().map(|v| v.blind_index.clone()))
            .bind(resident.id_number.as_ref().map(|v| v.masked.clone()))
            .bind(resident.phone.as_ref().map(|v| v.ciphertext.clone()))
            .bind(resident.phone.as_ref().map(|v| v.blind_index.clone()))
            .bind(resident.phone.as_ref().map(|v| v.masked.clone()))
            .bind(&resident.region_code)
            .bind(&path)
            .bind(&resident.address)
            .bind(resident.created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "resident"))?
            .try_get("id")?;
            let mut audit = audit.to_vec();
            for draft in &mut audit {
                if draft.object.is_empty() {
                    draft.object = format!("resident:{id}");
                }
            }
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// A resident, if visible.
    pub async fn get_resident(
        &self,
        visibility: &Visibility,
        id: i64,
    ) -> StoreResult<Option<ResidentRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => {
                    let record = resident_from_row!(row);
                    visibility.sees(&record.path).then_some(record)
                }
                None => None,
            })
        })
    }

    /// Residents matching a blind index, or all visible residents when `key` is `None`.
    pub async fn find_residents(
        &self,
        visibility: &Visibility,
        key: Option<(ResidentKey, &str)>,
        page: Page,
    ) -> StoreResult<Paged<ResidentRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM residents WHERE 1=1".to_string(),
                select: format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE 1=1"),
                order: "ORDER BY id",
                |qb| {
                    push_visibility!(qb, "path", visibility);
                    match key {
                        Some((ResidentKey::IdNumber, hash)) => {
                            qb.push(" AND id_number_hash = ").push_bind(hash.to_string());
                        }
                        Some((ResidentKey::Phone, hash)) => {
                            qb.push(" AND phone_hash = ").push_bind(hash.to_string());
                        }
                        None => {}
                    }
                },
                |row| resident_from_row!(row));
            Ok(Paged { items, total })
        })
    }
}
