//! Formats: decode an object's bytes (CSV, JSON lines, Parquet; gzip/zstd) into Arrow record
//! batches in the table's schema, streamed batch by batch so memory does not grow with object size.

mod conform;
mod parquet_input;
mod text;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use object_store::{ObjectStore, ObjectStoreExt};

pub use conform::{nullable as nullable_schema, Conformed, Conformer, RejectedRow};

use crate::source::ObjectRef;
use crate::spec::TableSpec;

/// The object formats Floe decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Delimited text with options from the table spec.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// Apache Parquet.
    Parquet,
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(Self::Csv),
            "json" | "jsonl" | "ndjson" | "jsonlines" | "json_lines" => Ok(Self::JsonLines),
            "parquet" => Ok(Self::Parquet),
            other => Err(format!(
                "unknown format `{other}`; use csv, jsonl or parquet"
            )),
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
            Self::Parquet => "parquet",
        })
    }
}

/// Stream compression of text objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (multi-member allowed).
    Gzip,
    /// Zstandard.
    Zstd,
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "identity" | "" => Ok(Self::None),
            "gzip" | "gz" | "x-gzip" => Ok(Self::Gzip),
            "zstd" | "zst" => Ok(Self::Zstd),
            other => Err(format!(
                "unknown compression `{other}`; use none, gzip or zstd"
            )),
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
        code: crate::contract::ErrorCode,
        /// What is wrong.
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
        matches!(
            self,
            Self::Read {
                retryable: true,
                ..
            }
        )
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
        let compression = match (spec.compression, ext_compression, content_encoding) {
            (Some(c), _, _) => c,
            (None, Some(c), _) => c,
            (None, None, Some(enc)) => Compression::from_str(enc)?,
            (None, None, None) => Compression::None,
        };
        let format = match spec.format {
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

/// Decodes one object into table-shaped record batches.
pub struct ObjectDecoder {
    inner: DecoderKind,
    unknown_columns: Vec<String>,
    conformer: Conformer,
    records_emitted: u64,
}

enum DecoderKind {
    Text(Box<text::TextDecoder>),
    Parquet(parquet_input::ParquetDecoder),
}

impl ObjectDecoder {
    /// Opens `object` in `store` for decoding into `table_schema` (an Arrow schema with Iceberg field ids).
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        object: &ObjectRef,
        spec: &TableSpec,
        table_schema: SchemaRef,
        batch_rows: usize,
    ) -> Result<Self, FormatError> {
        let name = object.url();
        let path = object_store::path::Path::from(object.key.as_str());
        let fmt = ObjectFormat::detect(spec, &object.key, object.content_encoding.as_deref())
            .map_err(|message| FormatError::Unsupported {
                object: name.clone(),
                message,
            })?;
        let (inner, file_columns) = match fmt.format {
            InputFormat::Parquet => {
                let size = match object.size {
                    Some(s) => s,
                    None => {
                        store
                            .head(&path)
                            .await
                            .map_err(|e| read_error(&name, e))?
                            .size
                    }
                };
                let d = parquet_input::ParquetDecoder::open(
                    store,
                    path,
                    size,
                    &table_schema,
                    batch_rows,
                    &name,
                )
                .await?;
                let cols = d.file_columns();
                (DecoderKind::Parquet(d), cols)
            }
            InputFormat::Csv | InputFormat::JsonLines => {
                let get = store.get(&path).await.map_err(|e| read_error(&name, e))?;
                let mut fmt = fmt;
                if fmt.compression == Compression::None && object.content_encoding.is_none() {
                    // Neither spec nor key named a compression: the object's Content-Encoding may.
                    if let Some(enc) = get
                        .attributes
                        .get(&object_store::Attribute::ContentEncoding)
                    {
                        fmt.compression = Compression::from_str(enc).map_err(|message| {
                            FormatError::Unsupported {
                                object: name.clone(),
                                message,
                            }
                        })?;
                    }
                }
                let d = text::TextDecoder::open(get, fmt, spec, &table_schema, batch_rows, &name)
                    .await?;
                let cols = d.file_columns();
                (DecoderKind::Text(Box::new(d)), cols)
            }
        };
        let unknown_columns = match &inner {
            DecoderKind::Text(d) => d.file_columns(),
            DecoderKind::Parquet(d) => d.all_columns(),
        }
        .into_iter()
        .filter(|c| table_schema.field_with_name(c).is_err())
        .collect();
        let conformer = Conformer::new(table_schema, &file_columns, name, spec)?;
        Ok(Self {
            unknown_columns,
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
        };
        let Some(raw) = raw else { return Ok(None) };
        let conformed = self.conformer.conform(&raw, self.records_emitted)?;
        self.records_emitted += conformed.rows_read as u64;
        Ok(Some(conformed))
    }

    /// Columns of the object that the table does not have (CSV and Parquet; JSON keys are not
    /// listed up front).
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown_columns
    }
}

fn read_error(object: &str, e: object_store::Error) -> FormatError {
    let retryable = !matches!(e, object_store::Error::NotFound { .. });
    FormatError::Read {
        object: object.to_string(),
        message: e.to_string(),
        retryable,
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
