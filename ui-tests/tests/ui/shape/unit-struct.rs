use influx_series::Series;

#[derive(Series)]
struct Cpu;

fn main() {}
