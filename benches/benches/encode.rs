//! Encoding 10 000 points of the reference shape: influx-series `Point` against the `influxdb`
//! crate's `WriteQuery`, in the same run.
//!
//! Run: `cargo bench -p influx-series-benches --bench encode`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use influx_series::{LineBuf, Point, Precision};
use influx_series_benches::{Sample, samples};
use influxdb::{Query, Timestamp, WriteQuery};
use std::hint::black_box;

const N: usize = 10_000;

fn build_point(s: &Sample) -> Point {
    Point::builder("cpu")
        .tag("host", s.host.as_str())
        .tag("region", s.region.as_str())
        .field("usage_user", s.usage_user)
        .field("usage_system", s.usage_system)
        .field("count", s.count)
        .field("ok", s.ok)
        .timestamp_in(s.nanos, Precision::Nanoseconds)
        .build()
        .expect("reference points are valid")
}

fn build_queries(samples: &[Sample]) -> Vec<WriteQuery> {
    samples
        .iter()
        .map(|s| {
            WriteQuery::new(Timestamp::Nanoseconds(s.nanos as u128), "cpu")
                .add_tag("host", s.host.as_str())
                .add_tag("region", s.region.as_str())
                .add_field("usage_user", s.usage_user)
                .add_field("usage_system", s.usage_system)
                .add_field("count", s.count)
                .add_field("ok", s.ok)
        })
        .collect()
}

fn encode(c: &mut Criterion) {
    let data = samples(N);
    let points: Vec<Point> = data.iter().map(build_point).collect();
    let queries = build_queries(&data);

    // Both produce the same lines (modulo field formatting), so they do the same work.
    let mut buf = LineBuf::with_capacity(1 << 20);
    for p in &points {
        buf.push_point(p, Precision::Nanoseconds);
    }
    let theirs = queries.build().expect("influxdb builds").get();
    assert_eq!(buf.lines(), theirs.lines().count());

    let mut group = c.benchmark_group("encode_10k");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);

    group.bench_function(BenchmarkId::new("influx-series", "build+encode"), |b| {
        let mut buf = LineBuf::with_capacity(1 << 20);
        b.iter(|| {
            buf.clear();
            // What a user does: build each point and encode it into a reused buffer.
            for s in black_box(&data) {
                buf.push_point(&build_point(s), Precision::Nanoseconds);
            }
            black_box(buf.len_bytes())
        })
    });
    group.bench_function(BenchmarkId::new("influxdb-0.8", "build+encode"), |b| {
        b.iter(|| {
            let q = build_queries(black_box(&data));
            black_box(q.build().expect("builds").get().len())
        })
    });
    group.bench_function(BenchmarkId::new("influx-series", "encode"), |b| {
        let mut buf = LineBuf::with_capacity(1 << 20);
        b.iter(|| {
            buf.clear();
            for p in black_box(&points) {
                buf.push_point(p, Precision::Nanoseconds);
            }
            black_box(buf.len_bytes())
        })
    });
    group.bench_function(BenchmarkId::new("influxdb-0.8", "encode"), |b| {
        b.iter(|| black_box(black_box(&queries).build().expect("builds").get().len()))
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
