//! [`Point`]: one measurement with tags, fields and an optional timestamp, valid by construction.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::error::{EncodeError, EncodeErrorKind, Part};
use crate::protocol::escape::{self, NameKind};
use crate::protocol::precision::{self, PointTime, Precision};

/// The value of a field.
///
/// Conversions exist from every integer width, `f32`, `f64`, `bool`, `String` and `&str`.
/// Unsigned values above `i64::MAX` are kept as [`Field::UInteger`] so that building a
/// point with one reports an error (1.x has no unsigned type).
///
/// ```
/// use influx_series::Field;
/// assert_eq!(Field::from(3u8), Field::Integer(3));
/// assert_eq!(Field::from("up"), Field::String("up".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A 64-bit float; must be finite.
    Float(f64),
    /// A signed integer, written with the `i` suffix.
    Integer(i64),
    /// An unsigned integer; written as an integer if it fits in `i64`, else an error.
    UInteger(u64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
}

macro_rules! field_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Field {
            fn from(v: $t) -> Self {
                Field::Integer(i64::from(v))
            }
        }
    )*};
}
field_from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Field {
    fn from(v: u64) -> Self {
        Field::UInteger(v)
    }
}

impl From<usize> for Field {
    fn from(v: usize) -> Self {
        Field::UInteger(v as u64)
    }
}

impl From<isize> for Field {
    fn from(v: isize) -> Self {
        Field::Integer(v as i64)
    }
}

impl From<f64> for Field {
    fn from(v: f64) -> Self {
        Field::Float(v)
    }
}

impl From<f32> for Field {
    /// Keeps the `f32`'s shortest decimal form (`0.1f32` becomes `0.1`, not
    /// `0.10000000149011612`), which is what the user wrote and what reads back as the same `f32`.
    fn from(v: f32) -> Self {
        if !v.is_finite() {
            return Field::Float(f64::from(v));
        }
        let mut buf = zmij::Buffer::new();
        let shortest = buf.format_finite(v).parse::<f64>().unwrap_or(f64::from(v));
        Field::Float(shortest)
    }
}

impl From<bool> for Field {
    fn from(v: bool) -> Self {
        Field::Boolean(v)
    }
}

impl From<String> for Field {
    fn from(v: String) -> Self {
        Field::String(v)
    }
}

impl From<&str> for Field {
    fn from(v: &str) -> Self {
        Field::String(v.to_owned())
    }
}

impl From<std::borrow::Cow<'_, str>> for Field {
    fn from(v: std::borrow::Cow<'_, str>) -> Self {
        Field::String(v.into_owned())
    }
}

impl Field {
    /// Writes the value as it appears after `key=` (for encoders of influx-series that write
    /// lines without a `Point`).
    #[doc(hidden)]
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeErrorKind> {
        match self {
            Field::Float(v) => escape::write_f64(out, *v),
            Field::Integer(v) => {
                escape::write_i64(out, *v);
                Ok(())
            }
            Field::UInteger(v) => escape::write_u64(out, *v),
            Field::Boolean(v) => {
                escape::write_bool(out, *v);
                Ok(())
            }
            Field::String(v) => {
                escape::write_str_value(out, v);
                Ok(())
            }
        }
    }

    /// Writes a value of a built point: its float is finite and its integer in range (see
    /// [`Field::normalize`]), so nothing is checked again.
    #[inline]
    fn write_checked(&self, out: &mut Vec<u8>) {
        match self {
            Field::Float(v) => {
                let mut buf = zmij::Buffer::new();
                out.extend_from_slice(buf.format_finite(*v).as_bytes());
            }
            Field::Integer(v) => escape::write_i64(out, *v),
            // `normalize` made every unsigned value of a built point an `Integer`: none is
            // left out of range.
            Field::UInteger(v) => {
                let _ = escape::write_u64(out, *v);
            }
            Field::Boolean(v) => escape::write_bool(out, *v),
            Field::String(v) => escape::write_str_value(out, v),
        }
    }

    /// Checks the value and brings an in-range unsigned integer to `Integer`.
    fn normalize(self) -> Result<Field, EncodeErrorKind> {
        match self {
            Field::Float(v) if !v.is_finite() => Err(EncodeErrorKind::NonFiniteFloat),
            Field::UInteger(v) => i64::try_from(v)
                .map(Field::Integer)
                .map_err(|_| EncodeErrorKind::IntegerOutOfRange),
            other => Ok(other),
        }
    }
}

/// One point: a measurement, tags (sorted by key), fields (in insertion order) and an
/// optional timestamp.
///
/// A `Point` can only be made by [`PointBuilder::build`] or the parser, which check every
/// rule, so every `Point` encodes to a line the server stores exactly.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use influx_series::{Point, Precision};
///
/// let point = Point::builder("cpu_load_short")
///     .tag("region", "us-west")
///     .tag("host", "server01")
///     .field("value", 0.64)
///     .timestamp(Utc.with_ymd_and_hms(2009, 11, 10, 23, 0, 0).unwrap())
///     .build()?;
/// assert_eq!(
///     point.to_line(Precision::Seconds),
///     "cpu_load_short,host=server01,region=us-west value=0.64 1257894000"
/// );
/// # Ok::<(), influx_series::EncodeError>(())
/// ```
#[derive(Clone)]
pub struct Point {
    // Names are `Cow<'static, str>` because they are nearly always literals: a point of the
    // reference shape then allocates for its tag values only.
    measurement: Cow<'static, str>,
    tags: Vec<(Cow<'static, str>, String)>,
    fields: Vec<(Cow<'static, str>, Field)>,
    timestamp: Option<i64>,
    /// No name holds a byte to escape, so the encoder copies each as it is. Found while the
    /// names are checked; it may say `false` of a point whose escaped names were replaced
    /// since (the encoder then merely looks at each byte). Not part of the value.
    plain: bool,
}

impl PartialEq for Point {
    fn eq(&self, other: &Point) -> bool {
        self.measurement == other.measurement
            && self.tags == other.tags
            && self.fields == other.fields
            && self.timestamp == other.timestamp
    }
}

impl std::fmt::Debug for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Point")
            .field("measurement", &self.measurement)
            .field("tags", &self.tags)
            .field("fields", &self.fields)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl Point {
    /// Starts a point in `measurement`.
    ///
    /// Names (the measurement, tag and field keys) take `&'static str` without allocating, or
    /// an owned `String`.
    pub fn builder(measurement: impl Into<Cow<'static, str>>) -> PointBuilder {
        PointBuilder {
            point: Point {
                measurement: measurement.into(),
                tags: Vec::new(),
                fields: Vec::new(),
                timestamp: None,
                plain: true,
            },
            error: None,
        }
    }

    /// The measurement name.
    pub fn measurement(&self) -> &str {
        &self.measurement
    }

    /// The tags, sorted by key bytes.
    pub fn tags(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.tags.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// The value of the tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.tags[i].1.as_str())
    }

    /// Whether the point has a tag `key`: a scan that compares lengths first for the few tags
    /// most points have, a binary search for many.
    fn has_tag(&self, key: &str) -> bool {
        if self.tags.len() <= 8 {
            self.tags
                .iter()
                .any(|(k, _)| k.len() == key.len() && k.as_ref() == key)
        } else {
            self.tag(key).is_some()
        }
    }

    /// The fields, in the order they were added.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &Field)> + '_ {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The value of the field `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The timestamp, if the point has one (else it is stamped when written).
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.timestamp.map(DateTime::from_timestamp_nanos)
    }

    /// The timestamp as a `SystemTime`, if the point has one.
    pub fn system_time(&self) -> Option<std::time::SystemTime> {
        self.timestamp.map(precision::system_time)
    }

    /// The timestamp in nanoseconds since the epoch.
    pub fn timestamp_nanos(&self) -> Option<i64> {
        self.timestamp
    }

    /// The line for this point, without a trailing newline.
    pub fn to_line(&self, precision: Precision) -> String {
        let mut out = Vec::with_capacity(64);
        self.write_line(&mut out, precision);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the line (without its newline) to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>, precision: Precision) {
        self.write_line_with_tags(out, precision, &[], None);
    }

    /// Appends the line with `shared` tags merged in; `shared` must be sorted by key and
    /// checked (see [`SharedTags`]). On equal keys the point's own tag wins. `stamp` (in
    /// nanoseconds) is the time of a point that has none.
    pub(crate) fn write_line_with_tags(
        &self,
        out: &mut Vec<u8>,
        precision: Precision,
        shared: &[(String, String)],
        stamp: Option<i64>,
    ) {
        if self.plain && shared.is_empty() {
            self.write_plain_series(out);
        } else {
            self.write_series(out, shared);
        }
        let mut sep = b' ';
        for (k, v) in &self.fields {
            out.push(sep);
            sep = b',';
            if self.plain {
                out.extend_from_slice(k.as_bytes());
            } else {
                escape::write_checked_name(out, NameKind::FieldKey, k);
            }
            out.push(b'=');
            v.write_checked(out);
        }
        if let Some(nanos) = self.timestamp.or(stamp) {
            escape::write_timestamp_nanos(out, nanos, precision);
        }
    }

    /// Writes the measurement and tags of a point whose names need no escaping: each as it is.
    fn write_plain_series(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.measurement.as_bytes());
        for (k, v) in &self.tags {
            out.push(b',');
            out.extend_from_slice(k.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
    }

    /// Writes the measurement and tags, with `shared` tags merged in, each name escaped.
    fn write_series(&self, out: &mut Vec<u8>, shared: &[(String, String)]) {
        escape::write_checked_name(out, NameKind::Measurement, &self.measurement);
        let mut own = self.tags.iter().peekable();
        let mut other = shared.iter().peekable();
        loop {
            let (k, v) = match (own.peek(), other.peek()) {
                (None, None) => break,
                (Some(_), None) => own.next().map(|(k, v)| (k.as_ref(), v.as_str())),
                (None, Some(_)) => other.next().map(|(k, v)| (k.as_str(), v.as_str())),
                (Some(a), Some(b)) => match a.0.as_ref().cmp(b.0.as_str()) {
                    std::cmp::Ordering::Less => own.next().map(|(k, v)| (k.as_ref(), v.as_str())),
                    std::cmp::Ordering::Greater => {
                        other.next().map(|(k, v)| (k.as_str(), v.as_str()))
                    }
                    std::cmp::Ordering::Equal => {
                        other.next();
                        own.next().map(|(k, v)| (k.as_ref(), v.as_str()))
                    }
                },
            }
            .unwrap_or_default();
            out.push(b',');
            escape::write_checked_name(out, NameKind::TagKey, k);
            out.push(b'=');
            escape::write_checked_name(out, NameKind::TagValue, v);
        }
    }

    /// Appends the line with `shared` tags merged in (the point's own tag wins on equal
    /// keys), after checking them against the point; `stamp` (nanoseconds) is the time of a
    /// point that has none. For the buffered writer of influx-series.
    #[doc(hidden)]
    pub fn write_line_shared(
        &self,
        out: &mut Vec<u8>,
        precision: Precision,
        shared: &SharedTags,
        stamp: Option<i64>,
    ) -> Result<(), EncodeError> {
        shared.check_against(self)?;
        self.write_line_with_tags(out, precision, shared.as_slice(), stamp);
        Ok(())
    }

    /// Checks influxd's key-length rule (see [`escape::MAX_KEY_BYTES`]) for this point with
    /// `shared` tags merged in (the point's own tag wins on equal keys).
    pub(crate) fn check_key_length(&self, shared: &[(String, String)]) -> Result<(), EncodeError> {
        // Escaping at most doubles a name: most points are far from the limit, and the raw
        // lengths tell so without a look at their bytes.
        let mut raw_series = self.measurement.len();
        for (k, v) in &self.tags {
            raw_series += 2 + k.len() + v.len();
        }
        for (k, v) in shared {
            raw_series += 2 + k.len() + v.len();
        }
        let mut raw_field = 0;
        for (k, _) in &self.fields {
            raw_field = raw_field.max(k.len());
        }
        if 2 * (raw_series + raw_field) + escape::FIELD_KEY_SEPARATOR_BYTES <= escape::MAX_KEY_BYTES
        {
            return Ok(());
        }
        let tag = |k: &str, v: &str| {
            2 + escape::escaped_len(NameKind::TagKey, k)
                + escape::escaped_len(NameKind::TagValue, v)
        };
        let mut series = escape::escaped_len(NameKind::Measurement, &self.measurement);
        series += self.tags.iter().map(|(k, v)| tag(k, v)).sum::<usize>();
        series += shared
            .iter()
            .filter(|(k, _)| self.tag(k).is_none())
            .map(|(k, v)| tag(k, v))
            .sum::<usize>();
        let (longest, field) = self
            .fields
            .iter()
            .map(|(k, _)| (escape::escaped_len(NameKind::FieldKey, k), k.as_ref()))
            .max_by_key(|(len, _)| *len)
            .unwrap_or((0, ""));
        escape::check_key_length(series, longest, field)
    }

    /// A point of checked parts; `plain` when no name holds a byte to escape.
    pub(crate) fn from_parts(
        measurement: Cow<'static, str>,
        tags: Vec<(Cow<'static, str>, String)>,
        fields: Vec<(Cow<'static, str>, Field)>,
        timestamp: Option<i64>,
        plain: bool,
    ) -> Point {
        Point {
            measurement,
            tags,
            fields,
            timestamp,
            plain,
        }
    }
}

/// Builds a [`Point`]; the first rule broken is reported by [`PointBuilder::build`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PointBuilder {
    point: Point,
    error: Option<EncodeError>,
}

impl PointBuilder {
    fn fail(&mut self, kind: EncodeErrorKind, part: impl FnOnce() -> Part) {
        if self.error.is_none() {
            self.error = Some(EncodeError::new(kind, part()));
        }
    }

    /// Sets a tag; a later value for the same key replaces the earlier one, and an empty value
    /// removes the tag (1.x rejects `k=`).
    pub fn tag(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match escape::check_name_escaped(NameKind::TagKey, &key) {
            Ok(escaped) => self.point.plain &= !escaped,
            Err(kind) => self.fail(kind, || Part::TagKey(key.to_string())),
        }
        let tags = &mut self.point.tags;
        match tags.binary_search_by(|(k, _)| k.as_ref().cmp(key.as_ref())) {
            Ok(i) if value.is_empty() => {
                tags.remove(i);
            }
            Err(_) if value.is_empty() => {}
            Ok(i) => tags[i].1 = value,
            Err(i) => tags.insert(i, (key, value)),
        }
        self
    }

    /// Sets a field; a later value for the same key replaces the earlier one.
    pub fn field(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Field>) -> Self {
        let key = key.into();
        match escape::check_name_escaped(NameKind::FieldKey, &key) {
            Ok(escaped) => self.point.plain &= !escaped,
            Err(kind) => self.fail(kind, || Part::FieldKey(key.to_string())),
        }
        let value = match value.into().normalize() {
            Ok(v) => v,
            Err(kind) => {
                self.fail(kind, || Part::FieldValue(key.to_string()));
                return self;
            }
        };
        match self.point.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.point.fields.push((key, value)),
        }
        self
    }

    /// Sets a field if `value` is `Some`.
    pub fn field_opt<V: Into<Field>>(
        self,
        key: impl Into<Cow<'static, str>>,
        value: Option<V>,
    ) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// Sets the timestamp: a chrono `DateTime` (any time zone) or a `SystemTime`.
    pub fn timestamp(mut self, time: impl PointTime) -> Self {
        match precision::encodable_unix_nanos(time.unix_nanos()) {
            Some(nanos) => self.point.timestamp = Some(nanos),
            None => self.fail(EncodeErrorKind::TimestampOutOfRange, || Part::Timestamp),
        }
        self
    }

    /// Sets the timestamp from a count of `precision` units since the epoch.
    pub fn timestamp_in(mut self, value: i64, precision: Precision) -> Self {
        match precision.to_encodable_nanos(value) {
            Some(nanos) => self.point.timestamp = Some(nanos),
            None => self.fail(EncodeErrorKind::TimestampOutOfRange, || Part::Timestamp),
        }
        self
    }

    /// Checks every rule and returns the point, or the first rule broken.
    pub fn build(self) -> Result<Point, EncodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut point = self.point;
        let mut escaped = escape::check_name_escaped(NameKind::Measurement, &point.measurement)
            .map_err(|kind| EncodeError::new(kind, Part::Measurement))?;
        for (k, v) in &point.tags {
            escaped |= escape::check_name_escaped(NameKind::TagValue, v)
                .map_err(|kind| EncodeError::new(kind, Part::TagValue(k.to_string())))?;
        }
        point.plain &= !escaped;
        if point.fields.is_empty() {
            return Err(EncodeError::new(EncodeErrorKind::NoFields, Part::Point));
        }
        if let Some((k, _)) = point.fields.iter().find(|(k, _)| point.has_tag(k)) {
            return Err(EncodeError::new(
                EncodeErrorKind::KeyConflict,
                Part::FieldKey(k.to_string()),
            ));
        }
        point.check_key_length(&[])?;
        Ok(point)
    }
}

/// Tags merged into every point of a write, checked and sorted once.
///
/// ```
/// use influx_series::SharedTags;
/// let tags = SharedTags::new([("region", "us-west"), ("dc", "a")]).unwrap();
/// assert_eq!(tags.iter().next(), Some(("dc", "a")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedTags {
    tags: Vec<(String, String)>,
}

impl SharedTags {
    /// Checks and sorts the tags; empty values are left out, a later duplicate key wins.
    pub fn new<K, V>(tags: impl IntoIterator<Item = (K, V)>) -> Result<SharedTags, EncodeError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in tags {
            let (k, v) = (k.into(), v.into());
            escape::check_name(NameKind::TagKey, &k)
                .map_err(|kind| EncodeError::new(kind, Part::TagKey(k.clone())))?;
            if v.is_empty() {
                continue;
            }
            escape::check_name(NameKind::TagValue, &v)
                .map_err(|kind| EncodeError::new(kind, Part::TagValue(k.clone())))?;
            match out.binary_search_by(|(ok, _)| ok.as_str().cmp(&k)) {
                Ok(i) => out[i].1 = v,
                Err(i) => out.insert(i, (k, v)),
            }
        }
        Ok(SharedTags { tags: out })
    }

    /// The tags, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when there is no tag.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    pub(crate) fn as_slice(&self) -> &[(String, String)] {
        &self.tags
    }

    /// Fails when a field of `point` has the key of one of these tags, or when these tags
    /// make its keys longer than influxd takes.
    pub(crate) fn check_against(&self, point: &Point) -> Result<(), EncodeError> {
        if self.tags.is_empty() {
            return Ok(());
        }
        if let Some((k, _)) = point.fields().find(|(k, _)| {
            self.tags
                .binary_search_by(|(t, _)| t.as_str().cmp(k))
                .is_ok()
        }) {
            return Err(EncodeError::new(
                EncodeErrorKind::KeyConflict,
                Part::FieldKey(k.to_owned()),
            ));
        }
        point.check_key_length(&self.tags)
    }
}

#[cfg(test)]
mod tests;
