//! The buffered writer: `record()` against encoding alone with two recording threads, the
//! latency of `record()` while the writer sends, and end-to-end throughput into influxd against
//! the server's own ceiling (pre-serialised bodies posted by `curl` over one connection and
//! over two). Starts its own influxd; interleaved rounds; prints tables.
//!
//! Run: `cargo bench -p influx-series-benches --bench writer`

use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use influx_series::writer::BufferedWriter;
use influx_series::{Client, ClientConfig, Series};
use influx_series_benches::rounds::{Variant, interleaved, median, median_duration, min_max};
use influx_series_benches::samples;

/// A borrowed twin of the reference shape: recorded by value without cloning strings.
#[derive(Series)]
#[series(name = "cpu", database = "bench")]
struct Cpu<'a> {
    #[series(tag)]
    host: &'a str,
    #[series(tag)]
    region: &'a str,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: DateTime<Utc>,
}

struct Data {
    hosts: Vec<String>,
    regions: Vec<String>,
    rest: Vec<(f64, f64, i64, bool, DateTime<Utc>)>,
}

impl Data {
    fn new(n: usize) -> Data {
        let s = samples(n);
        Data {
            hosts: s.iter().map(|s| s.host.clone()).collect(),
            regions: s.iter().map(|s| s.region.clone()).collect(),
            rest: s
                .iter()
                .map(|s| {
                    (
                        s.usage_user,
                        s.usage_system,
                        s.count,
                        s.ok,
                        DateTime::from_timestamp_nanos(s.nanos),
                    )
                })
                .collect(),
        }
    }

    fn point(&self, i: usize) -> Cpu<'_> {
        let (usage_user, usage_system, count, ok, time) = self.rest[i];
        Cpu {
            host: &self.hosts[i],
            region: &self.regions[i],
            usage_user,
            usage_system,
            count,
            ok,
            time,
        }
    }
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).unwrap();
    client.create_database("bench").unwrap();
    // `WRITER_PART=record` or `=throughput` runs one part (for a profiler).
    let part = std::env::var("WRITER_PART").unwrap_or_default();
    if part != "throughput" {
        record_cost(&server.url(), smoke);
    }
    if part != "record" {
        end_to_end(&server.url(), &client, smoke);
    }
}

/// `record()` from two threads against encoding the same points alone from two threads, and
/// the latency of single `record()` calls while the writer sends to influxd.
fn record_cost(url: &str, smoke: bool) {
    let per_thread = if smoke { 2_000 } else { 50_000 };
    let (rounds, reps) = if smoke { (1, 1) } else { (9, 5) };
    let data = Data::new(2 * per_thread);
    let halves = [0..per_thread, per_thread..2 * per_thread];
    // The writer never sends during these rounds: nothing is due before an hour, and the
    // budget holds a round; each run clears it at its end.
    let idle = BufferedWriter::builder()
        .client(ClientConfig::from_url(url).unwrap())
        .interval(Duration::from_secs(3_600))
        .max_buffer_size(4 * per_thread)
        .trigger_size(4 * per_thread)
        .max_buffer_bytes(1 << 30)
        .trigger_bytes(1 << 30)
        .start()
        .unwrap();
    let mut variants = vec![
        Variant {
            name: "encode alone (write_line), 1 thread",
            run: Box::new(|| {
                let mut buf = Vec::with_capacity(256);
                for i in 0..2 * per_thread {
                    buf.clear();
                    data.point(i).write_line(&mut buf).unwrap();
                    buf.push(b'\n');
                    black_box(&buf);
                }
            }),
        },
        Variant {
            name: "BufferedWriter::record, 1 thread",
            run: Box::new(|| {
                for i in 0..2 * per_thread {
                    assert!(idle.record(data.point(i)).is_enqueued());
                }
                black_box(idle.clear());
            }),
        },
        Variant {
            name: "encode alone (write_line), 2 threads",
            run: Box::new(|| {
                std::thread::scope(|s| {
                    for half in &halves {
                        let data = &data;
                        s.spawn(move || {
                            let mut buf = Vec::with_capacity(256);
                            for i in half.clone() {
                                buf.clear();
                                data.point(i).write_line(&mut buf).unwrap();
                                buf.push(b'\n');
                                black_box(&buf);
                            }
                        });
                    }
                });
            }),
        },
        Variant {
            name: "BufferedWriter::record, 2 threads",
            run: Box::new(|| {
                std::thread::scope(|s| {
                    for half in &halves {
                        let (data, idle) = (&data, &idle);
                        s.spawn(move || {
                            for i in half.clone() {
                                assert!(idle.record(data.point(i)).is_enqueued());
                            }
                        });
                    }
                });
                black_box(idle.clear());
            }),
        },
    ];
    let times = interleaved(&mut variants, rounds, reps);
    let ratio = |encode: usize, record: usize| -> (f64, f64, f64) {
        let ratios: Vec<f64> = times[encode]
            .iter()
            .zip(&times[record])
            .map(|(e, r)| r.as_secs_f64() / e.as_secs_f64())
            .collect();
        let (lo, hi) = min_max(&ratios);
        (median(ratios), lo, hi)
    };
    println!(
        "| {} points, 2 threads, median of {rounds} rounds | time | ns a point |",
        2 * per_thread
    );
    println!("|---|---|---|");
    for (v, t) in variants.iter().zip(&times) {
        let m = median_duration(t);
        println!(
            "| {} | {:.2} ms | {:.0} |",
            v.name,
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e9 / (2 * per_thread) as f64
        );
    }
    let (one, lo1, hi1) = ratio(0, 1);
    let (two, lo2, hi2) = ratio(2, 3);
    println!("\nrecord() / encoding alone, 1 thread: {one:.2}x (min {lo1:.2}x, max {hi1:.2}x)");
    println!(
        "record() / encoding alone, 2 threads: {two:.2}x (min {lo2:.2}x, max {hi2:.2}x; target <= 2x)\n"
    );

    // Latency of each record() while the writer flushes to influxd: two threads record, the
    // writer's thread takes batches from the same lock.
    let busy = BufferedWriter::builder()
        .client(ClientConfig::from_url(url).unwrap())
        .max_buffer_size(4 * per_thread)
        .trigger_size(5_000)
        .max_batch_size(5_000)
        .start()
        .unwrap();
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                let (data, busy) = (&data, &busy);
                s.spawn(move || {
                    half.clone()
                        .map(|i| {
                            let started = Instant::now();
                            let outcome = busy.record(data.point(i));
                            let took = started.elapsed();
                            assert!(outcome.is_enqueued());
                            took
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    busy.flush(Duration::from_secs(60)).unwrap();
    let stats = busy.stats();
    assert_eq!(stats.written, 2 * per_thread as u64, "{stats:?}");
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "record() latency while the writer sends ({} calls, 2 threads, {} requests): p50 {:?}, p99 {:?}, p99.99 {:?}, max {:?}\n",
        latencies.len(),
        stats.requests,
        at(0.5),
        at(0.99),
        at(0.9999),
        latencies.last().unwrap()
    );
}

/// Writes `bodies` with one `curl` per connection: each connection posts its share of the
/// bodies in turn on one kept-alive connection.
fn curl_post(url: &str, bodies: &[PathBuf], connections: usize) {
    let share = bodies.len().div_ceil(connections);
    let children: Vec<_> = bodies
        .chunks(share)
        .map(|chunk| {
            let mut cmd = Command::new("curl");
            for (i, body) in chunk.iter().enumerate() {
                if i > 0 {
                    cmd.arg("--next");
                }
                cmd.args(["-s", "-f", "-o", "/dev/null", "--data-binary"])
                    .arg(format!("@{}", body.display()))
                    .arg(format!("{url}/write?db=bench&precision=ns"));
            }
            cmd.spawn().expect("curl runs")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "curl failed");
    }
}

/// 100 000 points of the reference shape into influxd: the writer (recording from one thread,
/// batches of 5 000) from the first `record()` to the end of `flush`, against curl posting the
/// same lines in bodies of 5 000 over one and over two connections.
fn end_to_end(url: &str, client: &Client, smoke: bool) {
    let n = if smoke { 10_000 } else { 100_000 };
    let rounds = if smoke { 1 } else { 7 };
    let data = Data::new(n);
    let dir = std::env::temp_dir().join(format!("writer-bench-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let bodies: Vec<PathBuf> = (0..n)
        .collect::<Vec<_>>()
        .chunks(5_000)
        .enumerate()
        .map(|(b, chunk)| {
            let mut body = Vec::new();
            for &i in chunk {
                data.point(i).write_line(&mut body).unwrap();
                body.push(b'\n');
            }
            let path = dir.join(format!("body-{b}.txt"));
            fs::write(&path, body).unwrap();
            path
        })
        .collect();
    let writer = BufferedWriter::builder()
        .client(ClientConfig::from_url(url).unwrap())
        .max_buffer_size(2 * n)
        .trigger_size(5_000)
        .max_batch_size(5_000)
        .start()
        .unwrap();
    let mut variants = vec![
        Variant {
            name: "curl, bodies of 5 000 lines, 1 connection",
            run: Box::new(|| curl_post(url, &bodies, 1)),
        },
        Variant {
            name: "curl, bodies of 5 000 lines, 2 connections",
            run: Box::new(|| curl_post(url, &bodies, 2)),
        },
        Variant {
            name: "BufferedWriter: record() x 100 000, then flush",
            run: Box::new(|| {
                let before = writer.stats().written;
                for i in 0..n {
                    writer.record(data.point(i));
                }
                writer.flush(Duration::from_secs(120)).unwrap();
                assert_eq!(writer.stats().written - before, n as u64);
            }),
        },
    ];
    // A first, untimed pass creates the series and the shard.
    for v in &mut variants {
        (v.run)();
    }
    let times = interleaved(&mut variants, rounds, 1);
    let stats = writer.stats();
    assert_eq!((stats.rejected, stats.dropped), (0, 0), "{stats:?}");
    let stored = client
        .query_with(
            "SELECT count(usage_user) FROM cpu",
            &influx_series::QueryOptions::new().database("bench"),
        )
        .unwrap();
    let count = stored[0]
        .rows()
        .next()
        .unwrap()
        .value(1)
        .and_then(|v| v.as_i64())
        .unwrap();
    assert_eq!(count, n as i64, "every point stored");
    println!("| {n} points into influxd, median of {rounds} rounds | time | points/s |");
    println!("|---|---|---|");
    for (v, t) in variants.iter().zip(&times) {
        let m = median_duration(t);
        println!(
            "| {} | {:.0} ms | {:.0} k |",
            v.name,
            m.as_secs_f64() * 1e3,
            n as f64 / m.as_secs_f64() / 1e3
        );
    }
    for (ceiling, label) in [(0, "one connection"), (1, "two connections")] {
        let ratios: Vec<f64> = times[ceiling]
            .iter()
            .zip(&times[2])
            .map(|(c, w)| c.as_secs_f64() / w.as_secs_f64())
            .collect();
        let (lo, hi) = min_max(&ratios);
        println!(
            "writer / ceiling over {label}: {:.2}x (min {lo:.2}x, max {hi:.2}x; target >= 0.95x)",
            median(ratios.clone())
        );
    }
    let _ = fs::remove_dir_all(&dir);
}
