//! Query results into any serde type: each row is shown to the type as a map from column
//! names (then `GROUP BY` tags) to cells, read straight from the answer's bytes, with no
//! `serde_json::Value` built on the way.

use std::borrow::Cow;
use std::collections::HashSet;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::error::Error;
use crate::query::answer::{SeriesHead, Stop};
use crate::query::scan::{ScanError, Scanner};
use crate::query::typed::{RowSink, StatementReader, read_statement};
use crate::query::value::Value;

/// Reads statement `statement` of an answer into any serde type; each row is presented as a
/// map from column names (then `GROUP BY` tags) to cells.
pub fn deserialize_rows<T: DeserializeOwned>(
    body: &[u8],
    statement: usize,
) -> Result<Vec<T>, Error> {
    read_statement(body, statement, SerdeSink(PhantomData))
}

/// A reader of statement `statement`'s rows into a serde type.
pub(crate) fn serde_reader<T: DeserializeOwned>(
    statement: usize,
) -> StatementReader<T, impl RowSink<T>> {
    StatementReader::new(statement, SerdeSink(PhantomData))
}

/// Rows into any serde type: each row is shown to it as a map from column names (then the
/// `GROUP BY` tags that are not columns) to cells.
struct SerdeSink<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned> RowSink<T> for SerdeSink<T> {
    fn rows<'a>(
        &self,
        out: &mut Vec<T>,
        statement: usize,
        head: &SeriesHead<'a>,
        s: &mut Scanner<'a>,
    ) -> Result<(), Stop> {
        let columns: Vec<&str> = head.columns.iter().map(|c| c.as_ref()).collect();
        let column_set: HashSet<&str> = columns.iter().copied().collect();
        let tags: Vec<(&str, &str)> = head
            .tags
            .iter()
            .filter(|(k, _)| !column_set.contains(k.as_ref()))
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        s.begin_array()?;
        let mut first_row = true;
        let mut row = 0usize;
        while s.next_item(&mut first_row)? {
            let at = s.offset();
            s.begin_array()?;
            let mut map = RowMap {
                columns: &columns,
                tags: &tags,
                scanner: s,
                index: 0,
                first: true,
                scan_error: None,
            };
            let value = T::deserialize(de::value::MapAccessDeserializer::new(&mut map));
            if let Some(e) = map.scan_error.take() {
                return Err(e.into());
            }
            let value = value.map_err(|e: de::value::Error| {
                Stop::Error(Error::Decode(
                    format!("statement {statement}, row {row} (at byte {at}): {e}").into(),
                ))
            })?;
            // Whatever the type did not ask for is skipped, up to the end of the row.
            map.drain()?;
            out.push(value);
            row += 1;
        }
        Ok(())
    }
}

/// A row (a JSON array the scanner is inside) seen as a map from column names to cells, then
/// the series' tags.
struct RowMap<'r, 'a> {
    columns: &'r [&'r str],
    tags: &'r [(&'r str, &'r str)],
    scanner: &'r mut Scanner<'a>,
    index: usize,
    first: bool,
    /// A JSON error met while serde was reading, reported as such rather than as serde's.
    scan_error: Option<ScanError>,
}

impl RowMap<'_, '_> {
    fn drain(&mut self) -> Result<(), ScanError> {
        while self.index < self.columns.len() {
            if !self.scanner.next_item(&mut self.first)? {
                return Err(self.scanner.error("row shorter than its columns"));
            }
            self.scanner.skip()?;
            self.index += 1;
        }
        if self.index == self.columns.len() {
            self.index += 1;
            if self.scanner.next_item(&mut self.first)? {
                return Err(self.scanner.error("row longer than its columns"));
            }
        }
        Ok(())
    }

    fn fail(&mut self, e: ScanError) -> de::value::Error {
        let message = e.message.clone();
        self.scan_error = Some(e);
        de::Error::custom(message)
    }
}

impl<'de> MapAccess<'de> for &mut RowMap<'_, '_> {
    type Error = de::value::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = if let Some(c) = self.columns.get(self.index) {
            *c
        } else if let Some((k, _)) = self
            .index
            .checked_sub(self.columns.len())
            .and_then(|i| self.tags.get(i))
        {
            k
        } else {
            return Ok(None);
        };
        seed.deserialize(de::value::StrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let index = self.index;
        self.index += 1;
        if index < self.columns.len() {
            match self.scanner.next_item(&mut self.first) {
                Ok(true) => {}
                Ok(false) => {
                    let e = self.scanner.error("row shorter than its columns");
                    return Err(self.fail(e));
                }
                Err(e) => return Err(self.fail(e)),
            }
            let cell = match self.scanner.cell() {
                Ok(cell) => cell,
                Err(e) => return Err(self.fail(e)),
            };
            seed.deserialize(CellDeserializer(cell))
        } else {
            // Past the columns: the row must end here, before the tags are handed out.
            if index == self.columns.len() {
                match self.scanner.next_item(&mut self.first) {
                    Ok(false) => {}
                    Ok(true) => {
                        let e = self.scanner.error("row longer than its columns");
                        return Err(self.fail(e));
                    }
                    Err(e) => return Err(self.fail(e)),
                }
            }
            let (_, v) = self.tags[index - self.columns.len()];
            // An empty tag is an absent one: `None` for an `Option`, as on every typed path.
            let cell = if v.is_empty() {
                Value::Null
            } else {
                Value::String(Cow::Borrowed(v))
            };
            seed.deserialize(CellDeserializer(cell))
        }
    }
}

/// One cell as a serde deserializer: `null` is `None` to an `Option` and unit to anything
/// else; a string fills an `Option<String>` as `Some`.
struct CellDeserializer<'a>(Value<'a>);

impl<'de> Deserializer<'de> for CellDeserializer<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(v) => visitor.visit_bool(v),
            Value::Integer(v) => visitor.visit_i64(v),
            Value::Unsigned(v) => visitor.visit_u64(v),
            Value::Float(v) => visitor.visit_f64(v),
            Value::String(Cow::Borrowed(v)) => visitor.visit_str(v),
            Value::String(Cow::Owned(v)) => visitor.visit_string(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
