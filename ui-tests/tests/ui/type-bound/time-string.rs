use influx_series::Series;

#[derive(Series)]
struct Cpu {
    usage: f64,
    #[series(time)]
    at: String,
}

fn main() {}
