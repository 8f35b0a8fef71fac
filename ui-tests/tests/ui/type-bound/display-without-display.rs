use influx_series::Series;

struct Rack(u16);

#[derive(Series)]
struct Cpu {
    #[series(tag, display)]
    rack: Rack,
    usage: f64,
}

fn main() {}
