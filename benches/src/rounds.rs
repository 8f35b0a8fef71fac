//! Interleaved rounds: every variant runs once per round, in turn, so that a noisy machine
//! slows all of them alike; a ratio is then taken per round and the median reported.

use std::time::{Duration, Instant};

/// One variant: a name and a closure that runs one batch.
pub struct Variant<'a> {
    /// Shown in the table.
    pub name: &'static str,
    /// Runs one batch of the work.
    pub run: Box<dyn FnMut() + 'a>,
}

/// Runs `rounds` rounds; in each, every variant runs `reps` batches and keeps the median
/// batch time. Returns the per-round medians, `[variant][round]`.
pub fn interleaved(variants: &mut [Variant<'_>], rounds: usize, reps: usize) -> Vec<Vec<Duration>> {
    let mut out = vec![Vec::with_capacity(rounds); variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter_mut().enumerate() {
            let mut times: Vec<Duration> = (0..reps)
                .map(|_| {
                    let start = Instant::now();
                    (v.run)();
                    start.elapsed()
                })
                .collect();
            times.sort_unstable();
            out[i].push(times[reps / 2]);
        }
    }
    out
}

/// The median of a list of values.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Per-round ratio `a / b`, median over rounds.
pub fn median_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    median(
        a.iter()
            .zip(b)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect(),
    )
}

/// The median duration.
pub fn median_duration(d: &[Duration]) -> Duration {
    Duration::from_secs_f64(median(d.iter().map(Duration::as_secs_f64).collect()))
}

/// The smallest and the largest of a list of values.
pub fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}
