//! The benchmark runner: prints Fengqiao's figures beside the ceilings in shared/LIMITS.md.
//!
//! `cargo run --release -p bench [-- --only geo|login] [--quick]` (or `bench/run …`). See bench/README.md.

mod login;
mod point_to_grid;

use std::process::ExitCode;
use std::time::Duration;

/// LIMITS.md, "Geometry": naive geo + rstar bbox R-tree + exact test, 10,000 polygons, one thread.
const NAIVE_LOOKUPS_PER_SEC: f64 = 1_200_000.0;
/// LIMITS.md, "Geometry": PostGIS 3.3 batched join on one core (45–52k/s).
const POSTGIS_LOOKUPS_PER_SEC: f64 = 50_000.0;
/// The point-to-grid target.
const TARGET_LOOKUPS_PER_SEC: f64 = 2_000_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    Everything,
    Geo,
    Login,
}

#[derive(Debug, Clone, Copy)]
struct Options {
    only: Only,
    quick: bool,
}

const USAGE: &str = "usage: bench [--only geo|login] [--quick]
  --only geo     point-to-grid lookups only
  --only login   logins over HTTP only
  --quick        smaller sizes, for a smoke run (figures are rougher)";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        only: Only::Everything,
        quick: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let only = match arg.as_str() {
            "--quick" => {
                options.quick = true;
                continue;
            }
            "--only" => args.next().ok_or("--only needs geo or login")?,
            "-h" | "--help" => return Err(String::new()),
            other => match other.strip_prefix("--only=") {
                Some(value) => value.to_string(),
                None => return Err(format!("unknown argument {other:?}")),
            },
        };
        options.only = match only.as_str() {
            "geo" => Only::Geo,
            "login" => Only::Login,
            other => return Err(format!("--only takes geo or login, not {other:?}")),
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
    if options.only != Only::Login {
        geo(options);
    }
    if options.only != Only::Geo {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
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
    Ok(())
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
        assert!(args(&["--only", "nope"]).is_err());
        assert!(args(&["--only"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }
}
