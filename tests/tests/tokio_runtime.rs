//! Inside tokio: the blocking client works on a runtime's threads (and drops without a panic),
//! derived types bound to an `AsyncClient` autocommit in tasks and flush exactly, and a server
//! that never answers holds no `record()` call. Each test runs on a multi-thread and on a
//! current-thread runtime, with types of its own (buffers are per type).

mod support {
    pub mod db;
}

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use influx_series::{AsyncClient, Client, Error, Series};

fn count(client: &Client, q: &str) -> i64 {
    client.query(q).unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum()
}

/// The blocking client built, used and dropped on a runtime's thread: `reqwest::blocking`
/// alone panics at each of the three.
async fn blocking_client_in_a_runtime(prefix: &str) {
    let db = influx_testserver::shared().unique_db(prefix);
    let client = Client::new(&influx_testserver::shared().url())
        .unwrap()
        .with_database(db.clone());
    client.create_database(&db).unwrap();
    client
        .write_raw("m v=1i 1\nm v=2i 2\n", &Default::default())
        .unwrap();
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 2);
    let clone = client.clone();
    drop(client);
    // And inside a spawned task, the last clone.
    tokio::spawn(async move {
        assert!(clone.ping().is_ok());
        drop(clone);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn blocking_client_in_a_multi_thread_runtime() {
    blocking_client_in_a_runtime("rt_multi").await;
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_client_in_a_current_thread_runtime() {
    blocking_client_in_a_runtime("rt_current").await;
}

#[derive(Series)]
#[series(name = "blocking_bound", bulk_size = 10, autocommit)]
struct BlockingBound {
    n: i64,
}

/// A type bound to a blocking client autocommits from a spawned task without a panic.
#[tokio::test(flavor = "multi_thread")]
async fn a_blocking_autocommit_inside_a_task() {
    let client = support::db::fresh("rt_blocking_bound");
    BlockingBound::bind(client.clone());
    tokio::spawn(async {
        for n in 0..100 {
            BlockingBound { n }.record().unwrap();
        }
    })
    .await
    .unwrap();
    assert_eq!(BlockingBound::pending(), 0);
    assert_eq!(count(&client, "SELECT count(n) FROM blocking_bound"), 100);
}

/// 4 tasks record 25 000 points each into `T` (bound to an async client, autocommitting),
/// then one flush: exactly 100 000 arrive.
async fn four_tasks_then_flush<T: Series + Send + 'static>(
    make: fn(i64, i64) -> T,
    prefix: &str,
    measurement: &str,
) {
    let blocking = support::db::fresh(prefix);
    let client = AsyncClient::new(&influx_testserver::shared().url())
        .unwrap()
        .with_database(blocking.database().unwrap());
    T::bind_async(client);
    T::set_max_pending(100_000, 64 << 20);
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            tokio::spawn(async move {
                for i in 0..25_000 {
                    make(task, i).record().unwrap();
                    if i % 1000 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    T::flush_async().await.unwrap();
    assert_eq!(T::pending(), 0);
    assert_eq!(
        count(&blocking, &format!("SELECT count(n) FROM {measurement}")),
        100_000
    );
}

#[derive(Series)]
#[series(name = "flushed_multi", bulk_size = 5000, autocommit)]
struct FlushedMulti {
    #[series(tag)]
    task: i64,
    n: i64,
}

#[derive(Series)]
#[series(name = "flushed_current", bulk_size = 5000, autocommit)]
struct FlushedCurrent {
    #[series(tag)]
    task: i64,
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn four_tasks_record_100_000_and_a_flush_writes_them_all_multi_thread() {
    four_tasks_then_flush(
        |task, n| FlushedMulti { task, n },
        "rt_flush_multi",
        "flushed_multi",
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn four_tasks_record_100_000_and_a_flush_writes_them_all_current_thread() {
    four_tasks_then_flush(
        |task, n| FlushedCurrent { task, n },
        "rt_flush_current",
        "flushed_current",
    )
    .await;
}

/// A listener that accepts connections and never answers (a fake: influxd always answers).
fn silent_listener() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// 10 000 autocommitting `record()` calls against a server that never answers: they finish
/// well within the client's timeout (30 s) in all, and a ticking task keeps running.
async fn records_never_wait_on_a_silent_server<T: Series>(make: fn(i64) -> T) {
    let client = AsyncClient::builder()
        .host("127.0.0.1")
        .port(silent_listener())
        .database("db")
        .timeout(Duration::from_secs(30))
        .build_async()
        .unwrap();
    T::bind_async(client);
    T::set_max_pending(10_000, 64 << 20);
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticking = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                ticks.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    // Let the ticker start.
    let waiting = Instant::now();
    while ticks.load(Ordering::Relaxed) == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the ticker never ran"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ticks_before = ticks.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut longest = Duration::ZERO;
    for i in 0..10_000 {
        let call = Instant::now();
        make(i).record().unwrap();
        longest = longest.max(call.elapsed());
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let total = started.elapsed();
    // Calls that waited for the silent server would take its 30 s timeout, at the least.
    assert!(total < Duration::from_secs(10), "{total:?}");
    // Every point is held, in flight or pending: the bound of 10 000 counts both, so the
    // next point is refused, at once.
    let call = Instant::now();
    match make(10_000).record() {
        Err(Error::BufferFull {
            max_points: 10_000, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // At once: not after the 30 s of the commit in flight.
    assert!(
        call.elapsed() < Duration::from_secs(5),
        "{:?}",
        call.elapsed()
    );
    let waiting = Instant::now();
    while ticks.load(Ordering::Relaxed) == ticks_before {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the runtime's other tasks did not run"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ticked = ticks.load(Ordering::Relaxed) - ticks_before;
    ticking.abort();
    println!("10 000 record() calls: {total:?} in all, the longest {longest:?}; {ticked} ticks");
    // The commit in flight waits for the client's 30 s deadline; nothing here awaits it.
}

#[derive(Series)]
#[series(name = "silent_multi", bulk_size = 100, autocommit)]
struct SilentMulti {
    n: i64,
}

#[derive(Series)]
#[series(name = "silent_current", bulk_size = 100, autocommit)]
struct SilentCurrent {
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn records_never_wait_on_a_silent_server_multi_thread() {
    records_never_wait_on_a_silent_server(|n| SilentMulti { n }).await;
}

#[tokio::test(flavor = "current_thread")]
async fn records_never_wait_on_a_silent_server_current_thread() {
    records_never_wait_on_a_silent_server(|n| SilentCurrent { n }).await;
}
