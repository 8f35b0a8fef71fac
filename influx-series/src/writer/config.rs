//! The writer's settings: from code, from sprockets-influxdb's environment variables, or
//! defaults, resolved in that order when the writer starts.

use std::time::Duration;

use influx_core::{ClientConfig, Error, Precision, SharedTags};

/// What to drop when the memory budget is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnFull {
    /// Drop the oldest points not in flight to make room for the new one (the default: the
    /// newest data is what a dashboard shows).
    #[default]
    DropOldest,
    /// Refuse the new point (sprockets-influxdb's behaviour).
    DropNewest,
}

/// What to do when the server answers a write with `404 database not found`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnMissingDatabase {
    /// Drop the batch, count its points, and flag the destination (the default).
    #[default]
    Drop,
    /// Send `CREATE DATABASE` once for the destination, then the batch again; if that fails,
    /// drop as above.
    Create,
    /// Keep the points and try again with backoff, within the budget, until the database
    /// exists.
    Hold,
}

/// Defaults. Where sprockets-influxdb's are sound they are kept.
pub(crate) mod defaults {
    use std::time::Duration;

    pub(crate) const INTERVAL: Duration = Duration::from_secs(60);
    pub(crate) const MAX_BATCH_SIZE: usize = 10_000;
    pub(crate) const MAX_BUFFER_SIZE: usize = 25_000;
    pub(crate) const MAX_BUFFER_BYTES: usize = 64 << 20;
    pub(crate) const TRIGGER_SIZE: usize = 10_000;
    pub(crate) const TRIGGER_BYTES: usize = 4 << 20;
    pub(crate) const MAX_BATCH_BYTES: usize = 8 << 20;
    pub(crate) const BACKOFF: (Duration, Duration) =
        (Duration::from_millis(500), Duration::from_secs(30));
}

/// One setting as resolved, and where it came from (for messages).
#[derive(Debug, Clone, Copy)]
pub(crate) struct From<T> {
    pub(crate) value: T,
    pub(crate) source: &'static str,
}

/// Everything the writer runs by, checked.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) enabled: bool,
    pub(crate) client: ClientConfig,
    pub(crate) database: Option<String>,
    pub(crate) retention_policy: Option<String>,
    pub(crate) precision: Precision,
    pub(crate) interval: Duration,
    pub(crate) jitter: Duration,
    pub(crate) max_batch_size: usize,
    pub(crate) max_batch_bytes: From<usize>,
    pub(crate) max_buffer_size: usize,
    pub(crate) max_buffer_bytes: From<usize>,
    pub(crate) trigger_size: usize,
    pub(crate) trigger_bytes: usize,
    pub(crate) sample_probability: f64,
    pub(crate) sample_seed: Option<u64>,
    pub(crate) tags: SharedTags,
    pub(crate) on_full: OnFull,
    pub(crate) on_missing_database: OnMissingDatabase,
    pub(crate) backoff: (Duration, Duration),
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The smallest line a point can make, newline included: `m f=t 0` (every line the writer
/// sends has a timestamp; it stamps points that have none).
pub(crate) const MIN_LINE: usize = 8;

/// The least a point takes in the byte budget: the smallest line, its place in the writer's
/// index, and its destination's charge.
pub(crate) const MIN_BUFFER_BYTES: usize =
    MIN_LINE + super::budget::LINE_COST as usize + super::dests::DEST_COST as usize;

/// The longest interval, jitter or backoff taken.
const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// Settings of a [`super::BufferedWriter`]: start with [`super::BufferedWriter::builder`].
///
/// Each setting comes from code if set here, else from the environment if
/// [`WriterBuilder::from_env`] was called (sprockets-influxdb's variable names), else from
/// the default. Everything is checked by [`WriterBuilder::start`]: an invalid value is an
/// error naming the variable or the method, never a silent default.
///
/// ```no_run
/// use std::time::Duration;
/// use influx_series::writer::{BufferedWriter, OnFull};
///
/// let writer = BufferedWriter::builder()
///     .from_env()
///     .interval(Duration::from_secs(5))
///     .max_buffer_size(100_000)
///     .on_full(OnFull::DropOldest)
///     .start()?;
/// # Ok::<(), influx_series::Error>(())
/// ```
#[must_use]
#[derive(Default)]
pub struct WriterBuilder {
    env: Option<Lookup>,
    client: Option<ClientConfig>,
    enabled: Option<bool>,
    database: Option<String>,
    retention_policy: Option<String>,
    precision: Option<Precision>,
    interval: Option<Duration>,
    jitter: Option<Duration>,
    max_batch_size: Option<usize>,
    max_batch_bytes: Option<usize>,
    max_buffer_size: Option<usize>,
    max_buffer_bytes: Option<usize>,
    trigger_size: Option<usize>,
    trigger_bytes: Option<usize>,
    sample_probability: Option<f64>,
    sample_seed: Option<u64>,
    tag_hostname: Option<bool>,
    hostname: Option<String>,
    environment: Option<String>,
    tags: Vec<(String, String)>,
    on_full: Option<OnFull>,
    on_missing_database: Option<OnMissingDatabase>,
    backoff: Option<(Duration, Duration)>,
}

impl std::fmt::Debug for WriterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterBuilder")
            .field("from_env", &self.env.is_some())
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    )*};
}

impl WriterBuilder {
    /// Reads what code leaves unset from the process's environment, by sprockets-influxdb's
    /// names: `INFLUXDB_URL` or `INFLUXDB_SCHEME` (default `http`, where sprockets says
    /// `https`), `_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DATABASE`; `INFLUXDB_ENABLED`,
    /// `_INTERVAL` (milliseconds), `_MAX_BATCH_SIZE`, `_MAX_BUFFER_SIZE`,
    /// `_SAMPLE_PROBABILITY` (per point), `_TRIGGER_SIZE`, `_TAG_HOSTNAME`, and `ENVIRONMENT`
    /// (an `environment` tag). Beyond sprockets: `INFLUXDB_RETENTION_POLICY`,
    /// `_PRECISION` (`ns`, `u`, `ms`, `s`, `m`, `h`), `_JITTER` (milliseconds),
    /// `_MAX_BATCH_BYTES`, `_MAX_BUFFER_BYTES` and `_TRIGGER_BYTES`.
    pub fn from_env(self) -> Self {
        self.from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`WriterBuilder::from_env`], reading variables through `lookup` (for tests, or a
    /// configuration source of your own).
    pub fn from_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// The connection (its retry policy is replaced: the writer retries by itself, so that
    /// nothing retries twice; its `max_request_size` bounds the batches' bytes).
    pub fn client(mut self, config: ClientConfig) -> Self {
        self.client = Some(config);
        self
    }

    /// An extra tag on every [`influx_core::Point`] and [`super::Measurement`] recorded
    /// (not on `Series` types, whose line is their schema); a point's own tag wins.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// The database of points that name none (default: the client's).
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// The retention policy of points that name none (default: the database's default).
    pub fn retention_policy(mut self, rp: impl Into<String>) -> Self {
        self.retention_policy = Some(rp.into());
        self
    }

    /// The `hostname` tag's value (default: the machine's host name).
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// The `environment` tag's value (default: `ENVIRONMENT`, when read from the environment).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The backoff after a failed request: doubling from `initial` up to `max`, each wait
    /// drawn between half and all of it; a `Retry-After` replaces it (up to 5 minutes).
    /// Default: 500 ms to 30 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Some((initial, max));
        self
    }

    setters! {
        /// `false`: every `record()` returns [`super::Recorded::Disabled`] and nothing runs
        /// (`INFLUXDB_ENABLED`).
        enabled: bool;
        /// The precision points and measurements are written in (default nanoseconds;
        /// `INFLUXDB_PRECISION`). `Series` types keep their own.
        precision: Precision;
        /// How long the oldest waiting point may wait before its destination is flushed
        /// (default 60 s, sprockets' `INFLUXDB_INTERVAL`).
        interval: Duration;
        /// A random extra wait, up to this, added to each destination's interval, so that
        /// many processes started together do not write together (default none).
        jitter: Duration;
        /// Points per request at most (default 10 000; `INFLUXDB_MAX_BATCH_SIZE`).
        max_batch_size: usize;
        /// Bytes per request at most (default 8 MiB, and never above the client's
        /// `max_request_size`; `INFLUXDB_MAX_BATCH_BYTES`). A point larger than this is
        /// refused by `record()`. A 413 lowers it for the rest of the run.
        max_batch_bytes: usize;
        /// The memory budget in points: waiting, in flight and waiting to be retried
        /// (default 25 000; `INFLUXDB_MAX_BUFFER_SIZE`).
        max_buffer_size: usize;
        /// The memory budget in bytes of encoded lines (default 64 MiB;
        /// `INFLUXDB_MAX_BUFFER_BYTES`).
        max_buffer_bytes: usize;
        /// Waiting points of one destination that trigger a flush (default 10 000; at most
        /// `max_buffer_size`; `INFLUXDB_TRIGGER_SIZE`).
        trigger_size: usize;
        /// Waiting bytes of one destination that trigger a flush (default 4 MiB;
        /// `INFLUXDB_TRIGGER_BYTES`).
        trigger_bytes: usize;
        /// The probability that a point is kept, from 0 to 1 (default 1;
        /// `INFLUXDB_SAMPLE_PROBABILITY`). Sampling is per point.
        sample_probability: f64;
        /// Seeds the sampling's generator, for reproducible runs (default: seeded per
        /// process).
        sample_seed: u64;
        /// Whether points and measurements get a `hostname` tag (default true;
        /// `INFLUXDB_TAG_HOSTNAME`).
        tag_hostname: bool;
        /// What to drop when the budget is full (default [`OnFull::DropOldest`]).
        on_full: OnFull;
        /// What to do about `404 database not found` (default [`OnMissingDatabase::Drop`]).
        on_missing_database: OnMissingDatabase;
    }

    /// Checks and resolves every setting.
    pub(crate) fn settings(self) -> Result<Settings, Error> {
        let env = self.env.as_deref();
        let var = |name: &'static str| env.and_then(|lookup| lookup(name));
        let client = match self.client {
            Some(config) => config,
            None => match env {
                Some(lookup) => ClientConfig::from_lookup(lookup)?,
                None => ClientConfig::default(),
            },
        };
        let enabled = pick(
            self.enabled,
            "enabled()",
            &var,
            "INFLUXDB_ENABLED",
            parse_bool,
            true,
        )?;
        let interval = pick(
            self.interval,
            "interval()",
            &var,
            "INFLUXDB_INTERVAL",
            parse_millis,
            defaults::INTERVAL,
        )?;
        let jitter = pick(
            self.jitter,
            "jitter()",
            &var,
            "INFLUXDB_JITTER",
            parse_millis,
            Duration::ZERO,
        )?;
        let positive = |what: &'static str| {
            move |text: &str| -> Result<usize, String> {
                match text.trim().parse::<usize>() {
                    Ok(0) | Err(_) => Err(format!("{what} must be a whole number above 0")),
                    Ok(n) => Ok(n),
                }
            }
        };
        let max_batch_size = pick(
            self.max_batch_size,
            "max_batch_size()",
            &var,
            "INFLUXDB_MAX_BATCH_SIZE",
            positive("a batch size"),
            defaults::MAX_BATCH_SIZE,
        )?;
        let max_batch_bytes = pick(
            self.max_batch_bytes,
            "max_batch_bytes()",
            &var,
            "INFLUXDB_MAX_BATCH_BYTES",
            positive("a size in bytes"),
            defaults::MAX_BATCH_BYTES.min(client.max_request_size()),
        )?;
        let max_buffer_size = pick(
            self.max_buffer_size,
            "max_buffer_size()",
            &var,
            "INFLUXDB_MAX_BUFFER_SIZE",
            positive("a buffer size"),
            defaults::MAX_BUFFER_SIZE,
        )?;
        let max_buffer_bytes = pick(
            self.max_buffer_bytes,
            "max_buffer_bytes()",
            &var,
            "INFLUXDB_MAX_BUFFER_BYTES",
            positive("a size in bytes"),
            defaults::MAX_BUFFER_BYTES,
        )?;
        let trigger_size = pick(
            self.trigger_size,
            "trigger_size()",
            &var,
            "INFLUXDB_TRIGGER_SIZE",
            positive("a trigger size"),
            defaults::TRIGGER_SIZE.min(max_buffer_size.value),
        )?;
        let trigger_bytes = pick(
            self.trigger_bytes,
            "trigger_bytes()",
            &var,
            "INFLUXDB_TRIGGER_BYTES",
            positive("a size in bytes"),
            defaults::TRIGGER_BYTES.min(max_buffer_bytes.value),
        )?;
        let sample_probability = pick(
            self.sample_probability,
            "sample_probability()",
            &var,
            "INFLUXDB_SAMPLE_PROBABILITY",
            |text: &str| text.trim().parse::<f64>().map_err(|e| e.to_string()),
            1.0,
        )?;
        let tag_hostname = pick(
            self.tag_hostname,
            "tag_hostname()",
            &var,
            "INFLUXDB_TAG_HOSTNAME",
            parse_bool,
            true,
        )?;
        let precision = pick(
            self.precision,
            "precision()",
            &var,
            "INFLUXDB_PRECISION",
            |text: &str| text.trim().parse::<Precision>().map_err(|e| e.to_string()),
            Precision::Nanoseconds,
        )?;

        let invalid = |setting: &str, message: String| {
            Err(Error::Config(format!("{setting}: {message}").into()))
        };
        if !(0.0..=1.0).contains(&sample_probability.value) {
            return invalid(
                sample_probability.source,
                format!(
                    "a probability is from 0 to 1, not {}",
                    sample_probability.value
                ),
            );
        }
        if trigger_size.value > max_buffer_size.value {
            return invalid(
                trigger_size.source,
                format!(
                    "{} is above the buffer size {} ({}): the trigger could never fire",
                    trigger_size.value, max_buffer_size.value, max_buffer_size.source
                ),
            );
        }
        if trigger_bytes.value > max_buffer_bytes.value {
            return invalid(
                trigger_bytes.source,
                format!(
                    "{} is above the buffer's bytes {} ({}): the trigger could never fire",
                    trigger_bytes.value, max_buffer_bytes.value, max_buffer_bytes.source
                ),
            );
        }
        if max_batch_bytes.value < MIN_LINE {
            return invalid(
                max_batch_bytes.source,
                format!(
                    "{} bytes is below the smallest line a point can make ({MIN_LINE} bytes): \
                     no request could hold one",
                    max_batch_bytes.value
                ),
            );
        }
        if max_buffer_bytes.value < MIN_BUFFER_BYTES {
            return invalid(
                max_buffer_bytes.source,
                format!(
                    "{} bytes is below the least a point takes in the budget ({MIN_BUFFER_BYTES} \
                     bytes: a line of {MIN_LINE}, its place in the writer's index, its \
                     destination): no point could ever be taken",
                    max_buffer_bytes.value
                ),
            );
        }
        if max_batch_bytes.value > client.max_request_size() {
            return invalid(
                max_batch_bytes.source,
                format!(
                    "{} is above the client's max_request_size {}",
                    max_batch_bytes.value,
                    client.max_request_size()
                ),
            );
        }
        if interval.value.is_zero() || interval.value > MAX_WAIT {
            return invalid(
                interval.source,
                "an interval must be above 0 and at most a day".into(),
            );
        }
        if jitter.value > MAX_WAIT {
            return invalid(jitter.source, "a jitter must be at most a day".into());
        }
        let backoff = self.backoff.unwrap_or(defaults::BACKOFF);
        if backoff.0.is_zero() || backoff.1 < backoff.0 || backoff.1 > MAX_WAIT {
            return invalid(
                "backoff()",
                "the initial wait must be above 0 and at most the longest, itself at most a day"
                    .into(),
            );
        }

        let mut tags = Vec::new();
        if tag_hostname.value {
            let hostname = self.hostname.unwrap_or_else(hostname);
            tags.push(("hostname".to_owned(), hostname));
        }
        if let Some(environment) = self.environment.or_else(|| var("ENVIRONMENT")) {
            tags.push(("environment".to_owned(), environment));
        }
        tags.extend(self.tags);
        let tags = SharedTags::new(tags)
            .map_err(|e| Error::Config(format!("a writer tag is invalid: {e}").into()))?;
        let database = self
            .database
            .or_else(|| client.database().map(str::to_owned));
        let retention_policy = self
            .retention_policy
            .or_else(|| var("INFLUXDB_RETENTION_POLICY").filter(|s| !s.is_empty()));
        Ok(Settings {
            enabled: enabled.value,
            client,
            database,
            retention_policy,
            precision: precision.value,
            interval: interval.value,
            jitter: jitter.value,
            max_batch_size: max_batch_size.value,
            max_batch_bytes,
            max_buffer_size: max_buffer_size.value,
            max_buffer_bytes,
            trigger_size: trigger_size.value,
            trigger_bytes: trigger_bytes.value,
            sample_probability: sample_probability.value,
            sample_seed: self.sample_seed,
            tags,
            on_full: self.on_full.unwrap_or_default(),
            on_missing_database: self.on_missing_database.unwrap_or_default(),
            backoff,
        })
    }
}

impl Settings {
    /// The line bytes a shard stages before the writer's thread is asked to take the shards
    /// (a sixty-fourth of the byte budget, from 16 KiB to 1 MiB).
    pub(crate) fn shard_cap(&self) -> usize {
        (self.max_buffer_bytes.value / 64).clamp(16 << 10, 1 << 20)
    }

    /// The size of the blocks shards stage into: twice the cap, so that a shard goes on
    /// recording while the writer's thread comes to take it, without growing its block.
    pub(crate) fn shard_block(&self) -> usize {
        2 * self.shard_cap()
    }
}

/// Code, else the variable (parsed; an error names it), else the default.
fn pick<T>(
    code: Option<T>,
    method: &'static str,
    var: &dyn Fn(&'static str) -> Option<String>,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
    default: T,
) -> Result<From<T>, Error> {
    if let Some(value) = code {
        return Ok(From {
            value,
            source: method,
        });
    }
    match var(name) {
        Some(text) => match parse(&text) {
            Ok(value) => Ok(From {
                value,
                source: name,
            }),
            Err(why) => Err(Error::Config(
                format!("{name}: `{text}` is not valid: {why}").into(),
            )),
        },
        None => Ok(From {
            value: default,
            source: "the default",
        }),
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn parse_millis(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| "expected a whole number of milliseconds".into())
}

/// The machine's host name: the kernel's, else `HOSTNAME`, else `localhost`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_env(vars: &'static [(&'static str, &'static str)]) -> Result<Settings, Error> {
        WriterBuilder::default()
            .from_lookup(move |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .settings()
    }

    fn message(result: Result<Settings, Error>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn sprockets_variables_are_read() {
        let s = with_env(&[
            ("INFLUXDB_HOST", "127.0.0.1"),
            ("INFLUXDB_PORT", "8087"),
            ("INFLUXDB_DATABASE", "metrics"),
            ("INFLUXDB_INTERVAL", "1500"),
            ("INFLUXDB_MAX_BATCH_SIZE", "500"),
            ("INFLUXDB_MAX_BUFFER_SIZE", "2000"),
            ("INFLUXDB_TRIGGER_SIZE", "1000"),
            ("INFLUXDB_SAMPLE_PROBABILITY", "0.25"),
            ("INFLUXDB_TAG_HOSTNAME", "false"),
            ("INFLUXDB_PRECISION", "ms"),
            ("ENVIRONMENT", "staging"),
        ])
        .unwrap();
        assert_eq!(s.client.base_url(), "http://127.0.0.1:8087");
        assert_eq!(s.database.as_deref(), Some("metrics"));
        assert_eq!(s.interval, Duration::from_millis(1500));
        assert_eq!(
            (s.max_batch_size, s.max_buffer_size, s.trigger_size),
            (500, 2000, 1000)
        );
        assert_eq!(s.sample_probability, 0.25);
        assert_eq!(s.precision, Precision::Milliseconds);
        let tags: Vec<_> = s.tags.iter().collect();
        assert_eq!(tags, [("environment", "staging")]);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let m = message(with_env(&[("INFLUXDB_INTERVAL", "soon")]));
        assert!(m.contains("INFLUXDB_INTERVAL") && m.contains("soon"), "{m}");
        let m = message(with_env(&[("INFLUXDB_SAMPLE_PROBABILITY", "1.5")]));
        assert!(
            m.contains("INFLUXDB_SAMPLE_PROBABILITY") && m.contains("1.5"),
            "{m}"
        );
        let m = message(with_env(&[("INFLUXDB_PRECISION", "fortnights")]));
        assert!(m.contains("INFLUXDB_PRECISION"), "{m}");
        let m = message(with_env(&[("INFLUXDB_ENABLED", "perhaps")]));
        assert!(m.contains("INFLUXDB_ENABLED"), "{m}");
        let m = message(with_env(&[("INFLUXDB_MAX_BATCH_SIZE", "0")]));
        assert!(m.contains("INFLUXDB_MAX_BATCH_SIZE"), "{m}");
        let m = message(with_env(&[("INFLUXDB_PORT", "eighty")]));
        assert!(m.contains("INFLUXDB_PORT"), "{m}");
        let m = message(with_env(&[("INFLUXDB_INTERVAL", "172800000")]));
        assert!(
            m.contains("INFLUXDB_INTERVAL") && m.contains("a day"),
            "{m}"
        );
    }

    #[test]
    fn sprockets_trigger_above_the_buffer_is_refused() {
        // sprockets' own defaults: a trigger of 60 000 over a buffer of 25 000.
        let m = message(with_env(&[
            ("INFLUXDB_TRIGGER_SIZE", "60000"),
            ("INFLUXDB_MAX_BUFFER_SIZE", "25000"),
        ]));
        assert!(
            m.contains("INFLUXDB_TRIGGER_SIZE") && m.contains("INFLUXDB_MAX_BUFFER_SIZE"),
            "{m}"
        );
        // Our default trigger follows a smaller buffer.
        let s = with_env(&[("INFLUXDB_MAX_BUFFER_SIZE", "300")]).unwrap();
        assert_eq!(s.trigger_size, 300);
    }

    #[test]
    fn code_wins_over_the_environment() {
        let s = WriterBuilder::default()
            .interval(Duration::from_secs(2))
            .from_lookup(|name| (name == "INFLUXDB_INTERVAL").then(|| "oops".to_owned()))
            .settings()
            .unwrap();
        assert_eq!(s.interval, Duration::from_secs(2));
        assert_eq!(s.client.base_url(), "http://localhost:8086", "scheme http");
    }

    #[test]
    fn hostname_and_extra_tags() {
        let s = WriterBuilder::default()
            .hostname("web-1")
            .tag("service", "api")
            .settings()
            .unwrap();
        let tags: Vec<_> = s.tags.iter().collect();
        assert_eq!(tags, [("hostname", "web-1"), ("service", "api")]);
    }
}
