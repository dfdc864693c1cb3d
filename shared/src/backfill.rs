//! `floe backfill s3://bucket/prefix`: ingests the objects that already exist under a prefix, safe
//! to run while live ingestion continues.
//!
//! - The listing is paged and streamed (ListObjectsV2, key order), filtered by `LastModified`.
//! - Each key is ingested exactly as a live event would be: routed by the same specs, its version
//!   pinned by a HEAD (version id when the bucket is versioned, else the ETag), so its idempotency
//!   key equals the live event's — an object that live ingestion commits too, or a second
//!   backfill, lands once.
//! - Objects are taken `batch` at a time and ingested `concurrency` at once in queue mode into an
//!   in-process queue; each batch is then committed as one snapshot per table through the commit
//!   service's own batch commit (duplicates skipped inside the commit), so a backfill of many small
//!   objects makes a few snapshots, not one per object.
//! - After each committed batch a checkpoint (the last key) is written; a rerun resumes after it.
//!   A retryable failure stops the run before the checkpoint moves: rerun to continue.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use crate::committer::{commit_messages, CommitMessage, CommitSettings};
use crate::config::Config;
use crate::ingest::{Ingestor, ObjectReport, ObjectStatus};
use crate::queue::{CommitQueue, CommitRequest, QueueError};
use crate::source::ObjectRef;
use crate::Error;

/// How to backfill.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Only objects last modified at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only objects last modified before this instant.
    pub until: Option<DateTime<Utc>>,
    /// List and route only: what would be ingested, per table.
    pub dry_run: bool,
    /// Objects ingested at once.
    pub concurrency: usize,
    /// Objects per committed batch (one snapshot per table per batch).
    pub batch: usize,
    /// Where the checkpoint lives (`s3://…` or `file://…`); `None`: no checkpoint.
    pub checkpoint_url: Option<String>,
    /// Ignore an existing checkpoint and start from the beginning.
    pub restart: bool,
    /// Stop after this many batches (a bounded run; the checkpoint lets the next one continue).
    pub max_batches: Option<usize>,
    /// Send the listing to this ingest queue (SQS) as S3-notification messages instead of
    /// ingesting here: the ingest function does the work, the commit queue does the batching.
    pub fan_out: Option<String>,
}

/// Totals for one table.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TableTotals {
    /// Objects routed to the table.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Rows committed by this backfill.
    pub rows: u64,
    /// Rows sent to quarantine.
    pub rows_quarantined: u64,
    /// Objects already in the table (live ingestion or an earlier run got there first).
    pub duplicates: u64,
    /// Objects quarantined whole.
    pub quarantined: u64,
    /// Parquet objects registered in place (`mode = "register"`): committed without a copy.
    pub registered: u64,
    /// Objects of a register-mode table ingested instead (each reason is in the log).
    pub not_registered: u64,
    /// Objects that failed for good (reported; the run goes on).
    pub failed: u64,
    /// Snapshots this backfill committed.
    pub snapshots: u64,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackfillReport {
    /// `s3://bucket/prefix`.
    pub url: String,
    /// The key the run resumed after (from the checkpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after: Option<String>,
    /// Objects listed (after the time filter).
    pub objects: u64,
    /// Bytes listed.
    pub bytes: u64,
    /// Objects outside `--since/--until`.
    pub outside_window: u64,
    /// Keys no spec routes, folder markers, superseded or deleted versions.
    pub skipped: u64,
    /// Batches committed.
    pub batches: u64,
    /// Per table.
    pub tables: BTreeMap<String, TableTotals>,
    /// Objects that failed for good, with the reason.
    pub failures: Vec<String>,
    /// The listing was exhausted (false: stopped by `max_batches` or a retryable failure).
    pub complete: bool,
    /// The last key whose batch is committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_key: Option<String>,
}

/// Why a backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// Not an `s3://bucket/prefix` URL.
    #[error("`{0}` is not an s3://bucket/prefix URL")]
    Url(String),
    /// Listing needs the S3 API.
    #[error("backfill lists with the S3 API; this landing store has none")]
    NoS3,
    /// The prefix could not be listed.
    #[error("cannot list {url}: {message}")]
    List {
        /// The prefix.
        url: String,
        /// Why.
        message: String,
    },
    /// The checkpoint could not be read or written.
    #[error("checkpoint {url}: {message}")]
    Checkpoint {
        /// Where.
        url: String,
        /// Why.
        message: String,
    },
    /// A batch could not be finished; rerun to continue from the checkpoint.
    #[error("stopped after {batches} committed batch(es): {message} (rerun: it resumes after the last committed batch)")]
    Stopped {
        /// Batches committed before.
        batches: u64,
        /// Why.
        message: String,
    },
    /// Start-up failed.
    #[error(transparent)]
    Init(#[from] Error),
}

/// The commit requests of one batch, collected in process instead of sent to SQS (backfill,
/// quarantine replay): committed together by [`commit_collected`], one snapshot per table.
#[derive(Default)]
pub(crate) struct Collected(Mutex<Vec<CommitRequest>>);

#[async_trait::async_trait]
impl CommitQueue for Collected {
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), QueueError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(requests);
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    url: String,
    after: String,
    updated_at: String,
}

/// Runs a backfill of `url`; `progress` sees the report after every batch.
pub async fn backfill(
    config: Config,
    url: &str,
    opts: &BackfillOptions,
    mut progress: impl FnMut(&BackfillReport),
) -> Result<BackfillReport, BackfillError> {
    let (bucket, prefix) =
        crate::source::split_s3_url(url).ok_or_else(|| BackfillError::Url(url.to_string()))?;
    let settings = CommitSettings::from_config(&config).await;
    let fan_out = match &opts.fan_out {
        Some(q) => Some(crate::queue::SqsQueue::new(q, config.sqs_endpoint.as_deref()).await),
        None => None,
    };
    let queue = Arc::new(Collected::default());
    let ingestor = Ingestor::new(config)
        .await?
        .with_commit_queue(queue.clone());
    let client = ingestor
        .landing()
        .client()
        .cloned()
        .ok_or(BackfillError::NoS3)?;
    let (checkpoint, mut report) = start(&ingestor, url, opts).await?;
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .set_start_after(report.resumed_after.clone())
        .into_paginator()
        .send();
    let runner = Runner {
        ingestor: &ingestor,
        fan_out: fan_out.as_ref(),
        queue: &queue,
        settings: &settings,
        opts,
    };
    let mut batch: Vec<(ObjectRef, u64)> = Vec::new();
    let mut listing_done = false;
    while !listing_done {
        match pages.next().await {
            None => listing_done = true,
            Some(Err(e)) => {
                return Err(BackfillError::List {
                    url: url.to_string(),
                    message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                })
            }
            Some(Ok(page)) => take_page(&page, bucket, opts, &mut report, &mut batch),
        }
        while batch.len() >= opts.batch.max(1) || (listing_done && !batch.is_empty()) {
            let take = batch.len().min(opts.batch.max(1));
            let chunk: Vec<(ObjectRef, u64)> = batch.drain(..take).collect();
            runner.batch(chunk, &mut report).await?;
            if let Some(cp) = &checkpoint {
                if !opts.dry_run {
                    write_checkpoint(&ingestor, cp, url, report.last_key.as_deref()).await?;
                }
            }
            progress(&report);
            if opts
                .max_batches
                .is_some_and(|m| report.batches as usize >= m)
            {
                return Ok(report);
            }
        }
    }
    report.complete = true;
    Ok(report)
}

/// The checkpoint location, and a report that resumes after the checkpoint's key (unless
/// `restart`).
async fn start(
    ingestor: &Ingestor,
    url: &str,
    opts: &BackfillOptions,
) -> Result<(Option<String>, BackfillReport), BackfillError> {
    let checkpoint = opts
        .checkpoint_url
        .as_deref()
        .map(|base| checkpoint_location(base, url));
    let mut report = BackfillReport {
        url: url.to_string(),
        ..Default::default()
    };
    if let (Some(cp), false) = (&checkpoint, opts.restart) {
        report.resumed_after = read_checkpoint(ingestor, cp).await?;
    }
    Ok((checkpoint, report))
}

/// Adds a listing page's objects inside the time window to `batch`.
fn take_page(
    page: &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output,
    bucket: &str,
    opts: &BackfillOptions,
    report: &mut BackfillReport,
    batch: &mut Vec<(ObjectRef, u64)>,
) {
    for o in page.contents() {
        let (Some(key), size) = (o.key(), o.size().unwrap_or(0).max(0) as u64) else {
            continue;
        };
        let modified = o
            .last_modified()
            .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
        if !in_window(modified, opts) {
            report.outside_window += 1;
            continue;
        }
        report.objects += 1;
        report.bytes += size;
        let mut object = ObjectRef::new(bucket, key);
        object.size = Some(size);
        batch.push((object, size));
    }
}

fn in_window(modified: Option<DateTime<Utc>>, opts: &BackfillOptions) -> bool {
    match modified {
        None => opts.since.is_none() && opts.until.is_none(),
        Some(t) => opts.since.is_none_or(|s| t >= s) && opts.until.is_none_or(|u| t < u),
    }
}

/// What every batch is handed to: the ingestor and, by mode, the fan-out queue or the
/// in-process commit queue.
struct Runner<'a> {
    ingestor: &'a Ingestor,
    fan_out: Option<&'a crate::queue::SqsQueue>,
    queue: &'a Collected,
    settings: &'a CommitSettings,
    opts: &'a BackfillOptions,
}

impl Runner<'_> {
    /// Sends, counts (dry run) or ingests and commits one batch, then moves the batch count and
    /// last key on.
    async fn batch(
        &self,
        chunk: Vec<(ObjectRef, u64)>,
        report: &mut BackfillReport,
    ) -> Result<(), BackfillError> {
        let last_key = chunk.last().map(|(o, _)| o.key.clone());
        match self.fan_out {
            // A dry run only counts, whatever else is asked (with --fan-out too).
            _ if self.opts.dry_run => count_routed(self.ingestor, &chunk, report),
            Some(q) => send_batch(self.ingestor, q, chunk, report).await?,
            None => {
                let (i, q, s) = (self.ingestor, self.queue, self.settings);
                run_batch(i, q, s, chunk, self.opts, report).await?
            }
        }
        report.batches += 1;
        report.last_key = last_key;
        Ok(())
    }
}

/// Records per fan-out message (an S3 notification carries a list of records).
const RECORDS_PER_MESSAGE: usize = 100;

/// Sends one batch to the ingest queue as S3-notification messages (keys form-encoded as S3
/// encodes them; no version or ETag: the ingest function pins the version with a HEAD, so the
/// idempotency key is the live event's).
async fn send_batch(
    ingestor: &Ingestor,
    queue: &crate::queue::SqsQueue,
    chunk: Vec<(ObjectRef, u64)>,
    report: &mut BackfillReport,
) -> Result<(), BackfillError> {
    const KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    for part in chunk.chunks(RECORDS_PER_MESSAGE) {
        let records: Vec<serde_json::Value> = part
            .iter()
            .map(|(o, size)| {
                serde_json::json!({
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "eventTime": Utc::now().to_rfc3339(),
                    "s3": {
                        "bucket": {"name": o.bucket},
                        "object": {
                            "key": percent_encoding::utf8_percent_encode(&o.key, KEY).to_string(),
                            "size": size,
                        },
                    },
                })
            })
            .collect();
        let body = serde_json::json!({ "Records": records }).to_string();
        queue
            .send_body(body, None, "backfill listing")
            .await
            .map_err(|e| BackfillError::Stopped {
                batches: report.batches,
                message: e.to_string(),
            })?;
        count_routed(ingestor, part, report);
    }
    Ok(())
}

/// Counts objects and bytes per table as the router sends them (unrouted keys: skipped).
fn count_routed(ingestor: &Ingestor, objects: &[(ObjectRef, u64)], report: &mut BackfillReport) {
    for (o, size) in objects {
        match ingestor.router().route(&o.bucket, &o.key) {
            Ok(spec) => {
                let t = report.tables.entry(spec.ident.to_string()).or_default();
                t.objects += 1;
                t.bytes += size;
            }
            Err(_) => report.skipped += 1,
        }
    }
}

/// Ingests one batch (queue mode, in process) and commits it: one snapshot per table.
async fn run_batch(
    ingestor: &Ingestor,
    queue: &Collected,
    settings: &CommitSettings,
    chunk: Vec<(ObjectRef, u64)>,
    opts: &BackfillOptions,
    report: &mut BackfillReport,
) -> Result<(), BackfillError> {
    let reports: Vec<(ObjectReport, u64)> = futures::stream::iter(chunk)
        .map(|(o, size)| async move { (ingestor.ingest(o).await, size) })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let retry = tally(&reports, report);
    // Commit what was written, even when a retryable failure stops the run: the committed
    // objects are then duplicates on the rerun, not work done twice.
    let committed = commit_collected(ingestor, queue, settings).await;
    add_commits(&committed, report);
    let failed_commit = commit_failure(&committed);
    if let Some(message) = retry.or(failed_commit) {
        return Err(BackfillError::Stopped {
            batches: report.batches,
            message,
        });
    }
    Ok(())
}

/// Adds the batch's object reports to the totals; the error of a retryable failure, if any.
fn tally(reports: &[(ObjectReport, u64)], report: &mut BackfillReport) -> Option<String> {
    let mut retry = None;
    for (r, size) in reports {
        let Some(table) = &r.table else {
            report.skipped += 1;
            continue;
        };
        let t = report.tables.entry(table.clone()).or_default();
        t.objects += 1;
        t.bytes += size;
        match r.status {
            ObjectStatus::Queued | ObjectStatus::Committed => {
                t.rows_quarantined += r.rows_quarantined;
                t.registered += u64::from(r.registered);
                t.not_registered += u64::from(r.not_registered.is_some());
            }
            ObjectStatus::Duplicate => t.duplicates += 1,
            ObjectStatus::Quarantined => t.quarantined += 1,
            ObjectStatus::Skipped => report.skipped += 1,
            ObjectStatus::Failed if r.retryable => retry = r.error.clone(),
            ObjectStatus::Failed => {
                t.failed += 1;
                report
                    .failures
                    .push(r.error.clone().unwrap_or_else(|| r.object.clone()));
            }
        }
    }
    retry
}

/// Commits the collected requests: one snapshot per table, duplicates skipped inside the commit.
pub(crate) async fn commit_collected(
    ingestor: &Ingestor,
    queue: &Collected,
    settings: &CommitSettings,
) -> crate::committer::CommitBatchReport {
    let requests: Vec<CommitRequest> =
        std::mem::take(&mut *queue.0.lock().unwrap_or_else(|e| e.into_inner()));
    let messages = requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| CommitMessage {
            message_id: i.to_string(),
            body: serde_json::to_string(&r).unwrap_or_default(),
            request: Ok(r),
        })
        .collect();
    commit_messages(ingestor.catalog(), messages, settings).await
}

/// Why a collected commit did not complete, if it did not.
pub(crate) fn commit_failure(committed: &crate::committer::CommitBatchReport) -> Option<String> {
    committed
        .tables
        .iter()
        .find_map(|t| t.error.clone())
        .or_else(|| {
            committed
                .refused
                .first()
                .map(|r| format!("a commit request was refused: {}", r.reason))
        })
}

/// Adds a batch commit to the totals.
fn add_commits(committed: &crate::committer::CommitBatchReport, report: &mut BackfillReport) {
    for t in &committed.tables {
        let totals = report.tables.entry(t.table.clone()).or_default();
        totals.rows += t.rows;
        totals.duplicates += t.duplicates as u64;
        totals.snapshots += u64::from(t.snapshot_id.is_some());
    }
}

/// The checkpoint object of `url` under `base`.
fn checkpoint_location(base: &str, url: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}/_floe_backfill/{hex}.json", base.trim_end_matches('/'))
}

async fn read_checkpoint(ingestor: &Ingestor, cp: &str) -> Result<Option<String>, BackfillError> {
    let err = |message: String| BackfillError::Checkpoint {
        url: cp.to_string(),
        message,
    };
    let (store, path) = ingestor
        .stores()
        .for_url(cp)
        .map_err(|e| err(e.to_string()))?;
    match store.get(&path).await {
        Ok(got) => {
            let bytes = got.bytes().await.map_err(|e| err(e.to_string()))?;
            let c: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
            Ok(Some(c.after))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(err(e.to_string())),
    }
}

async fn write_checkpoint(
    ingestor: &Ingestor,
    cp: &str,
    url: &str,
    after: Option<&str>,
) -> Result<(), BackfillError> {
    let Some(after) = after else { return Ok(()) };
    let err = |message: String| BackfillError::Checkpoint {
        url: cp.to_string(),
        message,
    };
    let (store, path) = ingestor
        .stores()
        .for_url(cp)
        .map_err(|e| err(e.to_string()))?;
    let body = serde_json::to_vec(&Checkpoint {
        url: url.to_string(),
        after: after.to_string(),
        updated_at: Utc::now().to_rfc3339(),
    })
    .map_err(|e| err(e.to_string()))?;
    store
        .put(&path, body.into())
        .await
        .map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_window_is_half_open() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let opts = BackfillOptions {
            since: Some(t("2026-01-01T00:00:00Z")),
            until: Some(t("2026-02-01T00:00:00Z")),
            dry_run: false,
            concurrency: 1,
            batch: 1,
            checkpoint_url: None,
            restart: false,
            max_batches: None,
            fan_out: None,
        };
        assert!(in_window(Some(t("2026-01-01T00:00:00Z")), &opts));
        assert!(!in_window(Some(t("2026-02-01T00:00:00Z")), &opts));
        assert!(!in_window(None, &opts));
        assert_eq!(
            checkpoint_location("s3://w/", "s3://b/p/"),
            checkpoint_location("s3://w", "s3://b/p/")
        );
    }
}
