//! Client configuration: from a URL, a builder, the environment or a DSN. Plain data, shared by
//! the blocking and the async client.

use std::fmt;
use std::time::Duration;

use crate::error::Error;

/// How a client authenticates.
#[derive(Clone, PartialEq, Eq)]
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

/// Everything a client needs to reach a server. Build it with [`ClientConfig::builder`],
/// [`ClientConfig::from_url`], [`ClientConfig::from_env`] or [`ClientConfig::from_dsn`].
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
    pub(crate) gzip: bool,
    pub(crate) verify_tls: bool,
    pub(crate) udp_port: Option<u16>,
    pub(crate) max_answer_size: usize,
    pub(crate) max_request_size: usize,
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
            gzip: false,
            verify_tls: true,
            udp_port: None,
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults: `http://localhost:8086`, no credentials.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::default(),
        }
    }

    /// Parses `http[s]://[user:password@]host[:port][/prefix]`. Credentials in the URL are moved
    /// into the `Authorization` header; they never appear in a request URL.
    ///
    /// ```
    /// use influx_core::ClientConfig;
    /// let c = ClientConfig::from_url("http://bob:secret@127.0.0.1:8087/influx")?;
    /// assert_eq!(c.base_url(), "http://127.0.0.1:8087/influx");
    /// assert!(!format!("{c:?}").contains("secret"));
    /// # Ok::<(), influx_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<ClientConfig, Error> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            Error::Config(format!(
                "not a URL: expected http[s]://host[:port]{UNSHOWN}"
            ))
        })?;
        let mut config = ClientConfig::default();
        config.tls = match scheme {
            "http" => false,
            "https" => true,
            _ => {
                return Err(Error::Config(format!(
                    "unsupported URL scheme: expected http or https{UNSHOWN}"
                )));
            }
        };
        config.port = if config.tls { 443 } else { 8086 };
        config.apply_authority_and_path(rest)?;
        Ok(config)
    }

    /// Parses influxdb-python's DSN: `influxdb://`, `https+influxdb://` or `udp+influxdb://`,
    /// then `[user:password@]host[:port][/database]`. With `udp+`, the port is still the HTTP
    /// one; set the UDP port with [`ClientBuilder::udp_port`].
    ///
    /// ```
    /// use influx_core::ClientConfig;
    /// let c = ClientConfig::from_dsn("https+influxdb://u:p@example.com:8087/metrics")?;
    /// assert_eq!(c.base_url(), "https://example.com:8087");
    /// assert_eq!(c.database(), Some("metrics"));
    /// # Ok::<(), influx_core::Error>(())
    /// ```
    pub fn from_dsn(dsn: &str) -> Result<ClientConfig, Error> {
        let (scheme, rest) = dsn.split_once("://").ok_or_else(|| {
            Error::Config(format!(
                "not a DSN: expected influxdb://, https+influxdb:// or udp+influxdb://{UNSHOWN}"
            ))
        })?;
        let mut config = ClientConfig::default();
        let modifiers: Vec<&str> = scheme.split('+').collect();
        if modifiers.last() != Some(&"influxdb") || modifiers.len() > 2 {
            return Err(unknown_dsn_scheme());
        }
        match modifiers.first() {
            Some(&"https") if modifiers.len() == 2 => config.tls = true,
            Some(&"udp") if modifiers.len() == 2 => config.udp_port = Some(4444),
            Some(&"influxdb") => {}
            _ => return Err(unknown_dsn_scheme()),
        }
        config.apply_authority_and_path(rest)?;
        let db = std::mem::take(&mut config.path_prefix);
        let db = db.trim_start_matches('/');
        if !db.is_empty() {
            config.database = Some(percent_decode(db));
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
    /// use influx_core::ClientConfig;
    /// let env = |name: &str| match name {
    ///     "INFLUXDB_HOST" => Some("127.0.0.1".to_owned()),
    ///     "INFLUXDB_PORT" => Some("8087".to_owned()),
    ///     "INFLUXDB_DATABASE" => Some("metrics".to_owned()),
    ///     _ => None,
    /// };
    /// let c = ClientConfig::from_lookup(env)?;
    /// assert_eq!(c.base_url(), "http://127.0.0.1:8087");
    /// # Ok::<(), influx_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientConfig, Error> {
        let mut config = match lookup("INFLUXDB_URL").filter(|s| !s.is_empty()) {
            Some(url) => ClientConfig::from_url(&url)?,
            None => {
                let scheme = lookup("INFLUXDB_SCHEME").unwrap_or_else(|| "http".into());
                let host = lookup("INFLUXDB_HOST").unwrap_or_else(|| "localhost".into());
                let mut config = ClientConfig::from_url(&format!("{scheme}://{host}"))?;
                config.port = match lookup("INFLUXDB_PORT") {
                    Some(port) => port.parse().map_err(|_| {
                        Error::Config(format!("INFLUXDB_PORT `{port}` is not a port number"))
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

    fn apply_authority_and_path(&mut self, rest: &str) -> Result<(), Error> {
        let has_userinfo = rest.contains('@');
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if path.contains('@') || (has_userinfo && !authority.contains('@')) {
            // A `/` in a password must be percent-encoded; guessing would put part of the
            // password in every request URL.
            return Err(Error::Config(
                "credentials in a URL must percent-encode `/`, `?`, `#` and `@` (as %2F, %3F, %23, %40)".into(),
            ));
        }
        let host_port = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                self.credentials = Credentials::Basic {
                    username: percent_decode(user),
                    password: percent_decode(password),
                };
                host_port
            }
            None => authority,
        };
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| Error::Config(format!("unclosed `[` in the host{UNSHOWN}")))?;
            (format!("[{host}]"), after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (host_port.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err(Error::Config(format!("no host in the URL{UNSHOWN}")));
        }
        self.host = host;
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            self.port = port.parse().map_err(|_| {
                Error::Config(format!(
                    "the port of the URL is not a number from 0 to 65535{UNSHOWN}"
                ))
            })?;
        }
        self.path_prefix = path.trim_end_matches('/').to_owned();
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

    /// Whether request bodies are gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// Whether TLS certificates are verified (the default).
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The UDP port of the server's UDP listener, if set.
    pub fn udp_port(&self) -> Option<u16> {
        self.udp_port
    }

    /// The bound on an answer's decoded size, in bytes.
    pub fn max_answer_size(&self) -> usize {
        self.max_answer_size
    }

    /// The bound on a request body's uncompressed size, in bytes.
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }
}

/// Builds a [`ClientConfig`] (and from it a client).
///
/// ```
/// use influx_core::ClientConfig;
/// use std::time::Duration;
/// let c = ClientConfig::builder()
///     .host("127.0.0.1")
///     .port(8087)
///     .credentials("root", "root")
///     .database("example")
///     .timeout(Duration::from_secs(5))
///     .gzip(true)
///     .build();
/// assert_eq!(c.base_url(), "http://127.0.0.1:8087");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl ClientBuilder {
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

    /// Whether to verify TLS certificates (default: yes). Turning it off is for test set-ups.
    pub fn verify_tls(mut self, on: bool) -> Self {
        self.config.verify_tls = on;
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
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
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

    /// The UDP port of the server's UDP listener.
    pub fn udp_port(mut self, port: u16) -> Self {
        self.config.udp_port = Some(port);
        self
    }

    /// The configuration.
    pub fn build(self) -> ClientConfig {
        self.config
    }
}

/// Said wherever a URL or DSN is refused. No part of the input is ever shown: a malformed URL
/// can hold a password anywhere (`bob:hunter2@host` without a scheme, `http://bob:hunter2`
/// without a host, where the password reads as a port), and there is no telling where.
const UNSHOWN: &str = " (the text is not shown, as it may hold a password)";

fn unknown_dsn_scheme() -> Error {
    Error::Config(format!(
        "unknown DSN scheme: expected influxdb://, https+influxdb:// or udp+influxdb://{UNSHOWN}"
    ))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn dsn_schemes() {
        let c = ClientConfig::from_dsn("influxdb://u:p%40ss@host:1234/db").unwrap();
        assert_eq!(c.base_url(), "http://host:1234");
        assert_eq!(
            c.credentials,
            Credentials::Basic {
                username: "u".into(),
                password: "p@ss".into()
            }
        );
        let c = ClientConfig::from_dsn("udp+influxdb://host/db").unwrap();
        assert_eq!(c.udp_port, Some(4444));
        assert!(ClientConfig::from_dsn("postgres://host/db").is_err());
        assert!(ClientConfig::from_dsn("http+influxdb://host/db").is_err());
    }

    /// Every shape of malformed input that holds the password `hunter2`, through every entry
    /// point that parses one: no error's `Display`, `Debug` or source chain may show it.
    #[test]
    fn no_configuration_error_shows_a_password() {
        const PASSWORD: &str = "hunter2";
        let urls = [
            "bob:hunter2@db.example.com:8086",
            "http:/bob:hunter2@db.example.com:8086",
            "http//bob:hunter2@db.example.com:8086",
            "http://bob:hunter2",
            "http://bob:hunter2@",
            "http://bob:hunter2@db.example.com:notaport",
            "http://bob:hunter2@[::1:8086",
            "http://bob:hunter2@:8086",
            "hunter2://db.example.com",
            "htp://bob:hunter2@db.example.com",
            "http://admin:hunter2/x@db.example.com",
            "http://bob:hunter2@db.example.com:99999",
            "http://bob:hunter2@db.example.com:8086/a@b",
        ];
        let dsns = [
            "influxdb:/bob:hunter2@db.example.com:8086/db",
            "influxdb//bob:hunter2@db.example.com/db",
            "bob:hunter2@db.example.com",
            "hunter2+influxdb://db.example.com/db",
            "postgres://bob:hunter2@db.example.com/db",
            "influxdb://bob:hunter2@db.example.com:port/db",
            "udp+influxdb://bob:hunter2",
        ];
        fn shown(err: &Error) -> String {
            let mut text = format!("{err} {err:?}");
            let mut source = std::error::Error::source(err);
            while let Some(s) = source {
                text.push_str(&format!(" {s} {s:?}"));
                source = s.source();
            }
            text
        }
        let mut refused = 0;
        for url in urls {
            let results = [
                ClientConfig::from_url(url).map(drop),
                crate::Client::new(url).map(drop),
                ClientConfig::from_lookup(|n| (n == "INFLUXDB_URL").then(|| url.to_owned()))
                    .map(drop),
            ];
            for result in results {
                let err = result.expect_err(url);
                assert!(!shown(&err).contains(PASSWORD), "{url}: {}", shown(&err));
                refused += 1;
            }
        }
        for dsn in dsns {
            for result in [
                ClientConfig::from_dsn(dsn).map(drop),
                crate::Client::from_dsn(dsn).map(drop),
            ] {
                let err = result.expect_err(dsn);
                assert!(!shown(&err).contains(PASSWORD), "{dsn}: {}", shown(&err));
                refused += 1;
            }
        }
        assert_eq!(refused, urls.len() * 3 + dsns.len() * 2);
    }

    #[test]
    fn percent_encoded_slashes_in_credentials_are_accepted() {
        let ok = ClientConfig::from_url("http://bob:se%2Fcret@host:8086").unwrap();
        assert_eq!(ok.base_url(), "http://host:8086");
        assert_eq!(
            ok.credentials,
            Credentials::Basic {
                username: "bob".into(),
                password: "se/cret".into()
            }
        );
    }

    #[test]
    fn a_bad_port_variable_is_named() {
        let err =
            ClientConfig::from_lookup(|n| (n == "INFLUXDB_PORT").then(|| "eighty".to_owned()))
                .unwrap_err();
        assert!(err.to_string().contains("eighty"));
    }
}
