//! Queries against `curl` fetching the same answer chunked, and peak memory of reading large
//! answers, each in a fresh process. Starts its own influxd; prints tables.
//!
//! Run: `cargo bench -p influx-series-benches --bench stream`
//!
//! Timing: for 100 000 and 1 000 000 rows of the reference shape, and for a `GROUP BY` over
//! 10 000 series, `curl` (GET `/query?chunked=true`, body to `/dev/null`), `query` (merged
//! `ResultSet`) and `query_as::<Cpu>` run in interleaved rounds; the ratio lines give the median
//! of the per-round ratios `curl time / our time` (1.0: as fast as curl).
//!
//! Memory: the binary runs itself again once per variant (`STREAM_CHILD=variant`) and reports
//! that process's peak resident memory (`VmHWM`) after reading 1 000 000 rows: streaming them
//! with `query_as_stream`, and collecting them with `query_as`, where it also reports the
//! memory the returned `Vec` holds, counted by a counting allocator (the live bytes that dropping
//! the `Vec` frees); once more for a row type without strings. Two more processes give the
//! reference points: one small query (the process's own footprint), and the same `Vec<Cpu>`
//! built in memory with no client at all (what the allocator alone costs for these rows).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use influx_series::{Client, Precision, QueryOptions, Series};
use influx_series_benches::rounds::{Variant, interleaved, median, median_duration};
use influx_series_benches::samples;

/// The system allocator, counting the bytes live (requested sizes) while `COUNTING` is set, in
/// the memory child processes only, so the timing rounds pay a single relaxed load per call.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counter is
// bookkeeping only.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The bytes the allocator counts freed when `value` is dropped: what it holds.
fn held_by<T>(value: T) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    drop(value);
    (before - LIVE.load(Ordering::Relaxed)) as usize
}

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

#[derive(Series, Debug)]
#[series(name = "hc")]
struct Wide {
    #[series(tag)]
    host: String,
    v: f64,
    #[series(time)]
    time: i64,
}

/// The reference shape without its tags: rows that own no heap memory.
#[derive(Series, Debug)]
#[series(name = "cpu")]
struct CpuNumbers {
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: DateTime<Utc>,
}

const QUERY: &str = "SELECT * FROM cpu";
const WIDE_QUERY: &str = "SELECT * FROM hc GROUP BY host";

fn options() -> QueryOptions {
    QueryOptions::new().epoch(Precision::Nanoseconds)
}

fn seed(client: &Client, db: &str, rows: usize) {
    client.create_database(db).unwrap();
    let client = client.clone().with_database(db);
    for (i, s) in samples(rows).into_iter().enumerate() {
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
        if i % 50_000 == 49_999 {
            Cpu::commit_with(&client).unwrap();
        }
    }
    Cpu::commit_with(&client).unwrap();
}

/// `rows` rows over 10 000 series (fewer when `rows` is smaller).
fn seed_wide(client: &Client, db: &str, rows: i64) {
    client.create_database(db).unwrap();
    let client = client.clone().with_database(db);
    for i in 0..rows {
        Wide {
            host: format!("host{:05}", i % 10_000),
            v: i as f64 * 0.5,
            time: 1_700_000_000_000_000_000 + i,
        }
        .record()
        .unwrap();
    }
    Wide::commit_with(&client).unwrap();
}

/// `curl` fetching the query's answer chunked, as our client asks for it.
fn curl(url: &str, db: &str, query: &str) {
    let status = Command::new("curl")
        .args(["-s", "-f", "-o", "/dev/null", "-G"])
        .arg(format!("{url}/query"))
        .args(["--data-urlencode", &format!("db={db}")])
        .args(["--data-urlencode", &format!("q={query}")])
        .args(["--data-urlencode", "epoch=ns"])
        .args(["--data-urlencode", "chunked=true"])
        .status()
        .expect("curl runs");
    assert!(status.success());
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// One memory variant, in this (fresh) process.
fn child(variant: &str, url: &str, db: &str) {
    let client = Client::new(url).unwrap().with_database(db);
    match variant {
        "stream" => {
            let mut rows = 0usize;
            for row in client.query_as_stream::<Cpu>(QUERY, &options()).unwrap() {
                black_box(row.unwrap());
                rows += 1;
            }
            assert_eq!(rows, 1_000_000);
            println!("{}", peak_rss_kib());
        }
        "collect" => {
            let rows: Vec<Cpu> = client.query_as_with(QUERY, &options()).unwrap();
            assert_eq!(rows.len(), 1_000_000);
            let peak = peak_rss_kib();
            println!("{peak} {}", held_by(rows) / 1024);
        }
        "collect_numbers" => {
            let rows: Vec<CpuNumbers> = client.query_as_with(QUERY, &options()).unwrap();
            assert_eq!(rows.len(), 1_000_000);
            let peak = peak_rss_kib();
            println!("{peak} {}", held_by(rows) / 1024);
        }
        "floor" => {
            // The same rows built in memory, with no client and no query: what the process
            // and the allocator cost for this `Vec` alone.
            const REGIONS: [&str; 4] = ["us-west", "us-east", "eu-central", "ap-south"];
            let hosts: Vec<String> = (0..50).map(|i| format!("server{i:02}")).collect();
            let mut rows: Vec<Cpu> = Vec::new();
            for i in 0..1_000_000usize {
                rows.push(Cpu {
                    host: hosts[i % 50].clone(),
                    region: REGIONS[i % 4].to_owned(),
                    usage_user: i as f64,
                    usage_system: i as f64,
                    count: i as i64,
                    ok: i % 3 != 0,
                    time: DateTime::from_timestamp_nanos(i as i64),
                });
            }
            black_box(&rows);
            let peak = peak_rss_kib();
            println!("{peak} {}", held_by(rows) / 1024);
        }
        "baseline" => {
            // A client that sends one small query: the process's own footprint.
            black_box(client.query("SHOW DATABASES").unwrap());
            println!("{}", peak_rss_kib());
        }
        _ => panic!("unknown variant {variant}"),
    }
}

fn main() {
    if let Ok(variant) = std::env::var("STREAM_CHILD") {
        COUNTING.store(true, Ordering::Relaxed);
        let url = std::env::var("STREAM_URL").unwrap();
        let db = std::env::var("STREAM_DB").unwrap();
        child(&variant, &url, &db);
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    // For a profiler: `STREAM_PROFILE=query|query_as` seeds 1 000 000 rows and runs only that
    // call, three times.
    let profile = std::env::var("STREAM_PROFILE").ok();
    let server = influx_testserver::Server::start();
    let url = server.url();
    let client = Client::new(&url).unwrap();
    if let Some(call) = profile {
        seed(&client, "rows_1m", 1_000_000);
        let c = client.clone().with_database("rows_1m");
        for _ in 0..3 {
            let started = Instant::now();
            match call.as_str() {
                "query" => drop(black_box(c.query_with(QUERY, &options()).unwrap())),
                _ => drop(black_box(
                    c.query_as_with::<Cpu>(QUERY, &options()).unwrap(),
                )),
            }
            eprintln!("{call}: {:?}", started.elapsed());
        }
        return;
    }
    // `STREAM_MEMORY_ONLY=1` seeds 1 000 000 rows and measures only the memory table.
    let memory_only = std::env::var_os("STREAM_MEMORY_ONLY").is_some();
    let sizes: &[(usize, &str)] = if smoke {
        &[(1_000, "rows_1k")]
    } else if memory_only {
        &[(1_000_000, "rows_1m")]
    } else {
        &[(100_000, "rows_100k"), (1_000_000, "rows_1m")]
    };
    let started = Instant::now();
    for &(rows, db) in sizes {
        seed(&client, db, rows);
    }
    seed_wide(&client, "wide", if smoke { 1_000 } else { 100_000 });
    eprintln!("seeded in {:?}", started.elapsed());
    if !memory_only {
        speed(&client, &url, sizes, smoke);
    }

    let &(rows, db) = sizes.last().unwrap();
    if rows == 1_000_000 {
        println!();
        println!(
            "| 1 000 000 rows, fresh process each | peak RSS | the Vec holds (counted) | 1.3 x that + 16 MiB |"
        );
        println!("|---|---|---|---|");
        for variant in ["baseline", "stream", "floor", "collect", "collect_numbers"] {
            let out = Command::new(std::env::current_exe().unwrap())
                .env("STREAM_CHILD", variant)
                .env("STREAM_URL", &url)
                .env("STREAM_DB", db)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let figures: Vec<u64> = text
                .split_whitespace()
                .map(|f| f.parse().unwrap())
                .collect();
            let mib = |kib: u64| kib as f64 / 1024.0;
            let held = figures
                .get(1)
                .map_or("-".to_string(), |&kib| format!("{:.1} MiB", mib(kib)));
            let bound = figures.get(1).map_or("-".to_string(), |&kib| {
                format!("{:.1} MiB", 1.3 * mib(kib) + 16.0)
            });
            println!(
                "| {} | {:.1} MiB | {held} | {bound} |",
                match variant {
                    "baseline" => "one small query (the process's own footprint)",
                    "floor" => "the same Vec<Cpu> built in memory, no client",
                    "stream" => "query_as_stream::<Cpu>, rows dropped as read",
                    "collect" => "query_as::<Cpu>, collected",
                    _ => "query_as::<CpuNumbers> (no strings), collected",
                },
                figures[0] as f64 / 1024.0
            );
        }
    }
}

/// The interleaved timing rounds against chunked `curl`.
fn speed(client: &Client, url: &str, sizes: &[(usize, &str)], smoke: bool) {
    let (rounds, reps) = if smoke { (1, 1) } else { (5, 1) };
    println!("| answer | curl (chunked) | query | query_as | curl / query | curl / query_as |");
    println!("|---|---|---|---|---|---|");
    let mut cases: Vec<(String, &str, &str)> = sizes
        .iter()
        .map(|&(rows, db)| (format!("{rows} rows"), db, QUERY))
        .collect();
    cases.push(("GROUP BY, 10 000 series".to_string(), "wide", WIDE_QUERY));
    for (label, db, query) in &cases {
        let c = client.clone().with_database(*db);
        let mut variants = vec![
            Variant {
                name: "curl",
                run: Box::new(|| curl(url, db, query)),
            },
            Variant {
                name: "query",
                run: Box::new(|| {
                    black_box(c.query_with(query, &options()).unwrap());
                }),
            },
            Variant {
                name: "query_as",
                run: Box::new(|| {
                    if *db == "wide" {
                        black_box(c.query_as_with::<Wide>(query, &options()).unwrap());
                    } else {
                        black_box(c.query_as_with::<Cpu>(query, &options()).unwrap());
                    }
                }),
            },
        ];
        let times = interleaved(&mut variants, rounds, reps);
        let ratio = |ours: usize| {
            median(
                times[0]
                    .iter()
                    .zip(&times[ours])
                    .map(|(c, o)| c.as_secs_f64() / o.as_secs_f64())
                    .collect(),
            )
        };
        let ms = |i: usize| median_duration(&times[i]).as_secs_f64() * 1e3;
        println!(
            "| {label} | {:.0} ms | {:.0} ms | {:.0} ms | {:.2}x | {:.2}x |",
            ms(0),
            ms(1),
            ms(2),
            ratio(1),
            ratio(2)
        );
    }
}
