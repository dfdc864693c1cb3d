//! Parquet input: parquet's async reader over pinned ranged GETs of the landing object (one row
//! group's columns at a time), projected to the columns the table knows. Batches are sized from
//! the footer's uncompressed sizes, so wide or highly compressed rows do not blow up memory.

use std::sync::Arc;

use arrow_schema::SchemaRef;
use futures::StreamExt;
use parquet::arrow::async_reader::ParquetRecordBatchStream;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::{FormatError, InputFormat, RawBatch};
use crate::config::Limits;
use crate::landing::{Landing, LandingParquetReader};
use crate::source::ObjectRef;

/// Uncompressed bytes one decoded batch aims at.
const BATCH_BYTES: u64 = 64 << 20;

/// Reads an object's Parquet footer over pinned range reads; a landing failure (overwritten,
/// gone, network) keeps its kind, anything else is a file that is not valid Parquet.
pub(crate) async fn footer(
    landing: Arc<Landing>,
    source: ObjectRef,
    size: u64,
    object: &str,
) -> Result<ParquetRecordBatchStreamBuilder<LandingParquetReader>, FormatError> {
    let reader = LandingParquetReader::new(landing, source, size);
    ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| {
            let message = match e {
                parquet::errors::ParquetError::External(inner) => {
                    match inner.downcast::<crate::landing::LandingError>() {
                        Ok(l) => return FormatError::Source(*l),
                        Err(other) => other.to_string(),
                    }
                }
                e => e.to_string(),
            };
            FormatError::Decode {
                object: object.to_string(),
                format: InputFormat::Parquet,
                record: 0,
                message,
            }
        })
}

/// Streams record batches out of a Parquet object.
pub(super) struct ParquetDecoder {
    stream: ParquetRecordBatchStream<LandingParquetReader>,
    columns: Vec<String>,
    all_columns: Vec<String>,
    file_schema: SchemaRef,
    object: String,
}

impl ParquetDecoder {
    pub(super) async fn open(
        landing: Arc<Landing>,
        source: ObjectRef,
        size: u64,
        table_schema: &SchemaRef,
        batch_rows: usize,
        limits: Limits,
        object: &str,
    ) -> Result<Self, FormatError> {
        let invalid = |message: String| FormatError::Decode {
            object: object.to_string(),
            format: InputFormat::Parquet,
            record: 0,
            message,
        };
        let builder = footer(landing, source, size, object).await?;
        let limit = |message: String| FormatError::Limit {
            object: object.to_string(),
            limit: "FLOE_MAX_DECOMPRESSED_BYTES",
            message,
        };
        let meta = builder.metadata().clone();
        let rows: i64 = meta.file_metadata().num_rows();
        let uncompressed: i64 = meta.row_groups().iter().map(|g| g.total_byte_size()).sum();
        let uncompressed = uncompressed.max(0) as u64;
        if uncompressed > limits.max_decompressed_bytes {
            return Err(limit(format!(
                "the file holds {uncompressed} bytes uncompressed, more than {}",
                limits.max_decompressed_bytes
            )));
        }
        let row_bytes = if rows > 0 {
            uncompressed / rows as u64
        } else {
            0
        };
        if row_bytes > limits.max_record_bytes {
            return Err(FormatError::Limit {
                object: object.to_string(),
                limit: "FLOE_MAX_RECORD_BYTES",
                message: format!(
                    "rows average {row_bytes} bytes uncompressed, more than {}",
                    limits.max_record_bytes
                ),
            });
        }
        let batch_rows = batch_rows.min((BATCH_BYTES / row_bytes.max(1)).max(1) as usize);
        let file_schema = builder.schema().clone();
        let keep: Vec<usize> = file_schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| table_schema.field_with_name(f.name()).is_ok())
            .map(|(i, _)| i)
            .collect();
        let all_columns = file_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let columns = keep
            .iter()
            .map(|&i| file_schema.field(i).name().clone())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), keep);
        let stream = builder
            .with_projection(mask)
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            stream,
            columns,
            all_columns,
            file_schema,
            object: object.to_string(),
        })
    }

    pub(super) fn file_columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// The file's Arrow schema.
    pub(super) fn file_schema(&self) -> SchemaRef {
        self.file_schema.clone()
    }

    pub(super) fn all_columns(&self) -> Vec<String> {
        self.all_columns.clone()
    }

    pub(super) async fn next_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RawBatch>, FormatError> {
        match self.stream.next().await {
            None => Ok(None),
            Some(Ok(b)) => Ok(Some(RawBatch::plain(b))),
            Some(Err(e)) => Err(FormatError::Decode {
                object: self.object.clone(),
                format: InputFormat::Parquet,
                record: records_before + 1,
                message: e.to_string(),
            }),
        }
    }
}
