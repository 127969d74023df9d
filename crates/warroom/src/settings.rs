//! Command-line and environment settings, the playbook file, and `config check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use warroom_domain::notify::SecretRef;
use warroom_domain::Playbook;
use warroom_engine::delivery::ChannelSet;

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
    /// Most client connections open at once. Past it, a new connection is
    /// answered 503 and closed at once, so a flood of idle or slow clients
    /// cannot use up the file descriptors. Defaults to half the open-file
    /// limit (`ulimit -n`), at most 4096.
    #[arg(long, env = "WARROOM_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Time a client has to send a request's headers, e.g. "10s"; also how
    /// long a kept-alive connection may wait for its next request. The
    /// connection is closed when it passes.
    #[arg(long, env = "WARROOM_HEADER_TIMEOUT", default_value = "10s", value_parser = crate::settings::timeout)]
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once the headers are in,
    /// e.g. "20s"; a request whose body is still arriving then is answered
    /// 408 and its connection closed. Less than 30s, the limit on a whole
    /// request.
    #[arg(long, env = "WARROOM_BODY_TIMEOUT", default_value = "20s", value_parser = crate::settings::body_timeout)]
    pub body_timeout: Duration,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish
    /// before their connections are closed, e.g. "10s".
    #[arg(long, env = "WARROOM_SHUTDOWN_GRACE", default_value = "10s", value_parser = crate::settings::timeout)]
    pub shutdown_grace: Duration,
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

/// `config check`: the playbook parses, and each channel's secrets can be
/// read here. A secret that cannot be read is a warning (the file may be
/// checked away from the server that has them), an error with `strict`;
/// anything else `serve` would refuse is an error.
pub fn config_check(path: &Path, strict: bool) -> ExitCode {
    let pb = match load_playbook(path) {
        Ok(pb) => pb,
        Err(err) => {
            eprintln!("{err:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut errors = 0;
    let mut unreadable = Vec::new();
    for (i, channel) in pb.notifications.channels.iter().enumerate() {
        let missing = std::cell::RefCell::new(Vec::new());
        let reading = |secret: &SecretRef| {
            read_secret(secret).inspect_err(|e| missing.borrow_mut().push(e.clone()))
        };
        let Err(e) = ChannelSet::resolve(std::slice::from_ref(channel), reading) else {
            continue;
        };
        let field = format!("{}: notifications.channels[{i}]", path.display());
        if missing.borrow().is_empty() {
            eprintln!("{field}: {e}; `warroom serve` refuses to start with it");
            errors += 1;
        } else {
            unreadable.push(format!("{field}: {e}"));
        }
    }
    for problem in &unreadable {
        if strict {
            eprintln!("{problem}; `warroom serve` refuses to start without it");
        } else {
            eprintln!(
                "warning: {problem}; `warroom serve` refuses to start unless it can read it \
                 (this is an error with --strict, for checking where the server runs)"
            );
        }
    }
    if strict {
        errors += unreadable.len();
    }
    if errors > 0 {
        return ExitCode::FAILURE;
    }
    println!("{}: ok", path.display());
    for line in summary(&pb) {
        println!("  {line}");
    }
    ExitCode::SUCCESS
}

/// One line per section of the playbook, saying what it holds.
fn summary(pb: &Playbook) -> Vec<String> {
    let alerting = &pb.alerting;
    let oncall = &pb.oncall;
    let notifications = &pb.notifications;
    vec![
        format!(
            "incidents: {} severities, {} categories, {} roles, {} checklist phases; IDs like {}",
            pb.severities.len(),
            pb.categories.len(),
            pb.roles.len(),
            pb.phases.len(),
            pb.incident_id_format.render(jiff::civil::date(2026, 1, 1), 1),
        ),
        format!("services: {}", pb.services.len()),
        format!(
            "alerting: {} inhibit rules, alerts resolve after {:#} without news, at most {} open alerts a service",
            alerting.inhibit_rules.len(),
            alerting.resolve_timeout,
            alerting.max_open_alerts_per_service,
        ),
        format!(
            "on call: {} users, {} teams, {} vendors, {} schedules, {} escalation policies (default: {})",
            oncall.users.len(),
            oncall.teams.len(),
            oncall.vendors.len(),
            oncall.schedules.len(),
            oncall.escalation_policies.len(),
            oncall.default_escalation_policy.as_deref().unwrap_or("none"),
        ),
        format!(
            "notifications: {} channels, {} audiences, {} own templates, {} throttles, {} attempts a message",
            notifications.channels.len(),
            notifications.audiences.len(),
            notifications.templates.overrides().len(),
            notifications.throttles.len(),
            notifications.max_attempts,
        ),
    ]
}

/// Reads a channel secret from its environment variable or file, trimmed.
pub fn read_secret(secret: &SecretRef) -> Result<String, String> {
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

impl ServeArgs {
    /// The connection limits `warroom_web::serve_with` enforces.
    pub fn serve_config(&self) -> warroom_web::ServeConfig {
        warroom_web::ServeConfig {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            max_connections: self
                .max_connections
                .map_or_else(warroom_web::serve::default_max_connections, |n| n as usize),
            shutdown_grace: self.shutdown_grace,
        }
    }
}

/// A timeout such as `10s`, `1m30s` or `500ms`; a bare number is seconds.
pub fn timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let span: jiff::Span = text
                .parse()
                .map_err(|_| "expected a duration such as 10s or 500ms".to_owned())?;
            let d = span
                .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
                .map_err(|e| e.to_string())?;
            Duration::try_from(d).map_err(|_| "must not be negative".to_owned())?
        }
    };
    if duration.is_zero() {
        return Err("must be more than 0s".to_owned());
    }
    Ok(duration)
}

/// A `timeout` under the whole-request limit, which would otherwise answer
/// a stalled body 503 before this one could answer it 408.
pub fn body_timeout(text: &str) -> Result<Duration, String> {
    let duration = timeout(text)?;
    if duration >= warroom_web::REQUEST_TIMEOUT {
        return Err(format!(
            "must be less than {}s, the limit on a whole request",
            warroom_web::REQUEST_TIMEOUT.as_secs()
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod serve_limits_tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied())).map(|c| c.serve)
    }

    #[test]
    fn the_defaults_are_the_servers() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.serve_config(), warroom_web::ServeConfig::default());
    }

    #[test]
    fn limits_are_read_and_checked() {
        let args = parse(&[
            "--max-connections=100",
            "--header-timeout=500ms",
            "--body-timeout=3",
            "--shutdown-grace=1m",
        ])
        .unwrap();
        let config = args.serve_config();
        assert_eq!(config.max_connections, 100);
        assert_eq!(config.header_timeout, Duration::from_millis(500));
        assert_eq!(config.body_timeout, Duration::from_secs(3));
        assert_eq!(config.shutdown_grace, Duration::from_secs(60));
        for bad in [
            "--max-connections=0",
            "--header-timeout=0s",
            "--header-timeout=soon",
            "--body-timeout=30s",
            "--shutdown-grace=-5s",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad} was accepted");
        }
    }
}
