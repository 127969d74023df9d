//! Fuzzes the PagerDuty Events API v2 parser: no panic, and every accepted signal keeps the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_fuzz::{check_signal, now};
use warroom_web::ingest::formats::pagerduty;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = pagerduty::parse(data, now()) {
        assert!(!event.routing_key.trim().is_empty(), "an empty routing_key");
        warroom_fuzz::assert_len(
            "routing_key",
            &event.routing_key,
            pagerduty::ROUTING_KEY_MAX,
        );
        check_signal(&event.signal);
    }
});
