use influx_series::Series;

#[derive(Series)]
#[series(name = "cpu.{hostname}")]
struct Cpu {
    #[series(tag)]
    host: String,
    usage: f64,
}

fn main() {}
