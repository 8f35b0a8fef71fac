//! A user newtype that implements `FieldValue`.

use influx_series::{FieldRef, FieldValue, Series};

struct Celsius(f64);

impl FieldValue for Celsius {
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float(self.0)
    }
}

#[derive(Series)]
struct Weather {
    temperature: Celsius,
    #[series(time)]
    at: i64,
}

fn main() {
    let mut out = Vec::new();
    Weather {
        temperature: Celsius(21.5),
        at: 1,
    }
    .write_line(&mut out)
    .unwrap();
    assert_eq!(out, b"weather temperature=21.5 1");
}
