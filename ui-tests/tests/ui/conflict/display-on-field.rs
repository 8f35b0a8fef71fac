use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(display)]
    usage: f64,
}

fn main() {}
