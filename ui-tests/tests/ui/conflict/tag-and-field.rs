use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag, field)]
    host: String,
    usage: f64,
}

fn main() {}
