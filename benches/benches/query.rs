//! Typed read-back: `query_as` of 100 000 rows of the reference shape from a live private
//! influxd against fetching the same answer's bytes, and typed decoding of a captured answer
//! against the `influxdb` crate's serde path. Interleaved rounds; prints a table.
//!
//! Run: `cargo bench -p influx-series-benches --bench query` (starts its own influxd).

use chrono::{DateTime, Utc};
use influx_series::{Client, Json, Precision, QueryOptions, Series, decode_rows};
use influx_series_benches::rounds::{Variant, interleaved, median_duration, median_ratio};
use influx_series_benches::samples;
use influxdb::integrations::serde_integration::DatabaseQueryResult;
use std::hint::black_box;

const ROWS: usize = 100_000;

#[derive(Series, Debug)]
#[series(name = "cpu", bulk_size = 10000)]
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

/// The same row for the peer's serde path (the time as the epoch integer).
#[derive(serde::Deserialize)]
#[allow(dead_code)] // decoded, not read
struct PeerRow {
    time: i64,
    count: i64,
    host: String,
    ok: bool,
    region: String,
    usage_system: f64,
    usage_user: f64,
}

fn peer(body: &[u8]) -> Result<usize, String> {
    let mut result: DatabaseQueryResult =
        serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let rows = result
        .deserialize_next::<PeerRow>()
        .map_err(|e| e.to_string())?;
    Ok(rows.series.iter().map(|s| s.values.len()).sum())
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (rounds, reps) = if smoke { (1, 1) } else { (7, 5) };

    let server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).unwrap().with_database("bench");
    client.create_database("bench").unwrap();
    for s in samples(ROWS) {
        Cpu {
            host: s.host,
            region: s.region,
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: DateTime::from_timestamp_nanos(s.nanos),
        }
        .record()
        .unwrap();
    }
    Cpu::commit_with(&client).unwrap();

    let query = "SELECT * FROM cpu";
    let options = QueryOptions::new().epoch(Precision::Nanoseconds);
    let body = client.query_raw(query, &options).unwrap();
    let rows: Vec<Cpu> = decode_rows::<Cpu, Json>(&body, 0, Default::default()).unwrap();
    assert_eq!(rows.len(), ROWS);
    let peer_result = peer(&body);
    let text = String::from_utf8(body.clone()).unwrap();
    let stripped = text.replace(",\"partial\":true", "").into_bytes();
    assert_eq!(peer(&stripped), Ok(ROWS));

    if std::env::var_os("DECODE_ONLY").is_some() {
        // For profiling the decoder alone.
        let ctx = influx_series::CellContext::with_epoch(Some(Precision::Nanoseconds));
        let start = std::time::Instant::now();
        for _ in 0..50 {
            black_box(
                decode_rows::<Cpu, Json>(black_box(&body), 0, ctx)
                    .unwrap()
                    .len(),
            );
        }
        println!("decode_rows: {:?} per answer", start.elapsed() / 50);
        return;
    }
    let live = {
        let mut variants = vec![
            Variant {
                name: "fetch the answer's bytes (query_raw)",
                run: Box::new(|| {
                    black_box(client.query_raw(query, &options).unwrap().len());
                }),
            },
            Variant {
                name: "query_as::<Cpu> (fetch + typed decode)",
                run: Box::new(|| {
                    let rows: Vec<Cpu> = client.query_as_with(query, &options).unwrap();
                    black_box(rows.len());
                }),
            },
        ];
        let times = interleaved(&mut variants, rounds, reps);
        let names: Vec<&str> = variants.iter().map(|v| v.name).collect();
        (names, times)
    };
    let captured = {
        let ctx = influx_series::CellContext::with_epoch(Some(Precision::Nanoseconds));
        let mut variants = vec![
            Variant {
                name: "influx-series decode_rows::<Cpu> (captured answer)",
                run: Box::new(|| {
                    black_box(
                        decode_rows::<Cpu, Json>(black_box(&body), 0, ctx)
                            .unwrap()
                            .len(),
                    );
                }),
            },
            Variant {
                name: "influxdb 0.8 serde path (same answer, `partial` flag removed)",
                run: Box::new(|| {
                    black_box(peer(black_box(&stripped)).unwrap());
                }),
            },
        ];
        let times = interleaved(&mut variants, rounds, reps);
        let names: Vec<&str> = variants.iter().map(|v| v.name).collect();
        (names, times)
    };

    println!("| variant ({ROWS} rows, median of {rounds} interleaved rounds) | time | rows/s |");
    println!("|---|---|---|");
    for (names, times) in [&live, &captured] {
        for (name, t) in names.iter().zip(times) {
            let m = median_duration(t);
            println!(
                "| {name} | {:.1} ms | {:.2} M |",
                m.as_secs_f64() * 1e3,
                ROWS as f64 / m.as_secs_f64() / 1e6
            );
        }
    }
    println!();
    println!(
        "query_as / fetching the bytes: {:.3}x (target <= 1.15x)",
        median_ratio(&live.1[1], &live.1[0])
    );
    match peer_result {
        Ok(_) => println!("influxdb 0.8 decoded the captured answer as it is"),
        Err(e) => println!("influxdb 0.8 serde path on the captured answer as it is: FAILS: {e}"),
    }
    println!(
        "influxdb 0.8 serde (flag removed) / decode_rows: {:.1}x (target >= 3x)",
        median_ratio(&captured.1[1], &captured.1[0])
    );
}
