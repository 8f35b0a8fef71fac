//! influxdb-python's tutorial (`examples/tutorial.py`), in Rust.
//!
//! The Python tutorial queries `select value from cpu_load_short;`, a field its own points do
//! not have, so it prints an empty result; this one selects the fields it wrote. Its
//! retention-policy and user-switching steps need the admin helpers and arrive with them.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --bin tutorial`

use influx_series::chrono::{TimeZone, Utc};
use influx_series::{Client, ClientConfig, Point, WriteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ClientConfig::from_env()?;
    let dbname = "example";
    let query = "select Float_value, Int_value, String_value, Bool_value from cpu_load_short;";
    let points = [Point::builder("cpu_load_short")
        .tag("host", "server01")
        .tag("region", "us-west")
        .field("Float_value", 0.64)
        .field("Int_value", 3i64)
        .field("String_value", "Text")
        .field("Bool_value", true)
        .timestamp(Utc.with_ymd_and_hms(2009, 11, 10, 23, 0, 0).unwrap())
        .build()?];

    let mut client = Client::with_config(config)?;

    println!("Create database: {dbname}");
    client.create_database(dbname)?;
    client.switch_database(dbname);

    println!("Write points: {}", points[0].to_line(Default::default()));
    client.write_points(&points, &WriteOptions::default())?;

    println!("Querying data: {query}");
    let result = client.query(query)?;
    println!("Result: {}", result[0]);

    println!("Drop database: {dbname}");
    client.drop_database(dbname)?;
    if result[0].len() != 1 {
        return Err("the point did not come back".into());
    }
    Ok(())
}
