//! What a member of a `#[derive(Series)]` struct may be: [`TagValue`], [`FieldValue`] and
//! [`TimeValue`], implemented for the standard types and open to yours.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use influx_core::FieldType;

/// A type whose values can be tags: strings, integers, `bool`, `char`, `Option` of those, and
/// your own types. A type that prints itself (`Display`) needs no impl: mark the member
/// `#[series(tag, display)]`, and it reads back through `FromStr`.
///
/// The text is handed to a closure rather than returned, so that a number is formatted on the
/// stack, not allocated. An enum with fixed names implements it in one line:
///
/// ```
/// use influx_series::{CellError, FromTag, TagValue};
///
/// #[derive(Debug, PartialEq)]
/// enum Region { UsWest, EuCentral }
///
/// impl Region {
///     fn as_str(&self) -> &'static str {
///         match self {
///             Region::UsWest => "us-west",
///             Region::EuCentral => "eu-central",
///         }
///     }
/// }
///
/// impl TagValue for Region {
///     fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
///         text(self.as_str())
///     }
/// }
///
/// // To read it back from query rows too:
/// impl FromTag for Region {
///     fn from_tag(text: Option<&str>) -> Result<Self, CellError> {
///         match text {
///             Some("us-west") => Ok(Region::UsWest),
///             Some("eu-central") => Ok(Region::EuCentral),
///             other => Err(CellError::new(format!("no region {other:?}"))),
///         }
///     }
/// }
/// assert_eq!(Region::EuCentral.tag_text(str::to_owned), "eu-central");
/// assert_eq!(42u16.tag_text(str::to_owned), "42");
/// assert_eq!(Region::from_tag(Some("us-west")).unwrap(), Region::UsWest);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tag: tags are text",
    label = "not a tag type",
    note = "tags are strings, integers, `bool`, `char` or an `Option` of those; a type that implements `Display` is a tag with #[series(tag, display)]; for another type implement `influx_series::TagValue`",
    note = "floats are not tags (their text is not one value: 0.1 and 0.10 would be two tags): make the member a field, or wrap it in a type that implements `Display` and mark it #[series(tag, display)]"
)]
pub trait TagValue {
    /// Hands the tag's text to `text`. An empty text leaves the tag out of the line (1.x
    /// rejects `key=`).
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R;

    /// True when there is no value at all (`None`); a template placeholder then fails.
    fn is_absent(&self) -> bool {
        false
    }
}

macro_rules! str_tags {
    ($($t:ty),*) => {$(
        impl TagValue for $t {
            #[inline]
            fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
                text(self)
            }
        }
    )*};
}
str_tags!(str, String, Cow<'_, str>, Box<str>, Arc<str>, Rc<str>);

macro_rules! int_tags {
    ($($t:ty),*) => {$(
        impl TagValue for $t {
            #[inline]
            fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
                text(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
int_tags!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl TagValue for bool {
    #[inline]
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        text(if *self { "true" } else { "false" })
    }
}

impl TagValue for char {
    #[inline]
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        text(self.encode_utf8(&mut [0; 4]))
    }
}

impl<T: TagValue + ?Sized> TagValue for &T {
    #[inline]
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        (**self).tag_text(text)
    }
    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<T: TagValue> TagValue for Option<T> {
    #[inline]
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        match self {
            Some(v) => v.tag_text(text),
            None => text(""),
        }
    }
    fn is_absent(&self) -> bool {
        self.as_ref().is_none_or(TagValue::is_absent)
    }
}

/// A field value as the encoder sees it: one of the four line-protocol types, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
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
/// use influx_series::{FieldRef, FieldType, FieldValue};
///
/// struct Celsius(f64);
///
/// impl FieldValue for Celsius {
///     const FIELD_TYPE: Option<FieldType> = Some(FieldType::Float);
///
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
    /// The type InfluxDB stores this value as, for [`Series::schema`](crate::Series::schema)
    /// and what checks it ([`crate::schema`]); `None` (the default, for a type of yours that
    /// does not say) leaves the field's type unchecked.
    const FIELD_TYPE: Option<FieldType> = None;

    /// The value to write.
    fn field_ref(&self) -> FieldRef<'_>;
}

macro_rules! int_fields {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl FieldValue for $t {
            const FIELD_TYPE: Option<FieldType> = Some(FieldType::Integer);

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
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::Float);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float(*self)
    }
}

impl FieldValue for f32 {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::Float);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float32(*self)
    }
}

impl FieldValue for bool {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::Boolean);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Bool(*self)
    }
}

impl FieldValue for str {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::String);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for String {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::String);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Cow<'_, str> {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::String);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Box<str> {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::String);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl FieldValue for Arc<str> {
    const FIELD_TYPE: Option<FieldType> = Some(FieldType::String);

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Str(self)
    }
}

impl<T: FieldValue + ?Sized> FieldValue for &T {
    const FIELD_TYPE: Option<FieldType> = T::FIELD_TYPE;

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        (**self).field_ref()
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    const FIELD_TYPE: Option<FieldType> = T::FIELD_TYPE;

    #[inline]
    fn field_ref(&self) -> FieldRef<'_> {
        self.as_ref()
            .map_or(FieldRef::Absent, FieldValue::field_ref)
    }
}

/// The time of a point as the encoder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
