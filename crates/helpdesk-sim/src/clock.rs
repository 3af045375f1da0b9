//! The simulator's own "now": a base clock plus an offset that tests and the admin API move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use scoreline_core::{Clock, ManualClock, SharedClock, SystemClock, Timestamp};

/// Cheap to clone; every clone moves the same time.
#[derive(Debug, Clone)]
pub struct SimClock {
    base: SharedClock,
    offset_millis: Arc<AtomicI64>,
}

impl SimClock {
    /// Time stands still at `start` until advanced: what tests want.
    pub fn fixed(start: Timestamp) -> Self {
        Self::over(Arc::new(ManualClock::new(start)))
    }

    /// Follows the wall clock (plus any advance): what the demo wants.
    pub fn system() -> Self {
        Self::over(Arc::new(SystemClock))
    }

    fn over(base: SharedClock) -> Self {
        Self { base, offset_millis: Arc::new(AtomicI64::new(0)) }
    }

    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(by, Ordering::SeqCst);
    }

    pub fn set(&self, to: Timestamp) {
        let offset = to.as_millis() - self.base.now().as_millis();
        self.offset_millis.store(offset, Ordering::SeqCst);
    }

    pub fn now_millis(&self) -> i64 {
        self.now().as_millis()
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.base.now().as_millis() + self.offset_millis.load(Ordering::SeqCst))
    }
}
