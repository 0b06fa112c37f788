//! Runs the search benchmark of `bench/src/search.rs` from this crate, so the file is compiled and checked
//! here too: `cargo run --release -p fengqiao-search --example search_bench -- [DOCS] [QUERIES]`
//! (defaults: 100,000 cases, 1,000 searches per word). The project's figures come from the bench runner.

#[path = "../../../bench/src/search.rs"]
mod search;

fn main() {
    let mut args = std::env::args().skip(1);
    let docs = args
        .next()
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let queries = args
        .next()
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1_000);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    let report = search::run(docs, queries);
    println!(
        "{} cases indexed in {:.1} s, {:.1} MB on disk; {} county-scoped searches per word (newest 20 + total):",
        report.docs,
        report.build_secs,
        report.index_bytes as f64 / 1e6,
        report.queries,
    );
    println!(
        "  噪音 (two characters):        p50 {:.2} ms  p99 {:.2} ms  mean total {:.0}",
        report.two_char_p50_ms, report.two_char_p99_ms, report.two_char_mean_total
    );
    println!(
        "  违章建筑 (four, one term):    p50 {:.2} ms  p99 {:.2} ms  mean total {:.0}",
        report.four_char_p50_ms, report.four_char_p99_ms, report.four_char_mean_total
    );
    println!(
        "  占道经营 (four, a phrase):    p50 {:.2} ms  p99 {:.2} ms  mean total {:.0}",
        report.phrase_p50_ms, report.phrase_p99_ms, report.phrase_mean_total
    );
    println!(
        "  upsert of one case (commit + reload): p50 {:.2} ms  p99 {:.2} ms",
        report.single_upsert_p50_ms, report.single_upsert_p99_ms
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.trim());
}
