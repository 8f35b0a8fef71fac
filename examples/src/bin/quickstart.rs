//! Writes points through `Point`, reads their count back, and cleans up.
//!
//! Run against a private server: `scripts/demo` (it starts one), or set `INFLUXDB_URL`.

use influx_series::chrono::{Duration, TimeZone, Utc};
use influx_series::{Client, LineBuf, Point, Precision, QueryOptions, WriteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("INFLUXDB_URL").unwrap_or_else(|_| "http://127.0.0.1:8086".into());
    let client = Client::new(&url)?;
    println!("Connected to InfluxDB {} at {url}", client.ping()?);

    let db = "quickstart";
    client.create_database(db)?;

    let start = Utc.with_ymd_and_hms(2009, 11, 10, 23, 0, 0).unwrap();
    let mut lines = LineBuf::new();
    for i in 0..1_000i64 {
        let point = Point::builder("cpu_load_short")
            .tag("host", format!("server{:02}", i % 10))
            .tag("region", "us-west")
            .field("value", 0.64 + i as f64 / 1000.0)
            .field("count", i)
            .field("ok", i % 7 != 0)
            .field("note", "line protocol, exactly")
            .timestamp(start + Duration::seconds(i))
            .build()?;
        lines.push_point(&point, Precision::Seconds);
    }
    println!(
        "First line: {}",
        lines.as_str().lines().next().unwrap_or_default()
    );
    client.write_lines(&lines, &WriteOptions::new(db).precision(Precision::Seconds))?;
    println!("Wrote {} points", lines.lines());

    let options = QueryOptions::new().database(db);
    let answer = client.query_raw("SELECT count(value) FROM cpu_load_short", &options)?;
    let json: serde_json::Value = serde_json::from_slice(&answer)?;
    let count = &json["results"][0]["series"][0]["values"][0][1];
    println!("SELECT count(value) FROM cpu_load_short -> {count}");

    client.drop_database(db)?;
    println!("Dropped database {db}");
    if count.as_u64() != Some(lines.lines() as u64) {
        return Err(format!("expected {} points, the server has {count}", lines.lines()).into());
    }
    Ok(())
}
