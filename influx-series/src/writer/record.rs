//! What the writer records: the [`Record`] trait, implemented by points, measurements and every
//! `#[derive(Series)]` type, each encoded into the writer's buffer with where it goes.

use influx_core::{EncodeError, Error, Point, Precision, SharedTags};

use super::measurement::Measurement;
use crate::Series;

/// What [`BufferedWriter::record`](super::BufferedWriter::record) takes: a [`Point`], a [`Measurement`], or a value of a
/// `#[derive(Series)]` type.
pub trait Record {
    /// Encodes the line (without its newline) into `out`; returns where it goes.
    #[doc(hidden)]
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error>;
}

/// What encoding for the writer needs to know.
#[doc(hidden)]
#[derive(Debug)]
pub struct RecordContext<'a> {
    pub(super) precision: Precision,
    pub(super) tags: &'a SharedTags,
}

impl RecordContext<'_> {
    /// The precision points are written in.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// The writer's tags (hostname, environment, ...), sorted by key.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn tags(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.tags.iter()
    }
}

/// Where a recorded line goes; `None` parts are the writer's defaults.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Destination<'a> {
    pub(super) database: Option<&'a str>,
    pub(super) retention_policy: Option<&'a str>,
    pub(super) precision: Option<Precision>,
}

fn encode_point(
    point: &Point,
    context: &RecordContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let stamp = point
        .timestamp_nanos()
        .is_none()
        .then(influx_core::clock::unique_now_nanos);
    point.write_line_shared(out, context.precision, context.tags, stamp)
}

impl Record for Point {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        encode_point(self, context, out)?;
        Ok(Destination::default())
    }
}

impl Record for &Point {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        (**self).__encode(context, out)
    }
}

impl Record for Measurement {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        encode_point(&self.to_point()?, context, out)?;
        Ok(Destination {
            database: Some(self.database()),
            ..Destination::default()
        })
    }
}

impl Record for &Measurement {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        (**self).__encode(context, out)
    }
}

impl<T: Series> Record for T {
    fn __encode(
        &self,
        _context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        self.write_line(out)?;
        let meta = T::__buffer().meta();
        Ok(Destination {
            database: meta.database,
            retention_policy: meta.retention_policy,
            precision: Some(meta.precision),
        })
    }
}
