//! A fake HTTP server, for what a real influxd cannot be made to do: answer a gzip bomb, send
//! an endless body, answer 200 to a write, redirect, hang. Tests that use it say so; everything
//! a real server can show is tested against one.
//!
//! Each connection carries one request: the fake reads it (head and `Content-Length` body),
//! records it, hands it to the test's handler, which writes whatever bytes it likes, and closes
//! the connection.
//!
//! ```no_run
//! use influx_testserver::fake::{FakeServer, respond};
//! let fake = FakeServer::start(|_request, stream| {
//!     respond(stream, "200 OK", &[("Content-Type", "application/json")], b"");
//! });
//! println!("{} answers every query with an empty 200", fake.url());
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// When its head had arrived.
    pub received: Instant,
    /// `GET /query?... HTTP/1.1`
    pub request_line: String,
    /// Header lines, as sent (`Name: value`).
    pub headers: Vec<String>,
    /// The body (as sent: still gzip-compressed if it was).
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The path and query of the request line.
    pub fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or_default()
    }
}

type Handler = dyn Fn(&Request, &mut TcpStream) + Send + Sync + 'static;

/// A fake HTTP server on 127.0.0.1; it runs until the process ends.
pub struct FakeServer {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    /// Starts a fake whose `handler` writes the raw answer to each request.
    pub fn start(handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    if let Some(request) = read_request(&mut stream) {
                        seen.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(request.clone());
                        handler(&request, &mut stream);
                    }
                    let _ = stream.flush();
                });
            }
        });
        FakeServer { url, requests }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Writes a whole answer with `Content-Length` and `Connection: close`.
pub fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<String> = lines.map(str::to_owned).collect();
    let mut request = Request {
        received: Instant::now(),
        request_line,
        headers,
        body: data[head_end + 4..].to_vec(),
    };
    let length: usize = request
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        request.body.extend_from_slice(&buf[..n]);
    }
    Some(request)
}
