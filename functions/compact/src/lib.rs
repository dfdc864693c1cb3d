//! The compact Lambda's handler. Two kinds of event:
//! - a maintenance request — EventBridge Scheduler / a scheduled rule (the request in `detail`),
//!   or the request itself (`cargo lambda invoke --data-file events/compact-*.json`) — runs the
//!   actions on the tables and answers with the JSON report;
//! - an SQS batch of file groups (written by a `fan-out` run) rewrites and commits each group,
//!   answering with an SQS partial batch response.
//!
//! Compaction's time budget is the Lambda deadline minus [`SAFETY_MARGIN`] (or the request's
//! `time-budget-ms` if smaller): a run stops starting groups before it runs out, and commits what
//! it finished.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use floe::maintenance::compact::GroupTask;
use floe::maintenance::run::{Maintainer, MaintenanceRequest};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// Time kept back from the Lambda deadline for the last commit and the response.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(30);

/// Handler errors.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is neither a maintenance request nor an SQS batch.
    #[error("not a maintenance request: {0}")]
    BadRequest(String),
    /// A maintenance action failed (the report is in the logs).
    #[error("maintenance failed: {0}")]
    Failed(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match e {
            HandlerError::BadRequest(_) => "BadRequest",
            HandlerError::Failed(_) => "MaintenanceFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// The `Instant` at which to stop, from the Lambda deadline (ms since the epoch).
pub fn budget_deadline(deadline_epoch_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    if deadline_epoch_ms == 0 {
        return None;
    }
    let left = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
    Some(Instant::now() + left.saturating_sub(SAFETY_MARGIN))
}

fn is_sqs(payload: &Value) -> bool {
    payload
        .get("Records")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// Handles one invocation.
pub async fn handle(
    maintainer: &Maintainer,
    event: LambdaEvent<Value>,
) -> Result<Value, HandlerError> {
    let deadline = budget_deadline(event.context.deadline);
    let payload = event.payload;
    if is_sqs(&payload) {
        let sqs: SqsEvent = serde_json::from_value(payload)
            .map_err(|e| HandlerError::BadRequest(format!("SQS batch: {e}")))?;
        let response = handle_groups(maintainer, sqs).await;
        return serde_json::to_value(response).map_err(|e| HandlerError::Failed(e.to_string()));
    }
    let request = payload.get("detail").unwrap_or(&payload).clone();
    let request: MaintenanceRequest =
        serde_json::from_value(request).map_err(|e| HandlerError::BadRequest(e.to_string()))?;
    let report = maintainer.run(&request, deadline).await;
    let json = serde_json::to_value(&report).map_err(|e| HandlerError::Failed(e.to_string()))?;
    tracing::info!(report = %json, "maintenance report");
    if report.failed() {
        let errors: Vec<String> = report
            .tables
            .iter()
            .flat_map(|t| t.errors.iter().map(move |e| format!("{}: {e}", t.table)))
            .collect();
        return Err(HandlerError::Failed(errors.join("; ")));
    }
    Ok(json)
}

/// Rewrites each message's file group; failed messages are returned for redelivery (a message
/// that keeps failing reaches the queue's DLQ).
pub async fn handle_groups(maintainer: &Maintainer, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for m in event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let task = m
            .body
            .as_deref()
            .ok_or_else(|| "message has no body".to_string())
            .and_then(|b| {
                serde_json::from_str::<GroupTask>(b).map_err(|e| format!("not a file group: {e}"))
            });
        let result = match task {
            Ok(task) => maintainer.run_group(&task).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => tracing::info!(message_id = %id, ?r, "file group done"),
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "file group failed");
                let mut f = BatchItemFailure::default();
                f.item_identifier = id;
                response.batch_item_failures.push(f);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_a_margin() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let d = budget_deadline(now + 60_000).unwrap();
        let left = d.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(30) && left > Duration::from_secs(25),
            "{left:?}"
        );
        assert!(budget_deadline(0).is_none());
    }

    #[test]
    fn sample_events_parse() {
        for name in [
            "scheduled-compaction.json",
            "compact-dry-run.json",
            "compact-now.json",
            "scheduled-replay.json",
        ] {
            let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let req = v.get("detail").unwrap_or(&v).clone();
            let req: MaintenanceRequest =
                serde_json::from_value(req).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!req.tables.is_empty(), "{name}");
        }
        let path = format!(
            "{}/../../events/sqs-compact-group.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(is_sqs(&v));
        let sqs: SqsEvent = serde_json::from_value(v).unwrap();
        let body = sqs.records[0].body.as_deref().unwrap();
        let task: GroupTask = serde_json::from_str(body).unwrap();
        assert_eq!(task.table, "demo.orders");
    }

    #[test]
    fn sqs_batches_are_told_apart() {
        assert!(is_sqs(
            &serde_json::json!({"Records":[{"eventSource":"aws:sqs"}]})
        ));
        assert!(!is_sqs(&serde_json::json!({"detail":{"tables":[]}})));
    }
}
