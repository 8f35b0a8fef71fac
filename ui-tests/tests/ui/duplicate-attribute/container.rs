use influx_series::Series;

#[derive(Series)]
#[series(bulk_size = 5)]
#[series(bulk_size = 10)]
struct Cpu {
    usage: f64,
}

fn main() {}
