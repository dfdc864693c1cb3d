//! Write: Iceberg Parquet data files through iceberg-rust's rolling and data-file writers
//! over Floe's streaming Parquet writer ([`streaming`]), rolling to the table's
//! target file size, fanned out by the table's partition spec). File names carry a UUID v7 per
//! writer so concurrent invocations never overwrite each other's files.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use iceberg::spec::{DataFile, DataFileFormat, PartitionKey, Struct, TableProperties};
use iceberg::table::Table;
use iceberg::writer::base_writer::data_file_writer::DataFileWriterBuilder;
use iceberg::writer::file_writer::location_generator::{
    DefaultFileNameGenerator, DefaultLocationGenerator,
};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::{IcebergWriter, IcebergWriterBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::partition_split::PartitionSplitter;

mod stats;
mod streaming;

pub use streaming::{StreamingParquetWriterBuilder, UPLOAD_PART_BYTES};

/// Floe's row-group byte limit when the table sets none: small enough to keep a Lambda's memory
/// flat, large enough for efficient scans.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

type Builder = DataFileWriterBuilder<
    StreamingParquetWriterBuilder,
    DefaultLocationGenerator,
    DefaultFileNameGenerator,
>;

/// Input bytes (Arrow memory) a partitioned write buffers before writing them out.
pub use crate::config::DEFAULT_PARTITION_BUFFER_BYTES;

type Rolling = RollingFileWriterBuilder<
    StreamingParquetWriterBuilder,
    DefaultLocationGenerator,
    DefaultFileNameGenerator,
>;

enum Sink {
    Unpartitioned(Box<<Builder as IcebergWriterBuilder>::R>),
    Partitioned(Box<PartitionedSink>),
}

/// Partitioned writes buffer rows per partition (as Arrow) and write each partition's rows into
/// its own file when the buffer is full or at the end: one Parquet writer open at a time. (An
/// open Parquet file costs ~1 MiB per column — a ZSTD context and page buffers — so keeping one
/// open per partition, as a fan-out writer does, grows memory with the partition count.)
struct PartitionedSink {
    rolling: Rolling,
    splitter: PartitionSplitter,
    buffered: HashMap<Struct, (PartitionKey, Vec<RecordBatch>)>,
    buffered_bytes: usize,
    files: Vec<DataFile>,
}

impl PartitionedSink {
    async fn write(&mut self, batch: &RecordBatch, limit: usize) -> Result<(), iceberg::Error> {
        for (key, part) in self.splitter.split(batch)? {
            self.buffered_bytes += part.get_array_memory_size();
            self.buffered
                .entry(key.data().clone())
                .or_insert_with(|| (key, Vec::new()))
                .1
                .push(part);
        }
        if self.buffered_bytes >= limit {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), iceberg::Error> {
        for (_, (key, batches)) in self.buffered.drain() {
            let mut writer = DataFileWriterBuilder::new(self.rolling.clone())
                .build(Some(key))
                .await?;
            for b in batches {
                writer.write(b).await?;
            }
            self.files.extend(writer.close().await?);
        }
        self.buffered_bytes = 0;
        Ok(())
    }
}

/// Writes record batches (in the table's Arrow schema) into new data files of one table.
///
/// Memory stays bounded: an unpartitioned write flushes row groups at the byte limit; a
/// partitioned write buffers at most [`DEFAULT_PARTITION_BUFFER_BYTES`] of input before writing
/// it out partition by partition.
pub struct DataFileSink {
    sink: Sink,
    rows: u64,
    partition_buffer_bytes: usize,
}

/// Floe's Parquet page and dictionary size limit when the table sets none (Iceberg's property
/// names `write.parquet.page-size-bytes` / `write.parquet.dict-size-bytes`). Smaller than
/// parquet-rs' 1 MiB: each open file buffers a page and a dictionary per column, and a
/// partitioned write keeps one file open per partition.
pub const DEFAULT_PAGE_BYTES: usize = 256 * 1024;

/// Parquet writer settings from table properties: `write.parquet.compression-codec` (zstd),
/// `write.parquet.compression-level` (3), `write.parquet.row-group-size-bytes` (32 MiB),
/// `write.parquet.page-size-bytes` and `write.parquet.dict-size-bytes` (256 KiB).
pub fn writer_properties(
    props: &HashMap<String, String>,
) -> Result<WriterProperties, iceberg::Error> {
    let invalid = |k: &str, v: &str| {
        iceberg::Error::new(
            iceberg::ErrorKind::DataInvalid,
            format!("table property {k}=`{v}` is invalid"),
        )
    };
    let size = |key: &str, default: usize| -> Result<usize, iceberg::Error> {
        match props.get(key) {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(key, v)),
            None => Ok(default),
        }
    };
    let level: i32 = match props.get("write.parquet.compression-level") {
        Some(v) => v
            .parse()
            .map_err(|_| invalid("write.parquet.compression-level", v))?,
        None => 3,
    };
    let codec = props
        .get("write.parquet.compression-codec")
        .map(String::as_str)
        .unwrap_or("zstd");
    let compression = match codec.to_ascii_lowercase().as_str() {
        "zstd" => Compression::ZSTD(
            ZstdLevel::try_new(level)
                .map_err(|_| invalid("write.parquet.compression-level", &level.to_string()))?,
        ),
        "snappy" => Compression::SNAPPY,
        "uncompressed" | "none" => Compression::UNCOMPRESSED,
        other => return Err(invalid("write.parquet.compression-codec", other)),
    };
    Ok(WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_bytes(Some(size(
            "write.parquet.row-group-size-bytes",
            DEFAULT_ROW_GROUP_BYTES,
        )?))
        .set_data_page_size_limit(size("write.parquet.page-size-bytes", DEFAULT_PAGE_BYTES)?)
        .set_dictionary_page_size_limit(size("write.parquet.dict-size-bytes", DEFAULT_PAGE_BYTES)?)
        .build())
}

/// A rolling Parquet file writer for `table` (its schema, properties, target file size) under a
/// fresh UUID v7 file-name prefix.
fn rolling_writer(table: &Table) -> Result<Rolling, iceberg::Error> {
    let metadata = table.metadata();
    let schema = metadata.current_schema().clone();
    let table_props = TableProperties::try_from(metadata.properties())?;
    let parquet =
        StreamingParquetWriterBuilder::new(writer_properties(metadata.properties())?, schema)?;
    Ok(RollingFileWriterBuilder::new(
        parquet,
        table_props.write_target_file_size_bytes,
        table.file_io().clone(),
        DefaultLocationGenerator::new(metadata)?,
        DefaultFileNameGenerator::new(
            uuid::Uuid::now_v7().to_string(),
            None,
            DataFileFormat::Parquet,
        ),
    ))
}

impl DataFileSink {
    /// A sink for `table`'s current schema and default partition spec.
    pub async fn new(table: &Table) -> Result<Self, iceberg::Error> {
        let metadata = table.metadata();
        let schema = metadata.current_schema().clone();
        let rolling = rolling_writer(table)?;
        let spec = metadata.default_partition_spec().clone();
        let sink = if spec.is_unpartitioned() {
            Sink::Unpartitioned(Box::new(
                DataFileWriterBuilder::new(rolling).build(None).await?,
            ))
        } else {
            let splitter = PartitionSplitter::try_new(schema, spec)?;
            Sink::Partitioned(Box::new(PartitionedSink {
                rolling,
                splitter,
                buffered: HashMap::new(),
                buffered_bytes: 0,
                files: Vec::new(),
            }))
        };
        Ok(Self {
            sink,
            rows: 0,
            partition_buffer_bytes: DEFAULT_PARTITION_BUFFER_BYTES,
        })
    }

    /// A sink whose rows all belong to one partition (`partition` of the default spec; `None`
    /// for an unpartitioned table): compaction output, no per-row partitioning.
    pub async fn for_partition(
        table: &Table,
        partition: Option<Struct>,
    ) -> Result<Self, iceberg::Error> {
        let metadata = table.metadata();
        let key = partition.map(|data| {
            PartitionKey::new(
                metadata.default_partition_spec().as_ref().clone(),
                metadata.current_schema().clone(),
                data,
            )
        });
        let writer = DataFileWriterBuilder::new(rolling_writer(table)?)
            .build(key)
            .await?;
        Ok(Self {
            sink: Sink::Unpartitioned(Box::new(writer)),
            rows: 0,
            partition_buffer_bytes: DEFAULT_PARTITION_BUFFER_BYTES,
        })
    }

    /// Sets the partitioned-write buffer limit (default [`DEFAULT_PARTITION_BUFFER_BYTES`]).
    pub fn with_partition_buffer_bytes(mut self, bytes: usize) -> Self {
        self.partition_buffer_bytes = bytes.max(1);
        self
    }

    /// Writes one batch.
    pub async fn write(&mut self, batch: RecordBatch) -> Result<(), iceberg::Error> {
        self.rows += batch.num_rows() as u64;
        match &mut self.sink {
            Sink::Unpartitioned(w) => w.write(batch).await,
            Sink::Partitioned(p) => p.write(&batch, self.partition_buffer_bytes).await,
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes every open file and returns the data files written.
    pub async fn close(self) -> Result<Vec<DataFile>, iceberg::Error> {
        match self.sink {
            Sink::Unpartitioned(mut w) => w.close().await,
            Sink::Partitioned(mut p) => {
                p.flush().await?;
                Ok(p.files)
            }
        }
    }
}

/// A [`DataFileSink`] fed inline, or from its own task (`pipelined`): then Parquet encoding and
/// compression of one batch run on another core while the caller decodes and checks the next.
/// One batch waits in the channel at most, so memory grows by at most two batches. Dropped before
/// [`BatchWriter::close`] (the object failed), the writer task is aborted.
pub struct BatchWriter {
    inline: Option<DataFileSink>,
    /// Batches to the writer task (`None` once it stopped).
    tx: Option<tokio::sync::mpsc::Sender<RecordBatch>>,
    /// The writer task: the data files, or why it stopped.
    task: Option<tokio::task::JoinHandle<Result<Vec<DataFile>, iceberg::Error>>>,
}

impl BatchWriter {
    /// Writes into `sink`, on a task of its own when `pipelined`.
    pub fn new(sink: DataFileSink, pipelined: bool) -> Self {
        if !pipelined {
            return Self {
                inline: Some(sink),
                tx: None,
                task: None,
            };
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(1);
        let task = tokio::spawn(async move {
            let mut sink = sink;
            while let Some(batch) = rx.recv().await {
                sink.write(batch).await?;
            }
            sink.close().await
        });
        Self {
            inline: None,
            tx: Some(tx),
            task: Some(task),
        }
    }

    /// Writes one batch (hands it to the writer task when pipelined).
    pub async fn write(&mut self, batch: RecordBatch) -> Result<(), iceberg::Error> {
        if let Some(sink) = &mut self.inline {
            return sink.write(batch).await;
        }
        if let Some(tx) = &self.tx {
            if tx.send(batch).await.is_ok() {
                return Ok(());
            }
        }
        // The writer stopped: its error is the one to report.
        self.tx = None;
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(_)) => Err(stopped()),
                Err(e) => Err(joined(e)),
            },
            None => Err(stopped()),
        }
    }

    /// Closes every open file and returns the data files written.
    pub async fn close(mut self) -> Result<Vec<DataFile>, iceberg::Error> {
        if let Some(sink) = self.inline.take() {
            return sink.close().await;
        }
        self.tx = None;
        match self.task.take() {
            Some(task) => task.await.map_err(joined)?,
            None => Err(stopped()),
        }
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

fn stopped() -> iceberg::Error {
    iceberg::Error::new(
        iceberg::ErrorKind::Unexpected,
        "the Parquet writer task stopped early",
    )
}

fn joined(e: tokio::task::JoinError) -> iceberg::Error {
    iceberg::Error::new(
        iceberg::ErrorKind::Unexpected,
        format!("the Parquet writer task failed: {e}"),
    )
}
