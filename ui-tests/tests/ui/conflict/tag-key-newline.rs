use influx_series::Series;

#[derive(Series)]
struct Cpu {
    #[series(tag, rename = "host\nname")]
    host: String,
    usage: f64,
}

fn main() {}
