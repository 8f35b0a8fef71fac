use influx_series::Series;

#[derive(Series)]
#[series(tag)]
struct Cpu {
    host: String,
    usage: f64,
}

fn main() {}
