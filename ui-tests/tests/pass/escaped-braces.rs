//! `{{` and `}}` write literal braces in the series name.

use influx_series::Series;

#[derive(Series)]
#[series(name = "{{literal}}.{host}")]
struct Braces {
    #[series(tag)]
    host: String,
    value: bool,
    #[series(time)]
    at: i64,
}

#[derive(Series)]
#[series(name = "static{{}}")]
struct StaticBraces {
    value: bool,
    #[series(time)]
    at: i64,
}

fn main() {
    let mut out = Vec::new();
    Braces {
        host: "h".into(),
        value: true,
        at: 1,
    }
    .write_line(&mut out)
    .unwrap();
    assert_eq!(out, b"{literal}.h,host=h value=true 1");

    let mut out = Vec::new();
    StaticBraces {
        value: false,
        at: 2,
    }
    .write_line(&mut out)
    .unwrap();
    assert_eq!(out, b"static{} value=false 2");
}
