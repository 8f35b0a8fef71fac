use super::*;
use proptest::prelude::*;

fn statements(query: &str) -> Vec<&str> {
    split_statements(query).collect()
}

fn kinds(query: &str) -> Vec<(Kind, &str)> {
    Lexer::new(query)
        .filter(|t| t.kind.is_significant())
        .map(|t| (t.kind, t.text))
        .collect()
}

#[test]
fn quoting_is_unchanged() {
    assert_eq!(quote_ident(r#"my "db""#), r#""my \"db\"""#);
    assert_eq!(quote_ident("a\\b\nc"), r#""a\\b\nc""#);
    assert_eq!(quote_ident("it's"), r#""it's""#);
    assert_eq!(quote_literal("it's"), r"'it\'s'");
    assert_eq!(quote_literal("a\\b\nc\"d"), r#"'a\\b\nc"d'"#);
    assert_eq!(quote_literal("é😀"), "'é😀'");
}

#[test]
fn regex_holding_a_comment_opener_hides_no_statement() {
    let query = "SELECT * FROM /a--/; DROP DATABASE x";
    assert!(!is_read_only(query));
    assert_eq!(
        statements(query),
        ["SELECT * FROM /a--/", " DROP DATABASE x"]
    );
    assert!(!statement_reads(" DROP DATABASE x"));
}

#[test]
fn regex_holding_a_quote_hides_no_statement() {
    for query in [
        "SELECT * FROM /a'/; DROP DATABASE x",
        "SELECT * FROM /a\"/; DROP DATABASE x",
    ] {
        assert!(!is_read_only(query), "{query}");
        assert_eq!(statement_count(query), 2, "{query}");
    }
}

#[test]
fn semicolon_inside_regex_does_not_split() {
    assert_eq!(statements("SELECT * FROM /a;b/"), ["SELECT * FROM /a;b/"]);
    assert_eq!(statement_count("SELECT * FROM /a;b/; SELECT * FROM m"), 2);
    assert!(is_read_only("SELECT * FROM /a;b/; SELECT * FROM m"));
}

#[test]
fn division_is_not_a_regex() {
    assert!(!is_read_only("SELECT value / 2 FROM m; DROP DATABASE x"));
    assert_eq!(
        statements("SELECT value / 2 FROM m; DROP DATABASE x"),
        ["SELECT value / 2 FROM m", " DROP DATABASE x"]
    );
    assert!(is_read_only("SELECT value / 2 FROM m WHERE host = 'a'"));
    assert_eq!(
        statement_count("SELECT value / 2 FROM m WHERE host = 'a'"),
        1
    );
    assert!(is_read_only("SELECT a/b FROM m"));
    assert_eq!(statement_count("SELECT a/b FROM m"), 1);
    assert!(is_read_only("SELECT mean(v) / 2 FROM m"));
    assert_eq!(
        statement_count("SELECT mean(v) / 2 FROM m; SELECT 1 / 2 FROM m"),
        2
    );
}

#[test]
fn division_after_every_kind_of_operand() {
    for operand in [
        "v", "\"v\"", "2", "2.5", ".5", "5m", "10µs", "'s'", "$p", "mean(v)", "true", "FALSE",
        "v::field", "v::tag", "v::float", "*", "/re/", "abc\"d\"",
    ] {
        let query = format!("SELECT {operand} / 2 FROM m; SELECT 1 FROM /x/");
        assert_eq!(statement_count(&query), 2, "{query}");
    }
}

#[test]
fn regex_after_every_place_an_operand_may_start() {
    for before in [
        "SELECT",
        "select",
        "FROM",
        "WHERE host =~",
        "WHERE host !~",
        "AND h =~",
        "BY",
        "SELECT a,",
        "SELECT count(",
        "FROM x.autogen.",
        "SELECT 2 *",
        "SELECT 2 +",
        "SELECT 2 -",
        "SELECT (",
        "WITH MEASUREMENT =~",
        "WITH KEY =~",
        "ON",
        "IN",
        "WITH",
        "KEY",
        "MEASUREMENT",
        "=",
        "OR",
    ] {
        let query = format!("{before} /a;b/ FROM m");
        assert_eq!(statement_count(&query), 1, "{query}");
        assert!(
            kinds(&query).contains(&(Kind::Regex, "/a;b/")),
            "{query}: {:?}",
            kinds(&query)
        );
    }
}

#[test]
fn regex_field_selection_reads() {
    assert!(is_read_only("SELECT /usage/ FROM cpu"));
    assert_eq!(
        kinds("SELECT /usage/ FROM cpu")[1],
        (Kind::Regex, "/usage/")
    );
}

#[test]
fn escaped_slash_stays_inside_regex() {
    let query = r"SELECT * FROM m WHERE host =~ /a\/b;c/";
    assert_eq!(statements(query), [query]);
    assert!(is_read_only(query));
    // A backslash escapes only `/`: `\\` does not escape itself, so the regex goes on.
    let query = r"SELECT * FROM m WHERE host =~ /a\\/ ; SELECT 2/";
    assert_eq!(statement_count(query), 1);
}

#[test]
fn line_comment_hides_no_statement() {
    assert!(!is_read_only("SELECT 1 -- it's fine\n; DROP DATABASE x"));
    assert_eq!(
        statement_count("SELECT 1 -- it's fine\n; SHOW DATABASES"),
        2
    );
    // The server reads `\r` as a line end.
    assert_eq!(
        statement_count("SELECT 1 -- it's fine\r; SHOW DATABASES"),
        2
    );
}

#[test]
fn block_comment_hides_no_statement() {
    assert!(!is_read_only("/* SELECT */ DROP DATABASE x"));
    assert!(!statement_reads("/* SELECT */ DROP DATABASE x"));
    assert_eq!(statement_count("SELECT 1 /* ; */ FROM m"), 1);
    assert!(is_read_only(
        "SELECT/* x */v FROM m WHERE /* a/b; */ host = 'a'"
    ));
}

#[test]
fn keyword_in_quoted_identifier_is_a_name() {
    assert!(is_read_only(r#"SELECT * FROM "drop""#));
    assert!(statement_reads(r#"SELECT "into" FROM "into""#));
}

#[test]
fn select_into_writes() {
    assert!(!is_read_only("SELECT * INTO copy FROM cpu"));
    assert!(!statement_reads("SELECT * into copy FROM cpu"));
    assert!(!statement_reads("SELECT * FROM (SELECT * INTO c FROM cpu)"));
}

#[test]
fn reads_in_any_case() {
    assert!(is_read_only("select * from m; show databases"));
    assert!(is_read_only("SeLeCt * FrOm m;ShOw MeAsUrEmEnTs;"));
}

#[test]
fn writes_are_not_read_only() {
    for query in [
        "CREATE DATABASE x",
        "create database x",
        "DROP MEASUREMENT m",
        "DELETE FROM m",
        "ALTER RETENTION POLICY p ON x DURATION 1h",
        "GRANT ALL TO u",
        "REVOKE ALL FROM u",
        "SET PASSWORD FOR u = 'p'",
        "KILL QUERY 1",
        "SHOW DATABASES; CREATE DATABASE x",
    ] {
        assert!(!is_read_only(query), "{query}");
    }
}

#[test]
fn explain_looks_at_what_it_explains() {
    assert!(is_read_only("EXPLAIN SELECT * FROM m"));
    assert!(is_read_only("EXPLAIN ANALYZE SELECT * FROM m"));
    assert!(is_read_only("explain analyze verbose select * from m"));
    assert!(!statement_reads("EXPLAIN SELECT * INTO c FROM m"));
    assert!(!statement_reads("EXPLAIN ANALYZE SELECT * INTO c FROM m"));
    assert!(!statement_reads("EXPLAIN DROP DATABASE x"));
    assert!(!statement_reads("EXPLAIN"));
}

#[test]
fn write_words_anywhere_make_a_write() {
    for query in [
        "SELECT * FROM m WHERE host = 'drop'",
        "SELECT * FROM m WHERE host =~ /Create/",
        "SELECT * FROM m -- delete\n",
        "SELECT * FROM m /* alter */",
        "SELECT \"grant x\" FROM m",
        "SELECT \"x\"DROP",
        "SELECT revoke FROM m",
        "SELECT * FROM m WHERE k = 'x set y'",
        "SHOW QUERIES; -- then kill",
        "SELECT * FROM m WHERE a = 'Into'",
    ] {
        assert!(!is_read_only(query), "{query}");
    }
    for query in [
        "SELECT dropped, settings, into_x, x_into FROM m",
        "SELECT * FROM m WHERE host = 'é'",
        "SHOW DATABASES",
    ] {
        assert!(is_read_only(query), "{query}");
    }
    assert!(mentions_write_word("éDROPé"));
    assert!(!mentions_write_word("DROP_"));
    assert!(!mentions_write_word("5drop"));
    // The server reads `drop"x"` as the name `x`: never the keyword.
    assert!(!mentions_write_word("drop\"x\""));
    assert!(is_read_only(r#"SELECT "drop", "Into" FROM "delete""#));
}

#[test]
fn empty_statements_are_skipped() {
    assert_eq!(statements(""), Vec::<&str>::new());
    assert_eq!(statements(" ; ;\n"), Vec::<&str>::new());
    assert_eq!(statements("-- only\n; /* this */"), Vec::<&str>::new());
    assert_eq!(statements(";SHOW DATABASES;;"), ["SHOW DATABASES"]);
    assert_eq!(
        statement_count("SELECT 1 FROM m; -- c\n ; /* d */ ; SHOW USERS"),
        2
    );
    assert!(is_read_only(""));
    assert!(is_read_only("-- nothing"));
}

#[test]
fn not_is_a_name_as_in_influxql() {
    assert_eq!(
        statement_count("SELECT not / 2 FROM m; SELECT 1 FROM /a/"),
        2
    );
}

#[test]
fn unterminated_tokens_run_to_the_end() {
    for (query, kind) in [
        ("SELECT 'abc; DROP", Kind::Str),
        ("SELECT \"abc; DROP", Kind::QuotedIdent),
        ("SELECT * FROM /abc; DROP", Kind::Regex),
        ("SELECT 'abc\\", Kind::Str),
        ("SELECT * FROM /abc\\", Kind::Regex),
        ("SELECT 'é\\😀", Kind::Str),
    ] {
        assert_eq!(statement_count(query), 1, "{query}");
        assert_eq!(kinds(query).last().map(|t| t.0), Some(kind), "{query}");
    }
    assert_eq!(strip_comments("SELECT 1 /* ; DROP"), "SELECT 1  ");
    assert_eq!(strip_comments("SELECT 1 -- ; DROP"), "SELECT 1  ");
    assert_eq!(statement_count("SELECT 1 /* ; DROP"), 1);
    assert_eq!(statement_count("/*"), 0);
    assert_eq!(statement_count("/"), 1);
}

#[test]
fn non_ascii_text_anywhere() {
    let query = "SELECT \"é😀\" / 2 FROM /é;😀/ WHERE h = 'ü;' -- ß;\n; SELECT é😀 FROM m";
    assert_eq!(statement_count(query), 2);
    assert!(is_read_only(query));
    assert_eq!(strip_comments("é/*😀*/é"), "é é");
    for query in ["é", "😀/", "/😀", "'😀", "\\😀", "5µ", "5µs / 2", "$é", "µ"] {
        let _ = statement_count(query);
        let _ = is_read_only(query);
        let _ = strip_comments(query);
    }
    assert_eq!(kinds("5µs / 2")[0], (Kind::Number, "5µs"));
    assert_eq!(kinds("5µs / 2")[1], (Kind::Operator, "/"));
}

#[test]
fn tokens_follow_the_server_scanner() {
    assert_eq!(
        kinds("SELECT abc\"d;e\", $p, $\"q r\", 1., .5e, 12h30m FROM x.rp.m"),
        [
            (Kind::Word, "SELECT"),
            (Kind::QuotedIdent, "abc\"d;e\""),
            (Kind::Operator, ","),
            (Kind::BoundParam, "$p"),
            (Kind::Operator, ","),
            (Kind::BoundParam, "$\"q r\""),
            (Kind::Operator, ","),
            (Kind::Number, "1."),
            (Kind::Operator, ","),
            (Kind::Number, ".5"),
            (Kind::Word, "e"),
            (Kind::Operator, ","),
            (Kind::Number, "12h30m"),
            (Kind::Word, "FROM"),
            (Kind::Word, "x"),
            (Kind::Operator, "."),
            (Kind::Word, "rp"),
            (Kind::Operator, "."),
            (Kind::Word, "m"),
        ]
    );
    assert_eq!(
        kinds("a=~b!~c!=d<>e<=f>=g::h:i!j"),
        [
            (Kind::Word, "a"),
            (Kind::Operator, "=~"),
            (Kind::Word, "b"),
            (Kind::Operator, "!~"),
            (Kind::Word, "c"),
            (Kind::Operator, "!="),
            (Kind::Word, "d"),
            (Kind::Operator, "<>"),
            (Kind::Word, "e"),
            (Kind::Operator, "<="),
            (Kind::Word, "f"),
            (Kind::Operator, ">="),
            (Kind::Word, "g"),
            (Kind::DoubleColon, "::"),
            (Kind::Word, "h"),
            (Kind::Operator, ":"),
            (Kind::Word, "i"),
            (Kind::Other, "!"),
            (Kind::Word, "j"),
        ]
    );
    // The wildcard ends an operand; multiplication expects one.
    assert_eq!(kinds("SELECT * / 2")[2], (Kind::Operator, "/"));
    assert_eq!(kinds("SELECT a * /b/")[3], (Kind::Regex, "/b/"));
    // `/*` is a comment even where a regex may start.
    assert_eq!(
        kinds("SELECT /* c */ v"),
        [(Kind::Word, "SELECT"), (Kind::Word, "v")]
    );
}

#[test]
fn splits_many_statements_in_linear_time() {
    let query = "SELECT v / 2 FROM m WHERE h =~ /a;b/ AND k = 'x;y' -- c;\n;".repeat(80_000);
    assert_eq!(statement_count(&query), 80_000);
    assert!(is_read_only(&query));
    let query = "SELECT * FROM m; DROP DATABASE x;".repeat(80_000);
    assert_eq!(statement_count(&query), 160_000);
    assert!(!is_read_only(&query));
    // Unterminated openers must not be rescanned from every position.
    for opener in ["'", "\"", "/", "/*", "--", "\\", "$", "5", "a\"", "é"] {
        let query = opener.repeat(200_000);
        let _ = statement_count(&query);
        let _ = is_read_only(&query);
        let _ = strip_comments(&query);
    }
}

/// Pieces that random queries are glued from: every token kind, openers without closers,
/// escapes, and multi-byte characters.
const PIECES: &[&str] = &[
    "SELECT", "select", "FROM", "WHERE", "INTO", "SHOW", "EXPLAIN", "ANALYZE", "DROP", "BY", "AND",
    "true", "v", "m", "_x1", "abc\"", "\"", "'", "/", "\\", "\\/", "*", "/*", "*/", "--", "-", "+",
    "(", ")", ",", ".", ":", "::", ";", "=", "=~", "!~", "!", "<", ">", "$", "$p", "5", "5m",
    "1.5", ".5", "µ", "é", "😀", " ", "\t", "\n", "\r", "\r\n", "'a;b'", "\"a;b\"", "/a;b/",
    "/* ; */", "-- ;\n", "\u{a0}", "\0",
];

proptest! {
    #[test]
    fn random_token_soup_never_panics(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40),
        spaced in any::<bool>(),
    ) {
        let query = pieces.join(if spaced { " " } else { "" });
        let lexed: String = Lexer::new(&query).map(|t| t.text).collect();
        prop_assert_eq!(&lexed, &query);
        let parts = statements(&query);
        prop_assert_eq!(parts.len(), statement_count(&query));
        for part in parts {
            // After a `;` the lexer starts afresh, so a statement lexes alone as in place.
            prop_assert!(Lexer::new(part).all(|t| t.kind != Kind::Semicolon));
            prop_assert!(Lexer::new(part).any(|t| t.kind.is_significant()));
        }
        let stripped = strip_comments(&query);
        prop_assert!(Lexer::new(&stripped).all(|t| t.kind != Kind::Comment));
        prop_assert_eq!(kinds(&stripped), kinds(&query));
        let _ = is_read_only(&query);
    }

    #[test]
    fn select_then_drop_is_never_read_only(
        selects in proptest::collection::vec(select_strategy(), 1..4),
    ) {
        let reads = selects.join(";");
        prop_assert!(is_read_only(&reads), "{}", reads);
        prop_assert_eq!(statement_count(&reads), selects.len(), "{}", reads);
        let query = format!("{reads}; DROP DATABASE x");
        prop_assert!(!is_read_only(&query), "{}", query);
        // Not only the word check: the tokenizer itself finds the DROP statement.
        let parts = statements(&query);
        prop_assert_eq!(parts.len(), selects.len() + 1, "{}", query);
        prop_assert_eq!(parts.last().map(|s| s.trim()), Some("DROP DATABASE x"));
        prop_assert!(parts[..selects.len()].iter().all(|s| statement_reads(s)));
    }
}

/// Text for strings, regexes and comments: every character that could end or open
/// something, but no letters that could spell a write word.
fn content() -> impl Strategy<Value = String> {
    const CHARS: &[char] = &[
        'a', 'b', 'x', '0', ' ', ';', '\'', '"', '/', '\\', '-', '*', '$', '(', ')', 'é', '😀',
        '\t',
    ];
    proptest::collection::vec(proptest::sample::select(CHARS), 0..12)
        .prop_map(|chars| chars.into_iter().collect())
}

fn regex() -> impl Strategy<Value = String> {
    content().prop_map(|text| {
        let mut body = text.replace('/', "\\/");
        // `/*` opens a comment; as a regex it would never compile on the server.
        if body.starts_with('*') {
            body.insert(0, 'a');
        }
        // A backslash right before the closing `/` would escape it.
        if body.ends_with('\\') {
            body.push('a');
        }
        format!("/{body}/")
    })
}

fn literal() -> impl Strategy<Value = String> {
    content().prop_map(|text| quote_literal(&text))
}

fn comment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        content().prop_map(|text| format!(" -- {text}\n")),
        content().prop_map(|text| format!(" /*{}*/ ", text.replace("*/", "* /"))),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("v".to_owned()),
        Just("*".to_owned()),
        Just("v / 2".to_owned()),
        Just("a/b".to_owned()),
        Just("mean(v) / 2".to_owned()),
        Just("\"f\" / 3".to_owned()),
        Just("v::field / 2".to_owned()),
        Just("1.5/v/2".to_owned()),
        regex(),
        regex().prop_map(|r| format!("count({r})")),
        (comment(), literal()).prop_map(|(c, l)| format!("v{c}/ 2 AS a, {l}")),
    ]
}

fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("m".to_owned()),
        Just("\"m\"".to_owned()),
        regex(),
        regex().prop_map(|r| format!("x.autogen.{r}")),
        (field(), regex()).prop_map(|(f, r)| format!("(SELECT {f} FROM {r})")),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    prop_oneof![
        literal().prop_map(|l| format!("host = {l}")),
        regex().prop_map(|r| format!("host =~ {r}")),
        regex().prop_map(|r| format!("host!~{r} AND v / 2 < 3")),
        Just("time > now() - 5m".to_owned()),
        (literal(), comment()).prop_map(|(l, c)| format!("(v/2 > 1{c}OR h = {l})")),
    ]
}

fn select_strategy() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(field(), 1..3),
        proptest::collection::vec(source(), 1..3),
        proptest::option::of(condition()),
        proptest::option::of(regex()),
        [comment(), comment(), comment(), comment()],
    )
        .prop_map(|(fields, sources, condition, group, [c1, c2, c3, c4])| {
            let mut select = format!(
                "{c1}SELECT {}{c2} FROM {}",
                fields.join(", "),
                sources.join(",")
            );
            if let Some(condition) = condition {
                select.push_str(&format!("{c3} WHERE {condition}"));
            }
            if let Some(group) = group {
                select.push_str(&format!(" GROUP BY {group}"));
            }
            select.push_str(&c4);
            select
        })
}
