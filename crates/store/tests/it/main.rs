//! The storage conformance suite: every check runs on SQLite, and on
//! PostgreSQL whenever it is reachable (always under `CI`).

mod accounts;
mod alerts;
mod helpers;
mod incidents;
mod oncall;
mod tokens;
