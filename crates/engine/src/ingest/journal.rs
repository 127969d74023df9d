//! The ingest journal's entries: alert requests the writer accepted together,
//! stored as one entry (`IngestJournal::append`) until they are applied.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use warroom_store::StoreError;

use super::IngestRequest;

/// One journal row: the requests of one accepted batch and when they came.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    /// The `now` they are applied at, whenever that happens: an alert's
    /// first-seen time and its timeline event say when it arrived, not
    /// when the writer got round to it.
    pub accepted_at: Timestamp,
    pub requests: Vec<IngestRequest>,
}

impl Entry {
    /// How many alerts the entry carries.
    pub fn signals(&self) -> usize {
        self.requests.iter().map(|r| r.signals.len()).sum()
    }

    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        serde_json::to_vec(self)
            .map_err(|e| StoreError::Database(format!("encoding a journal entry: {e}")))
    }

    pub fn decode(seq: i64, body: &[u8]) -> Result<Entry, StoreError> {
        serde_json::from_slice(body)
            .map_err(|e| StoreError::Corrupt(format!("ingest journal entry {seq}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use warroom_domain::alert::{AlertAction, AlertLink, AlertSignal};
    use warroom_domain::alerting::{MatchOp, Matcher};

    use super::*;
    use crate::ingest::{IngestSource, Route};

    #[test]
    fn an_entry_reads_back_as_it_was_written() {
        let signal = AlertSignal {
            action: AlertAction::Trigger,
            dedup_key: Some("db-down".into()),
            summary: "Database down ✗".into(),
            severity: Some("critical".into()),
            source: "prom-1".into(),
            labels: BTreeMap::from([("alertname".into(), "DbDown".into())]),
            details: serde_json::json!({"n": 1.5, "nested": {"a": [1, null]}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            links: vec![AlertLink {
                href: "http://runbook".into(),
                text: "runbook".into(),
            }],
            starts_at: Some("2026-11-26T10:00:00Z".parse().unwrap()),
            ends_at: None,
            generator_url: Some("http://prom/graph".into()),
            group_key: Some("{}:{alertname=\"DbDown\"}".into()),
            origin: "prometheus".into(),
        };
        let entry = Entry {
            accepted_at: "2026-11-26T10:00:01.123456789Z".parse().unwrap(),
            requests: vec![IngestRequest {
                source: IngestSource {
                    integration_id: Some("int_1".into()),
                    integration_name: "prometheus".into(),
                    service: "api".into(),
                    severity_overrides: BTreeMap::from([("p1".into(), "sev1".into())]),
                    routes: vec![Route {
                        matchers: vec![Matcher::new("team", MatchOp::Re, "db|storage").unwrap()],
                        service: "database".into(),
                    }],
                    actor: None,
                },
                signals: vec![signal.clone(), signal],
            }],
        };
        let back = Entry::decode(7, &entry.encode().unwrap()).unwrap();
        assert_eq!(back.accepted_at, entry.accepted_at);
        assert_eq!(back.signals(), 2);
        assert_eq!(back.requests[0].signals, entry.requests[0].signals);
        let (source, read) = (&entry.requests[0].source, &back.requests[0].source);
        assert_eq!(read.integration_id, source.integration_id);
        assert_eq!(read.service, source.service);
        assert_eq!(read.severity_overrides, source.severity_overrides);
        assert_eq!(read.routes[0].matchers, source.routes[0].matchers);
        assert_eq!(read.routes[0].service, "database");
    }

    #[test]
    fn a_damaged_entry_is_reported_as_corrupt_with_its_seq() {
        let err = Entry::decode(42, b"{\"accepted_at\":").unwrap_err();
        assert!(
            matches!(err, StoreError::Corrupt(ref m) if m.contains("entry 42")),
            "{err}"
        );
    }
}
