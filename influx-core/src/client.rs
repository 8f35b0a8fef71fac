//! The blocking client, on `reqwest::blocking`.

use std::time::Duration;

use crate::error::Error;
use crate::http::{self, Method, Request, WriteOptions};
use crate::line::LineBuf;
use crate::precision::Precision;

/// A blocking InfluxDB 1.x client. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// use influx_core::{Client, LineBuf, Point, Precision, WriteOptions};
///
/// let client = Client::new("http://127.0.0.1:8086")?;
/// println!("server version {}", client.ping()?);
/// let mut lines = LineBuf::new();
/// lines.push_point(&Point::builder("cpu").field("usage", 0.5).build()?, Precision::Nanoseconds);
/// client.write_lines(&lines, &WriteOptions::new("metrics"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    database: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `url` (`http://host:port`, optionally with a path prefix).
    pub fn new(url: &str) -> Result<Client, Error> {
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!(
                "unsupported URL `{url}`: expected http:// or https://"
            )));
        }
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client {
            http,
            base,
            database: None,
        })
    }

    /// Uses `database` for writes and queries that name none.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// The database used when a call names none.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    fn send(&self, request: Request) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Error> {
        let mut url = format!("{}{}", self.base, request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let mut builder = match request.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        if let Some(ct) = request.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if request.method == Method::Post {
            builder = builder.body(request.body);
        }
        let response = builder.send().map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().map_err(transport_error)?.to_vec();
        Ok((status, headers, body))
    }

    /// Checks that the server answers and returns its version (`X-Influxdb-Version`).
    pub fn ping(&self) -> Result<String, Error> {
        let (status, headers, body) = self.send(http::ping_request())?;
        if status != 204 {
            return Err(http::classify_write(status, &body, 0)
                .err()
                .unwrap_or_else(|| Error::Protocol(format!("ping answered {status}"))));
        }
        headers
            .get("X-Influxdb-Version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("ping answer has no X-Influxdb-Version".into()))
    }

    /// Writes a buffer of lines in one request.
    pub fn write_lines(&self, lines: &LineBuf, options: &WriteOptions) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        self.write_body(lines.as_bytes().to_vec(), options)
    }

    /// Writes raw line protocol after checking every line with the parser; a text the parser
    /// rejects is never sent.
    pub fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<(), Error> {
        if crate::parse::check_lines(text)? == 0 {
            return Ok(());
        }
        self.write_body(text.as_bytes().to_vec(), options)
    }

    fn write_body(&self, body: Vec<u8>, options: &WriteOptions) -> Result<(), Error> {
        let options = options.clone().or_database(self.database.as_deref());
        let request = http::write_request(&options, body)?;
        let (status, _, body) = self.send(request)?;
        http::classify_write(status, &body, 0)
    }

    /// Sends one InfluxQL text and returns the raw JSON answer. Statements that change state
    /// go as POST, reads as GET. Timestamps come back in `epoch` units, or as RFC 3339 text.
    pub fn query_raw(
        &self,
        query: &str,
        database: Option<&str>,
        epoch: Option<Precision>,
    ) -> Result<Vec<u8>, Error> {
        let database = database.or(self.database.as_deref());
        let mut params = vec![("q", query)];
        if let Some(db) = database {
            params.push(("db", db));
        }
        if let Some(epoch) = epoch {
            params.push(("epoch", epoch.as_epoch_str()));
        }
        let method = if crate::influxql::is_read_only(query) {
            Method::Get
        } else {
            Method::Post
        };
        let request = Request {
            method,
            path: "/query",
            query: http::encode_params(params),
            body: Vec::new(),
            content_type: None,
        };
        let (status, _, body) = self.send(request)?;
        match status {
            200 => Ok(body),
            _ => Err(http::classify_write(status, &body, 0)
                .err()
                .unwrap_or_else(|| Error::Protocol(format!("query answered {status}")))),
        }
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    // Strip the URL: it may name a user's host layout, and never needs to reach a log.
    let e = e.without_url();
    if e.is_timeout() {
        Error::Timeout(e.to_string())
    } else {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Error::Transport(message)
    }
}
