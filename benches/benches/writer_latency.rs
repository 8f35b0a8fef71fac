//! The latency of single `BufferedWriter::record()` calls where a long-running service meets
//! trouble, as percentiles (p50, p99, p99.9, max) of every call, in interleaved rounds:
//!
//! - **outage**: the server is down (nothing listens on its port) for the whole run, so the
//!   writer backs off while one thread records a million points into the default budget
//!   (25 000 points): from the first few thousand on, every `record()` makes room by dropping
//!   the oldest waiting point.
//! - **destinations**: one thread records 200 000 points spread evenly over 1, or over 50 000
//!   destinations (a database each, as a service with one database per tenant does). No request
//!   is due while it records (the interval is a minute), so the figures are `record()`'s own
//!   cost, and how it grows with the destinations the writer knows.
//!
//! Run: `cargo bench -p influx-series-benches --bench writer_latency` (`-- --only outage` or
//! `-- --only destinations` for one part, `--rounds N`, `--points N` for the destinations
//! part). Without `--bench` (as `cargo test` runs it), one small round.

use std::hint::black_box;
use std::time::{Duration, Instant};

use influx_series::writer::BufferedWriter;
use influx_series::{ClientConfig, Point, Precision};
use influx_series_benches::rounds::{median, min_max};

/// A loopback port nothing listens on.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    format!("http://127.0.0.1:{port}")
}

fn point(i: u64) -> Point {
    Point::builder("cpu")
        .tag("host", format!("server{:02}", i % 50))
        .tag("region", "us-west")
        .field("usage_user", i as f64 * 0.25)
        .field("usage_system", 0.5)
        .field("count", i as i64)
        .field("ok", i % 2 == 0)
        .timestamp_in(1_600_000_000_000_000_000 + i as i64, Precision::Nanoseconds)
        .build()
        .expect("a valid point")
}

/// Percentiles of one run, in nanoseconds: p50, p99, p99.9, max.
fn percentiles(mut latencies: Vec<u64>) -> [f64; 4] {
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize] as f64;
    [at(0.5), at(0.99), at(0.999), at(1.0)]
}

/// Records `points` (made before the clock starts, and dropped after it: a free of many
/// small allocations inside the loop measures the allocator) and times each call.
fn timed(writer: &BufferedWriter, points: &[Point]) -> Vec<u64> {
    let mut latencies = Vec::with_capacity(points.len());
    for p in points {
        let start = Instant::now();
        let outcome = writer.record(p);
        latencies.push(start.elapsed().as_nanos() as u64);
        black_box(outcome);
    }
    latencies
}

fn outage(points: u64) -> [f64; 4] {
    let writer = BufferedWriter::builder()
        .client(ClientConfig::from_url(&dead_url()).expect("a URL"))
        .database("metrics")
        .tag_hostname(false)
        .start()
        .expect("start");
    let batch: Vec<Point> = (0..points).map(point).collect();
    let latencies = timed(&writer, &batch);
    let stats = writer.stats();
    assert!(stats.dropped > 0, "the budget was full: {stats:?}");
    writer.shutdown(Duration::from_millis(100));
    percentiles(latencies)
}

fn destinations(count: u64, points: u64) -> [f64; 4] {
    let writer = BufferedWriter::builder()
        .client(ClientConfig::from_url(&dead_url()).expect("a URL"))
        .tag_hostname(false)
        .interval(Duration::from_secs(60))
        .max_buffer_size(1_000_000)
        .max_buffer_bytes(1 << 30)
        .start()
        .expect("start");
    let names: Vec<String> = (0..count).map(|d| format!("tenant_{d:05}")).collect();
    let batch: Vec<_> = (0..points)
        .map(|i| {
            let mut m = influx_series::writer::Measurement::new(
                names[(i % count) as usize].clone(),
                "requests",
            );
            m.set_tag("route", "/items")
                .set_field("duration", i as f64 * 1e-6)
                .set_timestamp(
                    std::time::UNIX_EPOCH + Duration::from_nanos(1_600_000_000_000_000_000 + i),
                );
            m
        })
        .collect();
    let mut latencies = Vec::with_capacity(batch.len());
    for m in &batch {
        let start = Instant::now();
        let outcome = writer.record(m);
        latencies.push(start.elapsed().as_nanos() as u64);
        assert!(outcome.is_enqueued(), "{outcome:?}");
    }
    writer.shutdown(Duration::from_millis(100));
    percentiles(latencies)
}

/// Prints one row per variant: each percentile's median over the rounds, with min and max.
fn table(title: &str, names: &[String], runs: &[Vec<[f64; 4]>]) {
    println!("| {title} | p50 | p99 | p99.9 | max |");
    println!("|---|---|---|---|---|");
    for (name, rounds) in names.iter().zip(runs) {
        let cells: Vec<String> = (0..4)
            .map(|q| {
                let values: Vec<f64> = rounds.iter().map(|r| r[q] / 1e3).collect();
                let (lo, hi) = min_max(&values);
                format!("{:.2} us ({lo:.2} to {hi:.2})", median(values))
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let rounds = option("--rounds").unwrap_or(if smoke { 1 } else { 7 });
    if only.as_deref().is_none_or(|o| o == "outage") {
        let points = if smoke { 50_000 } else { 1_000_000 };
        let runs: Vec<[f64; 4]> = (0..rounds).map(|_| outage(points)).collect();
        table(
            &format!("record() of {points} points, server down, median of {rounds} rounds"),
            &["outage (budget 25 000 points)".to_owned()],
            &[runs],
        );
    }
    if only.as_deref().is_none_or(|o| o == "destinations") {
        let points = option("--points").unwrap_or(if smoke { 20_000 } else { 200_000 }) as u64;
        let counts = [1, if smoke { 5_000 } else { 50_000 }];
        let mut runs = vec![Vec::new(); counts.len()];
        for _ in 0..rounds {
            for (i, &count) in counts.iter().enumerate() {
                runs[i].push(destinations(count, points));
            }
        }
        let names: Vec<String> = counts
            .iter()
            .map(|c| format!("{c} destination(s)"))
            .collect();
        table(
            &format!("record() of {points} points, median of {rounds} interleaved rounds"),
            &names,
            &runs,
        );
        let ratios: Vec<f64> = runs[1]
            .iter()
            .zip(&runs[0])
            .map(|(many, one)| many[1] / one[1])
            .collect();
        let (lo, hi) = min_max(&ratios);
        println!(
            "p99 at {} destinations / p99 at 1: {:.2}x (min {lo:.2}x, max {hi:.2}x; target <= 2x)",
            counts[1],
            median(ratios)
        );
    }
}
