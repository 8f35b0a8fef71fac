use influx_series::Series;

#[derive(Series)]
#[series(max_pending = 0, max_pending_bytes = "lots")]
struct Cpu {
    usage: f64,
}

fn main() {}
