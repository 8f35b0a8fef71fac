use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tags)]
    host: String,
    usage: f64,
}

fn main() {}
