//! Borrowed members: a `&'a str` tag and a `Cow<'a, str>` field.

use std::borrow::Cow;

use influx_series::Series;

#[derive(Series)]
#[series(name = "log.{host}")]
struct Log<'a> {
    #[series(tag)]
    host: &'a str,
    message: Cow<'a, str>,
}

fn main() {
    let host = String::from("web-1");
    let point = Log {
        host: &host,
        message: Cow::Borrowed("started"),
    };
    let mut out = Vec::new();
    point.write_line(&mut out).unwrap();
    let line = String::from_utf8(out).unwrap();
    assert!(
        line.starts_with("log.web-1,host=web-1 message=\"started\" "),
        "{line}"
    );
}
