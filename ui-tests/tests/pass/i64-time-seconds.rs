//! An `i64` time member counted in the declared precision.

use influx_series::Series;

#[derive(Series)]
#[series(precision = "s")]
struct Uptime {
    seconds: u64,
    #[series(time)]
    at: i64,
}

fn main() {
    let mut out = Vec::new();
    Uptime {
        seconds: 42,
        at: 1_588_334_400,
    }
    .write_line(&mut out)
    .unwrap();
    assert_eq!(out, b"uptime seconds=42i 1588334400");
}
