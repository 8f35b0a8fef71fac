use influx_series::Series;

#[derive(Series)]
struct Cpu {
    usage: f64,
    #[series(time)]
    start: i64,
    #[series(time)]
    end: i64,
}

fn main() {}
