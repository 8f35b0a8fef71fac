//! A per-type buffer's bound holds the process's memory: 10 million `record()` calls on an
//! autocommit type whose server is down, in a process of its own (`src/bin/record-memory.rs`),
//! peak at less than the buffer's byte bound plus 32 MiB.

#[test]
fn ten_million_records_to_a_dead_server_stay_within_the_bound() {
    let figures = influx_series_tests::figures(env!("CARGO_BIN_EXE_record-memory"), &["10000000"]);
    let figure = |name: &str| figures.get(name);
    assert_eq!(figure("calls"), 10_000_000.0);
    assert_eq!(figure("taken") + figure("refused_full"), figure("calls"));
    assert_eq!(
        figure("pending_points"),
        figure("taken"),
        "every accepted point is kept"
    );
    assert!(figure("refused_full") > 0.0, "the bound was reached");
    assert!(figure("pending_bytes") <= figure("bound_bytes"));
    let limit = figure("bound_bytes") + f64::from(32 << 20);
    assert!(
        figure("rss_peak") < limit,
        "peak {} bytes over bound + 32 MiB ({limit})",
        figure("rss_peak")
    );
}
