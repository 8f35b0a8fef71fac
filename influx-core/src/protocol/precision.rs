//! Timestamp precision and exact conversion from `chrono` times.

use chrono::{DateTime, Utc};

use crate::error::{EncodeError, EncodeErrorKind, Part};

/// The smallest instant InfluxDB 1.x stores, in nanoseconds since the epoch (1677-09-21).
pub const MIN_NANOS: i64 = -9_223_372_036_854_775_806;
/// The largest instant InfluxDB 1.x stores, in nanoseconds since the epoch (2262-04-11).
pub const MAX_NANOS: i64 = 9_223_372_036_854_775_806;

/// The earliest instant this crate encodes: the first whole hour after [`MIN_NANOS`], so that
/// flooring to any precision (down to hours) stays inside the server's range. The 47 minutes
/// before it cannot be written at every precision, so they are refused at every one.
pub const MIN_ENCODABLE_NANOS: i64 =
    (MIN_NANOS.div_euclid(3_600_000_000_000) + 1) * 3_600_000_000_000;

/// The unit of timestamps on the wire: the `precision` of a write, the `epoch` of a query.
///
/// ```
/// use influx_series::Precision;
/// use chrono::{TimeZone, Utc};
///
/// let t = Utc.with_ymd_and_hms(2009, 11, 10, 23, 0, 0).unwrap();
/// assert_eq!(Precision::Seconds.timestamp(&t).unwrap(), 1_257_894_000);
/// assert_eq!(Precision::Hours.as_str(), "h");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Nanoseconds (`n` on writes, `ns` as a query epoch).
    #[default]
    Nanoseconds,
    /// Microseconds (`u`).
    Microseconds,
    /// Milliseconds (`ms`).
    Milliseconds,
    /// Seconds (`s`).
    Seconds,
    /// Minutes (`m`).
    Minutes,
    /// Hours (`h`).
    Hours,
}

impl Precision {
    /// Every precision, finest first.
    pub const ALL: [Precision; 6] = [
        Precision::Nanoseconds,
        Precision::Microseconds,
        Precision::Milliseconds,
        Precision::Seconds,
        Precision::Minutes,
        Precision::Hours,
    ];

    /// The value of the `precision` parameter of `/write`: `n`, `u`, `ms`, `s`, `m` or `h`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "n",
            Precision::Microseconds => "u",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
            Precision::Minutes => "m",
            Precision::Hours => "h",
        }
    }

    /// The value of the `epoch` parameter of `/query`: `ns`, `u`, `ms`, `s`, `m` or `h`.
    pub const fn as_epoch_str(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            other => other.as_str(),
        }
    }

    /// How many nanoseconds one unit holds.
    #[inline]
    pub const fn nanos_per_unit(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
            Precision::Minutes => 60_000_000_000,
            Precision::Hours => 3_600_000_000_000,
        }
    }

    /// The instant `t` in this unit, floored toward negative infinity (so a pre-1970 instant
    /// lands in the unit that contains it), or an error outside the server's range.
    pub fn timestamp(self, t: &DateTime<Utc>) -> Result<i64, EncodeError> {
        let nanos = checked_nanos(t)?;
        Ok(self.from_nanos(nanos))
    }

    /// Converts nanoseconds since the epoch to this unit, flooring.
    #[inline]
    pub const fn from_nanos(self, nanos: i64) -> i64 {
        nanos.div_euclid(self.nanos_per_unit())
    }

    /// Converts a count of this unit to nanoseconds; `None` outside the server's range.
    #[inline]
    pub fn to_nanos(self, value: i64) -> Option<i64> {
        let nanos = value.checked_mul(self.nanos_per_unit())?;
        (MIN_NANOS..=MAX_NANOS).contains(&nanos).then_some(nanos)
    }

    /// Converts a count of this unit to nanoseconds when the instant can be encoded at every
    /// precision (see [`MIN_ENCODABLE_NANOS`]); `None` otherwise.
    pub fn to_encodable_nanos(self, value: i64) -> Option<i64> {
        self.to_nanos(value).filter(|n| *n >= MIN_ENCODABLE_NANOS)
    }

    /// Converts a count of this unit to a `DateTime`; `None` outside the server's range.
    pub fn to_datetime(self, value: i64) -> Option<DateTime<Utc>> {
        self.to_nanos(value).map(DateTime::from_timestamp_nanos)
    }
}

/// A text that names no precision (see [`Precision`]'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPrecision(String);

impl std::fmt::Display for UnknownPrecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown precision `{}`: expected n, ns, u, us, µ, ms, s, m or h",
            self.0.chars().take(20).collect::<String>()
        )
    }
}

impl std::error::Error for UnknownPrecision {}

/// Reads `n`/`ns`, `u`/`us`/`µ`, `ms`, `s`, `m` and `h`, the spellings of the server's
/// `precision` and `epoch` parameters.
///
/// ```
/// use influx_series::Precision;
/// assert_eq!("ms".parse::<Precision>()?, Precision::Milliseconds);
/// assert_eq!(Precision::Seconds.to_string(), "s");
/// assert!("d".parse::<Precision>().is_err());
/// # Ok::<(), influx_series::UnknownPrecision>(())
/// ```
impl std::str::FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(text: &str) -> Result<Precision, UnknownPrecision> {
        Ok(match text {
            "n" | "ns" => Precision::Nanoseconds,
            "u" | "us" | "µ" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => return Err(UnknownPrecision(text.to_owned())),
        })
    }
}

/// The value of the `precision` parameter of a write (see [`Precision::as_str`]).
impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An instant a point can carry: chrono's `DateTime` in any time zone, or std's `SystemTime`.
/// (The `time` and `jiff` crates are not taken directly: convert to one of these, for example
/// through `SystemTime`, which both crates convert to and from.)
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use influx_series::{chrono::Utc, Point, Precision};
///
/// let at = UNIX_EPOCH + Duration::from_nanos(1_257_894_000_123_456_789);
/// let point = Point::builder("m").field("v", 1i64).timestamp(at).build()?;
/// assert_eq!(point.timestamp_nanos(), Some(1_257_894_000_123_456_789));
/// let now = Point::builder("m").field("v", 1i64).timestamp(Utc::now()).build()?;
/// assert!(now.timestamp_nanos().is_some());
/// # Ok::<(), influx_series::EncodeError>(())
/// ```
pub trait PointTime {
    /// Nanoseconds since the Unix epoch, negative before it; `None` when it cannot be told
    /// (far outside any range a server stores).
    fn unix_nanos(&self) -> Option<i128>;
}

impl<Tz: chrono::TimeZone> PointTime for DateTime<Tz> {
    fn unix_nanos(&self) -> Option<i128> {
        // `timestamp()` is floored and `timestamp_subsec_nanos()` non-negative, so this is
        // the exact instant for every representable `DateTime`.
        Some(
            i128::from(self.timestamp()) * 1_000_000_000
                + i128::from(self.timestamp_subsec_nanos()),
        )
    }
}

impl PointTime for std::time::SystemTime {
    fn unix_nanos(&self) -> Option<i128> {
        match self.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()).ok(),
            Err(before) => i128::try_from(before.duration().as_nanos())
                .ok()
                .map(|n| -n),
        }
    }
}

impl<T: PointTime + ?Sized> PointTime for &T {
    fn unix_nanos(&self) -> Option<i128> {
        (**self).unix_nanos()
    }
}

/// Nanoseconds since the epoch of an instant that can be encoded at every precision.
pub(crate) fn encodable_unix_nanos(nanos: Option<i128>) -> Option<i64> {
    nanos
        .filter(|n| (i128::from(MIN_ENCODABLE_NANOS)..=i128::from(MAX_NANOS)).contains(n))
        .map(|n| n as i64)
}

/// The `SystemTime` of a count of nanoseconds since the epoch.
pub(crate) fn system_time(nanos: i64) -> std::time::SystemTime {
    let magnitude = std::time::Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        std::time::UNIX_EPOCH + magnitude
    } else {
        std::time::UNIX_EPOCH - magnitude
    }
}

/// Nanoseconds since the epoch of an instant that can be encoded at every precision, or
/// `None`.
#[inline]
pub fn encodable_nanos(t: &DateTime<Utc>) -> Option<i64> {
    // chrono's own conversion is i64 arithmetic and `None` outside i64 nanoseconds.
    t.timestamp_nanos_opt()
        .filter(|n| (MIN_ENCODABLE_NANOS..=MAX_NANOS).contains(n))
}

/// Nanoseconds since the epoch, checked against the server's range.
pub(crate) fn checked_nanos(t: &DateTime<Utc>) -> Result<i64, EncodeError> {
    // `timestamp()` is already floored and `timestamp_subsec_nanos()` is non-negative, so
    // i128 arithmetic gives the exact instant for every representable `DateTime`.
    let nanos = i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
    if (i128::from(MIN_ENCODABLE_NANOS)..=i128::from(MAX_NANOS)).contains(&nanos) {
        Ok(nanos as i64)
    } else {
        Err(EncodeError::new(
            EncodeErrorKind::TimestampOutOfRange,
            Part::Timestamp,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn floors_before_1970() {
        let t = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap()
            + chrono::Duration::milliseconds(500);
        assert_eq!(Precision::Seconds.timestamp(&t).unwrap(), -1);
        assert_eq!(Precision::Milliseconds.timestamp(&t).unwrap(), -500);
        let t = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(Precision::Minutes.timestamp(&t).unwrap(), -5_260_320);
    }

    #[test]
    fn rejects_outside_server_range() {
        let t = Utc.with_ymd_and_hms(2262, 4, 12, 0, 0, 0).unwrap();
        let err = Precision::Seconds.timestamp(&t).unwrap_err();
        assert_eq!(err.kind(), EncodeErrorKind::TimestampOutOfRange);
        // The first encodable instant floors into range at every precision.
        let first = DateTime::from_timestamp_nanos(MIN_ENCODABLE_NANOS);
        for p in Precision::ALL {
            let v = p.timestamp(&first).unwrap();
            assert!(p.to_nanos(v).is_some(), "{p}");
        }
        let before = DateTime::from_timestamp_nanos(MIN_ENCODABLE_NANOS - 1);
        assert!(Precision::Nanoseconds.timestamp(&before).is_err());
        assert!(Precision::Nanoseconds.to_nanos(i64::MAX).is_none());
        assert!(Precision::Hours.to_nanos(3_000_000).is_none());
    }
}
