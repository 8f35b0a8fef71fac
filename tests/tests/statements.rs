//! Answers to several statements, chunked and not, against a real influxd: every decoding path
//! (`ResultSet`, typed rows, serde rows) attributes rows and errors to the statement the
//! answer's `statement_id` names, and undoes influxd 1.6's numbering of "not executed" results.

mod support {
    pub mod api;
}

use std::time::{Duration, Instant};

use influx_series::{
    Error, QueryOptions, ResultSet, Series, decode_response, decode_rows, deserialize_rows,
};
use serde::Deserialize;
use support::api::{Api, fresh};

#[derive(Series, Debug, Clone, PartialEq, Deserialize)]
#[series(name = "m")]
struct M {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    time: i64,
}

/// Three points on host `a`, two on host `b`.
fn seeded<C: Api>(prefix: &str) -> C {
    let client = fresh::<C>(prefix);
    client
        .write_raw(
            "m,host=a v=1i 1\nm,host=a v=2i 2\nm,host=a v=3i 3\nm,host=b v=10i 1\nm,host=b v=20i 2\n",
            &influx_series::WriteOptions::default(),
        )
        .unwrap();
    client
}

const TWO: &str = "SELECT * FROM m WHERE host = 'a'; SELECT * FROM m WHERE host = 'b'";

fn values(rows: &[M]) -> Vec<i64> {
    rows.iter().map(|r| r.v).collect()
}

fn set_values(set: &ResultSet) -> Vec<i64> {
    set.rows()
        .map(|r| r.get("v").and_then(|v| v.as_i64()).unwrap())
        .collect()
}

/// No chunks, and chunks of 1 and 2 rows (smaller than each result) and of 100 (larger),
/// each with its name.
fn chunkings() -> [(&'static str, QueryOptions); 4] {
    let base = QueryOptions::new().epoch(influx_series::Precision::Nanoseconds);
    [
        ("no chunks", base.clone()),
        ("chunks of 1", base.clone().chunked(1)),
        ("chunks of 2", base.clone().chunked(2)),
        ("chunks of 100", base.chunked(100)),
    ]
}

fn rows_of_two_statements_stay_apart_in_every_decoding_path<C: Api>() {
    let client = seeded::<C>("two_statements");
    for (case, options) in chunkings() {
        let statements = client.query_statements(TWO, &options).unwrap();
        assert_eq!(
            values(&statements.get::<M>(0).unwrap()),
            [1, 2, 3],
            "{case}"
        );
        assert_eq!(values(&statements.get::<M>(1).unwrap()), [10, 20], "{case}");
        let a: Vec<M> = statements.deserialize(0).unwrap();
        let b: Vec<M> = statements.deserialize(1).unwrap();
        assert_eq!(
            (values(&a), values(&b)),
            (vec![1, 2, 3], vec![10, 20]),
            "{case}"
        );
        let first: Vec<M> = client.query_as_with(TWO, &options).unwrap();
        assert_eq!(values(&first), [1, 2, 3], "{case}");
        let first: Vec<M> = client.query_deserialize(TWO, &options).unwrap();
        assert_eq!(values(&first), [1, 2, 3], "{case}");
        let sets = client.query_with(TWO, &options).unwrap();
        assert_eq!(sets.len(), 2, "{case}");
        assert_eq!(set_values(&sets[0]), [1, 2, 3], "{case}");
        assert_eq!(set_values(&sets[1]), [10, 20], "{case}");
        assert_eq!(sets[0].series().len(), 1, "{case}: pieces joined");
    }
}

/// The second of three statements fails at run time (its database does not exist).
const FAILING_SECOND: &str =
    "SELECT * FROM m WHERE host = 'a'; SELECT * FROM nodb..m; SELECT * FROM m WHERE host = 'b'";

fn after_a_failed_statement_each_keeps_its_own_result<C: Api>() {
    let client = seeded::<C>("failing_second");
    // Without a chunk size the client asks for chunks itself, since several statements are
    // sent: influxd's whole answers lose the failed statement's message.
    for (case, options) in chunkings() {
        let options = options.raise_errors(false);
        let sets = client.query_with(FAILING_SECOND, &options).unwrap();
        assert_eq!(sets.len(), 3, "{case}: {sets:?}");
        assert_eq!(set_values(&sets[0]), [1, 2, 3], "{case}");
        assert_eq!(sets[0].error(), None, "{case}");
        assert_eq!(sets[1].error(), Some("database not found: nodb"), "{case}");
        assert_eq!(sets[2].error(), Some("not executed"), "{case}");
        assert_eq!(
            sets.iter().map(ResultSet::statement_id).collect::<Vec<_>>(),
            [0, 1, 2],
            "{case}"
        );

        let raised = client
            .query_with(FAILING_SECOND, &options.clone().raise_errors(true))
            .unwrap_err();
        match raised {
            Error::Statement { index: 1, message } => {
                assert_eq!(message, "database not found: nodb", "{case}")
            }
            other => panic!("{case}: {other:?}"),
        }

        let statements = client.query_statements(FAILING_SECOND, &options).unwrap();
        assert_eq!(
            values(&statements.get::<M>(0).unwrap()),
            [1, 2, 3],
            "{case}"
        );
        for (index, message) in [(1, "database not found: nodb"), (2, "not executed")] {
            for err in [
                statements.get::<M>(index).unwrap_err(),
                statements.deserialize::<M>(index).unwrap_err(),
            ] {
                match err {
                    Error::Statement {
                        index: i,
                        message: m,
                    } => {
                        assert_eq!((i, m.as_str()), (index, message), "{case}")
                    }
                    other => panic!("{case}: {other:?}"),
                }
            }
        }
    }
}

fn a_query_without_group_by_finds_rows_by_their_tag_columns<C: Api>() {
    let client = seeded::<C>("tag_columns");
    let sets = client.query("SELECT * FROM m").unwrap();
    let b: Vec<i64> = sets[0]
        .get_points(None, &[("host", "b")])
        .map(|r| r.get("v").and_then(|v| v.as_i64()).unwrap())
        .collect();
    assert_eq!(b, [10, 20]);
    assert_eq!(sets[0].get_points(Some("m"), &[("host", "c")]).count(), 0);
    // With GROUP BY, the tag is the series' and matches the same way.
    let sets = client.query("SELECT v FROM m GROUP BY host").unwrap();
    assert_eq!(sets[0].get_points(None, &[("host", "a")]).count(), 3);
}

#[derive(Debug, Deserialize)]
struct Grouped {
    host: Option<String>,
    region: Option<String>,
    v: i64,
}

fn a_group_by_tag_fills_an_optional_serde_member<C: Api>() {
    let client = seeded::<C>("serde_group_by");
    let rows: Vec<Grouped> = client
        .query_deserialize(
            "SELECT v FROM m WHERE host = 'b' GROUP BY host",
            &QueryOptions::new(),
        )
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.host.as_deref() == Some("b")),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.region.is_none()));
    assert_eq!(rows.iter().map(|r| r.v).collect::<Vec<_>>(), [10, 20]);
}

/// A whole answer of `n` statements with one row each.
fn many_statements(n: usize) -> Vec<u8> {
    let mut body = String::from(r#"{"results":["#);
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"statement_id":{i},"series":[{{"name":"m","tags":{{"host":"h{i}"}},"columns":["time","v"],"values":[[{i},{i}]]}}]}}"#
        ));
    }
    body.push_str("]}");
    body.into_bytes()
}

/// Decodes an answer of `n` statements and checks the last one.
type Decoder = fn(&[u8], usize);

/// The time this thread has run on a CPU so far, from `/proc/thread-self/schedstat` (in
/// nanoseconds): unlike the time on the clock, it does not grow while other processes have
/// the CPU. `None` where the kernel does not keep it.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// How long `run` took: on this thread's CPU time where there is one, else on the clock.
fn timed(run: impl FnOnce()) -> Duration {
    let (cpu, clock) = (cpu_time(), Instant::now());
    run();
    match (cpu, cpu_time()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => clock.elapsed(),
    }
}

/// A guard on the shape of the cost, not a benchmark: 8x the statements must cost about 8x the
/// time (quadratic decoding took 64x; 80 000 statements took 6.4 s). The time is the thread's
/// CPU time, the fastest of 5 runs of each size taken in turn, so that neither size is timed
/// only while the machine is busy; the bound leaves room for a noisy machine all the same.
#[test]
fn decoding_many_statements_takes_linear_time() {
    let small = many_statements(10_000);
    let large = many_statements(80_000);
    assert!(large.len() > 5_000_000 / 3, "{}", large.len());
    let decoders: [(&str, Decoder); 3] = [
        ("ResultSet", |body, n| {
            assert_eq!(decode_response(body, true).unwrap().len(), n)
        }),
        ("typed", |body, n| {
            let rows = decode_rows::<M, influx_series::Json>(body, n - 1, Default::default());
            assert_eq!(rows.unwrap()[0].v, (n - 1) as i64);
        }),
        ("serde", |body, n| {
            let rows: Vec<M> = deserialize_rows(body, n - 1).unwrap();
            assert_eq!(rows[0].v, (n - 1) as i64);
        }),
    ];
    for (name, decode) in decoders {
        let (mut t_small, mut t_large) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            t_small = t_small.min(timed(|| decode(&small, 10_000)));
            t_large = t_large.min(timed(|| decode(&large, 80_000)));
        }
        let ratio = t_large.as_secs_f64() / t_small.as_secs_f64();
        assert!(
            ratio < 32.0,
            "{name}: 8x the statements took {ratio:.1}x the time ({t_small:?} -> {t_large:?})"
        );
    }
}

/// influxd 1.6 executes a statement that changes state even over GET, with a warning: a query
/// whose regex holds `--` (or a quote) must still go as POST.
fn a_write_hidden_behind_a_regex_goes_as_post<C: Api>() {
    let client = seeded::<C>("hidden_write");
    let victim = influx_testserver::shared().unique_db("victim");
    client.create_database(&victim).unwrap();
    for regex in ["/a--/", "/a'/", "/a\"/"] {
        client.create_database(&victim).unwrap();
        let sets = client
            .query(&format!("SELECT * FROM {regex}; DROP DATABASE {victim}"))
            .unwrap();
        assert_eq!(sets.len(), 2, "{regex}");
        assert!(
            sets[1].messages().is_empty(),
            "{regex}: sent as GET, the server warned: {:?}",
            sets[1].messages()
        );
        assert!(!client.list_databases().unwrap().contains(&victim));
    }
}

both_clients!(
    rows_of_two_statements_stay_apart_in_every_decoding_path,
    after_a_failed_statement_each_keeps_its_own_result,
    a_query_without_group_by_finds_rows_by_their_tag_columns,
    a_group_by_tag_fills_an_optional_serde_member,
    a_write_hidden_behind_a_regex_goes_as_post,
);
