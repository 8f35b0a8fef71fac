//! Records points into a derived type with autocommit while its server is down, and prints
//! the process's peak resident memory beside the buffer's bound: the bound must hold memory,
//! not just count lines. Run by `tests/tests/memory.rs` in a process of its own; also by hand:
//! `cargo run --release -p influx-series-tests --bin record-memory -- 10000000`.

use influx_series::{Client, Error, Series};

#[derive(Series)]
#[series(name = "cpu", bulk_size = 5000, autocommit)]
struct Cpu {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: &'static str,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: i64,
}

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    // Nothing listens on this port: the server is down for the whole run.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let client = Client::new(&format!("http://127.0.0.1:{port}"))
        .expect("client")
        .with_database("metrics");
    Cpu::bind(client);
    let (max_points, max_bytes) = Cpu::max_pending();
    let (before, _) = influx_series_tests::memory();
    let hosts: Vec<String> = (0..50).map(|i| format!("server{i:02}")).collect();
    let (mut taken, mut full, mut failed) = (0u64, 0u64, 0u64);
    for i in 0..calls {
        let point = Cpu {
            host: hosts[(i % 50) as usize].clone(),
            region: "us-west",
            usage_user: i as f64 * 0.25,
            usage_system: 0.5,
            count: i as i64,
            ok: i % 2 == 0,
            time: 1_600_000_000_000_000_000 + i as i64,
        };
        match point.record() {
            Ok(()) => taken += 1,
            Err(Error::BufferFull { .. }) => full += 1,
            Err(Error::AutocommitFailed { .. }) => {
                taken += 1;
                failed += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    let (peak, now) = influx_series_tests::memory();
    let pending_bytes = Cpu::pending_lines().len();
    println!("calls {calls}");
    println!("taken {taken}");
    println!("refused_full {full}");
    println!("failed_autocommits {failed}");
    println!("pending_points {}", Cpu::pending());
    println!("pending_bytes {pending_bytes}");
    println!("bound_points {max_points}");
    println!("bound_bytes {max_bytes}");
    println!("rss_before {before}");
    println!("rss_now {now}");
    println!("rss_peak {peak}");
    println!(
        "peak_over_bound_mib {:.1}",
        (peak as f64 - max_bytes as f64) / f64::from(1 << 20)
    );
}
