use influx_series::Series;

#[derive(Series)]
#[series(autocommit = "background")]
struct Cpu {
    usage: f64,
}

fn main() {}
