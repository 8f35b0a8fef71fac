//! Private `influxd` (InfluxDB 1.x) servers for tests, benchmarks and the demo.
//!
//! [`Server::start`] writes a config into a fresh temporary directory, picks free loopback
//! ports for HTTP, UDP and the RPC address, starts `influxd` and waits until `/ping`
//! answers. Every server has its own data directory, so tests can run in parallel.
//! [`shared`] gives one server per test binary for tests that only need *a* server.
//!
//! No `influxd` outlives the process that started it, even if that process is killed
//! with `SIGKILL`: each server runs under a small shell watchdog that holds the read end
//! of a pipe whose write end only this process has. When the pipe closes, for whatever
//! reason, the watchdog stops `influxd` (`SIGTERM`, then `SIGKILL` after 10 s) and
//! removes the temporary directory.
//!
//! The binary is found by [`find_influxd`]: `$INFLUXD`, else `influxd` on `PATH`.
//! Unix only (it relies on `/bin/sh`, `kill` and signals).
//!
//! ```no_run
//! let server = influx_testserver::Server::start();
//! let db = server.unique_db("my_test");
//! println!("write to {}/write?db={db}", server.url());
//! // Dropping `server` stops influxd and deletes its data.
//! ```

pub mod fake;

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long `start` and `restart` wait for `/ping` (generous: a loaded machine can take many
/// seconds to start influxd, and a slow start is no failure).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How many times `start` picks new ports when influxd finds one already taken.
const PORT_ATTEMPTS: usize = 5;
/// The database the `[[udp]]` listener writes into.
const UDP_DATABASE: &str = "udp";
/// How long influxd may take to shut down after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);
/// The admin user of a server started by [`Server::start_with_auth`].
pub const ADMIN_USER: &str = "admin";
/// The password of [`ADMIN_USER`].
pub const ADMIN_PASSWORD: &str = "admin-secret";
const CA_FILE: &str = "ca.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";
const CONFIG_FILE: &str = "influxdb.conf";
const LOG_FILE: &str = "influxd.log";
/// The file [`Server::stop`] leaves in the data directory to tell the watchdog to keep it.
const KEEP_FILE: &str = "keep";
const INSTALL_HINT: &str = "install it with `apt-get update && apt-get install -y influxdb` \
                            (Debian) or set INFLUXD=/path/to/influxd";

/// One private `influxd` process with its own ports, config and data directory.
///
/// Dropping it stops the process and removes the temporary directory.
#[derive(Debug)]
pub struct Server {
    influxd: PathBuf,
    dir: PathBuf,
    http_port: u16,
    udp_port: u16,
    /// Whether influxd checks credentials; the harness then acts as [`ADMIN_USER`].
    auth: bool,
    /// Whether influxd serves HTTPS, with a certificate for 127.0.0.1 signed by a CA the
    /// harness made (`ca.pem` in the directory).
    tls: bool,
    /// influxd's `max-body-size` (its default, 25 000 000 bytes, when `None`).
    max_body_size: Option<u64>,
    /// `None` while stopped. A mutex only so that `is_running(&self)` can poll the child.
    watchdog: Mutex<Option<Watchdog>>,
}

impl Server {
    /// Starts a new private server; panics with a clear message on failure (it is test support).
    pub fn start() -> Server {
        Server::try_start().unwrap_or_else(|e| panic!("influx-testserver: {e}"))
    }

    /// Like [`Server::start`], but returns an error string instead of panicking.
    pub fn try_start() -> Result<Server, String> {
        Server::try_start_with(false, false)
    }

    /// Starts a new private server with `auth-enabled = true` and one admin user,
    /// [`ADMIN_USER`] with password [`ADMIN_PASSWORD`] (created by the harness as the first
    /// user, which influxd allows without credentials). Panics on failure.
    pub fn start_with_auth() -> Server {
        Server::try_start_with(true, false).unwrap_or_else(|e| panic!("influx-testserver: {e}"))
    }

    /// Starts a new private server that serves HTTPS only (`https-enabled = true`), with a
    /// certificate for `127.0.0.1` (an IP subject alternative name) signed by a certificate
    /// authority made for it: [`Server::ca_pem`] is what a client must trust. Needs the
    /// `openssl` command. Panics on failure.
    pub fn start_with_tls() -> Server {
        Server::try_start_with(false, true).unwrap_or_else(|e| panic!("influx-testserver: {e}"))
    }

    /// Starts a new private server whose `[http] max-body-size` is `bytes`: a write body
    /// above it gets `413`. Panics on failure.
    pub fn start_with_max_body_size(bytes: u64) -> Server {
        Server::try_start_configured(false, false, Some(bytes))
            .unwrap_or_else(|e| panic!("influx-testserver: {e}"))
    }

    fn try_start_with(auth: bool, tls: bool) -> Result<Server, String> {
        Server::try_start_configured(auth, tls, None)
    }

    fn try_start_configured(
        auth: bool,
        tls: bool,
        max_body_size: Option<u64>,
    ) -> Result<Server, String> {
        let influxd = find_influxd()?;
        let dir = create_temp_dir()?;
        // From here on `server` owns `dir`: an early return drops it and removes the dir.
        let mut server = Server {
            influxd,
            dir,
            http_port: 0,
            udp_port: 0,
            auth,
            tls,
            max_body_size,
            watchdog: Mutex::new(None),
        };
        if tls {
            make_certificates(&server.dir)?;
        }
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let (http_port, rpc_port, udp_port) = free_ports()?;
            server.http_port = http_port;
            server.udp_port = udp_port;
            server.write_config(rpc_port)?;
            match server.launch() {
                Ok(()) => return Ok(server),
                // Another process grabbed one of the ports between our probe and influxd's bind.
                Err(LaunchError::PortTaken(e)) => last_error = e,
                Err(LaunchError::Failed(e)) => return Err(e),
            }
        }
        Err(format!(
            "influxd found its ports taken {PORT_ATTEMPTS} times in a row; last error: {last_error}"
        ))
    }

    /// The base URL of the HTTP API: `http://127.0.0.1:PORT` (`https://` for a server
    /// from [`Server::start_with_tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.http_port)
    }

    /// The certificate (PEM) of the authority that signed a TLS server's certificate; `None`
    /// for a plain HTTP server.
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.tls
            .then(|| fs::read(self.dir.join(CA_FILE)).ok())
            .flatten()
    }

    /// How the harness reaches this server.
    fn access(&self) -> Access<'_> {
        Access {
            port: self.http_port,
            auth: self.auth,
            ca: self.tls.then(|| self.dir.join(CA_FILE)),
            _server: std::marker::PhantomData,
        }
    }

    /// The HTTP API port on 127.0.0.1.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The port of the UDP line-protocol listener on 127.0.0.1.
    pub fn udp_port(&self) -> u16 {
        self.udp_port
    }

    /// The database the UDP listener writes into: `"udp"`. It exists once `start` returns.
    pub fn udp_database(&self) -> &str {
        UDP_DATABASE
    }

    /// The server's temporary directory, holding config, log, `meta/`, `data/` and `wal/`.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The file that receives influxd's stdout and stderr (appended to across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// The process id of influxd while it runs.
    pub fn pid(&self) -> Option<u32> {
        let mut guard = self.lock();
        let watchdog = guard.as_mut()?;
        watchdog.is_alive().then_some(watchdog.pid)
    }

    /// Stops the process (`SIGTERM`, then `SIGKILL` after 10 s); keeps ports, config and
    /// data directory for [`Server::restart`]. Does nothing if it is already stopped.
    pub fn stop(&mut self) {
        if let Some(watchdog) = self.watchdog_mut().take() {
            watchdog.shutdown(true);
        }
    }

    /// Starts it again on the same ports and data directory (stopping it first if it
    /// runs) and waits for `/ping`. Panics if influxd does not come up.
    ///
    /// A port of the stopped server can be held for a moment by a loopback connection that
    /// happened to get it as its own (ephemeral) port: a port clash is tried again for up to
    /// 30 seconds before it fails.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.launch() {
                Ok(()) => return,
                Err(LaunchError::PortTaken(_)) if Instant::now() < deadline => {
                    sleep(Duration::from_millis(200));
                }
                Err(LaunchError::PortTaken(e) | LaunchError::Failed(e)) => {
                    panic!("influx-testserver: restart failed: {e}")
                }
            }
        }
    }

    /// Whether influxd is running. Notices an influxd that died by itself within a second.
    pub fn is_running(&self) -> bool {
        self.lock().as_mut().is_some_and(Watchdog::is_alive)
    }

    /// A database name unique within this process and this server, `"{prefix}_{n}"` with a
    /// process-wide counter `n`. The prefix is lowercased and every character outside
    /// `[a-z0-9_]` becomes `_`; an empty prefix becomes `db`, and one starting with a digit
    /// gets `db_` in front, so the name needs no quoting in InfluxQL.
    pub fn unique_db(&self, prefix: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let mut name: String = prefix
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '_') => c,
                _ => '_',
            })
            .collect();
        if name.is_empty() {
            name.push_str("db");
        } else if name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert_str(0, "db_");
        }
        format!("{name}_{}", COUNTER.fetch_add(1, Ordering::Relaxed))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Watchdog>> {
        self.watchdog.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn watchdog_mut(&mut self) -> &mut Option<Watchdog> {
        self.watchdog.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the POST `/query` `q` against this server and returns the JSON body.
    fn query(&self, q: &str) -> Result<String, String> {
        query(&self.access(), q)
    }

    fn write_config(&self, rpc_port: u16) -> Result<(), String> {
        let dir = |name: &str| toml_string(&self.dir.join(name).to_string_lossy());
        let (meta, data, wal) = (dir("meta"), dir("data"), dir("wal"));
        let (http, udp, auth, tls) = (self.http_port, self.udp_port, self.auth, self.tls);
        let (certificate, key) = (dir(CERT_FILE), dir(KEY_FILE));
        let max_body_size = self.max_body_size.unwrap_or(25_000_000);
        // Setting names as printed by `influxd config` of InfluxDB 1.6. influxd ignores
        // unknown keys, so both spellings of the reporting switch are safe: upstream uses
        // `reporting-disabled`, Debian's package patches it to `reporting-enabled`.
        let config = format!(
            r#"reporting-disabled = true
reporting-enabled = false
# The RPC (backup/restore) address; its default 8088 would clash between servers.
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = {meta}

[data]
  dir = {data}
  wal-dir = {wal}
  query-log-enabled = false

[coordinator]

[monitor]
  # Otherwise `_internal` shows up in SHOW DATABASES.
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
  auth-enabled = {auth}
  https-enabled = {tls}
  https-certificate = {certificate}
  https-private-key = {key}
  max-body-size = {max_body_size}

[logging]
  level = "warn"
  suppress-logo = true

[[udp]]
  enabled = true
  bind-address = "127.0.0.1:{udp}"
  database = "{UDP_DATABASE}"
  batch-size = 5000
  batch-timeout = "50ms"

[continuous_queries]
  enabled = true
"#
        );
        let path = self.dir.join(CONFIG_FILE);
        fs::write(&path, config).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Starts influxd with the config already written and waits until it serves requests.
    fn launch(&mut self) -> Result<(), LaunchError> {
        let log = self.log_path();
        let log_start = fs::metadata(&log).map_or(0, |m| m.len());
        let mut watchdog =
            Watchdog::spawn(&self.influxd, &self.dir, TERM_GRACE).map_err(LaunchError::Failed)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if is_influxd_with_pid(&self.access(), watchdog.pid) {
                break;
            }
            if !watchdog.is_alive() {
                let new_output = read_log(&log, log_start);
                let message = format!(
                    "influxd exited right after starting; last lines of {}:\n{}",
                    log.display(),
                    tail(&new_output, 40)
                );
                return Err(if new_output.contains("address already in use") {
                    LaunchError::PortTaken(message)
                } else {
                    LaunchError::Failed(message)
                });
            }
            if Instant::now() >= deadline {
                watchdog.shutdown(true);
                return Err(LaunchError::Failed(format!(
                    "influxd did not answer {}/ping within {} s; last 40 lines of {}:\n{}",
                    self.url(),
                    START_TIMEOUT.as_secs(),
                    log.display(),
                    tail(&read_log(&log, 0), 40)
                )));
            }
            sleep(Duration::from_millis(20));
        }
        *self.watchdog_mut() = Some(watchdog);
        // influxd 1.6 creates the UDP database only when the first UDP batch arrives, so
        // create it here; CREATE DATABASE is a no-op when it exists.
        self.query(&format!("CREATE DATABASE {UDP_DATABASE}"))
            .and_then(|_| self.query("SHOW DATABASES"))
            .and_then(|body| {
                if body.contains(&format!("[\"{UDP_DATABASE}\"]")) {
                    Ok(())
                } else {
                    Err(format!(
                        "database {UDP_DATABASE} missing after creating it: {body}"
                    ))
                }
            })
            .map_err(LaunchError::Failed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(watchdog) = self.watchdog_mut().take() {
            watchdog.shutdown(false);
        }
        // The watchdog removes the directory itself, but not after `stop`.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

enum LaunchError {
    /// influxd exited complaining that a port is in use: worth retrying with new ports.
    PortTaken(String),
    Failed(String),
}

/// One server shared by every test of a test binary, started on first use.
///
/// libtest never runs destructors of statics; the watchdog notices the process exit and
/// stops influxd and removes its directory. Do not `stop` or `restart` it (you can't:
/// those need `&mut`); use [`Server::unique_db`] to keep tests apart.
pub fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(Server::start)
}

/// Finds the influxd binary: `$INFLUXD` if set, else `influxd` on `PATH`.
pub fn find_influxd() -> Result<PathBuf, String> {
    locate_influxd(std::env::var_os("INFLUXD"), std::env::var_os("PATH"))
}

fn locate_influxd(explicit: Option<OsString>, path: Option<OsString>) -> Result<PathBuf, String> {
    let is_executable = |p: &Path| {
        fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if let Some(explicit) = explicit.filter(|p| !p.is_empty()) {
        let explicit = PathBuf::from(explicit);
        return if is_executable(&explicit) {
            Ok(explicit)
        } else {
            Err(format!(
                "influxd not found at INFLUXD={}; {INSTALL_HINT}",
                explicit.display()
            ))
        };
    }
    path.iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("influxd"))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| format!("influxd not found on PATH; {INSTALL_HINT}"))
}

/// Waits until `GET http://127.0.0.1:{port}/ping` answers 204 or the timeout passes.
pub fn wait_for_ping(port: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match ping_once(port) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!(
                    "http://127.0.0.1:{port}/ping did not answer 204 within {timeout:?}: {e}"
                ));
            }
            Err(_) => sleep(Duration::from_millis(20)),
        }
    }
}

fn ping_once(port: u16) -> Result<(), String> {
    ping(&Access::plain(port))
}

/// How the harness reaches a server: its port, whether as [`ADMIN_USER`], and over TLS
/// trusting which CA.
struct Access<'a> {
    port: u16,
    auth: bool,
    ca: Option<PathBuf>,
    _server: std::marker::PhantomData<&'a Server>,
}

impl Access<'_> {
    fn plain(port: u16) -> Access<'static> {
        Access {
            port,
            auth: false,
            ca: None,
            _server: std::marker::PhantomData,
        }
    }
}

fn ping(access: &Access<'_>) -> Result<(), String> {
    match http(access, "GET", "/ping", Duration::from_secs(5))? {
        (204, _) => Ok(()),
        (status, _) => Err(format!("/ping answered {status}")),
    }
}

/// Whether the influxd with process id `pid` answers on the port. Another server may have
/// taken the port (then ours exits with "address already in use" and `try_start` retries).
///
/// With `auth`, influxd answers nothing but the creation of the first admin user until one
/// exists, so that comes first ([`ADMIN_USER`]; idempotent, as influxd accepts a
/// `CREATE USER` matching the existing user).
fn is_influxd_with_pid(access: &Access<'_>, pid: u32) -> bool {
    if access.auth && ping(access).is_ok() {
        let create = format!(
            "CREATE USER {ADMIN_USER} WITH PASSWORD '{ADMIN_PASSWORD}' WITH ALL PRIVILEGES"
        );
        let anonymous = Access {
            auth: false,
            ca: access.ca.clone(),
            ..Access::plain(access.port)
        };
        let _ = query(&anonymous, &create);
    }
    ping(access).is_ok()
        && query(access, "SHOW DIAGNOSTICS FOR 'system'")
            .is_ok_and(|body| body.contains(&format!("\"values\":[[{pid},")))
}

/// Runs `q` with POST `/query` and returns the JSON body; an error if influxd reports one.
/// With `auth`, as [`ADMIN_USER`].
fn query(access: &Access<'_>, q: &str) -> Result<String, String> {
    let encoded: String = q
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    match http(
        access,
        "POST",
        &match access.auth {
            true => format!("/query?q={encoded}&u={ADMIN_USER}&p={ADMIN_PASSWORD}"),
            false => format!("/query?q={encoded}"),
        },
        Duration::from_secs(60),
    )? {
        (200, body) if !body.contains("\"error\":") => Ok(body),
        (status, body) => Err(format!("{q}: HTTP {status}: {body}")),
    }
}

/// A minimal HTTP/1.1 client for bodiless requests: returns status code and body.
/// `timeout` bounds each read from the socket (over TLS, the whole exchange).
fn http(
    access: &Access<'_>,
    method: &str,
    target: &str,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let port = access.port;
    let what = format!("{method} 127.0.0.1:{port}{target}");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let response = match &access.ca {
        None => exchange_plain(port, &request, timeout),
        Some(ca) => exchange_tls(port, ca, &request, timeout),
    }
    .map_err(|e| format!("{what}: {e}"))?;

    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{what}: truncated response"))?;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = &response[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what}: bad status line"))?;
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body).ok_or_else(|| format!("{what}: bad chunked body"))?
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn exchange_plain(port: u16, request: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let fail = |e: std::io::Error| e.to_string();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(fail)?;
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(fail)?;
    stream.write_all(request.as_bytes()).map_err(fail)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(fail)?;
    Ok(response)
}

/// The exchange over TLS, through `openssl s_client` (verifying the server against `ca`),
/// killed if it takes longer than `timeout`.
fn exchange_tls(port: u16, ca: &Path, request: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let mut child = Command::new("openssl")
        .arg("s_client")
        .args(["-connect", &format!("127.0.0.1:{port}")])
        .arg("-CAfile")
        .arg(ca)
        .args(["-verify_return_error", "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let _ = stdin.write_all(request.as_bytes());
    let reader = std::thread::spawn(move || {
        let mut response = Vec::new();
        let _ = stdout.read_to_end(&mut response);
        response
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    drop(stdin);
    reader.join().map_err(|_| "the reader panicked".to_string())
}

/// Decodes a `Transfer-Encoding: chunked` body (chunk extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        rest = &rest[line_end + 2..];
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// The watchdog script, run with `$1` = influxd, `$2` = config, `$3` = log, `$4` = dir,
/// `$5` = how many tenths of a second influxd gets between SIGTERM and SIGKILL.
///
/// Its stdin is a pipe whose only writer is the process that started the server, so EOF
/// means that process dropped the server or died (even by SIGKILL). Any line means
/// [`Server::stop`]: stop influxd but keep the directory. When influxd exits by itself
/// the script exits too and keeps the directory (its log tells why).
///
/// The directory is removed only at EOF and only when [`KEEP_FILE`] is not in it:
/// [`Server::stop`] makes that file before it writes its line, because bash's `read -t 1`
/// that times out halfway through the line drops what it read, and the rest of the line
/// then reads as EOF.
const WATCHDOG_SCRIPT: &str = r#"
"$1" -config "$2" >>"$3" 2>&1 </dev/null &
pid=$!
echo "$pid"
exec 1>&2
# bash's `read -t 1` wakes every second to notice an influxd that died by itself; a shell
# without it (dash) blocks in a plain `read` and only notices the pipe.
if (read -t 0 x </dev/null) 2>/dev/null; then t='-t 1'; else t=''; fi
remove=0
while kill -0 "$pid" 2>/dev/null; do
    read -r $t line
    rc=$?
    if [ "$rc" -eq 0 ]; then
        break         # a line: stop, keep the directory
    elif [ "$rc" -le 128 ]; then
        remove=1  # EOF: the server's owner is gone
        break
    fi            # above 128: timeout, look at influxd again
done
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$5" ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "$remove" = 1 ] && [ ! -e "$4/keep" ]; then rm -rf "$4"; fi
"#;

/// A running watchdog script (see [`WATCHDOG_SCRIPT`]) and the influxd it started.
#[derive(Debug)]
struct Watchdog {
    /// The shell; its piped stdin is the lifeline.
    child: Child,
    /// influxd's pid.
    pid: u32,
    /// The time between SIGTERM and SIGKILL.
    grace: Duration,
    /// The server's directory.
    dir: PathBuf,
}

impl Watchdog {
    fn spawn(influxd: &Path, dir: &Path, grace: Duration) -> Result<Watchdog, String> {
        // A stopped server's mark: this run's directory goes at EOF unless stopped again.
        match fs::remove_file(dir.join(KEEP_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot remove {KEEP_FILE} in {}: {e}",
                    dir.display()
                ));
            }
            _ => {}
        }
        let log_path = dir.join(LOG_FILE);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let shell = if Path::new("/bin/bash").exists() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        let mut child = Command::new(shell)
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("influx-testserver-watchdog") // $0
            .arg(influxd)
            .arg(dir.join(CONFIG_FILE))
            .arg(&log_path)
            .arg(dir)
            .arg((grace.as_millis() / 100).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            // Its own process group, so a Ctrl-C in the terminal only reaches the test
            // process; the watchdog then sees EOF and shuts influxd down cleanly.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot run {shell}: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        let _ = BufReader::new(stdout).read_line(&mut line);
        match line.trim().parse() {
            Ok(pid) => Ok(Watchdog {
                child,
                pid,
                grace,
                dir: dir.to_owned(),
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the watchdog shell did not report influxd's pid; see {}",
                    log_path.display()
                ))
            }
        }
    }

    /// Whether the script (and so, give or take a second, influxd) still runs.
    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops influxd and waits for the script; `keep_dir` as for `Server::stop`.
    fn shutdown(mut self, keep_dir: bool) {
        let mut stdin = self.child.stdin.take();
        if keep_dir {
            // The mark first: the line may be lost (see WATCHDOG_SCRIPT), the file is not.
            let _ = fs::write(self.dir.join(KEEP_FILE), b"");
            if let Some(pipe) = stdin.as_mut() {
                let _ = pipe.write_all(b"keep\n");
            }
        }
        drop(stdin); // Closes the pipe: the script stops influxd now.
        // The script takes at most `grace` plus a moment; allow plenty of slack.
        let deadline = Instant::now() + self.grace + Duration::from_secs(10);
        while self.is_alive() && Instant::now() < deadline {
            sleep(Duration::from_millis(20));
        }
        if self.is_alive() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.pid.to_string()])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Three distinct free loopback ports: HTTP, RPC (TCP) and UDP. They are free now; influxd
/// binds them a moment later, and `try_start` retries if someone was faster.
fn free_ports() -> Result<(u16, u16, u16), String> {
    let fail = |e: std::io::Error| format!("cannot bind a free port on 127.0.0.1: {e}");
    let http = TcpListener::bind("127.0.0.1:0").map_err(fail)?;
    let rpc = TcpListener::bind("127.0.0.1:0").map_err(fail)?;
    let udp = UdpSocket::bind("127.0.0.1:0").map_err(fail)?;
    Ok((
        http.local_addr().map_err(fail)?.port(),
        rpc.local_addr().map_err(fail)?.port(),
        udp.local_addr().map_err(fail)?.port(),
    ))
}

/// Creates `$TMPDIR/influx-testserver-<pid>-<n>` with a process-wide counter `n`, skipping
/// names left over by an earlier process that had the same pid.
/// Writes a certificate authority (`ca.pem`) and a certificate for 127.0.0.1 it signed, with
/// its key (`server.pem`, `server.key`), into `dir`, with the `openssl` command.
fn make_certificates(dir: &Path) -> Result<(), String> {
    let run = |args: &[&str]| -> Result<(), String> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!("cannot run openssl ({e}); install it with `apt-get install -y openssl`")
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            CA_FILE,
            "-days",
            "2",
            "-subj",
            "/CN=influx-testserver CA",
        ],
    ]
    .concat())?;
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            KEY_FILE,
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat())?;
    fs::write(
        dir.join("server.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
    )
    .map_err(|e| format!("cannot write server.ext: {e}"))?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        CA_FILE,
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        CERT_FILE,
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])
}

fn create_temp_dir() -> Result<PathBuf, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("influx-testserver-{pid}-{n}"));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The log from byte `start` on (lossy UTF-8; empty if unreadable).
fn read_log(path: &Path, start: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(start).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `cond` every 50 ms for up to `timeout`.
    fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn start_answers_ping_and_has_udp_database() {
        let started = Instant::now();
        let server = Server::start();
        eprintln!("started in {:?}", started.elapsed());
        assert!(server.is_running());
        assert_eq!(
            server.url(),
            format!("http://127.0.0.1:{}", server.http_port())
        );
        wait_for_ping(server.http_port(), Duration::from_secs(30)).unwrap();
        assert!(server.data_dir().join(CONFIG_FILE).is_file());
        assert!(server.log_path().is_file());
        let databases = server.query("SHOW DATABASES").unwrap();
        assert!(databases.contains("[\"udp\"]"), "{databases}");
        assert!(!databases.contains("_internal"), "{databases}");
    }

    #[test]
    fn udp_listener_writes_into_udp_database() {
        let server = Server::start();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .send_to(b"udp_probe value=42\n", ("127.0.0.1", server.udp_port()))
            .unwrap();
        let q = format!("SELECT * FROM {}..udp_probe", server.udp_database());
        let found = eventually(Duration::from_secs(60), || {
            server.query(&q).is_ok_and(|body| body.contains("42"))
        });
        assert!(found, "UDP point never arrived");
    }

    #[test]
    fn unique_db_names_are_distinct_and_sanitized() {
        let server = shared();
        let a = server.unique_db("My-Test DB");
        let b = server.unique_db("My-Test DB");
        assert_ne!(a, b);
        assert!(a.starts_with("my_test_db_"), "{a}");
        assert!(server.unique_db("").starts_with("db_"));
        assert!(server.unique_db("9lives").starts_with("db_9lives_"));
        assert!(std::ptr::eq(server, shared()));
    }

    #[test]
    fn restart_keeps_ports_and_data() {
        let mut server = Server::start();
        let port = server.http_port();
        let db = server.unique_db("kept");
        server.query(&format!("CREATE DATABASE {db}")).unwrap();

        server.stop();
        assert!(!server.is_running());
        assert!(server.pid().is_none());
        assert!(ping_once(port).is_err());
        assert!(server.data_dir().join("meta").is_dir());

        server.restart();
        assert!(server.is_running());
        assert_eq!(server.http_port(), port);
        let databases = server.query("SHOW DATABASES").unwrap();
        assert!(databases.contains(&format!("[\"{db}\"]")), "{databases}");
    }

    #[test]
    fn drop_stops_influxd_and_removes_dir() {
        let server = Server::start();
        let (pid, dir) = (server.pid().unwrap(), server.data_dir().to_owned());
        drop(server);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        assert!(!dir.exists());
    }

    #[test]
    fn closing_the_pipe_ends_influxd() {
        let server = Server::start();
        let dir = server.data_dir().to_owned();
        let mut watchdog = server.lock().take().unwrap();
        let proc_dir = PathBuf::from(format!("/proc/{}", watchdog.pid));
        assert!(proc_dir.exists());
        // What the kernel does when the test process dies: the write end closes.
        drop(watchdog.child.stdin.take());
        assert!(
            eventually(Duration::from_secs(60), || !proc_dir.exists()),
            "influxd {} still alive 60 s after EOF",
            watchdog.pid
        );
        watchdog.child.wait().unwrap();
        assert!(!dir.exists(), "the watchdog removes the directory on EOF");
    }

    #[test]
    fn an_auth_server_checks_credentials_and_restarts() {
        let mut server = Server::start_with_auth();
        let show = |port| {
            http(
                &Access::plain(port),
                "GET",
                "/query?q=SHOW+DATABASES",
                Duration::from_secs(5),
            )
        };
        assert_eq!(show(server.http_port()).unwrap().0, 401);
        assert!(
            server
                .query("SHOW USERS")
                .unwrap()
                .contains("[\"admin\",true]")
        );
        server.restart();
        assert_eq!(show(server.http_port()).unwrap().0, 401);
        assert!(server.query("SHOW DATABASES").unwrap().contains("udp"));
    }

    #[test]
    fn a_tls_server_serves_https_with_a_certificate_its_ca_signed() {
        let mut server = Server::start_with_tls();
        assert!(server.url().starts_with("https://127.0.0.1:"));
        let ca = String::from_utf8(server.ca_pem().unwrap()).unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
        // Plain HTTP gets no answer a client could read as influxd's.
        assert!(ping_once(server.http_port()).is_err());
        assert!(server.query("SHOW DATABASES").unwrap().contains("udp"));
        server.restart();
        assert!(server.query("SHOW DATABASES").unwrap().contains("udp"));
    }

    #[test]
    fn taken_port_is_detected_for_a_retry() {
        let squatter = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut server = Server {
            influxd: find_influxd().unwrap(),
            dir: create_temp_dir().unwrap(),
            http_port: squatter.local_addr().unwrap().port(),
            udp_port: UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
            auth: false,
            tls: false,
            max_body_size: None,
            watchdog: Mutex::new(None),
        };
        let rpc_port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        server.write_config(rpc_port).unwrap();
        match server.launch() {
            Err(LaunchError::PortTaken(e)) => assert!(e.contains("address already in use"), "{e}"),
            Err(LaunchError::Failed(e)) => panic!("not recognized as a port clash: {e}"),
            Ok(()) => panic!("influxd started on a taken port"),
        }
    }

    /// The stop's line can be lost (bash's `read -t 1` drops a line it timed out halfway
    /// through, and the rest then reads as EOF): the mark alone keeps the directory.
    #[test]
    fn the_stop_mark_keeps_the_directory_without_its_line() {
        let dir = create_temp_dir().unwrap();
        let stub = dir.join("stub");
        fs::write(&stub, "#!/bin/sh\nexec sleep 60\n").unwrap();
        fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
        let mut watchdog = Watchdog::spawn(&stub, &dir, Duration::from_secs(1)).unwrap();
        fs::write(dir.join(KEEP_FILE), b"").unwrap();
        drop(watchdog.child.stdin.take()); // EOF, no line
        watchdog.child.wait().unwrap();
        assert!(dir.join(LOG_FILE).is_file(), "the directory was removed");
        // Without the mark, EOF removes it (as when the test process dies).
        let mut watchdog = Watchdog::spawn(&stub, &dir, Duration::from_secs(1)).unwrap();
        assert!(!dir.join(KEEP_FILE).exists(), "a new run clears the mark");
        drop(watchdog.child.stdin.take());
        watchdog.child.wait().unwrap();
        assert!(!dir.exists());
    }

    /// A process that ignores SIGTERM gets SIGKILL after the grace period (10 s for real).
    #[test]
    fn watchdog_escalates_to_sigkill() {
        let dir = create_temp_dir().unwrap();
        let stubborn = dir.join("stubborn");
        let ready = dir.join("trapped");
        fs::write(
            &stubborn,
            format!(
                "#!/bin/sh\ntrap '' TERM\n: > '{}'\nexec sleep 60\n",
                ready.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&stubborn, fs::Permissions::from_mode(0o755)).unwrap();
        let watchdog = Watchdog::spawn(&stubborn, &dir, Duration::from_secs(1)).unwrap();
        let proc_dir = PathBuf::from(format!("/proc/{}", watchdog.pid));
        // It ignores SIGTERM once it has made its file.
        assert!(
            eventually(Duration::from_secs(30), || ready.exists()),
            "the stub never reached its trap"
        );
        let started = Instant::now();
        watchdog.shutdown(false);
        let took = started.elapsed();
        assert!(!proc_dir.exists());
        assert!(
            took >= Duration::from_millis(900),
            "killed after {took:?}, not after SIGTERM"
        );
        // Not the 60 s of its sleep: SIGKILL came.
        assert!(took < Duration::from_secs(30), "took {took:?}");
        assert!(!dir.exists());
    }

    #[test]
    fn missing_binary_gives_install_hint() {
        let e = locate_influxd(Some("/nonexistent".into()), None).unwrap_err();
        assert!(e.contains("influxd not found"), "{e}");
        assert!(
            e.contains("apt-get update && apt-get install -y influxdb"),
            "{e}"
        );
        assert!(e.contains("INFLUXD=/path/to/influxd"), "{e}");
        let e = locate_influxd(None, Some("/nonexistent-dir".into())).unwrap_err();
        assert!(e.contains("influxd not found on PATH"), "{e}");
        assert!(locate_influxd(None, std::env::var_os("PATH")).is_ok());
    }

    #[test]
    fn dechunk_decodes_chunked_bodies() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").unwrap(),
            b"Wikipedia"
        );
        assert!(dechunk(b"5\r\nab").is_none());
    }
}
