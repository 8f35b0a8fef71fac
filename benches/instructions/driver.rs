//! One workload of the hot paths, for counting instructions under callgrind. Built by
//! `scripts/instructions` against two commits of influx-series (so it uses only API both
//! have) and run twice per workload: setup only, then setup and work; the difference is the
//! work's cost.
//!
//! Usage: `driver <workload> <n> <work: 0|1>`
//!
//! `answer-read` (feature `hooks`, for commits that have `influx_core::bench_hooks`, built with
//! `--cfg influx_bench`) reads answer heads and bodies, chunked framing included, from memory.
//! `decode-typed-msgpack` and `decode-resultset-msgpack` (feature `msgpack-hooks`, for commits
//! whose hooks read MessagePack) decode the answer of `decode-typed` in MessagePack, as
//! decoding queries ask for it.

use std::hint::black_box;

use chrono::{DateTime, TimeZone, Utc};
use influx_series::{LineBuf, Point, Precision, Series};

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

fn sample(i: usize) -> Cpu {
    Cpu {
        host: format!("server{:02}", i % 50),
        region: if i % 2 == 0 { "us-west" } else { "eu-central" }.to_owned(),
        usage_user: (i % 1000) as f64 * 0.125 + 0.3,
        usage_system: (i % 777) as f64 / 7.0,
        count: i as i64 * 37,
        ok: i % 3 == 0,
        time: Utc.timestamp_opt(1_600_000_000, 0).unwrap()
            + chrono::Duration::nanoseconds(i as i64 * 1_000_003),
    }
}

fn point(c: &Cpu) -> Point {
    Point::builder("cpu")
        .tag("host", c.host.clone())
        .tag("region", c.region.clone())
        .field("usage_user", c.usage_user)
        .field("usage_system", c.usage_system)
        .field("count", c.count)
        .field("ok", c.ok)
        .timestamp(c.time)
        .build()
        .unwrap()
}

/// A whole `/query` answer of `n` rows in one series, as influxd writes it with `epoch=ns`.
fn answer(n: usize) -> Vec<u8> {
    let mut body = String::from(
        r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count","host","ok","region","usage_system","usage_user"],"values":["#,
    );
    for i in 0..n {
        let c = sample(i);
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"[{},{},"{}",{},"{}",{},{}]"#,
            c.time.timestamp_nanos_opt().unwrap(),
            c.count,
            c.host,
            c.ok,
            c.region,
            c.usage_system,
            c.usage_user
        ));
    }
    body.push_str("]}]}]}\n");
    body.into_bytes()
}

/// [`answer`] in MessagePack, as influxd writes it (integers in their shortest form, floats as
/// float64).
#[cfg(feature = "msgpack-hooks")]
fn answer_msgpack(n: usize) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        assert!(s.len() < 32);
        out.push(0xa0 | s.len() as u8);
        out.extend_from_slice(s.as_bytes());
    }
    fn int(out: &mut Vec<u8>, v: i64) {
        match v {
            0..=127 => out.push(v as u8),
            0..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(v as u32).to_be_bytes());
            }
            _ => {
                out.push(0xd3);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    fn float(out: &mut Vec<u8>, v: f64) {
        out.push(0xcb);
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    let mut out = vec![0x81];
    string(&mut out, "results");
    out.extend([0x91, 0x82]);
    string(&mut out, "statement_id");
    out.push(0);
    string(&mut out, "series");
    out.extend([0x91, 0x83]);
    string(&mut out, "name");
    string(&mut out, "cpu");
    string(&mut out, "columns");
    out.push(0x97);
    for column in ["time", "count", "host", "ok", "region", "usage_system", "usage_user"] {
        string(&mut out, column);
    }
    string(&mut out, "values");
    out.push(0xdd);
    out.extend_from_slice(&(n as u32).to_be_bytes());
    for i in 0..n {
        let c = sample(i);
        out.push(0x97);
        int(&mut out, c.time.timestamp_nanos_opt().unwrap());
        int(&mut out, c.count);
        string(&mut out, &c.host);
        out.push(if c.ok { 0xc3 } else { 0xc2 });
        string(&mut out, &c.region);
        float(&mut out, c.usage_system);
        float(&mut out, c.usage_user);
    }
    out
}

/// Three answers of influxd's, one after another as on a kept connection: a write's `204`, a
/// partial write's `400` with its length, and a chunked query answer of three chunks.
#[cfg(feature = "hooks")]
fn answers() -> Vec<u8> {
    const HEADERS: &str = "Content-Type: application/json\r\n\
        Request-Id: 3e4a6b0c-3a4b-11f1-8001-000000000000\r\n\
        X-Influxdb-Build: OSS\r\n\
        X-Influxdb-Version: 1.6.7~rc0\r\n\
        X-Request-Id: 3e4a6b0c-3a4b-11f1-8001-000000000000\r\n\
        Date: Mon, 07 Dec 2026 14:00:00 GMT\r\n";
    let error = r#"partial write: field type conflict: input field "usage_user" on measurement "cpu" is type integer, already exists as type float dropped=1"#;
    let body = format!("{{\"error\":\"{}\"}}\n", error.replace('"', "\\\""));
    let mut out = format!("HTTP/1.1 204 No Content\r\n{HEADERS}\r\n");
    out += &format!(
        "HTTP/1.1 400 Bad Request\r\n{HEADERS}X-Influxdb-Error: {error}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    out += &format!("HTTP/1.1 200 OK\r\n{HEADERS}Transfer-Encoding: chunked\r\n\r\n");
    for i in 0..3 {
        let chunk = format!(
            r#"{{"results":[{{"statement_id":{i},"series":[{{"name":"cpu","columns":["time","usage_user"],"values":[[1600000000000000000,0.3],[1600000000001000003,0.425]]}}],"partial":true}}]}}"#
        ) + "\n";
        out += &format!("{:x}\r\n{chunk}\r\n", chunk.len());
    }
    out += "0\r\n\r\n";
    out.into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("");
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let work = args.get(3).map(String::as_str) == Some("1");
    match workload {
        "point-build" => {
            let data: Vec<Cpu> = (0..n).map(sample).collect();
            if work {
                let points: Vec<Point> = data.iter().map(point).collect();
                black_box(points);
            }
            black_box(data);
        }
        "point-encode" => {
            let points: Vec<Point> = (0..n).map(|i| point(&sample(i))).collect();
            let mut buf = LineBuf::with_capacity(n * 128);
            if work {
                for p in &points {
                    buf.push_point(p, Precision::Nanoseconds);
                }
            }
            black_box((points, buf));
        }
        "derive-encode" => {
            let data: Vec<Cpu> = (0..n).map(sample).collect();
            let mut out = Vec::with_capacity(n * 128);
            if work {
                for c in &data {
                    c.write_line(&mut out).unwrap();
                    out.push(b'\n');
                }
            }
            black_box((data, out));
        }
        "record" => {
            let data: Vec<Cpu> = (0..n).map(sample).collect();
            // The buffer's first growth is the same in both runs.
            Cpu::clear();
            if work {
                for c in data.iter().cloned() {
                    c.record().unwrap();
                }
            }
            black_box(Cpu::pending());
            black_box(data);
        }
        "decode-typed" => {
            let body = answer(n);
            if work {
                let rows = influx_series::decode_rows::<Cpu, influx_series::Json>(
                    &body,
                    0,
                    Default::default(),
                )
                .unwrap();
                assert_eq!(rows.len(), n);
                black_box(rows);
            }
            black_box(body);
        }
        "decode-resultset" => {
            let body = answer(n);
            if work {
                let sets = influx_series::decode_response(&body, true).unwrap();
                assert_eq!(sets[0].len(), n);
                black_box(sets);
            }
            black_box(body);
        }
        #[cfg(feature = "hooks")]
        "answer-read" => {
            let input = answers().repeat(n);
            if work {
                let sum = influx_core::bench_hooks::read_answers(&input, 3 * n).unwrap();
                assert!(sum > 0);
                black_box(sum);
            }
            black_box(input);
        }
        #[cfg(feature = "msgpack-hooks")]
        "decode-typed-msgpack" => {
            let body = answer_msgpack(n);
            if work {
                let rows = influx_core::bench_hooks::decode_msgpack_rows::<Cpu>(&body).unwrap();
                assert_eq!(rows.len(), n);
                black_box(rows);
            }
            black_box(body);
        }
        #[cfg(feature = "msgpack-hooks")]
        "decode-resultset-msgpack" => {
            let body = answer_msgpack(n);
            if work {
                let sets = influx_core::bench_hooks::decode_msgpack_resultset(&body).unwrap();
                assert_eq!(sets[0].len(), n);
                black_box(sets);
            }
            black_box(body);
        }
        other => {
            eprintln!("unknown workload {other:?}");
            std::process::exit(2);
        }
    }
}
