use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(rename)]
    usage: f64,
}

fn main() {}
