use super::*;

#[test]
fn durations_are_influxql_duration_literals_or_refused() {
    for good in [
        "1h", "90m", "1h30m", "7d", "4w", "10s", "500ms", "1u", "2µ", "3ns",
    ] {
        assert_eq!(checked_duration(good, "duration", false).unwrap(), good);
    }
    assert_eq!(checked_duration("inf", "duration", true).unwrap(), "inf");
    for bad in [
        "",
        "h",
        "1",
        "1x",
        "1h 30m",
        "-1h",
        "1.5h",
        "INF",
        "1h; DROP DATABASE x",
        "1h\n",
    ] {
        match checked_duration(bad, "duration", false) {
            Err(Error::InvalidArgument(cause)) => {
                assert!(cause.message().contains("duration"), "{bad:?}: {cause:?}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn names_and_passwords_are_quoted_and_escaped() {
    assert_eq!(
        statements::create_user("a\"b\nc", "p'w\\", true),
        r#"CREATE USER "a\"b\nc" WITH PASSWORD 'p\'w\\' WITH ALL PRIVILEGES"#
    );
    assert_eq!(
        statements::grant(Privilege::Write, "d\"b", "u"),
        r#"GRANT WRITE ON "d\"b" TO "u""#
    );
    assert_eq!(
        statements::revoke_admin("x\"; DROP DATABASE v; --"),
        r#"REVOKE ALL PRIVILEGES FROM "x\"; DROP DATABASE v; --""#
    );
    assert_eq!(
        statements::set_password("u", "it's"),
        r#"SET PASSWORD FOR "u" = 'it\'s'"#
    );
}

#[test]
fn regexes_escape_every_slash_so_none_can_end_the_literal() {
    assert_eq!(regex_literal("^cpu/a").unwrap(), r"/^cpu\/a/");
    // A trailing backslash cannot eat the closing slash of an escaped one either: the
    // scanner reads `\\/` as `\` then `\/`, both inside the literal.
    assert_eq!(
        regex_literal(r"x\/; DROP DATABASE v").unwrap(),
        r"/x\\/; DROP DATABASE v/"
    );
    assert!(matches!(
        regex_literal("a\nb"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_continuous_query_runs_one_select() {
    for bad in [
        "SELECT 1 FROM m; DROP DATABASE v",
        "DROP DATABASE v",
        "",
        "-- SELECT\nDROP DATABASE v",
    ] {
        assert!(
            matches!(
                NewContinuousQuery::new("cq", bad).statement("db"),
                Err(Error::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        NewContinuousQuery::new("cq", "select v into w from m group by time(1m); -- x")
            .statement("db")
            .unwrap(),
        r#"CREATE CONTINUOUS QUERY "cq" ON "db" BEGIN select v into w from m group by time(1m) END"#
    );
    // A comment cannot swallow the closing END: comments are stripped first.
    assert_eq!(
        NewContinuousQuery::new("cq", "SELECT v INTO w FROM m -- END; DROP DATABASE v")
            .statement("db")
            .unwrap(),
        r#"CREATE CONTINUOUS QUERY "cq" ON "db" BEGIN SELECT v INTO w FROM m END"#
    );
}

#[test]
fn a_series_filter_of_nothing_deletes_nothing() {
    assert!(matches!(
        statements::drop_series(&SeriesFilter::all()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        statements::drop_series(&SeriesFilter::all().tag("host", "a'b")).unwrap(),
        r#"DROP SERIES WHERE "host" = 'a\'b'"#
    );
    assert_eq!(statements::show_series(&SeriesFilter::all()), "SHOW SERIES");
}
