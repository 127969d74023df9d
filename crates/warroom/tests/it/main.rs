//! End-to-end tests of the `warroom` binary: real server processes on
//! SQLite and PostgreSQL, the CLI client against them, `kill -9` and restart,
//! and `config check`.

mod alerts;
mod cli;
mod comms;
mod config;
mod monitoring;
mod oncall;
mod server;
