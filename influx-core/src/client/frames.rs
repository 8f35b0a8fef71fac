//! DataFrames over either client (feature `polars`): a frame's rows written batch by batch, a
//! query's answer read into frames as its documents arrive.

use std::collections::HashMap;

use polars_core::prelude::DataFrame;

use crate::core::exchange::Core;
use crate::core::transport::Transport;
use crate::error::Error;
use crate::frame::decode::FrameReader;
use crate::frame::encode::FrameEncoder;
use crate::frame::{FieldType, FrameQueryOptions, FrameWrite, FrameWriteOptions, Frames};
use crate::protocol::line::LineBuf;
use crate::request::http::QueryOptions;
use crate::request::influxql::statement_count;

impl<T: Transport> Core<T> {
    /// Checks the whole frame, then writes it in batches of rows, one after the other; stops
    /// at the first batch that fails.
    pub(crate) async fn write_dataframe(
        &self,
        df: &DataFrame,
        measurement: &str,
        options: &FrameWriteOptions,
    ) -> Result<FrameWrite, Error> {
        let encoder = FrameEncoder::new(df, measurement, options).map_err(Error::InvalidFrame)?;
        let rows_per_batch = options.batch_rows().max(1);
        let mut done = FrameWrite::default();
        let mut lines = LineBuf::new();
        let mut start = 0;
        while start < encoder.height() {
            let end = encoder.height().min(start + rows_per_batch);
            lines.clear();
            let skipped = lines.extend_lines(|bytes| encoder.encode(start..end, bytes));
            done.skipped += skipped;
            match self.write_lines(&lines, &options.write).await {
                Ok(commit) => done.commit.add(commit),
                Err(e) => {
                    return Err(Error::FrameRows {
                        rows: start..end,
                        written_before: done.commit.written + e.written_before(),
                        source: Box::new(e),
                    });
                }
            }
            start = end;
        }
        Ok(done)
    }

    /// The server's field types of every measurement of `database` (`SHOW FIELD KEYS`). A
    /// field of two types in different shards reads as a float if one of them is a float
    /// (integers read into floats exactly), else as its first type.
    pub(crate) async fn field_types(
        &self,
        database: &str,
    ) -> Result<HashMap<String, HashMap<String, FieldType>>, Error> {
        let sets = self
            .query_with("SHOW FIELD KEYS", &QueryOptions::new().database(database))
            .await?;
        let mut types: HashMap<String, HashMap<String, FieldType>> = HashMap::new();
        for set in &sets {
            for series in set.series() {
                let measurement = types
                    .entry(series.name().unwrap_or_default().to_owned())
                    .or_default();
                for row in series.rows() {
                    let (Some(key), Some(ty)) = (
                        row.get_str("fieldKey"),
                        row.get_str("fieldType").and_then(FieldType::from_server),
                    ) else {
                        continue;
                    };
                    measurement
                        .entry(key.to_owned())
                        .and_modify(|t| {
                            if ty == FieldType::Float {
                                *t = FieldType::Float;
                            }
                        })
                        .or_insert(ty);
                }
            }
        }
        Ok(types)
    }

    /// Runs a query of one statement and reads it into frames, chunk by chunk; a query of
    /// several statements is refused before it is sent.
    pub(crate) async fn query_dataframes(
        &self,
        query: &str,
        options: &FrameQueryOptions,
    ) -> Result<Frames, Error> {
        let count = statement_count(query);
        if count > 1 {
            return Err(Error::InvalidArgument(
                format!(
                    "the query has {count} statements and query_dataframes reads one: \
                     query_dataframe_statements gives the frames of each"
                )
                .into(),
            ));
        }
        let mut each = self.read_dataframes(query, 1, options).await?;
        Ok(each.pop().unwrap_or_default())
    }

    /// Runs a query and reads each of its statements into frames, chunk by chunk.
    pub(crate) async fn query_dataframe_statements(
        &self,
        query: &str,
        options: &FrameQueryOptions,
    ) -> Result<Vec<Frames>, Error> {
        let count = statement_count(query);
        self.read_dataframes(query, count, options).await
    }

    /// Runs a query and reads its first `statements` statements into frames.
    async fn read_dataframes(
        &self,
        query: &str,
        statements: usize,
        options: &FrameQueryOptions,
    ) -> Result<Vec<Frames>, Error> {
        let database = options
            .query
            .database_value()
            .or(self.database())
            .map(str::to_owned);
        let server = match database {
            Some(db) if !options.no_server_types => self.field_types(&db).await?,
            _ => HashMap::new(),
        };
        let query_options = options.query.clone().epoch(options.epoch());
        let mut reader = FrameReader::new(0..statements, options, server);
        let mut stream = self.open_stream(query, &query_options, true).await?;
        while self.next_document(&mut stream).await? {
            stream.walk(&mut reader)?;
            if let Some(e) = reader.statement_error() {
                return Err(e);
            }
        }
        reader.finish()
    }
}
