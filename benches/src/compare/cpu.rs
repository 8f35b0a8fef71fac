//! The DESIGN.md section-7 targets that need no server, in the same program: encoding with
//! `#[derive(Series)]` against the `influxdb` crate's derive, `record()` into the type's
//! buffer and into the buffered writer against encoding alone, and `record()` from 1, 2 and
//! 4 threads at once (what benches/derive.rs and benches/writer.rs measure).
//!
//! Every variant goes through the same [`PASS`] points of the reference shape, borrowed (a
//! `record()` takes its point by value, and a copy of two strings would be timed too), with
//! their explicit timestamps. Rounds are interleaved, each variant once per round
//! (variant.rs); in a round a variant runs [`REPS`] batches and keeps the median one, as
//! benches/src/rounds.rs does. Nothing is sent: the buffered writer is never due to send
//! during a batch.
//!
//! The variants with threads run for a fixed time, [`BATCH_TIME`]: the points are shared
//! between the threads, each thread going through its share pass after pass without waiting
//! for the others (as benches/derive.rs does) until the time is up; their time is then given
//! for [`PASSES`] passes, from the points they went through. A fixed amount of work would
//! measure, with more threads than cores, the end of the batch as much as its throughput:
//! the scheduler switches threads every tick (4 ms here), so the last thread of four often
//! ends a tick after the others, alone on one core; over batches of 15 to 20 ms, encoding
//! from 4 threads then measured 0.84x to 0.94x of 2 threads, and 0.99x to 1.00x over
//! batches five times as long. Counts stay exact: the buffer is checked against the points
//! the threads went through, and emptied, untimed. The variants without threads go through
//! a fixed [`PASSES`] passes.

use std::hint::black_box;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use influx_series::writer::BufferedWriter;
use influx_series::{ClientConfig, Series};
use influx_series_benches::rounds::median;
use influx_series_benches::{Sample, samples};
use influxdb::{InfluxDbWriteable, Query, WriteQuery};

use super::data::{MEASUREMENT, PeerCpu, peer};
use super::load::{CpuTime, Timed};
use super::setup::Setup;
use super::variant::{self, Key, Kind, Order, Outcome, RunResult, Variant};

/// Points of a pass (as benches/encode.rs and benches/derive.rs).
pub(crate) const PASS: usize = 10_000;
/// Passes a batch: 200 000 points, about 20 ms for the fastest variant here. The variants
/// with threads report their time for as many points.
const PASSES: usize = 20;
/// The same with `--smoke`.
const QUICK_PASSES: usize = 2;
/// How long a batch of a variant with threads runs.
const BATCH_TIME: Duration = Duration::from_millis(30);
/// The same with `--smoke`.
const QUICK_BATCH_TIME: Duration = Duration::from_millis(3);
/// Points a thread goes through between two looks at whether the time is up: about 10 µs.
/// Points of a chunk begun before the time was up still count, a bias of at most one chunk
/// a thread (0.2 % with 4 threads).
const CHUNK: usize = 100;
/// Batches a variant runs each round; the round keeps the median.
pub(crate) const REPS: usize = 5;

/// The reference shape, borrowed from a [`Sample`]: its own type, so that its buffer is used
/// by this part alone (no `bulk_size`, no `autocommit`: nothing is ever sent), with bounds
/// that hold what a batch records in [`BATCH_TIME`].
#[derive(Series)]
#[series(
    name = "cpu",
    max_pending = 4_000_000,
    max_pending_bytes = 1_073_741_824
)]
pub(crate) struct Pending<'a> {
    #[series(tag)]
    host: &'a str,
    #[series(tag)]
    region: &'a str,
    usage_user: f64,
    usage_system: f64,
    count: i64,
    ok: bool,
    #[series(time)]
    time: DateTime<Utc>,
}

/// Sample `s` as a [`Pending`] point, with its explicit timestamp.
fn pending(s: &Sample) -> Pending<'_> {
    Pending {
        host: &s.host,
        region: &s.region,
        usage_user: s.usage_user,
        usage_system: s.usage_system,
        count: s.count,
        ok: s.ok,
        time: DateTime::from_timestamp_nanos(s.nanos),
    }
}

/// What this part measured.
pub(crate) struct Part {
    /// One per variant, in table order: one median batch time per round.
    pub(crate) outcomes: Vec<Outcome>,
    /// Interleaved rounds.
    pub(crate) rounds: usize,
    /// Batches a variant ran each round.
    pub(crate) reps: usize,
    /// Points a batch, or those a batch with threads is given for.
    pub(crate) points: usize,
    /// How long a batch with threads runs.
    pub(crate) batch_time: Duration,
    /// Wall time of the part.
    pub(crate) took: Duration,
    /// CPU-seconds other processes used meanwhile, when /proc tells.
    pub(crate) others: Option<f64>,
    /// Why the lines were not checked against the peer's, if they could not be.
    pub(crate) check: Result<(), String>,
}

/// Runs `rounds` interleaved rounds of every variant (one round of small batches with
/// `quick`); progress on stderr.
pub(crate) fn measure(setup: &Setup, rounds: usize, quick: bool, order: Order) -> Part {
    let started = Instant::now();
    let cpu_at_start = CpuTime::now(setup.server.pid());
    let (passes, reps, time) = if quick {
        (QUICK_PASSES, 1, QUICK_BATCH_TIME)
    } else {
        (PASSES, REPS, BATCH_TIME)
    };
    let points = passes * PASS;
    let data = &samples(PASS)[..];
    let peers = &data.iter().map(peer).collect::<Vec<PeerCpu>>()[..];
    let check = same_lines(&data[1], &peers[1]);
    let writer = idle_writer(&setup.url, points);
    let writer = &writer;
    let record_variant = |threads: usize| {
        batches(Key::Record { threads }, reps, move || {
            for_a_while(
                &mut vec![(); threads],
                time,
                points,
                |(), chunk, _| record(&data[chunk]),
                |done| emptied(Pending::clear(), done),
            )
        })
    };
    let mut variants = Vec::new();
    for threads in [1, 2] {
        // Each thread's `Vec`, kept from batch to batch as an application keeps its buffer.
        let mut buffers: Vec<Own> = (0..threads).map(|_| Own(Vec::new())).collect();
        variants.push(batches(Key::Encode { threads }, reps, move || {
            for_a_while(&mut buffers, time, points, encode(data), |_| Ok(()))
        }));
        if threads == 1 {
            variants.push(batches(Key::CrateEncode, reps, move || {
                crate_encode(peers, passes)
            }));
            variants.push(batches(Key::RecordPass, reps, move || {
                let started = Instant::now();
                for _ in 0..passes {
                    record(data)?;
                    emptied(Pending::clear(), PASS)?;
                }
                Ok(Timed::wall_only(started.elapsed()))
            }));
            variants.push(record_variant(1));
        }
        variants.push(batches(Key::WriterRecord { threads }, reps, move || {
            let writer = writer.as_ref().map_err(Clone::clone)?;
            for_a_while(
                &mut vec![(); threads],
                time,
                points,
                |(), chunk, _| writer_record(writer, &data[chunk]),
                |done| emptied(writer.clear(), done),
            )
        }));
    }
    // Encoding alone from 4 threads, which share nothing: what 4 threads on 2 cores cost any
    // work, for the 4 threads of record().
    let mut buffers: Vec<Own> = (0..4).map(|_| Own(Vec::new())).collect();
    variants.push(batches(Key::Encode { threads: 4 }, reps, move || {
        for_a_while(&mut buffers, time, points, encode(data), |_| Ok(()))
    }));
    variants.extend([record_variant(2), record_variant(4)]);
    eprintln!(
        "no server: {rounds} round{} of {} variants, {reps} batch{} of {} points or {} ms \
         each",
        super::text::plural(rounds),
        variants.len(),
        if reps == 1 { "" } else { "es" },
        super::text::grouped(points),
        time.as_millis()
    );
    // Nothing here talks to the server: no run waits for it.
    let (outcomes, _) = variant::interleaved(variants, rounds, None, order);
    if let Ok(writer) = writer {
        writer.clear();
        writer.shutdown(Duration::from_secs(5));
    }
    Pending::clear();
    Part {
        outcomes,
        rounds,
        reps,
        points,
        batch_time: time,
        took: started.elapsed(),
        others: cpu_at_start
            .zip(CpuTime::now(setup.server.pid()))
            .map(|(start, end)| end.others_since(&start)),
        check,
    }
}

/// The label of a variant of this part.
pub(crate) fn label(key: Key) -> String {
    let threads = |n: usize| match n {
        1 => "1 thread".to_owned(),
        n => format!("{n} threads at once"),
    };
    match key {
        Key::Encode { threads: n } => format!(
            "derive: write_line into a reused Vec (encoding alone), {}",
            threads(n)
        ),
        Key::CrateEncode => {
            "influxdb crate 0.8 derive: try_into_query + build (copies made untimed)".into()
        }
        Key::RecordPass => {
            "derive: record() into the type's buffer, 1 thread, emptied after every pass (timed)"
                .into()
        }
        Key::Record { threads: n } => format!(
            "derive: record() into the type's buffer, {}, emptied after the batch",
            threads(n)
        ),
        Key::WriterRecord { threads: n } => {
            format!("buffered writer: record() (nothing sent), {}", threads(n))
        }
        other => super::stats::short(other),
    }
}

/// A variant whose run is `reps` batches, of which it keeps the median time.
fn batches<'a>(key: Key, reps: usize, mut batch: impl FnMut() -> RunResult + 'a) -> Variant<'a> {
    Variant {
        key,
        label: label(key),
        kind: Kind::Write,
        run: Box::new(move || {
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                times.push(batch()?.wall.as_secs_f64());
            }
            Ok(Timed::wall_only(Duration::from_secs_f64(median(times))))
        }),
    }
}

/// Checks that both derives write the same line for a point (the peer writes a whole float
/// as `29`, this project as `29.0`; nothing else may differ), and that `record()` buffers
/// exactly what `write_line` writes.
fn same_lines(sample: &Sample, theirs: &PeerCpu) -> Result<(), String> {
    let mut ours = Vec::new();
    pending(sample)
        .write_line(&mut ours)
        .map_err(|e| format!("write_line: {e}"))?;
    let ours = String::from_utf8(ours).map_err(|e| e.to_string())?;
    let peer = theirs
        .clone()
        .try_into_query(MEASUREMENT)
        .map_err(|e| format!("the influxdb crate's derive: {e:?}"))?
        .build()
        .map_err(|e| format!("the influxdb crate's build: {e:?}"))?
        .get();
    // Numbers compared as numbers (`29` and `29.0`, `5i` and `5`), the rest as text.
    let fields = |line: &str| -> Vec<String> {
        line.split([',', ' '])
            .map(|part| match part.split_once('=') {
                Some((key, value)) => match value.trim_end_matches('i').parse::<f64>() {
                    Ok(number) => format!("{key}={number}"),
                    Err(_) => part.to_owned(),
                },
                None => part.to_owned(),
            })
            .collect()
    };
    if fields(&ours) != fields(&peer) {
        return Err(format!("different lines: {ours:?} and {peer:?}"));
    }
    Pending::clear();
    pending(sample)
        .record()
        .map_err(|e| format!("record(): {e}"))?;
    let recorded = Pending::pending_lines();
    Pending::clear();
    if recorded != format!("{ours}\n") {
        return Err(format!("record() buffered {recorded:?}, not {ours:?}"));
    }
    Ok(())
}

/// Runs `work` for `time` from as many threads at once as there are `states`: each thread
/// goes with its state through its share of the [`PASS`] points, pass after pass, in chunks
/// of [`CHUNK`] (`work` is told which chunk begins a pass), without waiting for the others;
/// once every thread is done, `after` checks (and empties) what they left, untimed, told
/// how many points they went through. Returns the time, threads started included, scaled
/// to `points` points.
fn for_a_while<S: Send>(
    states: &mut [S],
    time: Duration,
    points: usize,
    work: impl Fn(&mut S, Range<usize>, bool) -> Result<(), String> + Sync,
    after: impl FnOnce(usize) -> Result<(), String>,
) -> RunResult {
    let threads = states.len();
    let (work, up) = (&work, &AtomicBool::new(false));
    let started = Instant::now();
    let (done, took) = std::thread::scope(|scope| {
        let workers: Vec<_> = states
            .iter_mut()
            .enumerate()
            .map(|(t, state)| {
                let share = t * PASS / threads..(t + 1) * PASS / threads;
                scope.spawn(move || {
                    let mut done = 0;
                    loop {
                        for start in share.clone().step_by(CHUNK) {
                            if up.load(Ordering::Relaxed) {
                                return Ok(done);
                            }
                            let end = (start + CHUNK).min(share.end);
                            work(state, start..end, start == share.start)?;
                            done += end - start;
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(time);
        up.store(true, Ordering::Relaxed);
        let took = started.elapsed();
        let done: Result<usize, String> = workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a thread panicked (see the message above)".into()))
            })
            .sum();
        (done, took)
    });
    let done = done?;
    after(done)?;
    if done == 0 {
        return Err("no point went through in the time".into());
    }
    Ok(Timed::wall_only(took.mul_f64(points as f64 / done as f64)))
}

/// A thread's `Vec` on cache lines of its own: two threads' `Vec`s side by side would share
/// the line of their lengths, which every push writes (false sharing).
#[repr(align(128))]
struct Own(Vec<u8>);

/// `write_line` of every point of a chunk into the thread's `Vec`, emptied first when the
/// chunk begins a pass: the `Vec` holds at most a pass of the thread's share.
fn encode(data: &[Sample]) -> impl Fn(&mut Own, Range<usize>, bool) -> Result<(), String> + Sync {
    move |Own(buf), chunk, begins_pass| {
        if begins_pass {
            buf.clear();
        }
        for sample in &data[chunk] {
            pending(sample)
                .write_line(buf)
                .map_err(|e| format!("write_line: {e}"))?;
            buf.push(b'\n');
        }
        black_box(buf.len());
        Ok(())
    }
}

/// `record()` of every point of `share` into the type's buffer.
fn record(share: &[Sample]) -> Result<(), String> {
    for sample in share {
        pending(sample)
            .record()
            .map_err(|e| format!("record(): {e}"))?;
    }
    Ok(())
}

/// The writer's `record()` of every point of `share`.
fn writer_record(writer: &BufferedWriter, share: &[Sample]) -> Result<(), String> {
    for sample in share {
        let recorded = writer.record(pending(sample));
        if !recorded.is_enqueued() {
            return Err(format!("record(): {recorded:?}"));
        }
    }
    Ok(())
}

/// Whether a batch that went through `done` points left exactly as many in the buffer just
/// emptied.
fn emptied(points: usize, done: usize) -> Result<(), String> {
    if points == done {
        Ok(())
    } else {
        Err(format!("{points} points buffered by a batch, not {done}"))
    }
}

/// The `influxdb` crate's derive over `passes` passes: each pass's copies (its derive
/// consumes its points) are made before the clock starts; turning them into queries,
/// building the body and dropping it all are timed.
fn crate_encode(peers: &[PeerCpu], passes: usize) -> RunResult {
    let mut took = Duration::ZERO;
    for _ in 0..passes {
        let batch = peers.to_vec();
        let started = Instant::now();
        let lines = crate_body(batch)?;
        took += started.elapsed();
        if lines != peers.len() {
            return Err(format!(
                "the influxdb crate built {lines} lines, not {}",
                peers.len()
            ));
        }
    }
    Ok(Timed::wall_only(took))
}

/// The body of `batch`, built by the `influxdb` crate; returns its number of lines.
fn crate_body(batch: Vec<PeerCpu>) -> Result<usize, String> {
    let queries = batch
        .into_iter()
        .map(|point| point.try_into_query(MEASUREMENT))
        .collect::<Result<Vec<WriteQuery>, _>>()
        .map_err(|e| format!("influxdb crate: into_query: {e:?}"))?;
    let body = queries
        .build()
        .map_err(|e| format!("influxdb crate: build: {e:?}"))?
        .get();
    Ok(black_box(body).lines().count())
}

/// A buffered writer that never sends during a batch: nothing is due before an hour, and its
/// bounds hold a whole batch. No `hostname` tag: it encodes the same line as `write_line`.
fn idle_writer(url: &str, points: usize) -> Result<BufferedWriter, String> {
    let config = ClientConfig::from_url(url).map_err(|e| e.to_string())?;
    BufferedWriter::builder()
        .client(config)
        .database("no_server_part")
        .tag_hostname(false)
        .interval(Duration::from_secs(3_600))
        .max_buffer_size(20 * points)
        .trigger_size(20 * points)
        .max_buffer_bytes(1 << 30)
        .trigger_bytes(1 << 30)
        .start()
        .map_err(|e| format!("starting the writer: {e}"))
}
