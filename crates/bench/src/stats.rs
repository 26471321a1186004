//! Latency and throughput figures: percentiles over a sorted list of durations, rates, ratios.

use std::time::Duration;

/// The figures of one measured run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Completed requests (any status).
    pub requests: u64,
    /// Requests that failed: a non-200 status or a transport error.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Mean latency.
    pub mean: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Highest latency.
    pub max: Duration,
}

impl Summary {
    /// Summarises `latencies` (sorted here) measured over `elapsed`, with `errors` failures.
    pub fn from_latencies(mut latencies: Vec<Duration>, errors: u64, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let total: Duration = latencies.iter().sum();
        let mean = if latencies.is_empty() {
            Duration::ZERO
        } else {
            total / latencies.len() as u32
        };
        Summary {
            requests: latencies.len() as u64,
            errors,
            elapsed,
            mean,
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or(Duration::ZERO),
        }
    }

    /// Requests per second over the wall time of the run.
    pub fn rps(&self) -> f64 {
        rate(self.requests, self.elapsed)
    }
}

/// The nearest-rank percentile `p` (0–100) of `sorted`; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `count / elapsed` in units per second (zero for an empty interval).
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// `a / b`, or NaN when `b` is zero.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// A duration in milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// The median of a list (the mean of the middle two for an even count; zero when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
    }

    #[test]
    fn summary_sorts_and_rates() {
        let v = vec![Duration::from_millis(3), Duration::from_millis(1)];
        let s = Summary::from_latencies(v, 1, Duration::from_secs(2));
        assert_eq!(s.p50, Duration::from_millis(1));
        assert_eq!(s.mean, Duration::from_millis(2));
        assert_eq!(s.max, Duration::from_millis(3));
        assert!((s.rps() - 1.0).abs() < 1e-9);
    }
}
