//! `floe quarantine replay --table T [--code C] [--since T]`: after a spec fix, quarantined records
//! go through the current spec again. Rows that now pass land in the table; the rest are
//! quarantined again with their new reason.
//!
//! - Each row-level record (its raw JSON: the JSON-lines line, or the values of a CSV/Parquet
//!   row) becomes a one-line JSON-lines object under `<quarantine>/_floe_replay/<table>/`, named
//!   by the SHA-256 of its source object, record number and text. Its idempotency key is therefore
//!   fixed by the one record it replays: however replays are filtered and repeated, a record lands
//!   at most once. The records are ingested in queue mode and committed together, one snapshot per
//!   table per replay (as a backfill batch).
//! - Objects quarantined whole are replayed from their quarantine copy, whose key and ETag are
//!   fixed too.
//! - Records that are not JSON (a malformed CSV line kept as raw text) cannot be re-read as
//!   records: they are counted as not replayable and stay.
//!
//! Quarantine rows are never rewritten (iceberg-rust writes no deletes): "replayed" is recorded
//! by the replay object's idempotency key in the table's snapshots, and the report.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use serde::Serialize;

use std::sync::Arc;

use crate::backfill::{commit_collected, commit_failure, Collected};
use crate::committer::CommitSettings;
use crate::config::Config;
use crate::encoding::{Compression, InputFormat};
use crate::ingest::{Ingestor, ObjectReport};
use crate::source::ObjectRef;

/// What to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The table (`namespace.table`) whose quarantined records to replay.
    pub table: String,
    /// Only records quarantined with this code.
    pub code: Option<String>,
    /// Only records quarantined at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The table.
    pub table: String,
    /// Quarantine rows that matched.
    pub matched: u64,
    /// Rows sent through the spec again (row-level records).
    pub rows_replayed: u64,
    /// Objects quarantined whole, replayed from their copy.
    pub objects_replayed: u64,
    /// Rows this replay appended to the table.
    pub rows_landed: u64,
    /// Rows this replay appended to the quarantine table (with their new reason; a record
    /// already quarantined again by an earlier replay is not counted twice).
    pub rows_still_quarantined: u64,
    /// Replay objects already replayed before (duplicates: nothing added).
    pub already_replayed: u64,
    /// Records that cannot be re-read (raw text that is not a JSON record).
    pub not_replayable: u64,
    /// One report per replayed object.
    pub objects: Vec<ObjectReport>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No spec defines the table.
    #[error("no table spec defines `{0}`")]
    UnknownTable(String),
    /// The quarantine table could not be read.
    #[error("cannot read the quarantine table: {0}")]
    Read(#[from] iceberg::Error),
    /// The replay could not start.
    #[error(transparent)]
    Init(#[from] crate::Error),
    /// The replayed rows could not be committed (rerun: nothing is committed twice).
    #[error("cannot commit the replayed rows: {0}")]
    Commit(String),
    /// A replay object could not be written.
    #[error("cannot write {url}: {message}")]
    Write {
        /// Where.
        url: String,
        /// Why.
        message: String,
    },
}

/// The matching quarantine rows: row-level JSON records by their identity (source object and
/// record number), whole-object copies.
#[derive(Default)]
struct Matched {
    records: BTreeMap<String, String>,
    copies: Vec<String>,
}

/// Replays the quarantined records of `opts.table` through its current spec.
pub async fn replay(config: Config, opts: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    let settings = CommitSettings::from_config(&config).await;
    let queue = Arc::new(Collected::default());
    let ingestor = Ingestor::new(config)
        .await?
        .with_commit_queue(queue.clone());
    let spec = ingestor
        .router()
        .specs()
        .iter()
        .find(|s| s.ident.to_string() == opts.table)
        .ok_or_else(|| ReplayError::UnknownTable(opts.table.clone()))?
        .clone();
    let mut report = ReplayReport {
        table: opts.table.clone(),
        ..Default::default()
    };
    let matched = read_matching(&ingestor, opts, &mut report).await?;
    // Replay objects are JSON lines whatever the table's own input format.
    let mut as_json = spec.clone();
    (as_json.format, as_json.compression) = (Some(InputFormat::JsonLines), Some(Compression::None));
    for (id, record) in matched.records {
        let url = replay_url(&ingestor, &spec.ident.to_string(), &id, &record);
        let (store, path) = ingestor
            .stores()
            .for_url(&url)
            .map_err(|e| ReplayError::Write {
                url: url.clone(),
                message: e.to_string(),
            })?;
        store
            .put(&path, (record + "\n").into_bytes().into())
            .await
            .map_err(|e| ReplayError::Write {
                url: url.clone(),
                message: e.to_string(),
            })?;
        report.rows_replayed += 1;
        let r = ingestor.ingest_as(object_of(&url), &as_json).await;
        tally(&mut report, r);
    }
    for copy in matched.copies {
        report.objects_replayed += 1;
        let r = ingestor.ingest_as(object_of(&copy), &spec).await;
        tally(&mut report, r);
    }
    let committed = commit_collected(&ingestor, &queue, &settings).await;
    if let Some(message) = commit_failure(&committed) {
        return Err(ReplayError::Commit(message));
    }
    // Counted from what the commit appended: a record quarantined again before (its quarantine
    // request a duplicate) adds nothing.
    let quarantine = ingestor.quarantine_table().to_string();
    for t in &committed.tables {
        if t.table == opts.table {
            report.rows_landed += t.rows;
        } else if t.table == quarantine {
            report.rows_still_quarantined += t.rows;
        }
    }
    Ok(report)
}

fn tally(report: &mut ReplayReport, r: ObjectReport) {
    if r.status == crate::ingest::ObjectStatus::Duplicate {
        report.already_replayed += 1;
    }
    report.objects.push(r);
}

fn object_of(url: &str) -> ObjectRef {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    ObjectRef::new(bucket, key)
}

/// `<quarantine>/_floe_replay/<table>/<sha256 of record identity and text>.jsonl`.
fn replay_url(ingestor: &Ingestor, table: &str, id: &str, record: &str) -> String {
    use sha2::Digest;
    let base = ingestor.config().quarantine_url.clone().unwrap_or_else(|| {
        let bucket = object_of(id).bucket;
        format!("s3://{bucket}/_floe_quarantine")
    });
    let digest = sha2::Sha256::digest(format!("{id}\n{record}").as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}/_floe_replay/{table}/{hex}.jsonl",
        base.trim_end_matches('/')
    )
}

/// Whether an object is a quarantine copy or a replay object (replaying it again would only
/// quarantine a copy of a copy).
fn is_replay_output(source: &str) -> bool {
    source.contains("/_floe_quarantine/") || source.contains("/_floe_replay/")
}

/// Scans the quarantine table for the rows to replay.
async fn read_matching(
    ingestor: &Ingestor,
    opts: &ReplayOptions,
    report: &mut ReplayReport,
) -> Result<Matched, ReplayError> {
    let mut matched = Matched::default();
    let q = match ingestor
        .catalog()
        .load_table(ingestor.quarantine_table())
        .await
    {
        Ok(t) => t,
        Err(_) => return Ok(matched), // nothing was ever quarantined
    };
    let batches: Vec<RecordBatch> = q
        .scan()
        .select_all()
        .build()?
        .to_arrow()
        .await?
        .try_collect()
        .await?;
    let since = opts.since.map(|t| t.timestamp_micros());
    for b in &batches {
        let text = |c: &str| b.column_by_name(c).map(|a| a.as_string::<i32>().clone());
        let (Some(table), Some(source), Some(code), Some(raw)) = (
            text("table_name"),
            text("source_object"),
            text("error_code"),
            text("raw_record"),
        ) else {
            continue;
        };
        let record = b.column_by_name("record_number");
        let at = b.column_by_name("ingested_at").map(|a| {
            a.as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                .clone()
        });
        for i in 0..b.num_rows() {
            if table.value(i) != opts.table
                || opts.code.as_deref().is_some_and(|c| c != code.value(i))
                || since.is_some_and(|s| at.as_ref().is_some_and(|a| a.value(i) < s))
            {
                continue;
            }
            report.matched += 1;
            if is_replay_output(source.value(i)) {
                // Quarantined again by an earlier replay: its original record is replayed from
                // its own source row (replaying the copy would only make another copy).
                report.already_replayed += 1;
                continue;
            }
            let raw_text = raw.is_valid(i).then(|| raw.value(i).to_string());
            let row_level = record.is_some_and(|r| r.is_valid(i));
            match (row_level, raw_text) {
                (true, Some(r)) if r.trim_start().starts_with('{') => {
                    let n = record.map_or(0, |a| {
                        a.as_primitive::<arrow_array::types::Int64Type>().value(i)
                    });
                    matched
                        .records
                        .insert(format!("{}#{n}", source.value(i)), r);
                }
                (false, Some(url)) if url.starts_with("s3://") => matched.copies.push(url),
                _ => report.not_replayable += 1,
            }
        }
    }
    matched.copies.sort();
    matched.copies.dedup();
    Ok(matched)
}
