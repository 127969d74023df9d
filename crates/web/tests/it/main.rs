//! HTTP API tests: the router served in-process (no port), on SQLite and on
//! PostgreSQL, through one `Api` helper.

mod accounts;
mod alerting;
mod comms;
mod connections;
mod edge_text;
mod helpers;
mod incidents;
mod logging;
mod merge;
mod oncall;
mod openapi;
mod paging;
mod security;
mod senders;
mod sign_in;
mod status;
mod ui;
