use influx_series::Series;

static CLIENT: &str = "http://127.0.0.1:8086";

#[derive(Series)]
#[series(client = "CLIENT")]
struct Cpu {
    usage: f64,
}

fn main() {}
