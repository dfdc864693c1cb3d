//! The ingest Lambda's handler: decode the event, ingest each object, map the result to
//! Lambda's conventions (SQS partial batch response; an error only when a retry can help).

use floe::event::IngestEvent;
use floe::ingest::{IngestResponse, Ingestor};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// Handler errors, mapped to Lambda `Diagnostic`s.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not an event ingest understands (not retried: it never will be).
    #[error(transparent)]
    BadEvent(#[from] floe::event::EventError),
    /// Some objects failed for reasons a retry may fix (throttling, network, commit conflicts).
    #[error("{count} object(s) failed with retryable errors: {objects}")]
    Retryable {
        /// How many.
        count: usize,
        /// Which, with their errors.
        objects: String,
    },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match e {
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::Retryable { .. } => "Retryable",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one invocation. Direct S3/EventBridge invocations fail (so Lambda retries them) only
/// when an object failed retryably; SQS batches always succeed and list failed messages instead.
pub async fn handle(
    ingestor: &Ingestor,
    event: LambdaEvent<Value>,
) -> Result<IngestResponse, HandlerError> {
    let parsed = IngestEvent::parse(&event.payload)?;
    let is_sqs = matches!(parsed, IngestEvent::Sqs(_));
    let response = ingestor.handle(parsed).await;
    for r in &response.objects {
        r.emit_metrics("ingest");
    }
    let retryable = response.retryable_failures();
    if !is_sqs && !retryable.is_empty() {
        let objects = retryable
            .iter()
            .map(|r| format!("{} ({})", r.object, r.error.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(HandlerError::Retryable {
            count: retryable.len(),
            objects,
        });
    }
    Ok(response)
}
