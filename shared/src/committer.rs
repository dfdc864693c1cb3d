//! The commit service behind the commit function: takes a batch of commit requests (an SQS
//! batch), groups them per table and commits one fast-append snapshot per table, skipping
//! requests already committed. Reports which messages failed, for SQS partial batch responses.
//!
//! Before a request is committed it is checked: its age (older than the orphan guard → its files
//! may be gone), every data file inside the table's location, every data file present. A request
//! that fails a check can never succeed: it is *refused* — moved to the DLQ at once when one is
//! configured (so it does not block its table's FIFO group for visibility timeout × receives),
//! else left to the queue's redrive — with a metric. Transient failures are retried.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use iceberg::Catalog;
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
    /// The body as received (forwarded to the DLQ when the request is refused).
    pub body: String,
}

/// How the commit service runs.
#[derive(Clone)]
pub struct CommitSettings {
    /// How a table's commit retries a conflict.
    pub policy: crate::commit::CommitPolicy,
    /// Requests older than this (ms since ingest sent them) are refused: orphan removal may have
    /// deleted their files. The redelivery window (`FLOE_REDELIVERY_WINDOW_HOURS`).
    pub max_request_age_ms: i64,
    /// Where refused requests go at once (`FLOE_COMMIT_DLQ_URL`).
    pub dlq: Option<Arc<crate::queue::SqsQueue>>,
}

impl CommitSettings {
    /// From the configuration (opens the DLQ client when one is configured).
    pub async fn from_config(config: &crate::config::Config) -> Self {
        let dlq = match &config.commit_dlq_url {
            Some(url) => Some(Arc::new(
                crate::queue::SqsQueue::new(url, config.sqs_endpoint.as_deref()).await,
            )),
            None => None,
        };
        Self {
            policy: crate::commit::CommitPolicy::from_config(config),
            max_request_age_ms: config.redelivery_window_ms,
            dlq,
        }
    }

    /// Settings without a DLQ (tests, the CLI).
    pub fn new(max_attempts: u32, max_request_age_ms: i64) -> Self {
        Self {
            policy: crate::commit::CommitPolicy::new(max_attempts),
            max_request_age_ms,
            dlq: None,
        }
    }
}

/// The commit function's state: the catalog and how it commits, built once per container.
pub struct CommitService {
    /// The catalog commits go to.
    pub catalog: Arc<dyn iceberg::Catalog>,
    /// Retry policy, request age limit, DLQ.
    pub settings: CommitSettings,
}

impl CommitService {
    /// A function's start-up, as `Ingestor::from_env`: configuration from the environment
    /// (failing with every problem named), telemetry, then the catalog and the DLQ client.
    pub async fn from_env() -> Result<Self, crate::Error> {
        let config = crate::telemetry::start()?;
        let catalog = crate::catalog::open_catalog(&config.catalog, &config.s3)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
        Ok(Self {
            catalog,
            settings: CommitSettings::from_config(&config).await,
        })
    }
}

/// A request that can never be committed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedRequest {
    /// SQS message id.
    pub message_id: String,
    /// Table, when known.
    pub table: Option<String>,
    /// Reason code: `poison`, `too_old`, `outside_table`, `registered_changed`, `missing_files`,
    /// `undecodable_files`.
    pub code: &'static str,
    /// What is wrong.
    pub reason: String,
    /// Whether it was moved to the DLQ (else it is redelivered until the queue's redrive).
    pub dead_lettered: bool,
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
    /// Requests refused as never committable.
    pub refused: Vec<RefusedRequest>,
}

/// Commits a batch of messages: one snapshot per table.
pub async fn commit_messages(
    catalog: Arc<dyn Catalog>,
    messages: Vec<CommitMessage>,
    settings: &CommitSettings,
) -> CommitBatchReport {
    let mut failed = Vec::new();
    let mut refusals: Vec<(RefusedRequest, String)> = Vec::new();
    let mut by_table: BTreeMap<String, Vec<(String, CommitRequest, String)>> = BTreeMap::new();
    let now = chrono::Utc::now().timestamp_millis();
    for m in messages {
        match m.request {
            Ok(r) if now - r.sent_at_ms > settings.max_request_age_ms => {
                let reason = format!(
                    "sent {} h ago, beyond the redelivery window of {} h: its data files may have been removed as orphans",
                    (now - r.sent_at_ms) / 3_600_000,
                    settings.max_request_age_ms / 3_600_000
                );
                refusals.push((
                    refused(&m.message_id, Some(&r.table), "too_old", reason),
                    m.body,
                ));
            }
            Ok(r) => by_table
                .entry(r.table.clone())
                .or_default()
                .push((m.message_id, r, m.body)),
            Err(e) => refusals.push((refused(&m.message_id, None, "poison", e), m.body)),
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
            &settings.policy,
            &mut report,
            &mut refusals,
        )
        .await
        {
            Ok(()) => {}
            Err(e) => {
                tracing::error!(table = %table, error = %e, "table commit failed; its messages will be redelivered");
                report.error = Some(e.to_string());
                let refused_ids: Vec<&String> =
                    refusals.iter().map(|(r, _)| &r.message_id).collect();
                failed.extend(
                    requests
                        .iter()
                        .map(|(id, _, _)| id.clone())
                        .filter(|id| !refused_ids.contains(&id)),
                );
            }
        }
        tables.push(report);
    }
    let mut refused_out = Vec::new();
    for (mut r, body) in refusals {
        if let Some(dlq) = &settings.dlq {
            // The commit queue is FIFO, so its DLQ is too: group by table, one id per message.
            let group = r.table.clone().unwrap_or_else(|| "unknown".into());
            let fifo = Some((group, format!("refused-{}", r.message_id)));
            match dlq
                .send_body(
                    body,
                    fifo.as_ref().map(|(t, d)| (t.as_str(), d.clone())),
                    "refused commit request",
                )
                .await
            {
                Ok(()) => r.dead_lettered = true,
                Err(e) => {
                    tracing::error!(message_id = %r.message_id, error = %e, "cannot move the refused request to the DLQ")
                }
            }
        }
        tracing::error!(message_id = %r.message_id, table = ?r.table, code = r.code, reason = %r.reason, dead_lettered = r.dead_lettered, "commit request refused");
        if !r.dead_lettered {
            failed.push(r.message_id.clone());
        }
        refused_out.push(r);
    }
    failed.sort();
    failed.dedup();
    CommitBatchReport {
        tables,
        failed_message_ids: failed,
        refused: refused_out,
    }
}

fn refused(
    message_id: &str,
    table: Option<&str>,
    code: &'static str,
    reason: String,
) -> RefusedRequest {
    RefusedRequest {
        message_id: message_id.to_string(),
        table: table.map(str::to_string),
        code,
        reason,
        dead_lettered: false,
    }
}

/// Why `files` cannot be committed to `table`: a path outside the table's location, or a file
/// that is not there (removed as an orphan while the request waited). The one file allowed
/// outside the location is `source` itself, registered in place (`mode = "register"`), and only
/// while its size is still the registered one (`registered_changed` otherwise).
pub async fn check_files(
    table: &iceberg::table::Table,
    files: &[iceberg::spec::DataFile],
    source: &crate::source::ObjectRef,
) -> Result<(), (&'static str, String)> {
    let location = format!("{}/", table.metadata().location().trim_end_matches('/'));
    let registered = source.url();
    let (inside, outside): (Vec<&iceberg::spec::DataFile>, Vec<&iceberg::spec::DataFile>) = files
        .iter()
        .partition(|f| f.file_path().starts_with(&location) && !f.file_path().contains("/../"));
    if let Some(f) = outside
        .iter()
        .find(|f| f.file_path() != registered || outside.len() > 1)
    {
        return Err((
            "outside_table",
            format!(
                "data file {} is outside the table location {location} (only the request's own source object may be, registered in place)",
                f.file_path()
            ),
        ));
    }
    if let Some(f) = outside.first() {
        let path = f.file_path();
        let io = table.file_io();
        let size = match io.exists(path).await {
            Ok(false) => {
                return Err((
                    "missing_files",
                    format!("the registered object {path} no longer exists"),
                ))
            }
            Ok(true) => match io.new_input(path) {
                Ok(input) => input.metadata().await.map(|m| m.size),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
        .map_err(|e| ("check_failed", format!("cannot check {path}: {e}")))?;
        if size != f.file_size_in_bytes() {
            return Err((
                "registered_changed",
                format!(
                    "the registered object {path} is {size} bytes now, {} when registered: overwritten since",
                    f.file_size_in_bytes()
                ),
            ));
        }
    }
    let files = inside;
    let io = table.file_io();
    let checks: Vec<(String, Result<bool, iceberg::Error>)> = futures::stream::iter(files)
        .map(|f| async move { (f.file_path().to_string(), io.exists(f.file_path()).await) })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut missing = Vec::new();
    for (path, exists) in checks {
        match exists {
            Ok(true) => {}
            Ok(false) => missing.push(path),
            Err(e) => return Err(("check_failed", format!("cannot check {path}: {e}"))),
        }
    }
    if !missing.is_empty() {
        return Err((
            "missing_files",
            format!(
                "{} data file(s) no longer exist (e.g. {}): removed as orphans while the request waited?",
                missing.len(),
                missing[0]
            ),
        ));
    }
    Ok(())
}

/// Why a table's batch was not committed: every message not refused is redelivered.
#[derive(Debug, thiserror::Error)]
pub enum TableCommitError {
    /// The request names no valid table.
    #[error("`{0}` is not a `namespace.table` name")]
    BadName(String),
    /// The table could not be loaded.
    #[error("cannot load {table}: {source}")]
    Load {
        /// The table.
        table: String,
        /// Why.
        #[source]
        source: iceberg::Error,
    },
    /// A request's data-file list could not be read.
    #[error("cannot read the data files of {key}: {source}")]
    DataFiles {
        /// The request's idempotency key.
        key: String,
        /// Why.
        #[source]
        source: iceberg::Error,
    },
    /// The files' existence could not be checked (storage unreachable).
    #[error("{0}")]
    Check(String),
    /// The commit failed.
    #[error(transparent)]
    Commit(#[from] crate::commit::CommitError),
}

/// Requests of one batch whose files are read and checked at the same time (each checks its
/// files 16 at a time).
const REQUESTS_CHECKED_AT_ONCE: usize = 4;

/// One request, made ready for its table's commit.
enum Prepared {
    /// Its idempotency key is in the table's history already.
    Committed,
    /// Its data-file list cannot be read or decoded.
    Unreadable(iceberg::Error),
    /// Its data files and what `check_files` found.
    Checked {
        files: Vec<iceberg::spec::DataFile>,
        check: Result<(), (&'static str, String)>,
    },
}

async fn prepare(table: &iceberg::table::Table, r: &CommitRequest) -> Prepared {
    if crate::commit::find_committed(table, &r.idempotency_key).is_some() {
        return Prepared::Committed;
    }
    match r.data_files(table).await {
        Ok(files) => {
            let check = check_files(table, &files, &r.source).await;
            Prepared::Checked { files, check }
        }
        Err(e) => Prepared::Unreadable(e),
    }
}

async fn commit_table(
    catalog: &Arc<dyn Catalog>,
    table: &str,
    requests: &[(String, CommitRequest, String)],
    policy: &crate::commit::CommitPolicy,
    report: &mut TableCommitReport,
    refusals: &mut Vec<(RefusedRequest, String)>,
) -> Result<(), TableCommitError> {
    let ident = crate::config::parse_table_name(table)
        .ok_or_else(|| TableCommitError::BadName(table.to_string()))?;
    let current = catalog
        .load_table(&ident)
        .await
        .map_err(|source| TableCommitError::Load {
            table: table.to_string(),
            source,
        })?;
    let mut seen = std::collections::HashSet::new();
    // The same request twice in one batch counts once.
    let unique: Vec<&(String, CommitRequest, String)> = requests
        .iter()
        .filter(|(_, r, _)| seen.insert(r.idempotency_key.clone()))
        .collect();
    // Each request's files are read and checked (a HEAD per file) concurrently across the batch;
    // the outcomes are taken in the batch's order.
    let prepared: Vec<Prepared> = futures::stream::iter(unique.iter())
        .map(|(_, r, _)| prepare(&current, r))
        .buffered(REQUESTS_CHECKED_AT_ONCE)
        .collect()
        .await;
    let mut entries = Vec::new();
    for ((id, r, body), prepared) in unique.into_iter().zip(prepared) {
        let files = match prepared {
            // Already in: nothing to check (its files may be compacted away since).
            Prepared::Committed => Vec::new(),
            Prepared::Unreadable(e) if e.kind() == iceberg::ErrorKind::DataInvalid => {
                refusals.push((
                    refused(id, Some(table), "undecodable_files", e.to_string()),
                    body.clone(),
                ));
                continue;
            }
            Prepared::Unreadable(source) => {
                return Err(TableCommitError::DataFiles {
                    key: r.idempotency_key.clone(),
                    source,
                })
            }
            Prepared::Checked { files, check } => match check {
                Ok(()) => files,
                Err(("check_failed", why)) => return Err(TableCommitError::Check(why)),
                Err((code, why)) => {
                    refusals.push((refused(id, Some(table), code, why), body.clone()));
                    continue;
                }
            },
        };
        entries.push(BatchEntry {
            key: r.idempotency_key.clone(),
            files,
            rows: r.rows,
        });
    }
    let rows_by_key: BTreeMap<String, u64> =
        entries.iter().map(|e| (e.key.clone(), e.rows)).collect();
    let outcome =
        commit_batch(catalog.clone(), &ident, entries, Default::default(), policy).await?;
    let now = chrono::Utc::now().timestamp_millis();
    report.max_queue_latency_ms = requests
        .iter()
        .map(|(_, r, _)| now - r.sent_at_ms)
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
    // The data-file lists of committed requests are no longer needed.
    for (_, r, _) in requests {
        if let Some(url) = &r.data_files_url {
            if outcome.committed.contains(&r.idempotency_key)
                || outcome
                    .duplicates
                    .iter()
                    .any(|(k, _)| k == &r.idempotency_key)
            {
                if let Err(e) = current.file_io().delete(url).await {
                    tracing::warn!(url = %url, error = %e, "cannot delete a data-file list (orphan removal will)");
                }
            }
        }
    }
    tracing::info!(table, committed = report.committed, duplicates = report.duplicates, rows = report.rows, snapshot_id = ?report.snapshot_id, "batch committed");
    Ok(())
}
impl RefusedRequest {
    /// Writes the refusal's metrics (`CommitRequestsRefused` by reason: alarm on it).
    pub fn emit_metrics(&self) {
        let r = self;
        crate::metrics::emit(
            &[
                ("Function", "commit"),
                ("Table", r.table.as_deref().unwrap_or("unknown")),
                ("Reason", r.code),
            ],
            &[
                ("CommitRequestsRefused", "Count", 1.0),
                (
                    "CommitRequestsDeadLettered",
                    "Count",
                    if r.dead_lettered { 1.0 } else { 0.0 },
                ),
            ],
        );
    }
}
impl TableCommitReport {
    /// Writes the table's commit-batch metrics.
    pub fn emit_metrics(&self) {
        let t = self;
        crate::metrics::emit(
            &[("Function", "commit"), ("Table", &t.table)],
            &[
                ("CommitRequests", "Count", t.requests as f64),
                ("CommittedRequests", "Count", t.committed as f64),
                ("DuplicateRequests", "Count", t.duplicates as f64),
                ("RowsCommitted", "Count", t.rows as f64),
                (
                    "CommitFailed",
                    "Count",
                    if t.error.is_some() { 1.0 } else { 0.0 },
                ),
                (
                    "QueueLatencyMs",
                    "Milliseconds",
                    t.max_queue_latency_ms as f64,
                ),
            ],
        );
    }
}
