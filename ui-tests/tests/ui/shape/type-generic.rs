use influx_series::Series;

#[derive(Series)]
struct Cpu<T> {
    usage: T,
}

fn main() {}
