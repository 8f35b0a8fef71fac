//! The points every variant writes and the rows every query reads: the reference shape of
//! DESIGN.md section 7 (`influx_series_benches::samples`), in each client's own form, built
//! before any timing starts.

use chrono::{DateTime, Utc};
use influx_series::{Point, Precision, Series};
use influx_series_benches::{Sample, samples};
use influxdb::InfluxDbWriteable;

/// Lines per pre-encoded body of the ceiling, and points per request of every batched write.
pub(crate) const BATCH: usize = 5_000;

/// The measurement every variant writes and every query reads.
pub(crate) const MEASUREMENT: &str = "cpu";

/// The query every read variant runs.
pub(crate) const QUERY: &str = "SELECT * FROM cpu";

/// One row of the answer to [`QUERY`], owned: what `query_as` returns.
#[derive(Series, Debug)]
#[series(name = "cpu")]
pub(crate) struct Cpu {
    #[series(tag)]
    pub(crate) host: String,
    #[series(tag)]
    pub(crate) region: String,
    pub(crate) usage_user: f64,
    pub(crate) usage_system: f64,
    pub(crate) count: i64,
    pub(crate) ok: bool,
    #[series(time)]
    pub(crate) time: DateTime<Utc>,
}

impl Cpu {
    /// The heap memory this row owns (its two strings' capacities).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.host.capacity() + self.region.capacity()
    }

    /// The heap memory the allocator holds for this row's two strings (see [`malloc_chunk`]).
    pub(crate) fn held_heap_bytes(&self) -> usize {
        malloc_chunk(self.host.capacity()) + malloc_chunk(self.region.capacity())
    }
}

/// The memory glibc's `malloc` holds for a request of `n` bytes (none for 0: an empty
/// `String` allocates nothing): the request and an 8-byte size field, rounded up to 16
/// bytes, and at least 32 bytes, its smallest chunk on 64-bit Linux (`MINSIZE`). A string of
/// 8 bytes thus holds 32. Large requests are mapped whole instead, but no string here is.
pub(crate) fn malloc_chunk(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

/// A point borrowed from a [`Sample`]: recorded by value without copying its strings, so
/// the timed part of the derive and writer variants does what an application's `record()`
/// does, not a clone. Used for the ceiling's bodies and the buffered writer.
#[derive(Series)]
#[series(name = "cpu")]
pub(crate) struct CpuLine<'a> {
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

/// The same point for the derive variant: its own type, so its own buffer, which writes
/// itself every 5 000 points from `record()`.
#[derive(Series)]
#[series(name = "cpu", bulk_size = 5000, autocommit)]
pub(crate) struct CpuRecord<'a> {
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

/// The same point with `autocommit = "background"`: `record()` starts each commit on a
/// thread of its own instead of making it.
#[derive(Series)]
#[series(name = "cpu", bulk_size = 5000, autocommit = "background")]
pub(crate) struct CpuRecordBackground<'a> {
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

/// The same point for the `influxdb` crate's derive (which consumes it: copies are made
/// before the timed part).
#[derive(InfluxDbWriteable, Clone)]
pub(crate) struct PeerCpu {
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

/// One row of [`QUERY`] read through serde, its time as `T`.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // decoded, never read: decoding is what is measured
pub(crate) struct Row<T> {
    time: T,
    count: i64,
    host: String,
    ok: bool,
    region: String,
    usage_system: f64,
    usage_user: f64,
}

/// A row for `query_deserialize`: the time as epoch nanoseconds.
pub(crate) type CpuRow = Row<i64>;

/// A row for the `influxdb` crate's serde path (it asks for no epoch, so the time comes as
/// RFC 3339 text).
pub(crate) type PeerRow = Row<String>;

/// `n` points of the reference shape, ready for every writer.
pub(crate) struct Dataset {
    samples: Vec<Sample>,
    /// For `Client::write_points`.
    pub(crate) points: Vec<Point>,
    /// The same lines, pre-encoded in bodies of [`BATCH`] lines, for the ceiling.
    pub(crate) bodies: Vec<Vec<u8>>,
    /// For the `influxdb` crate.
    pub(crate) peer: Vec<PeerCpu>,
}

impl Dataset {
    /// Builds every form of `n` samples.
    pub(crate) fn new(n: usize) -> Result<Dataset, String> {
        let samples = samples(n);
        let points = samples.iter().map(point).collect::<Result<Vec<_>, _>>()?;
        let mut bodies = Vec::new();
        for chunk in samples.chunks(BATCH) {
            let mut body = Vec::with_capacity(chunk.len() * 128);
            for sample in chunk {
                line(sample)
                    .write_line(&mut body)
                    .map_err(|e| format!("encoding a body: {e}"))?;
                body.push(b'\n');
            }
            bodies.push(body);
        }
        let peer = samples.iter().map(peer).collect();
        Ok(Dataset {
            samples,
            points,
            bodies,
            peer,
        })
    }

    /// How many points it holds.
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Point `i`, borrowed, for the buffered writer.
    pub(crate) fn line(&self, i: usize) -> CpuLine<'_> {
        line(&self.samples[i])
    }

    /// Point `i`, borrowed, for the derive's own buffer.
    pub(crate) fn record(&self, i: usize) -> CpuRecord<'_> {
        let s = &self.samples[i];
        CpuRecord {
            host: &s.host,
            region: &s.region,
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: DateTime::from_timestamp_nanos(s.nanos),
        }
    }

    /// Point `i`, borrowed, for the background-committing derive's buffer.
    pub(crate) fn record_background(&self, i: usize) -> CpuRecordBackground<'_> {
        let s = &self.samples[i];
        CpuRecordBackground {
            host: &s.host,
            region: &s.region,
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: DateTime::from_timestamp_nanos(s.nanos),
        }
    }
}

fn line(s: &Sample) -> CpuLine<'_> {
    CpuLine {
        host: &s.host,
        region: &s.region,
        usage_user: s.usage_user,
        usage_system: s.usage_system,
        count: s.count,
        ok: s.ok,
        time: DateTime::from_timestamp_nanos(s.nanos),
    }
}

/// A sample for the `influxdb` crate's derive.
pub(crate) fn peer(s: &Sample) -> PeerCpu {
    PeerCpu {
        time: DateTime::from_timestamp_nanos(s.nanos),
        host: s.host.clone(),
        region: s.region.clone(),
        usage_user: s.usage_user,
        usage_system: s.usage_system,
        count: s.count,
        ok: s.ok,
    }
}

/// A sample as a [`Point`].
pub(crate) fn point(s: &Sample) -> Result<Point, String> {
    Point::builder(MEASUREMENT)
        .tag("host", s.host.as_str())
        .tag("region", s.region.as_str())
        .field("usage_user", s.usage_user)
        .field("usage_system", s.usage_system)
        .field("count", s.count)
        .field("ok", s.ok)
        .timestamp_in(s.nanos, Precision::Nanoseconds)
        .build()
        .map_err(|e| format!("building a point: {e}"))
}
