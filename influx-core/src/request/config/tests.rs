use super::*;

#[test]
fn base64_matches_the_rfc_examples() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn dsn_with_several_hosts_lists_them_in_order() {
    let c = ClientConfig::from_dsn("https+influxdb://u:p%2Cq@a:1,b,[::1]:3/db").unwrap();
    assert_eq!(c.hosts(), vec![("a", 1), ("b", 443), ("[::1]", 3)]);
    assert_eq!(
        c.base_urls(),
        vec!["https://a:1", "https://b:443", "https://[::1]:3"]
    );
    assert_eq!(c.database(), Some("db"));
    assert_eq!(
        c.credentials,
        Credentials::Basic {
            username: "u".into(),
            password: "p,q".into()
        }
    );
    assert!(ClientConfig::from_dsn("influxdb://a:1,:2/db").is_err());
}

#[test]
fn dsn_schemes() {
    let c = ClientConfig::from_dsn("influxdb://u:p%40ss@host:1234/db").unwrap();
    assert_eq!(c.base_url(), "http://host:1234");
    assert_eq!(
        c.credentials,
        Credentials::Basic {
            username: "u".into(),
            password: "p@ss".into()
        }
    );
    let udp = ClientConfig::from_dsn("udp+influxdb://host/db").unwrap();
    assert_eq!(
        (udp.udp_port(), udp.base_url().as_str()),
        (Some(4444), "http://host:8086")
    );
    assert!(ClientConfig::from_dsn("postgres://host/db").is_err());
    assert!(ClientConfig::from_dsn("http+influxdb://host/db").is_err());
}

/// Every shape of malformed input that holds the password `hunter2`, through every entry
/// point that parses one: no error's `Display`, `Debug` or source chain may show it.
#[test]
fn no_configuration_error_shows_a_password() {
    const PASSWORD: &str = "hunter2";
    let urls = [
        "bob:hunter2@db.example.com:8086",
        "http:/bob:hunter2@db.example.com:8086",
        "http//bob:hunter2@db.example.com:8086",
        "http://bob:hunter2",
        "http://bob:hunter2@",
        "http://bob:hunter2@db.example.com:notaport",
        "http://bob:hunter2@[::1:8086",
        "http://bob:hunter2@:8086",
        "hunter2://db.example.com",
        "htp://bob:hunter2@db.example.com",
        "http://admin:hunter2/x@db.example.com",
        "http://bob:hunter2@db.example.com:99999",
        "http://bob:hunter2@db.example.com:8086/a@b",
    ];
    let dsns = [
        "influxdb:/bob:hunter2@db.example.com:8086/db",
        "influxdb//bob:hunter2@db.example.com/db",
        "bob:hunter2@db.example.com",
        "hunter2+influxdb://db.example.com/db",
        "postgres://bob:hunter2@db.example.com/db",
        "influxdb://bob:hunter2@db.example.com:port/db",
        "udp+influxdb://bob:hunter2",
    ];
    fn shown(err: &Error) -> String {
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            text.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        text
    }
    let mut refused = 0;
    for url in urls {
        let results = [
            ClientConfig::from_url(url).map(drop),
            crate::Client::new(url).map(drop),
            ClientConfig::from_lookup(|n| (n == "INFLUXDB_URL").then(|| url.to_owned())).map(drop),
        ];
        for result in results {
            let err = result.expect_err(url);
            assert!(!shown(&err).contains(PASSWORD), "{url}: {}", shown(&err));
            refused += 1;
        }
    }
    for dsn in dsns {
        for result in [
            ClientConfig::from_dsn(dsn).map(drop),
            crate::Client::from_dsn(dsn).map(drop),
        ] {
            let err = result.expect_err(dsn);
            assert!(!shown(&err).contains(PASSWORD), "{dsn}: {}", shown(&err));
            refused += 1;
        }
    }
    assert_eq!(refused, urls.len() * 3 + dsns.len() * 2);
}

#[test]
fn every_url_form() {
    let ok = |text: &str| ClientConfig::from_url(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let c = ok("HTTP://h:8086");
    assert_eq!(
        (c.base_url(), c.database()),
        ("http://h:8086".to_owned(), None)
    );
    let c = ok("Https://h?db=my%20db");
    assert_eq!(c.base_url(), "https://h:443");
    assert_eq!(c.database(), Some("my db"));
    assert_eq!(ok("http://h:8086?db=mydb").database(), Some("mydb"));
    assert_eq!(ok("http://h:8086/").base_url(), "http://h:8086");
    assert_eq!(ok("http://h").port, 8086);
    assert_eq!(
        ok("http://h:80").port,
        80,
        "a port equal to the scheme's default is kept"
    );
    assert_eq!(ok("https://h:443").port, 443);
    assert_eq!(ok("http://[::1]:8087").base_url(), "http://[::1]:8087");
    assert_eq!(ok(" http://h:1 ").port, 1);
    for path in ["http://h:8086/mydb", "http://h:8086/influx/"] {
        let err = ClientConfig::from_url(path).unwrap_err().to_string();
        assert!(err.contains("path_prefix") && err.contains("?db="), "{err}");
    }
    for bad in [
        "http://h:8086?database=x",
        "http://h#x",
        "ftp://h",
        "h:8086",
        "http://h:70000",
    ] {
        assert!(ClientConfig::from_url(bad).is_err(), "{bad}");
    }
    // A DSN given where a URL is expected is read as the DSN.
    for dsn in ["influxdb://u:p@h:8087/db", "INFLUXDB://u:p@h:8087/db"] {
        let c = ok(dsn);
        assert_eq!(
            (c.base_url(), c.database()),
            ("http://h:8087".to_owned(), Some("db"))
        );
        assert_eq!(
            c.credentials,
            Credentials::Basic {
                username: "u".into(),
                password: "p".into()
            }
        );
    }
    let client = crate::Client::new("https+influxdb://h/metrics").unwrap();
    assert_eq!(client.config().base_url(), "https://h:443");
    assert_eq!(client.database(), Some("metrics"));
}

#[test]
fn percent_encoded_slashes_in_credentials_are_accepted() {
    let ok = ClientConfig::from_url("http://bob:se%2Fcret@host:8086").unwrap();
    assert_eq!(ok.base_url(), "http://host:8086");
    assert_eq!(
        ok.credentials,
        Credentials::Basic {
            username: "bob".into(),
            password: "se/cret".into()
        }
    );
}

#[test]
fn a_bad_port_variable_is_named() {
    let err = ClientConfig::from_lookup(|n| (n == "INFLUXDB_PORT").then(|| "eighty".to_owned()))
        .unwrap_err();
    assert!(err.to_string().contains("eighty"));
}

/// Hostile escapes in a DSN's credentials: a `%` at the end, before non-hex digits or inside a
/// multi-byte character stays as written; nothing panics and nothing is lost.
#[test]
fn malformed_percent_escapes_are_kept_as_written() {
    assert_eq!(percent_decode("a%"), "a%");
    assert_eq!(percent_decode("%G1x"), "%G1x");
    assert_eq!(percent_decode("%41%4"), "A%4");
    assert_eq!(percent_decode("%é"), "%é");
    assert_eq!(percent_decode("é%"), "é%");
    assert_eq!(percent_decode("%2c%2C"), ",,");
}
