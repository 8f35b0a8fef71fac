//! The full mode's sustained writes: 1 000 000 points, more than a buffer's default bounds
//! hold, offered at the rate the server takes them (the two-connection ceiling's, measured
//! once before the rounds), so that a writer that does not keep up refuses points, and that
//! shows. The buffered writer and the derive's background autocommit run at the library's
//! default limits, paced so, and count what they refuse; `write_points` (which waits, and
//! refuses nothing) and the two-connection ceiling run beside them, as fast as they go. Each
//! writes into a database of its own and is verified by count: every point it took is
//! stored. A run's time is from its first point to the last one stored.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use influx_series::writer::BufferedWriter;
use influx_series::{Client, ClientConfig, Error, Series, WriteOptions};

use super::data::{BATCH, CpuRecordBackground, Dataset};
use super::load::Stopwatch;
use super::load::Timed;
use super::setup::Setup;
use super::variant::{Key, Kind, Variant, in_fresh_database, stored_count};
use super::writes;

/// Points of each sustained write.
pub(crate) const POINTS: usize = 1_000_000;

/// How long the buffered writer's `flush` may take.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(300);

/// What the writers refused, run after run: `(variant, points refused)`.
pub(crate) type Refusals = RefCell<Vec<(Key, u64)>>;

/// Points recorded between two looks at the clock when pacing.
const PACE_STEP: usize = 1_000;

/// The ceiling (2 connections), `write_points`, the buffered writer and the background
/// derive, over `data` (of [`POINTS`] points), and the rate the recorders are paced at: the
/// ceiling's, from one run of it before the rounds.
pub(crate) fn variants<'a>(
    setup: &'a Setup,
    data: &'a Dataset,
    refusals: &'a Refusals,
) -> Result<(Vec<Variant<'a>>, f64), String> {
    let mut variants: Vec<Variant<'a>> = writes::ceilings(setup, data)
        .into_iter()
        .filter(|v| v.key == Key::CeilingTwo)
        .collect();
    let ceiling = variants.first_mut().ok_or("no ceiling")?;
    let rate = data.len() as f64 / (ceiling.run)()?.wall.as_secs_f64();
    variants.push(Variant {
        key: Key::WritePoints {
            gzip: false,
            one_in_flight: false,
        },
        label: "write_points, batches of 5000, defaults".into(),
        kind: Kind::Write,
        run: Box::new(move || {
            in_fresh_database(setup, "sustained_write_points", data.len(), |db| {
                let options = WriteOptions::new(db).batch_size(BATCH);
                let started = Stopwatch::start();
                setup
                    .admin
                    .write_points(&data.points, &options)
                    .map_err(|e| format!("write_points: {e}"))?;
                Ok(started.stop())
            })
        }),
    });
    variants.push(Variant {
        key: Key::Writer,
        label: "buffered writer at its default limits, paced: record() x N, flush()".into(),
        kind: Kind::Write,
        run: Box::new(move || {
            counted(setup, "sustained_writer", |db| {
                writer_once(&setup.url, data, db, rate)
            })
            .map(|(took, refused)| {
                refusals.borrow_mut().push((Key::Writer, refused));
                took
            })
        }),
    });
    variants.push(Variant {
        key: Key::DeriveBackground,
        label: "derive at its default limits (bulk_size 5000, autocommit = \"background\"), \
                paced: record() x N, commit()"
            .into(),
        kind: Kind::Write,
        run: Box::new(move || {
            let outcome = counted(setup, "sustained_derive", |db| {
                derive_once(&setup.admin, data, db, rate)
            });
            CpuRecordBackground::clear();
            outcome.map(|(took, refused)| {
                refusals.borrow_mut().push((Key::DeriveBackground, refused));
                took
            })
        }),
    });
    Ok((variants, rate))
}

/// Waits, before point `i`, until the time it is due at `rate` points a second from
/// `started` (looking at the clock every [`PACE_STEP`] points).
fn pace(i: usize, started: Instant, rate: f64) {
    if i % PACE_STEP == 0 {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        if let Some(early) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(early);
        }
    }
}

/// Runs `work` against a database of its own and checks that it holds every point `work`
/// says it took (its second value is the points it refused, of [`POINTS`]). The time it
/// returns is for [`POINTS`] points at the rate `work` stored them: its own time, scaled up
/// by the points it refused.
fn counted(
    setup: &Setup,
    prefix: &str,
    work: impl FnOnce(&str) -> Result<(Timed, u64), String>,
) -> Result<(Timed, u64), String> {
    let db = setup.server.unique_db(prefix);
    setup
        .admin
        .create_database(&db)
        .map_err(|e| format!("creating database {db}: {e}"))?;
    let outcome = work(&db).and_then(|(took, refused)| {
        let taken = POINTS as i64 - refused as i64;
        let stored = stored_count(&setup.admin, &db)?;
        if stored == taken && taken > 0 {
            // The time for all the points at the rate they were stored: a writer that
            // refused some moved fewer.
            let scaled = Timed {
                wall: took.wall.mul_f64(POINTS as f64 / taken as f64),
                ..took
            };
            Ok((scaled, refused))
        } else {
            Err(format!(
                "{stored} points stored, not the {taken} taken ({refused} refused)"
            ))
        }
    });
    let _ = setup.admin.drop_database(&db);
    outcome
}

fn writer_once(url: &str, data: &Dataset, db: &str, rate: f64) -> Result<(Timed, u64), String> {
    let config = ClientConfig::from_url(url).map_err(|e| e.to_string())?;
    // The defaults but the `hostname` tag, so that it sends the same lines as the others.
    let writer = BufferedWriter::builder()
        .client(config)
        .database(db)
        .tag_hostname(false)
        .start()
        .map_err(|e| format!("starting the writer: {e}"))?;
    let (started, clock) = (Stopwatch::start(), Instant::now());
    for i in 0..data.len() {
        pace(i, clock, rate);
        // A refusal is counted by the writer (`Stats::dropped`); `record()` never waits.
        let _ = writer.record(data.line(i));
    }
    let flushed = writer.flush(FLUSH_TIMEOUT);
    let took = started.stop();
    flushed.map_err(|e| format!("flush(): {e}"))?;
    let stats = writer.stats();
    writer.shutdown(Duration::from_secs(5));
    if stats.written + stats.dropped != data.len() as u64 {
        return Err(format!("the writer's counts do not add up: {stats:?}"));
    }
    Ok((took, stats.dropped))
}

fn derive_once(
    admin: &Client,
    data: &Dataset,
    db: &str,
    rate: f64,
) -> Result<(Timed, u64), String> {
    CpuRecordBackground::bind(admin.clone().with_database(db));
    let mut refused = 0;
    let (started, clock) = (Stopwatch::start(), Instant::now());
    for i in 0..data.len() {
        pace(i, clock, rate);
        match data.record_background(i).record() {
            Ok(_) => {}
            Err(Error::BufferFull { .. }) => refused += 1,
            Err(e) => return Err(format!("record(): {e}")),
        }
    }
    // Waits for the commit under way, then sends the rest.
    CpuRecordBackground::commit().map_err(|e| format!("commit(): {e}"))?;
    Ok((started.stop(), refused))
}

/// The refusals, for the report: for each variant that refused any, the points refused per
/// run.
pub(crate) fn refusal_note(refusals: &Refusals) -> String {
    let refusals = refusals.borrow();
    let mut lines = Vec::new();
    for key in [Key::Writer, Key::DeriveBackground] {
        let runs: Vec<String> = refusals
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, n)| n.to_string())
            .collect();
        if !runs.is_empty() {
            lines.push(format!(
                "{} refused, run by run: {} of {} points",
                super::stats::short(key),
                runs.join(", "),
                super::text::grouped(POINTS)
            ));
        }
    }
    lines.join("; ")
}
