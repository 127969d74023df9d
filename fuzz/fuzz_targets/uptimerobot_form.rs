//! Fuzzes the UptimeRobot form and query string parser: no panic, and every accepted signal keeps the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_fuzz::{check_signal, now};
use warroom_web::ingest::formats::uptimerobot;

fuzz_target!(|data: &[u8]| {
    if let Ok(signal) = uptimerobot::parse_form(data, now()) {
        check_signal(&signal);
    }
});
