//! Shared data for the benchmarks: the reference shape of DESIGN.md section 7.
//!
//! The `#[derive(Series)]` types of the reference shape are not shared here: each bench
//! defines its own, in its own crate, as an application does, so that the generated code it
//! times is compiled with the code that times it rather than called across crates.
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
