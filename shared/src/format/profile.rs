//! Profiles of objects for `floe spec infer`: what each column's values look like, read the way
//! ingest reads (same decompression, CSV header and tokenizer, JSON lines, Parquet footer, Avro
//! header), streamed and bounded: at most `max_records` records per object, one record or batch
//! in memory. Typed files (Parquet, Avro) give their schema without reading data.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use super::body::RawBody;
use super::csv_recovery::RecordSplitter;
use super::text::{inflated_reader, read_failure, read_header, HeaderError};
use super::{FormatError, InputFormat, ObjectFormat};
use crate::config::Limits;
use crate::infer::{ColumnProfile, Seen};
use crate::landing::Landing;
use crate::source::ObjectRef;
use crate::spec::CsvOptions;

/// One object's columns, in order of first appearance, with their profiles.
#[derive(Debug, Default)]
pub struct ObjectProfile {
    /// Column → profile.
    pub columns: Vec<(String, ColumnProfile)>,
    /// Records read.
    pub records: u64,
    /// The file's own types (Parquet, Avro): no value statistics.
    pub typed: bool,
}

impl ObjectProfile {
    fn column(&mut self, name: &str) -> &mut ColumnProfile {
        let i = match self.columns.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.columns
                    .push((name.to_string(), ColumnProfile::default()));
                self.columns.len() - 1
            }
        };
        &mut self.columns[i].1
    }
}

/// Profiles one object.
pub async fn profile_object(
    landing: Arc<Landing>,
    object: &ObjectRef,
    fmt: ObjectFormat,
    csv: &CsvOptions,
    limits: Limits,
    max_records: u64,
) -> Result<ObjectProfile, FormatError> {
    let name = object.url();
    match fmt.format {
        InputFormat::Parquet => {
            let size = match object.size {
                Some(s) => s,
                None => landing.head(object).await?.size,
            };
            let builder =
                super::parquet_input::footer(landing, object.clone(), size, &name).await?;
            let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
            Ok(typed_profile(builder.schema(), rows))
        }
        InputFormat::Avro => {
            let body = RawBody::whole(landing.get(object, None).await?);
            let empty = Arc::new(arrow_schema::Schema::empty());
            let d = super::avro_input::AvroDecoder::open(
                body,
                fmt.compression,
                &empty,
                1024,
                limits,
                &name,
            )
            .await?;
            Ok(typed_profile(&d.file_schema(), 0))
        }
        InputFormat::Csv => {
            let body = RawBody::whole(landing.get(object, None).await?);
            let reader = inflated_reader(body, fmt.compression, limits);
            profile_csv(reader, &name, csv, limits, max_records).await
        }
        InputFormat::JsonLines => {
            let body = RawBody::whole(landing.get(object, None).await?);
            let reader = inflated_reader(body, fmt.compression, limits);
            profile_json_lines(reader, &name, limits, max_records).await
        }
    }
}

/// A CSV object: its header, then each record's values, up to `max_records`.
async fn profile_csv(
    mut reader: std::pin::Pin<Box<dyn tokio::io::AsyncBufRead + Send>>,
    name: &str,
    csv: &CsvOptions,
    limits: Limits,
    max_records: u64,
) -> Result<ObjectProfile, FormatError> {
    let name = name.to_string();
    let header = read_header(&mut reader, csv, limits.max_record_bytes)
        .await
        .map_err(|e| match e {
            HeaderError::Io(e) => read_failure(&name, e),
            HeaderError::Invalid(message) => FormatError::Decode {
                object: name.clone(),
                format: InputFormat::Csv,
                record: 0,
                message,
            },
            HeaderError::TooLong(n) => FormatError::Limit {
                object: name.clone(),
                limit: "FLOE_MAX_RECORD_BYTES",
                message: format!("the header line is longer than {n} bytes"),
            },
        })?;
    let mut profile = ObjectProfile::default();
    for c in &header.columns {
        profile.column(c);
    }
    let mut splitter = RecordSplitter::new(csv);
    while profile.records < max_records {
        let buf = reader
            .fill_buf()
            .await
            .map_err(|e| read_failure(&name, e))?;
        let (n, record) = splitter.feed(buf);
        let eof = buf.is_empty();
        reader.as_mut().consume(n);
        let Some(r) = record else {
            if eof {
                break;
            }
            if splitter.pending_bytes() as u64 > limits.max_record_bytes {
                break; // a record this long is for ingest to refuse, not to profile
            }
            continue;
        };
        profile.records += 1;
        for (c, v) in header.columns.iter().zip(&r.values) {
            let seen = if csv.null_values.iter().any(|n| n == v) {
                Seen::Null
            } else {
                Seen::text(v)
            };
            profile.column(c).observe(seen);
        }
    }
    Ok(profile)
}

/// A JSON-lines object: each record's keys and values, up to `max_records`.
async fn profile_json_lines(
    mut reader: std::pin::Pin<Box<dyn tokio::io::AsyncBufRead + Send>>,
    name: &str,
    limits: Limits,
    max_records: u64,
) -> Result<ObjectProfile, FormatError> {
    let mut profile = ObjectProfile::default();
    let mut line = String::new();
    while profile.records < max_records {
        line.clear();
        let n = (&mut reader)
            .take(limits.max_record_bytes)
            .read_line(&mut line)
            .await
            .map_err(|e| read_failure(name, e))?;
        if n == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        profile.records += 1;
        if crate::violation::json_too_deep(&line, "").is_some() {
            continue;
        }
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&line) {
            for (k, v) in &fields {
                profile.column(k).observe_json(v);
            }
        }
    }
    Ok(profile)
}

fn typed_profile(schema: &arrow_schema::SchemaRef, rows: u64) -> ObjectProfile {
    let mut profile = ObjectProfile {
        typed: true,
        records: rows,
        ..Default::default()
    };
    for f in schema.fields() {
        profile
            .column(f.name())
            .observe_typed(Seen::arrow_field(f), f.is_nullable());
    }
    profile
}
