//! Hostile and broken answers: bounded bodies (gzip bombs, endless bodies), redirects, a write
//! answered with anything but 204, an empty answer to a query. A real influxd cannot be made
//! to do any of this, so these tests use the fake server of `influx_testserver::fake`, named as
//! such. Each test body runs once per client (`blocking::` and `asynchronous::`).

mod support {
    pub mod api;
}

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use influx_series::{
    Client, ClientBuilder, DEFAULT_MAX_ANSWER_SIZE, Error, QueryOptions, Series, WriteOptions,
};
use influx_testserver::fake::{FakeServer, respond};
use support::api::Api;

fn client_for<C: Api>(
    fake: &FakeServer,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> C {
    let builder = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db");
    C::connect(configure(builder).into_config()).expect("client")
}

/// `bytes` of `[`, gzip-compressed (about a thousandth of the size): the start of one deeply
/// nested JSON document, so that nothing but the size bound can stop a reader.
fn gzip_bomb(bytes: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'['; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(zeros.len());
        encoder.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    encoder.finish().unwrap()
}

fn a_gzip_bomb_stops_at_the_default_answer_bound<C: Api>() {
    // 300 MiB in about 300 kB: over the 256 MiB default, which still lets an 83 MiB answer
    // (1 000 000 rows) through.
    let bomb = gzip_bomb(300 << 20);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let fake = FakeServer::start(move |_, stream| {
        respond(
            stream,
            "200 OK",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            &bomb,
        );
    });
    let client = client_for::<C>(&fake, |b| b.gzip(true));
    let err = client.query("SELECT * FROM m").unwrap_err();
    match &err {
        Error::AnswerTooLarge { limit } => assert_eq!(*limit, DEFAULT_MAX_ANSWER_SIZE),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("max_answer_size"), "{err}");
}

/// Writes an endless chunked body of `[` (valid as the start of deeply nested JSON, so nothing
/// but the bound can stop a reader), pausing `pause` between pieces.
fn endless(stream: &mut TcpStream, pause: Duration) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let piece = vec![b'['; 64 * 1024];
    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
    chunk.extend_from_slice(&piece);
    chunk.extend_from_slice(b"\r\n");
    while stream.write_all(&chunk).is_ok() {
        std::thread::sleep(pause);
    }
}

fn an_endless_body_stops_at_the_answer_bound_even_without_a_timeout<C: Api>() {
    let fake = FakeServer::start(|_, stream| endless(stream, Duration::ZERO));
    let client = client_for::<C>(&fake, |b| b.no_timeout().max_answer_size(4 << 20));
    for result in [
        client.query("SELECT * FROM m").map(drop),
        client
            .query_raw("SELECT * FROM m", &QueryOptions::new())
            .map(drop),
        // A stream holds one chunk at a time, and the bound applies to it.
        client
            .query_stream("SELECT * FROM m", &QueryOptions::new())
            .and_then(|chunks| chunks.collect::<Result<Vec<_>, _>>())
            .map(drop),
    ] {
        match result {
            Err(Error::AnswerTooLarge { limit }) => assert_eq!(limit, 4 << 20),
            other => panic!("{other:?}"),
        }
    }
}

fn an_endless_trickle_stops_at_the_timeout<C: Api>() {
    let fake = FakeServer::start(|_, stream| endless(stream, Duration::from_millis(50)));
    let client = client_for::<C>(&fake, |b| b.timeout(Duration::from_millis(500)));
    match client.query("SELECT * FROM m") {
        Err(Error::Timeout(_)) => {}
        other => panic!("{other:?}"),
    }
}

fn request_bodies_over_the_bound_are_refused_before_sending<C: Api>() {
    let fake = FakeServer::start(|_, stream| respond(stream, "204 No Content", &[], b""));
    let client = client_for::<C>(&fake, |b| b.max_request_size(1024));
    // Over 4 KiB, so it goes as a POST body rather than in the URL.
    let long_query = format!("SELECT * FROM m WHERE host = '{}'", "x".repeat(5000));
    match client.query(&long_query) {
        Err(Error::RequestTooLarge { size, limit: 1024 }) => assert!(size > 5000),
        other => panic!("{other:?}"),
    }
    assert!(fake.requests().is_empty());
}

fn redirects_are_errors_that_name_the_target_and_are_never_followed<C: Api>() {
    let fake = FakeServer::start(|request, stream| {
        let to = format!("http://127.0.0.1:9{}", request.target());
        respond(stream, "302 Found", &[("Location", &to)], b"");
    });
    let client = client_for::<C>(&fake, |b| b);
    let write = client.write_raw("m v=1", &WriteOptions::new("db"));
    let query = client.query("SELECT * FROM m");
    let ping = client.ping();
    for result in [write.map(drop), query.map(drop), ping.map(drop)] {
        match result {
            Err(Error::Redirect {
                status: 302,
                location: Some(location),
            }) => assert!(location.starts_with("http://127.0.0.1:9/"), "{location}"),
            other => panic!("{other:?}"),
        }
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "one request each, none followed");
    assert!(requests.iter().all(|r| r.header("Referer").is_none()));
}

fn a_write_answered_with_anything_but_204_is_not_counted_as_stored<C: Api>() {
    for status in ["200 OK", "202 Accepted"] {
        let fake = FakeServer::start(move |_, stream| {
            respond(
                stream,
                status,
                &[("Content-Type", "application/json")],
                b"{}",
            )
        });
        let client = client_for::<C>(&fake, |b| b);
        match client.write_raw("m v=1 1", &WriteOptions::new("db")) {
            Err(Error::Protocol(cause)) => assert!(cause.message().contains("204"), "{cause}"),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[derive(Series, Debug)]
struct Row {
    v: i64,
}

fn an_empty_answer_to_a_query_is_an_error_not_zero_rows<C: Api>() {
    let fake = FakeServer::start(|_, stream| {
        respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/json")],
            b"",
        )
    });
    let client = client_for::<C>(&fake, |b| b);
    let options = QueryOptions::new();
    let results = [
        client.query("SELECT * FROM m").map(drop),
        client.query_as::<Row>("SELECT * FROM m").map(drop),
        client
            .query_deserialize::<serde_json::Value>("SELECT * FROM m", &options)
            .map(drop),
        client
            .query_statements("SELECT * FROM m", &options)
            .map(drop),
    ];
    for result in results {
        match result {
            Err(Error::Protocol(cause)) => assert!(cause.message().contains("empty"), "{cause}"),
            other => panic!("{other:?}"),
        }
    }
}

/// https works with the default features: a server that speaks plain HTTP fails the TLS
/// handshake, a transport error, where a client without TLS would fail to be built at all.
/// (A fake: it answers whatever comes with a plain-HTTP 400, as an HTTP server does to a TLS
/// hello.)
fn https_works_out_of_the_box<C: Api>() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut hello = [0u8; 512];
            let _ = std::io::Read::read(&mut stream, &mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        }
    });
    let client = C::connect_url(&format!("https://127.0.0.1:{port}")).expect("an https client");
    match client.ping() {
        Err(Error::Transport(_)) => {}
        other => panic!("{other:?}"),
    }
}

both_clients!(
    a_gzip_bomb_stops_at_the_default_answer_bound,
    an_endless_body_stops_at_the_answer_bound_even_without_a_timeout,
    an_endless_trickle_stops_at_the_timeout,
    request_bodies_over_the_bound_are_refused_before_sending,
    redirects_are_errors_that_name_the_target_and_are_never_followed,
    a_write_answered_with_anything_but_204_is_not_counted_as_stored,
    an_empty_answer_to_a_query_is_an_error_not_zero_rows,
    https_works_out_of_the_box,
);
