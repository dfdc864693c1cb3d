//! CSV and JSON-lines decoding with arrow-csv / arrow-json push decoders fed from a streamed,
//! optionally decompressed, object body: only one read buffer and one batch are held at a time.

use std::pin::Pin;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_compression::tokio::bufread::{GzipDecoder, ZstdDecoder};
use futures::TryStreamExt;
use object_store::GetResult;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio_util::io::StreamReader;

use super::{Compression, FormatError, InputFormat, ObjectFormat};
use crate::spec::{CsvOptions, TableSpec};

const READ_BUFFER: usize = 1 << 20;

enum Kind {
    Csv(Box<arrow_csv::reader::Decoder>),
    Json(arrow_json::reader::Decoder),
}

/// Streams record batches out of a CSV or JSON-lines object.
pub(super) struct TextDecoder {
    reader: Pin<Box<dyn AsyncBufRead + Send>>,
    kind: Kind,
    format: InputFormat,
    columns: Vec<String>,
    object: String,
    done: bool,
    /// Lines consumed before the first record (CSV header), for record numbering in messages.
    header_lines: u64,
}

impl TextDecoder {
    pub(super) async fn open(
        get: GetResult,
        fmt: ObjectFormat,
        spec: &TableSpec,
        table_schema: &SchemaRef,
        batch_rows: usize,
        object: &str,
    ) -> Result<Self, FormatError> {
        let body = StreamReader::new(get.into_stream().map_err(std::io::Error::other));
        let mut reader: Pin<Box<dyn AsyncBufRead + Send>> = match fmt.compression {
            Compression::None => Box::pin(BufReader::with_capacity(READ_BUFFER, body)),
            Compression::Gzip => {
                let mut d = GzipDecoder::new(body);
                d.multiple_members(true);
                Box::pin(BufReader::with_capacity(READ_BUFFER, d))
            }
            Compression::Zstd => Box::pin(BufReader::with_capacity(
                READ_BUFFER,
                ZstdDecoder::new(body),
            )),
        };
        let read_err = |e: std::io::Error| read_failure(object, e);
        skip_bom(&mut reader).await.map_err(read_err)?;

        let (kind, columns, header_lines) = match fmt.format {
            InputFormat::Csv => {
                let opts = &spec.csv;
                let columns = if opts.header {
                    read_header(&mut reader, opts)
                        .await
                        .map_err(|message| FormatError::Decode {
                            object: object.to_string(),
                            format: InputFormat::Csv,
                            record: 0,
                            message,
                        })?
                } else {
                    table_schema
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect()
                };
                if let Some(dup) = first_duplicate(&columns) {
                    return Err(FormatError::Decode {
                        object: object.to_string(),
                        format: InputFormat::Csv,
                        record: 0,
                        message: format!("header names column `{dup}` more than once"),
                    });
                }
                let decode_schema = file_schema(&columns);
                let decoder = csv_builder(decode_schema, opts, batch_rows)
                    .map_err(|message| FormatError::Unsupported {
                        object: object.to_string(),
                        message,
                    })?
                    .build_decoder();
                (
                    Kind::Csv(Box::new(decoder)),
                    columns,
                    u64::from(opts.header),
                )
            }
            InputFormat::JsonLines => {
                let columns: Vec<String> = table_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let decoder = arrow_json::ReaderBuilder::new(file_schema(&columns))
                    .with_batch_size(batch_rows)
                    .with_coerce_primitive(true)
                    .build_decoder()
                    .map_err(|e| FormatError::Unsupported {
                        object: object.to_string(),
                        message: e.to_string(),
                    })?;
                (Kind::Json(decoder), columns, 0)
            }
            InputFormat::Parquet => unreachable!("parquet is decoded by ParquetDecoder"),
        };
        Ok(Self {
            reader,
            kind,
            format: fmt.format,
            columns,
            object: object.to_string(),
            done: false,
            header_lines,
        })
    }

    /// Column names as they appear in the object.
    pub(super) fn file_columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// Next raw batch (file columns), or `None` at the end.
    pub(super) async fn next_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RecordBatch>, FormatError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let chunk = self
                .reader
                .fill_buf()
                .await
                .map_err(|e| read_failure(&self.object, e))?;
            if chunk.is_empty() {
                // End of input: let the decoder finish the last record, then flush.
                self.done = true;
                if let Kind::Csv(d) = &mut self.kind {
                    d.decode(&[])
                        .map_err(|e| self.decode_error(records_before, e))?;
                }
                if let Kind::Json(d) = &self.kind {
                    if d.has_partial_record() {
                        return Err(self.decode_error(
                            records_before,
                            arrow_schema::ArrowError::JsonError(
                                "the last line is an incomplete JSON value".into(),
                            ),
                        ));
                    }
                }
                return self.flush(records_before);
            }
            let len = chunk.len();
            let consumed = match &mut self.kind {
                Kind::Csv(d) => d.decode(chunk),
                Kind::Json(d) => d.decode(chunk),
            }
            .map_err(|e| self.decode_error(records_before, e))?;
            self.reader.as_mut().consume(consumed);
            if consumed < len {
                // The decoder holds a full batch.
                let batch = self.flush(records_before)?;
                if batch.is_some() {
                    return Ok(batch);
                }
            }
        }
    }

    fn flush(&mut self, records_before: u64) -> Result<Option<RecordBatch>, FormatError> {
        let r = match &mut self.kind {
            Kind::Csv(d) => d.flush(),
            Kind::Json(d) => d.flush(),
        };
        r.map_err(|e| self.decode_error(records_before, e))
            .map(|b| b.filter(|b| b.num_rows() > 0))
    }

    fn decode_error(&self, records_before: u64, e: arrow_schema::ArrowError) -> FormatError {
        let message = e.to_string();
        FormatError::Decode {
            object: self.object.clone(),
            format: self.format,
            record: records_before + 1,
            message: if self.header_lines > 0 {
                format!("{message} (line numbers count from the first line after the header)")
            } else {
                message
            },
        }
    }
}

fn read_failure(object: &str, e: std::io::Error) -> FormatError {
    // Network failures arrive wrapped from object_store and may pass on retry; anything else is
    // corrupt compressed data (bad gzip/zstd frame, truncated stream) and never will.
    let retryable = e
        .get_ref()
        .is_some_and(|inner| inner.is::<object_store::Error>());
    FormatError::Read {
        object: object.to_string(),
        message: e.to_string(),
        retryable,
    }
}

async fn skip_bom(reader: &mut Pin<Box<dyn AsyncBufRead + Send>>) -> std::io::Result<()> {
    let buf = reader.fill_buf().await?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.as_mut().consume(3);
    }
    Ok(())
}

/// Reads and parses the header line (quoted names allowed; no newlines inside names).
async fn read_header(
    reader: &mut Pin<Box<dyn AsyncBufRead + Send>>,
    opts: &CsvOptions,
) -> Result<Vec<String>, String> {
    let mut line = Vec::new();
    let limit = 1 << 20;
    loop {
        let buf = reader.fill_buf().await.map_err(|e| e.to_string())?;
        if buf.is_empty() {
            break;
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&buf[..=i]);
                reader.as_mut().consume(i + 1);
                break;
            }
            None => {
                line.extend_from_slice(buf);
                let n = buf.len();
                reader.as_mut().consume(n);
            }
        }
        if line.len() > limit {
            return Err("header line is longer than 1 MiB".into());
        }
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the object is empty: no header line".into());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(opts.delimiter as u8)
        .quote(opts.quote as u8)
        .from_reader(line.as_slice());
    let record = rdr
        .records()
        .next()
        .ok_or("the object has no header line")?
        .map_err(|e| format!("header line: {e}"))?;
    Ok(record.iter().map(|s| s.trim().to_string()).collect())
}

fn first_duplicate(columns: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    columns
        .iter()
        .find(|c| !seen.insert(c.as_str()))
        .map(String::as_str)
}

/// Decoder schema: every column as text. Typing happens in the [`super::Conformer`], which can
/// name the exact record and field of a bad value (the decoders' own errors cannot).
fn file_schema(columns: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

fn csv_builder(
    schema: SchemaRef,
    opts: &CsvOptions,
    batch_rows: usize,
) -> Result<arrow_csv::ReaderBuilder, String> {
    for (name, c) in [("delimiter", opts.delimiter), ("quote", opts.quote)] {
        if !c.is_ascii() {
            return Err(format!("CSV {name} `{c}` must be a single ASCII character"));
        }
    }
    let mut b = arrow_csv::ReaderBuilder::new(schema)
        .with_header(false)
        .with_delimiter(opts.delimiter as u8)
        .with_quote(opts.quote as u8)
        .with_batch_size(batch_rows);
    if let Some(e) = opts.escape {
        b = b.with_escape(e as u8);
    }
    let alternatives: Vec<String> = opts.null_values.iter().map(|v| regex::escape(v)).collect();
    let re = regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
        .map_err(|e| e.to_string())?;
    Ok(b.with_null_regex(re))
}
