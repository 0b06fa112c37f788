//! Cases over HTTP against the real server binary, on SQLite and on PostgreSQL:
//!
//! 1. intake — `clients` concurrent clients (one intake clerk each, bearer token) POST walk-in neighbour
//!    disputes with a point inside one of county A's grids and a party with a phone, for a bounded time and
//!    count; cases/s, p50/p99, errors, and the CPU of this process (the clients) and of the server;
//! 2. the server is stopped and synthetic cases are bulk-inserted until the database holds `cases` of them
//!    (see `seed.rs`), one fifth in county A;
//! 3. the server is restarted on that database: a town dispatcher's work-queue page, a handler's inbox page,
//!    county A's rates, and the server's memory from /proc/PID/status.
//!
//! The server is `target/release/fengqiao serve` in its own process on 127.0.0.1; the fixture is made with
//! its CLI (`import regions|grids|departments|users`). Every loop is bounded in count and in time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::db::{self, Backend, Db};
use crate::fixture::{self, COUNTY_A, Fixture};
use crate::login::Latency;
use crate::proc::{self, Binary, Memory, Server};
use crate::seed::{self, Rng, SeedPlan, SeedReport};

/// Every request's timeout: a stuck server cannot hang the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Time limit of each read series (queue pages, rates).
const READ_TIME_LIMIT: Duration = Duration::from_secs(120);
/// How long the restarted server may stay busy (startup, background indexing) before the reads start anyway.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// How big a run is.
#[derive(Debug, Clone)]
pub struct CasesOptions {
    /// Concurrent intake clients.
    pub clients: usize,
    /// Intake stops at this time …
    pub intake_time: Duration,
    /// … or this many requests, whichever comes first.
    pub intake_max: usize,
    /// Cases in the database for the read measurements, per backend.
    pub sqlite_cases: u64,
    pub postgres_cases: u64,
    /// Sequential queue-page requests timed (after `queue_warmup` untimed ones).
    pub queue_samples: usize,
    pub queue_warmup: usize,
    /// Rates computations timed (after one untimed).
    pub rate_runs: usize,
    /// Keep the data directory and the PostgreSQL database afterwards (their places are printed).
    pub keep: bool,
    /// Stop after the intake (no seeding, no reads).
    pub intake_only: bool,
}

/// Intake figures.
#[derive(Debug, Clone)]
pub struct IntakeReport {
    pub clients: usize,
    pub ok: usize,
    pub errors: usize,
    /// The first failure, for diagnosis.
    pub first_error: Option<String>,
    pub secs: f64,
    pub hit_time_limit: bool,
    pub latency: Latency,
    /// This process's CPU time over the run ÷ wall time: what the clients cost.
    pub client_cpu: Option<f64>,
    /// The server process's CPU time over the run ÷ wall time (PostgreSQL's own processes not included).
    pub server_cpu: Option<f64>,
    /// On PostgreSQL, the CPU time of this machine's `postgres` processes over the run ÷ wall time (they share
    /// the cores with the server and the clients); `None` on SQLite or when PostgreSQL runs elsewhere.
    pub database_cpu: Option<f64>,
}

impl IntakeReport {
    pub fn per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// A series of timed GETs.
#[derive(Debug, Clone)]
pub struct ReadSeries {
    /// The request, path and query.
    pub request: String,
    pub latency: Latency,
    pub failures: usize,
    /// The list's `total`, or the rates' cohort.
    pub total: i64,
}

/// Everything measured on one backend.
#[derive(Debug, Clone)]
pub struct BackendReport {
    pub backend: Backend,
    pub intake: IntakeReport,
    /// What follows the intake: seeding and the reads (absent with `--only intake`).
    pub after: Option<AfterIntake>,
    /// Where the data was kept (with `--keep`).
    pub kept: Option<String>,
}

/// The seeded database and the reads over it.
#[derive(Debug, Clone)]
pub struct AfterIntake {
    pub seed: SeedReport,
    pub dispatcher_queue: ReadSeries,
    pub handler_inbox: ReadSeries,
    pub county_rates: ReadSeries,
    pub memory: Option<Memory>,
    /// How long the restarted server was busy (startup, background indexing) before the reads, and whether it
    /// went idle within the limit.
    pub settle: (Duration, bool),
    /// Render times in headless Chromium and the shipped JavaScript's size (or why not measured).
    pub render: Result<crate::render::RenderReport, String>,
}

/// Builds the server binary once for all runs.
pub fn server_binary() -> anyhow::Result<std::path::PathBuf> {
    proc::build_server()
}

/// Runs the whole sequence on SQLite.
pub async fn run_sqlite(
    bin: &std::path::Path,
    options: &CasesOptions,
) -> anyhow::Result<BackendReport> {
    let work = tempfile::Builder::new()
        .prefix("fq-bench-cases-")
        .tempdir()?;
    let data_dir = work.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let binary = Binary {
        bin: bin.to_path_buf(),
        data_dir: data_dir.clone(),
        database: None,
        data_key: None,
        work_dir: work.path().to_path_buf(),
    };
    let url = fengqiao_store::Store::sqlite_url_in(&data_dir);
    let mut report = run_backend(
        &binary,
        &url,
        Backend::Sqlite,
        options.sqlite_cases,
        options,
    )
    .await?;
    if options.keep {
        report.kept = Some(work.keep().display().to_string());
    }
    Ok(report)
}

/// Where PostgreSQL is: `FQ_TEST_POSTGRES_URL`, else the one `.ci/postgres.sh` starts (or finds running).
pub fn postgres_admin_url() -> Result<String, String> {
    if let Ok(url) = std::env::var("FQ_TEST_POSTGRES_URL")
        && !url.trim().is_empty()
    {
        return Ok(url.trim().to_string());
    }
    let script = proc::workspace_root().join(".ci").join("postgres.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "FQ_TEST_POSTGRES_URL is not set and {} did not run: {e}",
                script.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("export FQ_TEST_POSTGRES_URL="))
    {
        Some(url) if output.status.success() => Ok(url.trim().to_string()),
        _ => Err(format!(
            "FQ_TEST_POSTGRES_URL is not set and .ci/postgres.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("no output")
        )),
    }
}

/// Runs the whole sequence on a fresh database of the PostgreSQL server at `admin_url` (dropped afterwards
/// unless kept).
pub async fn run_postgres(
    bin: &std::path::Path,
    admin_url: &str,
    options: &CasesOptions,
) -> anyhow::Result<BackendReport> {
    let work = tempfile::Builder::new()
        .prefix("fq-bench-cases-")
        .tempdir()?;
    let data_dir = work.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let (url, name) = db::create_postgres_database(admin_url).await?;
    let key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(proc::random_bytes(32)?)
    };
    let binary = Binary {
        bin: bin.to_path_buf(),
        data_dir,
        database: Some(url.clone()),
        data_key: Some(key),
        work_dir: work.path().to_path_buf(),
    };
    let result = run_backend(
        &binary,
        &url,
        Backend::Postgres,
        options.postgres_cases,
        options,
    )
    .await;
    if options.keep {
        let dir = work.keep();
        return result.map(|mut r| {
            r.kept = Some(format!("{} and database {name}", dir.display()));
            r
        });
    }
    if let Err(e) = db::drop_postgres_database(admin_url, &name).await {
        eprintln!("  (could not drop database {name}: {e:#})");
    }
    result
}

async fn run_backend(
    binary: &Binary,
    url: &str,
    backend: Backend,
    cases: u64,
    options: &CasesOptions,
) -> anyhow::Result<BackendReport> {
    let name = backend.name();
    eprintln!("cases on {name}: importing the fixture through the CLI …");
    let mut fixture = Fixture::new(options.clients.max(1));
    fixture.import(binary, url).await?;

    eprintln!("cases on {name}: intake over HTTP …");
    let server = binary.serve("serve-intake.log").await?;
    let intake = run_logged(&server, intake(&server, &fixture, backend, options)).await;
    server.stop().await?;
    let intake = intake?;
    if options.intake_only {
        return Ok(BackendReport {
            backend,
            intake,
            after: None,
            kept: None,
        });
    }

    eprintln!("cases on {name}: seeding {} cases …", group(cases));
    let db = Db::open(url).await?;
    let plan = SeedPlan {
        total: cases,
        county_a: cases / 5,
    };
    let seeded = seed::seed(&db, &fixture, plan).await;
    db.close().await;
    let seeded = seeded?;
    eprintln!(
        "cases on {name}: seeded in {:.0} s; reading over HTTP …",
        seeded.insert_secs + seeded.after_secs
    );

    // The seeded cases bypassed the server, so its full-text index holds only the intake's cases (their
    // `updated_at` is older than the index's cursor, so the restarted server does not pick them up). Before the
    // reads the runner waits until the restarted server is idle (startup work, catching up on changes).
    let server = binary.serve("serve-reads.log").await?;
    let settle = server.wait_idle(SETTLE_LIMIT).await;
    eprintln!(
        "cases on {name}: the restarted server was busy {:.0} s{}",
        settle.0.as_secs_f64(),
        if settle.1 { "" } else { " and had not settled" }
    );
    let reads = run_logged(&server, reads(&server, &fixture, options)).await;
    // The server's memory after the reads, holding whatever they made it cache.
    let memory = server.memory();
    let busiest = fixture
        .county_towns(0)
        .next()
        .map(|t| t.code.clone())
        .unwrap_or_default();
    eprintln!("cases on {name}: rendering in headless Chromium …");
    let render = crate::render::render(&server.base, &fixture, &busiest).await;
    // A full-text search section can measure here too: this server holds the seeded cases
    // (`fixture::dispatcher(…)`, `fixture::leader(…)` and `fixture.users` give the accounts). Its index holds
    // only the intake's cases: remove `binary.data_dir/search` before `serve` to have the server rebuild it
    // over every case, and `Server::wait_idle` until that is done.
    server.stop().await?;
    let (dispatcher_queue, handler_inbox, county_rates) = reads?;
    Ok(BackendReport {
        backend,
        intake,
        after: Some(AfterIntake {
            seed: seeded,
            dispatcher_queue,
            handler_inbox,
            county_rates,
            memory,
            settle,
            render,
        }),
        kept: None,
    })
}

/// Runs a measurement; on failure adds the server's last log lines.
async fn run_logged<T>(
    server: &Server,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    work.await
        .map_err(|e| e.context(format!("server log:\n{}", server.log_tail())))
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    fixture: &Fixture,
    username: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({
            "username": username,
            "password": fixture.users.password(username)?,
        }))
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "login of {username}: {status} {body}");
    body.get("token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
        .with_context(|| format!("login of {username} returned no token"))
}

/// A walk-in neighbour dispute at a random point of a random grid of county A.
fn intake_body(fixture: &Fixture, rng: &mut Rng) -> serde_json::Value {
    let towns: Vec<&fixture::Town> = fixture.county_towns(0).collect();
    let town = towns[rng.below(towns.len())];
    let village = rng.pick(&town.villages);
    let (lng, lat) = village.point(rng.unit(), rng.unit());
    let n = rng.below(1000);
    serde_json::json!({
        "kind": "dispute",
        "channel": "walk_in",
        "category": "dispute.neighbour",
        "title": "邻里纠纷：楼上漏水影响楼下住户",
        "description": format!("来访群众反映{}{}号楼上住户卫生间长期渗漏，天花板发霉，多次协商未果，请求调解。", village.name, n),
        "address": format!("{}{}{}号", town.name, village.name, n),
        "lng": lng,
        "lat": lat,
        "parties": [{ "role": "applicant", "name": "张三", "phone": rng.phone() }],
    })
}

/// The `Authorization` header of a token, made once per client rather than on every request.
fn bearer(token: &str) -> anyhow::Result<reqwest::header::HeaderValue> {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Posts one case; `Ok(latency)` on 201, `Err(description)` otherwise. The URL comes parsed and the header
/// made, so the load generator spends its share of the cores on requests rather than on parsing its own.
async fn post_case(
    http: &reqwest::Client,
    url: &reqwest::Url,
    authorization: &reqwest::header::HeaderValue,
    body: &serde_json::Value,
) -> Result<Duration, String> {
    let sent = Instant::now();
    let response = http
        .post(url.clone())
        .header(reqwest::header::AUTHORIZATION, authorization.clone())
        .json(body)
        .send()
        .await
        .map_err(|e| format!("sending: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading: {e}"))?;
    if status == reqwest::StatusCode::CREATED {
        Ok(sent.elapsed())
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        ))
    }
}

async fn intake(
    server: &Server,
    fixture: &Fixture,
    backend: Backend,
    options: &CasesOptions,
) -> anyhow::Result<IntakeReport> {
    let clients = options.clients.max(1);
    let base = server.base.clone();
    let url = reqwest::Url::parse(&format!("{base}/api/v1/cases"))?;
    // Each client logs in as its own clerk (one after another: logins hash a password).
    let http = http_client()?;
    let mut tokens = Vec::with_capacity(clients);
    for k in 0..clients {
        tokens.push(bearer(
            &login(&http, &base, fixture, &fixture::clerk(k)).await?,
        )?);
    }
    // A few requests first, one after another: connections warm, and a wrong request shape fails here.
    let mut rng = Rng::new(1);
    for _ in 0..5 {
        post_case(&http, &url, &tokens[0], &intake_body(fixture, &mut rng))
            .await
            .map_err(|e| anyhow::anyhow!("registering a case: {e}"))?;
    }

    let fixture = Arc::new(fixture.clone());
    let claimed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + options.intake_time;
    let database_cpu_time = || match backend {
        Backend::Postgres => proc::cpu_time_of_command("postgres"),
        Backend::Sqlite => None,
    };
    let (cpu_before, server_before) = (proc::own_cpu_time(), server.cpu_time());
    let database_before = database_cpu_time();
    let mut workers = Vec::with_capacity(clients);
    for (k, token) in tokens.into_iter().enumerate() {
        let (claimed, fixture, url) = (claimed.clone(), fixture.clone(), url.clone());
        let http = http_client()?;
        let max = options.intake_max;
        workers.push(tokio::spawn(async move {
            let mut rng = Rng::new(1_000 + k as u64);
            let mut ok = Vec::new();
            let (mut errors, mut first_error) = (0usize, None);
            while Instant::now() < deadline && claimed.fetch_add(1, Ordering::Relaxed) < max {
                let body = intake_body(&fixture, &mut rng);
                match post_case(&http, &url, &token, &body).await {
                    Ok(latency) => ok.push(latency),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (ok, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0usize, None);
    for worker in workers {
        let (ok, e, first) = worker.await?;
        latencies.extend(ok);
        errors += e;
        if first_error.is_none() {
            first_error = first;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let per_wall = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
        (Some(b), Some(a)) if secs > 0.0 => Some(a.saturating_sub(b).as_secs_f64() / secs),
        _ => None,
    };
    Ok(IntakeReport {
        clients,
        ok: latencies.len(),
        errors,
        first_error,
        secs,
        hit_time_limit: claimed.load(Ordering::Relaxed) < options.intake_max,
        latency: latency_of(latencies),
        client_cpu: per_wall(cpu_before, proc::own_cpu_time()),
        server_cpu: per_wall(server_before, server.cpu_time()),
        database_cpu: per_wall(database_before, database_cpu_time()),
    })
}

/// The three read series on the seeded database.
async fn reads(
    server: &Server,
    fixture: &Fixture,
    options: &CasesOptions,
) -> anyhow::Result<(ReadSeries, ReadSeries, ReadSeries)> {
    let base = &server.base;
    let http = http_client()?;
    // The busiest town of county A (the seeder weights towns 1/√rank).
    let town = fixture
        .county_towns(0)
        .next()
        .context("the fixture has no town")?;
    let dispatcher = login(&http, base, fixture, &fixture::dispatcher(&town.code)).await?;
    let handler = login(&http, base, fixture, &fixture::handler(&town.code)).await?;
    let leader = login(&http, base, fixture, &fixture::leader(COUNTY_A.code)).await?;

    let queue = timed_gets(
        &http,
        base,
        "/api/v1/cases?status=dispatched,in_progress&sort=deadline&per_page=20",
        &dispatcher,
        options.queue_warmup,
        options.queue_samples,
        |body| body.get("total").and_then(|t| t.as_i64()),
    )
    .await?;
    let inbox = timed_gets(
        &http,
        base,
        "/api/v1/cases?queue=inbox&sort=deadline&per_page=20",
        &handler,
        options.queue_warmup,
        options.queue_samples,
        |body| body.get("total").and_then(|t| t.as_i64()),
    )
    .await?;
    // The whole history: the cohort is every case of the county accepted in it.
    let today = fengqiao_domain::calendar::local_date(fengqiao_app::clock::Clock::now(
        &fengqiao_app::clock::SystemClock,
    ));
    let from = today - chrono::Duration::days(800);
    let rates_path = format!(
        "/api/v1/rates?region_code={}&from={from}&to={today}",
        COUNTY_A.code
    );
    let rates = timed_gets(
        &http,
        base,
        &rates_path,
        &leader,
        1,
        options.rate_runs,
        |body| body.pointer("/counts/cohort").and_then(|t| t.as_i64()),
    )
    .await?;
    Ok((queue, inbox, rates))
}

/// `warmup` untimed then up to `samples` timed sequential GETs (stopping at READ_TIME_LIMIT).
async fn timed_gets(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    warmup: usize,
    samples: usize,
    total_of: impl Fn(&serde_json::Value) -> Option<i64>,
) -> anyhow::Result<ReadSeries> {
    let url = format!("{base}{path}");
    let mut total = None;
    let mut latencies = Vec::with_capacity(samples);
    let mut failures = 0usize;
    let started = Instant::now();
    for k in 0..warmup + samples {
        if started.elapsed() > READ_TIME_LIMIT {
            break;
        }
        let sent = Instant::now();
        let response = http.get(&url).bearer_auth(token).send().await;
        let (ok, body) = match response {
            Ok(r) => {
                let ok = r.status().is_success();
                (ok, r.bytes().await.ok())
            }
            Err(_) => (false, None),
        };
        let elapsed = sent.elapsed();
        match (ok, body) {
            (true, Some(bytes)) => {
                if total.is_none() {
                    let value: serde_json::Value =
                        serde_json::from_slice(&bytes).context("a non-JSON answer")?;
                    total = total_of(&value);
                }
                if k >= warmup {
                    latencies.push(elapsed);
                }
            }
            (_, body) => {
                failures += 1;
                if k == 0 {
                    anyhow::bail!(
                        "GET {path} failed: {}",
                        body.map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(ReadSeries {
        request: path.to_string(),
        latency: latency_of(latencies),
        failures,
        total: total.unwrap_or(-1),
    })
}

/// Nearest-rank percentiles.
pub fn latency_of(mut samples: Vec<Duration>) -> Latency {
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

fn group(n: u64) -> String {
    crate::group(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = latency_of(samples);
        assert_eq!(l.count, 100);
        assert_eq!(l.p50, Duration::from_millis(50));
        assert_eq!(l.p99, Duration::from_millis(99));
        assert_eq!(l.max, Duration::from_millis(100));
        assert_eq!(latency_of(Vec::new()).p99, Duration::ZERO);
    }

    #[test]
    fn intake_bodies_land_in_county_a_grids() {
        let fixture = Fixture::new(1);
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let body = intake_body(&fixture, &mut rng);
            assert_eq!(body["category"], "dispute.neighbour");
            let lng = body["lng"].as_f64().expect("lng");
            let lat = body["lat"].as_f64().expect("lat");
            let inside = fixture.county_towns(0).any(|t| {
                t.villages
                    .iter()
                    .any(|v| (v.lng - lng).abs() < 0.004 && (v.lat - lat).abs() < 0.004)
            });
            assert!(inside, "{lng},{lat}");
        }
    }
}
