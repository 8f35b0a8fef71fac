use super::*;

fn lines(n: usize, len: usize) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for i in 0..n {
        let line = format!("m v={i}i");
        let line = format!("{line:<width$}\n", width = len - 1);
        bytes.extend_from_slice(line.as_bytes());
        ends.push(bytes.len());
    }
    (bytes, ends)
}

fn bare_400() -> Error {
    Error::Client {
        status: 400,
        message: "max key length exceeded".into(),
    }
}

/// Runs a plan against a fake server that refuses any body holding one of the lines `bad`
/// with `refusal()`; returns the commit, the rejections and the requests' line ranges.
fn run_with_bad_lines(
    n: usize,
    bad: &[usize],
    refusal: impl Fn() -> Error,
) -> (Commit, Vec<Rejection>, Vec<(usize, usize)>) {
    let (bytes, ends) = lines(n, 10);
    let mut plan = WritePlan::new(&bytes, &ends, n, 1 << 20, 1 << 20, OnRefusal::Isolate);
    let mut sent = Vec::new();
    while let Some(piece) = plan.next().unwrap() {
        sent.push((piece.from, piece.to));
        let result = if bad.iter().any(|b| (piece.from..piece.to).contains(b)) {
            Err(refusal())
        } else {
            Ok(())
        };
        plan.settle(piece, result).unwrap();
    }
    let (commit, rejections) = plan.finish();
    (commit, rejections, sent)
}

fn run_with_bad_line(n: usize, bad: usize) -> (Commit, Vec<Rejection>, Vec<(usize, usize)>) {
    run_with_bad_lines(n, &[bad], bare_400)
}

fn type_conflict() -> Error {
    Error::BatchRejected {
        message: "field type conflict: input field \"v\" on measurement \"m\" is type \
                  string, already exists as type integer"
            .into(),
        written_before: 0,
    }
}

fn unknown_400() -> Error {
    Error::Client {
        status: 400,
        message: "no".into(),
    }
}

#[test]
fn refusals_that_name_points_isolate_k_bad_lines_in_2k_log2_n_plus_1_requests() {
    for refusal in [type_conflict as fn() -> Error, bare_400] {
        for n in [2, 3, 8, 100, 1000, 4096] {
            // Two bad lines, one in each half.
            let bad = [n / 4, n / 2 + n / 4];
            let (commit, rejections, sent) = run_with_bad_lines(n, &bad, refusal);
            let bound = (2.0 * 2.0 * (n as f64).log2()).ceil() as usize + 1;
            assert!(sent.len() <= bound, "n={n}: {} > {bound}", sent.len());
            assert_eq!(commit.written, n - 2, "n={n}: every good line");
            assert_eq!(commit.refused, 2);
            assert_eq!(rejections.len(), 2);
        }
    }
}

#[test]
fn a_400_of_unknown_meaning_for_every_piece_stops_after_three_requests() {
    let (bytes, ends) = lines(10_000, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 10_000, 1 << 20, 1 << 20, OnRefusal::Isolate);
    let mut sent = 0;
    let err = loop {
        let piece = plan.next().unwrap().expect("a piece");
        sent += 1;
        if let Err(e) = plan.settle(piece, Err(unknown_400())) {
            break e;
        }
    };
    assert_eq!(sent, 3, "the batch, its left half, its right half");
    assert!(
        matches!(&err, Error::Client { status: 400, message } if message == "no"),
        "{err:?}"
    );
    assert_eq!(plan.unsent_from(), 0, "every line unsent");
    let (commit, _) = plan.finish();
    assert_eq!((commit.written, commit.refused, commit.requests), (0, 0, 3));
}

#[test]
fn a_right_half_refused_otherwise_keeps_the_left_half_first_and_unsettled() {
    for right_answer in [
        || {
            Err(Error::Client {
                status: 400,
                message: "other".into(),
            })
        },
        || {
            Err(Error::Client {
                status: 400,
                message: "unable to parse 'x': bad".into(),
            })
        },
        || {
            Err(Error::Client {
                status: 413,
                message: "Request Entity Too Large".into(),
            })
        },
    ] {
        let (bytes, ends) = lines(8, 10);
        let mut plan = WritePlan::new(&bytes, &ends, 8, 1 << 20, 1 << 20, OnRefusal::Isolate);
        let whole = plan.next().unwrap().unwrap();
        plan.settle(whole, Err(unknown_400())).unwrap();
        let left = plan.next().unwrap().unwrap();
        plan.settle(left, Err(unknown_400())).unwrap();
        let right = plan.next().unwrap().unwrap();
        assert_eq!((right.from, right.to), (4, 8));
        plan.settle(right, right_answer()).unwrap();
        // The left half's lines go first, and nothing before them is unsettled.
        assert_eq!(plan.unsent_from(), 0);
        let next = plan.next().unwrap().unwrap();
        assert!(next.from < 4, "{next:?}");
        // The server goes away: every line is unsettled still.
        plan.put_back(next);
        assert_eq!(plan.unsent_from(), 0);
    }
}

#[test]
fn a_plan_left_while_its_probe_waits_counts_the_waiting_half_unsent() {
    let (bytes, ends) = lines(100, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 100, 1 << 20, 1 << 20, OnRefusal::Isolate);
    let whole = plan.next().unwrap().unwrap();
    plan.settle(whole, Err(unknown_400())).unwrap();
    let left = plan.next().unwrap().unwrap();
    assert_eq!((left.from, left.to), (0, 50));
    plan.settle(left, Err(unknown_400())).unwrap();
    // Left here (another lane failed, or the caller stopped): every line is unsettled.
    assert_eq!(plan.unsent_from(), 0);
    let (commit, _) = plan.finish();
    assert_eq!((commit.written, commit.refused, commit.requests), (0, 0, 2));
}

#[test]
fn an_unknown_400_refusing_half_of_the_lines_goes_on_isolating() {
    // The left half is refused, the right one stored: the left half's lines are isolated.
    let (commit, rejections, sent) = run_with_bad_lines(100, &[10], unknown_400);
    assert_eq!((commit.written, commit.refused), (99, 1));
    assert_eq!(rejections.len(), 1);
    assert!(sent.len() <= 2 * 7 + 1, "{sent:?}");
    // Refused halves alike, but with different messages: not the request.
    let (bytes, ends) = lines(8, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 8, 1 << 20, 1 << 20, OnRefusal::Isolate);
    let mut n = 0;
    while let Some(piece) = plan.next().unwrap() {
        n += 1;
        let message = if piece.from < 4 { "left" } else { "right" };
        let refused = Error::Client {
            status: 400,
            message: message.into(),
        };
        plan.settle(piece, Err(refused)).unwrap();
    }
    assert_eq!(
        plan.finish().0.refused,
        8,
        "every line isolated after {n} requests"
    );
}

#[test]
fn one_bad_line_is_isolated_within_the_bound() {
    for n in [1, 2, 3, 7, 8, 100, 1000, 5000] {
        for bad in [0, n / 3, n - 1] {
            let (commit, rejections, sent) = run_with_bad_line(n, bad);
            let bound = 2 * (n as f64).log2().ceil() as usize + 2;
            assert!(
                sent.len() <= bound,
                "n={n} bad={bad}: {} > {bound}",
                sent.len()
            );
            assert_eq!(commit.written, n - 1);
            assert_eq!(commit.refused, 1);
            assert_eq!(commit.requests, sent.len());
            assert_eq!(rejections.len(), 1);
            assert_eq!(
                rejections[0].lines.as_deref().map(str::trim_end),
                Some(format!("m v={bad}i").as_str())
            );
        }
    }
}

#[test]
fn a_413_splits_and_lowers_the_cap() {
    let (bytes, ends) = lines(64, 100);
    let mut plan = WritePlan::new(&bytes, &ends, 1000, 1 << 20, 1 << 20, OnRefusal::Stop);
    let mut bodies = Vec::new();
    while let Some(piece) = plan.next().unwrap() {
        let body = plan.body(piece).len();
        bodies.push(body);
        let result = if body > 1000 {
            Err(Error::Client {
                status: 413,
                message: "request body too large".into(),
            })
        } else {
            Ok(())
        };
        plan.settle(piece, result).unwrap();
    }
    assert!(plan.cap_bytes() <= 1000, "{}", plan.cap_bytes());
    let (commit, _) = plan.finish();
    assert_eq!(commit.written, 64);
    assert_eq!(commit.requests, bodies.len());
    assert!(bodies.len() <= 2 * 64 / 10, "{bodies:?}");
}

#[test]
fn caps_cut_requests_and_a_stop_tells_where_to_resume() {
    let (bytes, ends) = lines(10, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 4, 35, 1 << 20, OnRefusal::Stop);
    let first = plan.next().unwrap().unwrap();
    assert_eq!(
        (first.from, first.to),
        (0, 3),
        "35 bytes hold three 10-byte lines"
    );
    plan.settle(first, Ok(())).unwrap();
    let second = plan.next().unwrap().unwrap();
    let err = plan
        .settle(second, Err(Error::Transport("refused".into())))
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)));
    assert_eq!(plan.unsent_from(), 3);
    assert_eq!(plan.finish().0.written, 3);
}

#[test]
fn a_request_level_400_stops_without_a_split() {
    let (bytes, ends) = lines(8, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 8, 1 << 20, 1 << 20, OnRefusal::Isolate);
    let piece = plan.next().unwrap().unwrap();
    let err = plan
        .settle(
            piece,
            Err(Error::Client {
                status: 400,
                message: "database is required".into(),
            }),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Client { status: 400, .. }));
    assert_eq!(plan.unsent_from(), 0);
    assert_eq!(plan.finish().0.requests, 1);
}

#[test]
fn unsent_keeps_exactly_its_lines_in_order() {
    let (bytes, ends) = lines(10, 10);
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let unsent = Unsent::from_sorted([1, 2, 5, 9]);
    assert_eq!(unsent.runs(), [1..3, 5..6, 9..10]);
    assert_eq!(unsent.lines(), 4);
    assert_eq!(unsent.tail_from(10), None);
    let (mut kept, mut kept_ends) = (bytes.clone(), ends.clone());
    unsent.keep(&mut kept, &mut kept_ends);
    let expected: String = [1, 2, 5, 9]
        .iter()
        .map(|&i| text(&bytes[ends[i] - 10..ends[i]]))
        .collect();
    assert_eq!(text(&kept), expected);
    assert_eq!(kept_ends, [10, 20, 30, 40]);

    let tail = Unsent::tail(7, 10);
    assert_eq!(tail.tail_from(10), Some(7));
    assert_eq!(Unsent::default().tail_from(10), Some(10));
    let (mut kept, mut kept_ends) = (bytes.clone(), ends.clone());
    Unsent::default().keep(&mut kept, &mut kept_ends);
    assert!(kept.is_empty() && kept_ends.is_empty());
}

#[test]
fn scattered_unsent_lines_are_an_unwritten_error_and_a_tail_is_not() {
    let stop = || Error::Transport("connection reset".into());
    match Unsent::from_sorted([3, 4, 8]).error(stop(), 10, 7) {
        Error::Unwritten {
            written,
            unwritten,
            reached,
            source,
        } => {
            assert_eq!((written, reached), (7, 10));
            assert_eq!(unwritten, [3..5, 8..9]);
            assert!(matches!(*source, Error::Transport(_)));
        }
        other => panic!("{other:?}"),
    }
    match Unsent::tail(6, 10).error(stop(), 10, 6) {
        Error::Interrupted { written_before, .. } => assert_eq!(written_before, 6),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_point_always_goes_in_the_same_lane_and_points_spread_over_lanes() {
    let by = Dealing::ByPoint;
    for lanes in [2, 3, 4] {
        // The same series and time, whatever the fields.
        let lane = lane_of(b"cpu,host=a v=1i 1000\n", lanes, by);
        assert_eq!(
            lane_of(b"cpu,host=a v=2i,w=\"x y\" 1000\n", lanes, by),
            lane
        );
        let mut counts = vec![0usize; lanes];
        for t in 0..10_000 {
            counts[lane_of(format!("cpu,host=a v=1i {t}\n").as_bytes(), lanes, by)] += 1;
        }
        let even = 10_000 / lanes;
        for count in counts {
            assert!(
                count.abs_diff(even) < even / 10,
                "{lanes} lanes: {count} of 10 000"
            );
        }
    }
    // An escaped space belongs to the key: these are two series.
    for by in [Dealing::BySeries, Dealing::ByPoint] {
        let spread: std::collections::HashSet<_> = (0..64)
            .map(|i| lane_of(format!("m,k=a\\ {i} v=1 5\n").as_bytes(), 4, by))
            .collect();
        assert!(spread.len() > 1, "the key's escaped space ended the key");
        assert!(lane_of(b"m v=1", 1, by) == 0 && lane_of(b"", 2, by) < 2);
    }
}

/// Where each line of `text` ends, newline included.
fn ends_of(text: &str) -> Vec<usize> {
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(|at| at + 1)
        .collect()
}

/// Lines of `series` series taking turns, `n` in all, with their lane from [`deal`].
fn dealt(series: usize, n: usize, lanes: usize) -> Vec<(String, u8)> {
    let text: String = (0..n)
        .map(|i| format!("cpu,host=h{} v={i}i {}\n", i % series, i / series))
        .collect();
    let lanes_of = deal(text.as_bytes(), &ends_of(&text), lanes);
    text.lines()
        .map(|line| line.split(' ').next().unwrap().to_owned())
        .zip(lanes_of)
        .collect()
}

#[test]
fn many_series_are_dealt_whole_to_lanes_and_one_series_is_dealt_by_point() {
    // 100 series: each in one lane, and the lanes hold about as many lines.
    let lines = dealt(100, 10_000, 2);
    let mut lane_of_series = std::collections::HashMap::new();
    for (series, lane) in &lines {
        assert_eq!(
            *lane_of_series.entry(series.clone()).or_insert(*lane),
            *lane
        );
    }
    // Shared out whole series at a time, largest first: within a series of even.
    let first = lines.iter().filter(|(_, lane)| *lane == 0).count();
    assert!(
        (4_900..=5_100).contains(&first),
        "{first} of 10 000 in lane 0"
    );
    // One series: spread over both lanes all the same, by time.
    let lines = dealt(1, 10_000, 2);
    let first = lines.iter().filter(|(_, lane)| *lane == 0).count();
    assert!(
        (4_500..=5_500).contains(&first),
        "{first} of 10 000 in lane 0"
    );
    // Each lane number is one of the lanes.
    assert!(dealt(3, 300, 3).iter().all(|(_, lane)| *lane < 3));
}

#[test]
fn series_first_seen_after_the_first_lines_go_to_the_emptiest_lane_and_stay_there() {
    // The first lines: two series of 100 lines each, one lane each.
    let first: String = (0..200)
        .map(|i| format!("cpu,host=h{} v=1i {i}\n", i % 2))
        .collect();
    let ends = ends_of(&first);
    let (mut dealer, lanes) = Dealer::start(first.as_bytes(), &ends, 2);
    assert_eq!(lanes[0], 1 - lanes[1], "the two series share the lanes out");
    // A third series, seen later, goes to a lane and all its lines with it; the lanes'
    // loads stay within a series of even.
    let mut held = [100usize, 100];
    let mut third = None;
    for t in 0..300 {
        let lane = dealer.lane(format!("cpu,host=h3 v=1i {t}\n").as_bytes());
        assert_eq!(*third.get_or_insert(lane), lane);
        held[lane] += 1;
    }
    for t in 0..300 {
        let lane = dealer.lane(format!("cpu,host=h4 v=1i {t}\n").as_bytes());
        held[lane] += 1;
    }
    assert_eq!(held, [400, 400], "h3 and h4 in different lanes");
    // By point, a later line of one series and time goes where its first did.
    let one: String = (0..200).map(|i| format!("m v=1i {i}\n")).collect();
    let ends = ends_of(&one);
    let (mut dealer, lanes) = Dealer::start(one.as_bytes(), &ends, 2);
    assert!(lanes.contains(&0) && lanes.contains(&1));
    assert_eq!(dealer.lane(b"m v=2i 7\n"), usize::from(lanes[7]));
}

#[test]
fn a_single_line_over_the_servers_limit_stops_with_the_line_unsettled() {
    let (bytes, ends) = lines(3, 10);
    let mut plan = WritePlan::new(&bytes, &ends, 1, 1 << 20, 1 << 20, OnRefusal::Stop);
    let first = plan.next().unwrap().unwrap();
    plan.settle(first, Ok(())).unwrap();
    let second = plan.next().unwrap().unwrap();
    let too_large = Error::Client {
        status: 413,
        message: "request body too large".into(),
    };
    assert!(plan.settle(second, Err(too_large)).is_err());
    assert_eq!(plan.unsent_from(), 1, "the refused line is not settled");
}
