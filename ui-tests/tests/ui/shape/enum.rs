use influx_series::Series;

#[derive(Series)]
enum Cpu {
    Usage { usage: f64 },
}

fn main() {}
