use super::*;
use crate::protocol::parse::parse_line;

/// Every name of a point, escaped or not, comes out escaped, however the point was made:
/// the encoder copies names as they are only when none needs escaping.
#[test]
fn names_to_escape_are_escaped_however_the_point_was_made() {
    let lines = [
        "cpu,host=a b=1i",
        "c\\ pu,host=a b=1i",
        "cpu,h\\=ost=a b=1i",
        "cpu,host=a\\,b b=1i",
        "cpu,host=a b\\ c=1i",
        "cpu,host=a b=1i 1000",
    ];
    for line in lines {
        let parsed = parse_line(line, Precision::Nanoseconds).unwrap();
        assert_eq!(parsed.to_line(Precision::Nanoseconds), line);
    }
    // A tag value to escape, replaced by a plain one: the point is written plainly and right.
    let replaced = Point::builder("cpu")
        .tag("host", "a b")
        .tag("host", "ab")
        .field("v", 1)
        .build()
        .unwrap();
    assert_eq!(replaced.to_line(Precision::Nanoseconds), "cpu,host=ab v=1i");
    // ... and the other way round, and a key to escape.
    let escaped = Point::builder("cpu")
        .tag("host", "ab")
        .tag("host", "a b")
        .tag("d c", "x")
        .field("f=", 1)
        .build()
        .unwrap();
    assert_eq!(
        escaped.to_line(Precision::Nanoseconds),
        "cpu,d\\ c=x,host=a\\ b f\\==1i"
    );
    // With shared tags, plain names go through the merge as they are.
    let plain = Point::builder("cpu")
        .tag("host", "a")
        .field("v", 1)
        .build()
        .unwrap();
    let shared = SharedTags::new([("dc", "x y")]).unwrap();
    let mut out = Vec::new();
    plain
        .write_line_shared(&mut out, Precision::Nanoseconds, &shared, None)
        .unwrap();
    assert_eq!(out, b"cpu,dc=x\\ y,host=a v=1i");
}

/// Whether names need escaping is not part of a point's value.
#[test]
fn equal_points_are_equal_whatever_their_names_were() {
    let a = Point::builder("cpu")
        .tag("host", "a b")
        .tag("host", "ab")
        .field("v", 1);
    let b = Point::builder("cpu").tag("host", "ab").field("v", 1);
    assert_eq!(a.build().unwrap(), b.build().unwrap());
}
