//! Engine services against real stores (SQLite and PostgreSQL), with a
//! manual clock: the alert path, the ingest journal, paging, notifications
//! and accounts.

mod accounts;
mod alerts;
mod channels;
mod comms;
mod helpers;
mod journal;
mod paging;
mod writer;
