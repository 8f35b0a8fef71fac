use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(bulk_size = 5)]
    usage: f64,
}

fn main() {}
