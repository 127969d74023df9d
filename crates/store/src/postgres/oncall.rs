//! On-call storage on PostgreSQL: the shared SQL of `oncall_sql`, with
//! claims that skip rows another node is claiming (`FOR UPDATE SKIP LOCKED`).

use jiff::Timestamp;

use super::{PgStore, PgTx};
use crate::row::{ms, ts};
use crate::StoreError;

crate::oncall_sql::impl_oncall!(PgStore, PgTx, " FOR UPDATE SKIP LOCKED");

crate::comms::impl_comms!(PgStore, PgTx);

// Two nodes starting at once on an empty database must not both create an admin.
crate::accounts::impl_accounts!(PgStore, "SELECT pg_advisory_xact_lock(6287397068257316098)");
