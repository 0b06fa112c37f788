//! Group commit for SQLite: one writer task runs registrations from many requests in one transaction and
//! answers each only once its COMMIT is durable.
//!
//! SQLite has one writer at a time and a commit costs an fsync; grouping concurrent units into one transaction
//! pays that once per batch (DESIGN.md, "Units of work"; LIMITS.md shows the gain). The batch's registrations
//! are first written together on the writer's own connection, from its own thread (`intake_batch`, which also
//! begins and commits the transaction); if that fails, the transaction is rolled back and they run one by one
//! on the writer's sqlx connection, each in its own savepoint, so a unit that fails rolls back alone and the
//! others commit. The answers wait for the log to be durable (`Syncer`).

use sqlx::SqliteConnection;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
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
    data: Option<std::sync::Arc<crate::intake_batch::CreateJob>>,
    /// The same registration as a unit of its own (the fallback).
    unit: Unit,
    reply: oneshot::Sender<StoreResult<CreateUnit>>,
}

/// The handle requests use to hand their unit to the writer.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
    counts: std::sync::Arc<Counts>,
}

/// Registrations of the batches the writer has committed, written together and one by one (a batch falls back
/// to one by one when it fails together; its registrations that failed alone count there too).
#[derive(Debug, Default)]
struct Counts {
    together: AtomicU64,
    one_by_one: AtomicU64,
}

/// How the SQLite writer has written the registrations of the batches it committed since it started (those
/// that failed alone included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitCounts {
    /// In batches written together on the writer's own connection.
    pub together: u64,
    /// One by one, each in its savepoint (after its batch failed together, or without a database file).
    pub one_by_one: u64,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteWriter")
    }
}

/// At most this many units share one transaction.
const MAX_BATCH: usize = 256;

impl SqliteWriter {
    /// Starts the writer on a sqlx connection (for the units one by one) and a thread of its own: on the
    /// server's runtime each wait on a connection also queued behind every request task ready to run. Its own
    /// thread runs a runtime with nothing else on it. The thread ends when the last handle is dropped.
    ///
    /// `files` are the database file and its write-ahead log. With them, the writer opens a connection of its
    /// own to the file for writing batches together (`intake_batch::open`), and its commits do not wait for the
    /// disk (`synchronous = NORMAL` on both its connections): a thread of its own (`Syncer`) makes the log
    /// durable with one `fdatasync` for every batch committed meanwhile and only then answers their units,
    /// while the writer already writes the next batch. Without them (an in-memory database, which no second
    /// connection can open), each unit runs on its own in the shared transaction and each COMMIT syncs (`FULL`).
    pub(crate) async fn start(
        mut connection: SqliteConnection,
        files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    ) -> StoreResult<SqliteWriter> {
        let (durable, direct) = match files {
            Some((file, wal)) => {
                exec(&mut connection, "PRAGMA synchronous = NORMAL").await?;
                let direct = crate::intake_batch::open(&file)?;
                let syncer = Syncer::start(wal).map_err(sqlx::Error::from)?;
                (Durable::Syncer(syncer), Some(direct))
            }
            None => (Durable::OnCommit, None),
        };
        let (jobs, receiver) = mpsc::channel(4 * MAX_BATCH);
        let counts = std::sync::Arc::new(Counts::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(sqlx::Error::from)?;
        std::thread::Builder::new()
            .name("fq-sqlite-writer".into())
            .spawn({
                let counts = counts.clone();
                move || runtime.block_on(run(connection, direct, receiver, durable, counts))
            })
            .map_err(sqlx::Error::from)?;
        Ok(SqliteWriter { jobs, counts })
    }

    /// How the registrations committed so far were written.
    pub(crate) fn counts(&self) -> GroupCommitCounts {
        GroupCommitCounts {
            together: self.counts.together.load(Ordering::Relaxed),
            one_by_one: self.counts.one_by_one.load(Ordering::Relaxed),
        }
    }

    /// Runs a unit in the next group commit and waits until it is durable (or failed alone).
    pub(crate) async fn run(
        &self,
        data: Option<std::sync::Arc<crate::intake_batch::CreateJob>>,
        unit: Unit,
    ) -> StoreResult<CreateUnit> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { data, unit, reply })
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

async fn run(
    mut connection: SqliteConnection,
    direct: Option<rusqlite::Connection>,
    mut receiver: mpsc::Receiver<Job>,
    durable: Durable,
    counts: std::sync::Arc<Counts>,
) {
    let mut checkpointed = std::time::Instant::now();
    // Whether the WAL holds commits of this writer that no checkpoint has copied yet.
    let mut behind = false;
    loop {
        let first = match tokio::time::timeout(CHECKPOINT_EVERY, receiver.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => break,
            Err(_) => {
                if behind {
                    checkpoint(&mut connection, direct.as_ref()).await;
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
        let mut done = Vec::with_capacity(batch.len());
        // All together first, when every job came with its data: that begins and commits the transaction.
        let mut together = None;
        if let Some(direct) = &direct
            && batch.iter().all(|job| job.data.is_some())
        {
            let jobs: Vec<&crate::intake_batch::CreateJob> =
                batch.iter().filter_map(|job| job.data.as_deref()).collect();
            match crate::intake_batch::create_batch(direct, &jobs) {
                Ok(Some(results)) => together = Some(results),
                Ok(None) => {
                    tracing::debug!(
                        "group commit: a key of the batch was claimed before; writing its units one by one"
                    );
                    crate::intake_batch::roll_back(direct);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "group commit: the batch failed together; writing its units one by one");
                    crate::intake_batch::roll_back(direct);
                }
            }
        }
        let count = if together.is_some() {
            &counts.together
        } else {
            &counts.one_by_one
        };
        let committed = match together {
            Some(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    done.push((job.reply, result));
                }
                Ok(())
            }
            None => match one_by_one(&mut connection, batch, &mut done).await {
                Some(Ok(())) => exec(&mut connection, "COMMIT")
                    .await
                    .map_err(|e| e.to_string()),
                Some(Err(e)) => Err(e),
                None => continue,
            },
        };
        tracing::debug!(
            size,
            committed_us = started.elapsed().as_micros() as u64,
            "group commit"
        );
        match committed {
            Ok(()) => {
                count.fetch_add(size as u64, Ordering::Relaxed);
                durable.answer(done);
                behind = true;
                if checkpointed.elapsed() >= CHECKPOINT_EVERY {
                    checkpoint(&mut connection, direct.as_ref()).await;
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

/// Runs the batch's units one by one in a transaction, each in a savepoint of its own, and pushes their
/// answers onto `done`. `None` when the transaction could not begin (every unit is answered with the error),
/// `Some(Err)` when it broke and must not be committed.
async fn one_by_one(
    connection: &mut SqliteConnection,
    batch: Vec<Job>,
    done: &mut Answers,
) -> Option<Result<(), String>> {
    if let Err(e) = exec(connection, "BEGIN IMMEDIATE").await {
        tracing::error!(error = %e, "group commit: BEGIN failed");
        for job in batch {
            let _ = job
                .reply
                .send(Err(StoreError::Corrupt(format!("BEGIN failed: {e}"))));
        }
        return None;
    }
    let mut broken = None;
    for job in batch {
        if broken.is_some() {
            done.push((
                job.reply,
                Err(StoreError::Corrupt("the batch's transaction failed".into())),
            ));
            continue;
        }
        if let Err(e) = exec(connection, "SAVEPOINT unit").await {
            broken = Some(e.to_string());
            done.push((job.reply, Err(StoreError::Database(e))));
            continue;
        }
        let result = (job.unit)(connection).await;
        let closed = match &result {
            Ok(_) => exec(connection, "RELEASE unit").await,
            Err(_) => match exec(connection, "ROLLBACK TO unit").await {
                Ok(()) => exec(connection, "RELEASE unit").await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = closed {
            broken = Some(e.to_string());
        }
        done.push((job.reply, result));
    }
    Some(broken.map_or(Ok(()), Err))
}

type Answers = Vec<(
    oneshot::Sender<StoreResult<CreateUnit>>,
    StoreResult<CreateUnit>,
)>;

/// When a committed batch is durable.
enum Durable {
    /// The COMMIT synced the log (`synchronous = FULL`): answer at once.
    OnCommit,
    /// The syncer answers once it has synced the log past the COMMIT.
    Syncer(Syncer),
}

impl Durable {
    fn answer(&self, done: Answers) {
        match self {
            Durable::OnCommit => {
                for (reply, result) in done {
                    let _ = reply.send(result);
                }
            }
            Durable::Syncer(syncer) => syncer.answer(done),
        }
    }
}

/// Makes the write-ahead log durable behind the writer: group commit for the `fdatasync` itself.
///
/// The writer's COMMIT appends the batch's frames to the log without syncing; the batch is durable once the
/// log is synced past them, by this thread or by anything else that syncs the log (another connection's
/// `FULL` commit, a checkpoint, which syncs the log before copying it). The syncer takes every batch
/// committed since its last sync, syncs once and answers them all, so a slow disk makes the groups larger
/// rather than the writer slower. The log's frames are written before the writer hands the batch over, so
/// a sync that starts afterwards covers them; SQLite syncs the log's header itself whenever it starts the log
/// over. A batch may be seen by readers a moment before it is durable, never answered before.
struct Syncer {
    batches: std::sync::mpsc::Sender<Answers>,
}

impl Syncer {
    fn start(wal: std::path::PathBuf) -> std::io::Result<Syncer> {
        let (batches, receiver) = std::sync::mpsc::channel::<Answers>();
        std::thread::Builder::new()
            .name("fq-sqlite-sync".into())
            .spawn(move || {
                let mut log: Option<(std::fs::File, u64)> = None;
                while let Ok(first) = receiver.recv() {
                    let mut answers = first;
                    while let Ok(more) = receiver.try_recv() {
                        answers.extend(more);
                    }
                    match sync_log(&wal, &mut log) {
                        Ok(()) => {
                            for (reply, result) in answers {
                                let _ = reply.send(result);
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "syncing the write-ahead log failed; the batch is refused");
                            log = None;
                            for (reply, _) in answers {
                                let _ = reply.send(Err(StoreError::Corrupt(format!(
                                    "the write-ahead log could not be synced: {e}"
                                ))));
                            }
                        }
                    }
                }
            })?;
        Ok(Syncer { batches })
    }

    fn answer(&self, done: Answers) {
        if let Err(std::sync::mpsc::SendError(done)) = self.batches.send(done) {
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::Corrupt(
                    "the write-ahead log's syncer has stopped".into(),
                )));
            }
        }
    }
}

/// Syncs the log's data, opening it again if it is not the file it was (SQLite keeps the same file while any
/// connection is open, so this is a safeguard).
fn sync_log(wal: &std::path::Path, log: &mut Option<(std::fs::File, u64)>) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(wal)?.ino();
    if log.as_ref().is_none_or(|(_, open)| *open != inode) {
        *log = Some((std::fs::File::open(wal)?, inode));
    }
    match log {
        Some((file, _)) => file.sync_data(),
        None => Ok(()),
    }
}

/// How often the writer copies the WAL back into the database while it is writing (and so lets SQLite start
/// the WAL over). No batch commits while it does: the checkpoint beside has copied most of the log, but the
/// writer still copies what came since and waits for two syncs, some tens of ms under full load. Once a
/// second keeps that stall near 2 % of the writer's time (every 200 ms it was over 10 %); the price is a
/// longer log, about a second of writes (some 200 MB at 5,000 registrations a second), kept for reuse.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How often a reader connection copies the WAL back into the database beside the writer. Each run syncs
/// the log and the database and copies the newest frame of every page changed since the last: every 200 ms
/// copies a page the batches keep changing (the tables' last leaves, the rollups) a quarter as often as
/// every 50 ms did, with a quarter of the syncs beside the syncer's (interleaved intake runs: 5,007/s mean
/// at 50 ms, 5,316/s at 200 ms, 5 rounds each); the writer's own checkpoint copies the rest once a second.
const BACKGROUND_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

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

/// Copies the WAL back into the database, on the writer's own connection when it has one. The writer's
/// connections have `wal_autocheckpoint = 0`, so its commits never wait for this; the writer runs it itself
/// after answering a batch (and when it falls idle), which lets SQLite start the WAL over at its next
/// transaction.
async fn checkpoint(connection: &mut SqliteConnection, direct: Option<&rusqlite::Connection>) {
    let done = match direct {
        Some(direct) => crate::intake_batch::checkpoint(direct).map_err(|e| e.to_string()),
        None => exec(connection, "PRAGMA wal_checkpoint(PASSIVE)")
            .await
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
    }
}
