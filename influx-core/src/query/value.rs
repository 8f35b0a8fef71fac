//! [`Value`]: one cell of a query result, the same type whether it is read into a
//! [`crate::ResultSet`] (owned) or handed to a [`crate::FromCell`] while rows are decoded
//! (borrowed from the answer where it can be).

use std::borrow::Cow;
use std::fmt;

/// One cell of a query result.
///
/// JSON does not tell a float `1.0` from an integer `1` (the server writes both as `1`), so a
/// number without a fraction or exponent decodes as [`Value::Integer`]; [`Value::as_f64`]
/// reads either. In a [`crate::ResultSet`] every value is owned (`Value<'static>`); a
/// [`crate::FromCell`] gets strings borrowed from the answer where they hold no escapes.
///
/// ```
/// use influx_series::Value;
/// let v = Value::String("up".into());
/// assert_eq!(v.as_str(), Some("up"));
/// assert_eq!(Value::Integer(3).as_f64(), Some(3.0));
/// assert_eq!(Value::Null.to_string(), "null");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// JSON `null`: the column has no value in this row.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number without fraction or exponent that fits in `i64`.
    Integer(i64),
    /// A number without fraction above `i64::MAX`.
    Unsigned(u64),
    /// Any other number.
    Float(f64),
    /// A string (also RFC 3339 times, when no epoch was asked for).
    String(Cow<'a, str>),
}

impl Value<'_> {
    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The number as `f64` (integers converted).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::Integer(v) => Some(v as f64),
            Value::Unsigned(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The integer, if this is one that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Integer(v) => Some(v),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(v) => Some(v),
            _ => None,
        }
    }

    /// The value, owning its string.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(v) => Value::Bool(v),
            Value::Integer(v) => Value::Integer(v),
            Value::Unsigned(v) => Value::Unsigned(v),
            Value::Float(v) => Value::Float(v),
            Value::String(v) => Value::String(Cow::Owned(v.into_owned())),
        }
    }

    /// What kind of value this is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Integer(_) | Value::Unsigned(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Integer(v) => write!(f, "{v}"),
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::String(v) => write!(f, "{v:?}"),
        }
    }
}
