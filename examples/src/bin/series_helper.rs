//! influxdb-python's SeriesHelper tutorial (`tutorial_serieshelper.py`), checked at compile
//! time: the schema is a struct, its mistakes are compile errors.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --bin series_helper`

use influx_series::{Client, ClientConfig, QueryOptions, Series};

/// Instantiate a Series to write points to the backend.
#[derive(Series)]
// The series name: `{server_name}` is filled from the member of that name.
// bulk_size: points to store before writing on the wire; autocommit: write them then.
#[series(name = "events.stats.{server_name}", bulk_size = 5, autocommit)]
struct MySeriesHelper {
    #[series(tag)]
    server_name: String,
    some_stat: i64,
    other_stat: i64,
}

fn count(client: &Client) -> Result<i64, influx_series::Error> {
    let results = client.query_with(
        "SELECT count(some_stat) FROM /^events\\.stats\\./",
        &QueryOptions::new(),
    )?;
    Ok(results[0]
        .rows()
        .filter_map(|r| r.get("count").and_then(|v| v.as_i64()))
        .sum())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ClientConfig::from_env()?;
    let mut client = Client::with_config(config)?;
    let dbname = "mydb";
    client.create_database(dbname)?;
    client.switch_database(dbname);
    MySeriesHelper::bind(client.clone());

    // The following creates *five* data points. Since bulk_size is 5, upon the fifth
    // record() call *all* data points are written on the wire.
    for (i, (some_stat, other_stat)) in [(159, 10), (158, 20), (157, 30), (156, 40), (155, 50)]
        .into_iter()
        .enumerate()
    {
        MySeriesHelper {
            server_name: "us.east-1".into(),
            some_stat,
            other_stat,
        }
        .record()?;
        println!(
            "record #{}: {} pending, {} stored",
            i + 1,
            MySeriesHelper::pending(),
            count(&client)?
        );
    }

    MySeriesHelper {
        server_name: "us.west-2".into(),
        some_stat: 154,
        other_stat: 60,
    }
    .record()?;
    // What the next commit sends (Python's `_json_body_()`):
    print!("pending lines:\n{}", MySeriesHelper::pending_lines());

    // To manually submit data points which are not yet written, call commit:
    let done = MySeriesHelper::commit()?;
    println!(
        "commit: {} point(s) in {} request(s); {} stored",
        done.written,
        done.requests,
        count(&client)?
    );

    client.drop_database(dbname)?;
    Ok(())
}
