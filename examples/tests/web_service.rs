//! The web service example over real HTTP: every request it answers becomes exactly one point
//! in influxd, with the right tags and fields; and with InfluxDB replaced by a listener that
//! never answers (a **fake server**, `influx_testserver::fake`), requests are as fast as
//! with the server up and the writer counts what it cannot send.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use influx_series::{Client, Value};
use influx_testserver::fake::FakeServer;

/// The example, running: its address, and its output still to be read.
struct Service {
    child: Child,
    address: String,
    out: BufReader<ChildStdout>,
}

impl Service {
    fn start(influx_url: &str, db: &str, extra: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_web_service"));
        command
            .env("INFLUXDB_URL", influx_url)
            .env("INFLUXDB_DATABASE", db)
            .env("INFLUXDB_INTERVAL", "50")
            .env("ENVIRONMENT", "ci")
            .env("PORT", "0")
            .stdout(Stdio::piped());
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the example starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("{line}"))
            .to_owned();
        Service {
            child,
            address,
            out,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// SIGTERM, then the shutdown line the example prints.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        assert!(self.child.wait().unwrap().success(), "{rest}");
        rest.lines()
            .find(|l| l.starts_with("shutdown:"))
            .unwrap_or_else(|| panic!("no shutdown line in {rest}"))
            .to_owned()
    }
}

/// A test that fails before `stop` leaves no service running after it.
impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every point of the measurement, as column -> text (absent tags left out).
fn points(client: &Client) -> Vec<BTreeMap<String, String>> {
    let sets = client.query("SELECT * FROM \"web-service\"").unwrap();
    let Some(series) = sets[0].series().first() else {
        return Vec::new();
    };
    series
        .rows()
        .map(|row| {
            series
                .columns()
                .iter()
                .zip(row.values())
                .filter(|(_, v)| !matches!(v, Value::Null))
                .map(|(c, v)| {
                    let text = match v {
                        Value::String(s) => s.to_string(),
                        other => format!("{other}"),
                    };
                    (c.clone(), text)
                })
                .collect()
        })
        .collect()
}

/// Reads a streamed response's head and first chunks over a raw connection, then hangs up.
fn disconnect_mid_body(address: &str, path: &str) -> usize {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("chunk 0002") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(stream);
    seen.len()
}

#[test]
fn every_request_becomes_exactly_one_point_with_its_tags_and_fields() {
    let server = influx_testserver::shared();
    let db = server.unique_db("web_service");
    let client = Client::new(&server.url()).unwrap().with_database(&db);
    client.create_database(&db).unwrap();
    let service = Service::start(&server.url(), &db, &[]);
    let http = plain_http_client();
    let get = |path: &str| {
        let response = http.get(service.url(path)).send().unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().unwrap().len())
    };

    let mut expected: Vec<(&str, &str, &str, u16, usize)> = Vec::new();
    for path in ["/items/1", "/items/2", "/items/3"] {
        let (status, bytes) = get(path);
        expected.push(("GET", "/items/{id}", path, status, bytes));
    }
    let traced = http
        .get(service.url("/items/7"))
        .header("x-request-id", "req-7")
        .send()
        .unwrap();
    assert_eq!(traced.status().as_u16(), 200);
    let traced_bytes = traced.bytes().unwrap().len();
    for (path, want) in [
        ("/items/error", 500),
        ("/items/panic", 500),
        ("/items/abc", 404),
    ] {
        let (status, bytes) = get(path);
        assert_eq!(status, want, "{path}");
        expected.push(("GET", "/items/{id}", path, status, bytes));
    }
    let (status, bytes) = get("/nope");
    assert_eq!(status, 404);
    expected.push(("GET", "unmatched", "/nope", status, bytes));
    let (status, bytes) = get("/stream/5");
    assert_eq!((status, bytes), (200, 5 * 11), "five chunks of 11 bytes");
    expected.push(("GET", "/stream/{n}", "/stream/5", status, bytes));
    let posted = http.post(service.url("/items/1")).send().unwrap();
    assert_eq!(posted.status().as_u16(), 405);
    let read = disconnect_mid_body(&service.address, "/stream/500");

    let shutdown = service.stop();
    assert!(
        shutdown.starts_with("shutdown: complete true, 11 written, 0 left over, 0 dropped"),
        "{shutdown}"
    );
    let points = points(&client);
    assert_eq!(points.len(), 11, "one point a request: {points:#?}");
    for p in &points {
        assert_eq!(p["environment"], "ci");
        assert!(p.contains_key("hostname"), "{p:?}");
        let duration: f64 = p["duration"].parse().unwrap();
        assert!(duration > 0.0, "{p:?}");
        if p["endpoint"] == "/items/{id}" && p["method"] == "GET" {
            assert!(duration >= 0.020, "at least the handler's 20 ms: {p:?}");
        }
    }
    let find = |f: &dyn Fn(&BTreeMap<String, String>) -> bool| -> Vec<&BTreeMap<String, String>> {
        points.iter().filter(|p| f(p)).collect()
    };
    // Each plain request: its endpoint, status and the bytes the client received.
    for (method, endpoint, path, status, bytes) in &expected {
        let status = status.to_string();
        let bytes = bytes.to_string();
        let matching = find(&|p| {
            p["method"] == *method
                && p["endpoint"] == *endpoint
                && p["status_code"] == status
                && p["content_length"] == bytes
                && !p.contains_key("cancelled")
        });
        assert!(!matching.is_empty(), "no point for {path}: {points:#?}");
    }
    let successes = find(&|p| p["endpoint"] == "/items/{id}" && p["status_code"] == "200");
    assert_eq!(successes.len(), 4, "/items/1, 2, 3 and 7");
    let traced = find(&|p| p.get("correlation_id").map(String::as_str) == Some("req-7"));
    assert_eq!(traced.len(), 1);
    assert_eq!(traced[0]["content_length"], traced_bytes.to_string());
    assert_eq!(find(&|p| p.contains_key("correlation_id")).len(), 1);
    let streamed = find(&|p| p["content_length"] == "55");
    assert!(
        streamed[0]["duration"].parse::<f64>().unwrap() >= 0.050,
        "five chunks 10 ms apart: {streamed:?}"
    );
    let posted = find(&|p| p["method"] == "POST");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["status_code"], "405");
    // The client that hung up: recorded as cancelled, with the bytes sent before.
    let cancelled = find(&|p| p.contains_key("cancelled"));
    assert_eq!(cancelled.len(), 1, "{points:#?}");
    let c = cancelled[0];
    assert_eq!(
        (c["endpoint"].as_str(), c["status_code"].as_str()),
        ("/stream/{n}", "200")
    );
    let sent: usize = c["content_length"].parse().unwrap();
    assert!(
        (3 * 11..500 * 11).contains(&sent),
        "{sent} bytes sent, {read} read by the client"
    );
    // Nothing ever names a raw path with an id in it.
    assert!(points.iter().all(|p| !p["endpoint"].contains("/items/1")));
}

/// The 99th percentile of `samples`.
fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() * 99 / 100]
}

#[test]
fn with_influxdb_silent_requests_are_as_fast_and_the_writer_counts_what_it_holds() {
    let server = influx_testserver::shared();
    let db = server.unique_db("web_service_p99");
    Client::new(&server.url())
        .unwrap()
        .create_database(&db)
        .unwrap();
    // A fake InfluxDB that accepts, reads the request and never answers.
    let silent = FakeServer::start(|_request, _stream| std::thread::sleep(Duration::from_secs(60)));
    let budget = [
        ("INFLUXDB_MAX_BUFFER_SIZE", "100"),
        ("INFLUXDB_TRIGGER_SIZE", "20"),
    ];
    let up = Service::start(&server.url(), &db, &budget);
    let down = Service::start(silent.url(), &db, &budget);
    let http = plain_http_client();
    let time = |service: &Service| {
        let started = Instant::now();
        let response = http.get(service.url("/items/1")).send().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.bytes().unwrap();
        started.elapsed()
    };
    // Interleaved, so that whatever else the machine does slows both alike.
    let (mut with_up, mut with_down) = (Vec::new(), Vec::new());
    for _ in 0..300 {
        with_up.push(time(&up));
        with_down.push(time(&down));
    }
    let (p99_up, p99_down) = (p99(with_up), p99(with_down));
    // A margin in time, not a ratio: the 99th percentile of 300 requests is the third
    // slowest, which a loaded machine's scheduling alone can move by tens of milliseconds.
    // A request that waited on the silent InfluxDB would wait for the client's timeout
    // (30 s), far beyond the margin.
    assert!(
        p99_down < p99_up + Duration::from_millis(500),
        "p99 {p99_down:?} with InfluxDB silent against {p99_up:?} with it up"
    );
    let up = up.stop();
    assert!(up.contains("300 written, 0 left over, 0 dropped"), "{up}");
    // 300 points against a budget of 100: the oldest dropped and counted, the rest left over
    // at the shutdown deadline, nothing written.
    let down = down.stop();
    let figures: Vec<u64> = down
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(
        down.starts_with("shutdown: complete false, 0 written"),
        "{down}"
    );
    let (left_over, dropped) = (figures[1], figures[2]);
    assert!(left_over > 0 && left_over <= 100, "{down}");
    assert!(dropped >= 200, "{down}");
}

/// A reqwest client for the service's plain-HTTP address. influx-series builds reqwest with
/// `rustls-no-provider` (it brings its own TLS configuration), so a client of reqwest's own needs
/// a process-wide crypto provider.
fn plain_http_client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}
