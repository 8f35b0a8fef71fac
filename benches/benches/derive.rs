//! `#[derive(Series)]` encoding against the `influxdb` crate's `#[derive(InfluxDbWriteable)]`,
//! and `record()` into the per-type buffer against encoding alone. Interleaved rounds, median
//! of per-round ratios; prints a table.
//!
//! Run: `cargo bench -p influx-series-benches --bench derive`

use chrono::{DateTime, Utc};
use influx_series::Series;
use influx_series_benches::rounds::{Variant, interleaved, median_duration, median_ratio};
use influx_series_benches::samples;
use influxdb::{InfluxDbWriteable, Query, WriteQuery};
use std::hint::black_box;

const N: usize = 10_000;
const ROUNDS: usize = 7;

#[derive(Series, Clone)]
#[series(name = "cpu")]
struct Cpu {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: String,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: DateTime<Utc>,
}

#[derive(InfluxDbWriteable, Clone)]
struct CpuTheirs {
    time: DateTime<Utc>,
    #[influxdb(tag)]
    host: String,
    #[influxdb(tag)]
    region: String,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
}

fn main() {
    let part = std::env::var("DERIVE_PART").unwrap_or_default();
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo bench` passes `--bench`; `cargo test` (which passes nothing) runs this once as
        // a smoke test: keep it short.
        run(1, 3);
        threads(1, 1_000);
    } else {
        // `DERIVE_PART=encode` or `=threads` runs one part.
        if part != "threads" {
            run(ROUNDS, 15);
        }
        if part != "encode" {
            threads(ROUNDS, 200_000);
        }
    }
}

/// `record()` from 1, 2 and 4 threads at once, each recording `per_thread` points of the
/// reference shape into the type's buffer (no autocommit, nothing sent); throughput in points
/// a second, and each thread count's against one thread's, per round.
fn threads(rounds: usize, per_thread: usize) {
    let data = cpus(1_000);
    // Room for every point of a run.
    Borrowed::set_max_pending(4 * per_thread, usize::MAX);
    let counts = [1usize, 2, 4];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    for _ in 0..rounds {
        for (i, &n) in counts.iter().enumerate() {
            let start = std::time::Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..n {
                    let data = &data;
                    scope.spawn(move || {
                        for k in 0..per_thread {
                            let c = &data[k % data.len()];
                            borrowed(c).record().unwrap();
                        }
                    });
                }
            });
            let elapsed = start.elapsed();
            assert_eq!(Borrowed::clear(), n * per_thread, "every point counted");
            rates[i].push((n * per_thread) as f64 / elapsed.as_secs_f64());
        }
    }
    println!(
        "| record() threads ({per_thread} points each, median of {rounds} rounds) | M points/s | vs 1 thread (min-max) |"
    );
    println!("|---|---|---|");
    for (i, &n) in counts.iter().enumerate() {
        let per_round: Vec<f64> = rates[i].iter().zip(&rates[0]).map(|(a, b)| a / b).collect();
        let (lo, hi) = influx_series_benches::rounds::min_max(&per_round);
        println!(
            "| {n} | {:.2} | {:.2}x ({lo:.2}-{hi:.2}) |",
            influx_series_benches::rounds::median(rates[i].clone()) / 1e6,
            influx_series_benches::rounds::median(per_round),
        );
    }
    let two_vs_four: Vec<f64> = rates[2].iter().zip(&rates[1]).map(|(a, b)| a / b).collect();
    println!(
        "\n4 threads / 2 threads: {:.2}x (target >= 1.0x); 2 threads / 1: target >= 1.6x\n",
        influx_series_benches::rounds::median(two_vs_four)
    );
}

fn run(rounds: usize, reps: usize) {
    let ours = cpus(N);
    let theirs: Vec<CpuTheirs> = ours
        .iter()
        .map(|c| CpuTheirs {
            time: c.time,
            host: c.host.clone(),
            region: c.region.clone(),
            usage_user: c.usage_user,
            usage_system: c.usage_system,
            count: c.count,
            ok: c.ok,
        })
        .collect();

    // Same lines from both derives (the peer writes floats without `.0`, otherwise equal).
    let mut check = Vec::new();
    ours[1].write_line(&mut check).unwrap();
    let peer = theirs[1]
        .clone()
        .try_into_query("cpu")
        .unwrap()
        .build()
        .unwrap()
        .get();
    assert_eq!(
        String::from_utf8(check).unwrap(),
        peer.replace("=29.0,", "=29,")
    );

    let mut buf: Vec<u8> = Vec::with_capacity(1 << 21);
    if std::env::var_os("ENCODE_ONLY").is_some() {
        // For profiling the generated encoder alone.
        let start = std::time::Instant::now();
        for _ in 0..500 {
            buf.clear();
            for c in black_box(&ours) {
                c.write_line(&mut buf).unwrap();
                buf.push(b'\n');
            }
            black_box(buf.len());
        }
        println!("write_line: {:?} per 10 000 points", start.elapsed() / 500);
        return;
    }
    // Their derive consumes the struct: the clones are made outside the timed part.
    let mut pool: Vec<Vec<CpuTheirs>> = Vec::new();
    let mut variants = vec![
        Variant {
            name: "influx-series derive: write_line",
            run: Box::new(|| {
                buf.clear();
                for c in black_box(&ours) {
                    c.write_line(&mut buf).unwrap();
                    buf.push(b'\n');
                }
                black_box(buf.len());
            }),
        },
        Variant {
            name: "influx-series derive: record()",
            run: Box::new(|| {
                // `record()` takes the point by value: a borrowed twin of the same schema
                // (its own type, so its own buffer) records the same bytes without cloning.
                for c in black_box(&ours) {
                    borrowed(c).record().unwrap();
                }
                black_box(Borrowed::clear());
            }),
        },
        Variant {
            name: "influxdb 0.8 derive: into_query + build",
            run: Box::new(|| {
                let batch = pool.pop().unwrap_or_else(|| theirs.clone());
                let queries: Vec<WriteQuery> = batch
                    .into_iter()
                    .map(|c| c.try_into_query("cpu").unwrap())
                    .collect();
                black_box(queries.build().unwrap().get().len());
            }),
        },
    ];
    let times = interleaved(&mut variants, rounds, reps);
    println!("| variant ({N} points, median of {rounds} interleaved rounds) | time | points/s |");
    println!("|---|---|---|");
    for (v, t) in variants.iter().zip(&times) {
        let m = median_duration(t);
        println!(
            "| {} | {:.2} ms | {:.2} M |",
            v.name,
            m.as_secs_f64() * 1e3,
            N as f64 / m.as_secs_f64() / 1e6
        );
    }
    println!();
    println!(
        "derive encoding vs influxdb derive: {:.1}x faster (target >= 20x)",
        median_ratio(&times[2], &times[0])
    );
    println!(
        "record() / encoding alone: {:.2}x (target <= 1.3x)",
        median_ratio(&times[1], &times[0])
    );
}

#[derive(Series)]
#[series(name = "cpu")]
struct Borrowed<'a> {
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

/// A borrowed twin of `point`, recorded without cloning its strings.
fn borrowed(point: &Cpu) -> Borrowed<'_> {
    Borrowed {
        host: &point.host,
        region: &point.region,
        usage_user: point.usage_user,
        usage_system: point.usage_system,
        count: point.count,
        ok: point.ok,
        time: point.time,
    }
}

/// `n` points of the reference shape.
fn cpus(n: usize) -> Vec<Cpu> {
    samples(n)
        .into_iter()
        .map(|s| Cpu {
            host: s.host,
            region: s.region,
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: DateTime::from_timestamp_nanos(s.nanos),
        })
        .collect()
}
