//! Arguments of the larger subcommands and the parsers that turn raw
//! command-line text into checked values (URLs, times, role assignments).

use jiff::Timestamp;

/// Every status, in lifecycle order.
pub(super) const STATUSES: [&str; 7] = [
    "triggered",
    "acknowledged",
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "closed",
];
/// Statuses an incident can be declared or reopened in.
pub(super) const OPEN_STATUSES: [&str; 5] = [
    "triggered",
    "acknowledged",
    "investigating",
    "identified",
    "monitoring",
];

// Examples shown after each subcommand's `--help`; lines fit in 80 columns.

pub(super) const DECLARE_HELP: &str = "\
Example:
  warroom incident declare \"Checkout returns 500s\" --severity SEV-1 \\
    --service api --service payments --customer-facing \\
    --role \"Incident Commander=alice\"";

pub(super) const LIST_HELP: &str = "\
Examples:
  warroom incident list --status open
  warroom incident list --severity SEV-0,SEV-1 --from 2026-11-01 --all
  warroom incident list --search pgbouncer --output json";

pub(super) const STATUS_HELP: &str = "\
Example:
  warroom incident status INC-2026-0001 identified -m \"Bad deploy of api 4.2\"";

pub(super) const SEVERITY_HELP: &str = "\
Example:
  warroom incident severity INC-2026-0001 SEV-0 -r \"All regions affected\"";

pub(super) const UPDATE_HELP: &str = "\
With --message, a status update is posted after any field changes: it goes on
the timeline, is sent to the audiences the severity requires, and restarts the
update cadence (`warroom incident comms ID` shows when the next one is due).

Examples:
  warroom incident update INC-2026-0001 --users-affected 5000 \\
    --service api --service db --category Database
  warroom incident update INC-2026-0001 --status identified \\
    --message \"Bad deploy of api 4.2; rolling back\"";

pub(super) const NOTE_HELP: &str = "\
Examples:
  warroom incident note INC-2026-0001 Restarted pgbouncer, errors falling
  kubectl logs api-7f9 --tail 20 | warroom incident note INC-2026-0001 -";

pub(super) const ASSIGN_HELP: &str = "\
Example:
  warroom incident assign INC-2026-0001 \"Incident Commander\" alice";

pub(super) const CHECK_HELP: &str = "\
`warroom incident show ID` lists each phase's id and item numbers.

Example:
  warroom incident check INC-2026-0001 detection 2";

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned, human-readable text
    Table,
    /// The server's JSON, pretty-printed
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DeclareArgs {
    /// What is broken, in a few words
    pub title: String,
    /// A severity from the playbook, e.g. SEV-1
    #[arg(long, short)]
    pub severity: String,
    /// Affected service (id or name from the playbook); repeat for several
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Category from the playbook, e.g. Database
    #[arg(long)]
    pub category: Option<String>,
    /// What is known so far
    #[arg(long)]
    pub summary: Option<String>,
    /// Starting status [default: triggered]
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(OPEN_STATUSES))]
    pub status: Option<String>,
    /// Customers notice the problem
    #[arg(long)]
    pub customer_facing: bool,
    /// How many users are affected
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
    pub users_affected: Option<i64>,
    /// When the impact began (RFC 3339, or a date for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub impact_started: Option<Timestamp>,
    /// When the problem was noticed [default: now]
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub detected: Option<Timestamp>,
    /// Assign a role at once, as ROLE=ASSIGNEE; repeat for several
    #[arg(long = "role", value_name = "ROLE=ASSIGNEE", value_parser = role_assignment)]
    pub roles: Vec<(String, String)>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only these statuses (comma-separated); `open` means not yet resolved
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(
            std::iter::once("open").chain(STATUSES)
        )
    )]
    pub status: Vec<String>,
    /// Only these severities (comma-separated), e.g. SEV-0,SEV-1
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Only incidents affecting this service
    #[arg(long)]
    pub service: Option<String>,
    /// Only this category
    #[arg(long)]
    pub category: Option<String>,
    /// Declared at or after (RFC 3339, or a date for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub from: Option<Timestamp>,
    /// Declared before (RFC 3339, or a date for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub until: Option<Timestamp>,
    /// Text in the id, title or summary (case-insensitive)
    #[arg(long, short = 'q', value_name = "TEXT")]
    pub search: Option<String>,
    /// Incidents per request, 1 to 500 [server default: 50]
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: Option<u32>,
    /// Fetch every page, not only the first
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReassignArgs {
    /// Incident id, e.g. INC-2026-0001
    #[arg(value_parser = path_value)]
    pub id: String,
    /// A user to page; repeat for several
    #[arg(long)]
    pub user: Vec<String>,
    /// Whoever is on call on this schedule; repeat for several
    #[arg(long)]
    pub schedule: Vec<String>,
    /// Every member of this team; repeat for several
    #[arg(long)]
    pub team: Vec<String>,
    /// Another escalation policy, from its first step (alone)
    #[arg(long, conflicts_with_all = ["user", "schedule", "team"])]
    pub policy: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Incident id, e.g. INC-2026-0001
    #[arg(value_parser = path_value)]
    pub id: String,
    /// New title
    #[arg(long)]
    pub title: Option<String>,
    /// New summary
    #[arg(long)]
    pub summary: Option<String>,
    /// New category from the playbook
    #[arg(long, conflicts_with = "clear_category")]
    pub category: Option<String>,
    /// Remove the category
    #[arg(long)]
    pub clear_category: bool,
    /// Affected service; replaces the whole list; repeat for several
    #[arg(
        long = "service",
        value_name = "SERVICE",
        conflicts_with = "clear_services"
    )]
    pub services: Vec<String>,
    /// Remove every service
    #[arg(long)]
    pub clear_services: bool,
    /// Whether customers notice the problem
    #[arg(long, value_name = "true|false")]
    pub customer_facing: Option<bool>,
    /// How many users are affected
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(i64).range(0..),
        conflicts_with = "clear_users_affected"
    )]
    pub users_affected: Option<i64>,
    /// Forget the number of affected users
    #[arg(long)]
    pub clear_users_affected: bool,
    /// When the impact began (RFC 3339, or a date for midnight UTC)
    #[arg(
        long,
        value_name = "TIME",
        value_parser = time,
        conflicts_with = "clear_impact_started"
    )]
    pub impact_started: Option<Timestamp>,
    /// Forget when the impact began
    #[arg(long)]
    pub clear_impact_started: bool,
    /// When the problem was noticed
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub detected: Option<Timestamp>,
    /// The call bridge responders join, an http(s) URL
    #[arg(long, value_name = "URL", conflicts_with = "clear_bridge")]
    pub bridge: Option<String>,
    /// Remove the call bridge
    #[arg(long)]
    pub clear_bridge: bool,
    /// The incident's chat channel, an http(s) URL
    #[arg(long, value_name = "URL", conflicts_with = "clear_chat")]
    pub chat: Option<String>,
    /// Remove the chat channel
    #[arg(long)]
    pub clear_chat: bool,
    /// Post a status update with this text to the incident's audiences
    #[arg(long, short, value_name = "TEXT")]
    pub message: Option<String>,
    /// Move to this status with the update (needs --message)
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(OPEN_STATUSES))]
    pub status: Option<String>,
}

/// The server URL: http or https, with an optional path prefix.
pub(super) fn server_url(text: &str) -> Result<url::Url, String> {
    let hint = "give a URL such as http://127.0.0.1:8080";
    let url = url::Url::parse(text.trim()).map_err(|e| format!("{e}; {hint}"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        "http" | "https" => Err(format!("no host; {hint}")),
        other => Err(format!("`{other}` is not http or https; {hint}")),
    }
}

/// An incident id, role or phase: it becomes one URL path segment, so it
/// must not be empty, `.` or `..`.
pub(super) fn path_value(text: &str) -> Result<String, String> {
    if super::http::invalid_segment(text) {
        Err("must not be empty, `.` or `..`".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

/// RFC 3339 (`2026-11-25T14:03:00Z`, `2026-11-25T15:03:00+01:00`) or a
/// plain date, meaning midnight UTC.
pub(super) fn time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            "expected an RFC 3339 time such as 2026-11-25T14:03:00Z, or a date such as 2026-11-25"
                .to_owned()
        })
}

/// `Incident Commander=alice` as (role, assignee).
pub(super) fn role_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((role, who)) if !role.trim().is_empty() && !who.trim().is_empty() => {
            Ok((role.trim().to_owned(), who.trim().to_owned()))
        }
        _ => Err("expected ROLE=ASSIGNEE, e.g. \"Incident Commander=alice\"".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_must_be_http() {
        assert!(server_url("http://127.0.0.1:8080").is_ok());
        assert!(server_url("https://ops.example.com/warroom/").is_ok());
        let err = server_url("localhost:8080").unwrap_err();
        assert!(err.contains("`localhost` is not http or https"), "{err}");
        assert!(server_url("127.0.0.1:8080").is_err());
    }

    #[test]
    fn times_take_rfc3339_or_a_date() {
        assert_eq!(
            time("2026-11-25T15:03:00+01:00").unwrap().to_string(),
            "2026-11-25T14:03:00Z"
        );
        assert_eq!(
            time("2026-11-25").unwrap().to_string(),
            "2026-11-25T00:00:00Z"
        );
        assert!(time("yesterday").is_err());
    }

    #[test]
    fn roles_split_at_the_first_equals_sign() {
        assert_eq!(
            role_assignment("Incident Commander = alice").unwrap(),
            ("Incident Commander".to_owned(), "alice".to_owned())
        );
        assert!(role_assignment("alice").is_err());
        assert!(role_assignment("=alice").is_err());
    }

    #[test]
    fn path_values_refuse_what_urls_drop() {
        assert_eq!(path_value("INC 1/2").unwrap(), "INC 1/2");
        for bad in ["", ".", ".."] {
            assert!(path_value(bad).is_err());
        }
    }
}
