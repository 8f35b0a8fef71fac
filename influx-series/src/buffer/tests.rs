use super::*;

/// Settles the first `settled` lines of `batch`; the rest go back.
fn settle_first(buf: &SeriesBuffer, batch: Lines, settled: usize, failed: bool) {
    let unsent = Unsent::tail(settled.min(batch.len()), batch.len());
    buf.settle(batch, &unsent, failed);
}

const fn meta(bulk: Option<usize>, autocommit: bool) -> SeriesMeta {
    SeriesMeta {
        type_name: "T",
        bulk_size: bulk,
        autocommit,
        background: false,
        max_pending: None,
        max_pending_bytes: None,
        precision: Precision::Nanoseconds,
        database: None,
        retention_policy: None,
        client: None,
        select: "SELECT * FROM \"t\"",
    }
}

fn line(text: &'static str) -> impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError> {
    move |out| {
        out.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

#[test]
fn autocommit_is_due_at_bulk_size() {
    let buf = SeriesBuffer::new(meta(Some(3), true));
    assert!(!buf.record(line("a v=1")).unwrap());
    assert!(!buf.record(line("a v=2")).unwrap());
    assert!(buf.record(line("a v=3")).unwrap());
    assert_eq!(buf.take().len(), 3);
    assert_eq!(buf.pending(), 0);
}

#[test]
fn settle_keeps_order_and_backoff_holds_autocommits() {
    let buf = SeriesBuffer::new(meta(Some(2), true));
    buf.record(line("a v=1")).unwrap();
    buf.record(line("a v=2\"x\ny\"")).unwrap();
    let batch = buf.take();
    buf.record(line("a v=3")).unwrap();
    settle_first(&buf, batch, 1, true);
    // Backing off: the threshold is reached but no autocommit is due.
    assert!(!buf.record(line("a v=4")).unwrap());
    assert_eq!(buf.pending_lines(), "a v=2\"x\ny\"\na v=3\na v=4\n");
    // The line put back goes alone, then the shard's.
    assert!(buf.has_put_back());
    let put_back = buf.take();
    assert_eq!(put_back.ends, [11]);
    settle_first(&buf, put_back, 1, false);
    assert!(!buf.has_put_back());
    let rest = buf.take();
    assert_eq!(rest.ends, [6, 12]);
    assert_accounted(&buf);
}

#[test]
fn a_failed_encoding_leaves_nothing_behind() {
    let buf = SeriesBuffer::new(meta(None, false));
    buf.record(line("a v=1")).unwrap();
    let err = buf.record(|out| {
        out.extend_from_slice(b"half a line");
        Err(EncodeError::new(
            influx_core::EncodeErrorKind::NoFields,
            influx_core::Part::Point,
        ))
    });
    assert!(err.is_err());
    assert_eq!(buf.pending_lines(), "a v=1\n");
}

/// This thread's shard's capacity in bytes.
fn capacity(buf: &SeriesBuffer) -> usize {
    let state = buf.state.lock();
    let shard = state.shards[0].inner.lock();
    shard.lines.bytes.capacity()
}

#[test]
fn after_a_commit_the_next_lines_reserve_the_last_size_at_once_within_the_room() {
    let buf = SeriesBuffer::new(meta(None, false));
    for _ in 0..1_000 {
        buf.record(line("a v=1")).unwrap();
    }
    let batch = buf.take();
    assert_eq!(batch.bytes.len(), 6_000);
    settle_first(&buf, batch, 1_000, false);
    buf.record(line("a v=2")).unwrap();
    assert!(capacity(&buf) >= 6_000, "{}", capacity(&buf));
    // The same after clear().
    for _ in 0..999 {
        buf.record(line("a v=3")).unwrap();
    }
    assert_eq!(buf.clear(), 1_000);
    buf.record(line("a v=4")).unwrap();
    assert!(capacity(&buf) >= 6_000, "{}", capacity(&buf));

    // Never past the bound in bytes.
    let small = SeriesBuffer::new(meta(None, false));
    small.set_limits(Limits {
        points: 10_000,
        bytes: 3_000,
    });
    for _ in 0..500 {
        small.record(line("a v=1")).unwrap();
    }
    let batch = small.take();
    settle_first(&small, batch, 500, false);
    small.record(line("a v=2")).unwrap();
    assert!(capacity(&small) <= 3_000, "{}", capacity(&small));
}

/// Bytes of capacity every shard holds.
fn shards_capacity(buf: &SeriesBuffer) -> usize {
    let state = buf.state.lock();
    state
        .shards
        .iter()
        .map(|s| s.inner.lock().lines.bytes.capacity())
        .sum()
}

const LONG: &str =
    "m,host=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa v=1 1";

/// A thread fills the bound and `empty` empties the buffer; the thread records one line
/// (reserving what it may at once), then another thread fills the bound: the shards'
/// capacity stays within the bound (and an eighth, for doubling's last step).
fn reservation_stays_within_the_bound(empty: impl FnOnce(&SeriesBuffer)) {
    let bound = 1 << 20;
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: usize::MAX / 2,
        bytes: bound,
    });
    while buf.record(line(LONG)).is_ok() {}
    empty(&buf);
    buf.record(line(LONG)).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| while buf.record(line(LONG)).is_ok() {});
    });
    let capacity = shards_capacity(&buf);
    assert!(
        capacity <= bound + bound / 8,
        "capacity {capacity} over the bound {bound}"
    );
}

#[test]
fn after_clear_a_shard_reserves_no_more_than_its_credit() {
    reservation_stays_within_the_bound(|buf| {
        buf.clear();
    });
}

#[test]
fn after_a_commit_a_shard_reserves_no_more_than_its_credit() {
    reservation_stays_within_the_bound(|buf| {
        let batch = buf.take();
        let n = batch.len();
        settle_first(buf, batch, n, false);
    });
}

#[test]
fn a_full_buffer_takes_nothing_and_counts_lines_in_flight() {
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: 3,
        bytes: 1000,
    });
    for _ in 0..3 {
        buf.record(line("a v=1")).unwrap();
    }
    let full = buf.record(line("a v=2")).unwrap_err();
    assert!(
        matches!(full, Error::BufferFull { max_points: 3, .. }),
        "{full:?}"
    );
    let batch = buf.take();
    // In flight, the three still count.
    assert!(buf.record(line("a v=2")).is_err());
    settle_first(&buf, batch, 3, false);
    buf.record(line("a v=2")).unwrap();
    assert_eq!(buf.pending_lines(), "a v=2\n");

    buf.set_limits(Limits {
        points: 100,
        bytes: 12,
    });
    buf.record(line("a v=3")).unwrap();
    assert!(matches!(
        buf.record(line("a v=4")),
        Err(Error::BufferFull { max_bytes: 12, .. })
    ));
    assert_eq!(buf.pending_lines(), "a v=2\na v=3\n");
}

/// Lines `t<thread> v=<i>` from each thread, in the order given.
fn per_thread(text: &str) -> std::collections::BTreeMap<String, Vec<u64>> {
    let mut seen: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for line in text.lines() {
        let (thread, i) = line.split_once(" v=").unwrap();
        seen.entry(thread.to_owned())
            .or_default()
            .push(i.parse().unwrap());
    }
    seen
}

#[test]
fn threads_keep_their_order_and_every_point_is_counted() {
    static BUF: SeriesBuffer = SeriesBuffer::new(meta(None, false));
    let mut taken = String::new();
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..20_000u64 {
                    BUF.record(|out| {
                        out.extend_from_slice(format!("t{t} v={i}").as_bytes());
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
        // Commits while the threads record.
        for _ in 0..20 {
            let batch = BUF.take();
            taken.push_str(std::str::from_utf8(&batch.bytes).unwrap());
            BUF.settle(batch, &Unsent::default(), false);
            std::thread::yield_now();
        }
    });
    assert_eq!(BUF.pending() + taken.lines().count(), 80_000);
    taken.push_str(&BUF.pending_lines());
    let seen = per_thread(&taken);
    assert_eq!(seen.len(), 4);
    for (thread, values) in seen {
        assert_eq!(
            values,
            (0..20_000).collect::<Vec<_>>(),
            "{thread} out of order"
        );
    }
    assert_accounted(&BUF);
}

/// The bounds count exactly the lines held and the credit granted.
fn assert_accounted(buf: &SeriesBuffer) {
    let state = buf.state.lock();
    let mut held = Limits {
        points: state.front.len() + state.in_flight_points,
        bytes: state.front.bytes.len() + state.in_flight_bytes,
    };
    for shard in &state.shards {
        let s = shard.inner.lock();
        held.points += s.lines.len() + s.credit.points;
        held.bytes += s.lines.bytes.len() + s.credit.bytes;
    }
    assert_eq!(state.committed, held);
}

#[test]
fn the_bound_is_exact_across_threads() {
    // Four threads record until the buffer is full: exactly the bound is taken, though
    // each thread was granted credit in blocks.
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: 1_000,
        bytes: 1 << 20,
    });
    let accepted = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (buf, accepted) = (&buf, &accepted);
            scope.spawn(move || {
                for i in 0..1_000 {
                    match buf.record(|out| {
                        out.extend_from_slice(format!("t{t} v={i}").as_bytes());
                        Ok(())
                    }) {
                        Ok(_) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Error::BufferFull { max_points, .. }) => {
                            assert_eq!(max_points, 1_000);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    assert_eq!(accepted.load(Ordering::Relaxed), 1_000);
    assert_eq!(buf.pending(), 1_000);
    // In bytes too: a byte bound of what 10 lines take.
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: 1_000,
        bytes: 10 * "t0 v=0\n".len(),
    });
    std::thread::scope(|scope| {
        for t in 0..2 {
            let buf = &buf;
            scope.spawn(move || {
                for _ in 0..10 {
                    let _ = buf.record(|out| {
                        out.extend_from_slice(format!("t{t} v=0").as_bytes());
                        Ok(())
                    });
                }
            });
        }
    });
    assert_eq!(buf.pending(), 10);
    let batch = buf.take();
    assert_eq!(batch.bytes.len(), 10 * 7);
    assert_accounted(&buf);
    // Written: the room is back, for any thread.
    settle_first(&buf, batch, 10, false);
    assert_accounted(&buf);
    buf.record(line("t0 v=0")).unwrap();
    assert_eq!(buf.pending(), 1);
}

#[test]
fn lines_of_a_thread_that_ended_are_kept_until_taken() {
    static BUF: SeriesBuffer = SeriesBuffer::new(meta(None, false));
    // `join` returns once the thread is gone, its thread-locals (its shard) dropped.
    std::thread::spawn(|| BUF.record(line("a v=1")).unwrap())
        .join()
        .unwrap();
    assert_eq!(BUF.pending_lines(), "a v=1\n");
    assert_eq!(BUF.take().len(), 1);
    // Its shard is forgotten, and its credit given back.
    assert!(BUF.state.lock().shards.is_empty());
    assert_eq!(
        BUF.state.lock().committed.points,
        1,
        "only the line in flight counts"
    );
    assert_accounted(&BUF);
}

#[test]
fn a_batch_never_settled_gives_its_room_back() {
    // A commit's future dropped between `take` and `settle` loses its lines (as before the
    // shards), but not the room they held.
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: 3,
        bytes: 1000,
    });
    for _ in 0..3 {
        buf.record(line("a v=1")).unwrap();
    }
    drop(buf.take());
    let batch = buf.take();
    assert_eq!(batch.len(), 0);
    settle_first(&buf, batch, 0, false);
    for _ in 0..3 {
        buf.record(line("a v=2")).unwrap();
    }
    assert_accounted(&buf);
}

#[test]
fn a_record_made_while_encoding_comes_before_the_point_being_encoded() {
    // A member's encoding that records a point of the same type: that point finishes
    // first, and is appended first, in this thread's shard.
    static BUF: SeriesBuffer = SeriesBuffer::new(meta(None, false));
    BUF.record(line("a v=1")).unwrap();
    BUF.record(|out| {
        BUF.record(line("a v=2")).unwrap();
        out.extend_from_slice(b"a v=3");
        Ok(())
    })
    .unwrap();
    BUF.record(line("a v=4")).unwrap();
    assert_eq!(BUF.pending_lines(), "a v=1\na v=2\na v=3\na v=4\n");
    assert_eq!(BUF.state.lock().shards.len(), 1, "one thread, one shard");
}

#[test]
fn threads_that_come_and_go_do_not_grow_the_list_of_shards() {
    // A full buffer and no commit: 200 threads each try to record once, and end.
    static BUF: SeriesBuffer = SeriesBuffer::new(meta(None, false));
    BUF.set_limits(Limits {
        points: 1,
        bytes: 1000,
    });
    BUF.record(line("a v=1")).unwrap();
    for _ in 0..200 {
        std::thread::spawn(|| assert!(BUF.record(line("a v=2")).is_err()))
            .join()
            .unwrap();
    }
    // This thread's shard, and at most the last thread's, not yet pruned.
    assert!(
        BUF.state.lock().shards.len() <= 2,
        "{}",
        BUF.state.lock().shards.len()
    );
    assert_eq!(BUF.pending_lines(), "a v=1\n");
    assert_accounted(&BUF);
}

#[test]
fn a_bound_of_usize_max_is_no_bound() {
    let buf = SeriesBuffer::new(meta(None, false));
    buf.set_limits(Limits {
        points: usize::MAX,
        bytes: usize::MAX,
    });
    for _ in 0..3 {
        buf.record(line("a v=1")).unwrap();
    }
    assert_eq!(buf.pending(), 3);
    assert_accounted(&buf);
}

#[test]
fn growth_stops_at_the_bound() {
    let mut v: Vec<u8> = Vec::new();
    for _ in 0..1000 {
        reserve_within(&mut v, 10, 5000);
        v.extend_from_slice(&[0; 10]);
        assert!(v.capacity() <= 5000.max(v.len()), "{}", v.capacity());
    }
}
