//! Write: Iceberg Parquet data files through iceberg-rust's writers (rolling to the table's
//! target file size, fanned out by the table's partition spec). File names carry a UUID v7 per
//! writer so concurrent invocations never overwrite each other's files.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use iceberg::arrow::RecordBatchPartitionSplitter;
use iceberg::spec::{DataFile, DataFileFormat, TableProperties};
use iceberg::table::Table;
use iceberg::writer::base_writer::data_file_writer::DataFileWriterBuilder;
use iceberg::writer::file_writer::location_generator::{
    DefaultFileNameGenerator, DefaultLocationGenerator,
};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::file_writer::ParquetWriterBuilder;
use iceberg::writer::partitioning::fanout_writer::FanoutWriter;
use iceberg::writer::partitioning::PartitioningWriter;
use iceberg::writer::{IcebergWriter, IcebergWriterBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Floe's row-group byte limit when the table sets none: small enough to keep a Lambda's memory
/// flat, large enough for efficient scans.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

type Builder =
    DataFileWriterBuilder<ParquetWriterBuilder, DefaultLocationGenerator, DefaultFileNameGenerator>;

/// Arrow bytes a partitioned write may buffer across its open partition files before they are
/// all closed and new ones started (every open Parquet file holds its row group in memory).
pub const DEFAULT_PARTITION_BUFFER_BYTES: usize = 128 * 1024 * 1024;

type Rolling = RollingFileWriterBuilder<
    ParquetWriterBuilder,
    DefaultLocationGenerator,
    DefaultFileNameGenerator,
>;

enum Sink {
    Unpartitioned(Box<<Builder as IcebergWriterBuilder>::R>),
    Partitioned(Box<PartitionedSink>),
}

struct PartitionedSink {
    rolling: Rolling,
    fanout: FanoutWriter<Builder>,
    splitter: RecordBatchPartitionSplitter,
    buffered: usize,
    closed_files: Vec<DataFile>,
}

/// Writes record batches (in the table's Arrow schema) into new data files of one table.
///
/// Memory stays bounded: an unpartitioned write flushes row groups at the byte limit; a
/// partitioned write (one open file per partition seen) closes its open files once they have
/// taken [`DEFAULT_PARTITION_BUFFER_BYTES`] of input, trading a few more files for flat memory.
pub struct DataFileSink {
    sink: Sink,
    rows: u64,
    partition_buffer_bytes: usize,
}

/// Parquet writer settings from table properties: `write.parquet.compression-codec` (zstd),
/// `write.parquet.compression-level` (3), `write.parquet.row-group-size-bytes` (32 MiB).
pub fn writer_properties(
    props: &HashMap<String, String>,
) -> Result<WriterProperties, iceberg::Error> {
    let invalid = |k: &str, v: &str| {
        iceberg::Error::new(
            iceberg::ErrorKind::DataInvalid,
            format!("table property {k}=`{v}` is invalid"),
        )
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
    let row_group_bytes = match props.get("write.parquet.row-group-size-bytes") {
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("write.parquet.row-group-size-bytes", v))?,
        None => DEFAULT_ROW_GROUP_BYTES,
    };
    Ok(WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_bytes(Some(row_group_bytes))
        .build())
}

impl DataFileSink {
    /// A sink for `table`'s current schema and default partition spec.
    pub async fn new(table: &Table) -> Result<Self, iceberg::Error> {
        let metadata = table.metadata();
        let schema = metadata.current_schema().clone();
        let table_props = TableProperties::try_from(metadata.properties())?;
        let parquet =
            ParquetWriterBuilder::new(writer_properties(metadata.properties())?, schema.clone());
        let rolling = RollingFileWriterBuilder::new(
            parquet,
            table_props.write_target_file_size_bytes,
            table.file_io().clone(),
            DefaultLocationGenerator::new(metadata)?,
            DefaultFileNameGenerator::new(
                uuid::Uuid::now_v7().to_string(),
                None,
                DataFileFormat::Parquet,
            ),
        );
        let spec = metadata.default_partition_spec().clone();
        let sink = if spec.is_unpartitioned() {
            Sink::Unpartitioned(Box::new(
                DataFileWriterBuilder::new(rolling).build(None).await?,
            ))
        } else {
            let splitter =
                RecordBatchPartitionSplitter::try_new_with_computed_values(schema, spec)?;
            Sink::Partitioned(Box::new(PartitionedSink {
                fanout: FanoutWriter::new(DataFileWriterBuilder::new(rolling.clone())),
                rolling,
                splitter,
                buffered: 0,
                closed_files: Vec::new(),
            }))
        };
        Ok(Self {
            sink,
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
            Sink::Partitioned(p) => {
                p.buffered += batch.get_array_memory_size();
                for (key, part) in p.splitter.split(&batch)? {
                    p.fanout.write(key, part).await?;
                }
                if p.buffered >= self.partition_buffer_bytes {
                    let fresh = FanoutWriter::new(DataFileWriterBuilder::new(p.rolling.clone()));
                    let full = std::mem::replace(&mut p.fanout, fresh);
                    p.closed_files.extend(full.close().await?);
                    p.buffered = 0;
                }
                Ok(())
            }
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
            Sink::Partitioned(p) => {
                let mut files = p.closed_files;
                files.extend(p.fanout.close().await?);
                Ok(files)
            }
        }
    }
}
