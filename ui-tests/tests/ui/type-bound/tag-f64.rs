use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag)]
    load: f64,
    usage: f64,
}

fn main() {}
