use influx_series::Series;

#[derive(Series)]
#[series(name = "cpu.{at}")]
struct Cpu {
    usage: f64,
    #[series(time)]
    at: i64,
}

fn main() {}
