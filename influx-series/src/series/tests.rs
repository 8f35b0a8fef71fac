use super::*;
use influx_core::Rejection;

fn commit(written: usize, refused: usize, requests: usize) -> Commit {
    let mut commit = Commit::default().with_requests(requests);
    commit.written = written;
    commit.refused = refused;
    commit
}

fn timeout() -> Error {
    Error::Timeout("no answer".into())
}

fn rejection() -> Rejection {
    Rejection::new(1, None, "field type conflict")
}

#[test]
fn a_commit_of_put_back_lines_then_the_shards_reports_both() {
    assert_eq!(
        after_put_back(Ok(commit(5, 0, 1)), 5, Ok(commit(7, 0, 2))).unwrap(),
        commit(12, 0, 3)
    );
    // A point refused in the first, the second stopped by a failure from its line 2: the
    // failure's positions and counts are the whole commit's.
    let first = Err(Error::Rejected {
        commit: commit(4, 1, 1),
        rejections: vec![rejection()],
        stopped: None,
    });
    let rest = Err(Error::Unwritten {
        written: 2,
        unwritten: vec![2..4, 5..7],
        reached: 7,
        source: Box::new(timeout()),
    });
    match after_put_back(first, 5, rest) {
        Err(Error::Rejected {
            commit: c,
            rejections,
            stopped: Some(stopped),
        }) => {
            assert_eq!(c, commit(4, 1, 1));
            assert_eq!(rejections.len(), 1);
            match *stopped {
                Error::Unwritten {
                    written,
                    unwritten,
                    reached,
                    ..
                } => {
                    assert_eq!((written, reached), (6, 12));
                    assert_eq!(unwritten, vec![7..9, 10..12]);
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    // A plain failure of the second comes back as it is, counting what the first wrote.
    match after_put_back(Ok(commit(5, 0, 1)), 5, Err(timeout())) {
        Err(Error::Interrupted { written_before, .. }) => assert_eq!(written_before, 5),
        other => panic!("{other:?}"),
    }
}
