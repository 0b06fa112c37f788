//! The `fengqiao` binary: serve the API, load the demo, migrate, import, add users, back up, verify the audit trail.

mod commands;
mod config;
mod serve;
mod web;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

use config::{Config, Overrides};

/// mimalloc instead of glibc's malloc, for the Rust code and, through the `override` feature (mimalloc's own
/// `malloc`, `free` and the rest, which glibc lets a program supply), for the C linked in: SQLite above all.
///
/// The request threads spent over a quarter of their time in glibc's malloc and free, much of it consolidating
/// its free lists whenever a kilobyte or more was asked for (buffers, rows); SQLite's writer spent a tenth.
/// Interleaved intake runs on two cores (whose throughput drifts widely between runs): with mimalloc, better in
/// 9 of 12 paired rounds, by +2 % to +12 % on the mean of each set of rounds; RssAnon at 1,000,000 cases fell
/// from 151 to 129 MiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fengqiao (枫桥): one window takes it in, one network moves it, one stop solves it.
#[derive(Debug, Parser)]
#[command(name = "fengqiao", version, about)]
struct Cli {
    /// A TOML configuration file (default: ./fengqiao.toml if present).
    #[arg(long, global = true, env = "FENGQIAO_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://… (default: SQLite in the data directory).
    #[arg(long, global = true)]
    database: Option<String>,
    /// The data directory (default ./fengqiao-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args, Default)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// PEM certificate chain for built-in TLS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for built-in TLS.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (migrates first).
    Serve(ServeArgs),
    /// Run the server with the demo data loaded (loaded once into an empty database).
    Demo(ServeArgs),
    /// Bring the database schema up to date.
    Migrate,
    /// Import organisation data or users.
    Import {
        #[command(subcommand)]
        what: commands::ImportWhat,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        what: commands::UserCommand,
    },
    /// Write a consistent online copy of the SQLite database (PostgreSQL: use pg_dump or pg_basebackup).
    Backup {
        /// Where to write the copy (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        what: commands::AuditCommand,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Command::Serve(args) | Command::Demo(args) => Some(args),
        _ => None,
    };
    let overrides = Overrides {
        listen: serve_args.and_then(|a| a.listen.clone()),
        database: cli.database.clone(),
        data_dir: cli.data_dir.clone(),
        tls_cert: serve_args.and_then(|a| a.tls_cert.clone()),
        tls_key: serve_args.and_then(|a| a.tls_key.clone()),
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(_) => serve::serve(config, false).await,
            Command::Demo(_) => serve::serve(config, true).await,
            Command::Migrate => commands::migrate(&config).await,
            Command::Import { what } => commands::import(&config, what).await,
            Command::User { what } => commands::user(&config, what).await,
            Command::Backup { out } => commands::backup(&config, &out).await,
            Command::Audit { what } => commands::audit(&config, what).await,
        }
    })
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FENGQIAO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
