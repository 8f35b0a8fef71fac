//! Records points of a struct, commits them, and reads them back into the same struct.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --bin read_back`

use influx_series::chrono::{DateTime, TimeZone, Utc};
use influx_series::{Client, ClientConfig, Series};

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "cpu_load", precision = "ms")]
struct CpuLoad {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: Option<String>,
    #[series(rename = "load1")]
    load_1m: f64,
    processes: u32,
    healthy: bool,
    note: Option<String>,
    #[series(time)]
    at: DateTime<Utc>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::with_config(ClientConfig::from_env()?)?.with_database("read_back");
    client.create_database("read_back")?;

    let start = Utc.with_ymd_and_hms(2024, 2, 29, 12, 0, 0).unwrap();
    let written: Vec<CpuLoad> = (0..4)
        .map(|i| CpuLoad {
            host: format!("server{i:02}"),
            region: (i % 2 == 0).then(|| "us-west".to_owned()),
            load_1m: 0.25 * f64::from(i),
            processes: 100 + i,
            healthy: i != 3,
            note: (i == 3).then(|| "paged \"ops\"".to_owned()),
            at: start + chrono_seconds(i),
        })
        .collect();

    println!("Recording {} points:", written.len());
    for point in &written {
        println!("  {point:?}");
        point.clone().record()?;
    }
    print!("Pending lines:\n{}", CpuLoad::pending_lines());
    let done = CpuLoad::commit_with(&client)?;
    println!(
        "Committed {} point(s) in {} request(s)",
        done.written, done.requests
    );

    let read: Vec<CpuLoad> = client.query_as("SELECT * FROM cpu_load ORDER BY time")?;
    println!("Read back {} points:", read.len());
    for point in &read {
        println!("  {point:?}");
    }
    client.drop_database("read_back")?;
    if read != written {
        return Err("what was read back differs from what was written".into());
    }
    println!("Read back equals what was written.");
    Ok(())
}

fn chrono_seconds(i: u32) -> influx_series::chrono::Duration {
    influx_series::chrono::Duration::seconds(i64::from(i))
}
