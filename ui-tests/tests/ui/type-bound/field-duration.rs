use influx_series::Series;

#[derive(Series)]
#[series(name = "job.{elapsed}")]
struct Job {
    elapsed: std::time::Duration,
}

fn main() {}
