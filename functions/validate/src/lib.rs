//! The validate Lambda's handler, two jobs:
//! - dry run: ingest's decoding and contract checks for each object in the event (S3, SQS-wrapped
//!   S3, EventBridge or `{bucket, key}`), a report per object; nothing is written, no table created;
//! - table checks: on a schedule (`{"checks": {"tables": [...]}}`, also inside an EventBridge
//!   event's `detail`), the SQL checks of the named tables (all tables with checks when none are
//!   named); each report is written to `FLOE_REPORTS_URL` and emitted as EMF metrics.

use floe::event::IngestEvent;
use floe::ingest::Ingestor;
use floe::validate::ValidationReport;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

/// Examples per report unless the payload sets `max_examples`.
pub const DEFAULT_MAX_EXAMPLES: usize = 20;

/// Handler errors.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not an event validate understands.
    #[error(transparent)]
    BadEvent(#[from] floe::event::EventError),
    /// A check request names a table no spec defines.
    #[error("no table spec defines `{0}`")]
    UnknownTable(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: "BadEvent".into(),
            error_message: e.to_string(),
        }
    }
}

/// The function's response.
#[derive(Debug, Serialize)]
pub struct ValidateResponse {
    /// One report per object (dry run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<ValidationReport>,
    /// One report per table (scheduled checks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<floe::checks::TableCheckReport>,
    /// False when any object is not valid or any check failed.
    pub passed: bool,
}

fn checks_request(payload: &Value) -> Option<&Value> {
    payload
        .get("checks")
        .or_else(|| payload.get("detail").and_then(|d| d.get("checks")))
}

async fn run_table_checks(
    ingestor: &Ingestor,
    request: &Value,
) -> Result<ValidateResponse, HandlerError> {
    let wanted: Vec<String> = request
        .get("tables")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let specs: Vec<_> = ingestor
        .router()
        .specs()
        .iter()
        .filter(|s| {
            if wanted.is_empty() {
                !s.checks.is_empty()
            } else {
                wanted.contains(&s.ident.to_string())
            }
        })
        .collect();
    if let Some(missing) = wanted
        .iter()
        .find(|w| !specs.iter().any(|s| &s.ident.to_string() == *w))
    {
        return Err(HandlerError::UnknownTable(missing.clone()));
    }
    let mut reports = Vec::new();
    for spec in specs {
        let report = floe::checks::run_checks(ingestor.catalog(), spec).await;
        for c in &report.checks {
            floe::metrics::emit_check(&report.table, &c.name, c.passed, c.duration_ms);
            if !c.passed {
                tracing::error!(table = %report.table, check = %c.name, detail = %c.detail, "table check failed");
            }
        }
        if let Some(url) = &ingestor.config().reports_url {
            write_report(ingestor, url, &report).await;
        }
        reports.push(report);
    }
    let passed = reports.iter().all(|r| r.passed);
    Ok(ValidateResponse {
        reports: vec![],
        checks: reports,
        passed,
    })
}

/// Best effort: a report that cannot be written is logged; the result is still returned.
async fn write_report(ingestor: &Ingestor, url: &str, report: &floe::checks::TableCheckReport) {
    use object_store::ObjectStoreExt;
    let dest = format!(
        "{}/checks/{}/{}.json",
        url.trim_end_matches('/'),
        report.table,
        report.checked_at
    );
    let body = serde_json::to_vec_pretty(report).unwrap_or_default();
    match ingestor.stores().for_url(&dest) {
        Ok((store, path)) => {
            if let Err(e) = store.put(&path, body.into()).await {
                tracing::error!(report = %dest, error = %e, "cannot write check report");
            }
        }
        Err(e) => tracing::error!(report = %dest, error = %e, "cannot write check report"),
    }
}

/// Validates every object of the event.
pub async fn handle(
    ingestor: &Ingestor,
    event: LambdaEvent<Value>,
) -> Result<ValidateResponse, HandlerError> {
    if let Some(request) = checks_request(&event.payload) {
        return run_table_checks(ingestor, request).await;
    }
    let max_examples = event
        .payload
        .get("max_examples")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_MAX_EXAMPLES);
    let mut payload = event.payload;
    if let Some(obj) = payload.as_object_mut() {
        obj.remove("max_examples");
    }
    let objects = match IngestEvent::parse(&payload)? {
        IngestEvent::Objects(o) => o,
        IngestEvent::Sqs(items) => items
            .into_iter()
            .filter_map(|i| i.objects.ok())
            .flatten()
            .collect(),
    };
    let mut reports = Vec::with_capacity(objects.len());
    for o in objects {
        let r = ingestor.validate(o, max_examples).await;
        tracing::info!(object = %r.object, verdict = ?r.verdict, rows_read = r.rows_read, rows_invalid = r.rows_invalid, "validated");
        reports.push(r);
    }
    let passed = reports
        .iter()
        .all(|r| r.verdict == floe::validate::Verdict::Valid);
    Ok(ValidateResponse {
        reports,
        checks: vec![],
        passed,
    })
}
