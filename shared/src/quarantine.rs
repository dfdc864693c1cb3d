//! Quarantine: rows that break the contract, and objects that cannot be read at all, go to one
//! shared Iceberg table (so users can query and replay them); unreadable objects are also copied
//! whole to a quarantine location.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::SchemaRef;
use iceberg::TableIdent;

use crate::format::{FormatError, RejectedRow};
use crate::source::ObjectRef;
use crate::spec::{SpecError, TableSpec};
use crate::violation::ErrorCode;
use crate::write::DataFileSink;

/// The quarantine table's spec: one row per rejected record or unreadable object.
pub fn quarantine_spec(ident: &TableIdent) -> Result<TableSpec, SpecError> {
    let text = format!(
        r#"namespace = "{ns}"
name = "{name}"
prefixes = ["_floe_internal/quarantine/"]
[[columns]]
name = "table_name"
type = "string"
required = true
[[columns]]
name = "source_object"
type = "string"
required = true
[[columns]]
name = "source_etag"
type = "string"
[[columns]]
name = "source_version"
type = "string"
[[columns]]
name = "record_number"
type = "long"
[[columns]]
name = "field"
type = "string"
[[columns]]
name = "error_code"
type = "string"
required = true
[[columns]]
name = "message"
type = "string"
required = true
[[columns]]
name = "raw_record"
type = "string"
[[columns]]
name = "ingested_at"
type = "timestamptz"
required = true
[[partition]]
column = "ingested_at"
transform = "day"
"#,
        ns = ident.namespace().join("."),
        name = ident.name()
    );
    TableSpec::from_toml(&text, "built-in quarantine table", "floe")
}

/// One quarantine row.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRecord {
    /// 1-based record number, when a single record is at fault.
    pub record: Option<u64>,
    /// Column or rule at fault.
    pub field: Option<String>,
    /// Error code.
    pub code: ErrorCode,
    /// Human-readable reason.
    pub message: String,
    /// The raw record (JSON of the values read), or where the whole object was copied.
    pub raw: Option<String>,
}

impl QuarantineRecord {
    /// The record for an object that is quarantined whole, from the reason it could not be read.
    pub fn whole_object(cause: &FormatError) -> Self {
        let (code, record, field) = match cause {
            FormatError::Rejected { code, .. } => (*code, None, None),
            FormatError::Field { record, field, .. } => (
                ErrorCode::Undecodable,
                Some(*record),
                Some(field.clone()).filter(|f| !f.is_empty()),
            ),
            FormatError::Decode { record, .. } => (ErrorCode::Undecodable, Some(*record), None),
            FormatError::Limit { .. } => (ErrorCode::LimitExceeded, None, None),
            _ => (ErrorCode::Undecodable, None, None),
        };
        Self {
            record,
            field,
            code,
            message: cause.to_string(),
            raw: None,
        }
    }
}

impl From<RejectedRow> for QuarantineRecord {
    fn from(r: RejectedRow) -> Self {
        Self {
            record: Some(r.record),
            field: Some(r.violation.field),
            code: r.violation.code,
            message: r.violation.message,
            raw: Some(r.raw),
        }
    }
}

/// Builds quarantine batches in the quarantine table's Arrow schema.
pub fn quarantine_batch(
    schema: &SchemaRef,
    table: &str,
    object: &ObjectRef,
    records: &[QuarantineRecord],
    ingested_at_micros: i64,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = records.len();
    let repeat = |v: Option<&str>| -> ArrayRef { Arc::new(StringArray::from(vec![v; n])) };
    let tz = match schema.field_with_name("ingested_at")?.data_type() {
        arrow_schema::DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let columns: Vec<ArrayRef> = vec![
        repeat(Some(table)),
        repeat(Some(&object.url())),
        repeat(object.etag.as_deref()),
        repeat(object.version_id.as_deref()),
        Arc::new(Int64Array::from_iter(
            records.iter().map(|r| r.record.map(|n| n as i64)),
        )),
        Arc::new(StringArray::from_iter(
            records.iter().map(|r| r.field.clone()),
        )),
        Arc::new(StringArray::from_iter_values(
            records.iter().map(|r| r.code.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            records.iter().map(|r| r.message.as_str()),
        )),
        Arc::new(StringArray::from_iter(
            records.iter().map(|r| r.raw.clone()),
        )),
        Arc::new(
            TimestampMicrosecondArray::from(vec![ingested_at_micros; n]).with_timezone_opt(tz),
        ),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}

/// Copies an object version whole (server-side, pinned like every landing read) to
/// `{quarantine_url}/{bucket}/{key}` (a hashed key when that is too long); returns the URL.
pub async fn copy_object(
    landing: &crate::landing::Landing,
    object: &ObjectRef,
    quarantine_url: &str,
) -> Result<String, QuarantineError> {
    let rest = quarantine_url
        .strip_prefix("s3://")
        .ok_or_else(|| QuarantineError::Location(quarantine_url.to_string()))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let key = crate::landing::quarantine_key(prefix, object);
    let dest = format!("s3://{bucket}/{key}");
    match landing.copy(object, bucket, &key).await {
        Ok(_) => Ok(dest),
        Err(source) => Err(QuarantineError::Copy { dest, source }),
    }
}

/// Why an unreadable object could not be copied to quarantine.
#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    /// The configured location is not an `s3://` URL.
    #[error("quarantine location `{0}` must be an s3:// URL")]
    Location(String),
    /// The server-side copy failed.
    #[error("cannot copy it to {dest}: {source}")]
    Copy {
        /// Destination URL.
        dest: String,
        /// Why.
        #[source]
        source: crate::landing::LandingError,
    },
}

impl QuarantineError {
    /// Whether a retry could succeed (a copy over the network; never a bad location).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Location(_) => false,
            Self::Copy { source, .. } => source.is_retryable(),
        }
    }
}

/// Quarantine rows of one object, written to the quarantine table. The table is loaded (or
/// created) on the first rejected row, so a clean object costs no quarantine-table round trip.
pub struct QuarantineSink<'a> {
    catalog: &'a dyn iceberg::Catalog,
    spec: &'a TableSpec,
    table_name: &'a str,
    object: &'a ObjectRef,
    ingested_at: i64,
    open: Option<(iceberg::table::Table, arrow_schema::SchemaRef, DataFileSink)>,
}

impl<'a> QuarantineSink<'a> {
    /// Rows of `object` (bound for `table_name`) into the quarantine table of `spec`.
    pub fn new(
        catalog: &'a dyn iceberg::Catalog,
        spec: &'a TableSpec,
        table_name: &'a str,
        object: &'a ObjectRef,
    ) -> Self {
        let ingested_at = chrono::Utc::now().timestamp_micros();
        Self {
            catalog,
            spec,
            table_name,
            object,
            ingested_at,
            open: None,
        }
    }

    /// Writes rejected records (the quarantine table is created on first use).
    pub async fn write(&mut self, records: &[QuarantineRecord]) -> Result<(), crate::Error> {
        if self.open.is_none() {
            let table = crate::table::load_or_create(self.catalog, self.spec).await?;
            let schema = Arc::new(iceberg::arrow::schema_to_arrow_schema(
                table.metadata().current_schema(),
            )?);
            let sink = DataFileSink::new(&table).await?;
            self.open = Some((table, schema, sink));
        }
        let (_, schema, sink) = self.open.as_mut().expect("opened above");
        let batch = quarantine_batch(
            schema,
            self.table_name,
            self.object,
            records,
            self.ingested_at,
        )?;
        Ok(sink.write(batch).await?)
    }

    /// The quarantine table and the files written, or `None` when nothing was quarantined.
    pub async fn finish(
        self,
    ) -> Result<Option<(iceberg::table::Table, Vec<iceberg::spec::DataFile>)>, crate::Error> {
        match self.open {
            None => Ok(None),
            Some((table, _, sink)) => Ok(Some((table, sink.close().await?))),
        }
    }
}
