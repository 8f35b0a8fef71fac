use influx_series::Series;

#[derive(Series)]
struct Cpu {
    payload: Vec<u8>,
}

fn main() {}
