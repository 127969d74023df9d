//! Start-up: pick the backend from the database URL and run the requested
//! command monomorphized over it (`with_store::<SqliteStore>` / `<PgStore>`).

use std::sync::Arc;

use anyhow::Context;
use warroom_domain::{AccessRole, Playbook};
use warroom_engine::delivery::ChannelSet;
use warroom_engine::paging::AckLinks;
use warroom_engine::{App, AppOptions, Clock, OffsetClock, ServerSecrets, SystemClock, Tokens};
use warroom_store::{PgStore, SqliteStore, Store, TokenStore};
use warroom_web::ingest::limit::IngestLimiter;
use warroom_web::AppState;

use crate::secret;
use crate::settings::{load_playbook, Backend, DatabaseArgs, ServeArgs};

/// Opens the store the URL names and hands it to `f`, which is generic over
/// the backend. The arms differ only in the concrete type.
macro_rules! with_store {
    ($db:expr, |$store:ident| $body:expr) => {
        match $db.backend()? {
            Backend::Sqlite => {
                let $store = SqliteStore::connect(&$db.database_url).await?;
                $body
            }
            Backend::Postgres => {
                let $store = PgStore::connect(&$db.database_url).await?;
                $body
            }
        }
    };
}

pub async fn migrate(db: &DatabaseArgs) -> anyhow::Result<()> {
    with_store!(db, |store| {
        store.migrate().await?;
    });
    println!("migrations applied to {}", redact(&db.database_url));
    Ok(())
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let playbook = match &args.playbook {
        Some(path) => load_playbook(path)?,
        None => Playbook::builtin(),
    };
    let playbook = Arc::new(playbook);
    let explicit = args.secret_file.as_deref();
    match args.db.backend()? {
        Backend::Sqlite => {
            let store = SqliteStore::connect(&args.db.database_url).await?;
            let secrets = secret::for_sqlite(explicit, store.path())?;
            run_server(store, playbook, secrets, &args).await
        }
        Backend::Postgres => {
            // Before connecting: a missing secret is the likelier mistake.
            let secrets = secret::for_postgres(explicit)?;
            let store = PgStore::connect(&args.db.database_url).await?;
            run_server(store, playbook, secrets, &args).await
        }
    }
}

async fn run_server<S: Store>(
    store: S,
    playbook: Arc<Playbook>,
    secrets: ServerSecrets,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    store.migrate().await.context("migrating the database")?;
    let clock: Arc<dyn Clock> = match args.clock_offset {
        Some(offset) => Arc::new(OffsetClock(offset)),
        None => Arc::new(SystemClock),
    };
    if let Some(issued) = Tokens::bootstrap_admin(&store, clock.now()).await? {
        // Printed exactly once: the database had no token at all.
        println!(
            "\nFirst start: created an admin API token. It is shown only now; keep it safe.\n\n  \
             export WARROOM_TOKEN={}\n\n  \
             curl -H \"Authorization: Bearer $WARROOM_TOKEN\" http://{}/api/v1/incidents\n  \
             warroom incident list\n\nMake more with `warroom token create --name NAME --role responder`.\n",
            issued.secret, args.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let channels = ChannelSet::resolve(&playbook.notifications.channels, read_secret)
        .map_err(|e| anyhow::anyhow!("notifications.channels: {e}"))?
        .with_relay(args.page_relay_url.clone())
        .with_severities(playbook.severities.iter().map(|s| s.name.clone()))
        .with_clock(Arc::clone(&clock));
    let options = AppOptions {
        public_url: Some(public_url.clone()),
        // Every node signs and checks acknowledge links with keys derived
        // from the secret file they share; the key once stored in
        // `server_secrets` is no longer read, so a copy of the database
        // cannot forge links.
        ack_links: Some(AckLinks::from_secrets(&secrets)),
        channels: Arc::new(channels),
    };
    let app = App::build(store, playbook, clock, options);
    app.oncall
        .sync_playbook()
        .await
        .context("storing the playbook's on-call section")?;
    if let Some((admin, password)) = app
        .accounts
        .bootstrap_admin(&args.admin_email)
        .await
        .context("--admin-email")?
    {
        // Printed exactly once: the database had no account at all.
        println!(
            "First start: created the admin account {} with password {password}; sign in at {}/ and change it.\n\n  \
             WARROOM_ADMIN_PASSWORD={password}\n",
            admin.email,
            public_url.trim_end_matches('/'),
        );
    }
    app.start_workers();
    let state = AppState::new(&app).with_ingest_limit(IngestLimiter::new(
        args.ingest_rate_limit,
        args.ingest_burst,
    ));
    println!(
        "warroom listening on http://{addr} (database {})",
        redact(&args.db.database_url)
    );
    tracing::info!(%addr, "listening");
    let router = warroom_web::router(state);
    // The whole stop fits in `--shutdown-grace`: most of it for requests
    // in flight, the rest for the workers' last round and the alert
    // writer's last apply.
    let grace = args.shutdown_grace;
    let mut serve_config = args.serve_config();
    serve_config.shutdown_grace = grace.mul_f64(0.7);
    let supervisor = app.supervisor.clone();
    let stop = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            () = supervisor.failed() => {}
        }
        // Open live streams and the workers stop with the server.
        supervisor.request_shutdown();
    };
    warroom_web::serve_with(listener, router, serve_config, stop).await?;
    let late = app.shutdown(grace.mul_f64(0.3)).await;
    if !late.is_empty() {
        tracing::warn!(tasks = ?late, "stopped without waiting for these tasks");
    }
    if app.supervisor.has_failed() {
        anyhow::bail!("a background task the server cannot run without died (see the log above); restart the server");
    }
    tracing::info!("stopped");
    Ok(())
}

pub async fn token_create(db: &DatabaseArgs, name: &str, role: &str) -> anyhow::Result<()> {
    let role = AccessRole::parse(role).context("role must be admin, responder or viewer")?;
    let issued = with_store!(db, |store| {
        store.migrate().await?;
        Tokens::create(&store, name, role, SystemClock.now()).await?
    });
    println!("{}", issued.secret);
    eprintln!(
        "created {} token {:?}; the secret above is shown only now",
        issued.token.role, issued.token.name
    );
    Ok(())
}

pub async fn token_list(db: &DatabaseArgs) -> anyhow::Result<()> {
    let tokens = with_store!(db, |store| {
        store.migrate().await?;
        store.list_tokens().await?
    });
    println!("{:<24} {:<10} {:<22} REVOKED", "NAME", "ROLE", "CREATED");
    for t in tokens {
        println!(
            "{:<24} {:<10} {:<22} {}",
            t.name,
            t.role.as_str(),
            t.created_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            t.revoked_at
                .map(|r| r.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(())
}

pub async fn token_revoke(db: &DatabaseArgs, name: &str) -> anyhow::Result<()> {
    with_store!(db, |store| {
        store.migrate().await?;
        Tokens::revoke(&store, name, SystemClock.now()).await?;
    });
    println!("revoked token {name:?}");
    Ok(())
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

async fn shutdown_signal() {
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
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Reads a channel secret from its environment variable or file, trimmed.
fn read_secret(secret: &warroom_domain::notify::SecretRef) -> Result<String, String> {
    let value = match (&secret.env, &secret.file) {
        (Some(var), None) => {
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
        }
        (None, Some(path)) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
        }
        _ => return Err("name exactly one of env or file".to_owned()),
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err("the secret is empty".to_owned());
    }
    Ok(value)
}
