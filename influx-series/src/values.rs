//! What a member of a `#[derive(Series)]` struct may be: [`TagValue`], [`FieldValue`] and
//! [`TimeValue`], implemented for the standard types and open to yours.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// A type whose values can be tags: strings, and your own types (enums, ids) that have a string
/// form.
///
/// ```
/// use influx_series::TagValue;
///
/// enum Region { UsWest, EuCentral }
///
/// impl TagValue for Region {
///     fn tag_value(&self) -> &str {
///         match self {
///             Region::UsWest => "us-west",
///             Region::EuCentral => "eu-central",
///         }
///     }
/// }
/// assert_eq!(Region::EuCentral.tag_value(), "eu-central");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tag: implement `TagValue`",
    label = "not a tag type",
    note = "tags are strings: `String`, `&str`, `Cow<str>`, `Option` of those, or a type that implements `influx_series::TagValue`"
)]
pub trait TagValue {
    /// The tag's text. An empty text leaves the tag out of the line (1.x rejects `key=`).
    fn tag_value(&self) -> &str;

    /// True when there is no value at all (`None`); a template placeholder then fails.
    fn is_absent(&self) -> bool {
        false
    }
}

impl TagValue for str {
    fn tag_value(&self) -> &str {
        self
    }
}

impl TagValue for String {
    fn tag_value(&self) -> &str {
        self
    }
}

impl TagValue for Cow<'_, str> {
    fn tag_value(&self) -> &str {
        self
    }
}

impl TagValue for Box<str> {
    fn tag_value(&self) -> &str {
        self
    }
}

impl TagValue for Arc<str> {
    fn tag_value(&self) -> &str {
        self
    }
}

impl TagValue for Rc<str> {
    fn tag_value(&self) -> &str {
        self
    }
}

impl<T: TagValue + ?Sized> TagValue for &T {
    fn tag_value(&self) -> &str {
        (**self).tag_value()
    }
    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<T: TagValue> TagValue for Option<T> {
    fn tag_value(&self) -> &str {
        self.as_ref().map_or("", TagValue::tag_value)
    }
    fn is_absent(&self) -> bool {
        self.as_ref().is_none_or(TagValue::is_absent)
    }
}

/// A field value as the encoder sees it: one of the four line-protocol types, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    /// A float; NaN and infinities are rejected when encoding.
    Float(f64),
    /// An `f32`, written in its own shortest form (`0.1f32` as `0.1`).
    Float32(f32),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer; above `i64::MAX` it is rejected when encoding.
    UInteger(u64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
    /// No value: the field is left out of the line (`None`).
    Absent,
}

/// A type whose values can be fields: every integer width, `f32`, `f64`, `bool`, strings,
/// `Option` of those, and your own types through one of those.
///
/// ```
/// use influx_series::{FieldRef, FieldValue};
///
/// struct Celsius(f64);
///
/// impl FieldValue for Celsius {
///     fn field_ref(&self) -> FieldRef<'_> {
///         FieldRef::Float(self.0)
///     }
/// }
/// assert_eq!(Celsius(21.5).field_ref(), FieldRef::Float(21.5));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field: implement `FieldValue`",
    label = "not a field type",
    note = "fields are integers, `f32`, `f64`, `bool`, `String`, `&str`, `Option` of those, or a type that implements `influx_series::FieldValue`"
)]
pub trait FieldValue {
    /// The value to write.
    fn field_ref(&self) -> FieldRef<'_>;
}

macro_rules! int_fields {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl FieldValue for $t {
            #[inline]
            fn field_ref(&self) -> FieldRef<'_> {
                FieldRef::$variant(*self as $wide)
            }
        }
    )*};
}
int_fields!(Integer as i64: i8, i16, i32, i64, isize, u8, u16, u32);
int_fields!(UInteger as u64: u64, usize);

impl FieldValue for f64 {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float(*self)
    }
}

impl FieldValue for f32 {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float32(*self)
    }
}

impl FieldValue for bool {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Bool(*self)
    }
}

impl FieldValue for str {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for String {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Cow<'_, str> {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Box<str> {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Arc<str> {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl<T: FieldValue + ?Sized> FieldValue for &T {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        (**self).field_ref()
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        self.as_ref()
            .map_or(FieldRef::Absent, FieldValue::field_ref)
    }
}

/// The time of a point as the encoder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRef<'a> {
    /// No time: the point is stamped when it is recorded.
    Now,
    /// An instant.
    At(&'a DateTime<Utc>),
    /// A count of the series' declared precision units since the epoch.
    Raw(i64),
    /// An instant of the system clock.
    System(std::time::SystemTime),
}

/// A type that can be the `#[series(time)]` member: `DateTime<Utc>`, `SystemTime`, `i64`
/// counted in the series' `precision`, or an `Option` of those (`None`: stamped at `record()`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the time of a point",
    label = "not a time type",
    note = "the `time` member is a `chrono::DateTime<Utc>`, a `std::time::SystemTime`, an `i64` in the series' precision, or an `Option` of those"
)]
pub trait TimeValue {
    /// The time to write.
    fn time_ref(&self) -> TimeRef<'_>;
}

impl TimeValue for DateTime<Utc> {
    #[inline]
    fn time_ref(&self) -> TimeRef<'_> {
        TimeRef::At(self)
    }
}

impl TimeValue for std::time::SystemTime {
    #[inline]
    fn time_ref(&self) -> TimeRef<'_> {
        TimeRef::System(*self)
    }
}

impl TimeValue for i64 {
    #[inline]
    fn time_ref(&self) -> TimeRef<'_> {
        TimeRef::Raw(*self)
    }
}

impl<T: TimeValue> TimeValue for Option<T> {
    #[inline]
    fn time_ref(&self) -> TimeRef<'_> {
        self.as_ref().map_or(TimeRef::Now, TimeValue::time_ref)
    }
}

impl<T: TimeValue + ?Sized> TimeValue for &T {
    #[inline]
    fn time_ref(&self) -> TimeRef<'_> {
        (**self).time_ref()
    }
}
