use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag)]
    core: i64,
    usage: f64,
}

fn main() {}
