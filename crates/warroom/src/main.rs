//! The `warroom` binary: the server, its maintenance commands and an API client.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod launch;
mod secret;
mod settings;

use settings::{DatabaseArgs, ServeArgs};
use warroom_client as client;
use warroom_client::{ClientArgs, IncidentCommand};
use warroom_engine::{Clock as _, SystemClock};

/// Warroom: receive alerts, page whoever is on call, run the incident, keep
/// people informed, learn from it. One binary; SQLite by default, PostgreSQL to scale.
#[derive(Debug, Parser)]
#[command(name = "warroom", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: migrate the database, then serve the API.
    #[command(
        after_help = "Examples:\n  warroom serve\n  warroom serve --listen 0.0.0.0:8080 --playbook playbook.yaml\n  WARROOM_DATABASE_URL=postgres://postgres@127.0.0.1/warroom warroom serve --secret-file /etc/warroom/secret"
    )]
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Validate configuration files.
    Config {
        #[command(subcommand)]
        cmd: ConfigCommand,
    },
    /// Manage API tokens directly in the database.
    Token {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(subcommand)]
        cmd: TokenCommand,
    },
    /// The server secret file, kept outside the database: acknowledge links
    /// are signed with a key derived from it.
    #[command(
        after_help = "Examples:\n  warroom secret generate > /etc/warroom/secret && chmod 600 /etc/warroom/secret\n  warroom serve --secret-file /etc/warroom/secret\n  warroom secret rotate --secret-file /etc/warroom/secret   # then restart every server"
    )]
    Secret {
        #[command(subcommand)]
        cmd: SecretCommand,
    },
    /// Work incidents through the API of a running server.
    Incident {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: IncidentCommand,
    },
    /// Manage integration keys that monitoring tools send alerts with (admin).
    Integration {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::IntegrationCommand,
    },
    /// List alerts: firing, suppressed or resolved.
    Alert {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::AlertCommand,
    },
    /// Schedule maintenance windows that mute a service's alerts.
    Maintenance {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::MaintenanceCommand,
    },
    /// On call: who is on call, shifts, overrides, the directory, warnings.
    Oncall {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::OncallCommand,
    },
    /// Outbound messages: show one, resend a failed one.
    Message {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::MessageCommand,
    },
    /// Notification channels: list them, send a test, preview a template.
    Notify {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::NotifyCommand,
    },
    /// Sign-in accounts for the web UI (admin): create, list, update, reset passwords.
    /// Not the on-call people who get paged (`warroom oncall user`).
    User {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::UserCommand,
    },
    /// Silence alerts by label matchers, list and expire silences.
    Silence {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::SilenceCommand,
    },
    /// Alert ingestion: the accepted alerts the server could not apply (admin).
    Ingest {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: client::IngestCommand,
    },
    /// Check a running server and say what to do about each problem found;
    /// exits 1 if there is one.
    #[command(
        after_help = "Example:\n  WARROOM_TOKEN=... warroom doctor --server http://127.0.0.1:8080"
    )]
    Doctor {
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Check a playbook file as `serve` would and summarise each section; on
    /// error print file:line:column: field: problem and exit 1. A channel
    /// secret that cannot be read here is a warning (an error with --strict).
    #[command(
        after_help = "Examples:\n  warroom config check examples/playbook.yaml\n  warroom config check --strict /etc/warroom/playbook.yaml   # where the server runs, with its environment"
    )]
    Check {
        /// The playbook YAML file.
        file: PathBuf,
        /// Secrets (`{env: ...}`, `{file: ...}`) that cannot be read are
        /// errors, as they are to `serve`.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (shown this once).
    #[command(after_help = "Example:\n  warroom token create --name grafana --role responder")]
    Create {
        /// A unique name; it is the actor recorded on the timeline.
        #[arg(long)]
        name: String,
        /// admin, responder (works incidents) or viewer (read only).
        #[arg(long, value_parser = ["admin", "responder", "viewer"])]
        role: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name or id; it stops working at once. The last
    /// live admin token cannot be revoked: create another admin token first.
    Revoke {
        /// The token's name, or its id from `warroom token list`.
        name_or_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum SecretCommand {
    /// Print a new random secret (256 bits, hex) for a secret file.
    Generate,
    /// Put a new secret first in the file, keeping the old ones after it, so
    /// links signed before still work; restart the servers to sign with it.
    Rotate {
        /// The secret file (for SQLite without --secret-file, `<database>.secret`).
        #[arg(long, env = "WARROOM_SECRET_FILE")]
        secret_file: PathBuf,
    },
}

/// The time for the client commands that show or default to "now".
fn now() -> jiff::Timestamp {
    SystemClock.now()
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => launch::serve(args).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate(db) => launch::migrate(&db).await.map(|()| ExitCode::SUCCESS),
        Command::Config {
            cmd: ConfigCommand::Check { file, strict },
        } => Ok(settings::config_check(&file, strict)),
        Command::Token { db, cmd } => match cmd {
            TokenCommand::Create { name, role } => launch::token_create(&db, &name, &role).await,
            TokenCommand::List => launch::token_list(&db).await,
            TokenCommand::Revoke { name_or_id } => launch::token_revoke(&db, &name_or_id).await,
        }
        .map(|()| ExitCode::SUCCESS),
        Command::Secret { cmd } => match cmd {
            SecretCommand::Generate => {
                println!("{}", warroom_engine::ServerSecrets::generate());
                Ok(ExitCode::SUCCESS)
            }
            SecretCommand::Rotate { secret_file } => {
                secret::rotate(&secret_file).map(|()| ExitCode::SUCCESS)
            }
        },
        Command::Incident { client, cmd } => client::run_incident(&client, cmd, now)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Integration { client, cmd } => client::run_integration(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Alert { client, cmd } => client::run_alert(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Maintenance { client, cmd } => client::run_maintenance(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Oncall { client, cmd } => client::run_oncall(&client, cmd, now).await,
        Command::Message { client, cmd } => client::run_message(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Notify { client, cmd } => client::run_notify(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::User { client, cmd } => client::run_user(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Silence { client, cmd } => client::run_silence(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Ingest { client, cmd } => client::run_ingest(&client, cmd)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Doctor { client } => client::run_doctor(&client).await,
    }
}
