//! A user enum that implements `TagValue`, used as a tag and in the series name.

use influx_series::{Series, TagValue};

enum Region {
    UsWest,
    EuCentral,
}

impl TagValue for Region {
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        text(match self {
            Region::UsWest => "us-west",
            Region::EuCentral => "eu-central",
        })
    }
}

#[derive(Series)]
#[series(name = "requests.{region}")]
struct Requests {
    #[series(tag)]
    region: Region,
    count: u32,
    #[series(time)]
    at: i64,
}

fn main() {
    for (region, expected) in [
        (Region::UsWest, "requests.us-west,region=us-west count=3i 7"),
        (
            Region::EuCentral,
            "requests.eu-central,region=eu-central count=3i 7",
        ),
    ] {
        let mut out = Vec::new();
        Requests {
            region,
            count: 3,
            at: 7,
        }
        .write_line(&mut out)
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
