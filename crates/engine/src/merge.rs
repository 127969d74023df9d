//! Merging incidents: one outage, one incident. A duplicate's alerts and
//! pages move to the incident that survives, its timeline is copied there
//! (timelines are append-only), and the duplicate closes with a link to
//! it, all in one transaction.

use warroom_domain::Incident;
use warroom_store::{IncidentStore, IncidentTx, StoreError, WriteTx};

use crate::Incidents;

/// Both sides of a merge, as committed.
#[derive(Debug, Clone)]
pub struct Merged {
    pub survivor: Incident,
    pub duplicate: Incident,
}

impl<S: IncidentStore> Incidents<S> {
    /// Merges `duplicate` into `into`. Refused (changing nothing) when
    /// either is missing, when they are the same incident, or when either
    /// is closed. The survivor keeps its status and severity.
    pub async fn merge(
        &self,
        duplicate: &str,
        into: &str,
        actor: &str,
    ) -> Result<Merged, StoreError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        // A fixed lock order, so two merges of the same pair cannot deadlock.
        let (mut first, mut second) = (duplicate, into);
        if second < first {
            std::mem::swap(&mut first, &mut second);
        }
        let a = tx.lock_incident(first).await?;
        let b = if second == first {
            a.clone()
        } else {
            tx.lock_incident(second).await?
        };
        let (mut dup, mut survivor) = if a.id == duplicate { (a, b) } else { (b, a) };
        dup.check_merge_into(&survivor)?;
        let moved = tx.move_to_survivor(&dup.id, &survivor.id).await?;
        let closing = dup.close_as_duplicate(&survivor, actor, now)?;
        let absorbed = survivor.absorb(&dup, moved, actor, now);
        tx.save_incident(&dup, closing).await?;
        tx.save_incident(&survivor, absorbed).await?;
        tx.commit().await?;
        // A moved escalation's jobs and moved pages run for the survivor now.
        self.paging_wake().notify_one();
        self.delivery_wake().notify_one();
        Ok(Merged {
            survivor,
            duplicate: dup,
        })
    }
}
