use super::*;
use crate::writer::WriterBuilder;
use crate::writer::dests::Target;
use influx_core::Precision;
use std::sync::atomic::Ordering;

fn settings() -> Settings {
    // One request in flight: a batch is `max_batch_size` lines.
    let client = influx_core::ClientConfig::default();
    let client = influx_core::ClientBuilder::from(client).writes_in_flight(1);
    WriterBuilder::default()
        .client(client.into_config())
        .max_buffer_size(100)
        .trigger_size(2)
        .max_batch_size(2)
        .settings()
        .unwrap()
}

const T: Target<'static> = Target {
    database: "db",
    retention_policy: None,
    precision: Precision::Nanoseconds,
};

fn state(s: &Settings) -> (State, Arc<Budget>, Arc<Registry>) {
    let budget = Arc::new(Budget::default());
    let registry = Arc::new(Registry::new(budget.clone()));
    (
        State::new(budget.clone(), registry.clone(), s),
        budget,
        registry,
    )
}

/// A state with `n` lines `m v=i` waiting, their budget reserved.
fn with_lines(n: usize, s: &Settings) -> (State, Arc<Budget>) {
    let (mut st, budget, registry) = state(s);
    let slot = registry.lookup(&T).slot;
    for i in 0..n {
        let line = format!("m v={i}\n");
        budget.reserved_points.0.fetch_add(1, Ordering::Relaxed);
        budget
            .reserved_bytes
            .fetch_add(line.len() as u64, Ordering::Relaxed);
        st.append(slot, line.as_bytes(), Instant::now(), s);
    }
    (st, budget)
}

fn stats(st: &State) -> Stats {
    let shards = ShardCounters {
        recorded: st.points as u64 + st.counters.drops.total() + st.counters.written,
        ..ShardCounters::default()
    };
    st.stats(&shards, (0, 0))
}

#[test]
fn eviction_drops_the_oldest_waiting_and_releases_its_budget() {
    let s = settings();
    let (mut st, budget) = with_lines(5, &s);
    assert!(st.evict_oldest());
    assert!(st.evict_oldest());
    assert_eq!(st.dest(0).queue.text(), "m v=2\nm v=3\nm v=4\n");
    assert_eq!(budget.held(), (3, 18));
    assert_eq!(st.counters.drops.overflow, 2);
    assert!(stats(&st).adds_up());
}

#[test]
fn points_in_flight_are_never_evicted_and_a_failed_batch_comes_back_first() {
    let s = settings();
    let (mut st, budget) = with_lines(2, &s);
    let Next::Send(_, batch) = st.next(Instant::now(), (s.max_batch_size, s.max_batch_bytes.value))
    else {
        panic!("due by the trigger")
    };
    let batch = batch.into_batch();
    assert_eq!(batch.len(), 2);
    assert!(!st.evict_oldest(), "nothing waits: both are in flight");
    let unsent = Unsent::tail(0, batch.len());
    st.settle(0, 0, Front::of(&batch.bytes, &batch.ends), &unsent);
    assert_eq!(st.dest(0).queue.text(), "m v=0\nm v=1\n");
    assert_eq!(budget.held(), (2, 12));
}

#[test]
fn a_flush_waits_for_lines_until_they_settle() {
    let s = settings();
    let (mut st, budget) = with_lines(3, &s);
    let Next::Send(_, batch) = st.next(Instant::now(), (s.max_batch_size, s.max_batch_bytes.value))
    else {
        panic!("due by the trigger")
    };
    let batch = batch.into_batch();
    assert_eq!(batch.len(), 2);
    assert_eq!(st.mark_all(), 3);
    // The first line is written, the second comes back.
    let rest = batch.tail(1);
    st.settle(
        1,
        6,
        Front::of(&rest.bytes, &rest.ends),
        &Unsent::tail(1, 2),
    );
    assert_eq!(st.marked(), 2);
    let Next::Send(_, batch) = st.next(Instant::now(), (s.max_batch_size, s.max_batch_bytes.value))
    else {
        panic!("due by the flush")
    };
    let batch = batch.into_batch();
    let bytes = batch.bytes.len();
    st.settle(2, bytes, Front::default(), &Unsent::default());
    assert_eq!(st.marked(), 0);
    assert_eq!(st.owned(), 0);
    assert_eq!(budget.held(), (0, 0));
}

#[test]
fn the_schedule_sends_what_is_due_oldest_first_and_waits_for_the_next_timer() {
    let s = WriterBuilder::default()
        .interval(Duration::from_secs(10))
        .trigger_size(3)
        .settings()
        .unwrap();
    let (mut st, _, registry) = state(&s);
    let t0 = Instant::now();
    let slot = |db: &str| registry.lookup(&Target { database: db, ..T }).slot;
    let (a, b, c) = (slot("a"), slot("b"), slot("c"));
    st.append(a, b"a\n", t0, &s);
    st.append(b, b"b\n", t0 + Duration::from_secs(1), &s);
    for _ in 0..3 {
        st.append(c, b"c\n", t0 + Duration::from_secs(2), &s);
    }
    // c is over its trigger; a and b wait for their interval.
    let cap = (100, 1 << 20);
    match st.next(t0 + Duration::from_secs(3), cap) {
        Next::Send(slot, taken) => assert_eq!((slot, taken.len()), (c, 3)),
        Next::Wait(_) => panic!("c is due"),
    }
    st.settle(3, 6, Front::default(), &Unsent::default());
    match st.next(t0 + Duration::from_secs(3), cap) {
        Next::Wait(at) => assert_eq!(at, Some(t0 + Duration::from_secs(10))),
        Next::Send(..) => panic!("nothing is due"),
    }
    // Past both intervals: the oldest first.
    match st.next(t0 + Duration::from_secs(20), cap) {
        Next::Send(slot, _) => assert_eq!(slot, a),
        Next::Wait(_) => panic!("a is due"),
    }
    st.settle(1, 2, Front::default(), &Unsent::default());
    match st.next(t0 + Duration::from_secs(20), cap) {
        Next::Send(slot, _) => assert_eq!(slot, b),
        Next::Wait(_) => panic!("b is due"),
    }
    st.settle(1, 2, Front::default(), &Unsent::default());
    // Everything sent: every destination is idle, and forgetting takes them all.
    assert!(st.has_idle());
    let mut forgotten = st.take_idle();
    forgotten.sort_unstable();
    assert_eq!(forgotten, [a, b, c]);
    assert!(st.dests.is_empty());
}
