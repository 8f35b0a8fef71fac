// Over 800 lines, kept whole: a third is the rustdoc of `ClientBuilder`'s public setters, and
// every source of a configuration (URL, builder, environment, DSN) fills the same private
// fields and is checked by the same rules, which a split would have to open up.
//! Client configuration: from a URL, a builder, the environment or a DSN. Plain data, shared by
//! the blocking and the async client.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::protocol::precision::Precision;
use crate::request::retry::RetryPolicy;

/// How a client authenticates.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No `Authorization` header.
    None,
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password; never shown by `Debug`.
        password: String,
    },
    /// `Authorization: Token <token>` (the v1-compatible API of InfluxDB 2.x and 3.x).
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The value of the `Authorization` header, if any.
    pub fn header_value(&self) -> Option<String> {
        match self {
            Credentials::None => None,
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64(format!("{username}:{password}").as_bytes())
            )),
            Credentials::Token(token) => Some(format!("Token {token}")),
        }
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Everything a client needs to reach a server: from [`crate::Client::builder`] (then
/// [`ClientBuilder::into_config`]), [`ClientConfig::from_url`], [`ClientConfig::from_env`] or
/// [`ClientConfig::from_dsn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `http` or `https`.
    pub(crate) tls: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// A path prefix such as `/influxdb` when the server sits behind a proxy; no trailing `/`.
    pub(crate) path_prefix: String,
    pub(crate) credentials: Credentials,
    pub(crate) database: Option<String>,
    pub(crate) timeout: Option<Duration>,
    /// The bound on a call, retries included, up to its answer's head; `None`: the timeout.
    pub(crate) deadline: Option<Duration>,
    pub(crate) gzip: bool,
    /// Whether decoded queries ask for MessagePack answers.
    pub(crate) msgpack: bool,
    pub(crate) verify_tls: bool,
    /// Certificates (PEM) trusted besides the system's roots.
    pub(crate) ca_certificates: Vec<Pem>,
    pub(crate) max_answer_size: usize,
    pub(crate) max_request_size: usize,
    pub(crate) retry: RetryPolicy,
    /// Hosts tried in order after `host:port` when it cannot be reached.
    pub(crate) fallback_hosts: Vec<(String, u16)>,
    pub(crate) proxy: Option<Redacted>,
    /// Headers sent with every request; values never shown by `Debug`.
    pub(crate) headers: Vec<(String, Redacted)>,
    pub(crate) pool_max_idle_per_host: Option<usize>,
    pub(crate) writes_in_flight: usize,
    pub(crate) udp: Udp,
}

/// Where and how writes go over UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Udp {
    /// Writes go to influxd's UDP listener on this port instead of `/write` when set.
    pub(crate) port: Option<u16>,
    /// The listener's `precision` setting: timestamps are encoded in it.
    pub(crate) precision: Precision,
    pub(crate) max_datagram: usize,
}

/// The largest UDP payload over IPv4 (65 535 bytes less the IP and UDP headers): the default
/// bound on a datagram's size.
pub const DEFAULT_MAX_DATAGRAM: usize = 65_507;

/// How many write requests a write of several requests keeps in flight by default (see
/// [`ClientBuilder::writes_in_flight`]). Measured on a 2-core machine (docs/benchmarks.md):
/// influxd stores about 1.45 times as many points a second over two connections as over one,
/// `write_points` with two in flight is about 1.4 times as fast as with one, and with three
/// no faster than with two.
pub const DEFAULT_WRITES_IN_FLIGHT: usize = 2;

/// The most write requests a write keeps in flight.
pub const MAX_WRITES_IN_FLIGHT: usize = 16;

/// The datagram size that fits a 1 500-byte Ethernet MTU without fragments (less 20 bytes of
/// IPv4 header and 8 of UDP), for [`ClientBuilder::udp_max_datagram`].
pub const MTU_1500_DATAGRAM: usize = 1_472;

/// influxdb-python's default UDP port, used for a `udp+influxdb://` DSN.
const PYTHON_UDP_PORT: u16 = 4444;

/// Text that `Debug` does not show (a proxy URL may hold a password, a header a key).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Redacted(pub(crate) String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A PEM document, shown by `Debug` as its size only.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pem(pub(crate) Vec<u8>);

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes of PEM>", self.0.len())
    }
}

/// The default bound on an answer's decoded size: room for a 1 000 000-row query (an 83 MiB
/// answer) three times over.
pub const DEFAULT_MAX_ANSWER_SIZE: usize = 256 << 20;

/// The default bound on a request body's uncompressed size, well under influxd's default
/// `max-body-size` (25 000 000 bytes, applied after gunzip).
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 10 << 20;

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls: false,
            host: "localhost".into(),
            port: 8086,
            path_prefix: String::new(),
            credentials: Credentials::None,
            database: None,
            timeout: Some(Duration::from_secs(30)),
            deadline: None,
            gzip: false,
            msgpack: true,
            verify_tls: true,
            ca_certificates: Vec::new(),
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
            retry: RetryPolicy::default(),
            fallback_hosts: Vec::new(),
            proxy: None,
            headers: Vec::new(),
            pool_max_idle_per_host: None,
            writes_in_flight: DEFAULT_WRITES_IN_FLIGHT,
            udp: Udp {
                port: None,
                precision: Precision::Nanoseconds,
                max_datagram: DEFAULT_MAX_DATAGRAM,
            },
        }
    }
}

impl ClientConfig {
    /// Parses `http[s]://[user:password@]host[:port][?db=database]`, in any case of the scheme.
    /// Credentials in the URL are moved into the `Authorization` header; they never appear in a
    /// request URL. A DSN (`influxdb://...`, see [`ClientConfig::from_dsn`]) is read as one.
    ///
    /// A path is refused: `http://host:8086/metrics` could mean a database or a proxy's path
    /// prefix, and guessing wrong fails only at the first request. Say which with `?db=metrics`
    /// or with [`ClientBuilder::path_prefix`].
    ///
    /// ```
    /// use influx_series::ClientConfig;
    /// let c = ClientConfig::from_url("HTTP://bob:secret@127.0.0.1:8087?db=metrics")?;
    /// assert_eq!(c.base_url(), "http://127.0.0.1:8087");
    /// assert_eq!(c.database(), Some("metrics"));
    /// assert!(!format!("{c:?}").contains("secret"));
    /// let err = ClientConfig::from_url("http://127.0.0.1:8087/metrics").unwrap_err();
    /// assert!(err.to_string().contains("path_prefix"));
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn from_url(text: &str) -> Result<ClientConfig, Error> {
        let text = text.trim();
        if dsn_scheme(text).is_some() {
            return ClientConfig::from_dsn(text);
        }
        let url = parse_url(text)?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(Error::Config(
                    format!(
                        "unsupported URL scheme: expected http or https, or a DSN such as \
                     influxdb://host:8086/database{UNSHOWN}"
                    )
                    .into(),
                ));
            }
        };
        let mut config = ClientConfig {
            tls,
            ..ClientConfig::default()
        };
        config.apply_authority(&url, text)?;
        if !matches!(url.path(), "" | "/") {
            return Err(Error::Config(format!(
                "a URL with a path is ambiguous: for a database, write `?db=name`; for a server \
                 behind a proxy, set the path with `ClientBuilder::path_prefix(..)`{UNSHOWN}"
            ).into()));
        }
        if url.fragment().is_some() {
            return Err(Error::Config(
                format!("a URL with a `#` part is not a server's address{UNSHOWN}").into(),
            ));
        }
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "db" if !value.is_empty() => config.database = Some(value.into_owned()),
                "db" => {}
                _ => {
                    return Err(Error::Config(
                        format!("unknown URL parameter: only `db` (the database) is read{UNSHOWN}")
                            .into(),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// Parses influxdb-python's DSN: `influxdb://`, `https+influxdb://` (any case), then
    /// `[user:password@]host[:port][/database]`. Several hosts, comma-separated
    /// (`influxdb://u:p@a:8086,b:8086/db`), are tried in order when one cannot be reached
    /// (see [`ClientBuilder::fallback_host`]). `udp+influxdb://` makes a client that writes
    /// over UDP to port 4444 of the (first) host, influxdb-python's default; queries still go
    /// over HTTP to the port in the DSN. Set the UDP port with [`ClientBuilder::udp`].
    ///
    /// ```
    /// use influx_series::{ClientBuilder, ClientConfig};
    /// let c = ClientConfig::from_dsn("udp+influxdb://127.0.0.1:8086/udp")?;
    /// assert_eq!(c.udp_port(), Some(4444));
    /// let c = ClientBuilder::from(c).udp(8089).into_config();
    /// assert_eq!(c.udp_port(), Some(8089));
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    ///
    /// ```
    /// use influx_series::ClientConfig;
    /// let c = ClientConfig::from_dsn("https+influxdb://u:p@example.com:8087/metrics")?;
    /// assert_eq!(c.base_url(), "https://example.com:8087");
    /// assert_eq!(c.database(), Some("metrics"));
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn from_dsn(dsn: &str) -> Result<ClientConfig, Error> {
        let dsn = dsn.trim();
        let (tls, rest) = match dsn_scheme(dsn) {
            Some((DsnScheme::Http, rest)) => (false, rest),
            Some((DsnScheme::Https, rest)) => (true, rest),
            Some((DsnScheme::Udp, rest)) => (false, rest),
            None => return Err(unknown_dsn_scheme()),
        };
        let udp = matches!(dsn_scheme(dsn), Some((DsnScheme::Udp, _)));
        let scheme = if tls { "https" } else { "http" };
        // Several hosts, comma-separated, are tried in order: the first is the client's
        // host, the rest its fallbacks.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        let (userinfo, hostlist) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let mut hosts = hostlist.split(',');
        let first = hosts.next().unwrap_or_default();
        let rest = match userinfo {
            Some(userinfo) => format!("{userinfo}@{first}{after}"),
            None => format!("{first}{after}"),
        };
        let url = parse_url(&format!("{scheme}://{rest}"))?;
        let mut config = ClientConfig {
            tls,
            ..ClientConfig::default()
        };
        config.apply_authority(&url, &rest)?;
        for host in hosts {
            let mut fallback = ClientConfig {
                tls,
                ..ClientConfig::default()
            };
            fallback.apply_authority(&parse_url(&format!("{scheme}://{host}"))?, host)?;
            config.fallback_hosts.push((fallback.host, fallback.port));
        }
        if udp {
            config.udp.port = Some(PYTHON_UDP_PORT);
        }
        let mut segments = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty());
        if let Some(db) = segments.next() {
            config.database = Some(percent_decode(db));
        }
        if segments.next().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(
                format!("a DSN ends with `/database` at the most{UNSHOWN}").into(),
            ));
        }
        Ok(config)
    }

    /// Reads `INFLUXDB_URL`, or else `INFLUXDB_SCHEME` (default `http`), `INFLUXDB_HOST`
    /// (`localhost`) and `INFLUXDB_PORT` (`8086`); plus `INFLUXDB_USER`, `INFLUXDB_PASSWORD`
    /// and `INFLUXDB_DATABASE`. An invalid value is an error, never a silent default.
    pub fn from_env() -> Result<ClientConfig, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientConfig::from_env`], reading variables through `lookup` (for tests and for
    /// programs that keep their settings elsewhere).
    ///
    /// ```
    /// use influx_series::ClientConfig;
    /// let env = |name: &str| match name {
    ///     "INFLUXDB_HOST" => Some("127.0.0.1".to_owned()),
    ///     "INFLUXDB_PORT" => Some("8087".to_owned()),
    ///     "INFLUXDB_DATABASE" => Some("metrics".to_owned()),
    ///     _ => None,
    /// };
    /// let c = ClientConfig::from_lookup(env)?;
    /// assert_eq!(c.base_url(), "http://127.0.0.1:8087");
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientConfig, Error> {
        let mut config = match lookup("INFLUXDB_URL").filter(|s| !s.is_empty()) {
            Some(url) => ClientConfig::from_url(&url)?,
            None => {
                let scheme = lookup("INFLUXDB_SCHEME").unwrap_or_else(|| "http".into());
                let host = lookup("INFLUXDB_HOST").unwrap_or_else(|| "localhost".into());
                let mut config = ClientConfig::from_url(&format!("{scheme}://{host}"))?;
                config.port = match lookup("INFLUXDB_PORT") {
                    Some(port) => port
                        .trim()
                        .parse()
                        .ok()
                        .filter(|&p: &u16| p != 0)
                        .ok_or_else(|| {
                            Error::Config(
                                format!("INFLUXDB_PORT `{port}` is not a port number (1 to 65535)")
                                    .into(),
                            )
                        })?,
                    None => 8086,
                };
                config
            }
        };
        if let Some(username) = lookup("INFLUXDB_USER") {
            let password = lookup("INFLUXDB_PASSWORD").unwrap_or_default();
            config.credentials = Credentials::Basic { username, password };
        }
        if let Some(db) = lookup("INFLUXDB_DATABASE").filter(|s| !s.is_empty()) {
            config.database = Some(db);
        }
        Ok(config)
    }

    /// Host, port and credentials of a parsed URL. `original` is the text it came from: the
    /// parser drops a port that is the scheme's default (`:80`, `:443`), which here is not
    /// the default (8086), so the text tells whether one was written.
    fn apply_authority(&mut self, url: &url::Url, original: &str) -> Result<(), Error> {
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::Config(format!("no host in the URL{UNSHOWN}").into()))?;
        self.host = host.to_owned();
        self.port = match url.port() {
            Some(0) => {
                return Err(Error::Config(
                    format!("port 0 in the URL cannot be connected to{UNSHOWN}").into(),
                ));
            }
            Some(port) => port,
            None if explicit_port(original) => url.port_or_known_default().unwrap_or(8086),
            None if self.tls => 443,
            None => 8086,
        };
        if !url.username().is_empty() || url.password().is_some() {
            self.credentials = Credentials::Basic {
                username: percent_decode(url.username()),
                password: percent_decode(url.password().unwrap_or_default()),
            };
        }
        Ok(())
    }

    /// `scheme://host:port[/prefix]`, with no credentials.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}:{}{}",
            if self.tls { "https" } else { "http" },
            self.host,
            self.port,
            self.path_prefix
        )
    }

    /// The default database, if any.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The per-request timeout, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The most a call takes until its answer's head has come, every attempt, retry and wait
    /// between them included: the one set with [`ClientBuilder::deadline`], else the timeout.
    /// `None` with [`ClientBuilder::no_timeout`] and no deadline set.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline.or(self.timeout)
    }

    /// Whether request bodies are gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// Whether the queries this client decodes ask for MessagePack answers (the default; see
    /// [`ClientBuilder::msgpack`]).
    ///
    /// ```
    /// use influx_series::Client;
    /// assert!(Client::builder().into_config().msgpack());
    /// assert!(!Client::builder().msgpack(false).into_config().msgpack());
    /// ```
    pub fn msgpack(&self) -> bool {
        self.msgpack
    }

    /// Whether TLS certificates are verified (the default).
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The bound on an answer's decoded size, in bytes.
    pub fn max_answer_size(&self) -> usize {
        self.max_answer_size
    }

    /// The bound on a request body's uncompressed size, in bytes.
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }

    /// How many requests a write of several requests keeps in flight at most.
    pub fn writes_in_flight(&self) -> usize {
        self.writes_in_flight
    }

    /// The UDP port writes go to, if they go over UDP.
    pub fn udp_port(&self) -> Option<u16> {
        self.udp.port
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Every host the client tries, in order: `host:port` first, then the fallbacks.
    ///
    /// ```
    /// use influx_series::ClientConfig;
    /// let c = ClientConfig::from_dsn("influxdb://u:p@10.0.0.1:8086,10.0.0.2:8087/metrics")?;
    /// assert_eq!(c.hosts(), vec![("10.0.0.1", 8086), ("10.0.0.2", 8087)]);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn hosts(&self) -> Vec<(&str, u16)> {
        std::iter::once((self.host.as_str(), self.port))
            .chain(self.fallback_hosts.iter().map(|(h, p)| (h.as_str(), *p)))
            .collect()
    }

    /// The base URL of every host, in the order they are tried.
    pub(crate) fn base_urls(&self) -> Vec<String> {
        self.hosts()
            .into_iter()
            .map(|(host, port)| {
                let host = if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]")
                } else {
                    host.to_owned()
                };
                format!(
                    "{}://{host}:{port}{}",
                    if self.tls { "https" } else { "http" },
                    self.path_prefix
                )
            })
            .collect()
    }
}

/// Builds a [`crate::Client`] or a [`crate::AsyncClient`]: start with [`crate::Client::builder`].
///
/// ```
/// use influx_series::Client;
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .host("127.0.0.1")
///     .port(8087)
///     .credentials("root", "root")
///     .database("example")
///     .timeout(Duration::from_secs(5))
///     .gzip(true)
///     .build()?;
/// assert_eq!(client.config().base_url(), "http://127.0.0.1:8087");
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl ClientBuilder {
    /// A builder starting from the defaults: `http://localhost:8086`, no credentials.
    pub(crate) fn new() -> Self {
        ClientBuilder {
            config: ClientConfig::default(),
        }
    }

    /// The host name or address (default `localhost`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.config.host = host.into();
        self
    }

    /// The HTTP port (default 8086).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// HTTPS instead of HTTP (needs the `native-tls` or `rustls` feature).
    pub fn tls(mut self, on: bool) -> Self {
        self.config.tls = on;
        self
    }

    /// Trusts the certificate authority (or self-signed certificate) in `pem`, besides the
    /// system's roots: for a server whose certificate your own CA signed. Call it once per
    /// certificate; a bundle of several works too. A `pem` holding no certificate fails when
    /// the client is built ([`Error::Config`]).
    ///
    /// ```no_run
    /// let ca = std::fs::read("/etc/influxdb/ca.pem")?;
    /// let client = influx_series::Client::builder()
    ///     .host("influx.internal")
    ///     .tls(true)
    ///     .ca_certificate_pem(ca)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.ca_certificates.push(Pem(pem.into()));
        self
    }

    /// **Accepts any certificate**: expired, for another name, signed by anyone. Anybody
    /// between the client and the server can then read and change every request, credentials
    /// included. For a throw-away test set-up only; trust your own CA with
    /// [`ClientBuilder::ca_certificate_pem`] instead.
    pub fn danger_accept_invalid_certificates(mut self) -> Self {
        self.config.verify_tls = false;
        self
    }

    /// A path prefix, for a server behind a reverse proxy (`/influxdb`).
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let prefix = prefix.trim_end_matches('/');
        self.config.path_prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.to_owned()
        } else {
            format!("/{prefix}")
        };
        self
    }

    /// User name and password, sent as a Basic `Authorization` header.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.credentials = Credentials::Basic {
            username: username.into(),
            password: password.into(),
        };
        self
    }

    /// A token, sent as `Authorization: Token ...` (InfluxDB 2.x/3.x v1-compatible API).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.credentials = Credentials::Token(token.into());
        self
    }

    /// The database used when a call names none.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.config.database = Some(database.into());
        self
    }

    /// The timeout of each request, from connecting to the last byte of the answer
    /// (default 30 s). A stream's answer is bounded by it for each wait for more, not as a
    /// whole. Unless a [`deadline`](ClientBuilder::deadline) is set, it is also the most a
    /// call takes, retries included, until its answer's head has come.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }

    /// The most a call takes until its answer's head has come: connecting, every attempt,
    /// retry and failover, and the waits between them (default: the
    /// [`timeout`](ClientBuilder::timeout), 30 s). Each attempt is cut to what is left of it,
    /// and no retry starts that would end after it; a call that runs out fails with the last
    /// attempt's error. A write of several requests gives each request its deadline; a whole
    /// answer is then read within its timeout, a stream a chunk at a time. (With
    /// [`no_timeout`](ClientBuilder::no_timeout) and a deadline, the blocking client's stream
    /// must come whole by the deadline: it has nothing else to bound the wait for its head.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use influx_series::Client;
    ///
    /// // Each attempt may take 4 s, and a call with its retries at most 10 s.
    /// let client = Client::builder()
    ///     .timeout(Duration::from_secs(4))
    ///     .deadline(Duration::from_secs(10))
    ///     .build()?;
    /// assert_eq!(client.config().deadline(), Some(Duration::from_secs(10)));
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = Some(deadline);
        self
    }

    /// No timeout: a request waits as long as the server takes (influxdb-python's default).
    pub fn no_timeout(mut self) -> Self {
        self.config.timeout = None;
        self
    }

    /// Compress write bodies with gzip, and ask for gzip-compressed answers.
    pub fn gzip(mut self, on: bool) -> Self {
        self.config.gzip = on;
        self
    }

    /// Whether the queries this client decodes (`query`, `query_as`, `query_deserialize`,
    /// the streams, the DataFrame and admin calls) ask for their answers in MessagePack (on by
    /// default), as influxdb-python does: influxd then spends about 40 % less CPU on the
    /// answer, sends about 40 % fewer bytes, and floats arrive in binary, without being
    /// printed and parsed again. A whole float stays a float (`Value::Float(2.0)`; influxd's
    /// JSON writes `2`, which reads as `Value::Integer(2)`), and a time without an epoch is the
    /// same RFC 3339 text as in JSON. An answer in JSON (from a server or a proxy that does
    /// not speak MessagePack) is read as JSON. `query_raw` and `query_statements` always ask
    /// for JSON: their bytes are handed to you.
    ///
    /// ```
    /// use influx_series::Client;
    /// // Answers in JSON, as influxd sends them without being asked.
    /// let config = Client::builder().msgpack(false).into_config();
    /// assert!(!config.msgpack());
    /// ```
    pub fn msgpack(mut self, on: bool) -> Self {
        self.config.msgpack = on;
        self
    }

    /// The most an answer may hold, decompressed, in bytes (default 256 MiB,
    /// [`DEFAULT_MAX_ANSWER_SIZE`]). Reading stops there with [`Error::AnswerTooLarge`]:
    /// neither a gzip bomb nor an endless body can take more memory.
    pub fn max_answer_size(mut self, bytes: usize) -> Self {
        self.config.max_answer_size = bytes;
        self
    }

    /// The most a request body may hold, uncompressed, in bytes (default 10 MiB,
    /// [`DEFAULT_MAX_REQUEST_SIZE`]); keep it under the server's `max-body-size`, which
    /// influxd applies after gunzip. Writes are split into requests under it; any other body
    /// over it is [`Error::RequestTooLarge`] and is not sent.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.config.max_request_size = bytes.max(1);
        self
    }

    /// How failed requests are retried (default: [`RetryPolicy::new`], 3 retries);
    /// [`RetryPolicy::none`] sends every request once.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Another server to try, after the ones before it, when they cannot be reached (their
    /// connection is refused or fails): writes and queries go to the first host that
    /// answers. A host that could not be reached is skipped for 30 s, unless every host is.
    ///
    /// ```
    /// let client = influx_series::Client::builder()
    ///     .host("10.0.0.1")
    ///     .fallback_host("10.0.0.2", 8086)
    ///     .build()?;
    /// assert_eq!(client.config().hosts().len(), 2);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn fallback_host(mut self, host: impl Into<String>, port: u16) -> Self {
        self.config.fallback_hosts.push((host.into(), port));
        self
    }

    /// Sends every request through this HTTP(S) proxy (`http://[user:password@]proxy:3128`).
    /// Without one, the client uses none, whatever the environment says.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.config.proxy = Some(Redacted(url.into()));
        self
    }

    /// A header sent with every request (a gateway's API key, a tenant). Its value is never
    /// shown by `Debug`. A name or value that is not valid in HTTP fails when the client is
    /// built ([`Error::Config`]); `Authorization` is set by [`ClientBuilder::credentials`]
    /// and [`ClientBuilder::token`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config
            .headers
            .push((name.into(), Redacted(value.into())));
        self
    }

    /// How many idle connections per host the client keeps open for later requests
    /// (influxdb-python's `pool_size`; default: no limit for queries, 16 for the blocking
    /// client's writes over plain HTTP, which go over connections of their own). An idle
    /// connection is closed after 90 seconds.
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.config.pool_max_idle_per_host = Some(connections);
        self
    }

    /// How many requests a write that needs several keeps in flight at once, over as many
    /// connections (default [`DEFAULT_WRITES_IN_FLIGHT`], at most [`MAX_WRITES_IN_FLIGHT`];
    /// 1 sends one request after another). It applies to `write_points`, the commits of
    /// `#[derive(Series)]` types and the buffered writer, whose lines this crate encodes;
    /// `write_raw`, `write_lines` and `write_dataframe` send one request at a time.
    ///
    /// Lines are dealt to the requests a series at a time, so that influxd gets each series'
    /// points in their order, from one request at a time (a write of too few series to share
    /// out, such as one series, is dealt by series and timestamp instead). Either way, two
    /// points of the same series and time always go in the same request, or in requests one
    /// after the other, in the order they were given: the later one wins, as it would with one
    /// request at a time.
    /// A write of fewer than about a thousand lines a request goes as one request. When one
    /// request fails while another succeeds, what was written stays written and is never sent
    /// again; the points not written are reported
    /// ([`Error::Unwritten`](crate::Error::Unwritten)) or, in a buffer, kept in their order.
    ///
    /// ```
    /// let client = influx_series::Client::builder().writes_in_flight(1).build()?;
    /// assert_eq!(client.config().writes_in_flight(), 1);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn writes_in_flight(mut self, requests: usize) -> Self {
        self.config.writes_in_flight = requests.clamp(1, MAX_WRITES_IN_FLIGHT);
        self
    }

    /// Writes go to influxd's UDP listener on `port` of the host (`[[udp]]` in its config),
    /// in datagrams of at most [`ClientBuilder::udp_max_datagram`] bytes; queries still go
    /// over HTTP. influxdb-python's `use_udp=True, udp_port=port`.
    ///
    /// UDP has no answer: a write returns once its datagrams are sent, and a point the
    /// listener cannot parse or store is lost without a word (influxd logs it). The listener
    /// writes into its own database and retention policy, so a write's database and retention
    /// policy are not used.
    ///
    /// ```no_run
    /// use influx_series::{Client, Point, WriteOptions};
    /// let client = Client::builder().host("127.0.0.1").udp(8089).build()?;
    /// let point = Point::builder("cpu").field("load", 0.5).build()?;
    /// client.write_points([point], &WriteOptions::default())?;
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn udp(mut self, port: u16) -> Self {
        self.config.udp.port = Some(port);
        self
    }

    /// The listener's `precision` setting (default nanoseconds): points are encoded in it, and
    /// raw lines written over UDP must be in it.
    pub fn udp_precision(mut self, precision: Precision) -> Self {
        self.config.udp.precision = precision;
        self
    }

    /// The largest datagram sent, in bytes (default [`DEFAULT_MAX_DATAGRAM`], the most UDP
    /// carries; [`MTU_1500_DATAGRAM`] avoids IP fragments on a 1 500-byte MTU). Lines are
    /// packed into datagrams up to it, and a line longer than it is
    /// [`Error::DatagramTooLarge`].
    pub fn udp_max_datagram(mut self, bytes: usize) -> Self {
        self.config.udp.max_datagram = bytes.clamp(1, DEFAULT_MAX_DATAGRAM);
        self
    }

    /// The configuration, for [`crate::Client::with_config`] later.
    pub fn into_config(self) -> ClientConfig {
        self.config
    }
}

/// Starts a builder from a configuration read elsewhere, to change some of it.
///
/// ```
/// use influx_series::{ClientBuilder, ClientConfig};
///
/// let config = ClientConfig::from_url("http://127.0.0.1:8087?db=example")?;
/// let config = ClientBuilder::from(config).gzip(true).into_config();
/// assert!(config.gzip());
/// assert_eq!(config.database(), Some("example"));
/// # Ok::<(), influx_series::Error>(())
/// ```
impl From<ClientConfig> for ClientBuilder {
    fn from(config: ClientConfig) -> Self {
        ClientBuilder { config }
    }
}

/// Said wherever a URL or DSN is refused. No part of the input is ever shown: a malformed URL
/// can hold a password anywhere (`bob:hunter2@host` without a scheme, `http://bob:hunter2`
/// without a host, where the password reads as a port), and there is no telling where.
const UNSHOWN: &str = " (the text is not shown, as it may hold a password)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DsnScheme {
    Http,
    Https,
    Udp,
}

/// The scheme of a DSN (any case) and the text after `://`, if `text` is a DSN.
fn dsn_scheme(text: &str) -> Option<(DsnScheme, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "influxdb" => DsnScheme::Http,
        "https+influxdb" => DsnScheme::Https,
        "udp+influxdb" => DsnScheme::Udp,
        _ => return None,
    };
    Some((scheme, rest))
}

/// A URL parsed, or an error that shows none of it. A `/` in a password must be
/// percent-encoded (`%2F`): unencoded, it would end the host, and guessing would put part of
/// the password in every request URL.
fn parse_url(text: &str) -> Result<url::Url, Error> {
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    if after_scheme[authority_end..].contains('@') {
        return Err(Error::Config(
            "credentials in a URL must percent-encode `/`, `?`, `#` and `@` (as %2F, %3F, %23, %40)"
                .into(),
        ));
    }
    url::Url::parse(text).map_err(|e| {
        // The parser's messages name what is wrong, never the text itself.
        Error::Config(format!("not a URL ({e}): expected http[s]://host[:port]{UNSHOWN}").into())
    })
}

/// Whether the authority of `text` (`scheme://authority/...`) ends with `:port`.
fn explicit_port(text: &str) -> bool {
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = &after_scheme[..after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match host_port.rfind(']') {
        Some(i) => &host_port[i + 1..],
        None => host_port,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

fn unknown_dsn_scheme() -> Error {
    Error::Config(format!(
        "unknown DSN scheme: expected influxdb://, https+influxdb:// or udp+influxdb://{UNSHOWN}"
    ).into())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(v) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
