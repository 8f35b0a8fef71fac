//! influxdb-python's tutorial (`examples/tutorial.py`), in Rust, step by step: a database, a
//! retention policy, a user to write as, a point, two queries (one with a bound
//! parameter), and everything dropped again.
//!
//! Where this one differs, it is because the Python tutorial fails or cannot work as written:
//! - its retention policy (`awesome_policy`, three days) is made the database's default, and
//!   then influxd refuses its point of 2009 ("points beyond retention policy"): here the
//!   policy is created beside the default, not as it;
//! - it switches to a user (`smly`) it never creates, which works only on a server without
//!   authentication: here the user is created and granted the database, and the switch is
//!   made on a copy of the client, so the first keeps the credentials it started with (Python
//!   switches back to `root`);
//! - it queries `select Float_value from cpu_load_short;`: here every field it wrote.
//!
//! Usage: `INFLUXDB_URL=http://127.0.0.1:8086 cargo run -p influx-series-examples --bin tutorial`

use influx_series::admin::{NewRetentionPolicy, Privilege};
use influx_series::chrono::{TimeZone, Utc};
use influx_series::{Client, ClientConfig, Point, QueryOptions, WriteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ClientConfig::from_env()?;
    let dbname = "example";
    let (dbuser, dbuser_password) = ("smly", "my_secret_password");
    let query = "select Float_value, Int_value, String_value, Bool_value from cpu_load_short;";
    let query_where = "select Int_value from cpu_load_short where host=$host;";
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

    println!("Create a retention policy");
    let policy = NewRetentionPolicy::new("awesome_policy", "3d").replication(3);
    client.create_retention_policy(dbname, &policy)?;
    for policy in client.list_retention_policies(dbname)? {
        println!(
            "Retention policy: {} (duration {}, default {})",
            policy.name, policy.duration, policy.default
        );
    }

    println!("Create user: {dbuser}");
    client.create_user(dbuser, dbuser_password)?;
    client.grant_privilege(Privilege::All, dbname, dbuser)?;

    println!("Switch user: {dbuser}");
    let mut as_user = client.clone();
    as_user.switch_user(dbuser, dbuser_password)?;

    println!("Write points: {}", points[0].to_line(Default::default()));
    as_user.write_points(&points, &WriteOptions::default())?;

    println!("Querying data: {query}");
    let result = as_user.query(query)?;
    println!("Result: {}", result[0]);

    println!("Querying data: {query_where}");
    let bound = QueryOptions::new().bind("host", "server01");
    let result_where = as_user.query_with(query_where, &bound)?;
    println!("Result: {}", result_where[0]);

    println!("Switch user: back to the first client's credentials");
    drop(as_user);
    println!("Drop user: {dbuser}");
    client.drop_user(dbuser)?;

    println!("Drop database: {dbname}");
    client.drop_database(dbname)?;
    if result[0].len() != 1 || result_where[0].len() != 1 {
        return Err("the point did not come back".into());
    }
    Ok(())
}
