//! The `replace` snapshot: data files rewritten by compaction leave the table and their
//! replacements join it in one atomic commit, without changing the table's rows.
//!
//! Each attempt starts from the table as it is *now*, not as it was when the rewrite began, so
//! appends committed meanwhile stay: manifests that hold none of the rewritten files are kept
//! as they are, manifests that hold some are rewritten (those entries `DELETED`, the others
//! `EXISTING` with their original snapshot and sequence numbers), and one new manifest lists the
//! new files. A group whose input files are no longer all live (another compaction replaced
//! them) is dropped and its new files deleted; the other groups still commit. The pointer moves
//! with the catalog's compare-and-swap ([`MetadataSwap`]); a conflict reloads and retries.

use std::collections::{HashMap, HashSet};

use iceberg::spec::{
    DataFile, FormatVersion, ManifestContentType, ManifestFile, ManifestListWriter,
    ManifestWriterBuilder, Operation, Snapshot, SnapshotReference, SnapshotRetention,
    SnapshotSummaryCollector, Summary, MAIN_BRANCH,
};
use iceberg::table::Table;
use iceberg::{Catalog, TableIdent, TableRequirement, TableUpdate};

use super::files::load_manifests;
use super::swap::MetadataSwap;
use super::MaintenanceError;

/// One unit of rewrite: files that leave the table and the files that replace them.
#[derive(Debug, Clone)]
pub struct RewriteGroup {
    /// Paths of the data files rewritten.
    pub removed: Vec<String>,
    /// The new data files holding the same rows.
    pub added: Vec<DataFile>,
    /// Sorted runs spilled to the temporary directory (sort strategy; 0 when it fit in memory).
    pub spilled_runs: usize,
}

/// What a replace commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaceOutcome {
    /// The new snapshot, if any group committed.
    pub snapshot_id: Option<i64>,
    /// Indexes (into the groups given) of the groups committed.
    pub committed: Vec<usize>,
    /// Indexes of the groups dropped because an input file was no longer live.
    pub dropped: Vec<usize>,
    /// Attempts made.
    pub attempts: u32,
}

/// Commits `groups` as one `replace` snapshot on the table's main branch.
pub async fn commit_replace(
    catalog: &dyn Catalog,
    swap: &MetadataSwap,
    ident: &TableIdent,
    groups: &[RewriteGroup],
    policy: &crate::commit::CommitPolicy,
) -> Result<ReplaceOutcome, MaintenanceError> {
    let mut outcome = ReplaceOutcome::default();
    let mut delays = policy.delays();
    // Each exit hands back the FileIO of the table it loaded (to clean up dropped groups).
    let file_io = loop {
        outcome.attempts += 1;
        let table = catalog.load_table(ident).await?;
        let Some(base) = table.metadata().current_snapshot().cloned() else {
            outcome.dropped = (0..groups.len()).collect();
            break table.file_io().clone();
        };
        let manifests = load_manifests(&table, &base).await?;
        let live: HashMap<&str, ()> = manifests
            .iter()
            .flat_map(|m| m.entries.iter())
            .filter(|e| e.is_alive())
            .map(|e| (e.file_path(), ()))
            .collect();
        // A delete file committed since the rewrite was planned may apply to its inputs: the
        // new files do not apply it, so such a group is dropped (never resurrect deleted rows).
        let deletes = super::files::DeleteScope::of(&table, &manifests);
        let data_partition: HashMap<&str, (i32, &iceberg::spec::Struct)> = manifests
            .iter()
            .filter(|m| m.file.content == ManifestContentType::Data)
            .flat_map(|m| {
                m.entries.iter().filter(|e| e.is_alive()).map(move |e| {
                    (
                        e.file_path(),
                        (m.file.partition_spec_id, e.data_file().partition()),
                    )
                })
            })
            .collect();
        let (keep, drop): (Vec<usize>, Vec<usize>) = (0..groups.len()).partition(|&i| {
            groups[i].removed.iter().all(|p| {
                live.contains_key(p.as_str())
                    && data_partition
                        .get(p.as_str())
                        .is_some_and(|(spec, part)| !deletes.covers(*spec, part))
            })
        });
        if keep.is_empty() {
            outcome.dropped = drop;
            break table.file_io().clone();
        }
        let staged = stage(&table, &base, &manifests, groups, &keep).await?;
        if let Swapped::Committed(id) =
            swap_or_retry(&table, swap, staged, &mut delays, ident, outcome.attempts).await?
        {
            outcome.snapshot_id = Some(id);
            outcome.committed = keep;
            outcome.dropped = drop;
            break table.file_io().clone();
        }
    };
    // New files of dropped groups were never committed: they would only become orphans.
    for &i in &outcome.dropped {
        for f in &groups[i].added {
            let _ = file_io.delete(f.file_path()).await;
        }
    }
    Ok(outcome)
}

/// What [`swap_or_retry`] did.
pub(super) enum Swapped {
    /// The snapshot is the table's current one.
    Committed(i64),
    /// A concurrent commit won: reload and stage again (the pause is taken).
    Retry,
}

/// Swaps a staged snapshot in. On failure its files are removed (nothing references them);
/// a conflict pauses per the policy's next delay and asks for another attempt, until the delays
/// run out.
pub(super) async fn swap_or_retry(
    table: &Table,
    swap: &MetadataSwap,
    staged: Staged,
    delays: &mut backon::ExponentialBackoff,
    ident: &TableIdent,
    attempts: u32,
) -> Result<Swapped, MaintenanceError> {
    let Err(e) = swap
        .commit(table, staged.requirements, staged.updates)
        .await
    else {
        return Ok(Swapped::Committed(staged.snapshot_id));
    };
    for f in &staged.written {
        let _ = table.file_io().delete(f).await;
    }
    if !e.is_conflict() {
        return Err(e.into());
    }
    let Some(delay) = delays.next() else {
        return Err(MaintenanceError::Exhausted {
            table: ident.to_string(),
            attempts,
            last: e.to_string(),
        });
    };
    tracing::warn!(table = %ident, attempt = attempts, delay_ms = delay.as_millis() as u64, error = %e, "maintenance commit conflict; retrying");
    tokio::time::sleep(delay).await;
    Ok(Swapped::Retry)
}

/// A staged snapshot: its files are written, the catalog swap is still to come.
pub(super) struct Staged {
    pub(super) snapshot_id: i64,
    pub(super) requirements: Vec<TableRequirement>,
    pub(super) updates: Vec<TableUpdate>,
    /// Every file written (removed when the swap fails).
    pub(super) written: Vec<String>,
}

/// Writes the manifests and manifest list of the replace snapshot over `base`.
async fn stage(
    table: &Table,
    base: &Snapshot,
    manifests: &[super::files::LoadedManifest],
    groups: &[RewriteGroup],
    keep: &[usize],
) -> Result<Staged, MaintenanceError> {
    let metadata = table.metadata();
    if metadata.format_version() != FormatVersion::V2 {
        return Err(MaintenanceError::Unsupported(format!(
            "{}: replace commits support format v2 tables (this one is {:?})",
            table.identifier(),
            metadata.format_version()
        )));
    }
    let removed: HashSet<&str> = keep
        .iter()
        .flat_map(|&i| groups[i].removed.iter().map(String::as_str))
        .collect();
    let mut w = ManifestStager::new(table);
    let mut new_manifests: Vec<ManifestFile> = Vec::new();
    for m in manifests {
        let touched = m.file.content == ManifestContentType::Data
            && m.entries
                .iter()
                .any(|e| e.is_alive() && removed.contains(e.file_path()));
        if touched {
            new_manifests.push(w.rewrite(m, &removed).await?);
        } else if m.entries.iter().any(|e| e.is_alive()) {
            new_manifests.push(m.file.clone());
        }
        // else: a manifest of an earlier snapshot whose entries are all DELETED lists no live
        // file: drop it (as Iceberg Java does) instead of carrying it into every later snapshot.
        // The snapshot that wrote it still lists it, for readers of that snapshot's changes.
    }
    let added = keep.iter().flat_map(|&i| groups[i].added.iter());
    // The new files first, as Java's SnapshotProducer orders them.
    new_manifests.insert(0, w.added(added).await?);
    w.finish(base, new_manifests, "rewrite-data-files").await
}

/// Writes the files of one replace snapshot, remembering each path (for cleanup on failure)
/// and the summary of what changed.
pub(super) struct ManifestStager<'a> {
    table: &'a Table,
    schema: iceberg::spec::SchemaRef,
    snapshot_id: i64,
    commit_id: uuid::Uuid,
    written: Vec<String>,
    summary: SnapshotSummaryCollector,
}

impl<'a> ManifestStager<'a> {
    pub(super) fn new(table: &'a Table) -> Self {
        Self {
            table,
            schema: table.metadata().current_schema().clone(),
            snapshot_id: new_snapshot_id(table),
            commit_id: uuid::Uuid::now_v7(),
            written: Vec::new(),
            summary: SnapshotSummaryCollector::default(),
        }
    }

    fn next_path(&mut self, name: String) -> String {
        let p = format!("{}/metadata/{name}", self.table.metadata().location());
        self.written.push(p.clone());
        p
    }

    pub(super) fn writer(
        &mut self,
        spec: &iceberg::spec::PartitionSpecRef,
    ) -> Result<iceberg::spec::ManifestWriter, MaintenanceError> {
        let name = format!("{}-m{}.avro", self.commit_id, self.written.len() + 1);
        let out = self.table.file_io().new_output(self.next_path(name))?;
        Ok(ManifestWriterBuilder::new(
            out,
            Some(self.snapshot_id),
            self.schema.clone(),
            spec.as_ref().clone(),
        )
        .build_v2_data())
    }

    /// `m` again, with the entries of `removed` files marked DELETED and the rest EXISTING.
    async fn rewrite(
        &mut self,
        m: &super::files::LoadedManifest,
        removed: &HashSet<&str>,
    ) -> Result<ManifestFile, MaintenanceError> {
        let spec = self
            .table
            .metadata()
            .partition_spec_by_id(m.file.partition_spec_id)
            .ok_or_else(|| {
                MaintenanceError::Unsupported(format!(
                    "manifest {} names unknown partition spec {}",
                    m.file.manifest_path, m.file.partition_spec_id
                ))
            })?
            .clone();
        let mut writer = self.writer(&spec)?;
        for e in m.entries.iter().filter(|e| e.is_alive()) {
            let o = m.origin(e);
            let df = e.data_file().clone();
            if removed.contains(e.file_path()) {
                self.summary
                    .remove_file(&df, self.schema.clone(), spec.clone());
                writer.add_delete_file(df, o.sequence_number, o.file_sequence_number)?;
            } else {
                writer.add_existing_file(
                    df,
                    o.added_by,
                    o.sequence_number,
                    o.file_sequence_number,
                )?;
            }
        }
        Ok(writer.write_manifest_file().await?)
    }

    /// One manifest of the compacted files, in the default partition spec.
    async fn added(
        &mut self,
        files: impl Iterator<Item = &iceberg::spec::DataFile>,
    ) -> Result<ManifestFile, MaintenanceError> {
        let spec = self.table.metadata().default_partition_spec().clone();
        let mut writer = self.writer(&spec)?;
        for df in files {
            self.summary.add_file(df, self.schema.clone(), spec.clone());
            // A negative sequence number means "inherit the snapshot's".
            writer.add_file(df.clone(), -1)?;
        }
        Ok(writer.write_manifest_file().await?)
    }

    /// Writes the manifest list and returns the `replace` snapshot (`floe.maintenance` =
    /// `action`) with its commit requirements.
    pub(super) async fn finish(
        mut self,
        base: &Snapshot,
        manifests: Vec<ManifestFile>,
        action: &str,
    ) -> Result<Staged, MaintenanceError> {
        let metadata = self.table.metadata();
        let (snapshot_id, sequence_number) = (self.snapshot_id, metadata.next_sequence_number());
        let list_path = self.next_path(format!("snap-{snapshot_id}-0-{}.avro", self.commit_id));
        let mut list = ManifestListWriter::v2(
            self.table
                .file_io()
                .new_output(&list_path)?
                .writer()
                .await?,
            snapshot_id,
            Some(base.snapshot_id()),
            sequence_number,
        );
        list.add_manifests(manifests.into_iter())?;
        list.close().await?;
        let snapshot = Snapshot::builder()
            .with_manifest_list(list_path)
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(Some(base.snapshot_id()))
            .with_sequence_number(sequence_number)
            .with_summary(replace_summary(
                self.summary.build(),
                base.summary(),
                action,
            ))
            .with_schema_id(metadata.current_schema_id())
            .with_timestamp_ms(chrono::Utc::now().timestamp_millis())
            .build();
        Ok(Staged {
            snapshot_id,
            requirements: vec![
                TableRequirement::UuidMatch {
                    uuid: metadata.uuid(),
                },
                TableRequirement::RefSnapshotIdMatch {
                    r#ref: MAIN_BRANCH.to_string(),
                    snapshot_id: Some(base.snapshot_id()),
                },
            ],
            updates: vec![
                TableUpdate::AddSnapshot { snapshot },
                TableUpdate::SetSnapshotRef {
                    ref_name: MAIN_BRANCH.to_string(),
                    reference: SnapshotReference::new(
                        snapshot_id,
                        SnapshotRetention::branch(None, None, None),
                    ),
                },
            ],
            written: self.written,
        })
    }
}

/// The `replace` summary: what changed, plus table totals carried from the parent.
fn replace_summary(changes: HashMap<String, String>, parent: &Summary, action: &str) -> Summary {
    let mut props = changes;
    let get = |m: &HashMap<String, String>, k: &str| -> i64 {
        m.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    for (total, added, removed) in [
        ("total-data-files", "added-data-files", "deleted-data-files"),
        (
            "total-delete-files",
            "added-delete-files",
            "removed-delete-files",
        ),
        ("total-records", "added-records", "deleted-records"),
        ("total-files-size", "added-files-size", "removed-files-size"),
        (
            "total-position-deletes",
            "added-position-deletes",
            "removed-position-deletes",
        ),
        (
            "total-equality-deletes",
            "added-equality-deletes",
            "removed-equality-deletes",
        ),
    ] {
        let value =
            get(&parent.additional_properties, total) + get(&props, added) - get(&props, removed);
        props.insert(total.to_string(), value.max(0).to_string());
    }
    props.insert("floe.maintenance".into(), action.into());
    Summary {
        operation: Operation::Replace,
        additional_properties: props,
    }
}

/// A positive snapshot id not used by the table yet (as iceberg-rust generates them).
fn new_snapshot_id(table: &Table) -> i64 {
    loop {
        let (a, b) = uuid::Uuid::new_v4().as_u64_pair();
        let id = ((a ^ b) as i64).unsigned_abs() as i64 & i64::MAX;
        if id != 0 && table.metadata().snapshot_by_id(id).is_none() {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_summary_keeps_totals() {
        let parent = Summary {
            operation: Operation::Append,
            additional_properties: HashMap::from([
                ("total-data-files".to_string(), "10".to_string()),
                ("total-records".to_string(), "1000".to_string()),
                ("total-files-size".to_string(), "5000".to_string()),
            ]),
        };
        let changes = HashMap::from([
            ("added-data-files".to_string(), "1".to_string()),
            ("deleted-data-files".to_string(), "8".to_string()),
            ("added-records".to_string(), "800".to_string()),
            ("deleted-records".to_string(), "800".to_string()),
            ("added-files-size".to_string(), "3000".to_string()),
            ("removed-files-size".to_string(), "4000".to_string()),
        ]);
        let s = replace_summary(changes, &parent, "rewrite-data-files");
        assert_eq!(s.operation, Operation::Replace);
        let p = &s.additional_properties;
        assert_eq!(p["total-data-files"], "3");
        assert_eq!(p["total-records"], "1000");
        assert_eq!(p["total-files-size"], "4000");
        assert_eq!(p["total-delete-files"], "0");
    }
}
