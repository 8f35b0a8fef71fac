//! What a `#[derive(Series)]` type declares about the data it writes: [`SeriesSchema`].

use influx_core::{FieldType, Precision};

/// What a `#[derive(Series)]` type declares about what it writes, from
/// [`Series::schema`](crate::Series::schema): its measurement (a name, or a template such as
/// `cpu.{host}`), tag keys, field keys with the type InfluxDB stores each as, the time member
/// and precision, and the database and retention policy it writes to.
///
/// ```
/// use influx_series::{FieldType, Precision, Series};
///
/// #[derive(Series)]
/// #[series(name = "cpu.{host}", database = "metrics", precision = "s")]
/// struct Cpu {
///     #[series(tag)]
///     host: String,
///     usage: f64,
///     cores: Option<u32>,
/// }
///
/// let schema = Cpu::schema();
/// assert_eq!(schema.measurement(), "cpu.{host}");
/// assert_eq!(schema.measurement_pattern(), Some(r"^cpu\..*$"));
/// assert_eq!(schema.tags(), ["host"]);
/// assert_eq!(schema.fields()[0].key, "usage");
/// assert_eq!(schema.fields()[0].field_type, Some(FieldType::Float));
/// assert_eq!(schema.fields()[1].field_type, Some(FieldType::Integer));
/// assert_eq!(schema.precision(), Precision::Seconds);
/// assert_eq!(schema.database(), Some("metrics"));
/// assert_eq!(schema.retention_policy(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSchema {
    type_name: &'static str,
    measurement: &'static str,
    measurement_pattern: Option<&'static str>,
    tags: &'static [&'static str],
    fields: &'static [FieldSchema],
    time: Option<&'static str>,
    precision: Precision,
    database: Option<&'static str>,
    retention_policy: Option<&'static str>,
}

impl SeriesSchema {
    /// Built by the derive.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        type_name: &'static str,
        measurement: &'static str,
        measurement_pattern: Option<&'static str>,
        tags: &'static [&'static str],
        fields: &'static [FieldSchema],
        time: Option<&'static str>,
        precision: Precision,
        database: Option<&'static str>,
        retention_policy: Option<&'static str>,
    ) -> Self {
        SeriesSchema {
            type_name,
            measurement,
            measurement_pattern,
            tags,
            fields,
            time,
            precision,
            database,
            retention_policy,
        }
    }

    /// The Rust type's name.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The measurement: the name written (a declared `{{` is `{` here), or the template as
    /// declared, whose `{member}` placeholders are filled from each value.
    pub fn measurement(&self) -> &'static str {
        self.measurement
    }

    /// For a template, the regular expression (without its slashes) that matches every name
    /// it can produce: its literal parts, and `.*` for each placeholder. `None` for a name.
    pub fn measurement_pattern(&self) -> Option<&'static str> {
        self.measurement_pattern
    }

    /// The tag keys, in the order the members are declared.
    pub fn tags(&self) -> &'static [&'static str] {
        self.tags
    }

    /// The fields, in the order the members are declared.
    pub fn fields(&self) -> &'static [FieldSchema] {
        self.fields
    }

    /// The name of the `#[series(time)]` member; `None` when points are stamped at
    /// `record()`.
    pub fn time(&self) -> Option<&'static str> {
        self.time
    }

    /// The precision timestamps are written in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The database the type writes to; `None`: the client's.
    pub fn database(&self) -> Option<&'static str> {
        self.database
    }

    /// The retention policy the type writes to; `None`: the database's default.
    pub fn retention_policy(&self) -> Option<&'static str> {
        self.retention_policy
    }
}

/// A field a type declares: its key, and the type InfluxDB stores it as (`None` for a member
/// type of yours whose [`FieldValue`](crate::FieldValue) does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldSchema {
    /// The field key.
    pub key: &'static str,
    /// The type the field is written as; Rust's unsigned integers are written as `integer`.
    pub field_type: Option<FieldType>,
}

impl FieldSchema {
    /// Built by the derive.
    #[doc(hidden)]
    pub const fn __new(key: &'static str, field_type: Option<FieldType>) -> Self {
        FieldSchema { key, field_type }
    }
}
