//! Fuzzing on the stable toolchain: cargo-fuzz needs nightly, so these targets are a
//! mutation and random-input harness run as ordinary tests.
//!
//! - `line_protocol_parser`: random and mutated line protocol through `parse_lines`,
//!   `check_lines` and `parse_line`.
//! - `encode_then_parse`: random points (the generator of `support/gen.rs`) encoded at every
//!   precision and parsed back.
//! - `query_answers`: real influxd answers (`tests/fuzz/answers/`), mutated, through every
//!   decoder (`decode_response`, `decode_rows`, `deserialize_rows`, `decode_dataframes`).
//! - `query_answer_row_counts_agree`: the decoders as oracles for each other.
//!
//! In the normal suite each target runs a fixed number of cases from a fixed seed, so the suite
//! is deterministic. `scripts/fuzz SECONDS` runs them in a release build for a time instead
//! (`FUZZ_SECONDS`, shared equally by the targets), from a fresh seed that it prints.
//! `FUZZ_SEED=n` replays a run; with `FUZZ_CASE=k` as well, only case k runs and its input is
//! printed. Every case draws from its own generator, seeded by (seed, target, case number), so
//! a case replays without the cases before it. A failure prints the seed, the case number and
//! the input: enough to turn it into a regression test.

mod support {
    pub mod r#gen;
}

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use influx_series::chrono::{DateTime, Utc};
use influx_series::frame::{FieldType, FrameQueryOptions, decode_dataframes};
use influx_series::{
    CellContext, EncodeErrorKind, Error, Json, LineBuf, ParseErrorKind, Point, Precision,
    ResultSet, Series, check_lines, decode_response, decode_rows, deserialize_rows, parse_line,
    parse_lines,
};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Deserialize;
use support::r#gen::{RawPoint, raw_point};

// ---------------------------------------------------------------------------------------------
// The driver: seeds, budgets, the watchdog, failure reports.
// ---------------------------------------------------------------------------------------------

/// How many `#[test]` targets share a timed run's `FUZZ_SECONDS`.
const TARGETS: u32 = 4;

/// The seed of the normal suite, so that it is deterministic.
const DEFAULT_SEED: u64 = 20_240_601;

/// A case slower than this is a failure (a hang, or cost that explodes with some input). A
/// debug build decodes the largest inputs (1 MB) in well under a second, so this only fires on
/// real trouble.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// A case still running after this is reported by the watchdog as a hang (it may never return
/// to be reported by the run).
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// The largest query answer a case feeds the decoders: big enough for deep nesting and huge
/// numbers, small enough that every case stays fast.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// SplitMix64: tiny, fast, and good enough to drive mutations; a case's whole input follows
/// from its seed.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must be positive.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `0..=n`.
    fn upto(&mut self, n: usize) -> usize {
        self.below(n + 1)
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A copy of one of `items` (for `&str` and `&[u8]` items, whose references `pick` would
    /// make ambiguous).
    fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }

    /// `1..=max`, each step up half as likely as the one before: mostly few, sometimes many.
    fn few(&mut self, max: usize) -> usize {
        let mut n = 1;
        while n < max && self.one_in(2) {
            n += 1;
        }
        n
    }
}

/// FNV-1a, to give each target its own stream of cases from one run seed.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn case_rng(seed: u64, target: &str, case: u64) -> Rng {
    let mut mixer = Rng(seed ^ fnv1a(target) ^ case.wrapping_mul(0xd1b5_4a32_d192_ed03));
    Rng(mixer.next_u64())
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    let parsed = text.trim().parse().ok();
    Some(parsed.unwrap_or_else(|| panic!("{name}={text:?} is not a number")))
}

/// What a run does: how long, from which seed, or one case only.
struct Settings {
    seed: u64,
    /// Per target, in a timed run (`FUZZ_SECONDS`).
    time: Option<Duration>,
    only_case: Option<u64>,
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let seconds: Option<f64> = env_number("FUZZ_SECONDS");
        let time = seconds.map(|s| Duration::from_secs_f64(s.max(0.0) / f64::from(TARGETS)));
        // One seed per run, shared by the targets: a timed run starts from a fresh one.
        let seed = env_number("FUZZ_SEED").unwrap_or_else(|| match time {
            None => DEFAULT_SEED,
            Some(_) => {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                Rng(nanos ^ u64::from(std::process::id()).rotate_left(32)).next_u64() >> 1
            }
        });
        Settings {
            seed,
            time,
            only_case: env_number("FUZZ_CASE"),
        }
    })
}

/// One fuzz target: how to make a case's input from its generator, how to check it, and how
/// to show it in a report. Plain function pointers, so the watchdog thread can rebuild the
/// input of a case that hangs.
struct Target<I> {
    name: &'static str,
    /// Cases in the normal (untimed) suite.
    default_cases: u64,
    generate: fn(&mut Rng) -> I,
    /// `Ok(outcome)` names what happened (counted in the summary); `Err` is a broken property.
    check: fn(&I) -> Result<&'static str, String>,
    show: fn(&I) -> String,
}

/// What a run did, for the targets' own coverage checks.
struct Summary {
    cases: u64,
    outcomes: BTreeMap<&'static str, u64>,
    /// The normal suite's fixed run, where coverage is deterministic and can be asserted.
    fixed: bool,
}

impl Summary {
    /// Asserts that `outcome` came up in at least `percent` of the cases of the fixed run: a
    /// property checked on too few inputs of a kind says nothing about them.
    fn require(&self, outcome: &str, percent: u64) {
        if !self.fixed {
            return;
        }
        let seen = self.outcomes.get(outcome).copied().unwrap_or(0);
        assert!(
            seen * 100 >= self.cases * percent,
            "only {seen} of {} cases were `{outcome}` (want {percent}%): {:?}",
            self.cases,
            self.outcomes
        );
    }
}

fn replay_hint(name: &str, seed: u64, case: u64) -> String {
    format!(
        "FUZZ_SEED={seed} FUZZ_CASE={case} cargo test -p influx-series-tests --test fuzz {name} -- --nocapture"
    )
}

fn report(name: &str, seed: u64, case: u64, problem: &str, input: &str) -> String {
    format!(
        "fuzz target `{name}` failed at case {case} of seed {seed}\n\
         problem: {problem}\n\
         input: {input}\n\
         replay: {}",
        replay_hint(name, seed, case)
    )
}

/// Shared between a run and its watchdog: the case in progress and when it started.
struct Watch {
    case: AtomicU64,
    /// Milliseconds since the run started; `u64::MAX` between cases.
    started_ms: AtomicU64,
    done: AtomicBool,
}

/// Stops the watchdog when the run ends, by returning or by a failure's panic.
struct StopWatchdog(Arc<Watch>, std::thread::Thread);

impl Drop for StopWatchdog {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::SeqCst);
        self.1.unpark();
    }
}

/// A case that never returns cannot be reported by the run itself: the watchdog rebuilds its
/// input from the seed, prints the report to the real stderr (the test harness's capture
/// would be lost) and ends the process.
fn spawn_watchdog<I: 'static>(
    target: &Target<I>,
    seed: u64,
    watch: Arc<Watch>,
    run_start: Instant,
) -> std::thread::Thread {
    let (name, generate, show) = (target.name, target.generate, target.show);
    let handle = std::thread::spawn(move || {
        while !watch.done.load(Ordering::SeqCst) {
            std::thread::park_timeout(Duration::from_millis(200));
            let started = watch.started_ms.load(Ordering::SeqCst);
            if started == u64::MAX {
                continue;
            }
            let now = run_start.elapsed().as_millis() as u64;
            if now.saturating_sub(started) < HANG_LIMIT.as_millis() as u64 {
                continue;
            }
            let case = watch.case.load(Ordering::SeqCst);
            let input = show(&generate(&mut case_rng(seed, name, case)));
            let problem = format!("hangs: still running after {HANG_LIMIT:?}");
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                report(name, seed, case, &problem, &input)
            );
            std::process::exit(101);
        }
    });
    handle.thread().clone()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn run<I: 'static>(target: &Target<I>) -> Summary {
    let settings = settings();
    let seed = settings.seed;
    let run_start = Instant::now();
    let watch = Arc::new(Watch {
        case: AtomicU64::new(0),
        started_ms: AtomicU64::new(u64::MAX),
        done: AtomicBool::new(false),
    });
    let watchdog = spawn_watchdog(target, seed, Arc::clone(&watch), run_start);
    let _stop = StopWatchdog(Arc::clone(&watch), watchdog);

    let (first, end) = match settings.only_case {
        Some(k) => (k, k + 1),
        None => (0, u64::MAX),
    };
    let mut outcomes = BTreeMap::new();
    let mut slowest = (Duration::ZERO, 0);
    let mut case = first;
    while case < end {
        let out_of_budget = match (settings.only_case, settings.time) {
            (Some(_), _) => false,
            (None, Some(time)) => run_start.elapsed() >= time,
            (None, None) => case >= target.default_cases,
        };
        if out_of_budget {
            break;
        }
        let input = (target.generate)(&mut case_rng(seed, target.name, case));
        if settings.only_case.is_some() {
            println!("input of case {case}: {}", (target.show)(&input));
        }
        watch.case.store(case, Ordering::SeqCst);
        watch
            .started_ms
            .store(run_start.elapsed().as_millis() as u64, Ordering::SeqCst);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| (target.check)(&input)));
        let took = started.elapsed();
        watch.started_ms.store(u64::MAX, Ordering::SeqCst);
        let problem = match result {
            Ok(Ok(outcome)) => {
                *outcomes.entry(outcome).or_insert(0) += 1;
                None
            }
            Ok(Err(broken)) => Some(broken),
            Err(payload) => Some(format!("panicked: {}", panic_message(&*payload))),
        };
        let problem = problem.or_else(|| {
            (took > CASE_TIME_LIMIT)
                .then(|| format!("took {took:?}, over the {CASE_TIME_LIMIT:?} bound"))
        });
        if let Some(problem) = problem {
            panic!(
                "{}",
                report(target.name, seed, case, &problem, &(target.show)(&input))
            );
        }
        if took > slowest.0 {
            slowest = (took, case);
        }
        case += 1;
    }
    let cases = case - first;
    println!(
        "fuzz {}: {cases} cases in {:.1} s, seed {seed} (FUZZ_SEED={seed} replays); slowest case {:?} (#{}); {outcomes:?}",
        target.name,
        run_start.elapsed().as_secs_f64(),
        slowest.0,
        slowest.1,
    );
    Summary {
        cases,
        outcomes,
        fixed: settings.time.is_none() && settings.only_case.is_none(),
    }
}

/// `bytes` as a Rust literal (a string when it is UTF-8), cut in the middle when long.
fn show_bytes(bytes: &[u8]) -> String {
    let literal = match std::str::from_utf8(bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("b\"{}\"", bytes.escape_ascii()),
    };
    format!("({} bytes) {}", bytes.len(), cut_middle(&literal))
}

/// `text`, or its start and end when it is long: a report stays readable, and the replay
/// command rebuilds the whole input.
fn cut_middle(text: &str) -> String {
    const HEAD: usize = 3000;
    const TAIL: usize = 600;
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= HEAD + TAIL + 100 {
        return text.to_owned();
    }
    let head: String = chars[..HEAD].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    let left_out = chars.len() - HEAD - TAIL;
    format!("{head} …[{left_out} characters left out]… {tail}")
}

/// Replaces `range` of `bytes` with `with`.
fn splice(bytes: &mut Vec<u8>, range: std::ops::Range<usize>, with: &[u8]) {
    bytes.splice(range, with.iter().copied());
}

/// A position in `bytes` and a short run after it (for deletions and copies).
fn span(rng: &mut Rng, bytes: &[u8], max: usize) -> std::ops::Range<usize> {
    let start = rng.upto(bytes.len());
    let len = rng.few(max).min(bytes.len() - start);
    start..start + len
}

// ---------------------------------------------------------------------------------------------
// Target 1: the line-protocol parser on random and mutated text.
// ---------------------------------------------------------------------------------------------

const LINES_TXT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/lines.txt"));

/// The seeds: every line of `fuzz/lines.txt` (comments and blank lines included, as the
/// parser must skip them).
fn line_seeds() -> Vec<&'static str> {
    LINES_TXT.split('\n').collect()
}

/// Bytes that line protocol treats specially, escape pairs, and a multi-byte character.
const LINE_SPECIALS: &[&str] = &[
    "\\", ",", "=", "\"", " ", "\t", "\n", "#", "\0", "é", "\r", "\\\\", "\\ ", "\\,", "\\=",
    "\\\"", "i", "-", ".", "e", "0", "t", "f",
];

/// Whole tokens that sit on a boundary of what the parser accepts.
const LINE_TOKENS: &[&str] = &[
    "9223372036854775807i",
    "9223372036854775808i",
    "-9223372036854775808i",
    "-9223372036854775809i",
    "18446744073709551615u",
    "1u",
    "9223372036854775806",
    "9223372036854775807",
    "-9223372036854775806",
    "-9223372036854775807",
    "-9223372036854775808",
    "-9223372034000000000",
    "2562047",
    "-2562047",
    "153722867",
    "1e309",
    "-1e309",
    "1.7976931348623157e308",
    "5e-324",
    "-0",
    "0",
    "NaN",
    "inf",
    "-Inf",
    ".",
    "1.",
    ".5",
    "1e",
    "1e+",
    "0x10",
    "1_000",
    "+1",
    "--1",
    "true",
    "FALSE",
    "tRUE",
    "\"\"",
    "\"",
    "time",
    "_field",
    "",
];

struct LineCase {
    text: String,
    precision: Precision,
}

fn generate_line_case(rng: &mut Rng) -> LineCase {
    let precision = *rng.pick(&Precision::ALL);
    let text = match rng.below(40) {
        0 | 1 => random_line_text(rng),
        2 => long_key_text(rng),
        _ => {
            let mut bytes = seed_line_text(rng).into_bytes();
            if !rng.one_in(10) {
                for _ in 0..rng.few(8) {
                    mutate_line(rng, &mut bytes);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    LineCase { text, precision }
}

/// A few seed lines, or now and then the whole seed file.
fn seed_line_text(rng: &mut Rng) -> String {
    if rng.one_in(30) {
        return LINES_TXT.to_owned();
    }
    let seeds = line_seeds();
    let n = rng.few(4);
    let mut text = String::new();
    for i in 0..n {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(rng.choose(&seeds));
    }
    if rng.one_in(4) {
        text.push('\n');
    }
    text
}

fn random_line_text(rng: &mut Rng) -> String {
    const ALPHABET: &[char] = &[
        '\\', ',', '=', '"', ' ', '\t', '\n', '#', '\0', 'é', '\r', 'a', 'b', 'm', 'v', 'i', 't',
        'f', 'u', 'e', 'E', '0', '1', '9', '-', '+', '.',
    ];
    (0..rng.below(64)).map(|_| *rng.pick(ALPHABET)).collect()
}

/// A line whose key is near influxd's 65 535-byte limit (measured with escapes).
fn long_key_text(rng: &mut Rng) -> String {
    let around = |rng: &mut Rng, limit: usize| limit - 8 + rng.below(16);
    match rng.below(3) {
        0 => format!("m {}=1i", "k".repeat(around(rng, 65_530))),
        1 => format!("{} f=1i", "\\ ".repeat(around(rng, 32_765))),
        _ => format!("m,t={} f=1i", "v".repeat(around(rng, 65_526))),
    }
}

fn mutate_line(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let at = rng.upto(bytes.len());
    match rng.below(8) {
        0 if !bytes.is_empty() => {
            let i = rng.below(bytes.len());
            bytes[i] ^= 1 << rng.below(8);
        }
        1 => splice(bytes, at..at, rng.pick(LINE_SPECIALS).as_bytes()),
        2 => {
            let range = span(rng, bytes, 4);
            splice(bytes, range, b"");
        }
        3 => {
            let range = span(rng, bytes, 16);
            let copy = bytes[range].to_vec();
            splice(bytes, at..at, &copy);
        }
        4 => {
            // Splice in (part of) another seed line.
            let seeds = line_seeds();
            let other = rng.pick(&seeds).as_bytes();
            let piece = span(rng, other, 64);
            splice(bytes, at..at, &other[piece]);
        }
        5 => {
            // Replace the token around `at` (up to the next separator) with a boundary token.
            let is_sep = |b: &u8| matches!(b, b' ' | b',' | b'=' | b'\n' | b'"');
            let start = bytes[..at].iter().rposition(is_sep).map_or(0, |i| i + 1);
            let end = bytes[at..]
                .iter()
                .position(is_sep)
                .map_or(bytes.len(), |i| at + i);
            splice(bytes, start..end, rng.pick(LINE_TOKENS).as_bytes());
        }
        6 => {
            // A run of one special: backslash runs, long blanks, many commas.
            let run = rng
                .pick(LINE_SPECIALS)
                .repeat(*rng.pick(&[2, 3, 16, 255, 1000]));
            splice(bytes, at..at, run.as_bytes());
        }
        _ => bytes.truncate(at),
    }
}

/// A parsed point must re-encode to a line that parses back to the same point.
fn reencodes(point: &Point, precision: Precision) -> Result<(), String> {
    let line = point.to_line(precision);
    match parse_line(&line, precision) {
        Ok(back) if back == *point => {}
        other => {
            return Err(format!(
                "{point:?} re-encodes at {precision} to {line:?}, which parses as {other:?}"
            ));
        }
    }
    match check_lines(&line, precision) {
        Ok(1) => Ok(()),
        other => Err(format!(
            "re-encoded line {line:?}: check_lines gives {other:?}, not 1"
        )),
    }
}

fn check_line_case(case: &LineCase) -> Result<&'static str, String> {
    let (text, precision) = (case.text.as_str(), case.precision);
    let parsed = parse_lines(text, precision);
    let checked = check_lines(text, precision);
    // Error messages are built from the input too.
    for e in [parsed.as_ref().err(), checked.as_ref().err()]
        .into_iter()
        .flatten()
    {
        black_box(e.to_string());
    }

    if let Ok(points) = &parsed {
        if checked.as_ref().ok() != Some(&points.len()) {
            return Err(format!(
                "parse_lines reads {} points, check_lines gives {checked:?}",
                points.len()
            ));
        }
        for point in points {
            reencodes(point, precision)?;
        }
    }
    if let (Err(e), Ok(_)) = (&parsed, &checked) {
        // check_lines accepts more in one way only: timestamps down to the server's minimum.
        let timestamp = matches!(e.kind(), ParseErrorKind::Invalid(inner)
            if inner.kind() == EncodeErrorKind::TimestampOutOfRange);
        if !timestamp {
            return Err(format!(
                "check_lines accepts the text but parse_lines refuses it for another reason than the timestamp: {e}"
            ));
        }
    }

    // Each line on its own (a bounded number of them: some inputs have thousands).
    for line in text.split('\n').take(64) {
        if let Ok(point) = parse_line(line, precision) {
            reencodes(&point, precision)?;
        }
    }

    // One line that is neither blank nor a comment reads the same either way.
    let rest = text.trim_start_matches([' ', '\t', '\0']);
    if !text.contains('\n') && !rest.is_empty() && !rest.starts_with('#') {
        let single = parse_line(text, precision);
        match (&single, &parsed) {
            (Ok(one), Ok(all)) if all.len() == 1 && all[0] == *one => {}
            (Err(_), Err(_)) => {}
            _ => {
                return Err(format!(
                    "parse_line gives {single:?} but parse_lines gives {parsed:?}"
                ));
            }
        }
    }

    Ok(match (&parsed, &checked) {
        (Ok(points), _) if points.is_empty() => "no points",
        (Ok(_), _) => "parsed",
        (Err(_), Ok(_)) => "accepted by check_lines only",
        (Err(_), Err(_)) => "rejected",
    })
}

fn show_line_case(case: &LineCase) -> String {
    format!(
        "precision {:?}, text {}",
        case.precision,
        show_bytes(case.text.as_bytes())
    )
}

#[test]
fn line_protocol_parser() {
    // The seeds must be valid, or mutating them explores less than it seems.
    check_lines(LINES_TXT, Precision::Nanoseconds).expect("fuzz/lines.txt is valid");
    let summary = run(&Target {
        name: "line_protocol_parser",
        default_cases: 2000,
        generate: generate_line_case,
        check: check_line_case,
        show: show_line_case,
    });
    summary.require("parsed", 10);
    summary.require("rejected", 10);
}

// ---------------------------------------------------------------------------------------------
// Target 2: points that build encode to lines that parse back to them.
// ---------------------------------------------------------------------------------------------

/// A point from the property tests' generator (names full of the characters that need care,
/// floats of every kind, timestamps at the range's edges), driven by this case's seed. The
/// generator makes mostly points that do not build (about 9 in 10); the first of up to eight
/// that builds is taken, so that about half the cases test the encoder.
fn generate_raw_point(rng: &mut Rng) -> RawPoint {
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = raw_point();
    let mut raw = None;
    for _ in 0..8 {
        let next = strategy
            .new_tree(&mut runner)
            .expect("the generator never gives up")
            .current();
        let builds = next.builder().build().is_ok();
        raw = Some(next);
        if builds {
            break;
        }
    }
    raw.expect("at least one point")
}

fn check_raw_point(raw: &RawPoint) -> Result<&'static str, String> {
    let Ok(point) = raw.builder().build() else {
        return Ok("rejected by the builder");
    };
    for precision in Precision::ALL {
        let line = point.to_line(precision);
        let back = parse_line(&line, precision)
            .map_err(|e| format!("{point:?} encodes at {precision} to {line:?}: {e}"))?;
        let unit = precision.nanos_per_unit();
        let floored = point.timestamp_nanos().map(|n| n.div_euclid(unit) * unit);
        let same = if floored == point.timestamp_nanos() {
            // The timestamp is exact at this precision: the whole point comes back.
            back == point
        } else {
            // Otherwise the line holds the unit that contains the instant.
            back.timestamp_nanos() == floored
                && back.measurement() == point.measurement()
                && back.tags().eq(point.tags())
                && back.fields().eq(point.fields())
        };
        if !same {
            return Err(format!(
                "{point:?} encodes at {precision} to {line:?}, which parses as {back:?}"
            ));
        }
        let mut buf = LineBuf::new();
        buf.push_point(&point, precision);
        if buf.as_str().strip_suffix('\n') != Some(line.as_str()) {
            return Err(format!(
                "LineBuf holds {:?}, to_line gives {line:?}",
                buf.as_str()
            ));
        }
        if check_lines(buf.as_str(), precision) != Ok(1) {
            return Err(format!("check_lines refuses {:?}", buf.as_str()));
        }
    }
    Ok("encoded and parsed back")
}

fn show_raw_point(raw: &RawPoint) -> String {
    cut_middle(&format!("{raw:?}"))
}

#[test]
fn encode_then_parse() {
    let summary = run(&Target {
        name: "encode_then_parse",
        default_cases: 1000,
        generate: generate_raw_point,
        check: check_raw_point,
        show: show_raw_point,
    });
    summary.require("encoded and parsed back", 20);
    summary.require("rejected by the builder", 20);
}

// ---------------------------------------------------------------------------------------------
// Targets 3 and 4: mutated query answers through every decoder.
// ---------------------------------------------------------------------------------------------

/// The measurement `shape` of the captured answers, strictly typed: mutated cells and missing
/// columns make decode errors, which is half the point.
#[derive(Series, Debug)]
#[series(name = "shape")]
struct Shape {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: Option<String>,
    v: Option<i64>,
    f: Option<f64>,
    s: Option<String>,
    b: Option<bool>,
    #[series(time)]
    time: DateTime<Utc>,
}

/// Only `Option` members, so any row decodes unless a cell has the wrong type: the oracle's
/// typed side.
#[derive(Series, Debug)]
#[series(name = "loose")]
struct Loose {
    #[series(tag)]
    host: Option<String>,
    v: Option<f64>,
    #[series(time)]
    time: Option<DateTime<Utc>>,
}

/// A serde row of the same shape as [`Shape`], `time` left untyped.
#[derive(Deserialize, Debug)]
struct ShapeRow {
    time: serde_json::Value,
    host: Option<String>,
    v: Option<i64>,
    f: Option<f64>,
    s: Option<String>,
    b: Option<bool>,
}

/// Any row at all, as serde sees it.
type AnyRow = BTreeMap<String, serde_json::Value>;

/// Reads every member, so that a decoded row is used as a program would.
fn touch_shape(rows: &[Shape]) {
    for r in rows {
        black_box((&r.host, &r.region, r.v, r.f, &r.s, r.b, r.time));
    }
}

fn touch_loose(rows: &[Loose]) {
    for r in rows {
        black_box((&r.host, r.v, r.time));
    }
}

fn touch_shape_rows(rows: &[ShapeRow]) {
    for r in rows {
        black_box((&r.time, &r.host, r.v, r.f, &r.s, r.b));
    }
}

/// Walks everything a `ResultSet` offers.
fn touch_set(set: &ResultSet) {
    black_box(set.to_string());
    black_box((set.statement_id(), set.error(), set.messages(), set.len()));
    black_box((set.is_empty(), set.keys().len(), set.items().count()));
    black_box(set.get_points(Some("shape"), &[("host", "a")]).count());
    black_box(set.get_points(None, &[("region", "eu")]).count());
    for series in set.series() {
        black_box((series.name(), series.tags(), series.columns()));
        black_box((series.column_index("time"), series.partial()));
        black_box(series.matches(Some("shape"), &[("host", "a")]));
    }
    for row in set.rows() {
        black_box(row.get("v"));
        black_box(row.has_tags(&[("host", "b")]));
        for (column, value) in row.iter() {
            black_box((column, value.to_string(), value.is_null(), value.as_f64()));
            black_box((value.as_i64(), value.as_bool(), value.as_str()));
        }
    }
}

/// The captured answers, by file name (sorted, so that a seed means the same everywhere).
fn answer_seeds() -> &'static [(String, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/answers");
        let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| {
                let path = entry.expect("directory entry").path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let body = std::fs::read(&path).expect("answer file");
                (name, body)
            })
            .collect();
        seeds.sort();
        assert!(
            seeds.len() >= 20,
            "{} answers in {}",
            seeds.len(),
            dir.display()
        );
        seeds
    })
}

struct AnswerCase {
    seed: &'static str,
    mutations: Vec<&'static str>,
    body: Vec<u8>,
}

fn show_answer_case(case: &AnswerCase) -> String {
    format!(
        "{} after {:?}: {}",
        case.seed,
        case.mutations,
        show_bytes(&case.body)
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    Open,
    Close,
    Comma,
    Colon,
    Str,
    Num,
    Word,
    Junk,
}

/// A JSON token and its byte range.
#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Splits JSON-ish bytes into tokens. Tolerant: earlier mutations leave broken JSON, which is
/// still worth mutating structurally.
fn lex(b: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let kind = match b[i] {
            b' ' | b'\n' | b'\r' | b'\t' => {
                i += 1;
                continue;
            }
            b'{' | b'[' => Tok::Open,
            b'}' | b']' => Tok::Close,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i = i.min(b.len().saturating_sub(1));
                Tok::Str
            }
            b'-' | b'0'..=b'9' => {
                while i + 1 < b.len()
                    && matches!(b[i + 1], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                Tok::Num
            }
            c if c.is_ascii_alphabetic() => {
                while i + 1 < b.len() && b[i + 1].is_ascii_alphanumeric() {
                    i += 1;
                }
                Tok::Word
            }
            _ => Tok::Junk,
        };
        i += 1;
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

fn is_scalar(kind: Tok) -> bool {
    matches!(kind, Tok::Str | Tok::Num | Tok::Word)
}

/// The index of the token that closes the container opened at `open`.
fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The byte ranges of the items (array elements or object members) of the container opened at
/// `open`.
fn container_items(tokens: &[Token], open: usize) -> Option<Vec<std::ops::Range<usize>>> {
    let close = matching_close(tokens, open)?;
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut item_start: Option<usize> = None;
    let mut item_end = 0;
    for t in &tokens[open + 1..close] {
        match t.kind {
            Tok::Comma if depth == 0 => {
                if let Some(s) = item_start.take() {
                    items.push(s..item_end);
                }
                continue;
            }
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        item_start.get_or_insert(t.start);
        item_end = t.end;
    }
    if let Some(s) = item_start {
        items.push(s..item_end);
    }
    Some(items)
}

/// The index of a random token that `want` accepts.
fn random_token(rng: &mut Rng, tokens: &[Token], want: impl Fn(&Token) -> bool) -> Option<usize> {
    let candidates: Vec<usize> = (0..tokens.len()).filter(|&i| want(&tokens[i])).collect();
    (!candidates.is_empty()).then(|| *rng.pick(&candidates))
}

/// The value token after `"key":`, for each occurrence of `key`.
fn values_of_key(tokens: &[Token], bytes: &[u8], key: &[u8]) -> Vec<usize> {
    (0..tokens.len().saturating_sub(2))
        .filter(|&i| {
            let t = tokens[i];
            t.kind == Tok::Str && &bytes[t.start..t.end] == key && tokens[i + 1].kind == Tok::Colon
        })
        .map(|i| i + 2)
        .collect()
}

/// Values of every JSON type at the edges of what the decoders read.
const JSON_VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "1.5",
    "1e21",
    "1E+308",
    "1e309",
    "-1e309",
    "5e-324",
    "1e-400",
    "0.1e1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "01",
    "-",
    "1.",
    ".5",
    "+1",
    "NaN",
    "Infinity",
    r#""""#,
    r#""x""#,
    r#""1970-01-01T00:00:00Z""#,
    r#""2262-04-12T00:00:00Z""#,
    r#""1677-09-21T00:12:43.145224191Z""#,
    r#""1970-01-01T00:00:00.123456789+14:00""#,
    r#""not a time""#,
    r#""\u00e9\ud83d\ude00""#,
    r#""\"\\\/\b\f\n\r\t""#,
    "[]",
    "{}",
    "[null]",
    "[[]]",
    "[[1,2]]",
    r#"{"a":1}"#,
    r#"[{"level":"warning","text":"w"}]"#,
];

/// The members of a `/query` answer, and near misses.
const ANSWER_KEYS: &[&str] = &[
    "results",
    "series",
    "statement_id",
    "name",
    "tags",
    "columns",
    "values",
    "partial",
    "error",
    "messages",
    "level",
    "text",
    "Values",
    "value",
    "",
];

const STATEMENT_IDS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "1000000",
    "-1",
    "1.5",
    "1e3",
    "4294967296",
    // The largest id the decoders take (an `i64`), where `id + 1` must not overflow.
    "9223372036854775806",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    r#""0""#,
    "null",
];

/// What goes inside a string: escapes that are not UTF-16 (lone surrogates), broken escapes,
/// raw bytes that are not UTF-8, control bytes JSON forbids raw.
const BAD_STRING_PIECES: &[&[u8]] = &[
    b"\\ud800",
    b"\\udfff",
    b"\\ud800\\u0041",
    b"\\udc00\\ud800",
    b"\\ud83d",
    b"\\u00",
    b"\\u12g4",
    b"\\x41",
    b"\\",
    b"\\\"",
    b"\\u0000",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xc0\x80",
    b"\xf4\x90\x80\x80",
    b"\x00",
    b"\n",
    b"\x7f",
    "é✓😀".as_bytes(),
];

type Mutation = fn(&mut Rng, &mut Vec<u8>) -> bool;

/// Mutations that keep an answer's structure (mostly valid JSON, the same kind of document):
/// the row-count oracle uses only these, so that decoders often succeed.
const GENTLE_MUTATIONS: &[(&str, Mutation)] = &[
    ("replace a scalar", replace_scalar),
    ("delete an item", delete_item),
    ("duplicate an item", duplicate_item),
    ("swap two items", swap_items),
    ("change a statement_id", change_statement_id),
    ("flip or add partial", flip_partial),
    ("add a member", add_member),
    ("concatenate answers", concatenate),
];

const ROUGH_MUTATIONS: &[(&str, Mutation)] = &[
    ("bad bytes in a string", bad_string),
    ("rename a key", rename_key),
    ("truncate", truncate),
    ("nest deeply", nest_deeply),
    ("huge number", huge_number),
    ("flip a bit", flip_bit),
    ("insert a JSON byte", insert_json_byte),
    ("delete bytes", delete_bytes),
    ("duplicate bytes", duplicate_bytes),
];

fn replace_scalar(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let Some(i) = random_token(rng, &tokens, |t| is_scalar(t.kind)) else {
        return false;
    };
    splice(
        bytes,
        tokens[i].start..tokens[i].end,
        rng.pick(JSON_VALUES).as_bytes(),
    );
    true
}

fn bad_string(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let Some(i) = random_token(rng, &tokens, |t| t.kind == Tok::Str && t.end - t.start >= 2) else {
        return false;
    };
    let t = tokens[i];
    // Inside the quotes, and (mostly) not between a backslash and what it escapes.
    let mut at = t.start + 1 + rng.upto(t.end - t.start - 2);
    if at > t.start + 1 && bytes[at - 1] == b'\\' {
        at -= 1;
    }
    splice(bytes, at..at, rng.choose(BAD_STRING_PIECES));
    true
}

/// The items of a random non-empty container of `bytes`.
fn random_container(rng: &mut Rng, bytes: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let tokens = lex(bytes);
    // A few tries: a broken document has containers without a match.
    for _ in 0..4 {
        let open = random_token(rng, &tokens, |t| t.kind == Tok::Open)?;
        if let Some(items) = container_items(&tokens, open) {
            if !items.is_empty() {
                return Some(items);
            }
        }
    }
    None
}

fn delete_item(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some(items) = random_container(rng, bytes) else {
        return false;
    };
    let k = rng.below(items.len());
    // The item and one comma next to it.
    let range = if k + 1 < items.len() {
        items[k].start..items[k + 1].start
    } else if k > 0 {
        items[k - 1].end..items[k].end
    } else {
        items[k].clone()
    };
    splice(bytes, range, b"");
    true
}

fn duplicate_item(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some(items) = random_container(rng, bytes) else {
        return false;
    };
    let item = rng.pick(&items).clone();
    let copies = *rng.pick(&[1, 1, 1, 2, 50]);
    let mut text = Vec::new();
    for _ in 0..copies {
        text.extend_from_slice(&bytes[item.clone()]);
        text.push(b',');
    }
    splice(bytes, item.start..item.start, &text);
    true
}

fn swap_items(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some(items) = random_container(rng, bytes) else {
        return false;
    };
    if items.len() < 2 {
        return false;
    }
    let (mut a, mut b) = (rng.below(items.len()), rng.below(items.len()));
    if a == b {
        return false;
    }
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    let (first, second) = (items[a].clone(), items[b].clone());
    let (x, y) = (
        bytes[first.clone()].to_vec(),
        bytes[second.clone()].to_vec(),
    );
    // The later one first, so that the earlier range stays where it is.
    splice(bytes, second, &x);
    splice(bytes, first, &y);
    true
}

fn change_statement_id(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let found = values_of_key(&tokens, bytes, b"\"statement_id\"");
    let Some(&i) = (!found.is_empty()).then(|| rng.pick(&found)) else {
        return false;
    };
    splice(
        bytes,
        tokens[i].start..tokens[i].end,
        rng.pick(STATEMENT_IDS).as_bytes(),
    );
    true
}

fn flip_partial(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let found = values_of_key(&tokens, bytes, b"\"partial\"");
    if !found.is_empty() && rng.one_in(2) {
        let t = tokens[*rng.pick(&found)];
        let flipped: &[u8] = if &bytes[t.start..t.end] == b"true" {
            b"false"
        } else {
            b"true"
        };
        splice(bytes, t.start..t.end, flipped);
        return true;
    }
    // Mark some object partial: a series, a result, or the document.
    let Some(i) = random_token(rng, &tokens, |t| t.kind == Tok::Open) else {
        return false;
    };
    let at = tokens[i].end;
    splice(bytes, at..at, b"\"partial\":true,");
    true
}

fn add_member(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let Some(i) = random_token(rng, &tokens, |t| {
        t.kind == Tok::Open && bytes[t.start] == b'{'
    }) else {
        return false;
    };
    let member = format!("\"{}\":{},", rng.pick(ANSWER_KEYS), rng.pick(JSON_VALUES));
    let at = tokens[i].end;
    splice(bytes, at..at, member.as_bytes());
    true
}

/// Another answer (or this one again) before or after this one, as chunks arrive.
fn concatenate(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let seeds = answer_seeds();
    let other = if rng.one_in(3) {
        bytes.clone()
    } else {
        rng.pick(seeds).1.clone()
    };
    let separator: &[u8] = rng.choose(&[&b"\n"[..], b"", b" \r\n"]);
    if rng.one_in(2) {
        bytes.extend_from_slice(separator);
        bytes.extend_from_slice(&other);
    } else {
        let mut front = other;
        front.extend_from_slice(separator);
        splice(bytes, 0..0, &front);
    }
    true
}

fn rename_key(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let keys: Vec<usize> = (0..tokens.len().saturating_sub(1))
        .filter(|&i| tokens[i].kind == Tok::Str && tokens[i + 1].kind == Tok::Colon)
        .collect();
    let Some(&i) = (!keys.is_empty()).then(|| rng.pick(&keys)) else {
        return false;
    };
    let key = format!("\"{}\"", rng.pick(ANSWER_KEYS));
    splice(bytes, tokens[i].start..tokens[i].end, key.as_bytes());
    true
}

fn truncate(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let at = rng.below(bytes.len().max(1));
    bytes.truncate(at);
    true
}

/// Wraps a value in many arrays (balanced or not): the decoders must refuse or skip it
/// without exhausting the stack.
fn nest_deeply(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let Some(i) = random_token(rng, &tokens, |t| t.kind != Tok::Close) else {
        return false;
    };
    let depth = *rng.pick(&[2, 64, 127, 128, 129, 1000, 100_000]);
    let open = if rng.one_in(4) { b'{' } else { b'[' };
    let start = tokens[i].start;
    if rng.one_in(3) {
        splice(bytes, start..start, &vec![open; depth]);
        return true;
    }
    let end = match tokens[i].kind {
        Tok::Open => matching_close(&tokens, i).map_or(tokens[i].end, |c| tokens[c].end),
        _ => tokens[i].end,
    };
    let close = if open == b'{' { b'}' } else { b']' };
    splice(bytes, end..end, &vec![close; depth]);
    splice(bytes, start..start, &vec![open; depth]);
    true
}

fn huge_number(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let tokens = lex(bytes);
    let Some(i) = random_token(rng, &tokens, |t| t.kind == Tok::Num) else {
        return false;
    };
    let digits = *rng.pick(&[20, 40, 400, 5000, 100_000]);
    let mut number = String::new();
    if rng.one_in(2) {
        number.push('-');
    }
    number.push('1');
    for _ in 1..digits {
        number.push(char::from(b'0' + rng.below(10) as u8));
    }
    match rng.below(4) {
        0 => number.push_str(".5"),
        1 => number.push_str(rng.choose(&["e400", "e-400", "e99999999999", "E+1"])),
        _ => {}
    }
    splice(bytes, tokens[i].start..tokens[i].end, number.as_bytes());
    true
}

// A `Mutation`, so it takes the `Vec` even though it does not resize it.
#[allow(clippy::ptr_arg)]
fn flip_bit(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let i = rng.below(bytes.len());
    bytes[i] ^= 1 << rng.below(8);
    true
}

fn insert_json_byte(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let at = rng.upto(bytes.len());
    let byte = *rng.pick(b"{}[],:\"\\0123456789-+.eE \n\t\x00\xff");
    splice(bytes, at..at, &[byte]);
    true
}

fn delete_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let range = span(rng, bytes, 8);
    splice(bytes, range, b"");
    true
}

fn duplicate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let range = span(rng, bytes, 32);
    let copy = bytes[range].to_vec();
    let at = rng.upto(bytes.len());
    splice(bytes, at..at, &copy);
    true
}

/// A captured answer after at most `max` mutations (sometimes none), of the gentle kinds only
/// or of every kind.
fn mutated_answer(rng: &mut Rng, max: usize, gentle_only: bool) -> AnswerCase {
    let (seed, body) = rng.pick(answer_seeds());
    let mut case = AnswerCase {
        seed,
        mutations: Vec::new(),
        body: body.clone(),
    };
    if rng.one_in(12) {
        return case;
    }
    for _ in 0..rng.few(max) {
        let (name, mutate) = if gentle_only || rng.one_in(2) {
            *rng.pick(GENTLE_MUTATIONS)
        } else {
            *rng.pick(ROUGH_MUTATIONS)
        };
        if mutate(rng, &mut case.body) {
            case.mutations.push(name);
        }
        if case.body.len() > MAX_ANSWER_BYTES {
            case.body.truncate(MAX_ANSWER_BYTES);
            case.mutations.push("cut at the size bound");
        }
    }
    case
}

fn generate_answer(rng: &mut Rng) -> AnswerCase {
    mutated_answer(rng, 6, false)
}

/// Errors of a decoder: every one must be a typed error of the decoding kinds, and print.
fn decode_error_ok(what: &str, e: &Error) -> Result<(), String> {
    black_box(e.to_string());
    match e {
        // `Client`: an answer that is only `{"error": ...}` (a query that did not parse).
        Error::Protocol(_) | Error::Decode(_) | Error::Statement { .. } | Error::Client { .. } => {
            Ok(())
        }
        other => Err(format!(
            "{what} fails with an unexpected kind of error: {other:?}"
        )),
    }
}

/// What the two modes of `decode_response` must agree on.
fn outline(sets: &[ResultSet]) -> Vec<(usize, usize, usize)> {
    sets.iter()
        .map(|s| (s.statement_id(), s.series().len(), s.len()))
        .collect()
}

fn check_answer(case: &AnswerCase) -> Result<&'static str, String> {
    let body = case.body.as_slice();
    let lenient = decode_response(body, false);
    let strict = decode_response(body, true);
    match &lenient {
        Ok(sets) => sets.iter().for_each(touch_set),
        Err(e) => {
            decode_error_ok("decode_response(_, false)", e)?;
            if matches!(e, Error::Statement { .. }) {
                return Err(format!("decode_response without raise_errors raises {e:?}"));
            }
        }
    }
    match &strict {
        Ok(sets) => sets.iter().for_each(touch_set),
        Err(e) => decode_error_ok("decode_response(_, true)", e)?,
    }
    // raise_errors turns the first statement error into an `Err`, and changes nothing else.
    match (&lenient, &strict) {
        (Ok(l), Ok(s)) if outline(l) == outline(s) => {}
        (Ok(l), Err(Error::Statement { .. })) if l.iter().any(|s| s.error().is_some()) => {}
        (Ok(l), Err(e)) if l.iter().all(|s| s.error().is_none()) => {
            return Err(format!(
                "without raise_errors the answer decodes and has no statement error; with it: {e:?}"
            ));
        }
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => {
            return Err(format!("decodes with raise_errors but not without: {e:?}"));
        }
        (Ok(l), s) => {
            let s = s.as_ref().map(|sets| outline(sets));
            return Err(format!(
                "raise_errors changes the result: {:?} vs {s:?}",
                outline(l)
            ));
        }
    }

    let strict_ctx = CellContext::default();
    let epoch_ctx = CellContext::with_epoch(Some(Precision::Nanoseconds));
    for statement in [0, 1] {
        match decode_rows::<Shape, Json>(body, statement, strict_ctx) {
            Ok(rows) => touch_shape(&rows),
            Err(e) => decode_error_ok("decode_rows::<Shape>", &e)?,
        }
        match decode_rows::<Loose, Json>(body, statement, epoch_ctx) {
            Ok(rows) => touch_loose(&rows),
            Err(e) => decode_error_ok("decode_rows::<Loose>", &e)?,
        }
        match deserialize_rows::<ShapeRow>(body, statement) {
            Ok(rows) => touch_shape_rows(&rows),
            Err(e) => decode_error_ok("deserialize_rows::<ShapeRow>", &e)?,
        }
        match deserialize_rows::<AnyRow>(body, statement) {
            Ok(rows) => {
                black_box(rows);
            }
            Err(e) => decode_error_ok("deserialize_rows::<AnyRow>", &e)?,
        }
        // Frames, typed from the cells alone and by a schema that may not fit them.
        let typed = FrameQueryOptions::new()
            .column("value", FieldType::Float)
            .column("n", FieldType::Integer)
            .column("host", FieldType::String);
        for options in [FrameQueryOptions::new(), typed] {
            match decode_dataframes(body, statement, &options) {
                Ok(frames) => {
                    black_box(frames.values().map(|f| f.height()).sum::<usize>());
                }
                Err(e) => decode_error_ok("decode_dataframes", &e)?,
            }
        }
    }
    Ok(if lenient.is_ok() {
        "decoded"
    } else {
        "refused"
    })
}

#[test]
fn query_answers() {
    let summary = run(&Target {
        name: "query_answers",
        default_cases: 2000,
        generate: generate_answer,
        check: check_answer,
        show: show_answer_case,
    });
    summary.require("decoded", 15);
    summary.require("refused", 15);
}

fn generate_gently_mutated_answer(rng: &mut Rng) -> AnswerCase {
    mutated_answer(rng, 2, true)
}

/// The `v` cells of a statement's rows, sorted: row order may differ between decoders when a
/// chunked series is continued after another one (`ResultSet` merges the pieces).
fn sorted(mut values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    values.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        _ => a.is_some().cmp(&b.is_some()),
    });
    values
}

/// The decoders read one walk of the answer; where more than one succeeds for statement 0, they
/// must find the same rows.
fn check_row_counts(case: &AnswerCase) -> Result<&'static str, String> {
    let body = case.body.as_slice();
    let typed = decode_rows::<Loose, Json>(body, 0, CellContext::default());
    let serde = deserialize_rows::<AnyRow>(body, 0);
    if let (Ok(t), Ok(s)) = (&typed, &serde) {
        if t.len() != s.len() {
            return Err(format!(
                "statement 0: decode_rows finds {} rows, deserialize_rows {}",
                t.len(),
                s.len()
            ));
        }
    }
    let Ok(sets) = decode_response(body, false) else {
        return Ok(if typed.is_ok() || serde.is_ok() {
            "decode_response refuses, a row decoder reads statement 0"
        } else {
            "all refuse"
        });
    };
    let zero: Vec<&ResultSet> = sets.iter().filter(|s| s.statement_id() == 0).collect();
    let in_sets: usize = zero.iter().map(|s| s.len()).sum();
    let mut compared = false;
    if let Ok(rows) = &typed {
        compared = true;
        if rows.len() != in_sets {
            return Err(format!(
                "statement 0: decode_response finds {in_sets} rows, decode_rows {}",
                rows.len()
            ));
        }
        // Each row's `v`: a column, or absent (both read it as a number or nothing).
        let from_sets = zero
            .iter()
            .flat_map(|s| s.rows())
            .map(|row| row.get("v").and_then(|v| v.as_f64()))
            .collect();
        let from_rows = rows.iter().map(|r| r.v).collect();
        let (from_sets, from_rows) = (sorted(from_sets), sorted(from_rows));
        if from_sets != from_rows {
            return Err(format!(
                "statement 0: `v` is {from_sets:?} in the ResultSet, {from_rows:?} in the typed rows"
            ));
        }
    }
    if let Ok(rows) = &serde {
        compared = true;
        if rows.len() != in_sets {
            return Err(format!(
                "statement 0: decode_response finds {in_sets} rows, deserialize_rows {}",
                rows.len()
            ));
        }
    }
    Ok(if compared {
        "compared"
    } else {
        "only decode_response reads it"
    })
}

#[test]
fn query_answer_row_counts_agree() {
    let summary = run(&Target {
        name: "query_answer_row_counts_agree",
        default_cases: 2000,
        generate: generate_gently_mutated_answer,
        check: check_row_counts,
        show: show_answer_case,
    });
    summary.require("compared", 30);
}
