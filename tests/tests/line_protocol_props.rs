//! Property: every point either fails to build, or encodes to a line the parser reads back as
//! the identical point.

mod support {
    pub mod r#gen;
}

use influx_series::{LineBuf, Lines, Precision, parse_line};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use support::r#gen::raw_point;

#[test]
fn encode_then_parse_is_identity() {
    let accepted = Cell::new(0u32);
    let rejected = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases: 4096,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&raw_point(), |raw| {
            match raw.builder().build() {
                Err(_) => rejected.set(rejected.get() + 1),
                Ok(point) => {
                    accepted.set(accepted.get() + 1);
                    let line = point.to_line(Precision::Nanoseconds);
                    let parsed = parse_line(&line, Precision::Nanoseconds)
                        .map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
                    prop_assert_eq!(&parsed, &point, "line {:?}", line);
                }
            }
            Ok(())
        })
        .unwrap();
    // Both outcomes must be exercised, or the property says nothing.
    assert!(
        accepted.get() > 200,
        "only {} points accepted",
        accepted.get()
    );
    assert!(
        rejected.get() > 200,
        "only {} points rejected",
        rejected.get()
    );
}

proptest! {
    #[test]
    fn many_lines_parse_back_in_order(raws in prop::collection::vec(raw_point(), 1..20)) {
        let points: Vec<_> = raws.iter().filter_map(|r| r.builder().build().ok()).collect();
        let mut buf = LineBuf::new();
        for p in &points {
            buf.push_point(p, Precision::Nanoseconds);
        }
        let parsed: Vec<_> = Lines::new(buf.as_str(), Precision::Nanoseconds)
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{:?}: {e}", buf.as_str())))?;
        prop_assert_eq!(parsed, points);
    }

    #[test]
    fn coarser_precision_floors(nanos in influx_series::MIN_NANOS..=influx_series::MAX_NANOS) {
        let t = chrono::DateTime::from_timestamp_nanos(nanos);
        for precision in Precision::ALL {
            let unit = precision.nanos_per_unit() as i128;
            let v = precision.timestamp(&t).unwrap() as i128;
            prop_assert!(v * unit <= nanos as i128 && (nanos as i128) < (v + 1) * unit);
        }
    }
}
