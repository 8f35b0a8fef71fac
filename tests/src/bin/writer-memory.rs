//! Records points into a buffered writer whose server answers every write with `500`, from two
//! threads as fast as they go, until the writer starts dropping points and then as many again,
//! and prints the process's peak resident memory over a baseline taken after `start()` and
//! one write: the byte budget must hold memory, not just count lines. Run by
//! `tests/tests/writer_memory.rs` in a process of its own, against a fake server the test
//! starts; by hand:
//! `cargo run --release -p influx-series-tests --bin writer-memory -- URL BUDGET_MIB`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use influx_series::Point;
use influx_series::writer::{BufferedWriter, Recorded};

/// A point of the reference shape (about 110 bytes as a line).
fn point(thread: usize, i: u64) -> Point {
    Point::builder("cpu")
        .tag("host", format!("server{:02}", i % 50))
        .tag("region", if thread == 0 { "us-west" } else { "eu-north" })
        .field("usage_user", i as f64 * 0.25)
        .field("usage_system", 0.5)
        .field("count", i as i64)
        .field("ok", i % 2 == 0)
        .timestamp_in(
            1_600_000_000_000_000_000 + i as i64 * 2 + thread as i64,
            influx_series::Precision::Nanoseconds,
        )
        .build()
        .expect("a valid point")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: writer-memory URL BUDGET_MIB");
    let budget_mib: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("usage: writer-memory URL BUDGET_MIB");
    let budget = budget_mib << 20;
    let client = influx_series::Client::new(&url)
        .expect("client")
        .config()
        .clone();
    let writer = BufferedWriter::builder()
        .client(client)
        .database("metrics")
        .tag_hostname(false)
        .max_buffer_bytes(budget)
        // The byte budget is the one that binds.
        .max_buffer_size(usize::MAX / 2)
        // Requests go on while the budget fills: a probe every few milliseconds.
        .backoff(
            Duration::from_millis(
                std::env::var("WM_BACKOFF_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(5),
            ),
            Duration::from_millis(20),
        )
        .start()
        .expect("start the writer");
    // One write, so that the client, its connection and the writer's thread are all set up.
    writer.record(point(0, 0));
    let _ = writer.flush(Duration::from_millis(1));
    let started = Instant::now();
    while writer.stats().failed_requests == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "no request");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (_, baseline) = influx_series_tests::memory();
    // The peak from here on (Linux: writing 5 to clear_refs resets VmHWM to VmRSS).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");

    let dropping = Arc::new(AtomicBool::new(false));
    let taken_before_drops = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|thread| {
            let writer = writer.clone();
            let dropping = dropping.clone();
            let taken_before_drops = taken_before_drops.clone();
            std::thread::spawn(move || {
                let mut i = 0u64;
                let mut after = 0u64;
                loop {
                    i += 1;
                    let outcome = writer.record(point(thread, i));
                    if dropping.load(Ordering::Relaxed) {
                        after += 1;
                        // As many points again as the budget took before the first drop, so
                        // that the whole buffer is replaced by eviction.
                        if after >= 3 * taken_before_drops.load(Ordering::Relaxed) {
                            break;
                        }
                    } else if matches!(
                        outcome,
                        Recorded::EnqueuedDroppingOldest { .. } | Recorded::DroppedFull
                    ) {
                        taken_before_drops.fetch_max(i, Ordering::Relaxed);
                        dropping.store(true, Ordering::Relaxed);
                    }
                }
                i
            })
        })
        .collect();
    let recorded: u64 = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    let (peak, _) = influx_series_tests::memory();
    let stats = writer.stats();
    assert!(stats.adds_up(), "{stats:?}");
    let report = writer.shutdown(Duration::from_secs(1));
    println!("budget_bytes {budget}");
    println!("recorded {recorded}");
    println!("dropped {}", report.stats.dropped);
    println!("requests {}", report.stats.requests);
    println!(
        "held_bytes {}",
        stats.buffered_bytes + stats.in_flight_bytes
    );
    println!("rss_baseline {baseline}");
    println!("rss_peak {peak}");
    println!("peak_over_baseline {}", peak.saturating_sub(baseline));
    println!(
        "peak_over_baseline_mib {:.1}",
        peak.saturating_sub(baseline) as f64 / f64::from(1 << 20)
    );
}
