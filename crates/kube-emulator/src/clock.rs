//! Time for timestamps: the system clock, or a fixed clock for deterministic tests.

use std::sync::Mutex;

use jiff::Timestamp;

/// A settable clock.
#[derive(Debug, Default)]
pub struct Clock {
    fixed: Mutex<Option<Timestamp>>,
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        match *self.fixed.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(t) => t,
            None => Timestamp::now(),
        }
    }

    /// Freezes the clock at `t` (`None` returns to the system clock).
    pub fn set(&self, t: Option<Timestamp>) {
        *self.fixed.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// RFC 3339 with second precision, as Kubernetes writes `metav1.Time`.
    pub fn rfc3339(&self) -> String {
        format_time(self.now())
    }
}

/// `2026-01-01T00:00:00Z`.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
