//! When a failed request is sent again, and after how long: sans-IO decisions over an
//! outcome, for the clients' core (`client::core`) to act on.
//!
//! A request is retried after a transport error, a timeout, a `429` or a `5xx` other than
//! influxd's permanent ones, with exponential backoff and jitter, or after the server's
//! `Retry-After` (capped). A `4xx`, a partial write and a permanent `500` (`database not
//! found`, `retention policy not found`) are final. A request that changes state and may not
//! be sent twice (a `CREATE USER` retried after it ran would report `user already exists`) is
//! resent only when it cannot have reached the server: its connection was refused.

use std::time::Duration;

use crate::error::Error;
use crate::request::http::Replay;
use crate::request::responses::{self, Answer};

/// How a client retries requests that failed for a reason that may pass: how many times, and
/// how long it waits in between.
///
/// The wait before retry `n` (from 0) is drawn between half and all of
/// `initial_backoff * 2^n`, capped at `max_backoff`; a `Retry-After` from the server replaces
/// it, capped at `max_retry_after`. With the defaults (3 retries, 100 ms to 5 s, `Retry-After`
/// up to 30 s) a call gives up after at most four attempts and about a second and a half of
/// waiting on a server that is down, longer only as long as the server asks.
///
/// ```
/// use influx_series::{Client, RetryPolicy};
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .retry(
///         RetryPolicy::new()
///             .retries(5)
///             .backoff(Duration::from_millis(50), Duration::from_secs(2))
///             .max_retry_after(Duration::from_secs(10)),
///     )
///     .build()?;
/// assert_eq!(client.config().retry_policy().max_retries(), 5);
/// let once = Client::builder().retry(RetryPolicy::none()).build()?;
/// assert_eq!(once.config().retry_policy().max_retries(), 0);
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default policy: 3 retries, backoff from 100 ms up to 5 s, `Retry-After` honoured up
    /// to 30 s.
    pub fn new() -> Self {
        RetryPolicy::default()
    }

    /// No retries: every request is sent once. (influxdb-python's `retries=0` means the
    /// opposite, retrying for ever; there is no such setting here.)
    pub fn none() -> Self {
        RetryPolicy::default().retries(0)
    }

    /// How many times a request is sent again after its first attempt.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before the first retry, and the most any wait grows to.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest wait a server's `Retry-After` can ask for; a longer one is cut to this.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The number of retries.
    pub fn max_retries(&self) -> u32 {
        self.retries
    }

    /// The wait before retry `retry` (0 for the first): `Retry-After` if the server sent one,
    /// capped; else the backoff, with `jitter` in `0..1` choosing between half and all of it.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let doubled = self
            .initial_backoff
            .checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .unwrap_or(self.max_backoff);
        let ceiling = doubled.min(self.max_backoff);
        ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Keep the outcome.
    Done,
    /// Send it again after the wait (`Some` is the server's `Retry-After`).
    Retry(Option<Duration>),
    /// The host could not be reached: try the next one now, or retry as above once every
    /// host has been tried.
    Failover,
}

/// What to do with `outcome`, for a request that replays as `replay`.
pub(crate) fn next(outcome: Result<&Answer, &Error>, replay: Replay) -> Next {
    match outcome {
        Err(e) if is_refused_handshake(e) => Next::Done,
        Err(e) if is_connect_failure(e) => Next::Failover,
        Err(Error::Transport(_) | Error::Timeout(_)) if replay == Replay::Safe => Next::Retry(None),
        Err(_) => Next::Done,
        Ok(_) if replay == Replay::UnlessDelivered => Next::Done,
        Ok(answer) if answer.status == 429 || answer.status == 503 => {
            Next::Retry(answer.retry_after.as_deref().and_then(parse_retry_after))
        }
        Ok(answer) if answer.status >= 500 && !is_permanent(answer) => Next::Retry(None),
        Ok(_) => Next::Done,
    }
}

/// What a failed write means for points that wait to be sent again (for the buffered writer,
/// which runs its client without retries of its own).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFailure {
    /// It may pass: no answer, a timeout, a 429 or a 5xx other than influxd's permanent ones.
    Transient,
    /// `404 database not found`.
    MissingDatabase,
    /// No resend can succeed as things are set up: a missing retention policy, credentials,
    /// a request the server refuses whatever it holds.
    Refused,
}

/// Classifies the error a write stopped at, by the rules [`next`] retries by.
#[doc(hidden)]
pub fn classify_write_failure(e: &Error) -> WriteFailure {
    match e {
        Error::Interrupted { source, .. } | Error::Unwritten { source, .. } => {
            classify_write_failure(source)
        }
        Error::Transport(_) if is_refused_handshake(e) => WriteFailure::Refused,
        Error::Transport(_) | Error::Timeout(_) | Error::Protocol(_) => WriteFailure::Transient,
        Error::Client {
            status: 404,
            message,
        } if message.contains("database not found") => WriteFailure::MissingDatabase,
        Error::Client { status: 429, .. } => WriteFailure::Transient,
        // The status decides: a 5xx is an outage whatever its body says, but for influxd's
        // known permanent 500s, told by a whole (uncut) message.
        Error::Server { status, message } => {
            if is_permanent_500(*status, message) {
                WriteFailure::Refused
            } else {
                WriteFailure::Transient
            }
        }
        // An answer too large to read is an answer the server was in the middle of giving: it
        // says nothing about the points.
        Error::AnswerTooLarge { .. } => WriteFailure::Transient,
        _ => WriteFailure::Refused,
    }
}

/// A connection that could not be made, as a transport of its own (the plain-HTTP write path)
/// reports it, for [`is_connect_failure`] to find: the next host may be tried.
#[cfg(feature = "blocking")]
#[derive(Debug)]
pub(crate) struct ConnectFailed(pub(crate) std::io::Error);

#[cfg(feature = "blocking")]
impl std::fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cause is the source, not repeated here (a reporter prints each message once).
        f.write_str("could not connect")
    }
}

#[cfg(feature = "blocking")]
impl std::error::Error for ConnectFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Whether the request failed before it reached any server: no connection was made.
pub(crate) fn is_connect_failure(e: &Error) -> bool {
    chain(e).any(|e| {
        let direct = {
            #[cfg(feature = "blocking")]
            {
                e.is::<ConnectFailed>()
            }
            #[cfg(not(feature = "blocking"))]
            {
                false
            }
        };
        direct
            || e.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect)
    })
}

/// Whether the client refused the server's TLS handshake (a certificate it does not trust):
/// no retry and no other host of the same set-up changes that.
pub(crate) fn is_refused_handshake(e: &Error) -> bool {
    chain(e).any(|e| {
        // The TLS stack reports it as invalid data, wrapped in another `io::Error` (whose
        // `source` skips the inner one: it is reached by `get_ref`).
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(inner) = io {
            if inner.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
            io = inner
                .get_ref()
                .and_then(|e| e.downcast_ref::<std::io::Error>());
        }
        false
    })
}

/// The errors below a transport error.
fn chain(e: &Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    let first = match e {
        Error::Transport(cause) => cause.source(),
        _ => None,
    };
    std::iter::successors(first, |e| e.source())
}

/// influxd's `500`s that no retry can fix: a write or query naming a database, retention
/// policy or user that does not exist, or refused for good.
fn is_permanent(answer: &Answer) -> bool {
    answer.status == 500 && !answer.cut && is_permanent_500(500, &responses::error_message(answer))
}

/// Whether a status and message are one of influxd's permanent `500`s: the message must be
/// whole (a cut one, from a body over the bound, never counts).
fn is_permanent_500(status: u16, message: &str) -> bool {
    status == 500
        && responses::is_whole_message(message)
        && PERMANENT_500.iter().any(|needle| message.contains(needle))
}

/// What influxd's permanent `500`s say.
const PERMANENT_500: [&str; 5] = [
    "not found",
    "partial write",
    "field type conflict",
    "unauthorized",
    "not authorized",
];

/// `Retry-After` in seconds. (The HTTP-date form is not used by influxd or the proxies in
/// front of it that rate-limit; it is ignored, which falls back to the backoff.)
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A number in `0..1` that differs between calls and between threads; good enough to spread
/// retries of many clients apart.
pub(crate) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process and its keys change per instance.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>, body: &str) -> Result<Answer, Error> {
        answer_of(status, retry_after, body)
    }

    fn next(outcome: &Result<Answer, Error>, replay: Replay) -> Next {
        super::next(outcome.as_ref(), replay)
    }

    fn answer_of(status: u16, retry_after: Option<&str>, body: &str) -> Result<Answer, Error> {
        Ok(Answer {
            status,
            version: None,
            location: None,
            retry_after: retry_after.map(str::to_owned),
            body: body.as_bytes().to_vec(),
            cut: false,
            msgpack: false,
        })
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let policy =
            RetryPolicy::new().backoff(Duration::from_millis(100), Duration::from_millis(350));
        let ms = |retry, jitter| policy.delay(retry, None, jitter).as_millis();
        assert_eq!((ms(0, 0.0), ms(0, 1.0)), (50, 100));
        assert_eq!((ms(1, 0.0), ms(1, 1.0)), (100, 200));
        assert_eq!((ms(2, 0.0), ms(2, 1.0)), (175, 350));
        assert_eq!((ms(40, 0.0), ms(40, 1.0)), (175, 350));
        let asked = Some(Duration::from_secs(100));
        assert_eq!(policy.delay(0, asked, 0.3), Duration::from_secs(30));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(2)), 0.3),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn jitter_stays_in_its_range_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn only_passing_failures_are_retried() {
        use Replay::*;
        assert_eq!(next(&answer(204, None, ""), Safe), Next::Done);
        assert_eq!(next(&answer(400, None, "{}"), Safe), Next::Done);
        assert_eq!(next(&answer(404, None, "{}"), Safe), Next::Done);
        assert_eq!(next(&answer(503, None, ""), Safe), Next::Retry(None));
        assert_eq!(next(&answer(502, None, ""), Safe), Next::Retry(None));
        assert_eq!(
            next(&answer(429, Some(" 2 "), ""), Safe),
            Next::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            next(
                &answer(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), ""),
                Safe
            ),
            Next::Retry(None)
        );
        let missing_rp = r#"{"error":"retention policy not found: nope"}"#;
        assert_eq!(next(&answer(500, None, missing_rp), Safe), Next::Done);
        assert_eq!(
            next(&answer(500, None, r#"{"error":"timeout"}"#), Safe),
            Next::Retry(None)
        );
        assert_eq!(next(&answer(503, None, ""), UnlessDelivered), Next::Done);
        let timeout = Err(Error::Timeout("no answer in time".into()));
        assert_eq!(next(&timeout, Safe), Next::Retry(None));
        let timeout = Err(Error::Timeout("no answer in time".into()));
        assert_eq!(next(&timeout, UnlessDelivered), Next::Done);
        let bad_input = Err(Error::Config("no database".into()));
        assert_eq!(next(&bad_input, Safe), Next::Done);
    }

    #[test]
    fn the_status_decides_and_a_cut_message_is_never_a_known_permanent_one() {
        let missing_rp = r#"{"error":"retention policy not found: nope"}"#;
        let mut cut = answer(500, None, missing_rp).unwrap();
        cut.cut = true;
        assert_eq!(
            next(&Ok(cut), Replay::Safe),
            Next::Retry(None),
            "a body over the bound"
        );
        let server = |message: &str| Error::Server {
            status: 500,
            message: message.into(),
        };
        assert_eq!(
            classify_write_failure(&server("retention policy not found: nope")),
            WriteFailure::Refused
        );
        let cut = responses::cut_message("retention policy not found: nope".into(), true);
        assert_eq!(
            classify_write_failure(&server(&cut)),
            WriteFailure::Transient
        );
        let unavailable = Error::Server {
            status: 503,
            message: "database not found".into(),
        };
        assert_eq!(
            classify_write_failure(&unavailable),
            WriteFailure::Transient
        );
        assert_eq!(
            classify_write_failure(&Error::AnswerTooLarge { limit: 1 }),
            WriteFailure::Transient
        );
    }
}
