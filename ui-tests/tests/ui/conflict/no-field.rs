use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: String,
}

fn main() {}
