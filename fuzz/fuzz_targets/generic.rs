//! Fuzzes the generic JSON webhook parser with a fixed mapping that uses
//! every part (pointers and templates): no panic, and every accepted signal
//! keeps the limits.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warroom_fuzz::{check_signal, now};
use warroom_web::ingest::formats::generic::{self, GenericMapping};

/// Uptime Kuma's payload, as the unit tests map it.
fn mapping() -> &'static GenericMapping {
    static MAPPING: OnceLock<GenericMapping> = OnceLock::new();
    MAPPING.get_or_init(|| {
        let mapping = GenericMapping {
            severity: Some("/monitor/severity".into()),
            status: Some("/heartbeat/status".into()),
            resolved_values: vec!["1".into(), "up".into()],
            source: Some("uptime-kuma/{/monitor/name}".into()),
            labels: Some("/monitor/tags".into()),
            details: Some("/heartbeat".into()),
            url: Some("/monitor/url".into()),
            ..GenericMapping::new("/monitor/id", "{/monitor/name} is {/heartbeat/msg}")
        };
        mapping.validate().expect("the fuzz mapping is valid");
        mapping
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(signals) = generic::parse(data, mapping(), now()) {
        signals.iter().for_each(check_signal);
    }
});
