//! Snapshot expiry with file cleanup. iceberg-rust's `expire_snapshots` action edits metadata
//! only; this module picks the snapshots (so a dry run reports exactly what a real run removes),
//! commits the removal through that action (with its own conflict retries), and then deletes
//! the files only the removed snapshots reached — data files, manifests, manifest lists — plus
//! metadata files older than the oldest one the metadata log keeps
//! (`write.metadata.previous-versions-max`).
//!
//! Floe's idempotency keys live in snapshot summaries: a redelivered object is recognised only
//! while its snapshot is kept, so the snapshot age kept must exceed the redelivery window (SQS
//! retention + DLQ redrive). The default, 5 days, is above the 4-day queue retention in `infra/`.

use std::collections::HashSet;

use iceberg::spec::{SnapshotRef, TableMetadata};
use iceberg::table::Table;
use iceberg::transaction::{ApplyTransactionAction, Transaction};
use iceberg::{Catalog, TableIdent};
use serde::{Deserialize, Serialize};

use super::action::TableAction;
use super::files::{delete_all, referenced_files, EntryScope};
use super::MaintenanceError;
use crate::storage::Stores;

/// Expiry options; unset values come from the table properties
/// `history.expire.max-snapshot-age-ms` / `history.expire.min-snapshots-to-keep`, else 5 days / 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpireOptions {
    /// Snapshots older than this many milliseconds may be expired.
    #[serde(rename = "max-snapshot-age-ms")]
    pub max_snapshot_age_ms: Option<i64>,
    /// The newest this-many snapshots of the main branch are always kept.
    #[serde(rename = "min-snapshots-to-keep")]
    pub min_snapshots_to_keep: Option<usize>,
    /// Leave the unreachable files in place (metadata change only).
    #[serde(rename = "keep-files")]
    pub keep_files: bool,
    /// The least age a snapshot must reach before it may expire, whatever the request says: the
    /// redelivery window (its idempotency keys must outlive every redelivery). Set by the runner.
    #[serde(skip)]
    pub min_age_floor_ms: i64,
}

/// Default maximum snapshot age (5 days, as Iceberg).
pub const DEFAULT_MAX_SNAPSHOT_AGE_MS: i64 = 5 * 24 * 3600 * 1000;

/// What an expiry did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpireReport {
    /// Snapshots removed from the metadata.
    pub snapshots_expired: Vec<i64>,
    /// Data files deleted.
    pub data_files_deleted: usize,
    /// Bytes of data files deleted.
    pub data_bytes_deleted: u64,
    /// Manifests deleted.
    pub manifests_deleted: usize,
    /// Manifest lists deleted.
    pub manifest_lists_deleted: usize,
    /// Old metadata files deleted.
    pub metadata_files_deleted: usize,
    /// Every path deleted (or to delete, in a dry run).
    pub deleted: Vec<String>,
    /// Dry run: nothing was changed.
    pub dry_run: bool,
}

/// The snapshots an expiry at `now_ms` removes: older than the cutoff, not the head of any
/// branch or tag, not among the newest `keep` of the main branch.
pub fn snapshots_to_expire(
    metadata: &TableMetadata,
    now_ms: i64,
    max_age_ms: i64,
    keep: usize,
) -> Vec<i64> {
    let cutoff = now_ms - max_age_ms;
    // The head of every branch and tag is kept (refs have no public accessor: read them from
    // the metadata's JSON form).
    let mut retained: HashSet<i64> = serde_json::to_value(metadata)
        .ok()
        .and_then(|v| v.get("refs").cloned())
        .and_then(|r| r.as_object().cloned())
        .into_iter()
        .flat_map(|refs| refs.into_iter())
        .filter_map(|(_, r)| r.get("snapshot-id").and_then(|id| id.as_i64()))
        .collect();
    retained.extend(metadata.current_snapshot_id());
    let mut cur = metadata.current_snapshot().cloned();
    let mut n = 0;
    while let Some(s) = cur {
        if n >= keep.max(1) {
            break;
        }
        retained.insert(s.snapshot_id());
        n += 1;
        cur = s
            .parent_snapshot_id()
            .and_then(|p| metadata.snapshot_by_id(p).cloned());
    }
    let mut ids: Vec<i64> = metadata
        .snapshots()
        .filter(|s| s.timestamp_ms() < cutoff && !retained.contains(&s.snapshot_id()))
        .map(|s| s.snapshot_id())
        .collect();
    ids.sort_unstable();
    ids
}

/// Snapshot expiry of one table, planned and carried out by [`ExpireSnapshots::execute`]:
/// `ExpireSnapshots::new(catalog, stores, ident).with_options(o).dry_run(true).execute()`.
pub type ExpireSnapshots<'a> = TableAction<'a, ExpireOptions>;

impl ExpireSnapshots<'_> {
    /// Expires the snapshots and deletes what only they reached; returns what it did.
    pub async fn execute(self) -> Result<ExpireReport, MaintenanceError> {
        expire_snapshots(
            self.catalog,
            self.stores,
            self.ident,
            &self.opts,
            self.dry_run,
            self.clock.now_ms(),
        )
        .await
    }
}

async fn expire_snapshots(
    catalog: &dyn Catalog,
    stores: &Stores,
    ident: &TableIdent,
    opts: &ExpireOptions,
    dry_run: bool,
    now: i64,
) -> Result<ExpireReport, MaintenanceError> {
    let before = catalog.load_table(ident).await?;
    let props = before.metadata().properties();
    let max_age = opts.max_snapshot_age_ms.unwrap_or_else(|| {
        props
            .get("history.expire.max-snapshot-age-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_SNAPSHOT_AGE_MS)
    });
    if max_age < opts.min_age_floor_ms {
        tracing::info!(table = %ident, requested_ms = max_age, window_ms = opts.min_age_floor_ms, "snapshot age raised to the redelivery window (idempotency keys must outlive redeliveries)");
    }
    let max_age = max_age.max(opts.min_age_floor_ms);
    let keep = opts.min_snapshots_to_keep.unwrap_or_else(|| {
        props
            .get("history.expire.min-snapshots-to-keep")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
    });
    let ids = snapshots_to_expire(before.metadata(), now, max_age, keep);
    let mut report = ExpireReport {
        dry_run,
        ..Default::default()
    };
    let after = if ids.is_empty() || dry_run {
        before.clone()
    } else {
        let tx = Transaction::new(&before);
        let action = tx
            .expire_snapshots()
            .expire_snapshot_ids(ids.clone())
            // Only the ids chosen above: no further age-based selection inside the action.
            .expire_older_than_ms(i64::MIN);
        action.apply(tx)?.commit(catalog).await?
    };
    let kept: Vec<SnapshotRef> = after
        .metadata()
        .snapshots()
        .filter(|s| !ids.contains(&s.snapshot_id()))
        .cloned()
        .collect();
    report.snapshots_expired = ids.clone();
    if !opts.keep_files && !ids.is_empty() {
        let expired: Vec<SnapshotRef> = before
            .metadata()
            .snapshots()
            .filter(|s| ids.contains(&s.snapshot_id()))
            .cloned()
            .collect();
        let reached = referenced_files(
            &before,
            expired.iter().map(|s| s.as_ref()),
            EntryScope::Live,
        )
        .await?;
        let still =
            referenced_files(&after, kept.iter().map(|s| s.as_ref()), EntryScope::Live).await?;
        let lists: HashSet<&str> = expired.iter().map(|s| s.manifest_list()).collect();
        let sizes = data_file_sizes(&before, &expired).await?;
        let mut gone: Vec<String> = reached.difference(&still).cloned().collect();
        gone.sort();
        for f in &gone {
            if lists.contains(f.as_str()) {
                report.manifest_lists_deleted += 1;
            } else if let Some(size) = sizes.get(f) {
                report.data_files_deleted += 1;
                report.data_bytes_deleted += size;
            } else {
                report.manifests_deleted += 1;
            }
        }
        report.deleted.extend(gone);
    }
    if !opts.keep_files {
        report.metadata_files_deleted =
            old_metadata_files(stores, &after, &mut report.deleted).await?;
    }
    if !dry_run {
        delete_all(&after, &report.deleted).await?;
    }
    tracing::info!(table = %ident, expired = report.snapshots_expired.len(), deleted = report.deleted.len(), dry_run, "expire_snapshots done");
    Ok(report)
}

/// Sizes of every data file the snapshots reach, by path.
async fn data_file_sizes(
    table: &Table,
    snapshots: &[SnapshotRef],
) -> Result<std::collections::HashMap<String, u64>, MaintenanceError> {
    let mut sizes = std::collections::HashMap::new();
    for s in snapshots {
        for m in super::files::load_manifests(table, s).await? {
            for e in m.entries {
                sizes.insert(e.file_path().to_string(), e.file_size_in_bytes());
            }
        }
    }
    Ok(sizes)
}

/// Metadata files whose version is below the oldest one the table's metadata log still lists.
/// Writers only ever create versions above the current one, so these are safe to delete.
async fn old_metadata_files(
    stores: &Stores,
    table: &Table,
    out: &mut Vec<String>,
) -> Result<usize, MaintenanceError> {
    let metadata = table.metadata();
    let current = table.metadata_location().unwrap_or_default();
    let oldest_kept = metadata
        .metadata_log()
        .iter()
        .map(|l| l.metadata_file.as_str())
        .chain(std::iter::once(current))
        .filter_map(metadata_version)
        .min();
    let Some(oldest_kept) = oldest_kept else {
        return Ok(0);
    };
    let dir = format!("{}/metadata", metadata.location());
    let listed = super::files::list_files(stores, &dir).await?;
    let mut n = 0;
    for f in listed {
        if metadata_version(&f.url).is_some_and(|v| v < oldest_kept) {
            out.push(f.url);
            n += 1;
        }
    }
    Ok(n)
}

/// The version number of a `<version>-<uuid>.metadata.json` file.
pub fn metadata_version(path: &str) -> Option<u64> {
    let name = path.rsplit('/').next()?;
    if !name.ends_with(".metadata.json") {
        return None;
    }
    name.split_once('-')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_versions_parse() {
        assert_eq!(
            metadata_version(
                "s3://w/t/metadata/00012-0190e4a2-1c2b-7d3e-8f40-123456789abc.metadata.json"
            ),
            Some(12)
        );
        assert_eq!(metadata_version("s3://w/t/metadata/snap-1-0-x.avro"), None);
        assert_eq!(metadata_version("s3://w/t/metadata/v3.metadata.json"), None);
    }
}
