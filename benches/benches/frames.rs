//! DataFrames (feature `polars`): encoding a 100 000-row frame of the reference shape against
//! influxdb-python's `DataFrameClient` line encoding of the same data and against this
//! library's derive, and decoding a captured 100 000-row answer into frames against
//! `decode_rows` into a derived struct. Interleaved rounds, median of per-round ratios with
//! min and max; prints a table.
//!
//! influxdb-python runs in Debian's /usr/bin/python3 (python3-influxdb, python3-pandas: see
//! scripts/ensure-python-peers); each round starts it once and it times its own encoding, so
//! its start-up is not counted. The answer is captured from a private influxd.
//!
//! Run: `cargo bench -p influx-series-benches --features polars --bench frames`

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use influx_series::frame::polars_core::prelude::*;
use influx_series::frame::{
    FieldType, FrameQueryOptions, FrameWriteOptions, decode_dataframes, encode_dataframe,
};
use influx_series::{
    CellContext, Client, Json, LineBuf, Precision, QueryOptions, Series, WriteOptions, decode_rows,
};
use influx_series_benches::rounds::{Variant, interleaved, median, median_ratio, min_max};
use influx_series_benches::samples;

const N: usize = 100_000;

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

/// The rows of `SELECT * FROM cpu`, as `decode_rows` reads them (time as the epoch integer).
#[derive(Series)]
#[series(name = "cpu")]
#[allow(dead_code)] // the members are decoded, not read
struct CpuRow {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: String,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: i64,
}

/// The same samples in influxdb-python: a pandas frame indexed by time, and its own encoder
/// timed `reps` times; prints the median in seconds and the number of lines.
const PYTHON: &str = r#"
import sys, time
import pandas as pd
from influxdb import DataFrameClient
n, reps = int(sys.argv[1]), int(sys.argv[2])
regions = ["us-west", "us-east", "eu-central", "ap-south"]
start = 1_700_000_000_000_000_000
frame = pd.DataFrame({
    "host": ["server%02d" % (i % 50) for i in range(n)],
    "region": [regions[i % 4] for i in range(n)],
    "usage_user": [(i % 1000) * 0.137 + 0.5 for i in range(n)],
    "usage_system": [(i % 777) / 7.0 for i in range(n)],
    "count": [i * 31 - 5000 for i in range(n)],
    "ok": [i % 3 != 0 for i in range(n)],
}, index=pd.to_datetime([start + i * 1_000_003 for i in range(n)], unit="ns", utc=True))
client = DataFrameClient(database="bench")
times = []
for _ in range(reps):
    t = time.perf_counter()
    lines = client._convert_dataframe_to_lines(frame, "cpu", tag_columns=["host", "region"])
    times.append(time.perf_counter() - t)
times.sort()
print(times[len(times) // 2], len(lines))
"#;

fn python_encode(reps: usize) -> Result<Duration, String> {
    let out = Command::new("/usr/bin/python3")
        .args(["-c", PYTHON, &N.to_string(), &reps.to_string()])
        .output()
        .map_err(|e| format!("/usr/bin/python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let seconds: f64 = words.next().and_then(|w| w.parse().ok()).ok_or("no time")?;
    let lines: usize = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or("no count")?;
    if lines != N {
        return Err(format!("python encoded {lines} lines, not {N}"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn frame() -> DataFrame {
    let data = samples(N);
    DataFrame::new(
        N,
        vec![
            Int64Chunked::from_vec("time".into(), data.iter().map(|s| s.nanos).collect())
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
            Column::new(
                "host".into(),
                data.iter().map(|s| s.host.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "region".into(),
                data.iter().map(|s| s.region.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "usage_user".into(),
                data.iter().map(|s| s.usage_user).collect::<Vec<_>>(),
            ),
            Column::new(
                "usage_system".into(),
                data.iter().map(|s| s.usage_system).collect::<Vec<_>>(),
            ),
            Column::new(
                "count".into(),
                data.iter().map(|s| s.count).collect::<Vec<_>>(),
            ),
            Column::new("ok".into(), data.iter().map(|s| s.ok).collect::<Vec<_>>()),
        ],
    )
    .expect("frame")
}

/// Writes the samples to a private server and captures the answer to `SELECT * FROM cpu`.
fn capture(lines: &LineBuf) -> Vec<u8> {
    let server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).expect("client");
    client.create_database("bench").expect("create");
    client
        .write_lines(lines, &WriteOptions::new("bench"))
        .expect("write");
    client
        .query_raw(
            "SELECT * FROM cpu",
            &QueryOptions::new()
                .database("bench")
                .epoch(Precision::Nanoseconds),
        )
        .expect("query")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs this once as a smoke test.
    let (rounds, reps, python_reps) = if std::env::args().any(|a| a == "--bench") {
        (5, 5, 3)
    } else {
        (1, 1, 1)
    };
    let df = frame();
    let derived: Vec<Cpu> = samples(N)
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
        .collect();
    let options = FrameWriteOptions::new().tag_columns(["host", "region"]);

    // Both encoders write the same bytes.
    let mut from_frame = LineBuf::new();
    encode_dataframe(&df, "cpu", &options, &mut from_frame).expect("encodes");
    let mut from_derive = Vec::new();
    for c in &derived {
        c.write_line(&mut from_derive).expect("encodes");
        from_derive.push(b'\n');
    }
    assert_eq!(from_frame.as_bytes(), from_derive.as_slice());

    let body = capture(&from_frame);
    let read_options = FrameQueryOptions::new()
        .column("usage_user", FieldType::Float)
        .column("usage_system", FieldType::Float)
        .column("count", FieldType::Integer)
        .column("ok", FieldType::Boolean)
        .column("host", FieldType::String)
        .column("region", FieldType::String);
    let frames = decode_dataframes(&body, 0, &read_options).expect("decodes");
    assert_eq!(frames.values().map(DataFrame::height).sum::<usize>(), N);
    let ctx = CellContext::with_epoch(Some(Precision::Nanoseconds));
    assert_eq!(
        decode_rows::<CpuRow, Json>(&body, 0, ctx)
            .expect("decodes")
            .len(),
        N
    );

    let python_check = python_encode(1);
    if let Err(e) = &python_check {
        println!("influxdb-python failed, left out: {e}");
    }
    let mut python_times: Vec<Duration> = Vec::new();
    let mut buf = LineBuf::with_capacity(from_frame.len_bytes());
    let mut raw: Vec<u8> = Vec::with_capacity(from_frame.len_bytes());
    let mut variants = vec![
        Variant {
            name: "encode: write_dataframe's encoder (frame -> lines)",
            run: Box::new(|| {
                buf.clear();
                encode_dataframe(black_box(&df), "cpu", &options, &mut buf).unwrap();
                black_box(buf.len_bytes());
            }),
        },
        Variant {
            name: "encode: derive write_line (structs -> lines)",
            run: Box::new(|| {
                raw.clear();
                for c in black_box(&derived) {
                    c.write_line(&mut raw).unwrap();
                    raw.push(b'\n');
                }
                black_box(raw.len());
            }),
        },
        Variant {
            name: "decode: decode_dataframes (answer -> frame)",
            run: Box::new(|| {
                black_box(decode_dataframes(black_box(&body), 0, &read_options).unwrap());
            }),
        },
        Variant {
            name: "decode: decode_rows::<CpuRow> (answer -> structs)",
            run: Box::new(|| {
                black_box(decode_rows::<CpuRow, Json>(black_box(&body), 0, ctx).unwrap());
            }),
        },
    ];
    // One round: each variant `reps` times, then influxdb-python once (it times `python_reps`
    // encodings itself and reports their median).
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (all, one) in times.iter_mut().zip(interleaved(&mut variants, 1, reps)) {
            all.extend(one);
        }
        if python_check.is_ok() {
            match python_encode(python_reps) {
                Ok(t) => python_times.push(t),
                Err(e) => panic!("influxdb-python failed mid-run: {e}"),
            }
        }
    }
    drop(variants);

    let ms = |d: &[Duration]| median(d.iter().map(|d| d.as_secs_f64() * 1e3).collect());
    println!("| variant ({N} rows, median of {rounds} interleaved rounds) | time | rows/s |");
    println!("|---|---|---|");
    let names = [
        "encode: write_dataframe's encoder (frame -> lines)",
        "encode: derive write_line (structs -> lines)",
        "decode: decode_dataframes (answer -> frame)",
        "decode: decode_rows::<CpuRow> (answer -> structs)",
    ];
    for (name, t) in names.iter().zip(&times) {
        let m = ms(t);
        println!("| {name} | {m:.1} ms | {:.2} M |", N as f64 / m / 1e3);
    }
    let spread = |a: &[Duration], b: &[Duration]| {
        let per_round: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        let (lo, hi) = min_max(&per_round);
        (median_ratio(a, b), lo, hi)
    };
    if !python_times.is_empty() {
        let m = ms(&python_times);
        println!(
            "| encode: influxdb-python 5.3 DataFrameClient._convert_dataframe_to_lines | {m:.1} ms | {:.2} M |",
            N as f64 / m / 1e3
        );
    }
    println!();
    if !python_times.is_empty() {
        // `python_times` has one entry per round, in the same rounds as ours.
        let (r, lo, hi) = spread(&python_times, &times[0]);
        println!(
            "frame encoding vs influxdb-python: {r:.1}x faster (min {lo:.1}x, max {hi:.1}x; target >= 10x)"
        );
    }
    let (r, lo, hi) = spread(&times[0], &times[1]);
    println!(
        "frame encoding / derive encoding: {r:.2}x (min {lo:.2}x, max {hi:.2}x; target <= 2x)"
    );
    let (r, lo, hi) = spread(&times[2], &times[3]);
    println!("frame decoding / decode_rows: {r:.2}x (min {lo:.2}x, max {hi:.2}x; target <= 1.5x)");
}
