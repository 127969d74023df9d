//! On-call storage on SQLite: the shared SQL of `oncall_sql`. The single
//! writer connection already serializes claims, so no row locks are needed.

use jiff::Timestamp;

use super::{SqliteStore, SqliteTx};
use crate::row::{ms, ts};
use crate::StoreError;

crate::oncall_sql::impl_oncall!(SqliteStore, SqliteTx, "");

crate::comms::impl_comms!(SqliteStore, SqliteTx);

crate::accounts::impl_accounts!(SqliteStore);
