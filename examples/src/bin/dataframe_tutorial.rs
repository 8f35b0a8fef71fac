//! influxdb-python's pandas tutorial (`examples/tutorial_pandas.py`), on polars: a frame of 30
//! hourly values written plain and with tags, read back, and the database dropped.
//!
//! The Python tutorial writes with `protocol='json'` to avoid its line-protocol time bugs
//! (#412, #426, #431); this library's line protocol has none, so it writes lines. Python's
//! frame has an index and an unnamed column `0`; a polars frame has no index, so the times
//! are a column named `time`, and the values a column named `0` (the field key Python writes).
//! Python's `select * from demo` result is not printed by the tutorial; this one prints it.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --features polars --bin dataframe_tutorial`

use influx_series::frame::polars_core::prelude::*;
use influx_series::frame::{FrameKey, FrameQueryOptions, FrameWriteOptions};
use influx_series::{Client, ClientConfig, SharedTags, WriteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dbname = "demo";
    let client = Client::with_config(ClientConfig::from_env()?)?.with_database(dbname);

    println!("Create polars DataFrame");
    // pd.date_range(start='2014-11-16', periods=30, freq='H')
    let start = 1_416_096_000_000_000_000i64;
    let hours: Vec<i64> = (0..30).map(|h| start + h * 3_600_000_000_000).collect();
    let df = DataFrame::new(
        30,
        vec![
            Int64Chunked::from_vec("time".into(), hours)
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
            Column::new("0".into(), (0..30i64).collect::<Vec<_>>()),
        ],
    )?;

    println!("Create database: {dbname}");
    client.create_database(dbname)?;

    println!("Write DataFrame");
    let plain = FrameWriteOptions::new();
    let done = client.write_dataframe(&df, "demo", &plain)?;
    println!(
        "  {} points in {} request(s)",
        done.commit.written, done.commit.requests
    );

    println!("Write DataFrame with Tags");
    let tagged = FrameWriteOptions::new().write_options(
        WriteOptions::default().tags(SharedTags::new([("k1", "v1"), ("k2", "v2")])?),
    );
    let done = client.write_dataframe(&df, "demo", &tagged)?;
    println!(
        "  {} points in {} request(s)",
        done.commit.written, done.commit.requests
    );

    println!("Read DataFrame");
    let frames = client.query_dataframes("select * from demo", &FrameQueryOptions::new())?;
    let demo = frames
        .get(&FrameKey::new("demo", Vec::<(String, String)>::new()))
        .ok_or("no frame for `demo`")?;
    println!("{demo}");
    let tagged_rows = demo.column("k1")?.str()?.iter().flatten().count();
    println!("{} rows, {tagged_rows} of them tagged", demo.height());

    println!("Delete database: {dbname}");
    client.drop_database(dbname)?;
    if demo.height() != 60 || tagged_rows != 30 {
        return Err("the frames did not come back whole".into());
    }
    Ok(())
}
