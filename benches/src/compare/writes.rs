//! The write variants: the server's ceiling (pre-encoded bodies over one and two
//! connections) and this project's three ways to write (the derive, the buffered writer,
//! `Client::write_points`). Each writes every point into a database of its own and is
//! verified by count.

use std::net::SocketAddr;
use std::time::Duration;

use influx_series::writer::BufferedWriter;
use influx_series::{Client, ClientBuilder, ClientConfig, Series, WriteOptions};

use super::data::{BATCH, CpuRecord, CpuRecordBackground, Dataset};
use super::http::Connection;
use super::load::Stopwatch;
use super::setup::Setup;
use super::text::at_most;
use super::variant::{Key, Kind, RunResult, Variant, in_fresh_database};

/// How long the buffered writer's `flush` may take.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(120);

/// The ceiling over one connection and over two.
pub(crate) fn ceilings<'a>(setup: &'a Setup, data: &'a Dataset) -> Vec<Variant<'a>> {
    let mut one: [Option<Connection>; 1] = [None];
    let mut two: [Option<Connection>; 2] = [None, None];
    vec![
        Variant {
            key: Key::CeilingOne,
            label: "ceiling: pre-encoded bodies, 1 connection".into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "ceiling_one", data.len(), |db| {
                    post_bodies(setup.address, db, &data.bodies, &mut one)
                })
            }),
        },
        Variant {
            key: Key::CeilingTwo,
            label: "ceiling: pre-encoded bodies, 2 connections".into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "ceiling_two", data.len(), |db| {
                    post_bodies(setup.address, db, &data.bodies, &mut two)
                })
            }),
        },
        Variant {
            key: Key::CurlTwo,
            label: "curl posting the same bodies, 2 at a time (--parallel-max 2, one process a \
                    run, its start counted)"
                .into(),
            kind: Kind::Write,
            run: Box::new(move || {
                let files = body_files(setup, data)?;
                in_fresh_database(setup, "curl_two", data.len(), |db| {
                    curl_bodies(setup, db, &files)
                })
            }),
        },
        Variant {
            key: Key::ClientBodies,
            label: "this client posting the same bodies: write_raw, lines not read, 1 in flight"
                .into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "client_bodies", data.len(), |db| {
                    let options = WriteOptions::new(db).check_lines(false);
                    let started = Stopwatch::start();
                    for body in &data.bodies {
                        let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
                        setup
                            .admin
                            .write_raw(text, &options)
                            .map_err(|e| format!("write_raw: {e}"))?;
                    }
                    Ok(started.stop())
                })
            }),
        },
    ]
}

/// The bodies in files of the run's directory, for curl (written once, before any clock).
fn body_files(setup: &Setup, data: &Dataset) -> Result<Vec<std::path::PathBuf>, String> {
    let dir = setup.work_dir.join(format!("bodies-{}", data.len()));
    let files: Vec<std::path::PathBuf> = (0..data.bodies.len())
        .map(|i| dir.join(format!("{i}.txt")))
        .collect();
    if !dir.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for (file, body) in files.iter().zip(&data.bodies) {
            std::fs::write(file, body).map_err(|e| format!("writing {}: {e}", file.display()))?;
        }
    }
    Ok(files)
}

/// Posts the bodies in `files` to `/write` of `db` with one curl process, two transfers at a
/// time; the run's time is the process's, start included (a few milliseconds, which count
/// against curl).
fn curl_bodies(setup: &Setup, db: &str, files: &[std::path::PathBuf]) -> RunResult {
    let url = format!("{}/write?db={db}&precision=ns", setup.url);
    let mut command = std::process::Command::new("curl");
    command.args([
        "--silent",
        "--show-error",
        "--parallel",
        "--parallel-max",
        "2",
    ]);
    for (i, file) in files.iter().enumerate() {
        if i > 0 {
            command.arg("--next");
        }
        command
            .args(["--fail", "--output", "/dev/null", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(&url);
    }
    let started = Stopwatch::start();
    let out = command
        .output()
        .map_err(|e| format!("curl (is it installed?): {e}"))?;
    let took = started.stop();
    if !out.status.success() {
        return Err(format!(
            "curl: {} {}",
            out.status,
            at_most(String::from_utf8_lossy(&out.stderr).trim(), 200)
        ));
    }
    Ok(super::load::Timed::wall_only(took.wall))
}

/// Posts `bodies` to `/write` of `db`, split in as many consecutive shares as there are
/// connections, each share over its own kept-alive connection in its own thread. A
/// connection is opened before the clock starts and kept for later rounds; one that failed
/// is opened again next time.
fn post_bodies(
    address: SocketAddr,
    db: &str,
    bodies: &[Vec<u8>],
    connections: &mut [Option<Connection>],
) -> RunResult {
    for slot in connections.iter_mut().filter(|slot| slot.is_none()) {
        let connection =
            Connection::open(address).map_err(|e| format!("connecting to {address}: {e}"))?;
        *slot = Some(connection);
    }
    let target = format!("/write?db={db}&precision=ns");
    let share = bodies.len().div_ceil(connections.len());
    let started = Stopwatch::start();
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = connections
            .iter_mut()
            .zip(bodies.chunks(share))
            .map(|(slot, bodies)| {
                let target = &target;
                scope.spawn(move || {
                    let outcome = post_each(slot.as_mut(), target, bodies);
                    if outcome.is_err() {
                        *slot = None;
                    }
                    outcome
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|_| Err("a posting thread panicked".into()))
            })
            .collect()
    });
    let took = started.stop();
    results.into_iter().collect::<Result<(), String>>()?;
    Ok(took)
}

fn post_each(
    connection: Option<&mut Connection>,
    target: &str,
    bodies: &[Vec<u8>],
) -> Result<(), String> {
    let connection = connection.ok_or("no connection")?;
    for body in bodies {
        let answer = connection
            .post(target, body)
            .map_err(|e| format!("POST {target}: {e}"))?;
        if answer.status != 204 {
            return Err(format!(
                "POST {target}: status {}: {}",
                answer.status,
                at_most(&answer.error_text, 200)
            ));
        }
    }
    Ok(())
}

/// The derive and the buffered writer.
pub(crate) fn recorders<'a>(setup: &'a Setup, data: &'a Dataset) -> Vec<Variant<'a>> {
    vec![
        Variant {
            key: Key::Derive,
            label: "derive: record() x N (bulk_size 5000, autocommit), commit()".into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "derive", data.len(), |db| {
                    let outcome = derive_once(&setup.admin, data, db);
                    // A failed run leaves points in the type's buffer: they must not be
                    // written into the next round's database.
                    CpuRecord::clear();
                    outcome
                })
            }),
        },
        Variant {
            key: Key::DeriveBackground,
            label: "derive: record() x N (bulk_size 5000, autocommit = \"background\"), commit()"
                .into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "derive_background", data.len(), |db| {
                    let outcome = derive_background_once(&setup.admin, data, db);
                    CpuRecordBackground::clear();
                    outcome
                })
            }),
        },
        Variant {
            key: Key::Writer,
            label: "buffered writer: record() x N, flush()".into(),
            kind: Kind::Write,
            run: Box::new(move || {
                in_fresh_database(setup, "writer", data.len(), |db| {
                    writer_once(&setup.url, data, db)
                })
            }),
        },
    ]
}

fn derive_once(admin: &Client, data: &Dataset, db: &str) -> RunResult {
    CpuRecord::bind(admin.clone().with_database(db));
    let started = Stopwatch::start();
    for i in 0..data.len() {
        data.record(i)
            .record()
            .map_err(|e| format!("record(): {e}"))?;
    }
    CpuRecord::commit().map_err(|e| format!("commit(): {e}"))?;
    Ok(started.stop())
}

fn derive_background_once(admin: &Client, data: &Dataset, db: &str) -> RunResult {
    CpuRecordBackground::bind(admin.clone().with_database(db));
    let started = Stopwatch::start();
    for i in 0..data.len() {
        data.record_background(i)
            .record()
            .map_err(|e| format!("record(): {e}"))?;
    }
    // Waits for the commit under way, then sends the rest.
    CpuRecordBackground::commit().map_err(|e| format!("commit(): {e}"))?;
    Ok(started.stop())
}

fn writer_once(url: &str, data: &Dataset, db: &str) -> RunResult {
    let config = ClientConfig::from_url(url).map_err(|e| e.to_string())?;
    // Batches of 5 000 as every other variant; no `hostname` tag, so that it sends the same
    // lines as the others.
    let writer = BufferedWriter::builder()
        .client(config)
        .database(db)
        .tag_hostname(false)
        .max_buffer_size(2 * data.len())
        // Rounds take at most a sixteenth of the byte budget: at 256 MiB a round may hold the
        // 100 000 points, as the points budget lets it, and the lanes wait for each other
        // once a run (the default 64 MiB would cut rounds at 4 MiB, about 36 000 points).
        .max_buffer_bytes(256 << 20)
        .trigger_size(BATCH)
        .max_batch_size(BATCH)
        .start()
        .map_err(|e| format!("starting the writer: {e}"))?;
    let started = Stopwatch::start();
    for i in 0..data.len() {
        let recorded = writer.record(data.line(i));
        if !recorded.is_enqueued() {
            return Err(format!("record(): {recorded:?}"));
        }
    }
    let flushed = writer.flush(FLUSH_TIMEOUT);
    let took = started.stop();
    flushed.map_err(|e| format!("flush(): {e}"))?;
    let stats = writer.stats();
    writer.shutdown(Duration::from_secs(5));
    if stats.written != data.len() as u64 {
        return Err(format!(
            "the writer wrote {} points: {stats:?}",
            stats.written
        ));
    }
    Ok(took)
}

/// `Client::write_points` in batches of 5 000: gzip off and on, each at the default number
/// of writes in flight and at one.
pub(crate) fn write_points<'a>(setup: &'a Setup, data: &'a Dataset) -> Vec<Variant<'a>> {
    let mut variants = Vec::new();
    for one_in_flight in [false, true] {
        for gzip in [false, true] {
            let key = Key::WritePoints {
                gzip,
                one_in_flight,
            };
            let in_flight = one_in_flight.then_some(1);
            variants.push(write_points_variant(setup, data, key, gzip, in_flight));
        }
    }
    // Three in flight, to choose the default by measurement.
    let key = Key::WritePointsThree;
    variants.push(write_points_variant(setup, data, key, false, Some(3)));
    variants
}

/// `write_points` in batches of 5 000 with gzip on or off, and `in_flight` requests in
/// flight (the default when `None`).
fn write_points_variant<'a>(
    setup: &'a Setup,
    data: &'a Dataset,
    key: Key,
    gzip: bool,
    in_flight: Option<usize>,
) -> Variant<'a> {
    let client = ClientConfig::from_url(&setup.url)
        .map(|config| {
            let builder = ClientBuilder::from(config).gzip(gzip);
            match in_flight {
                Some(n) => builder.writes_in_flight(n),
                None => builder,
            }
        })
        .and_then(ClientBuilder::build)
        .map_err(|e| format!("building the client: {e}"));
    let shown = match &client {
        Ok(client) => client.config().writes_in_flight().to_string(),
        Err(_) => "?".into(),
    };
    let label = format!(
        "write_points, batches of 5000, gzip {}, {shown} in flight{}",
        if gzip { "on" } else { "off" },
        if in_flight.is_none() {
            " (default)"
        } else {
            ""
        }
    );
    Variant {
        key,
        label,
        kind: Kind::Write,
        run: Box::new(move || {
            let client = client.as_ref().map_err(Clone::clone)?;
            in_fresh_database(setup, "write_points", data.len(), |db| {
                let options = WriteOptions::new(db).batch_size(BATCH);
                let started = Stopwatch::start();
                client
                    .write_points(&data.points, &options)
                    .map_err(|e| format!("write_points: {e}"))?;
                Ok(started.stop())
            })
        }),
    }
}
