use super::*;
use crate::schema::duration::duration_nanos;

#[test]
fn durations_read_in_both_spellings() {
    let hour = 3_600_000_000_000u128;
    assert_eq!(duration_nanos("1w"), Some(168 * hour));
    assert_eq!(duration_nanos("168h0m0s"), Some(168 * hour));
    assert_eq!(duration_nanos("1h30m"), Some(hour * 3 / 2));
    assert_eq!(duration_nanos("1.5s"), Some(1_500_000_000));
    assert_eq!(duration_nanos("500ms"), Some(500_000_000));
    assert_eq!(duration_nanos("1µs"), Some(1_000));
    assert_eq!(duration_nanos("10u"), Some(10_000));
    assert_eq!(duration_nanos("INF"), Some(0));
    assert_eq!(duration_nanos("0s"), Some(0));
    for bad in ["", "h", "1", "1x", "1h 2m", "-1h"] {
        assert_eq!(duration_nanos(bad), None, "{bad:?}");
    }
}

/// What influxd 1.x's `SHOW CONTINUOUS QUERIES` gave for statements created as declared here.
#[test]
fn a_continuous_query_matches_the_servers_rewriting_of_it() {
    let declared = r#"CREATE CONTINUOUS QUERY "cq_1h" ON "metrics" BEGIN select mean(usage) AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(60m), * END"#;
    let server = "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO metrics.one_week.cpu_1h FROM metrics.autogen.cpu GROUP BY time(1h), * END";
    assert!(same_query(declared, server));
    let declared = r#"CREATE CONTINUOUS QUERY "cq2" ON "metrics" RESAMPLE EVERY 5m FOR 1h BEGIN SELECT count("value") INTO "events_10m" FROM "events" GROUP BY time(10m) END"#;
    let server = "CREATE CONTINUOUS QUERY cq2 ON metrics RESAMPLE EVERY 5m FOR 1h BEGIN SELECT count(value) INTO metrics.autogen.events_10m FROM metrics.autogen.events GROUP BY time(10m) END";
    assert!(same_query(declared, server));
}

#[test]
fn a_continuous_query_that_differs_does_not_match() {
    let server = "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO metrics.one_week.cpu_1h FROM metrics.autogen.cpu GROUP BY time(1h), * END";
    for declared in [
        // Another function, interval, target policy, source, or a clause more.
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT max(usage) AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(1h), * END",
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(2h), * END",
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO two_weeks.cpu_1h FROM cpu GROUP BY time(1h), * END",
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO one_week.cpu_1h FROM mem GROUP BY time(1h), * END",
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO one_week.cpu_1h FROM cpu WHERE host = 'a' GROUP BY time(1h), * END",
    ] {
        assert!(!same_query(declared, server), "{declared}");
    }
}

#[test]
fn regexes_strings_and_division_are_told_apart() {
    assert!(same_query(
        "SELECT mean(v) / 2 FROM /^cpu\\..*$/ WHERE host =~ /a|b/ AND r = 'x y'",
        "SELECT mean(v) / 2 FROM /^cpu\\..*$/ WHERE host =~ /a|b/ AND r = 'x y'",
    ));
    assert!(!same_query(
        "SELECT v FROM /^cpu$/ WHERE r = 'x'",
        "SELECT v FROM /^mem$/ WHERE r = 'x'",
    ));
    assert!(!same_query(
        "SELECT v FROM m WHERE r = 'x'",
        "SELECT v FROM m WHERE r = 'y'"
    ));
}

#[test]
fn policies_differ_only_in_what_is_declared() {
    let existing = Existing {
        duration: "168h0m0s",
        shard_duration: "24h0m0s",
        replication: 1,
        default: false,
    };
    let same = NewRetentionPolicy::new("one_week", "1w");
    assert_eq!(differences(&same, &existing), []);
    let same = NewRetentionPolicy::new("one_week", "7d").shard_duration("1d");
    assert_eq!(differences(&same, &existing), []);
    let other = NewRetentionPolicy::new("one_week", "2w")
        .shard_duration("1h")
        .replication(2)
        .make_default();
    assert_eq!(
        differences(&other, &existing),
        [
            PolicyDifference::Retention {
                declared: "2w".into(),
                on_server: "168h0m0s".into()
            },
            PolicyDifference::ShardDuration {
                declared: "1h".into(),
                on_server: "24h0m0s".into()
            },
            PolicyDifference::Replication {
                declared: 2,
                on_server: 1
            },
            PolicyDifference::Default,
        ]
    );
}
