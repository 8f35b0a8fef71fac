//! InfluxDB's four field types.

/// The type of a field, as InfluxDB stores it: fixed per measurement and shard by the first
/// write of the field, after which a value of another type is refused. A DataFrame column of
/// each is `Float64`, `Int64`, `String` and `Boolean`.
///
/// ```
/// use influx_series::FieldType;
///
/// assert_eq!(FieldType::from_server("float"), Some(FieldType::Float));
/// assert_eq!(FieldType::Integer.as_server(), "integer");
/// assert_eq!(FieldType::Boolean.to_string(), "boolean");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// A 64-bit float (`1.5`).
    Float,
    /// A 64-bit signed integer (`1i`; Rust's unsigned integers are written as these).
    Integer,
    /// A string (`"text"`).
    String,
    /// A boolean (`true`).
    Boolean,
}

impl FieldType {
    /// The type `SHOW FIELD KEYS` names (`float`, `integer`, `string`, `boolean`; `unsigned`
    /// reads as `Integer`).
    pub fn from_server(name: &str) -> Option<FieldType> {
        match name {
            "float" => Some(FieldType::Float),
            "integer" | "unsigned" => Some(FieldType::Integer),
            "string" => Some(FieldType::String),
            "boolean" => Some(FieldType::Boolean),
            _ => None,
        }
    }

    /// The name `SHOW FIELD KEYS` gives this type.
    pub fn as_server(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::String => "string",
            FieldType::Boolean => "boolean",
        }
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_server())
    }
}
