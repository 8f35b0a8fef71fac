use influx_series::Series;

#[derive(Series)]
#[series(name = "cpu.{hostname}", bulk = 5, bulk_size = 0)]
struct Cpu {
    #[series(tag)]
    host: String,
    usage: f64,
    #[series(time)]
    start: i64,
    #[series(time)]
    end: i64,
}

fn main() {}
