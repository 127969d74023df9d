//! `PgTx`: one write transaction on a pooled connection; each concern's
//! writes (`incidents.rs`, `alerts.rs`, `queue.rs`, `ingest.rs`) are in
//! its own file.

use sqlx::{Postgres, Transaction};

use super::PgStore;
use crate::{StoreError, TxStore, WriteTx};

pub struct PgTx {
    pub(super) tx: Transaction<'static, Postgres>,
}

impl TxStore for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx, StoreError> {
        Ok(PgTx {
            tx: self.pool.begin().await?,
        })
    }
}

impl WriteTx for PgTx {
    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
