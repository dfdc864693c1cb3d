//! The names a table spec gives an object's encoding: its format and stream compression. A leaf
//! shared by the spec (which parses them) and the decoders (which act on them).

use std::fmt;
use std::str::FromStr;

/// The object formats Floe decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Delimited text with options from the table spec.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// Apache Parquet.
    Parquet,
    /// Apache Avro object container file (codecs null, deflate, snappy, zstd).
    Avro,
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(Self::Csv),
            "json" | "jsonl" | "ndjson" | "jsonlines" | "json_lines" => Ok(Self::JsonLines),
            "parquet" => Ok(Self::Parquet),
            "avro" => Ok(Self::Avro),
            other => Err(format!(
                "unknown format `{other}`; use csv, jsonl, parquet or avro"
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
            Self::Avro => "avro",
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
