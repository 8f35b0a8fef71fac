//! Proptest strategies for points whose names are full of the characters that need care.

use influx_series::{Field, MAX_NANOS, MIN_NANOS, PointBuilder};
use proptest::prelude::*;

/// Characters that line protocol treats specially, mixed with a few plain and non-ASCII ones.
const HARD: &[char] = &[
    ',', '=', '"', '\\', '#', ' ', '\t', '\n', '\r', '\0', 'é', '✓', 'a', 'b', 'Z', '0', '_', '\'',
];

/// A short string drawn mostly from [`HARD`].
pub fn hard_string(max: usize) -> impl Strategy<Value = String> {
    let one = prop_oneof![
        2 => prop::sample::select(HARD),
        3 => prop::sample::select(&['a', 'b', 'c', 'x', 'y', 'z', '1', 'é'][..]),
    ];
    prop::collection::vec(one, 0..max).prop_map(String::from_iter)
}

/// A field value of any of the four types.
pub fn field_value() -> impl Strategy<Value = Field> {
    prop_oneof![
        any::<f64>().prop_map(Field::Float),
        prop::num::f64::NORMAL.prop_map(Field::Float),
        (-1000i64..1000).prop_map(|v| Field::Float(v as f64)),
        any::<i64>().prop_map(Field::Integer),
        any::<u64>().prop_map(Field::UInteger),
        any::<bool>().prop_map(Field::Boolean),
        hard_string(12).prop_map(Field::String),
    ]
}

/// The raw parts of a point; building them may fail, which is part of what is tested.
#[derive(Debug, Clone)]
pub struct RawPoint {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, Field)>,
    pub nanos: Option<i64>,
}

impl RawPoint {
    pub fn builder(&self) -> PointBuilder {
        let mut b = influx_series::Point::builder(self.measurement.clone());
        for (k, v) in &self.tags {
            b = b.tag(k.clone(), v.clone());
        }
        for (k, v) in &self.fields {
            b = b.field(k.clone(), v.clone());
        }
        if let Some(n) = self.nanos {
            b = b.timestamp_in(n, influx_series::Precision::Nanoseconds);
        }
        b
    }
}

pub fn raw_point() -> impl Strategy<Value = RawPoint> {
    (
        hard_string(8),
        prop::collection::vec((hard_string(6), hard_string(6)), 0..4),
        prop::collection::vec((hard_string(6), field_value()), 0..4),
        prop::option::of(prop_oneof![
            Just(MIN_NANOS),
            Just(influx_series::MIN_ENCODABLE_NANOS),
            Just(MAX_NANOS),
            MIN_NANOS..=MAX_NANOS,
            -4_000_000_000_000_000_000i64..4_000_000_000_000_000_000,
        ]),
    )
        .prop_map(|(measurement, tags, fields, nanos)| RawPoint {
            measurement,
            tags,
            fields,
            nanos,
        })
}
