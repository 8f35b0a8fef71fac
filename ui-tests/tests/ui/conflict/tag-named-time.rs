use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag)]
    time: String,
    usage: f64,
}

fn main() {}
