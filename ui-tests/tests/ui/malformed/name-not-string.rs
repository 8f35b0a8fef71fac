use influx_series::Series;

#[derive(Series)]
#[series(name = 5)]
struct Cpu {
    usage: f64,
}

fn main() {}
