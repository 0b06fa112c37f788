//! Logins over HTTP: the real router on SQLite in a temp dir, a login storm from concurrent clients, and the
//! latency of cheap requests (`/healthz`, `/api/v1/auth/me`) from one more client while the storm runs.
//!
//! Everything runs in this one process on loopback, so the clients share the machine's cores with the server;
//! the report carries the process's CPU time over the storm so the figure can be read with that in mind.
//! Every loop is bounded both in count and in time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use fengqiao_app::App;

/// The password every benchmark user gets (it passes the strength check).
const PASSWORD: &str = "Bench@2026";
/// Requests slower than this count as failed, so a stuck server cannot hang the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle-baseline samples of each cheap request, taken one after another before the storm.
const IDLE_SAMPLES: usize = 200;
/// Sequential logins before the storm: the first warms up, the rest time one login on an idle server.
const IDLE_LOGINS: usize = 4;
/// Password verifications timed directly (through the app's hashing slots, without HTTP) before the storm.
const HASH_SAMPLES: usize = 10;
/// Pause between two cheap requests of the probing client during the storm.
const PROBE_PAUSE: Duration = Duration::from_millis(10);
/// Upper bound on the probing client's requests of each kind.
const MAX_PROBES: usize = 20_000;

/// How big a run is.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// Login attempts in the storm (it stops at this count or at `time_limit`, whichever comes first).
    pub logins: usize,
    /// Concurrent login clients.
    pub clients: usize,
    pub time_limit: Duration,
}

/// Latency percentiles of a set of requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub count: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    /// Nearest-rank percentiles.
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort_unstable();
        let rank = |p: f64| -> Duration {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let k = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[k - 1]
        };
        Latency {
            count: samples.len(),
            min: samples.first().copied().unwrap_or_default(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct LoginReport {
    /// The stored hash's algorithm and parameters, e.g. `argon2id m=19456 t=2 p=1`.
    pub hash_params: String,
    pub hash_slots: usize,
    pub clients: usize,
    pub logins_ok: usize,
    /// Attempts that did not get a 200 (e.g. 503 busy) or failed outright.
    pub logins_failed: usize,
    /// Whether the storm stopped at its time limit rather than its count.
    pub hit_time_limit: bool,
    pub storm_secs: f64,
    pub storm_latency: Latency,
    /// Process CPU time over the storm divided by its wall time (server and clients together).
    pub cpu_cores: Option<f64>,
    pub idle_login: Latency,
    /// One password verification through the app's hashing slots, without HTTP or the database (the
    /// fastest sample is the uncontended cost).
    pub hash_time: Latency,
    pub idle_healthz: Latency,
    pub idle_me: Latency,
    pub storm_healthz: Latency,
    pub storm_me: Latency,
    /// Probe requests during the storm that did not get a 200.
    pub probe_failures: usize,
}

impl LoginReport {
    pub fn logins_per_sec(&self) -> f64 {
        if self.storm_secs > 0.0 {
            self.logins_ok as f64 / self.storm_secs
        } else {
            0.0
        }
    }
}

/// The server under test, with what it takes to stop it.
struct Server {
    base: String,
    app: App,
    stop: tokio::sync::watch::Sender<bool>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    sealer: tokio::task::JoinHandle<()>,
}

/// Starts the real router on 127.0.0.1, port 0, over a fresh SQLite database in `dir`, as the binary does.
async fn start_server(dir: &std::path::Path) -> anyhow::Result<Server> {
    let store = fengqiao_store::Store::connect(&fengqiao_store::Store::sqlite_url_in(dir))
        .await
        .map_err(|e| anyhow::anyhow!("opening SQLite: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migrating: {e}"))?;
    let keys = fengqiao_app::personal::PersonalDataKeys::from_master(&[7u8; 32])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = fengqiao_app::Settings {
        password_hash_slots: std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1),
        max_failures_per_source: i64::MAX,
        ..Default::default()
    };
    let app = App::new(
        store,
        Arc::new(fengqiao_app::clock::SystemClock),
        keys,
        settings,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = fengqiao_api::ApiState {
        app: app.clone(),
        metrics: fengqiao_api::metrics_handle(),
        secure_cookies: false,
        trusted_proxies: std::sync::Arc::new(Vec::new()),
    };
    let router = fengqiao_api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);

    let mut until_stopped = stopped.clone();
    let served = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = until_stopped.wait_for(|s| *s).await;
            })
            .await
    });

    // The binary seals the audit trail every second; so does this server, so the storm sees that load too.
    let sealing = app.clone();
    let mut until_stopped = stopped;
    let sealer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let _ = sealing.seal_audit().await;
                }
                _ = until_stopped.changed() => break,
            }
        }
    });

    Ok(Server {
        base: format!("http://{addr}"),
        app,
        stop,
        served,
        sealer,
    })
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

fn username(k: usize) -> String {
    format!("bench-{k}")
}

/// Creates the region and `count` intake clerks scoped to it.
async fn create_users(app: &App, count: usize) -> anyhow::Result<()> {
    app.import_regions(&[fengqiao_app::org::RegionInput {
        code: "37".into(),
        name: "山东省".into(),
        parent_code: None,
    }])
    .await
    .map_err(|e| anyhow::anyhow!("importing the region: {e}"))?;
    for k in 0..count {
        app.add_user(&fengqiao_app::users::UserInput {
            username: username(k),
            display_name: None,
            password: PASSWORD.into(),
            roles: vec![fengqiao_app::users::GrantInput {
                role: "intake_clerk".into(),
                scope: "region:37".into(),
            }],
            can_unmask: false,
            department_id: None,
            grid_code: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("adding {}: {e}", username(k)))?;
    }
    Ok(())
}

/// `argon2id m=19456 t=2 p=1`, read from a stored PHC string.
fn describe_hash(phc: &str) -> String {
    let mut parts = phc.split('$').filter(|p| !p.is_empty());
    let algorithm = parts.next().unwrap_or("?");
    let params = parts
        .find(|p| p.contains("m="))
        .map(|p| p.replace(',', " "))
        .unwrap_or_default();
    format!("{algorithm} {params}").trim().to_string()
}

/// One login; `Ok(Some(token))` on 200, `Ok(None)` on any other status.
async fn login(client: &reqwest::Client, base: &str, user: &str) -> anyhow::Result<Option<String>> {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": user, "password": PASSWORD }))
        .send()
        .await?;
    if !response.status().is_success() {
        let _ = response.bytes().await;
        return Ok(None);
    }
    let body: serde_json::Value = response.json().await?;
    Ok(body
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_string))
}

/// One GET, timed to the end of the body; `None` when it did not succeed.
async fn timed_get(client: &reqwest::Client, url: &str, token: Option<&str>) -> Option<Duration> {
    let started = Instant::now();
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.ok()?;
    let ok = response.status().is_success();
    response.bytes().await.ok()?;
    ok.then(|| started.elapsed())
}

/// The process's user + system CPU time so far, from /proc/self/stat (Linux; `None` elsewhere).
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): state is field 3,
    // utime field 14 and stime field 15, in clock ticks (USER_HZ, 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Runs the whole login benchmark on the current Tokio runtime.
pub async fn run(options: &LoginOptions) -> anyhow::Result<LoginReport> {
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let server = start_server(dir.path()).await?;
    let result = measure(&server, options).await;
    let _ = server.stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), server.served).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), server.sealer).await;
    result
}

async fn measure(server: &Server, options: &LoginOptions) -> anyhow::Result<LoginReport> {
    let clients = options.clients.max(1);
    let probe_user = username(clients);
    create_users(&server.app, clients + 1).await?;
    let stored = server
        .app
        .store
        .credentials(&probe_user)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|c| c.password_hash)
        .context("the probing user has no stored password")?;
    let hash_params = describe_hash(&stored);
    let mut hash_times = Vec::with_capacity(HASH_SAMPLES);
    // One more than timed: the first warms the allocator (argon2 takes 19 MiB per hash).
    for k in 0..=HASH_SAMPLES {
        let started = Instant::now();
        let ok = server
            .app
            .passwords
            .verify(PASSWORD.into(), Some(stored.clone()))
            .await
            .map_err(|e| anyhow::anyhow!("verifying a password: {e}"))?;
        anyhow::ensure!(ok, "the stored hash did not verify");
        if k > 0 {
            hash_times.push(started.elapsed());
        }
    }
    let base = server.base.clone();

    // Idle baselines: a few sequential logins, then the cheap requests one after another.
    let probe = client()?;
    let mut idle_logins = Vec::new();
    for k in 0..IDLE_LOGINS {
        let started = Instant::now();
        login(&probe, &base, &username(0))
            .await?
            .context("a login on the idle server failed")?;
        if k > 0 {
            idle_logins.push(started.elapsed());
        }
    }
    let token = login(&probe, &base, &probe_user)
        .await?
        .context("the probing client's login failed")?;
    let healthz_url = format!("{base}/healthz");
    let me_url = format!("{base}/api/v1/auth/me");
    let (mut idle_healthz, mut idle_me) = (Vec::new(), Vec::new());
    for _ in 0..IDLE_SAMPLES {
        idle_healthz.extend(timed_get(&probe, &healthz_url, None).await);
        idle_me.extend(timed_get(&probe, &me_url, Some(&token)).await);
    }
    anyhow::ensure!(
        idle_me.len() == IDLE_SAMPLES,
        "GET /api/v1/auth/me with the bearer token failed on the idle server"
    );

    // The storm: `clients` tasks claim attempts from a shared counter until it runs out or time is up.
    let claimed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + options.time_limit;
    let cpu_before = process_cpu_time();
    let mut workers = Vec::with_capacity(clients);
    for k in 0..clients {
        let claimed = claimed.clone();
        let base = base.clone();
        let http = client()?;
        let user = username(k);
        let logins = options.logins;
        workers.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut failed = 0usize;
            while Instant::now() < deadline && claimed.fetch_add(1, Ordering::Relaxed) < logins {
                let sent = Instant::now();
                match login(&http, &base, &user).await {
                    Ok(Some(_)) => ok.push(sent.elapsed()),
                    Ok(None) | Err(_) => failed += 1,
                }
            }
            (ok, failed)
        }));
    }

    // The extra client: cheap requests at a steady pace while attempts remain and time is left.
    let still_storming = {
        let claimed = claimed.clone();
        let logins = options.logins;
        move || Instant::now() < deadline && claimed.load(Ordering::Relaxed) < logins
    };
    let (mut storm_healthz, mut storm_me, mut probe_failures) = (Vec::new(), Vec::new(), 0usize);
    let mut pace = tokio::time::interval(PROBE_PAUSE);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while still_storming() && storm_me.len() + probe_failures < MAX_PROBES {
        pace.tick().await;
        match timed_get(&probe, &healthz_url, None).await {
            Some(t) => storm_healthz.push(t),
            None => probe_failures += 1,
        }
        match timed_get(&probe, &me_url, Some(&token)).await {
            Some(t) => storm_me.push(t),
            None => probe_failures += 1,
        }
    }

    let mut storm_logins = Vec::new();
    let mut logins_failed = 0;
    for worker in workers {
        let (ok, failed) = worker.await?;
        storm_logins.extend(ok);
        logins_failed += failed;
    }
    let storm_secs = started.elapsed().as_secs_f64();
    let cpu_cores = match (cpu_before, process_cpu_time()) {
        (Some(before), Some(after)) if storm_secs > 0.0 => {
            Some(after.saturating_sub(before).as_secs_f64() / storm_secs)
        }
        _ => None,
    };
    let hit_time_limit = claimed.load(Ordering::Relaxed) < options.logins;

    Ok(LoginReport {
        hash_params,
        hash_slots: server.app.settings.password_hash_slots,
        clients,
        logins_ok: storm_logins.len(),
        logins_failed,
        hit_time_limit,
        storm_secs,
        storm_latency: Latency::of(storm_logins),
        cpu_cores,
        idle_login: Latency::of(idle_logins),
        hash_time: Latency::of(hash_times),
        idle_healthz: Latency::of(idle_healthz),
        idle_me: Latency::of(idle_me),
        storm_healthz: Latency::of(storm_healthz),
        storm_me: Latency::of(storm_me),
        probe_failures,
    })
}
