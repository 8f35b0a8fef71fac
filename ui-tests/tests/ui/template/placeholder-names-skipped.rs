use influx_series::Series;

#[derive(Series)]
#[series(name = "cpu.{note}")]
struct Cpu {
    usage: f64,
    #[series(skip)]
    note: String,
}

fn main() {}
