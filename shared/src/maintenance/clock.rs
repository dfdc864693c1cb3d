//! The time maintenance decides ages by. Injectable, so a test can look at a table "two hours
//! later" instead of sleeping, and so every action of one run uses the same notion of now.

use std::fmt::Debug;

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + Debug {
    /// Now, in ms since the epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// The system clock shifted by a fixed amount (tests: "later" without waiting).
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    /// Added to the system time.
    pub offset_ms: i64,
}

impl Clock for ShiftedClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_runs_ahead_by_its_offset() {
        let ahead = ShiftedClock {
            offset_ms: 7_200_000,
        }
        .now_ms()
            - SystemClock.now_ms();
        assert!((7_199_000..=7_200_000).contains(&ahead), "{ahead}");
    }
}
