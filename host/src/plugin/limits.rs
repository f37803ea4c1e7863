//! Per-call resource limits applied to every plugin invocation.

use std::time::Duration;

/// Limits for one call into a plugin. A fresh instance is created per call,
/// so these bound the whole call including instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock CPU budget, enforced with epoch interruption.
    pub cpu: Duration,
    /// Largest linear memory (and table) size a plugin may grow to.
    pub memory_bytes: u64,
    /// Largest result, counted as the bytes of every string the plugin returns.
    pub output_bytes: u64,
    /// Bytes of the plugin's stderr kept for error reports (a panic message).
    pub stderr_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu: Duration::from_secs(2),
            memory_bytes: 64 * 1024 * 1024,
            output_bytes: 8 * 1024 * 1024,
            stderr_bytes: 64 * 1024,
        }
    }
}

/// How often the epoch ticker advances; the CPU limit is enforced to this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

impl Limits {
    /// Number of epoch ticks that make up the CPU budget (at least one).
    pub fn epoch_ticks(&self) -> u64 {
        let ticks = self.cpu.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_budget_rounds_up_to_whole_ticks() {
        let limits = Limits {
            cpu: Duration::from_millis(12),
            ..Limits::default()
        };
        assert_eq!(limits.epoch_ticks(), 3);
        let tiny = Limits {
            cpu: Duration::ZERO,
            ..Limits::default()
        };
        assert_eq!(tiny.epoch_ticks(), 1);
    }
}
