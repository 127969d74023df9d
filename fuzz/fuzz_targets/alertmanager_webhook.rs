//! Fuzzes the Alertmanager webhook parser: no panic, and every accepted signal keeps the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_fuzz::{check_signal, now};
use warroom_web::ingest::formats::alertmanager;

fuzz_target!(|data: &[u8]| {
    if let Ok(signals) = alertmanager::parse_webhook(data, now()) {
        signals.iter().for_each(check_signal);
    }
});
