//! The buffered writer's byte budget holds the process's memory: against a server that
//! answers every write with `500` (a **fake HTTP server**: influxd cannot be made to fail every
//! write while it runs), two threads record until the writer drops points and then as many
//! again; the peak resident memory over a baseline taken after `start()` and one write stays
//! within 1.25 times the budget plus 8 MiB, for budgets of 1, 16 and 64 MiB. Each budget runs
//! in a process of its own (`src/bin/writer-memory.rs`), which reads its `VmHWM`.

use influx_testserver::fake::{FakeServer, respond};

fn run(budget_mib: u64) {
    let fake = FakeServer::start(|_, stream| {
        respond(
            stream,
            "500 Internal Server Error",
            &[("Content-Type", "application/json")],
            br#"{"error":"timeout"}"#,
        );
    });
    let budget_arg = budget_mib.to_string();
    let figures = influx_series_tests::figures(
        env!("CARGO_BIN_EXE_writer-memory"),
        &[fake.url(), &budget_arg],
    );
    let figure = |name: &str| figures.get(name);
    let text = &figures.text;
    let budget = (budget_mib << 20) as f64;
    assert!(figure("dropped") > 0.0, "the budget was reached: {text}");
    assert!(figure("requests") > 0.0, "the writer sent: {text}");
    let limit = 1.25 * budget + f64::from(8 << 20);
    assert!(
        figure("peak_over_baseline") <= limit,
        "a budget of {budget_mib} MiB peaked {:.1} MiB over the baseline, over 1.25 x the \
         budget + 8 MiB ({:.1} MiB)",
        figure("peak_over_baseline") / f64::from(1 << 20),
        limit / f64::from(1 << 20)
    );
}

#[test]
fn a_budget_of_1_mib_holds_memory() {
    run(1);
}

#[test]
fn a_budget_of_16_mib_holds_memory() {
    run(16);
}

#[test]
fn a_budget_of_64_mib_holds_memory() {
    run(64);
}
