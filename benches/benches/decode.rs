//! Decoding a captured 100 000-row `/query` answer of the reference shape: influx-series
//! `ResultSet` against the `influxdb` crate's serde path on the same bytes.
//!
//! The answer is captured at start-up from a private influxd (started by the bench, so
//! `influxd` must be installed). Run: `cargo bench -p influx-series-benches --bench decode`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use influx_series::{
    Client, LineBuf, Point, Precision, QueryOptions, WriteOptions, decode_response,
};
use influx_series_benches::samples;
use influxdb::integrations::serde_integration::DatabaseQueryResult;
use std::hint::black_box;

const ROWS: usize = 100_000;

#[derive(serde::Deserialize)]
#[allow(dead_code)] // the fields are decoded, not read
struct CpuRow {
    time: String,
    count: i64,
    host: String,
    ok: bool,
    region: String,
    usage_system: f64,
    usage_user: f64,
}

/// Writes the reference points into a private server and returns the answer to one
/// non-chunked `SELECT *`.
fn capture() -> Vec<u8> {
    let server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).expect("client");
    client.create_database("bench").expect("create");
    let mut lines = LineBuf::new();
    for s in samples(ROWS) {
        let p = Point::builder("cpu")
            .tag("host", s.host)
            .tag("region", s.region)
            .field("usage_user", s.usage_user)
            .field("usage_system", s.usage_system)
            .field("count", s.count)
            .field("ok", s.ok)
            .timestamp_in(s.nanos, Precision::Nanoseconds)
            .build()
            .expect("valid");
        lines.push_point(&p, Precision::Nanoseconds);
    }
    client
        .write_lines(&lines, &WriteOptions::new("bench"))
        .expect("write");
    client
        .query_raw("SELECT * FROM cpu", &QueryOptions::new().database("bench"))
        .expect("query")
}

fn influxdb_crate(body: &[u8]) -> Result<usize, String> {
    let mut result: DatabaseQueryResult =
        serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let rows = result
        .deserialize_next::<CpuRow>()
        .map_err(|e| e.to_string())?;
    Ok(rows.series.iter().map(|s| s.values.len()).sum())
}

fn decode(c: &mut Criterion) {
    let body = capture();
    let ours = decode_response(&body, true).expect("influx-series decodes");
    assert_eq!(ours[0].len(), ROWS);
    assert!(
        ours[0].series()[0].partial(),
        "1.6 marks the series partial"
    );

    if std::env::var_os("DECODE_ONLY").is_some() {
        // For profiling `decode_response` alone.
        let start = std::time::Instant::now();
        for _ in 0..20 {
            black_box(
                decode_response(black_box(&body), true)
                    .map(|r| r[0].len())
                    .ok(),
            );
        }
        println!("decode_response: {:?} per answer", start.elapsed() / 20);
        let start = std::time::Instant::now();
        for _ in 0..20 {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).is_ok());
        }
        println!("Value tree: {:?} per answer", start.elapsed() / 20);
        return;
    }
    let mut group = c.benchmark_group("decode_100k");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);

    group.bench_function(BenchmarkId::new("influx-series", "ResultSet"), |b| {
        b.iter(|| black_box(decode_response(black_box(&body), true).map(|r| r[0].len())))
    });

    match influxdb_crate(&body) {
        Ok(n) => {
            assert_eq!(n, ROWS);
            group.bench_function(BenchmarkId::new("influxdb-0.8", "serde"), |b| {
                b.iter(|| black_box(influxdb_crate(black_box(&body))))
            });
        }
        Err(e) => eprintln!("influxdb-0.8 serde path FAILS on the captured answer: {e}"),
    }

    // The same bytes with the `"partial":true` flag removed, so the peer can be timed at all.
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let stripped = text.replace(",\"partial\":true", "").into_bytes();
    let n = influxdb_crate(&stripped).expect("influxdb decodes without the flag");
    assert_eq!(n, ROWS);
    group.bench_function(
        BenchmarkId::new("influxdb-0.8", "serde, partial flag removed"),
        |b| b.iter(|| black_box(influxdb_crate(black_box(&stripped)))),
    );
    group.bench_function(BenchmarkId::new("serde_json", "Value tree"), |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).is_ok()))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
