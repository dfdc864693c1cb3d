//! Formats: decode an object's bytes (CSV, JSON lines, Parquet; gzip/zstd) into Arrow record
//! batches in the table's schema, streamed batch by batch so memory does not grow with object size.

mod avro_input;
mod body;
mod conform;
mod csv_records;
mod csv_recovery;
pub(crate) mod parquet_input;
pub mod profile;
mod text;

use std::str::FromStr;

use arrow_array::cast::AsArray;
use std::sync::Arc;

use arrow_array::RecordBatch;

pub use crate::contract::nullable as nullable_schema;
pub use body::{open as open_raw, RawBody, PART_BYTES};
pub use conform::{Conformed, Conformer, RejectedRow, RowCounts};

use crate::config::Limits;
pub use crate::encoding::{Compression, InputFormat};
use crate::landing::{Landing, LandingError};
use crate::source::ObjectRef;
use crate::spec::TableSpec;
use crate::violation::Violation;

/// The keys of one JSON record, sorted: shared by consecutive records with the same keys.
pub type RecordKeys = std::sync::Arc<[String]>;

/// A decoded batch before conforming: the object's columns, and per record what the decoder
/// already knows (raw text, keys present, a record-level violation).
#[derive(Debug, Clone)]
pub struct RawBatch {
    /// Columns as read (text for CSV / JSON lines, the file's types for Parquet).
    pub batch: RecordBatch,
    /// Each record's raw text (JSON lines; the bad records of a recovered CSV batch), kept
    /// intact for quarantine; `None` for a record: its values are shown instead.
    pub raw: Option<Vec<Option<String>>>,
    /// The keys each record has (JSON lines): a key absent differs from a key set to null.
    /// Records with the same keys as the record before share one list.
    pub keys: Option<Vec<RecordKeys>>,
    /// A violation found while decoding the record (empty: none).
    pub violations: Vec<Option<Violation>>,
    /// The records' field texts when some columns were built typed (CSV fast path): quarantined
    /// rows show the values as written.
    pub(crate) texts: Option<Arc<csv_records::RecordTexts>>,
}

impl RawBatch {
    /// A batch with nothing known per record.
    pub fn plain(batch: RecordBatch) -> Self {
        Self {
            batch,
            raw: None,
            keys: None,
            violations: Vec::new(),
            texts: None,
        }
    }
}

/// Errors decoding an object. Every variant names the object (`s3://bucket/key`).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Format or compression can't be determined or isn't supported.
    #[error("{object}: {message}")]
    Unsupported {
        /// The object.
        object: String,
        /// Why.
        message: String,
    },
    /// The table's contract does not compile for the table's current schema (an evolved
    /// schema the spec's rules no longer fit).
    #[error("{object}: {source}")]
    Contract {
        /// The object.
        object: String,
        /// Why.
        #[source]
        source: Box<crate::contract::ContractError>,
    },
    /// The bytes could not be read (network, or a broken gzip/zstd stream).
    #[error("{object}: cannot read object: {message}")]
    Read {
        /// The object.
        object: String,
        /// Why.
        message: String,
        /// Whether retrying could help (network) or not (corrupt compression).
        retryable: bool,
    },
    /// The content is not valid for its format.
    #[error("{object}: invalid {format} near record {record}: {message}")]
    Decode {
        /// The object.
        object: String,
        /// Format being decoded.
        format: InputFormat,
        /// 1-based record number at or after which decoding failed.
        record: u64,
        /// Decoder's message.
        message: String,
    },
    /// The object breaks the table's contract as a whole (unknown / missing columns).
    #[error("{object}: {code}: {message}")]
    Rejected {
        /// The object.
        object: String,
        /// Error code.
        code: crate::violation::ErrorCode,
        /// What is wrong.
        message: String,
    },
    /// The object version named by the event cannot be read (superseded, gone, or unreachable).
    #[error(transparent)]
    Source(#[from] LandingError),
    /// The object crosses a configured limit; it is quarantined whole with the limit named.
    #[error("{object}: limit exceeded ({limit}): {message}")]
    Limit {
        /// The object.
        object: String,
        /// The environment variable that sets the limit.
        limit: &'static str,
        /// What crossed it.
        message: String,
    },
    /// A value does not fit its column.
    #[error("{object}: record {record}, field `{field}`: {message}")]
    Field {
        /// The object.
        object: String,
        /// 1-based record number.
        record: u64,
        /// Column name.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl FormatError {
    /// Whether retrying the object could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Read { retryable, .. } => *retryable,
            Self::Source(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// How one object is to be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectFormat {
    /// Format.
    pub format: InputFormat,
    /// Compression.
    pub compression: Compression,
}

impl ObjectFormat {
    /// From the spec's settings, else the key's extensions, else the Content-Encoding.
    pub fn detect(
        spec: &TableSpec,
        key: &str,
        content_encoding: Option<&str>,
    ) -> Result<Self, String> {
        Self::detect_with(spec.format, spec.compression, key, content_encoding)
    }

    /// As [`ObjectFormat::detect`], with the format and compression a spec would name.
    pub fn detect_with(
        spec_format: Option<InputFormat>,
        spec_compression: Option<Compression>,
        key: &str,
        content_encoding: Option<&str>,
    ) -> Result<Self, String> {
        let lower = key.to_ascii_lowercase();
        let (stem, ext_compression) = if let Some(s) = lower
            .strip_suffix(".gz")
            .or_else(|| lower.strip_suffix(".gzip"))
        {
            (s, Some(Compression::Gzip))
        } else if let Some(s) = lower
            .strip_suffix(".zst")
            .or_else(|| lower.strip_suffix(".zstd"))
        {
            (s, Some(Compression::Zstd))
        } else {
            (lower.as_str(), None)
        };
        let compression = match (spec_compression, ext_compression, content_encoding) {
            (Some(c), _, _) => c,
            (None, Some(c), _) => c,
            (None, None, Some(enc)) => Compression::from_str(enc)?,
            (None, None, None) => Compression::None,
        };
        let format = match spec_format {
            Some(f) => f,
            None => {
                let ext = stem.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
                InputFormat::from_str(ext).map_err(|_| {
                    format!("cannot tell the format from the key's extension `.{ext}`; name it in the table spec (`format = \"csv\"`)")
                })?
            }
        };
        if format == InputFormat::Parquet && compression != Compression::None {
            return Err(
                "Parquet objects must not be wrapped in gzip/zstd (Parquet compresses internally)"
                    .into(),
            );
        }
        Ok(Self {
            format,
            compression,
        })
    }
}

/// Struct fields a typed file has and the table lacks count as unknown columns (by path):
/// reported, refused under `reject`, added under `evolve` — never dropped silently.
fn unknown_nested(inner: &DecoderKind, table_schema: &arrow_schema::SchemaRef) -> Vec<String> {
    let Some(file_schema) = inner.file_schema() else {
        return Vec::new();
    };
    file_schema
        .fields()
        .iter()
        .filter_map(|f| {
            let t = table_schema.field_with_name(f.name()).ok()?;
            Some(crate::contract::unknown_nested_fields(
                f.name(),
                f.data_type(),
                t.data_type(),
            ))
        })
        .flatten()
        .collect()
}

/// Opens a CSV / JSON-lines object; without a compression from spec or key, the object's
/// Content-Encoding names it.
async fn open_text(
    landing: &Landing,
    object: &ObjectRef,
    mut fmt: ObjectFormat,
    spec: &TableSpec,
    table_schema: &arrow_schema::SchemaRef,
    batch_rows: usize,
    limits: Limits,
) -> Result<text::TextDecoder, FormatError> {
    let name = object.url();
    let body = body::open(landing, object, limits.read_ahead_bytes).await?;
    if fmt.compression == Compression::None && object.content_encoding.is_none() {
        if let Some(enc) = &body.content_encoding {
            fmt.compression =
                Compression::from_str(enc).map_err(|message| FormatError::Unsupported {
                    object: name.clone(),
                    message,
                })?;
        }
    }
    text::TextDecoder::open(body, fmt, spec, table_schema, batch_rows, limits, &name).await
}

/// What an object's values look like, per top-level column.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Column name → shape of its values.
    pub columns: Vec<(String, crate::infer::Seen)>,
    /// From the file's own types (Parquet, Avro) rather than text values.
    pub typed: bool,
}

/// Decodes one object into table-shaped record batches.
pub struct ObjectDecoder {
    inner: DecoderKind,
    conformer: Conformer,
    records_emitted: u64,
}

enum DecoderKind {
    Text(Box<text::TextDecoder>),
    Parquet(Box<parquet_input::ParquetDecoder>),
    Avro(Box<avro_input::AvroDecoder>),
}

impl DecoderKind {
    /// A typed file's own schema (Parquet, Avro); text has none.
    fn file_schema(&self) -> Option<arrow_schema::SchemaRef> {
        match self {
            DecoderKind::Parquet(d) => Some(d.file_schema()),
            DecoderKind::Avro(d) => Some(d.file_schema()),
            DecoderKind::Text(_) => None,
        }
    }
}

impl ObjectDecoder {
    /// Opens `object` (the version it names) for decoding into the table schema `contract` was
    /// compiled for (an Arrow schema with Iceberg field ids).
    pub async fn open(
        landing: Arc<Landing>,
        object: &ObjectRef,
        spec: &TableSpec,
        contract: Arc<crate::contract::CompiledContract>,
        batch_rows: usize,
        limits: Limits,
    ) -> Result<Self, FormatError> {
        let name = object.url();
        let table_schema = contract.table_schema.clone();
        let fmt = ObjectFormat::detect(spec, &object.key, object.content_encoding.as_deref())
            .map_err(|message| FormatError::Unsupported {
                object: name.clone(),
                message,
            })?;
        let (mut inner, file_columns) = match fmt.format {
            InputFormat::Parquet => {
                let size = match object.size {
                    Some(s) => s,
                    None => landing.head(object).await?.size,
                };
                let d = parquet_input::ParquetDecoder::open(
                    landing,
                    object.clone(),
                    size,
                    &table_schema,
                    batch_rows,
                    limits,
                    &name,
                )
                .await?;
                let cols = d.file_columns();
                (DecoderKind::Parquet(Box::new(d)), cols)
            }
            InputFormat::Avro => {
                let body = body::open(&landing, object, limits.read_ahead_bytes).await?;
                let d = avro_input::AvroDecoder::open(
                    body,
                    fmt.compression,
                    &table_schema,
                    batch_rows,
                    limits,
                    &name,
                )
                .await?;
                let cols = d.file_columns();
                (DecoderKind::Avro(Box::new(d)), cols)
            }
            InputFormat::Csv | InputFormat::JsonLines => {
                let d = open_text(
                    &landing,
                    object,
                    fmt,
                    spec,
                    &table_schema,
                    batch_rows,
                    limits,
                )
                .await?;
                let cols = d.file_columns();
                (DecoderKind::Text(Box::new(d)), cols)
            }
        };
        let mut all_columns = match &inner {
            DecoderKind::Text(d) => d.file_columns(),
            DecoderKind::Parquet(d) => d.all_columns(),
            DecoderKind::Avro(d) => d.all_columns(),
        };
        all_columns.extend(unknown_nested(&inner, &table_schema));
        let conformer =
            Conformer::with_contract(contract, &all_columns, &file_columns, name, spec)?;
        if let DecoderKind::Text(d) = &mut inner {
            d.set_targets(conformer.csv_targets(file_columns.len()));
        }
        Ok(Self {
            inner,
            conformer,
            records_emitted: 0,
        })
    }

    /// The next conformed batch (good rows in the table's schema, rejected rows aside), or
    /// `None` at the end of the object.
    pub async fn next_batch(&mut self) -> Result<Option<Conformed>, FormatError> {
        let raw = match &mut self.inner {
            DecoderKind::Text(d) => d.next_batch(self.records_emitted).await?,
            DecoderKind::Parquet(d) => d.next_batch(self.records_emitted).await?,
            DecoderKind::Avro(d) => d.next_batch(self.records_emitted).await?,
        };
        let Some(raw) = raw else { return Ok(None) };
        let conformed = self.conformer.conform(raw, self.records_emitted)?;
        self.records_emitted += conformed.rows_read() as u64;
        Ok(Some(conformed))
    }

    /// Columns of the object that the table does not have (CSV header, Parquet schema; for JSON
    /// lines, the keys seen so far).
    pub fn unknown_columns(&self) -> &[String] {
        self.conformer.unknown_columns()
    }

    /// Table columns the object lacks (CSV header, Parquet schema; per record for JSON lines).
    pub fn missing_columns(&self) -> Vec<String> {
        self.conformer.missing_columns()
    }

    /// What the object's values look like, per column (for typed schema evolution): a typed
    /// file's own column types, or for text every value of every record (JSON lines: every key,
    /// nested ones too; CSV: read through only when the header has columns the table lacks).
    pub async fn observe(mut self) -> Result<Observed, FormatError> {
        use crate::infer::Seen;
        if let DecoderKind::Text(d) = &mut self.inner {
            // Every value is looked at as text.
            d.set_targets(Vec::new());
        }
        if let Some(schema) = self.inner.file_schema() {
            let columns = schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), Seen::arrow(f.data_type())))
                .collect();
            return Ok(Observed {
                columns,
                typed: true,
            });
        }
        let mut columns: Vec<(String, Seen)> = Vec::new();
        let mut note = |name: &str, seen: Seen| match columns.iter_mut().find(|(n, _)| n == name) {
            Some((_, s)) => *s = std::mem::replace(s, Seen::Null).merge(seen),
            None => columns.push((name.to_string(), seen)),
        };
        let csv_has_unknown = !self.conformer.unknown_columns().is_empty();
        while let Some(raw) = self.next_raw().await? {
            match &raw.raw {
                Some(lines) if raw.keys.is_some() => {
                    for line in lines.iter().flatten() {
                        if let Ok(serde_json::Value::Object(fields)) =
                            serde_json::from_str::<serde_json::Value>(line)
                        {
                            for (k, v) in &fields {
                                note(k, Seen::json(v));
                            }
                        }
                    }
                }
                _ if !csv_has_unknown => break,
                _ => {
                    for (f, col) in raw.batch.schema().fields().iter().zip(raw.batch.columns()) {
                        if let Some(text) = col.as_string_opt::<i32>() {
                            let seen = text
                                .iter()
                                .flatten()
                                .map(Seen::text)
                                .fold(Seen::Null, Seen::merge);
                            note(f.name(), seen);
                        }
                    }
                }
            }
        }
        for c in self.conformer.unknown_columns() {
            if !columns.iter().any(|(n, _)| n == c) {
                columns.push((c.clone(), Seen::Null));
            }
        }
        Ok(Observed {
            columns,
            typed: false,
        })
    }

    async fn next_raw(&mut self) -> Result<Option<RawBatch>, FormatError> {
        let raw = match &mut self.inner {
            DecoderKind::Text(d) => d.next_batch(self.records_emitted).await?,
            DecoderKind::Parquet(d) => d.next_batch(self.records_emitted).await?,
            DecoderKind::Avro(d) => d.next_batch(self.records_emitted).await?,
        };
        if let Some(r) = &raw {
            self.records_emitted += r.batch.num_rows() as u64;
        }
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: &str) -> TableSpec {
        TableSpec::from_toml(
            &format!("name = \"t\"\nprefixes = [\"t/\"]\n{extra}\n[[columns]]\nname = \"a\"\ntype = \"long\"\n"),
            "t.toml",
            "floe",
        )
        .unwrap()
    }

    #[test]
    fn detects_format_and_compression_from_key() {
        let s = spec("");
        let f = ObjectFormat::detect(&s, "t/x.jsonl.gz", None).unwrap();
        assert_eq!(
            (f.format, f.compression),
            (InputFormat::JsonLines, Compression::Gzip)
        );
        let f = ObjectFormat::detect(&s, "t/x.CSV.zst", None).unwrap();
        assert_eq!(
            (f.format, f.compression),
            (InputFormat::Csv, Compression::Zstd)
        );
        let f = ObjectFormat::detect(&s, "t/x.csv", Some("gzip")).unwrap();
        assert_eq!(f.compression, Compression::Gzip);
        assert!(ObjectFormat::detect(&s, "t/x.bin", None)
            .unwrap_err()
            .contains("`.bin`"));
        assert!(ObjectFormat::detect(&s, "t/x.parquet.gz", None).is_err());
    }

    #[test]
    fn spec_format_wins_over_extension() {
        let s = spec("format = \"jsonl\"");
        assert_eq!(
            ObjectFormat::detect(&s, "t/x.txt", None).unwrap().format,
            InputFormat::JsonLines
        );
    }
}
