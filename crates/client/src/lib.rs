//! The Warroom HTTP API client and the CLI subcommands that talk to a running
//! server (`warroom incident|oncall|alert|...`); the `warroom` binary parses
//! the top-level command line and hands these subcommands to the `run_*` functions.
//!
//! Arguments are parsed here, requests are made in `http`, and answers are
//! printed by `render` (tables) or passed through as JSON (`--output json`).
//! `alerting`, with its own `alerting_render` and `alerting_wire`, does the
//! same for `warroom integration|alert|silence`. The client speaks HTTP only:
//! it links none of the server's crates, and the commands that need the time
//! take it as `now` from the binary, whose clock is the one reader of it.

mod accounts;
mod alerting;
mod alerting_render;
mod alerting_wire;
mod args;
mod commands;
mod http;
mod ingest;
mod maintenance;
mod notify;
mod oncall;
mod render;
mod wire;

pub use accounts::{run_user, UserCommand};
pub use alerting::{
    run_alert, run_integration, run_silence, AlertCommand, IntegrationCommand, SilenceCommand,
};
pub use args::{DeclareArgs, ListArgs, Output, ReassignArgs, UpdateArgs};
pub use ingest::{run_doctor, run_ingest, IngestCommand};
pub use maintenance::{run_maintenance, MaintenanceCommand};
pub use notify::{run_message, run_notify, MessageCommand, NotifyCommand};
pub use oncall::{run_oncall, OncallCommand};

/// The server the CLI talks to without `--server` or `WARROOM_SERVER`:
/// where `warroom serve` listens by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Where the Warroom server is, who we are, and how to print answers.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Warroom server URL
    #[arg(
        long,
        global = true,
        env = "WARROOM_SERVER",
        help_heading = "Global options",
        default_value = DEFAULT_SERVER,
        value_parser = args::server_url
    )]
    pub server: url::Url,
    /// API token (printed by `warroom serve` on first start, or `warroom token create`)
    #[arg(
        long,
        global = true,
        env = "WARROOM_TOKEN",
        hide_env_values = true,
        help_heading = "Global options"
    )]
    pub token: Option<String>,
    /// Output format
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "table",
        help_heading = "Global options"
    )]
    pub output: Output,
}

/// Work incidents from the command line. The variants with many options are
/// boxed so the enum stays small inside `main`'s command enum.
#[derive(Debug, clap::Subcommand)]
pub enum IncidentCommand {
    /// Declare a new incident
    #[command(
        after_help = args::DECLARE_HELP
    )]
    Declare(Box<DeclareArgs>),
    /// List incidents, newest first
    #[command(after_help = args::LIST_HELP)]
    List(Box<ListArgs>),
    /// Show an incident: fields, roles, checklist and timeline
    Show {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// List the items of every checklist phase, not only the next unfinished one
        #[arg(long)]
        checklist: bool,
    },
    /// Show an incident's timeline, oldest event first
    Timeline {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
    },
    /// Acknowledge an incident: someone is on it (stops escalation)
    Ack {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
    },
    /// Page the next step of the escalation policy now (or step --to-step)
    #[command(
        after_help = "Examples:\n  warroom incident escalate INC-2026-0001\n  warroom incident escalate INC-2026-0001 --to-step 3"
    )]
    Escalate {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// Policy step to page, counting from 1
        #[arg(long)]
        to_step: Option<u32>,
    },
    /// Hand the incident to people, a schedule, a team or another policy, paging them now
    #[command(
        group = clap::ArgGroup::new("to").required(true).multiple(true).args(["user", "schedule", "team", "policy"]),
        after_help = "Examples:\n  warroom incident reassign INC-2026-0001 --user bob\n  warroom incident reassign INC-2026-0001 --policy database"
    )]
    Reassign(Box<ReassignArgs>),
    /// The pages and messages sent for an incident, with their delivery state
    Pages {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
    },
    /// Stakeholder communications: updates posted, the next one due, audiences told
    Comms {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
    },
    /// Move an incident to another status
    #[command(
        after_help = args::STATUS_HELP
    )]
    Status {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// The new status
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(args::STATUSES))]
        status: String,
        /// Shown on the timeline with the change
        #[arg(long, short)]
        message: Option<String>,
    },
    /// Raise or lower an incident's severity
    #[command(
        after_help = args::SEVERITY_HELP
    )]
    Severity {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// A severity from the playbook, e.g. SEV-0
        severity: String,
        /// Why; shown on the timeline
        #[arg(long, short)]
        reason: Option<String>,
    },
    /// Change an incident's title, summary, category, services or impact, or
    /// post a status update to its audiences (--message)
    #[command(after_help = args::UPDATE_HELP)]
    Update(Box<UpdateArgs>),
    /// Add a note to the timeline
    #[command(
        after_help = args::NOTE_HELP
    )]
    Note {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// The note; several words are joined with spaces, `-` reads standard input
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Give a role to someone, handing it off from whoever had it
    #[command(
        after_help = args::ASSIGN_HELP
    )]
    Assign {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// A role from the playbook, e.g. "Incident Commander"
        #[arg(value_parser = args::path_value)]
        role: String,
        /// Who takes it
        assignee: String,
    },
    /// Take a role away from whoever has it
    Unassign {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// The role, e.g. "Incident Commander"
        #[arg(value_parser = args::path_value)]
        role: String,
    },
    /// Tick (or with --undo untick) a checklist item
    #[command(
        after_help = args::CHECK_HELP
    )]
    Check {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// The phase id, e.g. detection
        #[arg(value_parser = args::path_value)]
        phase: String,
        /// The item's number within the phase, from 1
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        item: u64,
        /// Mark the item not done
        #[arg(long)]
        undo: bool,
    },
    /// Mark an incident resolved: the impact is over
    Resolve {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// Shown on the timeline
        #[arg(long, short)]
        message: Option<String>,
    },
    /// Close a resolved incident; closed incidents are final
    Close {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
    },
    /// Merge a duplicate into another incident: its alerts, pages and
    /// timeline go there, and it closes as a duplicate linking to it
    #[command(
        after_help = "Example:\n  warroom incident merge INC-2026-0007 --into INC-2026-0005"
    )]
    Merge {
        /// The duplicate's id, e.g. INC-2026-0007
        #[arg(value_parser = args::path_value)]
        id: String,
        /// The id of the incident that survives
        #[arg(long)]
        into: String,
    },
    /// Reopen a resolved incident
    Reopen {
        /// Incident id, e.g. INC-2026-0001
        #[arg(value_parser = args::path_value)]
        id: String,
        /// Status to reopen into [default: investigating]
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(args::OPEN_STATUSES))]
        status: Option<String>,
        /// Shown on the timeline
        #[arg(long, short)]
        message: Option<String>,
    },
}

/// Runs one `warroom incident` subcommand against the server in `args`;
/// `now` dates the "next update due" lines. Errors are single lines meant
/// for `error: {err:#}`.
pub async fn run_incident(
    args: &ClientArgs,
    cmd: IncidentCommand,
    now: fn() -> jiff::Timestamp,
) -> anyhow::Result<()> {
    commands::run(args, cmd, now).await
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// The shape `main.rs` gives `warroom incident`.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: IncidentCommand,
    }

    fn parse(line: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("incident").chain(line.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn stays_small_enough_to_embed_in_mains_command_enum() {
        // clippy's large_enum_variant fires on `main`'s `Command` beyond ~200 bytes.
        assert!(std::mem::size_of::<ClientArgs>() + std::mem::size_of::<IncidentCommand>() <= 224);
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = parse(&[
            "list",
            "--output",
            "json",
            "--server",
            "https://w.example/x/",
        ])
        .unwrap();
        assert_eq!(cli.client.output, Output::Json);
        assert_eq!(cli.client.server.as_str(), "https://w.example/x/");
        assert!(parse(&["--server", "localhost:8080", "list"]).is_err());
    }

    #[test]
    fn declare_takes_roles_and_services() {
        let cli = parse(&[
            "declare",
            "DB down",
            "-s",
            "SEV-1",
            "--service",
            "api",
            "--service",
            "db",
            "--role",
            "Incident Commander=alice",
            "--impact-started",
            "2026-11-25T13:55:00Z",
        ])
        .unwrap();
        let IncidentCommand::Declare(a) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(a.services, ["api", "db"]);
        assert_eq!(
            a.roles,
            [("Incident Commander".to_owned(), "alice".to_owned())]
        );
        assert_eq!(
            a.impact_started.unwrap().to_string(),
            "2026-11-25T13:55:00Z"
        );
        assert!(
            parse(&["declare", "DB down"]).is_err(),
            "severity is required"
        );
    }

    #[test]
    fn list_filters_split_on_commas() {
        let cli = parse(&[
            "list",
            "--status",
            "open,resolved",
            "--severity",
            "SEV-0,SEV-1",
        ])
        .unwrap();
        let IncidentCommand::List(a) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(a.status, ["open", "resolved"]);
        assert_eq!(a.severity, ["SEV-0", "SEV-1"]);
        assert!(parse(&["list", "--status", "fixed"]).is_err());
        assert!(parse(&["list", "--limit", "0"]).is_err());
    }

    #[test]
    fn update_clears_conflict_with_sets() {
        let cli = parse(&["update", "INC-1", "--customer-facing", "false"]).unwrap();
        let IncidentCommand::Update(a) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(a.customer_facing, Some(false));
        assert!(parse(&["update", "INC-1", "--category", "X", "--clear-category"]).is_err());
        assert!(parse(&[
            "update",
            "INC-1",
            "--users-affected",
            "3",
            "--clear-users-affected"
        ])
        .is_err());
    }

    #[test]
    fn reassign_needs_someone() {
        assert!(parse(&["reassign", "INC-1"]).is_err());
        assert!(parse(&["reassign", "INC-1", "--policy", "db", "--user", "bob"]).is_err());
        let cli = parse(&["reassign", "INC-1", "--user", "bob", "--team", "dba"]).unwrap();
        let IncidentCommand::Reassign(a) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(
            (a.user, a.team),
            (vec!["bob".to_owned()], vec!["dba".to_owned()])
        );
    }

    #[test]
    fn update_takes_a_message_and_an_open_status() {
        let cli = parse(&[
            "update",
            "INC-1",
            "--status",
            "identified",
            "-m",
            "Rolling back",
        ])
        .unwrap();
        let IncidentCommand::Update(a) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(a.status.as_deref(), Some("identified"));
        assert_eq!(a.message.as_deref(), Some("Rolling back"));
        assert!(parse(&["update", "INC-1", "--status", "resolved", "-m", "x"]).is_err());
        assert!(parse(&["comms", "INC-1"]).is_ok());
    }

    #[test]
    fn ids_that_would_change_the_url_are_refused() {
        assert!(parse(&["show", ".."]).is_err());
        assert!(parse(&["unassign", "INC-1", ""]).is_err());
        assert!(parse(&["check", "INC-1", "detection", "0"]).is_err());
        assert!(parse(&["show", "INC 1/2"]).is_ok());
    }
}
