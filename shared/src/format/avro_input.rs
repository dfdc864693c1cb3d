//! Avro object container files, read by arrow-avro (the arrow-rs project's reader: codecs null,
//! deflate, snappy and zstd; logical types to Arrow types — decimal, uuid, date, time-*,
//! timestamp-*, local-timestamp-*; records, arrays and maps as structs, lists and maps). Its
//! reader is synchronous (`std::io::BufRead`): it runs on a blocking thread over the streamed,
//! pinned body and hands batches over a one-slot channel, so one block and one batch are in
//! memory. Values then go through the contract like any other typed input (exact casts).

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use tokio::sync::{mpsc, oneshot};

use super::body::RawBody;
use super::text::{inflated_reader, read_failure};
use super::{Compression, FormatError, InputFormat, RawBatch};
use crate::config::Limits;

/// Streams record batches out of an Avro object container file.
pub(super) struct AvroDecoder {
    batches: mpsc::Receiver<Result<RecordBatch, ArrowError>>,
    /// Indices of the file's columns the table has, and their names.
    keep: Vec<usize>,
    columns: Vec<String>,
    all_columns: Vec<String>,
    file_schema: SchemaRef,
    object: String,
}

impl AvroDecoder {
    pub(super) async fn open(
        body: RawBody,
        compression: Compression,
        table_schema: &SchemaRef,
        batch_rows: usize,
        limits: Limits,
        object: &str,
    ) -> Result<Self, FormatError> {
        let reader = inflated_reader(body, compression, limits);
        let (schema_tx, schema_rx) = oneshot::channel();
        let (tx, batches) = mpsc::channel(1);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let bridge = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
            let reader = match arrow_avro::reader::ReaderBuilder::new()
                .with_batch_size(batch_rows.max(1))
                .build(bridge)
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = schema_tx.send(Err(e));
                    return;
                }
            };
            if schema_tx.send(Ok(reader.schema())).is_err() {
                return;
            }
            for batch in reader {
                let failed = batch.is_err();
                // A closed channel: the object is no longer wanted (an error elsewhere).
                if tx.blocking_send(batch).is_err() || failed {
                    return;
                }
            }
        });
        let file_schema = schema_rx
            .await
            .map_err(|_| decode_error(object, 0, "the Avro reader stopped".into()))?
            .map_err(|e| avro_error(object, 0, e))?;
        let all_columns: Vec<String> = file_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let keep: Vec<usize> = (0..all_columns.len())
            .filter(|&i| table_schema.field_with_name(&all_columns[i]).is_ok())
            .collect();
        let columns = keep.iter().map(|&i| all_columns[i].clone()).collect();
        Ok(Self {
            batches,
            keep,
            columns,
            all_columns,
            file_schema,
            object: object.to_string(),
        })
    }

    /// The file's columns the table has (the batches' columns).
    pub(super) fn file_columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// The file's Arrow schema (from the Avro writer schema).
    pub(super) fn file_schema(&self) -> SchemaRef {
        self.file_schema.clone()
    }

    /// Every column of the file.
    pub(super) fn all_columns(&self) -> Vec<String> {
        self.all_columns.clone()
    }

    pub(super) async fn next_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RawBatch>, FormatError> {
        match self.batches.recv().await {
            None => Ok(None),
            Some(Ok(b)) => {
                let b = b
                    .project(&self.keep)
                    .map_err(|e| avro_error(&self.object, records_before, e))?;
                Ok(Some(RawBatch::plain(b)))
            }
            Some(Err(e)) => Err(avro_error(&self.object, records_before, e)),
        }
    }
}

fn decode_error(object: &str, records_before: u64, message: String) -> FormatError {
    FormatError::Decode {
        object: object.to_string(),
        format: InputFormat::Avro,
        record: records_before + 1,
        message,
    }
}

/// A read failure (network: retryable; size limit) keeps its kind; anything else is a file
/// that is not valid Avro.
fn avro_error(object: &str, records_before: u64, e: ArrowError) -> FormatError {
    match e {
        ArrowError::IoError(_, io) => read_failure(object, io),
        e => decode_error(object, records_before, e.to_string()),
    }
}
