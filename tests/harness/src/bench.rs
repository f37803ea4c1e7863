//! Timing helpers the benchmarks share: repeated samples and their percentiles.

use std::time::Duration;

/// Runs `f` `runs` times and returns its durations, sorted.
pub fn sample(runs: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    assert!(runs > 0, "a sample needs at least one run");
    let mut samples: Vec<Duration> = (0..runs).map(|_| f()).collect();
    samples.sort();
    samples
}

/// The `percentile`th of sorted samples (50 = median).
pub fn percentile(sorted: &[Duration], percentile: usize) -> Duration {
    sorted[(sorted.len() - 1) * percentile.min(100) / 100]
}

/// Median of `runs` runs of `f`.
pub fn median(runs: usize, f: impl FnMut() -> Duration) -> Duration {
    percentile(&sample(runs, f), 50)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
