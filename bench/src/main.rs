//! The benchmark runner: prints Fengqiao's figures beside the ceilings in shared/LIMITS.md.
//!
//! `cargo run --release -p bench [-- --only geo|login|cases] [--quick] [--keep]` (or `bench/run …`). See
//! bench/README.md.

mod cases;
mod db;
mod fixture;
mod login;
mod point_to_grid;
mod proc;
mod render;
mod search;
mod seed;

use std::process::ExitCode;
use std::time::Duration;

/// LIMITS.md, "Geometry": naive geo + rstar bbox R-tree + exact test, 10,000 polygons, one thread.
const NAIVE_LOOKUPS_PER_SEC: f64 = 1_200_000.0;
/// LIMITS.md, "Geometry": PostGIS 3.3 batched join on one core (45–52k/s).
const POSTGIS_LOOKUPS_PER_SEC: f64 = 50_000.0;
/// The render target (issue 7): the dashboard and a 50-row queue page shown within a second.
const TARGET_RENDER_MS: f64 = 1_000.0;
/// The point-to-grid target.
const TARGET_LOOKUPS_PER_SEC: f64 = 2_000_000.0;

/// LIMITS.md, "Writing cases": bare axum + SQLite, one writer with group commit, 32 connections.
const SQLITE_GROUP_COMMIT_PER_SEC: f64 = 11_900.0;
/// LIMITS.md: the same, one transaction per request (the per-commit ceiling).
const SQLITE_PER_COMMIT_PER_SEC: f64 = 3_700.0;
/// LIMITS.md: bare axum + sqlx PostgreSQL 15, pool 16, 3 inserts per request.
const POSTGRES_BARE_PER_SEC: f64 = 2_770.0;
/// LIMITS.md: the same with the audit hash chained at insert time.
const POSTGRES_CHAINED_PER_SEC: f64 = 1_050.0;
/// LIMITS.md: django-helpdesk ticket create over HTTP.
const HELPDESK_PER_SEC: f64 = 101.0;
/// The intake targets.
const TARGET_SQLITE_INTAKE: f64 = 6_000.0;
const TARGET_POSTGRES_INTAKE: f64 = 2_000.0;
/// LIMITS.md, "Reading": the queue page in-process with a partial index, p99.
const QUEUE_PARTIAL_INDEX_P99_MS: f64 = 0.23;
/// LIMITS.md: django-helpdesk staff list page at 100,000 tickets, p50.
const HELPDESK_LIST_P50_MS: f64 = 359.0;
/// LIMITS.md: a county's counts (200,000 cases) grouped by department with a covering index.
const COUNTY_COUNTS_MS: f64 = 31.0;
/// The read targets.
const TARGET_QUEUE_P99_MS: f64 = 5.0;
const TARGET_RATES_MS: f64 = 50.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    Everything,
    Geo,
    Login,
    Cases,
    /// The cases section's intake only.
    Intake,
    Search,
}

impl Only {
    fn runs(self, section: Only) -> bool {
        self == Only::Everything || self == section
    }
}

#[derive(Debug, Clone, Copy)]
struct Options {
    only: Only,
    quick: bool,
    keep: bool,
}

const USAGE: &str = "usage: bench [--only geo|login|cases|intake|search] [--quick] [--keep]
  --only geo     point-to-grid lookups only
  --only login   logins over HTTP only
  --only cases   case intake, work queues, rates and memory over HTTP (SQLite and PostgreSQL)
  --only intake  case intake over HTTP only (SQLite and PostgreSQL), without seeding or reads
  --only search  Chinese full-text search over 1,000,000 synthetic cases (the index itself)
  --quick        smaller sizes, for a smoke run (figures are rougher)
  --keep         keep the cases benchmark's data directories and PostgreSQL database (prints where)";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        only: Only::Everything,
        quick: false,
        keep: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let only = match arg.as_str() {
            "--quick" => {
                options.quick = true;
                continue;
            }
            "--keep" => {
                options.keep = true;
                continue;
            }
            "--only" => args
                .next()
                .ok_or("--only needs geo, login, cases, intake or search")?,
            "-h" | "--help" => return Err(String::new()),
            other => match other.strip_prefix("--only=") {
                Some(value) => value.to_string(),
                None => return Err(format!("unknown argument {other:?}")),
            },
        };
        options.only = match only.as_str() {
            "geo" => Only::Geo,
            "login" => Only::Login,
            "cases" => Only::Cases,
            "intake" => Only::Intake,
            "search" => Only::Search,
            other => {
                return Err(format!(
                    "--only takes geo, login, cases, intake or search, not {other:?}"
                ));
            }
        };
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let build = if cfg!(debug_assertions) {
        "debug build — figures NOT comparable, use --release"
    } else {
        "release build"
    };
    let quick = if options.quick {
        ", --quick: smaller sizes"
    } else {
        ""
    };
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .map(|l| format!("; load average {l} at start"))
        .unwrap_or_default();
    println!("Fengqiao benchmarks — {cores} cores ({build}{quick}{load})");
    if options.only.runs(Only::Geo) {
        geo(options);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if options.only.runs(Only::Login) {
        let login_options = if options.quick {
            login::LoginOptions {
                logins: 40,
                clients: 8,
                time_limit: Duration::from_secs(8),
            }
        } else {
            login::LoginOptions {
                logins: 200,
                clients: 8,
                time_limit: Duration::from_secs(20),
            }
        };
        let report = runtime.block_on(login::run(&login_options))?;
        print_login(&report);
    }
    if options.only.runs(Only::Cases) || options.only == Only::Intake {
        run_cases(&runtime, options, cores)?;
    }
    if options.only.runs(Only::Search) {
        let (docs, queries) = if options.quick {
            (100_000, 200)
        } else {
            (1_000_000, 1_000)
        };
        print_search(&search::run(docs, queries));
    }
    Ok(())
}

fn cases_options(options: Options) -> cases::CasesOptions {
    if options.quick {
        cases::CasesOptions {
            clients: 32,
            intake_time: Duration::from_secs(5),
            intake_max: 200_000,
            sqlite_cases: 50_000,
            postgres_cases: 50_000,
            queue_samples: 200,
            queue_warmup: 20,
            rate_runs: 10,
            keep: options.keep,
            intake_only: options.only == Only::Intake,
        }
    } else {
        cases::CasesOptions {
            clients: 32,
            intake_time: Duration::from_secs(20),
            intake_max: 1_000_000,
            sqlite_cases: 1_000_000,
            postgres_cases: 1_000_000,
            queue_samples: 500,
            queue_warmup: 50,
            rate_runs: 20,
            keep: options.keep,
            intake_only: options.only == Only::Intake,
        }
    }
}

fn run_cases(
    runtime: &tokio::runtime::Runtime,
    options: Options,
    cores: usize,
) -> anyhow::Result<()> {
    let cases_options = cases_options(options);
    let bin = cases::server_binary()?;
    let sqlite = runtime.block_on(cases::run_sqlite(&bin, &cases_options))?;
    print_cases(&sqlite, cores);
    match cases::postgres_admin_url() {
        Err(why) => println!("PostgreSQL: skipped ({why})"),
        Ok(url) => match runtime.block_on(cases::run_postgres(&bin, &url, &cases_options)) {
            Ok(report) => print_cases(&report, cores),
            Err(e) => println!("PostgreSQL: failed ({e:#})"),
        },
    }
    Ok(())
}

/// LIMITS.md, "Reading": tantivy + tantivy-jieba at 1,000,000 docs, county scope, top 20 + count.
const PEER_SEARCH_TWO_CHAR_P99_MS: f64 = 6.5;
const PEER_SEARCH_FOUR_CHAR_P99_MS: f64 = 16.0;
/// The search target (p99).
const TARGET_SEARCH_P99_MS: f64 = 20.0;

fn print_search(r: &search::SearchReport) {
    println!(
        "full-text search index: {} cases indexed in {:.1} s ({:.0}/s), {:.0} MB on disk",
        r.docs,
        r.build_secs,
        r.docs as f64 / r.build_secs.max(1e-9),
        r.index_bytes as f64 / 1e6
    );
    for (what, p50, p99, total, peer) in [
        (
            "two-character word 噪音",
            r.two_char_p50_ms,
            r.two_char_p99_ms,
            r.two_char_mean_total,
            PEER_SEARCH_TWO_CHAR_P99_MS,
        ),
        (
            "four-character word 违章建筑",
            r.four_char_p50_ms,
            r.four_char_p99_ms,
            r.four_char_mean_total,
            PEER_SEARCH_FOUR_CHAR_P99_MS,
        ),
        (
            "split phrase 占道经营",
            r.phrase_p50_ms,
            r.phrase_p99_ms,
            r.phrase_mean_total,
            PEER_SEARCH_FOUR_CHAR_P99_MS,
        ),
    ] {
        println!(
            "search {what}, county scope, top 20 + count over {} cases ({} searches, mean total {:.0}): p50 {:.2} ms p99 {:.2} ms  ({} as fast as LIMITS.md tantivy-jieba, p99 {peer} ms)  target p99 < {TARGET_SEARCH_P99_MS} ms: {}",
            r.docs,
            r.queries,
            total,
            p50,
            p99,
            ratio(peer / p99.max(1e-9)),
            verdict(p99 < TARGET_SEARCH_P99_MS)
        );
    }
    println!(
        "search index: one case upserted (commit and reload): p50 {:.2} ms p99 {:.2} ms",
        r.single_upsert_p50_ms, r.single_upsert_p99_ms
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "NOT MET" }
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_cases(r: &cases::BackendReport, cores: usize) {
    let backend = r.backend.name();
    let i = &r.intake;
    let rate = i.per_sec();
    let cpu = |c: Option<f64>| c.map_or_else(|| "n/a".to_string(), |c| format!("{c:.2} cores"));
    let (peers, target) = match r.backend {
        db::Backend::Sqlite => (
            format!(
                "{} bare axum+SQLite group commit 11,900/s; {} per-commit ceiling 3,700/s; {} django-helpdesk 101/s",
                ratio(rate / SQLITE_GROUP_COMMIT_PER_SEC),
                ratio(rate / SQLITE_PER_COMMIT_PER_SEC),
                ratio(rate / HELPDESK_PER_SEC),
            ),
            TARGET_SQLITE_INTAKE,
        ),
        db::Backend::Postgres => (
            format!(
                "{} bare axum+sqlx PostgreSQL 2,770/s; {} chained-audit PostgreSQL 1,050/s; {} django-helpdesk 101/s",
                ratio(rate / POSTGRES_BARE_PER_SEC),
                ratio(rate / POSTGRES_CHAINED_PER_SEC),
                ratio(rate / HELPDESK_PER_SEC),
            ),
            TARGET_POSTGRES_INTAKE,
        ),
    };
    println!(
        "case intake over HTTP ({backend}, {} clients, {cores} cores): {}/s p50 {} p99 {}  ({peers})  target ≥ {}/s: {}",
        i.clients,
        group(rate.round() as u64),
        ms(i.latency.p50),
        ms(i.latency.p99),
        group(target as u64),
        verdict(rate >= target),
    );
    let stop = if i.hit_time_limit {
        "stopped at the time limit"
    } else {
        "stopped at the count"
    };
    println!(
        "  {} registered, {} errors in {:.1} s ({stop}); client CPU {} (the bench process), server CPU {}{}{}",
        group(i.ok as u64),
        group(i.errors as u64),
        i.secs,
        cpu(i.client_cpu),
        cpu(i.server_cpu),
        i.database_cpu
            .map(|c| format!(", PostgreSQL's processes on this machine {c:.2} cores"))
            .unwrap_or_default(),
        i.first_error
            .as_ref()
            .map(|e| format!("; first error: {e}"))
            .unwrap_or_default(),
    );
    if let Some(kept) = &r.kept {
        println!("  kept: {kept}");
    }
    let kind = r.backend;
    let Some(r) = &r.after else {
        return;
    };
    let s = &r.seed;
    let insert_rate = if s.insert_secs > 0.0 {
        s.inserted as f64 / s.insert_secs
    } else {
        0.0
    };
    let after = match kind {
        db::Backend::Sqlite => "WAL checkpoint",
        db::Backend::Postgres => "VACUUM ANALYZE",
    };
    println!(
        "  seeded {} cases directly with sqlx in {:.1} s ({}/s; + {after} {:.1} s): {} in all, {} in county {} and {} in {}; + {} unit and {} dispatch rows",
        group(s.inserted),
        s.insert_secs,
        group(insert_rate.round() as u64),
        s.after_secs,
        group(s.cases),
        group(s.county_a),
        fixture::COUNTY_A.code,
        group(s.county_b),
        fixture::COUNTY_B.code,
        group(s.units),
        group(s.dispatches),
    );
    println!(
        "  restarted the server on it (its full-text index holds only the intake's cases): busy {:.0} s before the reads{}",
        r.settle.0.as_secs_f64(),
        if r.settle.1 {
            ""
        } else {
            " — it had NOT gone idle; the reads below ran while it worked"
        },
    );
    for (who, series) in [
        ("town dispatcher", &r.dispatcher_queue),
        ("police-station handler", &r.handler_inbox),
    ] {
        let p99 = ms_f(series.latency.p99);
        println!(
            "work-queue page over HTTP ({backend}, {} cases, {who}; GET {}, total {}): p50 {} p99 {}  ({} in-process partial index p99 0.23 ms; django-helpdesk 100k list p50 359 ms = {})  target p99 < 5 ms: {}",
            group(s.cases),
            series.request,
            group(series.total.max(0) as u64),
            ms(series.latency.p50),
            ms(series.latency.p99),
            ratio(p99 / QUEUE_PARTIAL_INDEX_P99_MS),
            ratio(HELPDESK_LIST_P50_MS / ms_f(series.latency.p50).max(1e-6)),
            verdict(series.latency.count > 0 && series.failures == 0 && p99 < TARGET_QUEUE_P99_MS),
        );
        println!(
            "  {} timed requests one after another after {} untimed; {} failed; max {}",
            series.latency.count,
            if series.latency.count > 0 {
                "the warm-up"
            } else {
                "none"
            },
            series.failures,
            ms(series.latency.max),
        );
    }
    let rates = &r.county_rates;
    let p50 = ms_f(rates.latency.p50);
    println!(
        "county rates over HTTP ({backend}, county {} holding {} of {} cases, cohort {}; GET {}): p50 {} max {} over {} runs  ({} LIMITS covering-index county counts ≈ 31 ms)  target < 50 ms (p50): {}",
        fixture::COUNTY_A.code,
        group(s.county_a),
        group(s.cases),
        group(rates.total.max(0) as u64),
        rates.request,
        ms(rates.latency.p50),
        ms(rates.latency.max),
        rates.latency.count,
        ratio(p50 / COUNTY_COUNTS_MS),
        verdict(rates.latency.count > 0 && rates.failures == 0 && p50 < TARGET_RATES_MS),
    );
    match &r.memory {
        Some(m) => println!(
            "server memory at {} cases ({backend}, after the reads; /proc/PID/status of the server): heap ≈ RssAnon {} (anonymous resident memory: malloc arenas{}, thread stacks), VmRSS {} (RssFile {}), peak VmHWM {}",
            group(s.cases),
            mib(m.rss_anon_kib),
            match kind {
                db::Backend::Sqlite => " incl. SQLite's page cache",
                db::Backend::Postgres => "",
            },
            mib(m.vm_rss_kib),
            mib(m.rss_file_kib),
            mib(m.vm_hwm_kib),
        ),
        None => println!("server memory ({backend}): n/a (no /proc)"),
    }
    match &r.render {
        Ok(x) => {
            for (what, t) in [
                ("the leader's dashboard (county A)", &x.dashboard),
                ("a 50-row work-queue page (town dispatcher)", &x.queue),
            ] {
                println!(
                    "render in headless Chromium ({backend}, {} cases): {what} shows its data in {:.0} ms with an empty cache, {:.0} ms median reloaded (max {:.0}, {} runs)  target < 1 s: {}",
                    group(s.cases),
                    t.cold_ms,
                    t.warm_median_ms,
                    t.warm_max_ms,
                    t.runs,
                    verdict(t.cold_ms < TARGET_RENDER_MS && t.warm_max_ms < TARGET_RENDER_MS),
                );
            }
            println!(
                "shipped JavaScript: {:.0} KB gzipped ({:.0} KB raw) in all; the dashboard loads {:.0} KB gzipped, the queue page {:.0} KB",
                x.js_gzip_total as f64 / 1024.0,
                x.js_raw_total as f64 / 1024.0,
                x.js_gzip_dashboard as f64 / 1024.0,
                x.js_gzip_queue as f64 / 1024.0,
            );
        }
        Err(why) => println!("render in headless Chromium ({backend}): {why}"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn geo(options: Options) {
    let (polygons, lookups) = if options.quick {
        (10_000, 200_000)
    } else {
        (10_000, 2_000_000)
    };
    let report = point_to_grid::run(polygons, lookups);
    let rate = report.lookups_per_sec_one_thread;
    let verdict = if rate >= TARGET_LOOKUPS_PER_SEC {
        "MET"
    } else {
        "NOT MET"
    };
    println!(
        "point-to-grid ({} polygons, 1 thread): {} lookups/s  ({} naive R-tree 1.2M/s; {} PostGIS ~50k/s)  target ≥ {}: {verdict}",
        group(report.polygons as u64),
        group(rate.round() as u64),
        ratio(rate / NAIVE_LOOKUPS_PER_SEC),
        ratio(rate / POSTGIS_LOOKUPS_PER_SEC),
        group(TARGET_LOOKUPS_PER_SEC as u64),
    );
    println!(
        "  index built in {}; {} of {} points fell in a grid",
        ms(Duration::from_secs_f64(report.build_ms / 1e3)),
        group(report.hits as u64),
        group(report.lookups as u64),
    );
}

fn print_login(r: &login::LoginReport) {
    let cpu = r
        .cpu_cores
        .map_or_else(|| "n/a".to_string(), |c| format!("{c:.1} cores"));
    println!(
        "login over HTTP (SQLite, {}, {} clients): {:.1}/s p50 {} p99 {}; client+server CPU {cpu}",
        r.hash_params,
        r.clients,
        r.logins_per_sec(),
        ms(r.storm_latency.p50),
        ms(r.storm_latency.p99),
    );
    let stop = if r.hit_time_limit {
        "stopped at the time limit"
    } else {
        "stopped at the count"
    };
    let slots = r.hash_slots;
    let hash = r.hash_time.min.as_secs_f64();
    let ceiling = if hash > 0.0 {
        format!(
            "; hashing ceiling ≈ {:.1}/s ({slots} slot{} ÷ one verify {}), reached {}; one login on the idle server {}",
            slots as f64 / hash,
            if slots == 1 { "" } else { "s" },
            ms(r.hash_time.min),
            ratio(r.logins_per_sec() * hash / slots as f64),
            ms(r.idle_login.p50),
        )
    } else {
        String::new()
    };
    println!(
        "  {} ok, {} failed in {:.1} s ({stop}){ceiling}",
        r.logins_ok, r.logins_failed, r.storm_secs,
    );
    println!(
        "other requests during the login storm: /healthz p50 {} p99 {}; /api/v1/auth/me p50 {} p99 {} max {}  ({} + {} samples, {} failed)",
        ms(r.storm_healthz.p50),
        ms(r.storm_healthz.p99),
        ms(r.storm_me.p50),
        ms(r.storm_me.p99),
        ms(r.storm_me.max),
        r.storm_healthz.count,
        r.storm_me.count,
        r.probe_failures,
    );
    println!(
        "  same on the idle server:             /healthz p50 {} p99 {}; /api/v1/auth/me p50 {} p99 {}  (storm/idle p99: {} and {})",
        ms(r.idle_healthz.p50),
        ms(r.idle_healthz.p99),
        ms(r.idle_me.p50),
        ms(r.idle_me.p99),
        slowdown(r.storm_healthz.p99, r.idle_healthz.p99),
        slowdown(r.storm_me.p99, r.idle_me.p99),
    );
}

/// `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.95x` below ten, `47x` above.
fn ratio(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}x")
    } else {
        format!("{x:.2}x")
    }
}

fn slowdown(during: Duration, idle: Duration) -> String {
    if idle.is_zero() {
        "n/a".into()
    } else {
        ratio(during.as_secs_f64() / idle.as_secs_f64())
    }
}

/// Milliseconds with a precision that suits the size.
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(2_345_678), "2,345,678");
    }

    #[test]
    fn parses_flags() {
        let args = |s: &[&str]| parse_args(s.iter().map(|a| a.to_string()));
        let o = args(&["--only", "geo", "--quick"]).expect("valid");
        assert_eq!(o.only, Only::Geo);
        assert!(o.quick);
        assert_eq!(args(&["--only=login"]).expect("valid").only, Only::Login);
        let o = args(&["--only", "cases", "--keep"]).expect("valid");
        assert_eq!(o.only, Only::Cases);
        assert!(o.keep && !o.quick);
        assert_eq!(
            args(&["--only", "search"]).expect("valid").only,
            Only::Search
        );
        assert!(Only::Everything.runs(Only::Cases));
        assert!(Only::Everything.runs(Only::Search));
        assert!(!Only::Geo.runs(Only::Cases));
        assert!(args(&["--only", "nope"]).is_err());
        assert!(args(&["--only"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }
}
