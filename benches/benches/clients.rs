//! The async client against the blocking one, on the same private influxd: writing 50 000
//! points of the reference shape (`write_points`, requests of 5 000) and reading 50 000 rows
//! back (`query_as`). The async calls run on a current-thread tokio runtime, awaited one at a
//! time as a blocking caller makes them. Interleaved rounds; prints a table.
//!
//! Run: `cargo bench -p influx-series-benches --bench clients` (starts its own influxd).

use chrono::{DateTime, Utc};
use influx_series::{AsyncClient, Client, Point, Precision, QueryOptions, Series, WriteOptions};
use influx_series_benches::rounds::{Variant, interleaved, median_duration, median_ratio};
use influx_series_benches::samples;
use std::hint::black_box;
use std::time::Duration;

const POINTS: usize = 50_000;

#[derive(Series, Debug)]
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

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (rounds, reps) = if smoke { (1, 1) } else { (9, 3) };

    let server = influx_testserver::Server::start();
    let blocking = Client::new(&server.url()).unwrap().with_database("bench");
    blocking.create_database("bench").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let async_client = AsyncClient::new(&server.url())
        .unwrap()
        .with_database("bench");

    let points: Vec<Point> = samples(POINTS)
        .into_iter()
        .map(|s| {
            Point::builder("cpu")
                .tag("host", s.host)
                .tag("region", s.region)
                .field("usage_user", s.usage_user)
                .field("usage_system", s.usage_system)
                .field("count", s.count)
                .field("ok", s.ok)
                .timestamp_in(s.nanos, Precision::Nanoseconds)
                .build()
                .unwrap()
        })
        .collect();
    let write = WriteOptions::default().batch_size(5_000);
    let query = "SELECT * FROM cpu";
    let read = QueryOptions::new().epoch(Precision::Nanoseconds);
    // Both read the same 50 000 rows: the writes below rewrite the same points.
    blocking.write_points(&points, &write).unwrap();
    let rows: Vec<Cpu> = blocking.query_as_with(query, &read).unwrap();
    assert_eq!(rows.len(), POINTS);

    let mut variants = vec![
        Variant {
            name: "blocking write_points",
            run: Box::new(|| {
                black_box(blocking.write_points(&points, &write).unwrap());
            }),
        },
        Variant {
            name: "async write_points",
            run: Box::new(|| {
                let done = runtime.block_on(async_client.write_points(&points, &write));
                black_box(done.unwrap());
            }),
        },
        Variant {
            name: "blocking query_as",
            run: Box::new(|| {
                let rows: Vec<Cpu> = blocking.query_as_with(query, &read).unwrap();
                assert_eq!(black_box(rows).len(), POINTS);
            }),
        },
        Variant {
            name: "async query_as",
            run: Box::new(|| {
                let rows: Vec<Cpu> = runtime
                    .block_on(async_client.query_as_with(query, &read))
                    .unwrap();
                assert_eq!(black_box(rows).len(), POINTS);
            }),
        },
    ];
    let times = interleaved(&mut variants, rounds, reps);
    println!(
        "| variant ({POINTS} points, median of {rounds} interleaved rounds of {reps}) | median | min | max | points/s |"
    );
    println!("|---|---|---|---|---|");
    for (variant, t) in variants.iter().zip(&times) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let m = median_duration(t);
        println!(
            "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} M |",
            variant.name,
            ms(m),
            ms(*t.iter().min().unwrap()),
            ms(*t.iter().max().unwrap()),
            POINTS as f64 / m.as_secs_f64() / 1e6
        );
    }
    println!();
    let ratio = |a: usize, b: usize| {
        let per_round: Vec<f64> = times[a]
            .iter()
            .zip(&times[b])
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        let min = per_round.iter().copied().fold(f64::INFINITY, f64::min);
        let max = per_round.iter().copied().fold(0.0, f64::max);
        (median_ratio(&times[a], &times[b]), min, max)
    };
    for (what, a, b) in [("write", 1, 0), ("query", 3, 2)] {
        let (median, min, max) = ratio(a, b);
        println!(
            "async / blocking, {what}: {median:.3}x (per round {min:.3}x to {max:.3}x; target within 10 %)"
        );
    }
}
