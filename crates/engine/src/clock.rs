//! The one place that reads the system time; tests use `ManualClock`.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// Source of "now". Times are truncated to milliseconds, which is what the
/// stores keep, so a value read back equals the value written.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the system clock
    fn now(&self) -> Timestamp {
        truncate_ms(Timestamp::now())
    }
}

/// The system time shifted by a fixed offset: a server run "as if it were
/// later", for drills and for process-level tests of timers that must not
/// sleep (restart a server 6 minutes "later" to see an overdue step run).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(pub SignedDuration);

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        SystemClock.now() + self.0
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(truncate_ms(start))))
    }

    pub fn set(&self, to: Timestamp) {
        *self.0.lock().expect("clock lock") = truncate_ms(to);
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().expect("clock lock");
        *now = truncate_ms(*now + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

fn truncate_ms(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).expect("a valid timestamp stays valid")
}
