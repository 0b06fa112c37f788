//! Fengqiao's use cases: accounts and access, the organisation and its map, residents' personal data, the audit trail.
//!
//! Each public method is one use case: it checks the actor's permission and scope, validates input, and
//! calls one store write that commits the change with its audit records. Nothing here knows of HTTP.

pub mod access;
pub mod attachments;
pub mod audit;
pub mod bulletin;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod citizen;
pub mod clock;
pub mod demo;
pub mod error;
pub mod import;
pub mod mediation;
pub mod org;
pub mod passwords;
pub mod personal;
pub mod petitions;
pub mod queues;
pub mod rates;
pub mod residents;
pub mod search;
pub mod sms;
pub mod users;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub use error::{AppError, AppResult};
use fengqiao_domain::calendar::{WorkingCalendar, WorkingHours};
use fengqiao_geo::index::GridIndex;
use fengqiao_store::Store;

/// Settings the use cases need, with production defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How far outside the grids' extent a point is still placed (as "outside all grids"), in metres.
    pub area_margin_m: f64,
    /// Failed logins per username within the window before it is locked.
    pub max_failures_per_user: i64,
    /// Failed logins per source address within the window before it is locked.
    pub max_failures_per_source: i64,
    pub throttle_window: chrono::Duration,
    /// A session ends after this long without a request.
    pub session_idle: chrono::Duration,
    /// Where the audit chain's head is written outside the database.
    pub checkpoint_path: Option<PathBuf>,
    /// How many password hashes may run at once (argon2 is slow by design; the rest of the server keeps a core).
    pub password_hash_slots: usize,
    /// Working hours for limits counted in hours.
    pub working_hours: WorkingHours,
    /// The largest attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// A case turns yellow this long before its handling deadline.
    pub due_soon: chrono::Duration,
    /// Where attachments are stored on disk (the data directory's `attachments/`).
    pub attachment_dir: PathBuf,
    /// Where the full-text index lives (the data directory's `search/`); None keeps it in memory.
    pub search_dir: Option<PathBuf>,
    /// The font files documents (the mediation agreement) are set in: Debian's `fonts-noto-cjk` by default.
    pub document_fonts: Vec<PathBuf>,
    /// A petition by the same petitioner or on the same matter within this many days is a repeat.
    pub petition_repeat_window_days: u32,
    /// Writes from the public page (submissions, photos, ratings) one device may make within the window.
    pub public_writes_per_device: u32,
    /// Writes from the public page one source address may make within the window (a village's shared
    /// network counts as one address).
    pub public_writes_per_source: u32,
    pub public_write_window: chrono::Duration,
    /// Wrong number/secret pairs one source address may send to the public page within the window.
    pub public_misses_per_source: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            area_margin_m: 20_000.0,
            max_failures_per_user: 5,
            max_failures_per_source: 30,
            throttle_window: chrono::Duration::minutes(15),
            session_idle: chrono::Duration::hours(8),
            checkpoint_path: None,
            password_hash_slots: 1,
            working_hours: WorkingHours::default(),
            max_attachment_bytes: 20 * 1024 * 1024,
            due_soon: chrono::Duration::hours(24),
            attachment_dir: std::env::temp_dir().join("fengqiao-attachments"),
            search_dir: None,
            document_fonts: vec![
                PathBuf::from("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
                PathBuf::from("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
            ],
            petition_repeat_window_days: 180,
            public_writes_per_device: 30,
            public_writes_per_source: 300,
            public_write_window: chrono::Duration::hours(1),
            public_misses_per_source: 30,
        }
    }
}

/// The application: the store, the clock, the keys and the in-memory grid index.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn clock::Clock>,
    pub keys: Arc<personal::PersonalDataKeys>,
    pub settings: Arc<Settings>,
    pub passwords: passwords::PasswordHashing,
    pub attachments: Arc<dyn attachments::AttachmentStore>,
    pub sms: Arc<dyn sms::SmsSender>,
    /// The Chinese full-text index of cases (derived; rebuilt from the database on demand).
    pub search: Arc<fengqiao_search::SearchIndex>,
    grids: Arc<RwLock<Arc<GridIndex>>>,
    calendar: Arc<RwLock<Arc<WorkingCalendar>>>,
    /// The document fonts, read on first use.
    fonts: Arc<std::sync::OnceLock<Arc<Vec<Vec<u8>>>>>,
    /// Counters of the public page's writes (see `citizen`).
    public_limiter: Arc<citizen::PublicLimiter>,
}

impl App {
    /// Builds the application over a migrated store and loads the grid index.
    pub async fn new(
        store: Store,
        clock: Arc<dyn clock::Clock>,
        keys: personal::PersonalDataKeys,
        settings: Settings,
    ) -> AppResult<App> {
        let passwords = passwords::PasswordHashing::new(settings.password_hash_slots);
        let (days, years) = store.calendar().await?;
        let calendar = calendar::load(&days, &years)?;
        let attachments = Arc::new(attachments::FsAttachmentStore::new(
            settings.attachment_dir.clone(),
        ));
        let search_index = match &settings.search_dir {
            Some(dir) => match fengqiao_search::SearchIndex::open(dir) {
                Ok(index) => index,
                Err(fengqiao_search::SearchError::SchemaMismatch { .. }) => {
                    tracing::warn!(dir = %dir.display(), "the search index has an older schema: rebuilding it");
                    std::fs::remove_dir_all(dir).map_err(|e| {
                        AppError::Internal(format!("removing {}: {e}", dir.display()))
                    })?;
                    fengqiao_search::SearchIndex::open(dir)
                        .map_err(|e| AppError::Internal(format!("search index: {e}")))?
                }
                Err(e) => {
                    return Err(AppError::Internal(format!(
                        "search index {}: {e}",
                        dir.display()
                    )));
                }
            },
            None => fengqiao_search::SearchIndex::in_memory()
                .map_err(|e| AppError::Internal(format!("search index: {e}")))?,
        };
        let app = App {
            store,
            clock,
            keys: Arc::new(keys),
            settings: Arc::new(settings),
            passwords,
            attachments,
            sms: Arc::new(sms::LogSmsSender),
            search: Arc::new(search_index),
            grids: Arc::new(RwLock::new(Arc::new(GridIndex::empty()))),
            calendar: Arc::new(RwLock::new(Arc::new(calendar))),
            fonts: Arc::new(std::sync::OnceLock::new()),
            public_limiter: Arc::new(citizen::PublicLimiter::default()),
        };
        app.reload_grid_index().await?;
        Ok(app)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The current grid index (cheap: an `Arc`).
    pub fn grid_index(&self) -> Arc<GridIndex> {
        match self.grids.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The working calendar in use (cheap: an `Arc`).
    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        match self.calendar.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set_calendar(&self, calendar: WorkingCalendar) {
        match self.calendar.write() {
            Ok(mut guard) => *guard = Arc::new(calendar),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(calendar),
        }
    }

    /// Reloads the calendar from the database (another server may have imported a notice).
    pub async fn reload_calendar(&self) -> AppResult<()> {
        let (days, years) = self.store.calendar().await?;
        let calendar = calendar::load(&days, &years)?;
        if calendar.version() != self.calendar().version() {
            self.set_calendar(calendar);
        }
        Ok(())
    }

    /// Rebuilds the point-to-grid index from the database.
    pub async fn reload_grid_index(&self) -> AppResult<usize> {
        let grids = self.store.all_grids().await?;
        let index = org::build_index(&grids, self.settings.area_margin_m)?;
        let count = index.len();
        match self.grids.write() {
            Ok(mut guard) => *guard = Arc::new(index),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(index),
        }
        Ok(count)
    }
}
