//! Parquet input: read with parquet's async object_store reader (ranged GETs, one row group's
//! columns at a time), projected to the columns the table knows.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::StreamExt;
use object_store::ObjectStore;
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStream};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::{FormatError, InputFormat};

/// Streams record batches out of a Parquet object.
pub(super) struct ParquetDecoder {
    stream: ParquetRecordBatchStream<ParquetObjectReader>,
    columns: Vec<String>,
    all_columns: Vec<String>,
    object: String,
}

impl ParquetDecoder {
    pub(super) async fn open(
        store: Arc<dyn ObjectStore>,
        path: object_store::path::Path,
        size: u64,
        table_schema: &SchemaRef,
        batch_rows: usize,
        object: &str,
    ) -> Result<Self, FormatError> {
        let invalid = |message: String| FormatError::Decode {
            object: object.to_string(),
            format: InputFormat::Parquet,
            record: 0,
            message,
        };
        let reader = ParquetObjectReader::new(store, path).with_file_size(size);
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map_err(|e| invalid(e.to_string()))?;
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
            object: object.to_string(),
        })
    }

    pub(super) fn file_columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    pub(super) fn all_columns(&self) -> Vec<String> {
        self.all_columns.clone()
    }

    pub(super) async fn next_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RecordBatch>, FormatError> {
        match self.stream.next().await {
            None => Ok(None),
            Some(Ok(b)) => Ok(Some(b)),
            Some(Err(e)) => Err(FormatError::Decode {
                object: self.object.clone(),
                format: InputFormat::Parquet,
                record: records_before + 1,
                message: e.to_string(),
            }),
        }
    }
}
