use influx_series::Series;

#[derive(Series)]
struct Cpu {
    usage: f64,
    #[series(rename = "usage")]
    usage_percent: f64,
}

fn main() {}
