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

/// What influxd 1.x's `SHOW CONTINUOUS QUERIES` gave for statements created as declared here,
/// in database `metrics` whose default policy is `autogen`.
#[test]
fn a_continuous_query_matches_the_servers_rewriting_of_it() {
    let same =
        |declared: &str, server: &str| same_query(declared, server, "metrics", Some("autogen"));
    assert!(same(
        r#"CREATE CONTINUOUS QUERY "cq_1h" ON "metrics" BEGIN select MEAN(usage) AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(60m), * END"#,
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO metrics.one_week.cpu_1h FROM metrics.autogen.cpu GROUP BY time(1h), * END",
    ));
    assert!(same(
        r#"CREATE CONTINUOUS QUERY "cq2" ON "metrics" RESAMPLE EVERY 5m FOR 1h BEGIN SELECT count("value") INTO "events_10m" FROM "events" GROUP BY time(10m) END"#,
        "CREATE CONTINUOUS QUERY cq2 ON metrics RESAMPLE EVERY 5m FOR 1h BEGIN SELECT count(value) INTO metrics.autogen.events_10m FROM metrics.autogen.events GROUP BY time(10m) END",
    ));
    // A regex source and the `:MEASUREMENT` backreference, qualified by the server.
    assert!(same(
        r#"CREATE CONTINUOUS QUERY "down" ON "metrics" BEGIN SELECT mean(*) INTO one_week.:MEASUREMENT FROM /.*/ GROUP BY time(5m), * END"#,
        "CREATE CONTINUOUS QUERY down ON metrics BEGIN SELECT mean(*) INTO metrics.one_week.:MEASUREMENT FROM metrics.autogen./.*/ GROUP BY time(5m), * END",
    ));
    // Several sources.
    assert!(same(
        "CREATE CONTINUOUS QUERY two ON metrics BEGIN SELECT max(v) INTO both FROM a, one_week.b GROUP BY time(1h) END",
        "CREATE CONTINUOUS QUERY two ON metrics BEGIN SELECT max(v) INTO metrics.autogen.both FROM metrics.autogen.a, metrics.one_week.b GROUP BY time(1h) END",
    ));
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
        // Names are case-sensitive.
        r#"CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean("Usage") AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(1h), * END"#,
        r#"CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO one_week.cpu_1h FROM "CPU" GROUP BY time(1h), * END"#,
        // An unqualified source is the default policy's, not any policy's.
        "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO cpu_1h FROM cpu GROUP BY time(1h), * END",
    ] {
        assert!(
            !same_query(declared, server, "metrics", Some("autogen")),
            "{declared}"
        );
    }
    // The source was qualified with another default policy.
    let declared = "CREATE CONTINUOUS QUERY cq_1h ON metrics BEGIN SELECT mean(usage) AS usage INTO one_week.cpu_1h FROM cpu GROUP BY time(1h), * END";
    assert!(!same_query(declared, server, "metrics", Some("one_year")));
    // Not knowing the default policy, a name matches any qualification that ends with it.
    assert!(same_query(declared, server, "metrics", None));
}

#[test]
fn regexes_strings_and_division_are_told_apart() {
    let same = |a: &str, b: &str| same_query(a, b, "db", None);
    assert!(same(
        "SELECT mean(v) / 2 FROM /^cpu\\..*$/ WHERE host =~ /a|b/ AND r = 'x y'",
        "SELECT mean(v) / 2 FROM /^cpu\\..*$/ WHERE host =~ /a|b/ AND r = 'x y'",
    ));
    assert!(!same(
        "SELECT v FROM /^cpu$/ WHERE r = 'x'",
        "SELECT v FROM /^mem$/ WHERE r = 'x'",
    ));
    assert!(!same(
        "SELECT v FROM m WHERE r = 'x'",
        "SELECT v FROM m WHERE r = 'y'"
    ));
    assert!(same(
        "SELECT v FROM m WHERE time > now() - 10µs",
        "SELECT v FROM m WHERE time > now() - 10u"
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
    // influxd keeps a shard duration of at least an hour, and picks one for 0.
    let hourly = Existing {
        shard_duration: "1h0m0s",
        ..existing
    };
    let short = NewRetentionPolicy::new("one_week", "1w").shard_duration("30m");
    assert_eq!(differences(&short, &hourly), []);
    let picked = NewRetentionPolicy::new("one_week", "1w").shard_duration("0s");
    assert_eq!(differences(&picked, &existing), []);
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

/// Hostile text, such as a server's answer could hold: quotes and regexes left open, a
/// backslash at the end, units alone, digits past any integer, characters of any width. The
/// reading never panics nor loops, and a text always matches itself when nothing qualifies it.
#[test]
fn any_text_is_read_without_panicking() {
    let pieces = [
        "\"",
        "'",
        "/",
        "\\",
        ".",
        ":",
        "µ",
        "1",
        "9999999999999999999999999999999999999999h",
        "1.5",
        ".5s",
        "a",
        "FROM",
        "INTO",
        "(",
        ")",
        ",",
        "=~",
        " ",
        "é",
        "\u{0}",
        "*",
    ];
    let mut state = 7u64;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(state % 12) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
        }
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let readable = tokens(&text).is_some();
        assert_eq!(same_query(&text, &text, "db", None), readable, "{text:?}");
        let _ = same_query(&text, "SELECT v FROM db.autogen.m", "db", Some("autogen"));
        let _ = duration_nanos(&text);
    }
}
