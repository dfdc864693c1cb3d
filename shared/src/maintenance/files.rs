//! Reading a table's file tree: a snapshot's manifests and their entries, and the set of files a
//! group of snapshots references (for expiry and orphan removal).

use std::collections::{HashMap, HashSet};

use iceberg::spec::{ManifestEntryRef, ManifestFile, ManifestList, Snapshot};
use iceberg::table::Table;

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
