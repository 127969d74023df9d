//! `warroom user ...`: sign-in accounts for the web UI, through the API
//! (admin token). Not the on-call directory's people (`warroom oncall user`).

use std::io::BufRead;

use anyhow::{bail, Context};
use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::alerting::answer;
use super::alerting_render::table;
use super::http::Api;
use super::render::{clean, minute, TABLE_WIDTH};
use super::{ClientArgs, Output};

const ROLES: [&str; 3] = ["admin", "responder", "viewer"];

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; without --password-stdin a password is generated and printed once
    #[command(
        after_help = "Examples:\n  warroom user create --email alice@example.com --name \"Alice Example\" --role responder\n  warroom user create --email root@example.com --name Root --admin\n  printf '%s\\n' \"$PASSWORD\" | warroom user create --email bob@example.com --name Bob --password-stdin"
    )]
    Create(Box<CreateUserArgs>),
    /// List accounts: id, email, name, role, whether disabled
    List,
    /// Rename, change the role, disable or enable an account (disabling signs it out)
    #[command(
        after_help = "Examples:\n  warroom user update 3 --role viewer\n  warroom user update 3 --disable"
    )]
    Update(Box<UpdateUserArgs>),
    /// Set a new password (generated and printed unless --password-stdin); signs the account out everywhere
    #[command(
        name = "reset-password",
        after_help = "Example:\n  warroom user reset-password 3"
    )]
    ResetPassword {
        /// Account id (see `warroom user list`)
        id: i64,
        /// Read the new password from the first line of standard input instead of generating one
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateUserArgs {
    /// Email address, used to sign in (stored lower-cased)
    #[arg(long)]
    pub email: String,
    /// Display name
    #[arg(long)]
    pub name: String,
    /// admin (everything), responder (works incidents) or viewer (read only)
    #[arg(long, value_parser = ROLES, default_value = "responder", conflicts_with = "admin")]
    pub role: String,
    /// The same as --role admin
    #[arg(long)]
    pub admin: bool,
    /// Read the password (12 to 256 characters) from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("change").required(true).multiple(true)
    .args(["name", "role", "disable", "enable"]))]
pub struct UpdateUserArgs {
    /// Account id (see `warroom user list`)
    pub id: i64,
    /// New display name
    #[arg(long)]
    pub name: Option<String>,
    /// New role: admin, responder or viewer
    #[arg(long, value_parser = ROLES)]
    pub role: Option<String>,
    /// Stop the account signing in and end its sessions
    #[arg(long, conflicts_with = "enable")]
    pub disable: bool,
    /// Let a disabled account sign in again
    #[arg(long)]
    pub enable: bool,
}

#[derive(Debug, Serialize)]
struct CreateRequest {
    email: String,
    name: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

#[derive(Debug, Serialize)]
struct UpdateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
}

#[derive(Debug, Serialize)]
struct PasswordRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Account {
    id: i64,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    created_at: Timestamp,
    /// Only when the server generated it.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PasswordReset {
    id: i64,
    #[serde(default)]
    password: Option<String>,
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("standard input had no password on its first line");
    }
    Ok(password)
}

fn summary(a: &Account) -> String {
    let state = if a.disabled { ", disabled" } else { "" };
    format!(
        "{} {} <{}> ({}{state})",
        a.id,
        clean(&a.name),
        clean(&a.email),
        clean(&a.role)
    )
}

fn generated(password: &str) -> String {
    format!(
        "\n  Password: {}\n\nIt is shown only now. Change it after signing in.",
        clean(password)
    )
}

fn account_table(accounts: &[Account]) -> String {
    let rows: Vec<[String; 6]> = accounts
        .iter()
        .map(|a| {
            [
                a.id.to_string(),
                clean(&a.email),
                clean(&a.role),
                if a.disabled { "disabled" } else { "active" }.to_owned(),
                minute(a.created_at),
                clean(&a.name),
            ]
        })
        .collect();
    let header = ["ID", "EMAIL", "ROLE", "STATE", "CREATED", "NAME"];
    table(header, &rows, TABLE_WIDTH)
}

/// Runs one `warroom user` subcommand against the server in `args`.
pub async fn run_user(args: &ClientArgs, cmd: UserCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        UserCommand::Create(a) => {
            let password = a.password_stdin.then(password_from_stdin).transpose()?;
            let body = CreateRequest {
                email: a.email,
                name: a.name,
                role: if a.admin { "admin".into() } else { a.role },
                password,
            };
            let sent = api
                .send(Method::POST, api.url(&["accounts"])?, Some(&body))
                .await?;
            answer(json, &sent, "account", |a: Account| {
                let extra = a.password.as_deref().map(generated).unwrap_or_default();
                format!("Created account {}{extra}", summary(&a))
            })
        }
        UserCommand::List => {
            let body = api.get(api.url(&["accounts"])?).await?;
            answer(json, &body, "account list", |all: Vec<Account>| {
                if all.is_empty() {
                    "No accounts yet; `warroom user create` makes one.".to_owned()
                } else {
                    account_table(&all)
                }
            })
        }
        UserCommand::Update(a) => {
            let body = UpdateRequest {
                name: a.name,
                role: a.role,
                disabled: (a.disable || a.enable).then_some(a.disable),
            };
            let url = api.url(&["accounts", &a.id.to_string()])?;
            let sent = api.send(Method::PATCH, url, Some(&body)).await?;
            answer(json, &sent, "account", |a: Account| {
                format!("Updated account {}", summary(&a))
            })
        }
        UserCommand::ResetPassword { id, password_stdin } => {
            let body = PasswordRequest {
                password: password_stdin.then(password_from_stdin).transpose()?,
            };
            let url = api.url(&["accounts", &id.to_string(), "password"])?;
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "password reset", |r: PasswordReset| {
                let extra = r.password.as_deref().map(generated).unwrap_or_default();
                format!(
                    "Set a new password for account {}; its sessions ended.{extra}",
                    r.id
                )
            })
        }
    }
}
