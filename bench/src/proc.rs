//! The `fengqiao` binary as a separate process: its CLI for fixtures, `serve` on a loopback port, and what
//! /proc says about a process (CPU time, memory).
//!
//! A server is started with `kill_on_drop`, so a benchmark that fails half-way does not leave it running; a
//! normal stop sends SIGTERM (the binary shuts down gracefully on it) and waits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a started server may take to answer `/readyz`.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a stopped server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one CLI command may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(300);

/// The workspace root (bench/..).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Builds the server binary in release mode (`cargo build --release -p fengqiao`) and returns its path.
pub fn build_server() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "fengqiao"])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status()
        .context("running cargo build --release -p fengqiao")?;
    anyhow::ensure!(status.success(), "cargo build --release -p fengqiao failed");
    // The bench binary lives in <target>/release (or <target>/debug); the server in <target>/release.
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .context("the bench binary has no target directory")?;
    let bin = target.join("release").join("fengqiao");
    anyhow::ensure!(bin.exists(), "{} was not built", bin.display());
    Ok(bin)
}

/// How to run the binary against one database.
#[derive(Debug, Clone)]
pub struct Binary {
    pub bin: PathBuf,
    /// The data directory (SQLite file, key, audit checkpoint, attachments).
    pub data_dir: PathBuf,
    /// A `postgres://` URL, or None for SQLite in the data directory.
    pub database: Option<String>,
    /// `FENGQIAO_DATA_KEY` (required with PostgreSQL).
    pub data_key: Option<String>,
    /// Where commands run and logs go (no `fengqiao.toml` here, so only our flags count).
    pub work_dir: PathBuf,
}

impl Binary {
    fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.bin);
        command.current_dir(&self.work_dir);
        for (name, _) in std::env::vars() {
            if name.starts_with("FENGQIAO_") {
                command.env_remove(name);
            }
        }
        // Quiet by default; FQ_BENCH_SERVER_LOG (an env-filter such as `info`) shows more in the kept logs.
        command.env(
            "FENGQIAO_LOG",
            std::env::var("FQ_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        );
        if let Some(key) = &self.data_key {
            command.env("FENGQIAO_DATA_KEY", key);
        }
        command.arg("--data-dir").arg(&self.data_dir);
        if let Some(url) = &self.database {
            command.arg("--database").arg(url);
        }
        command
    }

    /// Runs one CLI command (`import regions FILE`, …), feeding `stdin` if given; returns its standard error.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        use tokio::io::AsyncWriteExt;
        let mut command = self.command();
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting fengqiao {}", args.join(" ")))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await?;
            drop(pipe);
        }
        let output = tokio::time::timeout(CLI_TIMEOUT, child.wait_with_output())
            .await
            .with_context(|| format!("fengqiao {} timed out", args.join(" ")))??;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        anyhow::ensure!(
            output.status.success(),
            "fengqiao {} failed ({}):\n{stderr}",
            args.join(" "),
            output.status
        );
        Ok(stderr)
    }

    /// Starts `fengqiao serve` on a free loopback port and waits until `/readyz` answers 200.
    pub async fn serve(&self, log_name: &str) -> anyhow::Result<Server> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let log_path = self.work_dir.join(log_name);
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut command = self.command();
        command
            .args(["serve", "--listen", &listen])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command.spawn().context("starting fengqiao serve")?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            base: format!("http://{listen}"),
            log: log_path,
        };
        server.wait_ready().await?;
        Ok(server)
    }
}

/// A running `fengqiao serve`.
pub struct Server {
    child: tokio::process::Child,
    pub pid: u32,
    pub base: String,
    log: PathBuf,
}

impl Server {
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        let url = format!("{}/readyz", self.base);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "the server exited ({status}) before it was ready:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "the server did not answer /readyz within {} s:\n{}",
            READY_TIMEOUT.as_secs(),
            self.log_tail()
        )
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The server's user + system CPU time so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid))
    }

    /// Waits until the server has been idle (under 5 % of a core) for three seconds in a row, at most
    /// `limit`; returns how long it was busy and whether it settled.
    pub async fn wait_idle(&self, limit: Duration) -> (Duration, bool) {
        let started = Instant::now();
        let mut quiet = 0;
        let mut before = self.cpu_time();
        while started.elapsed() < limit {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.cpu_time();
            match (before, now) {
                (Some(b), Some(n)) if n.saturating_sub(b) < Duration::from_millis(50) => quiet += 1,
                (Some(_), Some(_)) => quiet = 0,
                _ => return (started.elapsed(), false),
            }
            before = now;
            if quiet >= 3 {
                return (
                    started.elapsed().saturating_sub(Duration::from_secs(3)),
                    true,
                );
            }
        }
        (started.elapsed(), false)
    }

    /// The server's memory as /proc/PID/status reports it.
    pub fn memory(&self) -> Option<Memory> {
        Memory::of(self.pid)
    }

    /// Sends SIGTERM (graceful shutdown) and waits for the exit; kills it if it lingers.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// User + system CPU time from a `/proc/…/stat` file (Linux; `None` elsewhere).
fn cpu_time(stat_path: &str) -> Option<Duration> {
    cpu_time_in(&std::fs::read_to_string(stat_path).ok()?)
}

/// The command name in a `/proc/…/stat` text: between the first `(` and the last `)` (it may hold spaces).
fn command_in(stat: &str) -> Option<&str> {
    stat.get(stat.find('(')? + 1..stat.rfind(')')?)
}

/// User + system CPU time from a `/proc/…/stat` text.
fn cpu_time_in(stat: &str) -> Option<Duration> {
    // After the command name (in parentheses, may hold spaces) come state (field 3) …; utime is field 14 and
    // stime field 15, in clock ticks (USER_HZ, 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// This process's user + system CPU time so far.
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time("/proc/self/stat")
}

/// The CPU time so far of every process on this machine whose command is `command` (for `postgres`: the
/// postmaster, its background processes and one backend per connection); `None` when there is none. A
/// backend that ends between two readings takes its time with it, so a difference is a lower bound.
pub fn cpu_time_of_command(command: &str) -> Option<Duration> {
    let mut total = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        // Processes only (not `self` or `thread-self`, which would count one twice); one may end before it
        // is read.
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if command_in(&stat) == Some(command)
            && let Some(time) = cpu_time_in(&stat)
        {
            *total.get_or_insert(Duration::ZERO) += time;
        }
    }
    total
}

/// A process's memory from /proc/PID/status, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident anonymous memory: the malloc heap and arenas (SQLite's page cache included) and thread stacks.
    pub rss_anon_kib: u64,
    /// Resident file-backed pages (the binary's text, shared libraries).
    pub rss_file_kib: u64,
    pub vm_rss_kib: u64,
    /// Peak resident set.
    pub vm_hwm_kib: u64,
}

impl Memory {
    pub fn of(pid: u32) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
                .and_then(|n| n.parse().ok())
        };
        Some(Memory {
            rss_anon_kib: field("RssAnon")?,
            rss_file_kib: field("RssFile").unwrap_or(0),
            vm_rss_kib: field("VmRSS")?,
            vm_hwm_kib: field("VmHWM").unwrap_or(0),
        })
    }
}

/// `n` random bytes from the kernel.
pub fn random_bytes(n: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .context("opening /dev/urandom")?
        .read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_cpu_and_memory() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        assert!(own_cpu_time().is_some());
        let memory = Memory::of(std::process::id()).expect("memory");
        assert!(memory.vm_rss_kib >= memory.rss_anon_kib);
        assert!(memory.rss_anon_kib > 0);
    }

    #[test]
    fn sums_the_cpu_of_processes_by_command() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        // Burn a little CPU so this process has some to count.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
        let command = command_in(&stat).expect("the command");
        let own = own_cpu_time().expect("own");
        let all = cpu_time_of_command(command).expect("this process is one of them");
        assert!(all >= own, "{all:?} < {own:?}");
        assert_eq!(cpu_time_of_command("no-such-command-here"), None);
    }
}
