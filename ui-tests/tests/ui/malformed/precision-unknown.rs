use influx_series::Series;

#[derive(Series)]
#[series(precision = "d")]
struct Cpu {
    usage: f64,
}

fn main() {}
