//! Reading a table's file tree: a snapshot's manifests and their entries, and the set of files a
//! group of snapshots references (for expiry and orphan removal).

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use iceberg::spec::{ManifestEntryRef, ManifestFile, ManifestList, Snapshot};
use iceberg::table::Table;

use super::MaintenanceError;
use crate::storage::Stores;

/// The manifests a snapshot's manifest list names.
pub async fn manifests(
    table: &Table,
    snapshot: &Snapshot,
) -> Result<Vec<ManifestFile>, iceberg::Error> {
    let bytes = table
        .file_io()
        .new_input(snapshot.manifest_list())?
        .read()
        .await?;
    let list = ManifestList::parse_with_version(&bytes, table.metadata().format_version())?;
    Ok(list.consume_entries().into_iter().collect())
}

/// A manifest with its entries.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The manifest as listed.
    pub file: ManifestFile,
    /// Its entries (every status).
    pub entries: Vec<ManifestEntryRef>,
}

/// Where an entry came from, with what it inherits from its manifest filled in: what an
/// `EXISTING` copy of it in a new manifest must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryOrigin {
    /// The snapshot that added the file.
    pub added_by: i64,
    /// Its data sequence number.
    pub sequence_number: i64,
    /// Its file sequence number.
    pub file_sequence_number: Option<i64>,
}

impl LoadedManifest {
    /// `e`'s origin, inheriting the manifest's snapshot and sequence number where the entry
    /// has none (entries written with "inherit" leave them unset).
    pub fn origin(&self, e: &iceberg::spec::ManifestEntry) -> EntryOrigin {
        let sequence_number = e.sequence_number.unwrap_or(self.file.sequence_number);
        EntryOrigin {
            added_by: e.snapshot_id.unwrap_or(self.file.added_snapshot_id),
            sequence_number,
            file_sequence_number: e.file_sequence_number.or(Some(sequence_number)),
        }
    }
}

/// Every manifest of `snapshot`, loaded.
pub async fn load_manifests(
    table: &Table,
    snapshot: &Snapshot,
) -> Result<Vec<LoadedManifest>, iceberg::Error> {
    let mut out = Vec::new();
    for file in manifests(table, snapshot).await? {
        let entries = file
            .load_manifest(table.file_io())
            .await?
            .entries()
            .to_vec();
        out.push(LoadedManifest { file, entries });
    }
    Ok(out)
}

/// Which entries of a manifest count as referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryScope {
    /// Files live in the snapshot (added or existing): what readers of the snapshot open.
    Live,
    /// Every entry, deleted ones too (a conservative set for orphan detection).
    All,
}

/// The files `snapshots` reference: their manifest lists, manifests, and data/delete files
/// (per `scope`). Manifests shared by several snapshots are read once.
pub async fn referenced_files<'a>(
    table: &Table,
    snapshots: impl IntoIterator<Item = &'a Snapshot>,
    scope: EntryScope,
) -> Result<HashSet<String>, iceberg::Error> {
    let mut files = HashSet::new();
    let mut seen_manifests: HashMap<String, ()> = HashMap::new();
    for snapshot in snapshots {
        files.insert(snapshot.manifest_list().to_string());
        for m in manifests(table, snapshot).await? {
            files.insert(m.manifest_path.clone());
            if seen_manifests.insert(m.manifest_path.clone(), ()).is_some() {
                continue;
            }
            let manifest = m.load_manifest(table.file_io()).await?;
            for e in manifest.entries() {
                if scope == EntryScope::All || e.is_alive() {
                    files.insert(e.file_path().to_string());
                }
            }
        }
    }
    Ok(files)
}

/// Storage-independent form of a file URL (`s3a://b/k`, `s3://b/k` → `b/k`) for comparing what
/// metadata names with what a listing returns.
pub fn normalize(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.trim_start_matches('/').to_string()
}

/// A listed file.
#[derive(Debug, Clone)]
pub(crate) struct ListedFile {
    pub url: String,
    pub size: u64,
    pub modified_ms: i64,
}

/// Every file under `url` (recursively).
pub(crate) async fn list_files(
    stores: &Stores,
    url: &str,
) -> Result<Vec<ListedFile>, MaintenanceError> {
    let (store, prefix) = stores.for_url(url)?;
    let base = if let Some(rest) = url.strip_prefix("s3://") {
        format!("s3://{}", rest.split('/').next().unwrap_or_default())
    } else {
        "file://".to_string()
    };
    let metas: Vec<object_store::ObjectMeta> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| MaintenanceError::Storage(format!("cannot list {url}: {e}")))?;
    Ok(metas
        .into_iter()
        .map(|m| ListedFile {
            url: format!("{base}/{}", m.location),
            size: m.size,
            modified_ms: m.last_modified.timestamp_millis(),
        })
        .collect())
}

/// Deletes `paths` through the table's FileIO, 16 at a time.
pub(crate) async fn delete_all(table: &Table, paths: &[String]) -> Result<(), MaintenanceError> {
    // Never delete outside the table: a file registered from elsewhere belongs to its owner.
    let location = format!("{}/", table.metadata().location().trim_end_matches('/'));
    let (inside, outside): (Vec<&String>, Vec<&String>) = paths
        .iter()
        .partition(|p| p.starts_with(&location) && !p.contains("/../"));
    if !outside.is_empty() {
        tracing::warn!(table = %table.identifier(), files = outside.len(), example = %outside[0], "files outside the table location are never deleted");
    }
    let paths: Vec<String> = inside.into_iter().cloned().collect();
    let paths = &paths[..];
    let file_io = table.file_io().clone();
    let results: Vec<iceberg::Result<()>> = futures::stream::iter(paths.iter().cloned())
        .map(|p| {
            let io = file_io.clone();
            async move { io.delete(p).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_scheme_variants() {
        assert_eq!(normalize("s3://b/k/x.parquet"), "b/k/x.parquet");
        assert_eq!(normalize("s3a://b/k/x.parquet"), "b/k/x.parquet");
        assert_eq!(normalize("file:///tmp/w/x"), "tmp/w/x");
        assert_eq!(normalize("b/k"), "b/k");
    }
}

/// Which data files live delete files (position or equality, from any engine) may apply to.
/// Compaction never rewrites those: it does not apply deletes, so rewriting them would bring
/// deleted rows back.
#[derive(Debug, Default)]
pub struct DeleteScope {
    /// A delete file without a usable partition (unpartitioned spec, or another spec than the
    /// data's): every data file is in scope.
    pub all: bool,
    /// `(spec id, partition)` of partitions holding live delete files.
    pub partitions: std::collections::HashSet<(i32, String)>,
    /// Live delete files.
    pub files: usize,
}

impl DeleteScope {
    /// From a snapshot's loaded manifests.
    pub fn of(table: &Table, manifests: &[LoadedManifest]) -> Self {
        let mut scope = Self::default();
        for m in manifests {
            if m.file.content != iceberg::spec::ManifestContentType::Deletes {
                continue;
            }
            let unpartitioned = table
                .metadata()
                .partition_spec_by_id(m.file.partition_spec_id)
                .is_none_or(|s| s.is_unpartitioned());
            for e in m.entries.iter().filter(|e| e.is_alive()) {
                scope.files += 1;
                if unpartitioned {
                    scope.all = true;
                } else {
                    scope.partitions.insert((
                        m.file.partition_spec_id,
                        format!("{:?}", e.data_file().partition()),
                    ));
                }
            }
        }
        scope
    }

    /// Whether a data file of `spec_id` / `partition` may have deletes applying to it.
    pub fn covers(&self, spec_id: i32, partition: &iceberg::spec::Struct) -> bool {
        self.all
            || (!self.partitions.is_empty()
                && (self.partitions.iter().any(|(s, _)| *s != spec_id)
                    || self
                        .partitions
                        .contains(&(spec_id, format!("{partition:?}")))))
    }
}
