//! A Parquet file writer for iceberg-rust's data-file and rolling writers that sends each file to
//! storage in parts while it is being encoded.
//!
//! iceberg-rust's `ParquetWriter` (0.10) drives parquet's `AsyncArrowWriter`, which serialises a
//! whole row group into one growing `Vec` before storage sees a byte, and opendal's multipart
//! writer then keeps that buffer until the next one arrives: a 32 MiB row group is held two or
//! three times at its flush. Here parquet's synchronous `ArrowWriter` encodes where blocking is
//! allowed ([`blocking`]) into a [`PartUpload`], which hands every full part
//! ([`UPLOAD_PART_BYTES`]) to the file's storage writer as soon as it fills. A file in progress
//! holds its open row group's encoded pages plus about three parts (the one filling, the one
//! storage keeps until the next, the one it is uploading).
//! The `DataFile` statistics come from [`super::stats`], which follows iceberg-rust's rules.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef as ArrowSchemaRef;
use bytes::Bytes;
use iceberg::io::{FileWrite, OutputFile};
use iceberg::spec::{DataFileBuilder, SchemaRef};
use iceberg::writer::file_writer::{FileWriter, FileWriterBuilder};
use iceberg::writer::CurrentFileStatus;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use super::stats::{data_file_builder, NanCounts};

/// Bytes per multipart part: above S3's 5 MiB minimum, small enough that two in memory stay
/// below one row group.
pub const UPLOAD_PART_BYTES: usize = 8 * 1024 * 1024;

/// Builds a [`StreamingParquetWriter`] per output file (plugged into iceberg-rust's rolling and
/// data-file writers in place of its `ParquetWriterBuilder`).
#[derive(Clone)]
pub struct StreamingParquetWriterBuilder {
    props: WriterProperties,
    schema: SchemaRef,
    arrow_schema: ArrowSchemaRef,
    part_bytes: usize,
}

impl StreamingParquetWriterBuilder {
    /// Writes files of the Iceberg `schema` (field ids carried into Parquet) with `props`.
    pub fn new(props: WriterProperties, schema: SchemaRef) -> iceberg::Result<Self> {
        let arrow_schema = Arc::new(schema.as_ref().try_into()?);
        Ok(Self {
            props,
            schema,
            arrow_schema,
            part_bytes: UPLOAD_PART_BYTES,
        })
    }

    /// Sets the part size (default [`UPLOAD_PART_BYTES`]; S3 refuses parts under 5 MiB but the
    /// last, so smaller sizes are for tests against other storage).
    pub fn with_part_bytes(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes.max(1);
        self
    }
}

impl FileWriterBuilder for StreamingParquetWriterBuilder {
    type R = StreamingParquetWriter;

    async fn build(&self, output_file: OutputFile) -> iceberg::Result<Self::R> {
        Ok(StreamingParquetWriter {
            config: self.clone(),
            output_file,
            writer: None,
            rows: 0,
            nan_counts: NanCounts::default(),
        })
    }
}

/// Writes one Parquet data file, streaming it to storage in parts; opened at the first non-empty
/// batch, so a file that receives no rows is never created.
pub struct StreamingParquetWriter {
    config: StreamingParquetWriterBuilder,
    output_file: OutputFile,
    /// `None` until the first row, and while a blocking task holds it.
    writer: Option<ArrowWriter<PartUpload>>,
    rows: usize,
    nan_counts: NanCounts,
}

/// Starts the upload of `output_file` and a Parquet writer over it.
async fn open(
    config: &StreamingParquetWriterBuilder,
    output_file: &OutputFile,
) -> iceberg::Result<ArrowWriter<PartUpload>> {
    let upload = PartUpload {
        file: output_file.writer().await?,
        runtime: tokio::runtime::Handle::current(),
        part: Vec::new(),
        part_bytes: config.part_bytes,
    };
    ArrowWriter::try_new(
        upload,
        config.arrow_schema.clone(),
        Some(config.props.clone()),
    )
    .map_err(|e| failed("opening", output_file, e))
}

fn failed(
    doing: &str,
    file: &OutputFile,
    e: impl std::error::Error + Send + Sync + 'static,
) -> iceberg::Error {
    iceberg::Error::new(
        iceberg::ErrorKind::Unexpected,
        format!("{doing} Parquet file {}", file.location()),
    )
    .with_source(e)
}

impl FileWriter for StreamingParquetWriter {
    async fn write(&mut self, batch: &RecordBatch) -> iceberg::Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows();
        self.nan_counts.add(batch);
        let mut writer = match self.writer.take() {
            Some(w) => w,
            None => open(&self.config, &self.output_file).await?,
        };
        let batch = batch.clone();
        let (writer, written) = blocking(move || {
            let written = writer.write(&batch);
            (writer, written)
        })
        .await?;
        written.map_err(|e| failed("writing", &self.output_file, e))?;
        self.writer = Some(writer);
        Ok(())
    }

    async fn close(mut self) -> iceberg::Result<Vec<DataFileBuilder>> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(vec![]);
        };
        let finished = blocking(move || {
            let metadata = writer.finish()?;
            let size = writer.bytes_written();
            writer.inner_mut().finish()?;
            Ok::<_, parquet::errors::ParquetError>((metadata, size))
        })
        .await?;
        let (metadata, size) = finished.map_err(|e| failed("closing", &self.output_file, e))?;
        Ok(vec![data_file_builder(
            &self.config.schema,
            &metadata,
            size as u64,
            self.output_file.location().to_string(),
            self.nan_counts,
        )])
    }
}

impl CurrentFileStatus for StreamingParquetWriter {
    fn current_file_path(&self) -> String {
        self.output_file.location().to_string()
    }

    fn current_row_num(&self) -> usize {
        self.rows
    }

    /// Bytes sent or buffered plus the open row group's estimated encoded size (what the
    /// rolling writer compares with the target file size), as iceberg-rust's writer reports.
    fn current_written_size(&self) -> usize {
        self.writer
            .as_ref()
            .map_or(0, |w| w.bytes_written() + w.in_progress_size())
    }
}

/// Runs Parquet encoding (CPU, and the part uploads it waits on) where blocking is allowed: in
/// place on a multi-thread runtime's worker (the Lambda functions and the CLI), which keeps the
/// encoder's allocations in the worker's malloc arena (an A/B against a pool thread: 9 MiB less
/// peak RSS, same speed), else on the blocking pool (a current-thread runtime, as in tests).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> iceberg::Result<T> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return Ok(tokio::task::block_in_place(f));
    }
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        iceberg::Error::new(
            iceberg::ErrorKind::Unexpected,
            format!("the Parquet encoding task failed: {e}"),
        )
    })
}

/// The byte sink under parquet's `ArrowWriter`: collects bytes into a part and, when the part is
/// full, hands it to the storage writer (waiting on the runtime from the blocking thread).
struct PartUpload {
    file: Box<dyn FileWrite>,
    runtime: tokio::runtime::Handle,
    part: Vec<u8>,
    part_bytes: usize,
}

impl PartUpload {
    /// Hands one part to the storage writer, waiting on the runtime from this blocking thread.
    fn upload(&mut self, part: Vec<u8>) -> io::Result<()> {
        self.runtime
            .block_on(self.file.write(Bytes::from(part)))
            .map_err(io::Error::other)
    }

    /// Sends the last part (any size) and completes the upload.
    fn finish(&mut self) -> io::Result<()> {
        if !self.part.is_empty() {
            let part = std::mem::take(&mut self.part);
            self.upload(part)?;
        }
        self.runtime
            .block_on(self.file.close())
            .map_err(io::Error::other)
    }
}

impl Write for PartUpload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.part_bytes - self.part.len();
        let n = room.min(buf.len());
        self.part.extend_from_slice(&buf[..n]);
        if self.part.len() == self.part_bytes {
            let full = std::mem::replace(&mut self.part, Vec::with_capacity(self.part_bytes));
            self.upload(full)?;
        }
        Ok(n)
    }

    /// Parts go out only when full (S3's minimum part size) or at [`PartUpload::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::buffer::OffsetBuffer;
    use arrow::compute::cast;
    use arrow_array::{
        ArrayRef, FixedSizeBinaryArray, ListArray, MapArray, StringArray, StructArray,
    };
    use arrow_schema::{DataType, Field};
    use iceberg::io::FileIO;
    use iceberg::spec::{
        DataFile, ListType, MapType, NestedField, PrimitiveType, Schema, StructType, Type,
    };
    use iceberg::writer::file_writer::ParquetWriterBuilder;

    use super::*;

    fn primitive(id: i32, name: &str, ty: PrimitiveType) -> Arc<NestedField> {
        Arc::new(NestedField::optional(id, name, Type::Primitive(ty)))
    }

    /// Every Iceberg primitive type, plus a struct, a list and a map of floats.
    fn schema() -> SchemaRef {
        use PrimitiveType as P;
        let decimal = |precision, scale| P::Decimal { precision, scale };
        let fields = vec![
            primitive(1, "b", P::Boolean),
            primitive(2, "i", P::Int),
            primitive(3, "l", P::Long),
            primitive(4, "f", P::Float),
            primitive(5, "d", P::Double),
            primitive(6, "dec9", decimal(9, 2)),
            primitive(7, "dec18", decimal(18, 4)),
            primitive(8, "dec38", decimal(38, 10)),
            primitive(9, "dt", P::Date),
            primitive(10, "tm", P::Time),
            primitive(11, "ts", P::Timestamp),
            primitive(12, "tstz", P::Timestamptz),
            primitive(13, "tsns", P::TimestampNs),
            primitive(14, "s", P::String),
            primitive(15, "bin", P::Binary),
            primitive(16, "u", P::Uuid),
            primitive(17, "fx", P::Fixed(3)),
            Arc::new(NestedField::optional(
                18,
                "st",
                Type::Struct(StructType::new(vec![
                    primitive(19, "x", P::Double),
                    primitive(20, "name", P::String),
                ])),
            )),
            Arc::new(NestedField::optional(
                21,
                "lst",
                Type::List(ListType::new(primitive(22, "element", P::Float))),
            )),
            Arc::new(NestedField::optional(
                23,
                "m",
                Type::Map(MapType::new(
                    Arc::new(NestedField::map_key_element(24, Type::Primitive(P::String))),
                    primitive(25, "value", P::Double),
                )),
            )),
        ];
        Arc::new(Schema::builder().with_fields(fields).build().unwrap())
    }

    /// Five rows of text per primitive column, rotated by `shift` so row groups differ.
    fn texts(name: &str, shift: usize) -> Vec<Option<String>> {
        let long = "q".repeat(40);
        let v: Vec<Option<&str>> = match name {
            "b" => vec![
                Some("true"),
                None,
                Some("false"),
                Some("true"),
                Some("false"),
            ],
            "i" => vec![Some("-5"), Some("7"), None, Some("2147483647"), Some("0")],
            "l" => vec![
                Some("-9223372036854775808"),
                Some("1"),
                None,
                Some("42"),
                Some("9"),
            ],
            "f" | "element" => vec![Some("NaN"), Some("1.5"), None, Some("-0.0"), Some("3.25")],
            "d" | "x" | "value" => vec![Some("2.5"), Some("NaN"), Some("-1e300"), None, Some("0")],
            "dec9" => vec![
                Some("-1.50"),
                Some("123.45"),
                None,
                Some("0.01"),
                Some("9999999.99"),
            ],
            "dec18" => vec![
                Some("12345678901234.5678"),
                Some("-0.0001"),
                None,
                Some("1"),
                Some("0"),
            ],
            "dec38" => vec![
                Some("1234567890123456789012345678.1234567890"),
                Some("-1.5"),
                None,
                Some("0"),
                Some("42"),
            ],
            "dt" => vec![
                Some("2024-02-29"),
                Some("1970-01-01"),
                None,
                Some("1900-01-01"),
                Some("2100-12-31"),
            ],
            "tm" => vec![
                Some("00:00:00"),
                Some("23:59:59.999999"),
                None,
                Some("12:00:00.5"),
                Some("01:02:03"),
            ],
            "ts" | "tstz" | "tsns" => vec![
                Some("2024-01-01T00:00:00.123456"),
                Some("1969-12-31T23:59:59.999999"),
                None,
                Some("2000-06-15T12:30:00"),
                Some("2038-01-19T03:14:07"),
            ],
            "s" | "name" | "bin" | "key" => {
                vec![
                    Some("apple"),
                    Some("zebra"),
                    None,
                    Some(long.as_str()),
                    Some("Ünïcode"),
                ]
            }
            other => panic!("no texts for {other}"),
        };
        let mut v: Vec<Option<String>> = v.into_iter().map(|t| t.map(str::to_string)).collect();
        v.rotate_left(shift % 5);
        v
    }

    fn column(field: &Field, shift: usize) -> ArrayRef {
        match field.data_type() {
            DataType::FixedSizeBinary(n) => {
                let rows = (0..5u8).map(|r| {
                    let r = (r + shift as u8) % 5;
                    (r != 2).then(|| vec![r.wrapping_mul(61); *n as usize])
                });
                Arc::new(FixedSizeBinaryArray::try_from_sparse_iter_with_size(rows, *n).unwrap())
            }
            DataType::Struct(fields) => Arc::new(StructArray::new(
                fields.clone(),
                fields.iter().map(|f| column(f, shift)).collect(),
                None,
            )),
            DataType::List(element) => Arc::new(ListArray::new(
                element.clone(),
                OffsetBuffer::from_lengths([2, 0, 1, 1, 1]),
                column(element, shift),
                None,
            )),
            DataType::Map(entries, sorted) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    unreachable!()
                };
                // Map keys may not be null: the key column's null row becomes "none".
                let keys: Vec<String> = texts("key", shift)
                    .into_iter()
                    .map(|k| k.unwrap_or_else(|| "none".into()))
                    .collect();
                let keys = cast(&StringArray::from(keys), kv[0].data_type()).unwrap();
                let entries_array =
                    StructArray::new(kv.clone(), vec![keys, column(&kv[1], shift)], None);
                Arc::new(
                    MapArray::try_new(
                        entries.clone(),
                        OffsetBuffer::from_lengths([2, 0, 1, 1, 1]),
                        entries_array,
                        None,
                        *sorted,
                    )
                    .unwrap(),
                )
            }
            target => {
                let text = StringArray::from(texts(field.name(), shift));
                cast(&text, target).unwrap_or_else(|e| panic!("{}: {e}", field.name()))
            }
        }
    }

    fn batches(schema: &SchemaRef) -> Vec<RecordBatch> {
        let arrow: ArrowSchemaRef = Arc::new(schema.as_ref().try_into().unwrap());
        (0..3)
            .map(|shift| {
                let columns = arrow.fields().iter().map(|f| column(f, shift)).collect();
                RecordBatch::try_new(arrow.clone(), columns).unwrap()
            })
            .collect()
    }

    async fn write_with<B: FileWriterBuilder>(
        builder: B,
        path: &str,
        batches: &[RecordBatch],
    ) -> DataFile {
        let io = FileIO::new_with_fs();
        let mut writer = builder.build(io.new_output(path).unwrap()).await.unwrap();
        for b in batches {
            writer.write(b).await.unwrap();
        }
        let mut files = writer.close().await.unwrap();
        assert_eq!(files.len(), 1);
        files.remove(0).partition_spec_id(0).build().unwrap()
    }

    fn scratch(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("floe-streaming-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name).to_string_lossy().into_owned()
    }

    /// Small row groups and 1 KiB parts: many parts per row group, several row groups per file.
    fn props() -> WriterProperties {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(4))
            .build()
    }

    /// Encoding in place on a multi-thread runtime's worker.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streamed_files_are_byte_for_byte_and_stat_for_stat_what_iceberg_writes() {
        same_file_and_stats_as_iceberg().await;
    }

    /// Encoding on the blocking pool (a current-thread runtime cannot block in place).
    #[tokio::test(flavor = "current_thread")]
    async fn the_same_on_a_current_thread_runtime() {
        same_file_and_stats_as_iceberg().await;
    }

    async fn same_file_and_stats_as_iceberg() {
        let schema = schema();
        let batches = batches(&schema);
        let theirs_path = scratch("theirs.parquet");
        let ours_path = scratch("ours.parquet");
        let theirs = write_with(
            ParquetWriterBuilder::new(props(), schema.clone()),
            &theirs_path,
            &batches,
        )
        .await;
        let ours = write_with(
            StreamingParquetWriterBuilder::new(props(), schema.clone())
                .unwrap()
                .with_part_bytes(1024),
            &ours_path,
            &batches,
        )
        .await;

        let theirs_bytes = std::fs::read(&theirs_path).unwrap();
        let ours_bytes = std::fs::read(&ours_path).unwrap();
        assert!(
            ours_bytes.len() > 4 * 1024,
            "several parts: {}",
            ours_bytes.len()
        );
        assert!(ours_bytes == theirs_bytes, "the same Parquet bytes");
        assert_eq!(ours.record_count(), 15);
        assert_eq!(ours.record_count(), theirs.record_count());
        assert_eq!(ours.file_size_in_bytes(), ours_bytes.len() as u64);
        assert_eq!(ours.file_size_in_bytes(), theirs.file_size_in_bytes());
        assert_eq!(ours.split_offsets().unwrap().len(), 4, "four row groups");
        assert_eq!(ours.split_offsets(), theirs.split_offsets());
        assert_eq!(ours.column_sizes(), theirs.column_sizes());
        assert_eq!(ours.value_counts(), theirs.value_counts());
        assert_eq!(ours.null_value_counts(), theirs.null_value_counts());
        assert_eq!(ours.nan_value_counts(), theirs.nan_value_counts());
        assert_eq!(ours.lower_bounds(), theirs.lower_bounds());
        assert_eq!(ours.upper_bounds(), theirs.upper_bounds());
        // Every leaf has counts and sizes; floats count their NaNs (3 batches × 1 NaN each, the
        // list's elements too) and every primitive leaf has bounds.
        let leaves = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 22, 24, 25,
        ];
        for id in leaves {
            assert!(ours.column_sizes().contains_key(&id), "size of {id}");
            assert!(ours.lower_bounds().contains_key(&id), "lower bound of {id}");
            assert!(ours.upper_bounds().contains_key(&id), "upper bound of {id}");
        }
        assert_eq!(
            ours.nan_value_counts(),
            &HashMap::from([(4, 3), (5, 3), (19, 3), (22, 3), (25, 3)])
        );
    }
}
