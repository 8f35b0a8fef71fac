//! Schema as code: a service declares the database, retention policy and continuous query it
//! needs and the types it writes; at start-up it ensures them against the server and refuses
//! to start on a conflict, before the first write. Then a type that declares `usage` a float
//! meets a measurement where `usage` was first written as an integer, and the report says so.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --bin schema`

use influx_series::admin::{NewContinuousQuery, NewRetentionPolicy};
use influx_series::schema::{Schema, SchemaError};
use influx_series::{Client, ClientConfig, Series, WriteOptions};

/// What the service writes: one point per host, kept for a week.
#[derive(Series)]
#[series(name = "cpu", database = "schema_demo", retention_policy = "one_week")]
struct Cpu {
    #[series(tag)]
    host: String,
    usage: f64,
}

/// Another service's type, for a measurement someone wrote first with integers.
#[derive(Series)]
#[series(name = "legacy_cpu", database = "schema_demo")]
struct LegacyCpu {
    #[series(tag)]
    host: String,
    usage: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::with_config(ClientConfig::from_env()?)?;
    let schema = Schema::new()
        .database("schema_demo")
        .retention_policy(
            "schema_demo",
            NewRetentionPolicy::new("one_week", "1w").shard_duration("1d"),
        )
        .continuous_query(
            "schema_demo",
            NewContinuousQuery::new(
                "cpu_hourly",
                "SELECT mean(usage) AS usage INTO cpu_1h FROM one_week.cpu GROUP BY time(1h), *",
            ),
        )
        .series::<Cpu>();

    println!("What Cpu declares: {:?}", Cpu::schema());
    println!("== At start-up, on a fresh server:");
    let (ensured, report) = schema.provision(&client)?;
    println!("{ensured}\n{report}");
    println!("== Again (nothing to do):");
    let (ensured, report) = schema.provision(&client)?;
    println!("{ensured}\n{report}");
    if !ensured.changed_nothing() {
        return Err("the second run created something".into());
    }

    Cpu {
        host: "server01".into(),
        usage: 0.64,
    }
    .record()?;
    Cpu::commit_with(&client)?;

    // Someone wrote `usage` as an integer first.
    client.write_raw(
        "legacy_cpu,host=server01 usage=64i",
        &WriteOptions::new("schema_demo"),
    )?;
    println!("== A type that declares usage a float, against that measurement:");
    let with_legacy = schema.series::<LegacyCpu>();
    let report = with_legacy.verify(&client)?;
    println!("{report}");
    let refused = match with_legacy.provision(&client) {
        Err(e @ SchemaError::Conflicts { .. }) => {
            println!("== provision refuses to start:\n{e}");
            true
        }
        _ => false,
    };
    client.drop_database("schema_demo")?;
    if !report.has_conflicts() || !refused {
        return Err("the conflict was not reported".into());
    }
    Ok(())
}
