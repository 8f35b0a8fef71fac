//! The writer's thread: takes due batches (up to a few requests' worth for each request in
//! flight), sends them, and settles every point by the answers.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use influx_core::{
    Caps, Client, ClientBuilder, Error, RetryPolicy, Unsent, WriteFailure, WriteOptions,
    WriteOutcome, classify_write_failure,
};

use parking_lot::MutexGuard;

use super::config::{OnMissingDatabase, Settings};
use super::queue::{Batch, Front};
use super::shared::Shared;
use super::state::{Next, State};
use super::stats::{ReasonKind, describe};

/// Drops, rejections and failures are logged at most this often (with counts since).
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Requests each request in flight sends in a round, when that many are due. A round's lanes
/// wait for each other at its end; with 4 the writer measured 0.91x of the two-connection
/// ceiling (median of five runs of `compare`), with 16 0.95x (five runs), where
/// `write_points` measured 0.96x to 0.98x (docs/benchmarks.md).
const REQUESTS_A_LANE: usize = 16;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Starts the thread; it builds the client (reqwest's blocking client must not be built
/// inside an async runtime, and a user may start the writer from one) and reports back.
pub(crate) fn spawn(shared: Arc<Shared>) -> Result<std::thread::JoinHandle<()>, Error> {
    let (ready, started) = std::sync::mpsc::channel();
    let config = shared.settings.client.clone();
    let handle = std::thread::Builder::new()
        .name("influxdb-writer".into())
        .spawn(move || {
            let client = ClientBuilder::from(config)
                .retry(RetryPolicy::none())
                .build();
            match client {
                Ok(client) => {
                    let _ = ready.send(Ok(()));
                    run(&shared, &client);
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    shared.state.lock().worker_done = true;
                }
            }
        })
        .map_err(|e| Error::Config(format!("cannot start the writer's thread: {e}").into()))?;
    match started.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Config("the writer's thread stopped at start".into())),
    }
}

/// A log line at most every [`LOG_EVERY`].
#[derive(Debug, Default)]
struct Every {
    last: Option<Instant>,
}

impl Every {
    fn ready(&mut self, now: Instant) -> bool {
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[derive(Debug, Default)]
struct Logs {
    drops: Every,
    drops_seen: (u64, u64),
    rejections: Every,
    rejected_since: u64,
    failures: Every,
}

impl Logs {
    /// Reports drops since the last report, at most every [`LOG_EVERY`]; the lock is let go
    /// meanwhile (a `tracing` subscriber is code of the user's, which may record).
    fn drops(&mut self, st: &mut MutexGuard<'_, State>, now: Instant) {
        let d = st.counters.drops;
        let seen = (d.overflow, d.full);
        if seen != self.drops_seen && self.drops.ready(now) {
            let (oldest, newest) = (d.overflow - self.drops_seen.0, d.full - self.drops_seen.1);
            self.drops_seen = seen;
            MutexGuard::unlocked(st, || {
                tracing::warn!(
                    oldest_dropped = oldest,
                    newest_refused = newest,
                    "buffered InfluxDB writer full: points dropped since the last report"
                );
            });
        }
    }
}

/// Takes the shards' lines into the queues when they are due (a trigger, the interval, a
/// flush or a shutdown); otherwise returns when they will be, if lines wait there.
fn staged(shared: &Shared, st: &mut State, now: Instant) -> Option<Instant> {
    let settings = &shared.settings;
    let budget = &shared.budget;
    let points = budget
        .reserved_points
        .0
        .load(Ordering::Acquire)
        .saturating_sub(budget.drained.0.0.load(Ordering::Acquire));
    if points == 0 {
        return None;
    }
    let bytes = budget
        .reserved_bytes
        .load(Ordering::Acquire)
        .saturating_sub(budget.drained.0.1.load(Ordering::Acquire));
    let since = *st.staged_since.get_or_insert(now);
    let due = since + settings.interval;
    if st.closed
        || st.marked() > 0
        || shared.shard_full.load(Ordering::Acquire)
        || points >= settings.trigger_size as u64
        || bytes >= settings.trigger_bytes as u64
        || now >= due
    {
        shared.drain(st);
        shared.prune(st);
        None
    } else {
        Some(due)
    }
}

fn options(st: &State, dest: u32) -> WriteOptions {
    let key = &st.dest(dest).key;
    let mut options = WriteOptions::new(key.database.clone()).precision(key.precision);
    if let Some(rp) = &key.retention_policy {
        options = options.retention_policy(rp.clone());
    }
    options
}

/// The most a round takes, in points and bytes: a request's worth for each request in flight
/// (one request to probe a server that failed), or up to [`REQUESTS_A_LANE`] each, which the
/// lanes send one after the other and so wait for each other less often. In bytes, never
/// more than a sixteenth of the budget: a round is joined into a buffer the thread keeps, and
/// copied again into the requests of each connection, beside the budget's lines (so that the
/// process holds at most about 1.25 times the budget); and points in flight cannot be
/// dropped to make room for new ones. In points, never more than half the buffer beyond a
/// request each.
fn round(settings: &Settings, in_flight: usize, failures: u32) -> (usize, usize) {
    let (points, bytes) = (settings.max_batch_size, settings.max_batch_bytes.value);
    let most_bytes = settings.max_buffer_bytes.value / 16;
    if failures > 0 {
        return (points, bytes.min(most_bytes));
    }
    let (each, most) = (in_flight, in_flight.saturating_mul(REQUESTS_A_LANE));
    (
        points
            .saturating_mul(most)
            .min(settings.max_buffer_size / 2)
            .max(points.saturating_mul(each)),
        bytes.saturating_mul(most).min(most_bytes),
    )
}

fn run(shared: &Shared, client: &Client) {
    let settings = &shared.settings;
    let mut failures: u32 = 0;
    let mut logs = Logs::default();
    let mut kept = Batch::default();
    loop {
        let (dest, batch, options, in_flight) = {
            let mut st = shared.state.lock();
            loop {
                shared.settled.notify_all();
                let now = Instant::now();
                logs.drops(&mut st, now);
                if st.stop {
                    // Lines a failed request put back after the stop are unsent too.
                    st.drop_waiting();
                    st.worker_done = true;
                    shared.settled.notify_all();
                    return;
                }
                // Lines in the shards: from when they wait, and taken when due.
                let staged_until = staged(shared, &mut st, now);
                if let Some(at) = st.backoff_until {
                    if now < at {
                        shared.wake.wait_until(&mut st, at);
                        continue;
                    }
                    st.backoff_until = None;
                }
                // After a failure, one request probes the server; then as many as the client
                // keeps in flight.
                let in_flight = if failures > 0 {
                    1
                } else {
                    settings.client.writes_in_flight()
                };
                if st.has_idle_to_forget() {
                    shared.forget_idle(&mut st);
                }
                match st.next(now, round(settings, in_flight, failures)) {
                    Next::Send(dest, batch) => {
                        let options = options(&st, dest);
                        break (dest, batch, options, in_flight);
                    }
                    Next::Wait(at) => {
                        let mut until = now + LOG_EVERY;
                        for at in [at, staged_until].into_iter().flatten() {
                            until = until.min(at);
                        }
                        shared.wake.wait_until(&mut st, until);
                    }
                }
            }
        };
        // Joined outside the lock (record() never waits for a copy of a batch), into the
        // batch buffer the thread keeps: its size is a round's at most.
        let emptied = batch.join_into(&mut kept);
        shared.state.lock().recycle(emptied);
        let caps = Caps {
            points: settings.max_batch_size,
            bytes: settings.max_batch_bytes.value,
            in_flight,
            exact: false,
        };
        // The requests are pieces of the batch, not copies; none is sent once the writer
        // has stopped.
        let bytes = bytes::Bytes::from(std::mem::take(&mut kept.bytes));
        let outcome =
            client.write_isolating_until(&bytes, &kept.ends, &options, caps, &shared.halt);
        // The buffer back, uncopied once the requests have let go of it.
        kept.bytes = bytes.into();
        settle(
            shared,
            client,
            dest,
            &mut kept,
            outcome,
            &mut failures,
            &mut logs,
        );
    }
}

/// Counts what became of a batch, puts back what is to be sent again, and sets the backoff.
fn settle(
    shared: &Shared,
    client: &Client,
    dest: u32,
    batch: &mut Batch,
    outcome: WriteOutcome,
    failures: &mut u32,
    logs: &mut Logs,
) {
    let settings = &shared.settings;
    let now = Instant::now();
    let commit = outcome.commit;
    // Over UDP nothing is acknowledged: the points are sent, not known to be written.
    let udp = settings.client.udp_port().is_some();
    if !outcome.rejections.is_empty() && logs.rejections.ready(now) {
        let first = &outcome.rejections[0];
        tracing::warn!(
            rejected = commit.refused as u64 + logs.rejected_since,
            "the server refused points for good: {}",
            first.message
        );
        logs.rejected_since = 0;
    } else {
        logs.rejected_since += commit.refused as u64;
    }
    let Some((unsent_lines, error)) = outcome.stopped else {
        let mut st = shared.state.lock();
        count(&mut st, &commit, &outcome.rejections, 0, udp);
        let recovered = st.unflag(dest);
        let bytes = batch.bytes.len();
        st.settle(batch.len(), bytes, Front::default(), &Unsent::default());
        *failures = 0;
        drop(st);
        shared.settled.notify_all();
        if let Some(database) = recovered {
            tracing::info!(%database, "writes to the destination succeed again");
        }
        return;
    };
    // Every request in flight at once may have failed (a stop of the writer's own, before a
    // request went out, is none).
    let halted = shared.halt.load(Ordering::Acquire);
    let failed = outcome.failed_requests as u64;
    // What was not settled goes back, in its order; the rest is done with.
    let (total, total_bytes) = (batch.len(), batch.bytes.len());
    unsent_lines.keep(&mut batch.bytes, &mut batch.ends);
    let back = batch;
    let (line, settled_bytes) = (total - back.len(), total_bytes - back.bytes.len());
    let unsent = back.len();
    let mut failure = classify_write_failure(&error);
    if halted {
        // The writer stopped: what is left goes back, to be counted as unsent.
        failure = WriteFailure::Transient;
    }
    if failure == WriteFailure::MissingDatabase {
        match settings.on_missing_database {
            OnMissingDatabase::Hold => failure = WriteFailure::Transient,
            OnMissingDatabase::Create => {
                let (tried, database) = {
                    let mut st = shared.state.lock();
                    let d = st.dest_entry(dest);
                    let tried = std::mem::replace(&mut d.create_tried, true);
                    (tried, d.key.database.clone())
                };
                if !tried && !shared.halt.load(Ordering::Acquire) {
                    match client.create_database(&database) {
                        Ok(()) => {
                            let front = Front::of(&back.bytes, &back.ends);
                            let mut st = shared.state.lock();
                            count(&mut st, &commit, &outcome.rejections, failed, udp);
                            st.settle(line, settled_bytes, front, &unsent_lines);
                            drop(st);
                            tracing::info!(%database, "created the missing database");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(%database, "could not create the missing database: {e}");
                        }
                    }
                }
            }
            OnMissingDatabase::Drop => {}
        }
    }
    // What goes back to the queue is copied into segments before the lock is taken.
    let front = if failure == WriteFailure::Transient {
        Front::of(&back.bytes, &back.ends)
    } else {
        Front::default()
    };
    let mut st = shared.state.lock();
    count(&mut st, &commit, &outcome.rejections, failed, udp);
    // What to log, once the lock is let go.
    let mut log_failure = None;
    let mut log_flagged = None;
    match failure {
        WriteFailure::Transient => {
            if !halted {
                *failures = failures.saturating_add(1);
                let base = settings
                    .backoff
                    .0
                    .saturating_mul(1u32 << (*failures - 1).min(20))
                    .min(settings.backoff.1);
                let wait = match outcome.retry_after {
                    // `Retry-After: 0` does not make the writer hammer the server.
                    Some(asked) => asked.min(MAX_RETRY_AFTER).max(base / 2),
                    None => base.mul_f64(0.5 + 0.5 * st.unit_random()),
                };
                st.backoff_until = Some(now + wait);
                if logs.failures.ready(now) {
                    log_failure = Some((st.owned(), wait));
                }
            }
            st.settle(line, settled_bytes, front, &unsent_lines);
        }
        WriteFailure::MissingDatabase | WriteFailure::Refused => {
            let missing = failure == WriteFailure::MissingDatabase;
            let reason = describe(&error);
            let kind = if missing {
                st.counters.drops.missing_database += unsent as u64;
                ReasonKind::MissingDatabase
            } else {
                st.counters.drops.misconfigured += unsent as u64;
                ReasonKind::Misconfigured
            };
            st.counters.reasons.add(kind, &reason, unsent as u64);
            if st.flag(dest, reason) {
                let key = &st.dest(dest).key;
                log_flagged = Some((key.database.clone(), key.retention_policy.clone()));
            }
            st.settle(total, total_bytes, Front::default(), &Unsent::default());
        }
    }
    drop(st);
    shared.settled.notify_all();
    if let Some((kept, wait)) = log_failure {
        tracing::warn!(
            failures = *failures,
            kept,
            wait_ms = wait.as_millis() as u64,
            "InfluxDB write failed, points kept for a retry: {}",
            describe(&error)
        );
    }
    if let Some((database, retention_policy)) = log_flagged {
        tracing::warn!(
            %database,
            retention_policy = retention_policy.as_deref().unwrap_or(""),
            dropped = unsent,
            "destination flagged, its batch dropped without a retry: {}",
            describe(&error)
        );
    }
}

/// Adds a write's figures to the counters: `failed` of its requests failed. Over UDP
/// (`udp`), points are sent, not written.
fn count(
    st: &mut State,
    commit: &influx_core::Commit,
    rejections: &[influx_core::Rejection],
    failed: u64,
    udp: bool,
) {
    if udp {
        st.counters.sent += commit.written as u64;
    } else {
        st.counters.written += commit.written as u64;
    }
    st.counters.rejected += commit.refused as u64;
    st.counters.requests += commit.requests as u64;
    st.counters.failed_requests += failed;
    for r in rejections {
        st.counters
            .reasons
            .add(ReasonKind::Rejected, &r.message, r.points as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::WriterBuilder;

    fn settings(buffer: usize) -> Settings {
        WriterBuilder::default()
            .max_buffer_size(buffer)
            .max_batch_size(1_000)
            .settings()
            .unwrap()
    }

    #[test]
    fn a_round_takes_several_requests_a_lane_but_never_more_than_a_sixteenth_of_the_bytes() {
        let (bytes, buffer_bytes) = {
            let s = settings(100_000);
            (s.max_batch_bytes.value, s.max_buffer_bytes.value)
        };
        // Sixteen requests a lane, with room to spare.
        let (points, round_bytes) = round(&settings(100_000), 2, 0);
        assert_eq!(points, 32_000);
        assert_eq!(
            round_bytes,
            buffer_bytes / 16,
            "under 32 requests of {bytes} bytes"
        );
        // Half the buffer's points at most...
        assert_eq!(round(&settings(10_000), 2, 0).0, 5_000);
        // ... but a request's worth for each request in flight at least.
        assert_eq!(round(&settings(3_000), 2, 0).0, 2_000);
        // One request to probe a server that failed.
        assert_eq!(
            round(&settings(100_000), 2, 1),
            (1_000, bytes.min(buffer_bytes / 16))
        );
        // In bytes, a sixteenth of the budget at most, even below a request a lane.
        let small = WriterBuilder::default()
            .max_buffer_bytes(1 << 20)
            .settings()
            .unwrap();
        assert_eq!(round(&small, 2, 0).1, 1 << 16);
        assert_eq!(round(&small, 2, 1).1, 1 << 16);
    }
}
