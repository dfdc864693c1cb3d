//! The validate Lambda's handler: a dry run of ingest's decoding and contract checks for each
//! object in the event (S3, SQS-wrapped S3, EventBridge or `{bucket, key}`), returning a report
//! per object. Nothing is written and no table is created.

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
    /// One report per object.
    pub reports: Vec<ValidationReport>,
}

/// Validates every object of the event.
pub async fn handle(
    ingestor: &Ingestor,
    event: LambdaEvent<Value>,
) -> Result<ValidateResponse, HandlerError> {
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
    Ok(ValidateResponse { reports })
}
