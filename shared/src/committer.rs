//! The commit service behind the commit function: takes a batch of commit requests (an SQS
//! batch), groups them per table and commits one fast-append snapshot per table, skipping
//! requests already committed. Reports which messages failed, for SQS partial batch responses.

use std::collections::BTreeMap;
use std::sync::Arc;

use iceberg::{Catalog, TableIdent};
use serde::Serialize;

use crate::commit::{commit_batch, BatchEntry};
use crate::queue::CommitRequest;

/// One received message.
#[derive(Debug, Clone)]
pub struct CommitMessage {
    /// SQS message id.
    pub message_id: String,
    /// The request, or why the body is not one (a poison message).
    pub request: Result<CommitRequest, String>,
}

/// What happened for one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableCommitReport {
    /// Table.
    pub table: String,
    /// Requests received for it.
    pub requests: usize,
    /// Requests appended by the new snapshot.
    pub committed: usize,
    /// Requests already in the table (acknowledged, nothing appended).
    pub duplicates: usize,
    /// Rows appended.
    pub rows: u64,
    /// The new snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Oldest request's age at commit (ms): ingest → commit latency.
    pub max_queue_latency_ms: i64,
    /// Why the table's commit failed (its messages are redelivered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of one batch.
#[derive(Debug, Clone, Serialize)]
pub struct CommitBatchReport {
    /// Per table.
    pub tables: Vec<TableCommitReport>,
    /// Messages to redeliver.
    pub failed_message_ids: Vec<String>,
}

/// Commits a batch of messages: one snapshot per table.
pub async fn commit_messages(
    catalog: Arc<dyn Catalog>,
    messages: Vec<CommitMessage>,
    max_attempts: u32,
) -> CommitBatchReport {
    let mut failed = Vec::new();
    let mut by_table: BTreeMap<String, Vec<(String, CommitRequest)>> = BTreeMap::new();
    for m in messages {
        match m.request {
            Ok(r) => by_table
                .entry(r.table.clone())
                .or_default()
                .push((m.message_id, r)),
            Err(e) => {
                tracing::error!(message_id = %m.message_id, error = %e, "poison commit request (goes to the DLQ after maxReceiveCount)");
                failed.push(m.message_id);
            }
        }
    }
    let mut tables = Vec::new();
    for (table, requests) in by_table {
        let mut report = TableCommitReport {
            table: table.clone(),
            requests: requests.len(),
            committed: 0,
            duplicates: 0,
            rows: 0,
            snapshot_id: None,
            max_queue_latency_ms: 0,
            error: None,
        };
        match commit_table(
            &catalog,
            &table,
            &requests,
            max_attempts,
            &mut report,
            &mut failed,
        )
        .await
        {
            Ok(()) => {}
            Err(e) => {
                tracing::error!(table = %table, error = %e, "table commit failed; its messages will be redelivered");
                report.error = Some(e);
                failed.extend(requests.iter().map(|(id, _)| id.clone()));
            }
        }
        tables.push(report);
    }
    failed.sort();
    failed.dedup();
    CommitBatchReport {
        tables,
        failed_message_ids: failed,
    }
}

async fn commit_table(
    catalog: &Arc<dyn Catalog>,
    table: &str,
    requests: &[(String, CommitRequest)],
    max_attempts: u32,
    report: &mut TableCommitReport,
    failed: &mut Vec<String>,
) -> Result<(), String> {
    let ident = TableIdent::from_strs(table.split('.')).map_err(|e| e.to_string())?;
    let current = catalog
        .load_table(&ident)
        .await
        .map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (id, r) in requests {
        if !seen.insert(r.idempotency_key.clone()) {
            continue; // the same request twice in one batch
        }
        match r.data_files(&current) {
            Ok(files) => entries.push(BatchEntry {
                key: r.idempotency_key.clone(),
                files,
                rows: r.rows,
            }),
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "undecodable data files in commit request");
                failed.push(id.clone());
            }
        }
    }
    let rows_by_key: BTreeMap<String, u64> =
        entries.iter().map(|e| (e.key.clone(), e.rows)).collect();
    let outcome = commit_batch(
        catalog.clone(),
        &ident,
        entries,
        Default::default(),
        max_attempts,
    )
    .await
    .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp_millis();
    report.max_queue_latency_ms = requests
        .iter()
        .map(|(_, r)| now - r.sent_at_ms)
        .max()
        .unwrap_or(0);
    report.committed = outcome.committed.len();
    report.duplicates = outcome.duplicates.len();
    report.rows = outcome
        .committed
        .iter()
        .filter_map(|k| rows_by_key.get(k))
        .sum();
    report.snapshot_id = outcome.snapshot_id;
    tracing::info!(table, committed = report.committed, duplicates = report.duplicates, rows = report.rows, snapshot_id = ?report.snapshot_id, "batch committed");
    Ok(())
}
