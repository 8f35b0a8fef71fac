//! The README's server examples, exactly as the README shows them (a test keeps the two the
//! same), run against a server: `INFLUXDB_URL`, else http://localhost:8086. The server may be
//! a fresh one: each example makes the database it writes to.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    points()?;
    derived()?;
    writer()?;
    Ok(())
}

fn points() -> Result<(), Box<dyn std::error::Error>> {
    // README: points
    use influx_series::{Client, Point, QueryOptions, WriteOptions};

    let client = Client::from_env()?; // INFLUXDB_URL, else http://localhost:8086
    println!("InfluxDB {}", client.ping()?);
    client.create_database("metrics")?;

    let point = Point::builder("cpu")
        .tag("host", "server01")
        .field("usage_user", 0.64)
        .field("count", 3i64)
        .build()?;
    let done = client.write_points([point], &WriteOptions::new("metrics"))?;
    println!("{} point(s) written", done.written);

    let results = client.query_with(
        "SELECT * FROM cpu WHERE host = $host",
        &QueryOptions::new()
            .database("metrics")
            .bind("host", "server01"),
    )?;
    for row in results[0].rows() {
        println!("{:?} {:?}", row.get("time"), row.get("usage_user"));
    }
    // README: end
    Ok(())
}

fn derived() -> Result<(), Box<dyn std::error::Error>> {
    // README: derive
    use influx_series::{Client, Series};

    #[derive(Series, Debug)]
    #[series(name = "events.stats.{server_name}", bulk_size = 5, autocommit)]
    struct EventStats {
        #[series(tag)]
        server_name: String,
        some_stat: i64,
        other_stat: Option<f64>,
    }

    let client = Client::from_env()?.with_database("mydb");
    client.create_database("mydb")?;
    EventStats::bind(client.clone());
    EventStats {
        server_name: "us.east-1".into(),
        some_stat: 159,
        other_stat: None,
    }
    .record()?;
    print!("{}", EventStats::pending_lines()); // what the next commit sends
    EventStats::commit()?;
    let rows: Vec<EventStats> = client.query_as("SELECT * FROM /^events\\.stats\\./")?;
    println!("{rows:?}");
    // README: end
    Ok(())
}

fn writer() -> Result<(), Box<dyn std::error::Error>> {
    // README: writer
    use influx_series::writer::{BufferedWriter, Measurement, OnMissingDatabase};
    use std::time::Duration;

    let writer = BufferedWriter::builder()
        .from_env() // INFLUXDB_URL, INFLUXDB_INTERVAL, ...
        .on_missing_database(OnMissingDatabase::Create) // a fresh server has no "example"
        .start()?;
    let mut m = Measurement::new("example", "requests");
    m.set_tag("route", "/items");
    {
        let _timer = m.duration("duration"); // the elapsed seconds, set when dropped
        // ... handle the request ...
    }
    writer.record(m); // Recorded::Enqueued, or why not
    let stats = writer.stats(); // recorded = sampled_out + invalid + dropped + rejected + written + ...
    assert!(stats.adds_up());
    let report = writer.shutdown(Duration::from_secs(5)); // sends what it can, then reports
    print!("{report}"); // what was written, and every drop with its count and reason
    // README: end
    Ok(())
}
