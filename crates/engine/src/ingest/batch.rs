//! Applying many requests in one transaction, as the writer does, and one
//! request in a transaction of its own (`ingest_once`).

use jiff::Timestamp;
use warroom_store::{StoreError, TxStore, WriteTx};

use super::{apply, IngestRequest, IngestRules, SignalResult, Touched};

/// Applies requests inside `tx`, each at its own time, without flushing or
/// committing: what changed waits in `touched`. Returns each request's
/// results and whether any incident was opened.
pub(super) async fn apply_batch<'r, T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    requests: impl Iterator<Item = (Timestamp, &'r IngestRequest)> + Clone,
) -> Result<(Vec<Vec<SignalResult>>, bool), StoreError> {
    touched.prebump(tx, requests.clone()).await?;
    let mut all = Vec::new();
    for (now, request) in requests {
        all.push(apply(tx, rules, now, request, touched).await?);
    }
    Ok((all, touched.created > 0))
}

/// Applies one request in its own transaction at `now`: the synchronous path
/// tests drive with a manual clock.
pub async fn ingest_once<S: TxStore>(
    store: &S,
    rules: &IngestRules,
    now: Timestamp,
    request: &IngestRequest,
) -> Result<Vec<SignalResult>, StoreError> {
    let mut tx = store.begin().await?;
    let mut touched = Touched::default();
    touched
        .prebump(&mut tx, std::iter::once((now, request)))
        .await?;
    let results = apply(&mut tx, rules, now, request, &mut touched).await?;
    touched.flush(&mut tx).await?;
    tx.commit().await?;
    Ok(results)
}
