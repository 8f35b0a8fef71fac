//! Raw line protocol as files hold it (an `influx_inspect export`, say): whatever influxd
//! stores exactly, `write_raw` sends; the rest it refuses before sending. Against a real server.

mod support {
    pub mod api;
}

use influx_series::{Error, MIN_ENCODABLE_NANOS, MIN_NANOS, Precision, QueryOptions, WriteOptions};
use support::api::{Api, fresh};

fn times(client: &impl Api, measurement: &str) -> Vec<i64> {
    let results = client
        .query_with(
            &format!("SELECT v FROM {measurement}"),
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    results[0]
        .rows()
        .map(|r| r.get("time").and_then(|t| t.as_i64()).unwrap())
        .collect()
}

fn blank_lines_indentation_and_trailing_spaces_are_written_as_influxd_reads_them<C: Api>() {
    let client = fresh::<C>("raw_whitespace");
    let text = "# DML\n\
                # CONTEXT-DATABASE: db\n\
                \n\
                \x20\x20\t\n\
                \x20\x20cpu,host=a v=1 1\n\
                \tcpu,host=a v=2 2   \n\
                cpu,host=a v=3 \t 3\n\
                \x20\x20# an indented comment\n\
                cpu,host=a v=4 4\n";
    client.write_raw(text, &WriteOptions::default()).unwrap();
    assert_eq!(times(&client, "cpu"), [1, 2, 3, 4]);
}

fn timestamps_down_to_the_servers_minimum_are_written_in_their_own_precision<C: Api>() {
    let client = fresh::<C>("raw_min_time");
    // Refused by `Point` (they cannot be floored to every precision inside the server's
    // range), but exact in the precision they are written in.
    let first_second = MIN_NANOS.div_euclid(1_000_000_000) + 1;
    assert!(first_second * 1_000_000_000 < MIN_ENCODABLE_NANOS);
    client
        .write_raw(
            &format!("early v=1 {MIN_NANOS}\n"),
            &WriteOptions::default(),
        )
        .unwrap();
    client
        .write_raw(
            &format!("early_s v=1 {first_second}\n"),
            &WriteOptions::default().precision(Precision::Seconds),
        )
        .unwrap();
    assert_eq!(times(&client, "early"), [MIN_NANOS]);
    assert_eq!(times(&client, "early_s"), [first_second * 1_000_000_000]);
    // One unit earlier is outside the server's range, and refused before sending.
    let err = client
        .write_raw(
            &format!("early v=1 {}\n", first_second - 1),
            &WriteOptions::default().precision(Precision::Seconds),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Parse(_)), "{err:?}");
}

fn what_influxd_refuses_is_refused_before_sending<C: Api>() {
    let client = fresh::<C>("raw_refused");
    for bad in ["cpu v=1\t", "cpu v=1 5\t", "cpu v=1 5 \t"] {
        let err = client.write_raw(bad, &WriteOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Parse(_)), "{bad:?}: {err:?}");
        // The server agrees: sent unchecked, each is refused.
        let err = client
            .write_raw(bad, &WriteOptions::default().check_lines(false))
            .unwrap_err();
        assert!(
            matches!(err, Error::Client { status: 400, .. }),
            "{bad:?}: {err:?}"
        );
    }
}

both_clients!(
    blank_lines_indentation_and_trailing_spaces_are_written_as_influxd_reads_them,
    timestamps_down_to_the_servers_minimum_are_written_in_their_own_precision,
    what_influxd_refuses_is_refused_before_sending;
    gzip:
    blank_lines_indentation_and_trailing_spaces_are_written_as_influxd_reads_them,
    timestamps_down_to_the_servers_minimum_are_written_in_their_own_precision,
);
