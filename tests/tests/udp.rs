//! Writes over UDP to a real influxd's `[[udp]]` listener (precision nanoseconds, batches
//! flushed every 50 ms into the database `udp`), through both clients.

mod support {
    pub mod api;
}

use std::time::{Duration, Instant};

use influx_series::{
    ClientBuilder, ClientConfig, Error, MTU_1500_DATAGRAM, Point, Precision, QueryOptions,
    WriteOptions,
};
use influx_testserver::Server;
use support::api::Api;

fn server() -> &'static Server {
    influx_testserver::shared()
}

/// A client from a `udp+influxdb://` DSN, pointed at the test server's listener.
fn udp_client<C: Api>(max_datagram: usize) -> C {
    let dsn = format!("udp+influxdb://127.0.0.1:{}/udp", server().http_port());
    let config = ClientConfig::from_dsn(&dsn).unwrap();
    assert_eq!(config.udp_port(), Some(4444), "influxdb-python's default");
    let config = ClientBuilder::from(config)
        .udp(server().udp_port())
        .udp_max_datagram(max_datagram)
        .into_config();
    C::connect(config).unwrap()
}

/// The number of points in `measurement` of the UDP database, once it reaches `expected` or
/// 60 s have passed (the listener stores a batch every 50 ms).
fn stored<C: Api>(client: &C, measurement: &str, expected: i64) -> i64 {
    let options = QueryOptions::new().database(server().udp_database());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = client
            .query_with(&format!("SELECT count(v) FROM \"{measurement}\""), &options)
            .unwrap()[0]
            .rows()
            .next()
            .and_then(|row| row.get("count").and_then(|v| v.as_i64()))
            .unwrap_or(0);
        if count >= expected || Instant::now() > deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn points_arrive_in_the_listeners_database<C: Api>() {
    let client = udp_client::<C>(influx_series::DEFAULT_MAX_DATAGRAM);
    let measurement = server().unique_db("udp_points");
    let points: Vec<Point> = (0..10)
        .map(|i| {
            Point::builder(measurement.clone())
                .tag("host", "a")
                .field("v", i)
                .timestamp_in(1_700_000_000_000 + i, Precision::Milliseconds)
                .build()
                .unwrap()
        })
        .collect();
    // The write's database is not used: the listener writes into its own.
    let commit = client
        .write_points(&points, &WriteOptions::new("ignored"))
        .unwrap();
    assert_eq!((commit.written, commit.requests), (10, 1));
    assert_eq!(stored(&client, &measurement, 10), 10);
    let rows = client
        .query_with(
            &format!("SELECT v FROM \"{measurement}\" LIMIT 1"),
            &QueryOptions::new()
                .database(server().udp_database())
                .epoch(Precision::Milliseconds),
        )
        .unwrap();
    let first = rows[0].rows().next().unwrap();
    assert_eq!(
        first.get("time").and_then(|v| v.as_i64()),
        Some(1_700_000_000_000),
        "encoded in the listener's precision"
    );
}

fn many_lines_go_in_datagrams_under_the_bound<C: Api>() {
    let client = udp_client::<C>(MTU_1500_DATAGRAM);
    let measurement = server().unique_db("udp_many");
    let text: String = (0..1000)
        .map(|i| {
            format!(
                "{measurement},host=server{i:04} v={i}i {}\n",
                1_000_000_000 + i
            )
        })
        .collect();
    let commit = client.write_raw(&text, &WriteOptions::default()).unwrap();
    assert_eq!(commit.written, 1000);
    // About 40 bytes a line, at most 1 472 bytes a datagram.
    assert!(
        commit.requests >= text.len() / MTU_1500_DATAGRAM,
        "{commit:?}"
    );
    assert_eq!(stored(&client, &measurement, 1000), 1000);
}

fn an_oversize_line_is_refused_and_nothing_sent<C: Api>() {
    let client = udp_client::<C>(MTU_1500_DATAGRAM);
    let measurement = server().unique_db("udp_oversize");
    let long = "x".repeat(2000);
    let text = format!("{measurement} v=1i 1\n{measurement} v=2i,s=\"{long}\" 2\n");
    let result = client.write_raw(&text, &WriteOptions::default());
    assert!(
        matches!(result, Err(Error::DatagramTooLarge { limit: MTU_1500_DATAGRAM, size }) if size > 2000),
        "{result:?}"
    );
    // The first, short line was not sent either. The listener stores datagrams in the order
    // they came: once a point sent afterwards is stored, the first line would be too.
    let after = format!("{measurement}_after");
    client
        .write_raw(&format!("{after} v=1i 1\n"), &WriteOptions::default())
        .unwrap();
    assert_eq!(stored(&client, &after, 1), 1);
    assert_eq!(stored(&client, &measurement, 0), 0);
}

fn raw_lines_in_another_precision_are_refused<C: Api>() {
    let client = udp_client::<C>(MTU_1500_DATAGRAM);
    let result = client.write_raw(
        "m v=1i 1700000000",
        &WriteOptions::default().precision(Precision::Seconds),
    );
    assert!(
        matches!(result, Err(Error::InvalidArgument(_))),
        "{result:?}"
    );
}

both_clients!(
    points_arrive_in_the_listeners_database,
    many_lines_go_in_datagrams_under_the_bound,
    an_oversize_line_is_refused_and_nothing_sent,
    raw_lines_in_another_precision_are_refused,
);
