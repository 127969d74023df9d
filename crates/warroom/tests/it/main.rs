//! End-to-end tests of the `warroom` binary: real server processes on
//! SQLite and PostgreSQL, the CLI client against them, `kill -9` and restart,
//! and `config check`.

mod accounts;
mod alerts;
mod browser;
mod browser_alerts;
mod browser_workspace;
mod cli;
mod comms;
mod config;
mod dead_letters;
mod first_week;
mod merge;
mod monitoring;
mod oncall;
mod readme;
mod secret;
mod server;
mod shutdown;
mod ui;
