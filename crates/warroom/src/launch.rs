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
use crate::settings::{load_playbook, read_secret, Backend, DatabaseArgs, ServeArgs};

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
    // Everything that can refuse the start is checked before anything is
    // stored: a first start that then refused would have stored an admin
    // token and password nobody saw.
    let clock: Arc<dyn Clock> = match args.clock_offset {
        Some(offset) => Arc::new(OffsetClock(offset)),
        None => Arc::new(SystemClock),
    };
    let channels = ChannelSet::resolve(&playbook.notifications.channels, read_secret)
        .map_err(|e| anyhow::anyhow!("notifications.channels: {e}"))?
        .with_relay(args.page_relay_url.clone())
        .with_severities(playbook.severities.iter().map(|s| s.name.clone()))
        .with_clock(Arc::clone(&clock));
    warroom_engine::accounts::parse_email(&args.admin_email)
        .map_err(|e| anyhow::anyhow!("--admin-email {:?}: {e}", args.admin_email))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let start = Start {
        playbook,
        clock,
        channels,
        listener,
    };
    let explicit = args.secret_file.as_deref();
    match args.db.backend()? {
        Backend::Sqlite => {
            let store = SqliteStore::connect(&args.db.database_url).await?;
            let secrets = secret::for_sqlite(explicit, store.path())?;
            run_server(store, secrets, start, &args).await
        }
        Backend::Postgres => {
            // Before connecting: a missing secret is the likelier mistake.
            let secrets = secret::for_postgres(explicit)?;
            let store = PgStore::connect(&args.db.database_url).await?;
            run_server(store, secrets, start, &args).await
        }
    }
}

/// What `serve` prepared before opening the database.
struct Start {
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
    channels: ChannelSet,
    listener: tokio::net::TcpListener,
}

async fn run_server<S: Store>(
    store: S,
    secrets: ServerSecrets,
    start: Start,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    let Start {
        playbook,
        clock,
        channels,
        listener,
    } = start;
    store.migrate().await.context("migrating the database")?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
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
    if let Err(err) = first_start(&app, args, &public_url).await {
        // Stop the alert writer before the runtime goes, so the error is
        // the last thing printed.
        app.shutdown(args.shutdown_grace).await;
        return Err(err);
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

/// Stores the playbook's on-call section, then, on a database with no
/// token or account yet, creates the first admin token and account and
/// prints them once, with how to point the CLI at this server.
async fn first_start<S: Store, C: warroom_engine::delivery::Channels>(
    app: &App<S, C>,
    args: &ServeArgs,
    public_url: &str,
) -> anyhow::Result<()> {
    app.oncall
        .sync_playbook()
        .await
        .context("storing the playbook's on-call section")?;
    let now = app.clock.now();
    if let Some(issued) = Tokens::bootstrap_admin(&app.store, now).await? {
        let server = public_url.trim_end_matches('/');
        // The CLI's default server; anywhere else it must be told.
        let export_server = if server == warroom_client::DEFAULT_SERVER {
            String::new()
        } else {
            format!("\n  export WARROOM_SERVER={server}")
        };
        // Printed exactly once: the database had no token at all.
        println!(
            "\nFirst start: created an admin API token. It is shown only now; keep it safe.\n\n  \
             export WARROOM_TOKEN={}{export_server}\n\n  \
             curl -H \"Authorization: Bearer $WARROOM_TOKEN\" {server}/api/v1/incidents\n  \
             warroom incident list\n\nMake more with `warroom token create --name NAME --role responder`.\n",
            issued.secret,
        );
    }
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
    Ok(())
}

pub async fn token_create(db: &DatabaseArgs, name: &str, role: &str) -> anyhow::Result<()> {
    let role = AccessRole::parse(role).context("role must be admin, responder or viewer")?;
    require_existing(db)?;
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
    require_existing(db)?;
    let tokens = with_store!(db, |store| {
        store.migrate().await?;
        store.list_tokens().await?
    });
    println!(
        "{:<6} {:<24} {:<10} {:<22} REVOKED",
        "ID", "NAME", "ROLE", "CREATED"
    );
    for t in tokens {
        println!(
            "{:<6} {:<24} {:<10} {:<22} {}",
            t.id,
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

/// Revokes the token named `name_or_id`, else the one with that id.
pub async fn token_revoke(db: &DatabaseArgs, name_or_id: &str) -> anyhow::Result<()> {
    require_existing(db)?;
    let revoked = with_store!(db, |store| {
        store.migrate().await?;
        let tokens = store.list_tokens().await?;
        let name = tokens
            .iter()
            .find(|t| t.name == name_or_id)
            .or_else(|| tokens.iter().find(|t| t.id.to_string() == name_or_id))
            .map_or(name_or_id, |t| t.name.as_str());
        Tokens::revoke(&store, name, SystemClock.now()).await?
    });
    println!("revoked token {:?} (id {})", revoked.name, revoked.id);
    Ok(())
}

/// The commands that open the database themselves (`token ...`) work on
/// a server's database: a mistyped path must not become a new, empty one.
fn require_existing(db: &DatabaseArgs) -> anyhow::Result<()> {
    if db.backend()? != Backend::Sqlite {
        return Ok(());
    }
    match sqlite_file(&db.database_url) {
        Some(path) if !path.exists() => anyhow::bail!(
            "no database at {}: run this in the directory `warroom serve` runs in, or name its \
             database with --database-url (or WARROOM_DATABASE_URL), e.g. --database-url sqlite:///var/lib/warroom/warroom.db \
             (`warroom migrate` makes a new one)",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// The file a `sqlite:` URL names (`sqlite://warroom.db`,
/// `sqlite:///var/lib/warroom.db`, `sqlite:warroom.db?mode=rwc`); `None`
/// for an in-memory database.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.trim();
    let rest = rest
        .strip_prefix("sqlite://")
        .or_else(|| rest.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.into())
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
