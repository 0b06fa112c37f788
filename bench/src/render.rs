//! Render timing in headless Chromium and the size of the shipped JavaScript: runs `bench/render.mjs`
//! (playwright-core from `web/node_modules`, Debian's `/usr/bin/chromium`) against the cases section's
//! server once it holds the seeded cases, signed in as county A's leader (the dashboard) and the busiest
//! town's dispatcher (a 50-row queue page). Skipped, with the reason, when Node, Chromium, the front end's
//! packages or its build are missing.

use std::path::Path;
use std::process::Stdio;

use crate::fixture::{self, COUNTY_A, Fixture};
use crate::proc::workspace_root;

/// Cold (empty cache) and warm (reload) times until a page shows its data.
#[derive(Debug, Clone)]
pub struct PageTiming {
    pub cold_ms: f64,
    pub warm_median_ms: f64,
    pub warm_max_ms: f64,
    pub runs: u64,
}

#[derive(Debug, Clone)]
pub struct RenderReport {
    pub dashboard: PageTiming,
    pub queue: PageTiming,
    /// Every JavaScript file the build ships, gzipped (level 9), and those the two pages loaded.
    pub js_gzip_total: u64,
    pub js_raw_total: u64,
    pub js_gzip_dashboard: u64,
    pub js_gzip_queue: u64,
}

fn timing(v: &serde_json::Value) -> Option<PageTiming> {
    Some(PageTiming {
        cold_ms: v.get("cold_ms")?.as_f64()?,
        warm_median_ms: v.get("warm_median_ms")?.as_f64()?,
        warm_max_ms: v.get("warm_max_ms")?.as_f64()?,
        runs: v.get("runs")?.as_u64()?,
    })
}

/// Why the render measurement cannot run here, if it cannot.
fn unavailable(root: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (bash .ci/chromium.sh installs it)"
        ));
    }
    if !root.join("web/node_modules/playwright-core").exists() {
        return Some("web/node_modules has no playwright-core (run `cd web && npm ci`)".into());
    }
    if !root.join("web/dist/index.html").exists() {
        return Some(
            "the front end is not built (run `cd web && npm run build`, then rebuild the server)"
                .into(),
        );
    }
    None
}

/// Measures; `Err` holds why it was skipped or what failed.
pub async fn render(base: &str, fixture: &Fixture, town: &str) -> Result<RenderReport, String> {
    let root = workspace_root();
    if let Some(why) = unavailable(&root) {
        return Err(format!("skipped ({why})"));
    }
    let leader = fixture::leader(COUNTY_A.code);
    let dispatcher = fixture::dispatcher(town);
    let password = |u: &str| {
        fixture
            .users
            .password(u)
            .map(str::to_string)
            .map_err(|e| e.to_string())
    };
    let output = tokio::process::Command::new("node")
        .arg(root.join("bench/render.mjs"))
        .arg(base)
        .env("FQ_RENDER_DASHBOARD_USER", &leader)
        .env("FQ_RENDER_DASHBOARD_PASSWORD", password(&leader)?)
        .env("FQ_RENDER_QUEUE_USER", &dispatcher)
        .env("FQ_RENDER_QUEUE_PASSWORD", password(&dispatcher)?)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("skipped (cannot run node: {e})"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "failed ({}): {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format!("failed (unreadable output {line:?}: {e})"))?;
    let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
    Ok(RenderReport {
        dashboard: timing(&v["dashboard"]).ok_or("failed (no dashboard timing)")?,
        queue: timing(&v["queue"]).ok_or("failed (no queue timing)")?,
        js_gzip_total: n("js_gzip_total"),
        js_raw_total: n("js_raw_total"),
        js_gzip_dashboard: n("js_gzip_dashboard"),
        js_gzip_queue: n("js_gzip_queue"),
    })
}
