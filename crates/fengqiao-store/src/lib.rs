//! Fengqiao's storage: one narrow interface, two real backends (SQLite embedded, PostgreSQL for production).
//!
//! Each write method is one whole use case — its rows and its audit records — committed all or nothing.
//! Queries that read scoped data take a [`Visibility`] and never return rows outside it.

#[macro_use]
mod common;
#[macro_use]
mod cases;
mod bulletin;
mod intake_batch;
mod mediation;
mod pg_intake;
mod points;
mod rates;
mod records;
mod reference;
mod writer;
pub use writer::GroupCommitCounts;

pub use bulletin::*;
pub use cases::*;
pub use mediation::*;
pub use points::*;
pub use rates::*;
pub use records::*;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key already exists (`what` names it).
    #[error("already exists: {0}")]
    Conflict(String),
    /// A referenced row does not exist (`what` names it).
    #[error("missing reference: {0}")]
    MissingReference(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: a handle to one database, cheap to clone.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: writer::SqliteWriter,
    reference: std::sync::Arc<reference::ReferenceCache>,
}

/// The PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    reference: std::sync::Arc<reference::ReferenceCache>,
    numbers: std::sync::Arc<cases::NumberBlocks>,
}

impl Store {
    /// Opens the database named by `url` (`sqlite:…` or `postgres://…`), creating a SQLite file if needed.
    /// Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(e.to_string()))?
                // Short, index-served queries: JIT compilation (on by default for costly plans such as
                // a county's rates) costs more than it saves.
                .options([("jit", "off")]);
            // About four connections per core: more only queue inside PostgreSQL (on 2 cores, 8 connections
            // registered ~3 % more cases per second than 16).
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let pool = PgPoolOptions::new()
                .max_connections((4 * cores as u32).clamp(8, 32))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store::Postgres(PgStore {
                pool,
                reference: Default::default(),
                numbers: Default::default(),
            }))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Read through a shared memory map (SQLite's largest by default, 2 GiB) rather than each
                // connection's small page cache: a list page's row lookups stay warm whichever connection
                // serves it, and the mapped pages are the OS's file cache, not the server's heap.
                .pragma("mmap_size", "2147418112");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(1)
                .connect_with(options.clone())
                .await?;
            let mut connection = pool.acquire().await?.detach();
            // The writer's sqlx connection runs only the units one by one (when a batch fails together); its
            // commits do not checkpoint (the writer does that after answering, `writer::checkpoint`).
            sqlx::raw_sql("PRAGMA wal_autocheckpoint = 0")
                .execute(&mut connection)
                .await?;
            // A database file has a write-ahead log beside it (once anything is written); an in-memory database
            // has neither, and its writer's commits sync as usual.
            let file = options.get_filename().to_path_buf();
            let files = file.is_file().then(|| {
                let mut wal = file.as_os_str().to_owned();
                wal.push("-wal");
                (file, std::path::PathBuf::from(wal))
            });
            let writer = writer::SqliteWriter::start(connection, files).await?;
            tokio::spawn(writer::checkpoint_beside(pool.clone()));
            Ok(Store::Sqlite(SqliteStore {
                pool,
                writer,
                reference: Default::default(),
            }))
        } else {
            Err(StoreError::BadUrl(
                "expected sqlite:PATH or postgres://…".into(),
            ))
        }
    }

    /// The URL of the SQLite database file in a data directory.
    pub fn sqlite_url_in(data_dir: &Path) -> String {
        format!("sqlite://{}", data_dir.join("fengqiao.db").display())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// How the SQLite writer has written the registrations of the batches it committed (`None` on PostgreSQL,
    /// which has no group commit of its own).
    pub fn group_commit_counts(&self) -> Option<GroupCommitCounts> {
        match self {
            Store::Sqlite(s) => Some(s.writer.counts()),
            Store::Postgres(_) => None,
        }
    }

    /// Runs the backend's migrations up to the newest.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => sqlx::migrate!("./migrations/sqlite").run(&s.pool).await?,
            Store::Postgres(s) => sqlx::migrate!("./migrations/postgres").run(&s.pool).await?,
        }
        Ok(())
    }

    /// Runs the backend's migrations up to and including `version` (to test upgrades of released schemas).
    pub async fn migrate_to(&self, version: i64) -> StoreResult<()> {
        let upto = |mut migrator: sqlx::migrate::Migrator| {
            migrator.migrations = std::borrow::Cow::Owned(
                migrator
                    .migrations
                    .iter()
                    .filter(|m| m.version <= version)
                    .cloned()
                    .collect(),
            );
            migrator
        };
        match self {
            Store::Sqlite(s) => {
                upto(sqlx::migrate!("./migrations/sqlite"))
                    .run(&s.pool)
                    .await?
            }
            Store::Postgres(s) => {
                upto(sqlx::migrate!("./migrations/postgres"))
                    .run(&s.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query("SELECT 1").execute(&s.pool).await?;
            }
            Store::Postgres(s) => {
                sqlx::query("SELECT 1").execute(&s.pool).await?;
            }
        }
        Ok(())
    }

    /// A consistent online copy of a SQLite database (`VACUUM INTO`); PostgreSQL is backed up with its own tools.
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query("VACUUM INTO $1")
                    .bind(target.display().to_string())
                    .execute(&s.pool)
                    .await?;
                Ok(())
            }
            Store::Postgres(_) => Err(StoreError::BadUrl(
                "PostgreSQL: use pg_dump or pg_basebackup".into(),
            )),
        }
    }

    /// Direct access for tests that must act as an attacker with database access.
    pub async fn execute_raw(&self, sql: &str) -> StoreResult<u64> {
        Ok(match self {
            Store::Sqlite(s) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&s.pool)
                .await?
                .rows_affected(),
            Store::Postgres(s) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&s.pool)
                .await?
                .rows_affected(),
        })
    }
}

/// Maps unique and foreign-key violations to their store errors.
pub(crate) fn classify(error: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            return StoreError::Conflict(what.to_string());
        }
        if db.is_foreign_key_violation() {
            return StoreError::MissingReference(what.to_string());
        }
    }
    StoreError::Database(error)
}
