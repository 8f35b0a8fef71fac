//! Timing work with a `Measurement`'s duration guard: each "request" of a small loop is
//! recorded with how long it took, and the buffered writer batches them in the background.
//!
//! Run against a private server: `scripts/demo` (it starts one), or set `INFLUXDB_URL`.

use std::time::Duration;

use influx_series::writer::{BufferedWriter, Measurement};
use influx_series::{Client, ClientConfig};

fn handle(path: &str) -> u16 {
    // Stands for real work: the longer the path, the longer it takes.
    std::thread::sleep(Duration::from_millis(2 * path.len() as u64));
    if path.contains("missing") { 404 } else { 200 }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("INFLUXDB_URL").unwrap_or_else(|_| "http://127.0.0.1:8086".into());
    let db = "request_timing";
    let client = Client::new(&url)?.with_database(db);
    client.create_database(db)?;

    let writer = BufferedWriter::builder()
        .client(ClientConfig::from_url(&url)?)
        .interval(Duration::from_millis(100))
        .tag("service", "demo")
        .start()?;

    let paths = ["/", "/items", "/items/42", "/missing"];
    for i in 0..20 {
        let path = paths[i % paths.len()];
        let mut m = Measurement::new(db, "requests");
        m.set_tag("endpoint", path);
        let status = {
            // Sets the `duration` field (seconds) when the block ends.
            let _timer = m.duration("duration");
            handle(path)
        };
        m.set_field("status", i64::from(status));
        writer.record(m);
    }

    writer.flush(Duration::from_secs(5))?;
    let stats = writer.stats();
    println!(
        "recorded {}, written {} in {} request(s)",
        stats.recorded, stats.written, stats.requests
    );
    let sets = client
        .query("SELECT count(\"duration\"), mean(\"duration\") FROM requests GROUP BY endpoint")?;
    for series in sets[0].series() {
        for row in series.rows() {
            let cells: Vec<_> = row.values().collect();
            println!(
                "{}: {} requests, mean {:.1} ms",
                series.tags()["endpoint"],
                cells[1].as_i64().unwrap_or_default(),
                cells[2].as_f64().unwrap_or_default() * 1e3
            );
        }
    }
    writer.shutdown(Duration::from_secs(5));
    client.drop_database(db)?;
    Ok(())
}
