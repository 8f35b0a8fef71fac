use influx_series::Series;

#[derive(Series)]
#[series(name = "cpu.{host}")]
struct Cpu {
    #[series(tag)]
    host: Vec<u8>,
    usage: f64,
}

fn main() {}
