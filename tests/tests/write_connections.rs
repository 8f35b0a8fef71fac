//! The blocking client's writes go over connections of its own (plain HTTP/1.1 on std's
//! `TcpStream`): kept alive between writes, opened again when the server closed them, and
//! bounded in what an answer may take, in bytes and in time.
//!
//! The servers here are **fake HTTP servers**, written in this file or from
//! `influx_testserver::fake`: influxd cannot be made to close a kept connection on demand, to
//! send an endless head or to trickle its answer. Writes to a real influxd over these
//! connections are tested everywhere else (`in_flight.rs`, `buffers.rs`: influxd's early `413`
//! to a 30 MB body, `connections.rs`: credentials, tokens and extra headers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use influx_series::{Client, Error, RetryPolicy, WriteOptions};
use influx_testserver::fake::FakeServer;

/// A fake influxd that keeps connections alive: it answers every write with `204` and records
/// each body with the number of the connection it came on. After `close_after` answers on one
/// connection, it closes that connection (without saying so in the answer, as a server whose
/// idle timeout ran out does) and sends the connection's number on `closed`.
struct KeepAlive {
    port: u16,
    bodies: Arc<Mutex<Vec<(usize, String)>>>,
    closed: Receiver<usize>,
}

impl KeepAlive {
    fn start(close_after: usize) -> KeepAlive {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&bodies);
        let (closing, closed) = channel();
        std::thread::spawn(move || {
            for (connection, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                let closing = closing.clone();
                std::thread::spawn(move || serve(connection, stream, close_after, &seen, &closing));
            }
        });
        KeepAlive {
            port,
            bodies,
            closed,
        }
    }

    fn bodies(&self) -> Vec<(usize, String)> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits until the server has closed connection `connection` after its last answer.
    fn wait_closed(&self, connection: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.closed.recv_timeout(left) {
                Ok(n) if n == connection => return,
                Ok(_) => {}
                Err(e) => panic!("the server did not close connection {connection}: {e}"),
            }
        }
    }
}

fn serve(
    connection: usize,
    stream: TcpStream,
    close_after: usize,
    seen: &Mutex<Vec<(usize, String)>>,
    closing: &Sender<usize>,
) {
    let mut reader = BufReader::new(stream);
    for _ in 0..close_after {
        let mut length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        seen.lock()
            .unwrap()
            .push((connection, String::from_utf8(body).unwrap()));
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: fake\r\n\r\n")
            .unwrap();
    }
    // The connection closes, and then the test is told.
    drop(reader);
    let _ = closing.send(connection);
}

/// A client with `timeout`, and no retries.
fn client_with(port: u16, timeout: Duration) -> Client {
    Client::builder()
        .host("127.0.0.1")
        .port(port)
        .database("db")
        .timeout(timeout)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client whose timeout is not meant to run out: 30 s, which no answer here takes.
fn client(port: u16) -> Client {
    client_with(port, Duration::from_secs(30))
}

fn write(client: &Client, line: &str) -> Result<(), Error> {
    client.write_raw(line, &WriteOptions::default()).map(drop)
}

#[test]
fn writes_reuse_a_kept_connection_and_open_a_new_one_once_the_server_closed_it() {
    let server = KeepAlive::start(3);
    let client = client(server.port);
    for i in 0..3 {
        write(&client, &format!("m v={i}i {i}")).unwrap();
    }
    // The server closed the connection after its third answer: the fourth write notices and
    // goes over a new connection, sent once.
    server.wait_closed(0);
    write(&client, "m v=3i 3").unwrap();
    write(&client, "m v=4i 4").unwrap();
    let bodies = server.bodies();
    let expected: Vec<(usize, String)> = (0..5)
        .map(|i| (usize::from(i >= 3), format!("m v={i}i {i}")))
        .collect();
    assert_eq!(
        bodies, expected,
        "(connection, body) as the server got them"
    );
}

/// A fake that answers every request with `answer`, written in pieces of `piece` bytes with
/// `pause` between them, and then keeps the connection open for longer than any client's
/// timeout here (so that a client that waits for more waits for its timeout).
fn answering(answer: Vec<u8>, piece: usize, pause: Duration) -> FakeServer {
    FakeServer::start(move |_request, stream| {
        for part in answer.chunks(piece) {
            if stream.write_all(part).is_err() {
                return;
            }
            std::thread::sleep(pause);
        }
        std::thread::sleep(Duration::from_secs(60));
    })
}

#[test]
fn an_answer_head_over_64_kib_fails_the_write() {
    let mut head = b"HTTP/1.1 204 No Content\r\nX-Padding: ".to_vec();
    head.resize(head.len() + 100 * 1024, b'a');
    let fake = answering(head, usize::MAX, Duration::ZERO);
    let client = client(fake.port());
    let started = Instant::now();
    let err = write(&client, "m v=1i 1").unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(
        format!("{err:#}").contains("longer than 64 KiB") || format!("{err:?}").contains("64 KiB"),
        "{err:?}"
    );
    // Refused once the bound was passed, not when the client's timeout (30 s) ran out.
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
}

#[test]
fn an_answer_trickled_byte_by_byte_is_cut_at_the_clients_timeout() {
    // Each byte comes well within the timeout of 500 ms, so only a deadline on the whole
    // head can end the wait; the head (3 400 bytes, 20 ms apart) would take over a minute.
    let fake = answering(
        b"HTTP/1.1 204 No Content\r\nX-Slow: ".repeat(100),
        1,
        Duration::from_millis(20),
    );
    let client = client_with(fake.port(), Duration::from_millis(500));
    let started = Instant::now();
    let err = write(&client, "m v=1i 1").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(10),
        "cut after {took:?}"
    );
}

#[test]
fn a_chunked_error_answer_reaches_the_caller_whole() {
    let body = br#"{"error":"field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=1"}"#;
    let mut answer = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".to_vec();
    for part in body.chunks(7) {
        answer.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        answer.extend_from_slice(part);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"0\r\n\r\n");
    let fake = answering(answer, 5, Duration::ZERO);
    let client = client(fake.port());
    let err = write(&client, "m v=1.5 1").unwrap_err();
    assert!(
        err.to_string().contains("already exists as type integer"),
        "{err}"
    );
}

#[test]
fn an_answer_that_is_not_http_fails_the_write_without_being_taken_for_tls() {
    let fake = answering(
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec(),
        usize::MAX,
        Duration::ZERO,
    );
    let client = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db")
        .timeout(Duration::from_secs(30))
        // Retried as any other answer that did not come: TLS refusals are not retried.
        .retry(
            RetryPolicy::new()
                .retries(1)
                .backoff(Duration::from_millis(1), Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = write(&client, "m v=1i 1").unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(fake.requests().len(), 2, "sent once, retried once");
}

#[test]
fn an_error_answer_whose_header_is_cut_inside_a_character_still_reaches_the_caller() {
    // influxd cuts X-Influxdb-Error at 1 024 bytes, in the middle of a character if it must.
    let body = br#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=1"}"#;
    let mut answer = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Influxdb-Error: partial write: measurement \"\xe6\xb5".to_vec();
    answer.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    answer.extend_from_slice(body);
    let fake = answering(answer, usize::MAX, Duration::ZERO);
    let client = client(fake.port());
    let err = write(&client, "m v=1.5 1").unwrap_err();
    assert!(
        matches!(err, Error::PartialWrite { dropped: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn trailers_trickled_after_a_chunked_answer_are_cut_at_the_clients_timeout() {
    // The status and body at once (the timeout of 3 s leaves them room on a busy machine),
    // then trailer lines a byte every 20 ms, well within the timeout: the client's bound of
    // 64 trailer lines would end the wait only after 18 s, so only a deadline on the whole
    // answer ends it within the bound below.
    let fake = FakeServer::start(|_request, stream| {
        let start =
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n";
        if stream.write_all(start).is_err() {
            return;
        }
        for byte in b"X-Trailer: 1\r\n".repeat(100) {
            if stream.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let client = client_with(fake.port(), Duration::from_secs(3));
    let started = Instant::now();
    let err = write(&client, "m v=1i 1").unwrap_err();
    let took = started.elapsed();
    // The status came whole: the answer is the 400, its body cut where the time ran out.
    assert!(
        matches!(&err, Error::Client { status: 400, message } if message.contains("[message cut]")),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(10), "cut after {took:?}");
}

#[test]
fn a_host_header_set_on_the_client_replaces_the_urls() {
    // Sent twice, influxd would answer 400 to every write.
    let server = influx_testserver::shared();
    let client = Client::builder()
        .host("127.0.0.1")
        .port(server.http_port())
        .database("host_header")
        .header("Host", "influx.example")
        .build()
        .unwrap();
    client.create_database("host_header").unwrap();
    let done = client
        .write_raw("m v=1i 1\nm v=2i 2", &WriteOptions::default())
        .unwrap();
    assert_eq!(done.requests, 1);
    let fake = FakeServer::start(|_request, stream| {
        influx_testserver::fake::respond(stream, "204 No Content", &[], b"")
    });
    let client = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db")
        .header("Host", "influx.example")
        .build()
        .unwrap();
    write(&client, "m v=1i 1").unwrap();
    let hosts: Vec<String> = fake.requests()[0]
        .headers
        .iter()
        .filter(|h| h.to_ascii_lowercase().starts_with("host:"))
        .cloned()
        .collect();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert!(hosts[0].ends_with("influx.example"), "{hosts:?}");
}
