//! Dry-run validation: read an object exactly as ingest would and report what would land and
//! what would be quarantined (counts per error code, first examples) — writing nothing, creating
//! nothing. Producers use it to check a file before they drop it.

use std::collections::BTreeMap;
use std::sync::Arc;

use iceberg::arrow::schema_to_arrow_schema;
use serde::Serialize;

use crate::pipeline::ObjectPipeline;
use crate::quarantine::QuarantineRecord;
use crate::source::ObjectRef;
use crate::Error;

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every row passes.
    Valid,
    /// Some rows would be quarantined.
    Invalid,
    /// The object would be quarantined whole.
    Unreadable,
    /// Validation itself failed (no route, storage error): see `error`.
    Error,
}

/// One example violation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Example {
    /// 1-based record number.
    pub record: Option<u64>,
    /// Column or rule.
    pub field: Option<String>,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Raw record.
    pub raw: Option<String>,
}

/// The dry-run report for one object.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// `s3://bucket/key`.
    pub object: String,
    /// Target table.
    pub table: Option<String>,
    /// Verdict.
    pub verdict: Verdict,
    /// Records read.
    pub rows_read: u64,
    /// Rows that would be written.
    pub rows_valid: u64,
    /// Rows that would be quarantined.
    pub rows_invalid: u64,
    /// Violations per error code.
    pub counts: BTreeMap<String, u64>,
    /// The first violations.
    pub examples: Vec<Example>,
    /// Why the object is unreadable, or why validation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<QuarantineRecord> for Example {
    fn from(r: QuarantineRecord) -> Self {
        Example {
            record: r.record,
            field: r.field,
            code: r.code.as_str().into(),
            message: r.message,
            raw: r.raw,
        }
    }
}

impl ValidationReport {
    /// Sets the row counts from one tally: `rows_read = rows_valid + rows_invalid`.
    fn count(&mut self, rows: crate::format::RowCounts) {
        (self.rows_read, self.rows_valid, self.rows_invalid) =
            (rows.read(), rows.written, rows.quarantined);
    }
}

impl ObjectPipeline {
    /// Validates `object` against its table's contract without writing anything.
    pub async fn validate(&self, object: ObjectRef, max_examples: usize) -> ValidationReport {
        let mut report = ValidationReport {
            object: object.url(),
            table: None,
            verdict: Verdict::Valid,
            rows_read: 0,
            rows_valid: 0,
            rows_invalid: 0,
            counts: BTreeMap::new(),
            examples: Vec::new(),
            error: None,
        };
        if let Err(e) = self.validate_into(&object, max_examples, &mut report).await {
            report.verdict = Verdict::Error;
            report.error = Some(e.to_string());
        }
        report
    }

    async fn validate_into(
        &self,
        object: &ObjectRef,
        max_examples: usize,
        report: &mut ValidationReport,
    ) -> Result<(), Error> {
        let spec = self.router.route(&object.bucket, &object.key)?;
        report.table = Some(spec.ident.to_string());
        // The table's current schema when it exists (it may have evolved), else the spec's. A
        // catalog that cannot be reached is an error, not a verdict against the wrong schema.
        let schema = match self.catalog.load_table(&spec.ident).await {
            Ok(t) => t.metadata().current_schema().as_ref().clone(),
            Err(e) if crate::table::is_missing(self.catalog.as_ref(), &spec.ident, &e).await => {
                spec.schema.clone()
            }
            Err(e) => return Err(e.into()),
        };
        let arrow_schema = Arc::new(schema_to_arrow_schema(&schema)?);
        let note = |r: QuarantineRecord, report: &mut ValidationReport| {
            *report
                .counts
                .entry(r.code.as_str().to_string())
                .or_default() += 1;
            if report.examples.len() < max_examples {
                report.examples.push(r.into());
            }
        };
        let mut rows = crate::format::RowCounts::default();
        let result = async {
            let mut decoder = self.open_decoder(object, spec, arrow_schema).await?;
            while let Some(c) = decoder.next_batch().await? {
                rows.add(&c);
                for r in c.rejected {
                    note(r.into(), report);
                }
            }
            Ok::<(), crate::format::FormatError>(())
        }
        .await;
        match result {
            Ok(()) => {
                report.verdict = if rows.quarantined > 0 {
                    Verdict::Invalid
                } else {
                    Verdict::Valid
                };
                report.count(rows);
                Ok(())
            }
            Err(e) if !e.is_retryable() => {
                report.verdict = Verdict::Unreadable;
                report.count(rows.all_quarantined());
                report.error = Some(e.to_string());
                note(QuarantineRecord::whole_object(&e), report);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
