use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(rename = "time")]
    usage: f64,
}

fn main() {}
