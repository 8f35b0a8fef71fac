//! influxdb-python's SeriesHelper tutorial, as a struct.

use chrono::{DateTime, TimeZone, Utc};
use influx_series::Series;

#[derive(Series)]
#[series(name = "events.stats.{server_name}", bulk_size = 5, autocommit)]
struct MySeriesHelper {
    #[series(tag)]
    server_name: String,
    some_stat: i64,
    other_stat: Option<f64>,
    #[series(time)]
    time: Option<DateTime<Utc>>,
}

fn main() {
    let point = MySeriesHelper {
        server_name: "us.east-1".into(),
        some_stat: 159,
        other_stat: Some(10.0),
        time: Some(Utc.with_ymd_and_hms(2020, 5, 1, 12, 0, 0).unwrap()),
    };
    let mut out = Vec::new();
    point.write_line(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "events.stats.us.east-1,server_name=us.east-1 some_stat=159i,other_stat=10.0 1588334400000000000"
    );
}
