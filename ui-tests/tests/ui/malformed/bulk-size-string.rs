use influx_series::Series;

#[derive(Series)]
#[series(bulk_size = "5")]
struct Cpu {
    usage: f64,
}

fn main() {}
