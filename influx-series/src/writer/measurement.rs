//! sprockets-influxdb's `Measurement`: a point assembled piece by piece, with a guard that
//! records how long a block took.

use std::borrow::Cow;
use std::time::Instant;

use influx_core::{EncodeError, Field, Point, PointTime};

/// A point with its database, built up as sprockets-influxdb's `Measurement` is, for
/// [`super::BufferedWriter::record`].
///
/// ```
/// use influx_series::writer::Measurement;
///
/// let mut m = Measurement::new("example", "measurement-name");
/// m.set_tag("foo", "bar");
/// m.set_field("baz", 1.05);
/// {
///     let _timer = m.duration("elapsed");
///     // ... the work being timed ...
/// }
/// assert_eq!(m.tag("foo"), Some("bar"));
/// assert!(m.field("elapsed").is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    database: String,
    name: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, Field)>,
    /// Nanoseconds since the epoch (`Some(None)`: a time no server can store).
    time: Option<Option<i128>>,
}

impl Measurement {
    /// A measurement `name` for `database`, without tags, fields or time (a time is stamped
    /// when it is recorded).
    pub fn new(database: impl Into<String>, name: impl Into<String>) -> Self {
        Measurement {
            database: database.into(),
            name: name.into(),
            tags: Vec::new(),
            fields: Vec::new(),
            time: None,
        }
    }

    /// The database it is written to.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The measurement's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets a tag (replacing one of the same key).
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (key, value) = (key.into(), value.into());
        match self.tags.iter_mut().find(|(k, _)| *k == key) {
            Some(tag) => tag.1 = value,
            None => self.tags.push((key, value)),
        }
        self
    }

    /// Sets several tags.
    pub fn set_tags<K: Into<String>, V: Into<String>>(
        &mut self,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        for (k, v) in tags {
            self.set_tag(k, v);
        }
        self
    }

    /// Sets a field (replacing one of the same key).
    pub fn set_field(&mut self, key: impl Into<String>, value: impl Into<Field>) -> &mut Self {
        let (key, value) = (key.into(), value.into());
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(field) => field.1 = value,
            None => self.fields.push((key, value)),
        }
        self
    }

    /// Sets the time (a `DateTime`, a `SystemTime`, ...).
    pub fn set_timestamp(&mut self, time: impl PointTime) -> &mut Self {
        self.time = Some(time.unix_nanos());
        self
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A guard that, when dropped, sets `field` to the seconds elapsed since this call (an
    /// [`Instant`], so a change of the wall clock does not show).
    pub fn duration(&mut self, field: impl Into<String>) -> DurationGuard<'_> {
        DurationGuard {
            measurement: self,
            field: field.into(),
            started: Instant::now(),
        }
    }

    /// The point it makes, checked as every point is.
    pub fn to_point(&self) -> Result<Point, EncodeError> {
        let mut builder = Point::builder(Cow::Owned(self.name.clone()));
        for (k, v) in &self.tags {
            builder = builder.tag(Cow::Owned(k.clone()), v.clone());
        }
        for (k, v) in &self.fields {
            builder = builder.field(Cow::Owned(k.clone()), v.clone());
        }
        if let Some(nanos) = self.time {
            builder = builder.timestamp(Nanos(nanos));
        }
        builder.build()
    }
}

/// A time already turned into nanoseconds.
struct Nanos(Option<i128>);

impl PointTime for Nanos {
    fn unix_nanos(&self) -> Option<i128> {
        self.0
    }
}

/// Sets a field of a [`Measurement`] to the seconds elapsed while it lived: see
/// [`Measurement::duration`].
#[derive(Debug)]
pub struct DurationGuard<'a> {
    measurement: &'a mut Measurement,
    field: String,
    started: Instant,
}

impl Drop for DurationGuard<'_> {
    fn drop(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.measurement
            .set_field(std::mem::take(&mut self.field), seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_fields_replace_and_the_guard_times() {
        let mut m = Measurement::new("db", "requests");
        m.set_tag("route", "/a").set_tag("route", "/b");
        m.set_field("n", 1i64).set_field("n", 2i64);
        {
            let _g = m.duration("duration");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let p = m.to_point().unwrap();
        assert_eq!(p.tag("route"), Some("/b"));
        assert_eq!(p.field("n"), Some(&Field::Integer(2)));
        match p.field("duration") {
            Some(Field::Float(s)) => assert!(*s >= 0.02 && *s < 5.0, "{s}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(p.timestamp_nanos(), None);
    }

    #[test]
    fn a_measurement_without_fields_is_an_error() {
        let m = Measurement::new("db", "empty");
        assert!(m.to_point().is_err());
    }
}
