//! The commit Lambda's handler: an SQS (FIFO) batch of commit requests → one snapshot per table
//! → an SQS partial batch response listing only the messages to redeliver (poison messages reach
//! the DLQ after the queue's maxReceiveCount, with the reason logged).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use floe::catalog::DynCatalog;
use floe::committer::{commit_messages, CommitBatchReport, CommitMessage};
use floe::queue::CommitRequest;
use lambda_runtime::LambdaEvent;

/// Decodes the batch, commits it, and returns the partial batch response plus the report.
pub async fn handle(
    catalog: Arc<DynCatalog>,
    max_attempts: u32,
    event: LambdaEvent<SqsEvent>,
) -> (SqsBatchResponse, CommitBatchReport) {
    let messages = event
        .payload
        .records
        .into_iter()
        .map(|m| CommitMessage {
            message_id: m.message_id.unwrap_or_default(),
            request: m
                .body
                .ok_or_else(|| "message has no body".to_string())
                .and_then(|b| {
                    serde_json::from_str::<CommitRequest>(&b)
                        .map_err(|e| format!("not a commit request: {e}"))
                }),
        })
        .collect();
    let report = commit_messages(catalog, messages, max_attempts).await;
    for t in &report.tables {
        floe::metrics::emit_commit(t);
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
