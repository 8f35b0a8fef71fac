//! Chunked answers, against a real influxd unless a test says otherwise, through both clients:
//! merged answers equal the server's whole ones; streams hand out chunks and rows as they
//! arrive, surface errors, refuse an answer cut short, and stop the query when dropped.

mod support {
    pub mod api;
}

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use influx_series::{Client, Error, QueryOptions, ResultSet, Series, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use support::api::{Api, fresh};

/// Three hosts with 3, 2 and 1 points, in two measurements, with tags and two fields.
const SEED: &str = "cpu,host=a,region=eu v=1i,w=0.5 1\n\
                    cpu,host=a,region=eu v=2i,w=1.5 2\n\
                    cpu,host=a,region=eu v=3i,w=2.5 3\n\
                    cpu,host=b,region=us v=10i,w=1 1\n\
                    cpu,host=b,region=us v=20i,w=2 2\n\
                    cpu,host=c,region=us v=100i,w=3 1\n\
                    mem,host=a free=5i 1\n";

fn seeded<C: Api>(prefix: &str) -> C {
    let client = fresh::<C>(prefix);
    client.write_raw(SEED, &WriteOptions::default()).unwrap();
    client
}

/// The statement results of a whole (unchunked) answer, as the server sends it.
fn unchunked<C: Api>(client: &C, query: &str, epoch: bool) -> Vec<String> {
    let mut options = QueryOptions::new();
    if epoch {
        options = options.epoch(influx_series::Precision::Nanoseconds);
    }
    let body = client.query_raw(query, &options).unwrap();
    influx_series::decode_response(&body, false)
        .unwrap()
        .iter()
        .map(ResultSet::raw)
        .collect()
}

fn merged<C: Api>(client: &C, query: &str, options: QueryOptions) -> Vec<String> {
    client
        .query_with(query, &options.raise_errors(false))
        .unwrap()
        .iter()
        .map(ResultSet::raw)
        .collect()
}

fn merged_chunked_answers_equal_whole_ones<C: Api>() {
    let client = seeded::<C>("merge");
    let queries = [
        "SELECT * FROM cpu",
        "SELECT v FROM cpu GROUP BY host",
        "SELECT v, w FROM cpu GROUP BY *",
        "SELECT mean(v) FROM cpu GROUP BY host, time(1ns) fill(none)",
        "SELECT * FROM cpu WHERE host = 'nobody'",
        "SELECT * FROM nothing_here",
        "SHOW SERIES",
        "SHOW MEASUREMENTS",
        "SHOW TAG KEYS",
        "SHOW TAG VALUES WITH KEY = host",
        "SHOW FIELD KEYS",
        "SELECT * FROM cpu; SELECT * FROM mem",
    ];
    for query in queries {
        let whole = unchunked(&client, query, true);
        for rows in [1, 2, 3, 1000] {
            let options = QueryOptions::new()
                .epoch(influx_series::Precision::Nanoseconds)
                .chunked(rows);
            assert_eq!(
                merged(&client, query, options),
                whole,
                "{query}, chunks of {rows}"
            );
        }
        let default = QueryOptions::new().epoch(influx_series::Precision::Nanoseconds);
        assert_eq!(
            merged(&client, query, default),
            whole,
            "{query}, default chunks"
        );
    }
    // SHOW DATABASES, on a server of its own (other tests create databases on the shared one).
    let server = influx_testserver::Server::start();
    let own = C::connect_url(&server.url()).unwrap();
    for db in ["one", "two", "three"] {
        own.create_database(db).unwrap();
    }
    let whole = unchunked(&own, "SHOW DATABASES", false);
    assert!(whole[0].contains("\"three\""), "{whole:?}");
    for rows in [1, 2, 1000] {
        let options = QueryOptions::new().chunked(rows);
        assert_eq!(
            merged(&own, "SHOW DATABASES", options),
            whole,
            "chunks of {rows}"
        );
    }
}

/// The documented difference: without chunks, influxd 1.6 loses a failed statement's own
/// error under the next statement's "not executed"; chunked, it is kept.
fn a_failed_statement_keeps_its_error_only_when_chunked<C: Api>() {
    let client = seeded::<C>("error");
    let query = "SELECT * FROM cpu; SELECT * FROM nodb.autogen.cpu; SELECT * FROM mem";
    let sets = client
        .query_with(query, &QueryOptions::new().raise_errors(false))
        .unwrap();
    assert_eq!(sets.len(), 3);
    assert_eq!(sets[0].len(), 6);
    assert!(
        sets[1].error().unwrap().contains("database not found"),
        "{:?}",
        sets[1].error()
    );
    assert_eq!(sets[2].error(), Some("not executed"));
    let whole = unchunked(&client, query, false);
    assert!(
        whole[1].contains("not executed") && !whole[1].contains("database not found"),
        "{whole:?}"
    );
    let raised = client.query(query).unwrap_err();
    assert!(
        matches!(&raised, Error::Statement { index: 1, message } if message.contains("database not found")),
        "{raised:?}"
    );
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "cpu")]
struct Cpu {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    time: i64,
}

fn streams_hand_out_chunks_and_rows_as_they_arrive<C: Api>() {
    let client = seeded::<C>("stream");
    let options = QueryOptions::new().chunked(2);
    let sets: Vec<ResultSet> = client
        .query_stream("SELECT * FROM cpu GROUP BY host", &options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Host a's 3 rows come as 2 + 1, the first piece marked partial; b's 2, c's 1.
    let pieces: Vec<(String, usize, bool)> = sets
        .iter()
        .flat_map(|set| set.series())
        .map(|s| (s.tags()["host"].clone(), s.len(), s.partial()))
        .collect();
    assert_eq!(
        pieces,
        vec![
            ("a".into(), 2, true),
            ("a".into(), 1, false),
            ("b".into(), 2, false),
            ("c".into(), 1, false),
        ]
    );
    assert!(sets.len() >= 3, "one set per chunk: {}", sets.len());

    let rows: Vec<Cpu> = client
        .query_as_stream::<Cpu>("SELECT * FROM cpu GROUP BY host", &options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<Cpu> = client.query_as("SELECT * FROM cpu GROUP BY host").unwrap();
    assert_eq!(rows, expected);
    assert_eq!(rows.len(), 6);

    // Statements are told apart by their id.
    let ids: Vec<usize> = client
        .query_stream("SELECT * FROM cpu; SELECT * FROM mem", &options)
        .unwrap()
        .map(|set| set.unwrap().statement_id())
        .collect();
    assert_eq!(ids.first(), Some(&0));
    assert_eq!(ids.last(), Some(&1));

    // A statement's error is an item, and the end of the stream.
    let items: Vec<Result<ResultSet, Error>> = client
        .query_stream(
            "SELECT * FROM cpu; SELECT * FROM nodb.autogen.cpu; SELECT * FROM mem",
            &options,
        )
        .unwrap()
        .collect();
    let last = items.last().unwrap();
    assert!(
        matches!(last, Err(Error::Statement { index: 1, message }) if message.contains("database not found")),
        "{last:?}"
    );
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
    let typed: Vec<Result<Cpu, Error>> = client
        .query_as_stream::<Cpu>("SELECT * FROM nodb.autogen.cpu", &options)
        .unwrap()
        .collect();
    assert!(
        matches!(typed.as_slice(), [Err(Error::Statement { index: 0, .. })]),
        "{typed:?}"
    );
}

/// A fake server that answers every query with `body`, whatever it asked for.
fn fake_answering(body: &'static str) -> FakeServer {
    FakeServer::start(move |_, stream| {
        respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    })
}

fn fake_client<C: Api>(fake: &FakeServer) -> C {
    C::connect(
        Client::builder()
            .host("127.0.0.1")
            .port(fake.port())
            .database("db")
            .into_config(),
    )
    .unwrap()
}

/// A fake server (a real influxd always honours `chunked`): one that sends a whole answer
/// anyway is read as well; one that stops mid-statement, or before the last statement, is an
/// error, never a short result.
fn answers_that_ignore_chunks_or_stop_early<C: Api>() {
    let whole = fake_answering(
        r#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[1,1],[2,2]]}]}]}"#,
    );
    let sets = fake_client::<C>(&whole).query("SELECT * FROM m").unwrap();
    assert_eq!(sets[0].len(), 2);

    let cut = fake_answering(
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"m\",\"columns\":[\"time\",\"v\"],\"values\":[[1,1]],\"partial\":true}],\"partial\":true}]}\n",
    );
    let client = fake_client::<C>(&cut);
    let err = client.query("SELECT * FROM m").unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.to_string().contains("middle of statement 0")),
        "{err:?}"
    );
    let streamed: Vec<_> = client
        .query_stream("SELECT * FROM m", &QueryOptions::new())
        .unwrap()
        .collect();
    assert!(
        matches!(streamed.last(), Some(Err(Error::Protocol(_)))),
        "{streamed:?}"
    );

    let short = fake_answering("{\"results\":[{\"statement_id\":0}]}\n");
    let err = fake_client::<C>(&short)
        .query("SELECT * FROM m; SELECT * FROM n")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.to_string().contains("1 of 2 statements")),
        "{err:?}"
    );

    let broken = fake_answering("{\"results\":[{\"statement_id\":0,\"series\":[");
    let err = fake_client::<C>(&broken)
        .query("SELECT * FROM m")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.to_string().contains("ended inside")),
        "{err:?}"
    );
}

/// A fake server that sends a chunked answer in five documents, `pause` apart.
fn trickling(pause: Duration) -> FakeServer {
    FakeServer::start(move |_, stream| {
        use std::io::Write;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                    Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        for i in 0..5 {
            let partial = if i < 4 { ",\"partial\":true" } else { "" };
            let doc = format!(
                "{{\"results\":[{{\"statement_id\":0,\"series\":[{{\"name\":\"m\",\
                 \"columns\":[\"time\",\"v\"],\"values\":[[{i},{i}]]{partial}}}]{partial}}}]}}\n"
            );
            let chunk = format!("{:x}\r\n{doc}\r\n", doc.len());
            if stream.write_all(chunk.as_bytes()).is_err() {
                return;
            }
            let _ = stream.flush();
            std::thread::sleep(pause);
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    })
}

/// A fake server (a real one cannot be made to pause between chunks): the timeout bounds each
/// wait for a chunk of a stream, not the stream, and the whole of a merged answer.
fn a_stream_waits_per_chunk_and_a_merged_answer_in_all<C: Api>() {
    // Pauses of 2 s against a timeout of 6 s: each wait for a chunk is 4 s short of the
    // timeout, and the five pauses (10 s) are 4 s past it, so that neither side of the
    // comparison depends on the machine being quick.
    let timeout = Duration::from_secs(6);
    let client = |fake: &FakeServer| {
        C::connect(
            Client::builder()
                .host("127.0.0.1")
                .port(fake.port())
                .timeout(timeout)
                .database("db")
                .retry(influx_series::RetryPolicy::none())
                .into_config(),
        )
        .unwrap()
    };
    let steady = trickling(Duration::from_secs(2));
    let started = Instant::now();
    let sets: Vec<ResultSet> = client(&steady)
        .query_stream("SELECT * FROM m", &QueryOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(started.elapsed() > timeout, "{:?}", started.elapsed());
    assert_eq!(sets.iter().map(ResultSet::len).sum::<usize>(), 5);
    let merged = client(&steady).query("SELECT * FROM m");
    assert!(matches!(merged, Err(Error::Timeout(_))), "{merged:?}");

    // A chunk that does not come within the timeout ends the stream with an error (the
    // second one never comes while the test runs).
    let stalled = trickling(Duration::from_secs(120));
    let items: Vec<_> = client(&stalled)
        .query_stream("SELECT * FROM m", &QueryOptions::new())
        .unwrap()
        .collect();
    assert!(items[0].is_ok(), "{items:?}");
    assert!(
        matches!(items.last(), Some(Err(Error::Timeout(_)))),
        "{items:?}"
    );
}

/// `max_answer_size` bounds a merged answer in all, and a stream per chunk.
fn the_size_bound_is_on_the_whole_merged_answer_and_on_each_chunk<C: Api>() {
    let server = influx_testserver::shared();
    let db = server.unique_db("sized");
    let admin = C::connect_url(&server.url()).unwrap();
    admin.create_database(&db).unwrap();
    let text: String = (0..2000).map(|i| format!("m v={i}i {i}\n")).collect();
    admin
        .write_raw(&text, &WriteOptions::new(db.as_str()))
        .unwrap();
    let config = Client::builder()
        .port(server.http_port())
        .database(db.as_str())
        .max_answer_size(16 * 1024)
        .into_config();
    let client = C::connect(config).unwrap();
    let options = QueryOptions::new().chunked(100);
    let merged = client.query_with("SELECT v FROM m", &options);
    assert!(
        matches!(merged, Err(Error::AnswerTooLarge { limit: 16384 })),
        "{merged:?}"
    );
    let rows: usize = client
        .query_stream("SELECT v FROM m", &options)
        .unwrap()
        .map(|set| set.unwrap().len())
        .sum();
    assert_eq!(rows, 2000);
}

/// A database of 1 000 000 points, written once for the binary.
fn million() -> &'static str {
    static DB: OnceLock<String> = OnceLock::new();
    DB.get_or_init(|| {
        let server = influx_testserver::shared();
        let db = server.unique_db("million");
        let client = Client::new(&server.url()).unwrap();
        client.create_database(&db).unwrap();
        let mut text = String::with_capacity(30_000_000);
        for i in 0..1_000_000u64 {
            text.push_str("big v=");
            text.push_str(&i.to_string());
            text.push_str("i ");
            text.push_str(&(1_000_000_000 + i).to_string());
            text.push('\n');
        }
        let options = WriteOptions::new(db.as_str()).check_lines(false);
        // In pieces of whole lines under the client's request bound.
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + (8 << 20)).min(text.len());
            while end < text.len() && text.as_bytes()[end - 1] != b'\n' {
                end -= 1;
            }
            client.write_raw(&text[start..end], &options).unwrap();
            start = end;
        }
        db
    })
}

/// Whether `SHOW QUERIES` lists a query holding `needle`.
fn listed<C: Api>(client: &C, needle: &str) -> bool {
    client
        .query("SHOW QUERIES")
        .unwrap()
        .iter()
        .flat_map(ResultSet::rows)
        .any(|row| row.get_str("query").is_some_and(|q| q.contains(needle)))
}

fn dropping_a_stream_stops_the_query<C: Api>() {
    let db = million();
    let server = influx_testserver::shared();
    let mut client = C::connect_url(&server.url()).unwrap();
    client.switch_database(db.to_string());
    // A query text of this test's own, to find it among others'.
    let marker = format!("marker_{}", server.unique_db("q"));
    let query = format!("SELECT v AS {marker} FROM big");
    let mut stream = client
        .query_stream(&query, &QueryOptions::new().chunked(1000))
        .unwrap();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(first.len(), 1000);
    assert!(
        listed(&client, &marker),
        "the query runs while the stream is held"
    );
    drop(stream);
    // Without the cancel the query would stay listed for as long as influxd waits on the
    // unread connection, far beyond this wait.
    let deadline = Instant::now() + Duration::from_secs(30);
    while listed(&client, &marker) {
        assert!(
            Instant::now() < deadline,
            "influxd still runs the query 30 s after the stream was dropped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn a_million_rows_stream_through<C: Api>() {
    let db = million();
    let server = influx_testserver::shared();
    let mut client = C::connect_url(&server.url()).unwrap();
    client.switch_database(db.to_string());
    let mut rows = 0usize;
    let mut sum = 0i64;
    let mut chunks = 0usize;
    for set in client
        .query_stream("SELECT v FROM big", &QueryOptions::new())
        .unwrap()
    {
        let set = set.unwrap();
        chunks += 1;
        for row in set.rows() {
            rows += 1;
            sum += row.get("v").and_then(|v| v.as_i64()).unwrap();
        }
    }
    assert_eq!(rows, 1_000_000);
    assert_eq!(sum, (0..1_000_000i64).sum::<i64>());
    assert_eq!(chunks, 100, "the server's default chunks of 10 000 rows");
}

both_clients!(
    merged_chunked_answers_equal_whole_ones,
    a_failed_statement_keeps_its_error_only_when_chunked,
    streams_hand_out_chunks_and_rows_as_they_arrive,
    answers_that_ignore_chunks_or_stop_early,
    dropping_a_stream_stops_the_query,
    a_million_rows_stream_through,
    a_stream_waits_per_chunk_and_a_merged_answer_in_all,
    the_size_bound_is_on_the_whole_merged_answer_and_on_each_chunk;
    gzip: merged_chunked_answers_equal_whole_ones, a_million_rows_stream_through,
);
