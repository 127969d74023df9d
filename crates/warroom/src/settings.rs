//! Command-line and environment settings, the playbook file, and `config check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use warroom_domain::Playbook;

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://FILE (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "WARROOM_DATABASE_URL",
        default_value = "sqlite://warroom.db"
    )]
    pub database_url: String,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "WARROOM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Playbook YAML file; without one the compiled-in defaults are used
    /// (the same as examples/playbook.yaml).
    #[arg(long, env = "WARROOM_PLAYBOOK")]
    pub playbook: Option<PathBuf>,
    /// Alert requests per second each integration may send before getting
    /// 429 with Retry-After; 0 turns the limit off.
    #[arg(long, env = "WARROOM_INGEST_RATE_LIMIT", default_value_t = warroom_web::state::DEFAULT_RATE)]
    pub ingest_rate_limit: u32,
    /// Requests an integration may send at once above its rate.
    #[arg(long, env = "WARROOM_INGEST_BURST", default_value_t = warroom_web::state::DEFAULT_BURST)]
    pub ingest_burst: u32,
    /// The URL people reach this Warroom at, for links in pages (acknowledge
    /// links); defaults to http://LISTEN.
    #[arg(long, env = "WARROOM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Webhook that receives pages for e-mail, SMS and voice contact methods
    /// until those channels are configured (the page JSON plus `deliver_to`).
    #[arg(long, env = "WARROOM_PAGE_RELAY_URL")]
    pub page_relay_url: Option<String>,
    /// File holding the server secret, from which the acknowledge-link key
    /// is derived (one secret per line; the first signs, the others are
    /// previous ones still accepted). Without it, SQLite uses
    /// `<database>.secret`, created on first start; PostgreSQL requires it,
    /// the same file on every node: `warroom secret generate > FILE`.
    #[arg(long, env = "WARROOM_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// Email of the admin account created on first start, when there is no
    /// account yet; its generated password is printed once.
    #[arg(long, env = "WARROOM_ADMIN_EMAIL", default_value = "admin@localhost")]
    pub admin_email: String,
    /// Run the engine's clock this far ahead of the system time, e.g. "6m"
    /// (drills and tests of timers; never in production).
    #[arg(long, env = "WARROOM_CLOCK_OFFSET", hide = true, value_parser = crate::settings::offset)]
    pub clock_offset: Option<jiff::SignedDuration>,
}

/// A clock offset such as `6m` or `-1h`.
pub fn offset(text: &str) -> Result<jiff::SignedDuration, String> {
    let (negative, rest) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim()),
    };
    let span: jiff::Span = rest
        .parse()
        .map_err(|_| "expected a duration such as 6m".to_owned())?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| e.to_string())?;
    Ok(if negative { -d } else { d })
}

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DatabaseArgs {
    pub fn backend(&self) -> anyhow::Result<Backend> {
        let url = self.database_url.trim();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://USER@HOST/DB"
            )
        }
    }
}

/// Reads and validates a playbook file.
pub fn load_playbook(path: &Path) -> anyhow::Result<Playbook> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read playbook {}", path.display()))?;
    Ok(Playbook::parse(&path.display().to_string(), &text)?)
}

pub fn config_check(path: &Path) -> ExitCode {
    match load_playbook(path) {
        Ok(pb) => {
            println!(
                "{}: ok ({} severities, {} categories, {} roles, {} services, {} checklist phases; IDs like {})",
                path.display(),
                pb.severities.len(),
                pb.categories.len(),
                pb.roles.len(),
                pb.services.len(),
                pb.phases.len(),
                pb.incident_id_format.render(jiff::civil::date(2026, 1, 1), 1),
            );
            let oncall = &pb.oncall;
            if !oncall.users.is_empty() || !oncall.escalation_policies.is_empty() {
                println!(
                    "on call: {} users, {} teams, {} vendors, {} schedules, {} escalation policies (default: {})",
                    oncall.users.len(),
                    oncall.teams.len(),
                    oncall.vendors.len(),
                    oncall.schedules.len(),
                    oncall.escalation_policies.len(),
                    oncall.default_escalation_policy.as_deref().unwrap_or("none"),
                );
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
