//! Direct database access for the benchmark: reading the fixture back and bulk-seeding cases while the server
//! is stopped. SQLite is opened as the store opens it (WAL, foreign keys on); PostgreSQL gets a fresh
//! `fq_bench_…` database on the test server, dropped at the end.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// Which database a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// An open pool on either backend.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body with `$pool` bound to whichever pool this is.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) with one connection: the seeder writes
    /// from one connection, as a bulk load would.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else {
            // The bulk load itself does not need every commit on disk (it commits every ~50k rows and
            // checkpoints at the end); the server reopens the file with synchronous=FULL.
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .context("opening SQLite")?;
            Ok(Db::Sqlite(pool))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Rows of two text columns.
    pub async fn text_pairs(&self, sql: &'static str) -> anyhow::Result<Vec<(String, String)>> {
        Ok(on_db!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Rows of an integer and two text columns.
    pub async fn id_text_pairs(
        &self,
        sql: &'static str,
    ) -> anyhow::Result<Vec<(i64, String, String)>> {
        Ok(on_db!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// One integer (e.g. a count); 0 when NULL.
    pub async fn scalar(&self, sql: &'static str) -> anyhow::Result<i64> {
        let value: Option<i64> =
            on_db!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await?);
        Ok(value.unwrap_or(0))
    }

    /// Runs statements with no result (e.g. `ANALYZE`, a checkpoint).
    pub async fn execute(&self, sql: &'static str) -> anyhow::Result<()> {
        on_db!(self, pool => {
            sqlx::raw_sql(sql).execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await);
    }
}

pub(crate) use on_db;

/// A fresh database `fq_bench_<random>` on the PostgreSQL server at `admin_url`; returns its URL and name.
pub async fn create_postgres_database(admin_url: &str) -> anyhow::Result<(String, String)> {
    let name = format!(
        "fq_bench_{}",
        hex_lower(&crate::proc::random_bytes(6)?).to_ascii_lowercase()
    );
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(PgConnectOptions::from_str(admin_url)?)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .with_context(|| format!("creating database {name}"))?;
    admin.close().await;
    let slash = admin_url
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .context("the PostgreSQL URL names no database")?;
    Ok((format!("{}/{name}", &admin_url[..slash]), name))
}

/// Drops a database made by [`create_postgres_database`] (closing anything still connected).
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(name.starts_with("fq_bench_"), "refusing to drop {name}");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(PgConnectOptions::from_str(admin_url)?)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    admin.close().await;
    Ok(())
}

pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
