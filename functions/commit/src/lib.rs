//! The commit Lambda's handler: an SQS (FIFO) batch of commit requests → one snapshot per table
//! → an SQS partial batch response listing only the messages to redeliver. Requests that can never
//! succeed (poison, too old, files missing or outside the table) are refused: moved to
//! `FLOE_COMMIT_DLQ_URL` at once and not redelivered (see `floe::committer`).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use floe::catalog::DynCatalog;
use floe::committer::{commit_messages, CommitBatchReport, CommitMessage, CommitSettings};
use floe::queue::CommitRequest;
use lambda_runtime::LambdaEvent;

/// Decodes the batch, commits it, and returns the partial batch response plus the report.
pub async fn handle(
    catalog: Arc<DynCatalog>,
    settings: &CommitSettings,
    event: LambdaEvent<SqsEvent>,
) -> (SqsBatchResponse, CommitBatchReport) {
    let messages = event
        .payload
        .records
        .into_iter()
        .map(|m| {
            let body = m.body.unwrap_or_default();
            CommitMessage {
                message_id: m.message_id.unwrap_or_default(),
                request: serde_json::from_str::<CommitRequest>(&body)
                    .map_err(|e| format!("not a commit request: {e}")),
                body,
            }
        })
        .collect();
    let report = commit_messages(catalog, messages, settings).await;
    for t in &report.tables {
        t.emit_metrics();
    }
    for r in &report.refused {
        r.emit_metrics();
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = report
        .failed_message_ids
        .iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.clone();
            f
        })
        .collect();
    (response, report)
}
