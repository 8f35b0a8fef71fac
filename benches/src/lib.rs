//! Shared data for the benchmarks: the reference shape of DESIGN.md section 7.
//!
//! Measurement `cpu`, tags `host` (50 values) and `region`, fields `usage_user` f64,
//! `usage_system` f64, `count` i64, `ok` bool, nanosecond timestamp.

pub mod rounds;

/// One point of the reference shape, as plain data.
#[derive(Debug, Clone)]
pub struct Sample {
    /// One of 50 host names.
    pub host: String,
    /// One of 4 regions.
    pub region: String,
    /// A float field.
    pub usage_user: f64,
    /// A float field.
    pub usage_system: f64,
    /// An integer field.
    pub count: i64,
    /// A boolean field.
    pub ok: bool,
    /// Nanoseconds since the epoch.
    pub nanos: i64,
}

/// `n` samples of the reference shape, deterministic.
pub fn samples(n: usize) -> Vec<Sample> {
    const REGIONS: [&str; 4] = ["us-west", "us-east", "eu-central", "ap-south"];
    let start = 1_700_000_000_000_000_000i64;
    (0..n)
        .map(|i| Sample {
            host: format!("server{:02}", i % 50),
            region: REGIONS[i % 4].to_owned(),
            usage_user: (i % 1000) as f64 * 0.137 + 0.5,
            usage_system: (i % 777) as f64 / 7.0,
            count: (i as i64) * 31 - 5000,
            ok: i % 3 != 0,
            nanos: start + (i as i64) * 1_000_003,
        })
        .collect()
}

/// One point of the reference shape as a `#[derive(Series)]` type, owned: what `query_as`
/// returns, and what the benches record and encode.
#[derive(influx_series::Series, Debug, Clone)]
#[series(name = "cpu")]
pub struct Cpu {
    /// One of 50 host names.
    #[series(tag)]
    pub host: String,
    /// One of 4 regions.
    #[series(tag)]
    pub region: String,
    /// A float field.
    pub usage_user: f64,
    /// A float field.
    pub usage_system: f64,
    /// An integer field.
    pub count: i64,
    /// A boolean field.
    pub ok: bool,
    /// The point's time.
    #[series(time)]
    pub time: chrono::DateTime<chrono::Utc>,
}

impl Cpu {
    /// The point of `s`.
    pub fn of(s: &Sample) -> Cpu {
        Cpu {
            host: s.host.clone(),
            region: s.region.clone(),
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: chrono::DateTime::from_timestamp_nanos(s.nanos),
        }
    }

    /// The same point, borrowed from this one.
    pub fn borrowed(&self) -> CpuRef<'_> {
        CpuRef {
            host: &self.host,
            region: &self.region,
            usage_user: self.usage_user,
            usage_system: self.usage_system,
            count: self.count,
            ok: self.ok,
            time: self.time,
        }
    }

    /// The heap memory this point owns (its two strings' capacities).
    pub fn heap_bytes(&self) -> usize {
        self.host.capacity() + self.region.capacity()
    }
}

/// The same point borrowed from a [`Sample`]: recorded by value without copying its
/// strings, so a timed `record()` does what an application's does, not a clone.
#[derive(influx_series::Series)]
#[series(name = "cpu")]
pub struct CpuRef<'a> {
    /// One of 50 host names.
    #[series(tag)]
    pub host: &'a str,
    /// One of 4 regions.
    #[series(tag)]
    pub region: &'a str,
    /// A float field.
    pub usage_user: f64,
    /// A float field.
    pub usage_system: f64,
    /// An integer field.
    pub count: i64,
    /// A boolean field.
    pub ok: bool,
    /// The point's time.
    #[series(time)]
    pub time: chrono::DateTime<chrono::Utc>,
}

impl<'a> CpuRef<'a> {
    /// The point of `s`, borrowed.
    pub fn of(s: &'a Sample) -> CpuRef<'a> {
        CpuRef {
            host: &s.host,
            region: &s.region,
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
            time: chrono::DateTime::from_timestamp_nanos(s.nanos),
        }
    }
}

/// The same point for the `influxdb` crate's `#[derive(InfluxDbWriteable)]`.
#[derive(influxdb::InfluxDbWriteable, Clone)]
pub struct PeerCpu {
    /// The point's time.
    pub time: chrono::DateTime<chrono::Utc>,
    /// One of 50 host names.
    #[influxdb(tag)]
    pub host: String,
    /// One of 4 regions.
    #[influxdb(tag)]
    pub region: String,
    /// A float field.
    pub usage_user: f64,
    /// A float field.
    pub usage_system: f64,
    /// An integer field.
    pub count: i64,
    /// A boolean field.
    pub ok: bool,
}

impl PeerCpu {
    /// The point of `s`.
    pub fn of(s: &Sample) -> PeerCpu {
        PeerCpu {
            time: chrono::DateTime::from_timestamp_nanos(s.nanos),
            host: s.host.clone(),
            region: s.region.clone(),
            usage_user: s.usage_user,
            usage_system: s.usage_system,
            count: s.count,
            ok: s.ok,
        }
    }
}
