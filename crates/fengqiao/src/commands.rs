//! The administrative subcommands: migrate, import, user add, backup, audit verify.

use anyhow::Context;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::serve::open_app;
use fengqiao_app::org::{DepartmentInput, RegionInput};
use fengqiao_app::users::{GrantInput, UserInput};
use fengqiao_app::{App, AppError};

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Regions from CSV or XLSX with columns code, name[, parent_code].
    Regions { file: PathBuf },
    /// Grids from a GeoJSON FeatureCollection (properties: code, name, kind, coord_system).
    Grids { file: PathBuf },
    /// The matter catalog from CSV or XLSX (header as crates/fengqiao-app/data/catalog.csv).
    Catalog { file: PathBuf },
    /// A year's State Council holiday notice (CSV date,kind,name with kind holiday|workday).
    CalendarNotice {
        #[arg(long)]
        year: i32,
        file: PathBuf,
    },
    /// Departments from CSV or XLSX with columns name, kind, region_code.
    Departments { file: PathBuf },
    /// Users from CSV or XLSX with columns username, display_name, role, scope[, can_unmask]; a username on
    /// several rows gets several roles. Generated initial passwords go to --passwords-out (mode 0600).
    Users {
        file: PathBuf,
        #[arg(long)]
        passwords_out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add {
        #[arg(long)]
        username: String,
        /// admin, security_admin, auditor, intake_clerk, dispatcher, handler, grid_worker, grid_leader, mediator, leader
        #[arg(long)]
        role: String,
        /// region:CODE (or a bare CODE), grid:CODE, dept:ID or committee:ID
        #[arg(long)]
        scope: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Allow this user to see personal data unmasked.
        #[arg(long)]
        can_unmask: bool,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain against the checkpoint outside the database; exits 1 naming the first bad record.
    Verify,
    /// Seal waiting records onto the chain now (the server does this every second).
    Seal,
}

pub fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("  {}: {} / {}", f.field, f.message_zh, f.message_en))
                .collect();
            anyhow::anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    open_app(config).await?;
    eprintln!("database is up to date");
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn table(path: &Path) -> anyhow::Result<Vec<fengqiao_app::import::TableRow>> {
    let bytes = read_file(path)?;
    fengqiao_app::import::read_table(&bytes, &path.display().to_string()).map_err(app_error)
}

pub async fn import(config: &Config, what: ImportWhat) -> anyhow::Result<()> {
    let app = open_app(config).await?;
    let result = run_import(&app, what).await;
    app.seal_audit().await.map_err(app_error)?;
    result
}

async fn run_import(app: &App, what: ImportWhat) -> anyhow::Result<()> {
    match what {
        ImportWhat::Regions { file } => {
            let rows = table(&file)?;
            let inputs: Vec<RegionInput> = rows
                .iter()
                .map(|r| RegionInput {
                    code: r.get("code").to_string(),
                    name: r.get("name").to_string(),
                    parent_code: Some(r.get("parent_code").to_string()).filter(|s| !s.is_empty()),
                })
                .collect();
            let n = app.import_regions(&inputs).await.map_err(app_error)?;
            eprintln!("imported {n} regions");
        }
        ImportWhat::Grids { file } => {
            let text =
                String::from_utf8(read_file(&file)?).context("the GeoJSON file is not UTF-8")?;
            let grids = app.grids_from_geojson(&text).map_err(app_error)?;
            let n = app.import_grids(&grids).await.map_err(app_error)?;
            eprintln!("imported {n} grids");
        }
        ImportWhat::Catalog { file } => {
            let bytes = read_file(&file)?;
            let n = app
                .import_catalog(None, &bytes, &file.display().to_string())
                .await
                .map_err(app_error)?;
            eprintln!("imported {n} categories");
        }
        ImportWhat::CalendarNotice { year, file } => {
            let text = String::from_utf8(read_file(&file)?).context("the notice is not UTF-8")?;
            let outcome = app
                .import_calendar_notice(None, year, &text)
                .await
                .map_err(app_error)?;
            eprintln!(
                "imported the {} notice ({} days, calendar version {}); recomputed {} cases' deadlines",
                outcome.year, outcome.days, outcome.version, outcome.recomputed_cases
            );
        }
        ImportWhat::Departments { file } => {
            let rows = table(&file)?;
            let mut n = 0;
            for row in &rows {
                let input = DepartmentInput {
                    name: row.get("name").to_string(),
                    kind: row.get("kind").to_string(),
                    region_code: row.get("region_code").to_string(),
                };
                app.import_department(&input)
                    .await
                    .map_err(app_error)
                    .with_context(|| format!("row {}", row.line))?;
                n += 1;
            }
            eprintln!("imported {n} departments");
        }
        ImportWhat::Users {
            file,
            passwords_out,
        } => {
            anyhow::ensure!(
                !passwords_out.exists(),
                "{} already exists",
                passwords_out.display()
            );
            let rows = table(&file)?;
            let mut users: BTreeMap<String, UserInput> = BTreeMap::new();
            for row in &rows {
                let username = row
                    .required("username")
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .to_string();
                let entry = users.entry(username.clone()).or_insert_with(|| UserInput {
                    username,
                    display_name: Some(row.get("display_name").to_string())
                        .filter(|s| !s.is_empty()),
                    password: format!("Fq-{}", fengqiao_app::personal::random_token(12)),
                    roles: Vec::new(),
                    can_unmask: matches!(row.get("can_unmask"), "true" | "1" | "yes" | "是"),
                    department_id: None,
                    grid_code: None,
                });
                entry.roles.push(GrantInput {
                    role: row.get("role").to_string(),
                    scope: row.get("scope").to_string(),
                });
            }
            let mut out = String::from("username,initial_password\n");
            for user in users.values() {
                app.add_user(user)
                    .await
                    .map_err(app_error)
                    .with_context(|| format!("user {}", user.username))?;
                out.push_str(&format!("{},{}\n", user.username, user.password));
            }
            fengqiao_app::personal::write_private(&passwords_out, &out).map_err(app_error)?;
            eprintln!(
                "imported {} users; initial passwords are in {}",
                users.len(),
                passwords_out.display()
            );
        }
    }
    Ok(())
}

pub async fn user(config: &Config, what: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        username,
        role,
        scope,
        display_name,
        can_unmask,
        password_stdin: _,
    } = what;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let app = open_app(config).await?;
    let user = app
        .add_user(&UserInput {
            username,
            display_name,
            password,
            roles: vec![GrantInput { role, scope }],
            can_unmask,
            department_id: None,
            grid_code: None,
        })
        .await
        .map_err(app_error)?;
    app.seal_audit().await.map_err(app_error)?;
    eprintln!("created user {} (id {})", user.username, user.id);
    Ok(())
}

pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !config.is_postgres(),
        "for PostgreSQL use its own tools: pg_dump (logical) or pg_basebackup (physical, with WAL archiving for point-in-time recovery)"
    );
    anyhow::ensure!(!out.exists(), "{} already exists", out.display());
    let app = open_app(config).await?;
    app.store
        .backup_to(out)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "wrote a consistent copy of the database to {}",
        out.display()
    );
    eprintln!("keep personal-data.key and audit-checkpoint.json from the data directory with it");
    Ok(())
}

pub async fn audit(config: &Config, what: AuditCommand) -> anyhow::Result<()> {
    let app = open_app(config).await?;
    match what {
        AuditCommand::Seal => {
            let n = app.seal_audit().await.map_err(app_error)?;
            eprintln!("sealed {n} records");
            Ok(())
        }
        AuditCommand::Verify => {
            let outcome = app.verify_audit().await.map_err(app_error)?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
            match &outcome.chain.first_bad {
                None => {
                    eprintln!(
                        "audit trail intact: {} sealed records, head {} ({}); {} not yet sealed",
                        outcome.chain.sealed,
                        outcome.chain.head_seq,
                        outcome.chain.head_hash,
                        outcome.unsealed
                    );
                    Ok(())
                }
                Some(bad) => {
                    eprintln!(
                        "AUDIT TRAIL BROKEN at chain position {} (record {}): {:?}",
                        bad.chain_seq,
                        bad.record_id
                            .map(|id| id.to_string())
                            .unwrap_or_else(|| "missing".into()),
                        bad.breach
                    );
                    std::process::exit(1);
                }
            }
        }
    }
}
