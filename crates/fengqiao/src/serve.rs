//! Opening the application and serving HTTP, with the background sweeps.

use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, redact_url};
use fengqiao_app::clock::SystemClock;
use fengqiao_app::personal::PersonalDataKeys;
use fengqiao_app::{App, Settings};
use fengqiao_store::Store;

/// The demo's committed extracts (see crates/fengqiao/demo/README.md).
pub const DEMO_DIVISIONS: &str = include_str!("../demo/divisions.csv");
pub const DEMO_TOWNS: &str = include_str!("../demo/towns.csv");

/// Opens (and migrates) the store and builds the application.
pub async fn open_app(config: &Config) -> anyhow::Result<App> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let keys = match &config.data_key {
        Some(key) => PersonalDataKeys::from_base64(key)
            .map_err(|e| anyhow::anyhow!("FENGQIAO_DATA_KEY: {e}"))?,
        None if config.is_postgres() => anyhow::bail!(
            "with PostgreSQL, several servers share the database: set FENGQIAO_DATA_KEY (base64 of 32 random bytes, e.g. `head -c32 /dev/urandom | base64`)"
        ),
        None => PersonalDataKeys::load_or_generate(&config.data_dir.join("personal-data.key"))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let url = config.database_url();
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening {}", redact_url(&url)))?;
    store.migrate().await.context("migrating the database")?;
    let settings = Settings {
        checkpoint_path: Some(config.data_dir.join("audit-checkpoint.json")),
        attachment_dir: config.data_dir.join("attachments"),
        search_dir: Some(config.data_dir.join("search")),
        password_hash_slots: std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1),
        ..Settings::default()
    };
    let app = App::new(store, Arc::new(SystemClock), keys, settings)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if app.store.list_categories().await?.is_empty() {
        let n = app
            .import_catalog(
                None,
                fengqiao_app::catalog::DEFAULT_CATALOG.as_bytes(),
                "catalog.csv",
            )
            .await
            .map_err(crate::commands::app_error)?;
        tracing::info!(categories = n, "seeded the default matter catalog");
    }
    Ok(app)
}

/// Keeps the full-text index current: a full rebuild when it is empty, then every half second the cases
/// changed since (any server's changes included).
fn spawn_indexer(app: App) {
    tokio::spawn(async move {
        let empty = app.search.is_empty().unwrap_or(true);
        let mut built = None;
        if empty {
            match app.rebuild_search_index(None).await {
                Ok((cursor, n)) => {
                    tracing::info!(cases = n, "built the search index");
                    built = Some(cursor);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "building the search index failed; will keep trying")
                }
            }
        }
        // Where the index got to is kept beside it, so a restart picks up exactly the changes it missed.
        let cursor_file = app
            .settings
            .search_dir
            .as_ref()
            .map(|d| d.join("cursor.txt"));
        let read_cursor = || -> Option<fengqiao_app::search::SearchCursor> {
            let text = std::fs::read_to_string(cursor_file.as_ref()?).ok()?;
            let (at, id) = text.trim().split_once(' ')?;
            Some(fengqiao_app::search::SearchCursor::at(
                at.parse().ok()?,
                id.parse().ok()?,
            ))
        };
        let mut cursor = if empty { built } else { read_cursor() };
        if !empty && cursor.is_none() {
            // No record of how far the index got: start over.
            match app.rebuild_search_index(None).await {
                Ok((next, _)) => cursor = Some(next),
                Err(e) => tracing::warn!(error = %e, "rebuilding the search index failed"),
            }
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            match app.index_changes(cursor.clone()).await {
                Ok((next, n)) => {
                    if n > 0
                        && let Some(file) = &cursor_file
                        && let Err(e) = std::fs::write(
                            file,
                            format!("{} {}", next.after.to_rfc3339(), next.after_id),
                        )
                    {
                        tracing::warn!(error = %e, "writing the search cursor failed");
                    }
                    cursor = Some(next);
                }
                Err(e) => tracing::warn!(error = %e, "indexing changes failed; will retry"),
            }
        }
    });
}

/// Runs the background sweeps: check the reference tables' version and seal the audit trail every second, purge old sessions and login failures,
/// and on PostgreSQL reload the grid index that another server may have changed.
fn spawn_sweeps(app: App) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            // Work without a session query sees other servers' (and the CLI's) reference changes this way.
            if let Err(e) = app.store.check_reference_version().await {
                tracing::warn!(error = %e, "checking the reference tables' version failed");
            }
            if let Err(e) = app.seal_audit().await {
                tracing::warn!(error = %e, "sealing the audit trail failed; will retry");
            }
            if n.is_multiple_of(60) {
                if let Err(e) = app.sweep_deadlines().await {
                    tracing::warn!(error = %e, "the deadline sweep failed; will retry");
                }
                if app.store.backend() == fengqiao_store::Backend::Postgres
                    && let Err(e) = app.reload_calendar().await
                {
                    tracing::warn!(error = %e, "reloading the calendar failed");
                }
            }
            if n.is_multiple_of(300) {
                if let Err(e) = app
                    .store
                    .purge_idempotency_keys(app.now() - chrono::Duration::hours(48))
                    .await
                {
                    tracing::warn!(error = %e, "purging idempotency keys failed");
                }
                let now = app.now();
                if let Err(e) = app.store.purge_sessions(now).await {
                    tracing::warn!(error = %e, "purging sessions failed");
                }
                if let Err(e) = app
                    .store
                    .purge_login_failures(now - chrono::Duration::days(1))
                    .await
                {
                    tracing::warn!(error = %e, "purging login failures failed");
                }
            }
            if n.is_multiple_of(30)
                && app.store.backend() == fengqiao_store::Backend::Postgres
                && let Err(e) = app.reload_grid_index().await
            {
                tracing::warn!(error = %e, "reloading the grid index failed");
            }
        }
    });
}

/// Serves until Ctrl-C or SIGTERM; with `demo`, loads the demo into an empty database first.
pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    let app = open_app(&config).await?;
    if demo {
        if app
            .demo_loaded()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            tracing::info!("demo data already loaded");
        } else {
            let summary = app
                .load_demo(DEMO_DIVISIONS, DEMO_TOWNS)
                .await
                .map_err(crate::commands::app_error)
                .context("loading the demo")?;
            tracing::info!(
                regions = summary.regions,
                grids = summary.grids,
                departments = summary.departments,
                residents = summary.residents,
                cases = summary.cases,
                "demo data loaded"
            );
        }
        print_demo_logins(&app).await?;
    }
    spawn_sweeps(app.clone());
    spawn_indexer(app.clone());
    let state = fengqiao_api::ApiState {
        app: app.clone(),
        metrics: fengqiao_api::metrics_handle(),
        secure_cookies: config.tls_cert.is_some(),
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
    };
    let router = fengqiao_api::router_with_assets(state, Some(crate::web::serve_asset))
        .into_make_service_with_connect_info::<SocketAddr>();
    let addr: SocketAddr = config
        .listen
        .parse()
        .with_context(|| format!("--listen {}", config.listen))?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| {
                    format!(
                        "reading TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let server = tokio::spawn(
                axum_server::bind_rustls(addr, tls)
                    .handle(handle.clone())
                    .serve(router),
            );
            // Announce only once the socket is bound (clients and tests wait for this line).
            if let Some(bound) = handle.listening().await {
                tracing::info!(%bound, "listening (HTTPS)");
                eprintln!("Fengqiao 枫桥 is listening on https://{bound}");
            }
            server.await.context("the HTTPS server task")??;
        }
        _ => {
            let server = tokio::spawn(axum_server::bind(addr).handle(handle.clone()).serve(router));
            if let Some(bound) = handle.listening().await {
                tracing::info!(%bound, "listening (HTTP)");
                eprintln!("Fengqiao 枫桥 is listening on http://{bound}");
            }
            server.await.context("the HTTP server task")??;
        }
    }
    app.seal_audit().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Prints every account with its roles and scopes, read back from the database.
async fn print_demo_logins(app: &App) -> anyhow::Result<()> {
    let everything = fengqiao_store::Visibility::of(["/".to_string()]);
    let page = fengqiao_store::Page {
        offset: 0,
        limit: 200,
    };
    let users = app.store.list_users(&everything, None, page).await?;
    eprintln!();
    eprintln!(
        "Fengqiao demo — every demo account's password is {}",
        fengqiao_app::demo::DEMO_PASSWORD
    );
    eprintln!("{:<12} {:<10} roles and scopes", "username", "name");
    for user in users.items {
        let grants: Vec<String> = user
            .roles
            .iter()
            .map(|g| format!("{}@{}", g.role, g.scope))
            .collect();
        let unmask = if user.can_unmask { " (may unmask)" } else { "" };
        eprintln!(
            "{:<12} {:<10} {}{unmask}",
            user.username,
            user.display_name,
            grants.join(" ")
        );
    }
    eprintln!();
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
