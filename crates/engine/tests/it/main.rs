//! Engine services against real stores (SQLite and PostgreSQL), with a
//! manual clock: the alert path, the ingest journal, paging, notifications,
//! accounts, silences and maintenance, integration keys and API tokens.

mod accounts;
mod alerts;
mod channels;
mod comms;
mod helpers;
mod integrations;
mod journal;
mod merge;
mod paging;
mod silences;
mod three_am;
mod writer;
