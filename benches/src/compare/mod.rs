//! `compare`: this project against the server's own ceiling and against its peers, on a
//! private influxd, in interleaved rounds (issue 17, item 3).
//!
//! The server's ceiling is pre-encoded bodies posted over one and two connections, and the
//! answer's bytes fetched raw; this project is the derive, the buffered writer,
//! `write_points` (gzip off and on, default and one write in flight), `query`, `query_as` and
//! the streams; the peers are the `influxdb` crate 0.8 and influxdb-python 5.3. Every write
//! goes into a fresh database and is verified by count; every query checks its rows. A peer
//! or a variant that fails is reported with its error. This project's async client runs in
//! the same rounds, against the blocking one. Then, once each in a fresh process, the peak
//! memory of reading 1 000 000 rows. Before all that, while the server is idle, the part
//! that needs no server: encoding and `record()` on the CPU alone (cpu.rs).
//!
//! The report (one Markdown section, with the DESIGN.md section-7 targets met or not) is
//! printed and written into docs/benchmarks.md between its markers, next to a bar chart,
//! docs/compare.svg. `--smoke` writes both into a temporary directory instead. `--writes`
//! runs only the ceiling and this project's writes and prints their tables, to try a change
//! to the write path; `--cpu`, only the part without a server.

mod asynchronous;
mod chart;
mod cpu;
mod data;
mod http;
mod load;
pub(crate) mod memory;
mod peers;
mod python;
mod queries;
mod report;
mod setup;
mod stats;
mod sustained;
mod text;
mod variant;
mod writes;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use influx_series::{Client, Point, WriteOptions};
use influx_testserver::Server;

use data::{BATCH, Dataset};
use load::CpuTime;
use python::Python;
use queries::Read;
use setup::Setup;
use text::{grouped, plural};
use variant::{Kind, Order};

/// Rounds without `--rounds`: with five, two runs of the same code gave `record()` from two
/// threads 2.03x and 1.44x one thread's rate (a round or two slowed by the machine moved the
/// median); nine did not hold the write ratios still on a day the machine's neighbours were
/// busy (the two-connection ceiling's slowest round took 1.7x its median); fifteen keep the
/// median where most rounds are, in about six minutes, build included.
pub(crate) const DEFAULT_ROUNDS: usize = 15;
/// Points per write and rows per query.
const ITEMS: usize = 100_000;
/// The same with `--smoke`.
const QUICK_ITEMS: usize = 10_000;
/// Rows read by the memory probes, and by the full mode's first part of reads.
const MEMORY_ROWS: usize = 1_000_000;
/// The database of the memory part's rows.
const MEMORY_DB: &str = "memory_rows";
/// Rounds of each part of reads of the full mode (a round of the 1 000 000 rows reads each
/// variant's 80 MiB once: about 20 s).
const FULL_ROUNDS: usize = 7;
/// Rows of the full mode's `GROUP BY` part, and the series they are in.
const GROUPED_ROWS: usize = 100_000;
const GROUPED_SERIES: usize = 10_000;
/// Rounds of the full mode's sustained writes (a round writes 4 000 000 points, and the
/// ceiling's runs beside each of ours as many again: about 40 s).
const SUSTAINED_ROUNDS: usize = 5;
/// The full mode's `GROUP BY` query: one series per host.
const GROUPED_QUERY: &str = "SELECT * FROM cpu GROUP BY host";

/// What `compare` was asked for.
pub(crate) struct Options {
    rounds: usize,
    /// `--smoke`: one round of 10 000, written to a temporary directory: whether it runs.
    quick: bool,
    /// `--full`: the reads of 1 000 000 rows and of `GROUP BY` over 10 000 series too.
    full: bool,
    /// Only the ceiling and this project's writes, printed and not written.
    writes: bool,
    /// Only the part without a server, printed and not written.
    cpu: bool,
    /// The seed of the rounds' orders (`--seed N`; else drawn from the clock, and printed).
    seed: u64,
    /// `--in-order`: every round in the same order, as before the shuffling.
    in_order: bool,
    /// The command line, as the report shows it.
    command: String,
}

impl Options {
    /// Reads `compare`'s arguments: `--rounds N`, `--full`, `--smoke`, `--writes`, `--cpu`,
    /// `--seed N`, `--in-order`.
    pub(crate) fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            rounds: DEFAULT_ROUNDS,
            quick: false,
            full: false,
            writes: false,
            cpu: false,
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            in_order: false,
            command: ["cargo run --release -p influx-series-benches -- compare"]
                .into_iter()
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--smoke" => options.quick = true,
                "--full" => options.full = true,
                "--writes" => options.writes = true,
                "--cpu" => options.cpu = true,
                "--in-order" => options.in_order = true,
                "--seed" => {
                    let n = args.next().ok_or("--seed needs a number")?;
                    options.seed = n.parse().map_err(|_| format!("--seed {n}: not a number"))?;
                }
                "--rounds" => {
                    let n = args.next().ok_or("--rounds needs a number")?;
                    options.rounds = n
                        .parse()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| format!("--rounds {n}: not a number of rounds"))?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if options.full && options.quick {
            return Err("--full and --smoke: choose one".into());
        }
        Ok(options)
    }
}

/// Runs the comparison; `Err` only when it cannot run at all (no server, no output).
pub(crate) fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let (items, rounds) = if options.quick {
        (QUICK_ITEMS, 1)
    } else {
        (ITEMS, options.rounds)
    };
    let work_dir = std::env::temp_dir().join(format!("influx-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| format!("creating {}: {e}", work_dir.display()))?;
    let order = match options.in_order {
        true => Order::AsGiven,
        false => Order::Shuffled(options.seed),
    };
    eprintln!("{}", order_note(order));
    eprintln!("starting a private influxd");
    let server = Server::try_start()?;
    let url = server.url();
    let setup = Setup {
        admin: Client::new(&url).map_err(|e| format!("client: {e}"))?,
        json: Client::builder()
            .host("127.0.0.1")
            .port(server.http_port())
            .msgpack(false)
            .build()
            .map_err(|e| format!("client: {e}"))?,
        address: SocketAddr::from(([127, 0, 0, 1], server.http_port())),
        url,
        server,
        work_dir: work_dir.clone(),
    };
    if options.writes {
        return writes_only(&setup, items, rounds, order);
    }
    if options.cpu {
        let part = cpu::measure(&setup, rounds, false, order);
        let summaries = stats::summarise(&part.outcomes, part.points);
        let ratios = stats::cpu_ratios(&part.outcomes);
        println!("{}", report::cpu_only(&part, &summaries, &ratios));
        return Ok(());
    }
    let cpu_at_start = CpuTime::now(setup.server.pid());
    // First, while the server is idle and nothing else of ours runs.
    let cpu_part = cpu::measure(&setup, rounds, options.quick, order);
    let python = Python::prepare(&work_dir);
    let data = Dataset::new(items)?;
    let query_db = "query_rows";
    seed_query_database(&setup, &data, query_db)?;
    let chunked = answer_size(&setup, Read::all(query_db, items), true);
    let whole = answer_size(&setup, Read::all(query_db, items), false);

    let mut variants = writes::ceilings(&setup, &data);
    variants.extend(writes::recorders(&setup, &data));
    variants.extend(writes::write_points(&setup, &data));
    variants.extend(asynchronous::write(&setup, &data));
    variants.extend(peers::variants(&setup, &data.peer, query_db, items));
    variants.extend(python::variants(&setup, &python, items, query_db, items));
    let read = Read::all(query_db, items);
    variants.extend(queries::raw(&setup, read));
    variants.extend(queries::fetches(&setup, read));
    variants.extend(queries::ours(&setup, read));
    variants.extend(asynchronous::query(&setup, read));
    // Writes first, then reads, each in the order above (the sort is stable).
    variants.sort_by_key(|v| v.kind == Kind::Read);
    eprintln!(
        "{rounds} round{} of {} variants, {} points or rows each",
        plural(rounds),
        variants.len(),
        grouped(items)
    );
    let (outcomes, extra) = variant::interleaved(variants, rounds, setup.server.pid(), order);

    let mut notes = vec![
        settled_note(&extra.settled),
        order_note(order),
        bracket_note(extra.reference_runs),
        "The ceiling's client is a minimal HTTP/1.1 keep-alive client over \
         `std::net::TcpStream` (no HTTP library, Nagle off, one connection per thread), \
         chosen over reqwest's blocking client, which hands every body to a runtime thread; \
         its raw fetches stand in for curl. (This project's blocking client makes its writes \
         and queries over plain HTTP the same way.)"
            .to_owned(),
        "This project's decoding reads (`query`, `query_as`, `query_deserialize`, the streams) ask \
         for MessagePack answers, as influxdb-python does (`ClientBuilder::msgpack`, on by \
         default): influxd spends less CPU on them and sends fewer bytes, so they are held \
         against the fastest JSON fetch (curl, `query_raw`, the raw fetch: the references the \
         targets name) and against curl's MessagePack fetch of the same answer; `query` and \
         `query_as` asking for JSON run beside them."
            .to_owned(),
        "*Client CPU a run* is the median CPU time the client spent in the timed part of a \
         run alone, every thread counted: this process's user and system time from \
         `getrusage` (microseconds) read when the clock starts and stops, influxdb-python's \
         `time.process_time()` around its own timed part; the database's set-up and the \
         count check are not in it. influxd keeps both cores busy during a query of many \
         rows and at two write connections, so a client's CPU time is taken from the \
         server's. The parts without a server give none (\"-\")."
            .to_owned(),
        format!(
            "Every write goes into a database of its own, created before and dropped after its \
             run, and is verified by `SELECT count(usage_user) FROM cpu` ({} expected); \
             every query checks its row count. The answer to `SELECT * FROM cpu` (epoch=ns) \
             is {chunked} chunked, {whole} not chunked.",
            grouped(items)
        ),
        format!(
            "`write_points` keeps {} writes in flight by default \
             (`ClientConfig::writes_in_flight`). The buffered writer runs with \
             `tag_hostname(false)` and batches and triggers of 5 000, so it sends the same \
             lines as the others.",
            setup.admin.config().writes_in_flight()
        ),
        "The `influxdb` crate 0.8 runs on a current-thread tokio runtime, one call at a time, \
         over plain HTTP; its query asks for no epoch (it has no way to), so its times come \
         as RFC 3339 text."
            .to_owned(),
        "This project's async client (`AsyncClient`, default settings, as the blocking \
         client's) runs on a current-thread tokio runtime of its own, one call at a time, \
         as a blocking caller makes them."
            .to_owned(),
        match &python.version {
            Ok(version) => format!(
                "influxdb-python {version} runs in Debian's /usr/bin/python3, one interpreter \
                 per variant per round, timing its own work (perf_counter): start-up, imports \
                 and building the points are not counted."
            ),
            Err(e) => format!("influxdb-python could not run: {e}"),
        },
    ];

    let memory = if options.quick {
        None
    } else {
        let memory_db = MEMORY_DB;
        eprintln!("memory: writing {} rows", grouped(MEMORY_ROWS));
        let seeded = memory::seed(&setup, memory_db, MEMORY_ROWS)?;
        notes.push(format!(
            "Writing the {} rows of the memory part (`write_points` from two threads) took \
             {:.1} s.",
            grouped(MEMORY_ROWS),
            seeded.as_secs_f64()
        ));
        Some(memory::measure(&setup, &python, memory_db, MEMORY_ROWS))
    };

    // The full mode's reads, each part in rounds of its own.
    let mut read_parts = Vec::new();
    let mut read_targets = Vec::new();
    if options.full {
        let memory_read = Read::all(MEMORY_DB, MEMORY_ROWS);
        let grouped_read = Read {
            db: "grouped_rows",
            query: GROUPED_QUERY,
            rows: GROUPED_ROWS,
        };
        eprintln!(
            "grouped: writing {} rows in {} series",
            grouped(GROUPED_ROWS),
            grouped(GROUPED_SERIES)
        );
        seed_grouped(&setup, grouped_read.db)?;
        for (title, read) in [
            (format!("{} rows", grouped(MEMORY_ROWS)), memory_read),
            (
                format!(
                    "`GROUP BY host`, {} rows in {} series",
                    grouped(GROUPED_ROWS),
                    grouped(GROUPED_SERIES)
                ),
                grouped_read,
            ),
        ] {
            eprintln!("reads: {title}");
            let mut variants = queries::raw(&setup, read);
            variants.extend(queries::fetches(&setup, read));
            variants.extend(queries::ours(&setup, read));
            variants.extend(asynchronous::query(&setup, read));
            let (outcomes, _) =
                variant::interleaved(variants, FULL_ROUNDS, setup.server.pid(), order);
            let summaries = stats::summarise(&outcomes, read.rows);
            let mut ratios = stats::ratios(&outcomes);
            let fastest = stats::fastest_fetch_ratios(&outcomes);
            read_targets.extend(stats::read_targets(&title, &ratios, &fastest, &summaries));
            ratios.extend(fastest);
            let what = format!(
                "`{}` (epoch=ns), {} answer chunked",
                read.query,
                answer_size(&setup, read, true)
            );
            read_parts.push(report::part(
                &format!("Reads: {title}"),
                &what,
                FULL_ROUNDS,
                &summaries,
                &ratios,
            ));
        }
        eprintln!(
            "sustained writes: {} points a run",
            grouped(sustained::POINTS)
        );
        let data = Dataset::new(sustained::POINTS)?;
        let refusals = sustained::Refusals::default();
        let (variants, rate) = sustained::variants(&setup, &data, &refusals)?;
        let (outcomes, _) =
            variant::interleaved(variants, SUSTAINED_ROUNDS, setup.server.pid(), order);
        let summaries = stats::summarise(&outcomes, sustained::POINTS);
        let ratios = stats::ratios(&outcomes);
        read_targets.extend(stats::sustained_targets(&ratios));
        let refused = sustained::refusal_note(&refusals);
        let what = format!(
            "{} points a run; the buffered writer and the derive at the library's default \
             limits, offered the points at the rate the server takes them (the ceiling's, \
             measured once before the rounds: {:.1} k points/s), `write_points` and the \
             ceiling as fast as they go; what a writer refuses is counted, and its database \
             checked to hold every point it took; a run's time runs from its first point to \
             its last one stored, scaled up by the points it refused (its rate is the points \
             it stored a second){}",
            grouped(sustained::POINTS),
            rate / 1e3,
            if refused.is_empty() {
                String::new()
            } else {
                format!(": {refused}")
            }
        );
        read_parts.push(report::part(
            &format!("Sustained writes: {} points", grouped(sustained::POINTS)),
            &what,
            SUSTAINED_ROUNDS,
            &summaries,
            &ratios,
        ));
    }

    let summaries = stats::summarise(&outcomes, items);
    let mut ratios = stats::ratios(&outcomes);
    ratios.extend(stats::best_write_reference_ratios(&outcomes));
    let fastest = stats::fastest_fetch_ratios(&outcomes);
    let mut targets_of_reads = stats::read_targets(
        &format!("{} rows", grouped(items)),
        &ratios,
        &fastest,
        &summaries,
    );
    ratios.extend(fastest);
    targets_of_reads.extend(read_targets);
    let memory = memory.as_deref().map(|m| (MEMORY_ROWS, m));
    let cpu_summaries = stats::summarise(&cpu_part.outcomes, cpu_part.points);
    let cpu_ratios = stats::cpu_ratios(&cpu_part.outcomes);
    let mut targets = stats::targets(&ratios, &cpu_ratios, memory);
    targets.extend(targets_of_reads);
    if memory.is_some() {
        let answer = answer_bytes(&setup, Read::all(MEMORY_DB, MEMORY_ROWS), true);
        targets.push(stats::resultset_memory_target(memory, answer));
    }
    let others = match (cpu_at_start, CpuTime::now(setup.server.pid())) {
        (Some(start), Some(end)) => format!("{:.0}", end.others_since(&start)),
        _ => "an unknown number of".into(),
    };
    notes.push(format!(
        "The run took {:.0} s, not counting the build; other processes on the machine used \
         {others} CPU-seconds meanwhile (their work shows in the min-max spread).",
        started.elapsed().as_secs_f64(),
    ));
    let chart_name = "compare.svg";
    let section = report::markdown(&report::Report {
        command: options.command.clone(),
        rounds,
        items,
        summaries: &summaries,
        ratios: &ratios,
        memory,
        targets: &targets,
        notes: &notes,
        chart: chart_name,
        cpu: report::CpuSection {
            part: &cpu_part,
            summaries: &cpu_summaries,
            ratios: &cpu_ratios,
        },
        read_parts: &read_parts,
    });
    println!("{section}");

    let docs = docs_dir(options.quick)?;
    let title = format!(
        "Throughput, {} points written or rows read per variant: median of {rounds} \
         interleaved round{}",
        grouped(items),
        plural(rounds)
    );
    chart::write(&docs.join(chart_name), &title, &summaries)?;
    let markdown = docs.join("benchmarks.md");
    report::splice(&markdown, &section)?;
    eprintln!(
        "wrote {} and the section of {} between {} and {}",
        docs.join(chart_name).display(),
        markdown.display(),
        report::BEGIN,
        report::END
    );
    let _ = std::fs::remove_dir_all(&work_dir);
    Ok(())
}

/// `--writes`: the ceiling and this project's writes (the async client's too), their tables
/// printed.
fn writes_only(setup: &Setup, items: usize, rounds: usize, order: Order) -> Result<(), String> {
    let data = Dataset::new(items)?;
    let mut variants = writes::ceilings(setup, &data);
    variants.extend(writes::recorders(setup, &data));
    variants.extend(writes::write_points(setup, &data));
    variants.extend(asynchronous::write(setup, &data));
    let (outcomes, extra) = variant::interleaved(variants, rounds, setup.server.pid(), order);
    let summaries = stats::summarise(&outcomes, items);
    let ratios = stats::ratios(&outcomes);
    println!("{}", report::tables(&summaries, &ratios));
    println!("{}", settled_note(&extra.settled));
    println!("{}", order_note(order));
    println!("{}", bracket_note(extra.reference_runs));
    Ok(())
}

/// How the ratios to the ceiling and to the raw fetch are taken.
/// How the variants were ordered in each round.
fn order_note(order: Order) -> String {
    match order {
        Order::Shuffled(seed) => format!(
            "Each round runs the variants in a new order, writes before reads, each shuffled \
             among its kind, from seed {seed}: `--seed {seed}` runs the same orders again."
        ),
        Order::AsGiven => "Every round runs the variants in the same order (`--in-order`).".into(),
    }
}

fn bracket_note(reference_runs: usize) -> String {
    format!(
        "This project's writes are measured against the ceiling (2 connections) run just before \
         and just after each of them in the same round, and its queries against the raw \
         chunked fetch the same way: their ratios to those two take the geometric mean of the \
         two runs beside them. The machine's speed drifts over seconds (two runs of the \
         ceiling a second apart differ about half as much as two runs ten seconds apart), so \
         runs side by side compare better than runs far apart in the round. Those {} extra \
         runs are not in the ceiling's and the raw fetch's own rows, which hold one run a \
         round; every other ratio is taken between the two variants' own runs of each round.",
        grouped(reference_runs)
    )
}

/// What the waits for a quiet server before each run came to.
fn settled_note(settled: &[load::Settled]) -> String {
    if settled.is_empty() {
        return "The runs did not wait for the server to settle (its process could not be \
                read)."
            .into();
    }
    let mut waits: Vec<f64> = settled
        .iter()
        .map(|s| s.waited.as_secs_f64() * 1e3)
        .collect();
    waits.sort_by(f64::total_cmp);
    let loud = settled.iter().filter(|s| !s.quiet).count();
    format!(
        "Before each run the program waits until influxd has used at most 10 ms of CPU \
         in 100 ms (at most 3 s), so that what a run leaves the server to do (collecting \
         its garbage, deleting its database) is not counted in the next: it waited {:.0} ms \
         at the median, {:.0} ms at most, and {loud} of {} runs started without the server \
         quiet.",
        waits[waits.len() / 2],
        waits[waits.len() - 1],
        settled.len(),
    )
}

/// Writes the rows every query reads, once, before the rounds.
fn seed_query_database(setup: &Setup, data: &Dataset, db: &str) -> Result<(), String> {
    setup
        .admin
        .create_database(db)
        .map_err(|e| format!("creating {db}: {e}"))?;
    setup
        .admin
        .write_points(&data.points, &WriteOptions::new(db).batch_size(BATCH))
        .map_err(|e| format!("seeding {db}: {e}"))?;
    let stored = variant::stored_count(&setup.admin, db)?;
    if stored != data.len() as i64 {
        return Err(format!(
            "seeding {db}: {stored} points stored, not {}",
            data.len()
        ));
    }
    Ok(())
}

/// The size of the answer the raw fetch reads, for the notes.
fn answer_size(setup: &Setup, read: Read<'_>, chunked: bool) -> String {
    let target = queries::raw_target(read.db, read.query, chunked);
    match queries::fetch(setup, &mut None, &target) {
        Ok(bytes) => format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)),
        Err(e) => format!("unknown ({e})"),
    }
}

/// The answer's bytes, `None` if it cannot be fetched.
fn answer_bytes(setup: &Setup, read: Read<'_>, chunked: bool) -> Option<usize> {
    let target = queries::raw_target(read.db, read.query, chunked);
    queries::fetch(setup, &mut None, &target).ok()
}

/// Writes the `GROUP BY` part's rows into `db`: the reference shape, its hosts spread over
/// [`GROUPED_SERIES`] values (`host00000` on), so that each host is a series of
/// [`GROUPED_ROWS`] / [`GROUPED_SERIES`] rows.
fn seed_grouped(setup: &Setup, db: &str) -> Result<(), String> {
    setup
        .admin
        .create_database(db)
        .map_err(|e| format!("creating {db}: {e}"))?;
    let mut samples = influx_series_benches::samples(GROUPED_ROWS);
    for (i, s) in samples.iter_mut().enumerate() {
        s.host = format!("host{:05}", i % GROUPED_SERIES);
    }
    let points: Vec<Point> = samples.iter().map(data::point).collect::<Result<_, _>>()?;
    setup
        .admin
        .write_points(&points, &WriteOptions::new(db).batch_size(BATCH))
        .map_err(|e| format!("seeding {db}: {e}"))?;
    let stored = variant::stored_count(&setup.admin, db)?;
    if stored != GROUPED_ROWS as i64 {
        return Err(format!(
            "seeding {db}: {stored} points stored, not {GROUPED_ROWS}"
        ));
    }
    Ok(())
}

/// docs/ of the workspace; a directory of the system's temporary one for `--smoke`, which
/// must not replace the real results with a smoke check's.
fn docs_dir(quick: bool) -> Result<PathBuf, String> {
    let dir = if quick {
        std::env::temp_dir().join("influx-bench-quick")
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("docs")
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir.canonicalize().unwrap_or(dir))
}
