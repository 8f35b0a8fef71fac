//! sprockets-influxdb's example, in Rust: a measurement with a tag and a field, recorded into
//! the buffered writer and written when the program shuts the writer down.
//!
//! The writer is configured from the environment, by sprockets' variable names
//! (`INFLUXDB_URL` or `INFLUXDB_HOST`/`INFLUXDB_PORT`, `INFLUXDB_INTERVAL`, ...). Run against
//! a private server: `scripts/demo` (it starts one), or set `INFLUXDB_URL`.

use std::time::Duration;

use influx_series::Client;
use influx_series::writer::{BufferedWriter, Measurement};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("INFLUXDB_URL").unwrap_or_else(|_| "http://127.0.0.1:8086".into());
    let client = Client::new(&url)?;
    client.create_database("example")?;

    // Every setting the code leaves unset comes from the environment, else the default
    // (a flush every 60 s, or at 10 000 points).
    let writer = BufferedWriter::builder()
        .from_env()
        .hostname("demo-host")
        .start()?;

    let mut measurement = Measurement::new("example", "measurement-name");
    measurement.set_tag("foo", "bar");
    measurement.set_field("baz", 1.05);
    let outcome = writer.record(measurement);
    println!("record: {outcome:?}");

    // Nothing is written yet: the interval has not passed. Shutting down writes it.
    let report = writer.shutdown(Duration::from_secs(5));
    println!(
        "shutdown: complete {}, {} written, {} left over",
        report.complete, report.stats.written, report.left_over
    );

    let client = client.with_database("example");
    let sets = client.query("SELECT * FROM \"measurement-name\"")?;
    for row in sets[0].rows() {
        println!("stored: {row:?}");
    }
    client.drop_database("example")?;
    if report.stats.written != 1 {
        return Err(format!("expected 1 point written: {:?}", report.stats).into());
    }
    Ok(())
}
