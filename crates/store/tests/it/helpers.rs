//! What the conformance checks share: fixed times and declaring an incident.

use jiff::{SignedDuration, Timestamp};
use warroom_domain::{Declaration, Incident, Playbook};
use warroom_store::Store;

pub fn t0() -> Timestamp {
    // Milliseconds only: that is what the stores keep.
    Timestamp::from_millisecond(1_795_000_000_000).unwrap()
}

pub fn at(mins: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(mins)
}

pub async fn declare<S: Store>(store: &S, decl: Declaration, now: Timestamp) -> Incident {
    let pb = Playbook::builtin();
    let decl = decl.validate(&pb, now).expect("valid declaration");
    let format = pb.incident_id_format.clone();
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    store
        .declare_incident(&format.scope_key(date), move |seq| {
            let id = format.render(date, seq as u64);
            Incident::open(&pb, decl, id, seq, "alice", now)
        })
        .await
        .expect("declare")
        .0
}

pub fn decl(title: &str, severity: &str) -> Declaration {
    Declaration {
        title: title.into(),
        severity: severity.into(),
        ..Default::default()
    }
}
