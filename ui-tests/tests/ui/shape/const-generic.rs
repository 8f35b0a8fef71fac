use influx_series::Series;

#[derive(Series)]
struct Cpu<const N: usize> {
    usage: [f64; N],
}

fn main() {}
