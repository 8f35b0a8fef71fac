use influx_series::Series;

#[derive(Series)]
#[series(bulk_size = 100, autocommit = "later")]
struct Cpu {
    usage: f64,
}

#[derive(Series)]
#[series(autocommit = 1)]
struct Mem {
    used: i64,
}

fn main() {}
