//! Group commit for SQLite: one writer task runs registrations from many requests in one transaction, each in
//! its own savepoint, and answers each only after the COMMIT that made it durable.
//!
//! SQLite has one writer at a time and a commit costs an fsync; grouping concurrent units into one transaction
//! pays that once per batch (DESIGN.md, "Units of work"; LIMITS.md shows the gain). The batch's registrations
//! are first written together with multi-row statements (`intake_batch`); if that fails, the transaction is
//! rolled back and begun again and they run one by one, each in its own savepoint, so a unit that fails rolls
//! back alone and the others commit.

use sqlx::SqliteConnection;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

use crate::{StoreError, StoreResult};

/// What one registration did inside its savepoint.
#[derive(Debug)]
pub(crate) enum CreateUnit {
    /// The new case's id and number.
    Created(i64, String),
    /// The idempotency key was there already.
    Existing {
        same_body: bool,
        case_id: Option<i64>,
    },
}

type UnitFuture<'c> = Pin<Box<dyn Future<Output = StoreResult<CreateUnit>> + Send + 'c>>;
type Unit = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> UnitFuture<'c> + Send>;

struct Job {
    /// The registration as data, for writing the batch together.
    data: Option<Box<crate::intake_batch::CreateJob>>,
    /// The same registration as a unit of its own (the fallback).
    unit: Unit,
    reply: oneshot::Sender<StoreResult<CreateUnit>>,
}

/// The handle requests use to hand their unit to the writer.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteWriter")
    }
}

/// At most this many units share one transaction.
const MAX_BATCH: usize = 256;

impl SqliteWriter {
    /// Starts the writer on a connection and a thread of its own. The writer waits on its connection a dozen
    /// times per batch; on the server's runtime each of those waits also queued behind every request task
    /// ready to run, and on 2 cores that queueing, not SQLite, bounded the registrations per second. Its own
    /// thread runs a runtime with nothing else on it. The thread ends when the last handle is dropped.
    pub(crate) fn start(connection: SqliteConnection) -> std::io::Result<SqliteWriter> {
        let (jobs, receiver) = mpsc::channel(4 * MAX_BATCH);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("fq-sqlite-writer".into())
            .spawn(move || runtime.block_on(run(connection, receiver)))?;
        Ok(SqliteWriter { jobs })
    }

    /// Runs a unit in the next group commit and waits until it is durable (or failed alone).
    pub(crate) async fn run(
        &self,
        data: Option<crate::intake_batch::CreateJob>,
        unit: Unit,
    ) -> StoreResult<CreateUnit> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                data: data.map(Box::new),
                unit,
                reply,
            })
            .await
            .map_err(|_| StoreError::Corrupt("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the SQLite writer dropped a unit".into()))?
    }
}

async fn exec(connection: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql)
        .execute(&mut *connection)
        .await
        .map(|_| ())
}

async fn run(mut connection: SqliteConnection, mut receiver: mpsc::Receiver<Job>) {
    let mut checkpointed = std::time::Instant::now();
    // Whether the WAL holds commits of this writer that no checkpoint has copied yet.
    let mut behind = false;
    loop {
        let first = match tokio::time::timeout(CHECKPOINT_EVERY, receiver.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => break,
            Err(_) => {
                if behind {
                    checkpoint(&mut connection).await;
                    (checkpointed, behind) = (std::time::Instant::now(), false);
                }
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (size, started) = (batch.len(), std::time::Instant::now());
        if let Err(e) = exec(&mut connection, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, "group commit: BEGIN failed");
            for job in batch {
                let _ = job
                    .reply
                    .send(Err(StoreError::Corrupt(format!("BEGIN failed: {e}"))));
            }
            continue;
        }
        let mut done = Vec::with_capacity(batch.len());
        let mut broken = None;
        // All together first, when every job came with its data.
        if batch.len() > 1 && batch.iter().all(|job| job.data.is_some()) {
            let jobs: Vec<&crate::intake_batch::CreateJob> =
                batch.iter().filter_map(|job| job.data.as_deref()).collect();
            match together(&mut connection, &jobs).await {
                Ok(Some(results)) => {
                    for (job, result) in batch.into_iter().zip(results) {
                        done.push((job.reply, Ok(result)));
                    }
                    batch = Vec::new();
                }
                Ok(None) => {}
                Err(e) => broken = Some(e.to_string()),
            }
        }
        for job in batch {
            if broken.is_some() {
                done.push((
                    job.reply,
                    Err(StoreError::Corrupt("the batch's transaction failed".into())),
                ));
                continue;
            }
            if let Err(e) = exec(&mut connection, "SAVEPOINT unit").await {
                broken = Some(e.to_string());
                done.push((job.reply, Err(StoreError::Database(e))));
                continue;
            }
            let result = (job.unit)(&mut connection).await;
            let closed = match &result {
                Ok(_) => exec(&mut connection, "RELEASE unit").await,
                Err(_) => match exec(&mut connection, "ROLLBACK TO unit").await {
                    Ok(()) => exec(&mut connection, "RELEASE unit").await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = closed {
                broken = Some(e.to_string());
            }
            done.push((job.reply, result));
        }
        let written = started.elapsed();
        let committed = match &broken {
            None => exec(&mut connection, "COMMIT")
                .await
                .map_err(|e| e.to_string()),
            Some(e) => Err(e.clone()),
        };
        tracing::debug!(
            size,
            written_us = written.as_micros() as u64,
            committed_us = started.elapsed().as_micros() as u64,
            "group commit"
        );
        match committed {
            Ok(()) => {
                for (reply, result) in done {
                    let _ = reply.send(result);
                }
                behind = true;
                if checkpointed.elapsed() >= CHECKPOINT_EVERY {
                    checkpoint(&mut connection).await;
                    (checkpointed, behind) = (std::time::Instant::now(), false);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; every unit of the batch is refused");
                let _ = exec(&mut connection, "ROLLBACK").await;
                for (reply, _) in done {
                    let _ = reply.send(Err(StoreError::Corrupt(format!(
                        "the group commit failed: {e}"
                    ))));
                }
            }
        }
    }
}

/// How often the writer copies the WAL back into the database while it is writing.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// How often a reader connection copies the WAL back into the database beside the writer.
const BACKGROUND_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// Copies the WAL back into the database from a pool connection every `BACKGROUND_CHECKPOINT_EVERY`, beside
/// the writer: a passive checkpoint blocks neither the writer nor the readers, so most of the copying happens
/// off the writer's path, and the writer's own checkpoint (below) finds little left. Only the writer's lets
/// SQLite start the WAL over, because it runs just before the writer's next transaction. Ends when the pool
/// closes.
pub(crate) async fn checkpoint_beside(pool: sqlx::SqlitePool) {
    let mut tick = tokio::time::interval(BACKGROUND_CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
            && !pool.is_closed()
        {
            tracing::warn!(error = %e, "WAL checkpoint beside the writer failed; will retry");
        }
    }
}

/// Copies the WAL back into the database. The writer's connection has `wal_autocheckpoint = 0`, so its
/// commits never wait for this; the writer runs it itself after answering a batch (and when it falls idle),
/// which lets SQLite start the WAL over at its next transaction.
async fn checkpoint(connection: &mut SqliteConnection) {
    if let Err(e) = exec(connection, "PRAGMA wal_checkpoint(PASSIVE)").await {
        tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
    }
}

/// Writes the batch's registrations together, first in the transaction: `Some(results)` when it worked, `None`
/// when it failed and the transaction was rolled back and begun again (the caller then runs them one by one),
/// `Err` when not even that worked. Being first, the batch needs no savepoint of its own: rolling back the
/// transaction undoes exactly what it wrote.
async fn together(
    connection: &mut SqliteConnection,
    jobs: &[&crate::intake_batch::CreateJob],
) -> Result<Option<Vec<CreateUnit>>, sqlx::Error> {
    match crate::intake_batch::create_batch(connection, jobs).await {
        Ok(results) => Ok(Some(results)),
        Err(e) => {
            tracing::debug!(error = %e, "group commit: the batch failed together; writing its units one by one");
            exec(connection, "ROLLBACK").await?;
            exec(connection, "BEGIN IMMEDIATE").await?;
            Ok(None)
        }
    }
}
