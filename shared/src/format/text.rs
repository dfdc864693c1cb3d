//! CSV and JSON-lines decoding from a streamed, optionally decompressed, pinned object body: one
//! read buffer and one batch are held at a time.
//!
//! CSV goes through arrow-csv's push decoder (records end at `\n`, `\r\n` or a lone `\r`, as
//! csv-core reads them; the header is found the same way). JSON lines are split into lines here,
//! so every record keeps its raw text for quarantine, a line that is not a JSON object is set aside
//! on its own, and the keys of every record are known (for `unknown_columns` and renamed-key
//! checks); the lines of a batch then go through arrow-json's decoder together, one by one only
//! when the batch holds a bad one.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_array::{new_null_array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_compression::tokio::bufread::{GzipDecoder, ZstdDecoder};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};

use super::{Compression, FormatError, InputFormat, ObjectFormat, RawBatch, RecordKeys};
use crate::config::Limits;
use crate::spec::{CsvOptions, TableSpec};
use crate::violation::{ErrorCode, Violation};

use super::body::{NetworkError, RawBody};
use super::csv_records::{self, CsvRecords, NullRule, Target};
use super::csv_recovery;

const READ_BUFFER: usize = 1 << 20;
/// CSV cells (rows × columns) one batch may hold: arrow-csv sizes its buffers by both, so a wide
/// file gets fewer rows per batch instead of memory in proportion to its width.
const MAX_BATCH_CELLS: usize = 1 << 22;
/// Bytes of JSON lines one batch may hold (besides its row count).
const MAX_JSON_BATCH_BYTES: usize = 32 << 20;

enum Kind {
    Csv(Box<CsvRecords>),
    Json(Box<JsonLines>),
}

/// Streams record batches out of a CSV or JSON-lines object.
pub(super) struct TextDecoder {
    reader: Pin<Box<dyn AsyncBufRead + Send>>,
    kind: Kind,
    columns: Vec<String>,
    object: String,
    done: bool,
    limits: Limits,
    /// CSV only: what row-level recovery needs.
    csv: Option<CsvBatch>,
    /// CSV only: what each column is built as (empty: all text).
    targets: Vec<Target>,
    nulls: NullRule,
}

/// The CSV batch being decoded: its bytes (replayed record by record if arrow-csv refuses it),
/// the options to rebuild the decoder, and the physical lines before it (for line numbers).
struct CsvBatch {
    opts: crate::spec::CsvOptions,
    schema: SchemaRef,
    rows: usize,
    bytes: Vec<u8>,
    lines_before: u64,
    /// The previous batch ended in `\r`: a `\n` starting this one ends the same line.
    ended_cr: bool,
}

impl CsvBatch {
    /// The batch was decoded: count its lines and start the next.
    fn flushed(&mut self) {
        let mut lines = csv_recovery::count_lines(&self.bytes);
        if self.ended_cr && self.bytes.first() == Some(&b'\n') {
            lines -= 1;
        }
        self.lines_before += lines;
        self.ended_cr = self.bytes.last() == Some(&b'\r');
        self.bytes.clear();
    }
}

/// The object's bytes, decompressed (gzip/zstd), buffered, counted against
/// `FLOE_MAX_DECOMPRESSED_BYTES`; body errors are tagged as network errors (retryable).
pub(super) fn inflated_reader(
    body: RawBody,
    compression: Compression,
    limits: Limits,
) -> Pin<Box<dyn AsyncBufRead + Send>> {
    let raw = body.reader;
    let inflated: Pin<Box<dyn AsyncRead + Send>> = match compression {
        Compression::None => Box::pin(raw),
        Compression::Gzip => {
            let mut d = GzipDecoder::new(BufReader::with_capacity(READ_BUFFER, raw));
            d.multiple_members(true);
            Box::pin(d)
        }
        Compression::Zstd => Box::pin(ZstdDecoder::new(BufReader::with_capacity(READ_BUFFER, raw))),
    };
    let counted = Counted {
        inner: inflated,
        seen: 0,
        limit: limits.max_decompressed_bytes,
    };
    Box::pin(BufReader::with_capacity(READ_BUFFER, counted))
}

/// The decompressed size passed `FLOE_MAX_DECOMPRESSED_BYTES`.
#[derive(Debug)]
struct TooLarge(u64);
impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the object inflates to more than {} bytes (FLOE_MAX_DECOMPRESSED_BYTES)",
            self.0
        )
    }
}
impl std::error::Error for TooLarge {}

/// Counts decompressed bytes and fails past the limit.
struct Counted<R> {
    inner: R,
    seen: u64,
    limit: u64,
}
impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            self.seen += (buf.filled().len() - before) as u64;
            if self.seen > self.limit {
                return Poll::Ready(Err(std::io::Error::other(TooLarge(self.limit))));
            }
        }
        r
    }
}

impl TextDecoder {
    pub(super) async fn open(
        body: RawBody,
        fmt: ObjectFormat,
        spec: &TableSpec,
        table_schema: &SchemaRef,
        batch_rows: usize,
        limits: Limits,
        object: &str,
    ) -> Result<Self, FormatError> {
        let mut reader = inflated_reader(body, fmt.compression, limits);
        let read_err = |e: std::io::Error| read_failure(object, e);
        skip_bom(&mut reader).await.map_err(read_err)?;

        let mut csv = None;
        let nulls = NullRule::new(&spec.csv);
        let (kind, columns) = match fmt.format {
            InputFormat::Csv => {
                let opts = &spec.csv;
                let decode_err = |message: String| FormatError::Decode {
                    object: object.to_string(),
                    format: InputFormat::Csv,
                    record: 0,
                    message,
                };
                let (columns, header_lines) = if opts.header {
                    let header = read_header(&mut reader, opts, limits.max_record_bytes)
                        .await
                        .map_err(|e| match e {
                            HeaderError::Io(e) => read_failure(object, e),
                            HeaderError::Invalid(m) => decode_err(m),
                            HeaderError::TooLong(n) => FormatError::Limit {
                                object: object.to_string(),
                                limit: "FLOE_MAX_RECORD_BYTES",
                                message: format!("the header line is longer than {n} bytes"),
                            },
                        })?;
                    (header.columns, header.lines)
                } else {
                    (
                        table_schema
                            .fields()
                            .iter()
                            .map(|f| f.name().clone())
                            .collect(),
                        0,
                    )
                };
                if columns.len() > limits.max_columns {
                    return Err(FormatError::Limit {
                        object: object.to_string(),
                        limit: "FLOE_MAX_COLUMNS",
                        message: format!(
                            "the header has {} columns, more than {}",
                            columns.len(),
                            limits.max_columns
                        ),
                    });
                }
                if let Some(dup) = first_duplicate(&columns) {
                    return Err(decode_err(format!(
                        "header names column `{dup}` more than once"
                    )));
                }
                let rows = batch_rows.min((MAX_BATCH_CELLS / columns.len().max(1)).max(1));
                // Refuses what arrow-csv refuses (non-ASCII delimiter or quote, a null list it
                // cannot compile), before reading: recovery decodes with it.
                csv_builder(file_schema(&columns), opts, rows).map_err(|message| {
                    FormatError::Unsupported {
                        object: object.to_string(),
                        message,
                    }
                })?;
                let decoder = CsvRecords::new(opts, columns.len(), rows);
                csv = Some(CsvBatch {
                    opts: opts.clone(),
                    schema: file_schema(&columns),
                    rows,
                    bytes: Vec::new(),
                    lines_before: header_lines,
                    ended_cr: false,
                });
                (Kind::Csv(Box::new(decoder)), columns)
            }
            InputFormat::JsonLines => {
                let columns: Vec<String> = table_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let json = JsonLines::new(table_schema, batch_rows).map_err(|e| {
                    FormatError::Unsupported {
                        object: object.to_string(),
                        message: e.to_string(),
                    }
                })?;
                (Kind::Json(Box::new(json)), columns)
            }
            InputFormat::Parquet | InputFormat::Avro => {
                unreachable!("parquet and avro have their own decoders")
            }
        };
        Ok(Self {
            reader,
            kind,
            columns,
            object: object.to_string(),
            done: false,
            limits,
            csv,
            targets: Vec::new(),
            nulls,
        })
    }

    /// What each CSV column is built as from now on (empty: all text).
    pub(super) fn set_targets(&mut self, targets: Vec<Target>) {
        self.targets = targets;
    }

    /// Column names as they appear in the object (for JSON lines: the table's columns; the keys
    /// of each record are checked per record).
    pub(super) fn file_columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// Next raw batch (file columns), or `None` at the end.
    pub(super) async fn next_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RawBatch>, FormatError> {
        if self.done {
            return Ok(None);
        }
        if matches!(self.kind, Kind::Json(_)) {
            return self.next_json_batch(records_before).await;
        }
        // Bytes fed since a record last completed: a record that never ends is cut off at the limit.
        let mut pending_bytes: u64 = 0;
        loop {
            let chunk = self
                .reader
                .fill_buf()
                .await
                .map_err(|e| read_failure(&self.object, e))?;
            let Kind::Csv(d) = &mut self.kind else {
                unreachable!("json handled above")
            };
            if chunk.is_empty() {
                // End of input: let the decoder finish the last record, then flush.
                self.done = true;
                if d.decode(&[]).is_err() {
                    return self.recover(records_before, 0).await;
                }
                return self.flush(records_before).await;
            }
            let len = chunk.len();
            let before = d.capacity();
            let Ok(consumed) = d.decode(chunk) else {
                // arrow-csv refuses the batch (ragged row, bad UTF-8, broken quote): recover
                // record by record, through the chunk it failed on.
                return self.recover(records_before, len).await;
            };
            if let Some(st) = &mut self.csv {
                st.bytes.extend_from_slice(&chunk[..consumed]);
            }
            let progressed = d.capacity() != before;
            self.reader.as_mut().consume(consumed);
            if progressed {
                pending_bytes = 0;
            } else {
                pending_bytes += consumed as u64;
                if pending_bytes > self.limits.max_record_bytes {
                    return Err(self.record_too_long(records_before));
                }
            }
            if consumed < len {
                // The decoder holds a full batch.
                let batch = self.flush(records_before).await?;
                if batch.is_some() {
                    return Ok(batch);
                }
            }
        }
    }

    fn record_too_long(&self, records_before: u64) -> FormatError {
        FormatError::Limit {
            object: self.object.clone(),
            limit: "FLOE_MAX_RECORD_BYTES",
            message: format!(
                "a record after record {records_before} is longer than {} bytes",
                self.limits.max_record_bytes
            ),
        }
    }

    async fn flush(&mut self, records_before: u64) -> Result<Option<RawBatch>, FormatError> {
        let Kind::Csv(d) = &mut self.kind else {
            return Ok(None);
        };
        let built = d.flush().and_then(|texts| {
            texts
                .map(|t| {
                    csv_records::build_batch(&t, &self.columns, &self.targets, &self.nulls)
                        .map(|(batch, typed)| (batch, (typed > 0).then(|| Arc::new(t))))
                })
                .transpose()
        });
        match built {
            Ok(b) => {
                if let Some(st) = &mut self.csv {
                    st.flushed();
                }
                Ok(b.filter(|(b, _)| b.num_rows() > 0)
                    .map(|(batch, texts)| RawBatch {
                        texts,
                        ..RawBatch::plain(batch)
                    }))
            }
            Err(_) => self.recover(records_before, 0).await,
        }
    }

    /// Row-level recovery of a batch arrow-csv refused: its bytes (and at least `extra` more, the
    /// chunk it failed on) are split into records; good records are decoded by arrow-csv, bad
    /// ones come back as rows with a violation, their line number and raw bytes.
    async fn recover(
        &mut self,
        records_before: u64,
        extra: usize,
    ) -> Result<Option<RawBatch>, FormatError> {
        let Some(st) = self.csv.as_mut() else {
            return Err(FormatError::Unsupported {
                object: self.object.clone(),
                message: "no CSV state to recover from".into(),
            });
        };
        let opts = st.opts.clone();
        let (schema, rows) = (st.schema.clone(), st.rows);
        let mut line = st.lines_before;
        let pending = std::mem::take(&mut st.bytes);
        self.kind = Kind::Csv(Box::new(CsvRecords::new(
            &opts,
            schema.fields().len(),
            rows,
        )));
        let mut splitter = csv_recovery::RecordSplitter::new(&opts);
        let mut replay = Replay {
            pending,
            pos: 0,
            to_read: extra,
            eof: self.done,
        };
        let mut records: Vec<(Vec<u8>, Option<Violation>)> = Vec::new();
        loop {
            let record = match replay
                .next(&mut self.reader, &mut splitter, &self.object)
                .await?
            {
                Step::Record(r) => r,
                Step::Partial => None,
                Step::Done => break,
            };
            if splitter.pending_bytes() as u64 > self.limits.max_record_bytes {
                return Err(self.record_too_long(records_before + records.len() as u64));
            }
            let Some(r) = record else { continue };
            line += r.blank_lines;
            match judge(&r, &schema, line + 1) {
                Judged::Keep(violation) => {
                    line += r.lines();
                    records.push((r.bytes, violation));
                }
                Judged::CutFirstLine { end, violation } => {
                    // Read the lines after the first again, from a fresh tokenizer.
                    replay.push_front(&r.bytes[end..]);
                    splitter.reset(&opts);
                    line += 1;
                    records.push((r.bytes[..end].to_vec(), Some(violation)));
                }
            }
        }
        self.done |= replay.eof;
        if let Some(st) = self.csv.as_mut() {
            (st.lines_before, st.ended_cr) = (line, false);
        }
        if records.is_empty() {
            return Ok(None);
        }
        recovered_batch(&self.object, &schema, &opts, records).map(Some)
    }

    async fn next_json_batch(
        &mut self,
        records_before: u64,
    ) -> Result<Option<RawBatch>, FormatError> {
        let Kind::Json(json) = &mut self.kind else {
            unreachable!()
        };
        let mut lines: Vec<String> = Vec::new();
        let mut bytes = 0usize;
        while lines.len() < json.batch_rows && bytes < MAX_JSON_BATCH_BYTES {
            let line = read_line(&mut self.reader, self.limits.max_record_bytes)
                .await
                .map_err(|e| match e {
                    LineError::Io(e) => read_failure(&self.object, e),
                    LineError::TooLong => FormatError::Limit {
                        object: self.object.clone(),
                        limit: "FLOE_MAX_RECORD_BYTES",
                        message: format!(
                            "record {} is longer than {} bytes",
                            records_before + lines.len() as u64 + 1,
                            self.limits.max_record_bytes
                        ),
                    },
                })?;
            let Some(line) = line else {
                self.done = true;
                break;
            };
            if line.trim().is_empty() {
                continue;
            }
            bytes += line.len();
            lines.push(line);
        }
        if lines.is_empty() {
            return Ok(None);
        }
        json.decode(lines)
            .map(Some)
            .map_err(|e| FormatError::Decode {
                object: self.object.clone(),
                format: InputFormat::JsonLines,
                record: records_before + 1,
                message: e.to_string(),
            })
    }
}

/// JSON-lines state: the decoder schema (every table column as text) and its decoder.
struct JsonLines {
    schema: SchemaRef,
    decoder: arrow_json::reader::Decoder,
    batch_rows: usize,
    /// The table's nested columns: their records' keys are checked against the table's fields.
    nested: Vec<(String, DataType)>,
}

impl JsonLines {
    /// A decoder for the table's columns: primitives as text, nested columns with their
    /// structure and text leaves (typed by the contract).
    fn new(table: &SchemaRef, batch_rows: usize) -> Result<Self, arrow_schema::ArrowError> {
        let schema = Arc::new(Schema::new(
            table
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), crate::contract::text_leaves(f.data_type()), true))
                .collect::<Vec<_>>(),
        ));
        let nested = table
            .fields()
            .iter()
            .filter(|f| f.data_type().is_nested())
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        Ok(Self {
            decoder: Self::decoder(&schema, batch_rows)?,
            schema,
            batch_rows,
            nested,
        })
    }

    fn decoder(
        schema: &SchemaRef,
        batch_rows: usize,
    ) -> Result<arrow_json::reader::Decoder, arrow_schema::ArrowError> {
        arrow_json::ReaderBuilder::new(schema.clone())
            .with_batch_size(batch_rows.max(1))
            .with_coerce_primitive(true)
            .build_decoder()
    }

    /// Decodes the lines of one batch; each line keeps its raw text and keys.
    fn decode(&mut self, lines: Vec<String>) -> Result<RawBatch, arrow_schema::ArrowError> {
        let n = lines.len();
        let mut violations: Vec<Option<Violation>> = vec![None; n];
        let mut keys: Vec<RecordKeys> = Vec::with_capacity(n);
        let none: RecordKeys = Arc::from(Vec::<String>::new());
        let mut last = none.clone();
        for (i, line) in lines.iter().enumerate() {
            if let Some(v) = crate::violation::json_too_deep(line, "") {
                keys.push(none.clone());
                violations[i] = Some(v);
                continue;
            }
            if !self.nested.is_empty() {
                // Nested keys the table lacks, by path (`address.zip`), next to the record's keys.
                if let Ok(serde_json::Value::Object(map)) =
                    serde_json::from_str::<serde_json::Value>(line)
                {
                    let mut k: Vec<String> = map.keys().cloned().collect();
                    for (col, ty) in &self.nested {
                        if let Some(v) = map.get(col) {
                            k.extend(crate::contract::unknown_json_keys(col, v, ty));
                        }
                    }
                    keys.push(Arc::from(k));
                    continue;
                }
            }
            match record_keys(line) {
                Ok(k) => {
                    // Most records repeat the keys of the one before: share its list.
                    if !(k.len() == last.len() && k.iter().zip(last.iter()).all(|(a, b)| a == b)) {
                        last = k.iter().map(|c| c.to_string()).collect();
                    }
                    keys.push(last.clone());
                }
                Err(e) => {
                    keys.push(none.clone());
                    violations[i] = Some(Violation {
                        field: String::new(),
                        code: ErrorCode::Undecodable,
                        message: format!("not a JSON object: {e}"),
                    });
                }
            }
        }
        let batch = if violations.iter().all(Option::is_none) {
            match self.decode_together(&lines) {
                Ok(b) => Some(b),
                Err(_) => {
                    // Start clean: the failed decoder may hold part of the batch.
                    self.decoder = Self::decoder(&self.schema, self.batch_rows)?;
                    None
                }
            }
        } else {
            None
        };
        let batch = match batch {
            Some(b) => b,
            None => self.decode_one_by_one(&lines, &mut violations)?,
        };
        Ok(RawBatch {
            batch,
            raw: Some(lines.into_iter().map(Some).collect()),
            keys: Some(keys),
            violations,
            texts: None,
        })
    }

    fn decode_together(
        &mut self,
        lines: &[String],
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        for line in lines {
            self.feed(line)?;
        }
        let batch = self
            .decoder
            .flush()?
            .unwrap_or_else(|| RecordBatch::new_empty(self.schema.clone()));
        if batch.num_rows() != lines.len() {
            return Err(arrow_schema::ArrowError::JsonError(format!(
                "{} records decoded from {} lines",
                batch.num_rows(),
                lines.len()
            )));
        }
        Ok(batch)
    }

    fn feed(&mut self, line: &str) -> Result<(), arrow_schema::ArrowError> {
        let bytes = line.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let n = self.decoder.decode(&bytes[at..])?;
            if n == 0 {
                // The decoder is full: cannot happen with batch_rows >= lines, but never loop.
                return Err(arrow_schema::ArrowError::JsonError("decoder full".into()));
            }
            at += n;
        }
        self.decoder.decode(b"\n")?;
        Ok(())
    }

    /// Slow path: one line at a time, so a bad line becomes a row violation and an all-null row.
    fn decode_one_by_one(
        &mut self,
        lines: &[String],
        violations: &mut [Option<Violation>],
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let null_row = RecordBatch::try_new(
            self.schema.clone(),
            self.schema
                .fields()
                .iter()
                .map(|f| new_null_array(f.data_type(), 1))
                .collect(),
        )?;
        let mut rows = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            if violations[i].is_some() {
                rows.push(null_row.clone());
                continue;
            }
            let one = self.feed(line).and_then(|_| self.decoder.flush());
            match one {
                Ok(Some(b)) if b.num_rows() == 1 => rows.push(b),
                Ok(_) => {
                    self.decoder = Self::decoder(&self.schema, self.batch_rows)?;
                    violations[i] = Some(Violation {
                        field: String::new(),
                        code: ErrorCode::Undecodable,
                        message: "the line is not one JSON object".into(),
                    });
                    rows.push(null_row.clone());
                }
                Err(e) => {
                    self.decoder = Self::decoder(&self.schema, self.batch_rows)?;
                    violations[i] = Some(Violation {
                        field: field_in_message(&e.to_string(), &self.schema),
                        code: ErrorCode::InvalidType,
                        message: format!("cannot read the record: {e}"),
                    });
                    rows.push(null_row.clone());
                }
            }
        }
        arrow::compute::concat_batches(&self.schema, &rows)
    }
}

/// The column a decoder message names, if any.
fn field_in_message(message: &str, schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name())
        .find(|n| message.contains(&format!("'{n}'")) || message.contains(&format!("\"{n}\"")))
        .cloned()
        .unwrap_or_default()
}

pub(super) fn read_failure(object: &str, e: std::io::Error) -> FormatError {
    if let Some(limit) = e.get_ref().and_then(|i| i.downcast_ref::<TooLarge>()) {
        return FormatError::Limit {
            object: object.to_string(),
            limit: "FLOE_MAX_DECOMPRESSED_BYTES",
            message: limit.to_string(),
        };
    }
    // Network failures are tagged on the way in and may pass on retry; anything else is corrupt
    // compressed data (bad gzip/zstd frame, truncated stream) and never will.
    let retryable = e.get_ref().is_some_and(|inner| inner.is::<NetworkError>());
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

enum LineError {
    Io(std::io::Error),
    TooLong,
}

/// One line without its `\n` / `\r\n`, or `None` at the end of input.
async fn read_line(
    reader: &mut Pin<Box<dyn AsyncBufRead + Send>>,
    max: u64,
) -> Result<Option<String>, LineError> {
    let mut line: Vec<u8> = Vec::new();
    let mut any = false;
    loop {
        let buf = reader.fill_buf().await.map_err(LineError::Io)?;
        if buf.is_empty() {
            break;
        }
        any = true;
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&buf[..i]);
                reader.as_mut().consume(i + 1);
                if line.len() as u64 > max {
                    return Err(LineError::TooLong);
                }
                break;
            }
            None => {
                line.extend_from_slice(buf);
                let n = buf.len();
                reader.as_mut().consume(n);
            }
        }
        if line.len() as u64 > max {
            return Err(LineError::TooLong);
        }
    }
    if !any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    // Invalid UTF-8 stays visible: the bad bytes become U+FFFD and the JSON check names the line.
    Ok(Some(match String::from_utf8(line) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

pub(super) struct Header {
    pub(super) columns: Vec<String>,
    /// Lines consumed: blank lines before the header, and the header.
    pub(super) lines: u64,
}

pub(super) enum HeaderError {
    Io(std::io::Error),
    Invalid(String),
    TooLong(u64),
}

/// Reads the header record: leading blank lines are skipped; the record ends at the first `\n`,
/// `\r\n` or lone `\r` outside quotes, exactly where csv-core (and so the data decoder) ends it.
pub(super) async fn read_header(
    reader: &mut Pin<Box<dyn AsyncBufRead + Send>>,
    opts: &CsvOptions,
    max: u64,
) -> Result<Header, HeaderError> {
    let quote = opts.quote as u8;
    let mut lines = 0u64;
    let mut line: Vec<u8> = Vec::new();
    let mut in_quotes = false;
    let mut ended_by_cr = false;
    loop {
        let buf = reader.fill_buf().await.map_err(HeaderError::Io)?;
        if buf.is_empty() {
            break;
        }
        if ended_by_cr {
            // `\r\n`: the `\n` belongs to the terminator just read.
            if buf[0] == b'\n' {
                reader.as_mut().consume(1);
            }
            ended_by_cr = false;
            if !line.is_empty() {
                break;
            }
            continue;
        }
        let mut end = None;
        for (i, &b) in buf.iter().enumerate() {
            if b == quote {
                in_quotes = !in_quotes;
            } else if !in_quotes && (b == b'\n' || b == b'\r') {
                end = Some((i, b == b'\r'));
                break;
            }
        }
        match end {
            Some((i, cr)) => {
                line.extend_from_slice(&buf[..i]);
                reader.as_mut().consume(i + 1);
                lines += 1;
                if line.is_empty() {
                    // A blank line before the header.
                    ended_by_cr = cr;
                    continue;
                }
                if cr {
                    ended_by_cr = true;
                    continue;
                }
                break;
            }
            None => {
                line.extend_from_slice(buf);
                let n = buf.len();
                reader.as_mut().consume(n);
            }
        }
        if line.len() as u64 > max {
            return Err(HeaderError::TooLong(max));
        }
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(HeaderError::Invalid(
            "the object is empty: no header line".into(),
        ));
    }
    if !line.is_empty() && lines == 0 {
        lines = 1; // a header with no line end
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(opts.delimiter as u8)
        .quote(opts.quote as u8)
        .from_reader(line.as_slice());
    let record = rdr
        .records()
        .next()
        .ok_or_else(|| HeaderError::Invalid("the object has no header line".into()))?
        .map_err(|e| HeaderError::Invalid(format!("header line: {e}")))?;
    Ok(Header {
        columns: record.iter().map(|s| s.trim().to_string()).collect(),
        lines,
    })
}

fn first_duplicate(columns: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    columns
        .iter()
        .find(|c| !seen.insert(c.as_str()))
        .map(String::as_str)
}

/// The bytes recovery reads: the refused batch's, then the object until at least `to_read`
/// more bytes and the record in progress have been read.
struct Replay {
    pending: Vec<u8>,
    pos: usize,
    to_read: usize,
    eof: bool,
}

/// One step of [`Replay::next`].
enum Step {
    /// Bytes were fed; a record completed (or not yet).
    Record(Option<csv_recovery::RawRecord>),
    /// More bytes were read from the object.
    Partial,
    /// Nothing more to recover in this batch.
    Done,
}

impl Replay {
    async fn next(
        &mut self,
        reader: &mut Pin<Box<dyn AsyncBufRead + Send>>,
        splitter: &mut csv_recovery::RecordSplitter,
        object: &str,
    ) -> Result<Step, FormatError> {
        if self.pos < self.pending.len() {
            let (n, r) = splitter.feed(&self.pending[self.pos..]);
            self.pos += n;
            return Ok(Step::Record(r));
        }
        if (self.to_read > 0 || splitter.in_record()) && !self.eof {
            let chunk = reader
                .fill_buf()
                .await
                .map_err(|e| read_failure(object, e))?;
            let n = chunk.len();
            self.eof = n == 0;
            self.pending.clear();
            self.pending.extend_from_slice(chunk);
            self.pos = 0;
            reader.as_mut().consume(n);
            self.to_read = self.to_read.saturating_sub(n);
            return Ok(Step::Partial);
        }
        if self.eof {
            if let (_, Some(r)) = splitter.feed(&[]) {
                return Ok(Step::Record(Some(r)));
            }
        }
        Ok(Step::Done)
    }

    /// Puts `bytes` before the unread rest.
    fn push_front(&mut self, bytes: &[u8]) {
        let mut rest = bytes.to_vec();
        rest.extend_from_slice(&self.pending[self.pos..]);
        (self.pending, self.pos) = (rest, 0);
    }
}

/// What recovery does with one record.
enum Judged {
    /// Keep the record: good (`None`) or quarantined whole with this violation.
    Keep(Option<Violation>),
    /// An unterminated quote ran over the following lines: quarantine the first line (bytes up
    /// to `end`) and read the rest again.
    CutFirstLine { end: usize, violation: Violation },
}

/// Checks one record that starts on `line`: field count, then UTF-8.
fn judge(r: &csv_recovery::RawRecord, schema: &SchemaRef, line: u64) -> Judged {
    let ncols = schema.fields().len();
    if r.fields != ncols {
        let malformed = |message| Violation {
            field: String::new(),
            code: ErrorCode::MalformedRecord,
            message,
        };
        return match r.inner_line_break() {
            Some(cut) => Judged::CutFirstLine {
                end: cut + if r.bytes[cut..].starts_with(b"\r\n") { 2 } else { 1 },
                violation: malformed(format!(
                    "line {line}: a quote opened on this line is not closed where it should be ({} fields over {} lines, the header has {ncols}); only this line is set aside",
                    r.fields,
                    r.lines()
                )),
            },
            None => Judged::Keep(Some(malformed(format!(
                "line {line}: {} fields, the header has {ncols}",
                r.fields
            )))),
        };
    }
    Judged::Keep(r.bad_utf8_field.map(|i| {
        let name = schema.field(i).name();
        Violation {
            field: name.clone(),
            code: ErrorCode::InvalidEncoding,
            message: format!("line {line}: field `{name}` is not valid UTF-8"),
        }
    }))
}

/// The batch of a recovered CSV chunk: good records decoded together by arrow-csv (the fast
/// path's value semantics), bad ones as null rows with their violation and raw text, in order.
fn recovered_batch(
    object: &str,
    schema: &SchemaRef,
    opts: &crate::spec::CsvOptions,
    records: Vec<(Vec<u8>, Option<Violation>)>,
) -> Result<RawBatch, FormatError> {
    let internal = |e: arrow_schema::ArrowError| FormatError::Unsupported {
        object: object.to_string(),
        message: format!("recovering CSV records: {e}"),
    };
    let mut good_bytes = Vec::new();
    let mut index = Vec::with_capacity(records.len());
    let mut good = 0u32;
    for (bytes, v) in &records {
        if v.is_some() {
            index.push(None);
            continue;
        }
        good_bytes.extend_from_slice(bytes);
        if !matches!(bytes.last(), Some(b'\n' | b'\r')) {
            good_bytes.push(b'\n');
        }
        index.push(Some(good));
        good += 1;
    }
    let n = records.len();
    let columns: Vec<arrow_array::ArrayRef> = if good == 0 {
        schema
            .fields()
            .iter()
            .map(|f| arrow_array::new_null_array(f.data_type(), n))
            .collect()
    } else {
        let mut d = csv_builder(schema.clone(), opts, good as usize)
            .map_err(|message| FormatError::Unsupported {
                object: object.to_string(),
                message,
            })?
            .build_decoder();
        let mut off = 0;
        while off < good_bytes.len() {
            let c = d.decode(&good_bytes[off..]).map_err(internal)?;
            if c == 0 {
                break;
            }
            off += c;
        }
        d.decode(&[]).map_err(internal)?;
        let decoded = d
            .flush()
            .map_err(internal)?
            .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()));
        let take = arrow_array::UInt32Array::from(index);
        decoded
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &take, None))
            .collect::<Result<_, _>>()
            .map_err(internal)?
    };
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(internal)?;
    let (raw, violations) = records
        .into_iter()
        .map(|(bytes, v)| {
            let text = v
                .is_some()
                .then(|| csv_recovery::escaped_text(csv_recovery::trim_terminator(&bytes)));
            (text, v)
        })
        .unzip();
    Ok(RawBatch {
        batch,
        raw: Some(raw),
        keys: None,
        violations,
        texts: None,
    })
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
    csv_recovery::check_ascii(opts)?;
    let mut b = arrow_csv::ReaderBuilder::new(schema)
        .with_header(false)
        .with_delimiter(opts.delimiter as u8)
        .with_quote(opts.quote as u8)
        .with_batch_size(batch_rows);
    if let Some(e) = opts.escape {
        b = b.with_escape(e as u8);
    }
    if opts.null_values.is_empty() {
        return Ok(b);
    }
    let alternatives: Vec<String> = opts.null_values.iter().map(|v| regex::escape(v)).collect();
    let re = regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
        .map_err(|e| e.to_string())?;
    Ok(b.with_null_regex(re))
}

/// The keys of a JSON object record, sorted and deduplicated (as a map would hold them),
/// borrowed from the line where they need no unescaping; its values are skipped, not built.
fn record_keys(line: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, serde_json::Error> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;
    struct Key<'de>(Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_owned())))
                }
            }
            d.deserialize_str(V)
        }
    }
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Key(k)) = map.next_key()? {
                map.next_value::<IgnoredAny>()?;
                out.push(k);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    let mut keys = de.deserialize_map(Keys)?;
    de.end()?;
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

#[cfg(test)]
mod key_tests {
    use super::record_keys;

    #[test]
    fn record_keys_read_as_a_map_would() {
        let keys =
            |l: &str| record_keys(l).map(|k| k.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        assert_eq!(
            keys(r#"{"b": 1, "a": {"x": [1, 2]}, "c": null}"#).unwrap(),
            ["a", "b", "c"]
        );
        // Escaped keys are unescaped; a repeated key counts once.
        assert_eq!(
            keys(r#"{"a\u0062": 1, "a": 2, "a": 3}"#).unwrap(),
            ["a", "ab"]
        );
        assert_eq!(keys("{}").unwrap(), Vec::<String>::new());
        for bad in ["[1]", "not json", r#"{"a": 1} trailing"#, r#"{"a": }"#, ""] {
            assert!(record_keys(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &'static [u8]) -> Pin<Box<dyn AsyncBufRead + Send>> {
        Box::pin(BufReader::with_capacity(4, bytes))
    }

    async fn header_of(bytes: &'static [u8]) -> Result<(Vec<String>, u64, String), String> {
        let mut r = reader(bytes);
        let h = read_header(&mut r, &CsvOptions::default(), 1 << 20)
            .await
            .map_err(|e| match e {
                HeaderError::Invalid(m) => m,
                HeaderError::Io(e) => e.to_string(),
                HeaderError::TooLong(n) => format!("too long {n}"),
            })?;
        let mut rest = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut r, &mut rest)
            .await
            .unwrap();
        Ok((h.columns, h.lines, rest))
    }

    #[tokio::test]
    async fn header_ends_at_cr_lf_or_crlf_outside_quotes() {
        let (c, n, rest) = header_of(b"a,b\r1,2\r3,4\r").await.unwrap();
        assert_eq!(
            (c, n, rest.as_str()),
            (vec!["a".to_string(), "b".into()], 1, "1,2\r3,4\r")
        );
        let (c, _, rest) = header_of(b"a,b\r\n1,2\n").await.unwrap();
        assert_eq!((c.len(), rest.as_str()), (2, "1,2\n"));
        let (c, _, rest) = header_of(b"\"a\nx\",b\n1,2\n").await.unwrap();
        assert_eq!((c[0].as_str(), rest.as_str()), ("a\nx", "1,2\n"));
    }

    #[tokio::test]
    async fn blank_lines_before_the_header_are_skipped_and_counted() {
        let (c, n, rest) = header_of(b"\n\r\nid,name\n1,x\n").await.unwrap();
        assert_eq!((c.len(), n, rest.as_str()), (2, 3, "1,x\n"));
        assert!(header_of(b"\n\n").await.unwrap_err().contains("empty"));
    }

    #[test]
    fn json_lines_keep_raw_text_keys_and_bad_lines_per_record() {
        let table = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let mut j = JsonLines::new(&table, 16).unwrap();
        let raw = j
            .decode(vec![
                r#"{"a": 1, "b": "x", "c": [1]}"#.into(),
                "not json".into(),
                r#"{"a": {"nested": 1}}"#.into(),
                r#"{"b": "y"}"#.into(),
                r#"{"b": "z"}"#.into(),
            ])
            .unwrap();
        assert_eq!(raw.batch.num_rows(), 5);
        let keys = raw.keys.unwrap();
        assert_eq!(&keys[0][..], ["a", "b", "c"]);
        assert!(keys[1].is_empty());
        // Consecutive records with the same keys share one list.
        assert_eq!(&keys[3][..], ["b"]);
        assert!(Arc::ptr_eq(&keys[3], &keys[4]));
        let codes: Vec<_> = raw
            .violations
            .iter()
            .map(|v| v.as_ref().map(|v| v.code))
            .collect();
        assert_eq!(codes[0], None);
        assert_eq!(codes[1], Some(ErrorCode::Undecodable));
        assert!(
            codes[2].is_some(),
            "a nested object in a text column is a row error"
        );
        assert_eq!(codes[3], None);
        assert_eq!(
            raw.raw.unwrap()[0].as_deref(),
            Some(r#"{"a": 1, "b": "x", "c": [1]}"#)
        );
    }
}
