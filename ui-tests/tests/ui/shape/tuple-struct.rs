use influx_series::Series;

#[derive(Series)]
struct Cpu(f64);

fn main() {}
