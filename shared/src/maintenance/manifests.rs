//! `rewrite_manifests`: every fast append adds a manifest, so a table fed by many small commits
//! ends up with thousands, and every query plan opens them all. This action rewrites the live
//! data-file entries of the current snapshot into few manifests, clustered by partition (entries
//! sorted by partition value, then cut at the target manifest size), so a reader pruning by
//! partition opens only the manifests whose partition ranges match — as Iceberg's
//! `RewriteManifests` does. Entries keep their status `EXISTING`, the snapshot that added them
//! and their sequence numbers; no data file changes. It commits a `replace` snapshot through the
//! catalog's compare-and-swap and retries on conflict from the table as it is then. Delete
//! manifests are kept as they are.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use iceberg::spec::{Literal, ManifestContentType, ManifestEntryRef, ManifestFile};
use iceberg::{Catalog, TableIdent};
use serde::{Deserialize, Serialize};

use super::files::{load_manifests, EntryOrigin, LoadedManifest};
use super::replace::{swap_or_retry, ManifestStager, Swapped};
use super::swap::MetadataSwap;
use super::MaintenanceError;

/// Default target size of a rewritten manifest (Iceberg's `commit.manifest.target-size-bytes`).
pub const DEFAULT_TARGET_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;

/// Options, named as Iceberg's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewriteManifestsOptions {
    /// Target manifest size (default: table property `commit.manifest.target-size-bytes`, else
    /// 8 MiB).
    #[serde(rename = "target-manifest-size-bytes")]
    pub target_manifest_size_bytes: Option<u64>,
    /// Rewrite only when the snapshot has at least this many data manifests (default 2).
    #[serde(rename = "min-manifests")]
    pub min_manifests: usize,
}

impl Default for RewriteManifestsOptions {
    fn default() -> Self {
        Self {
            target_manifest_size_bytes: None,
            min_manifests: 2,
        }
    }
}

/// What a manifest rewrite did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RewriteManifestsReport {
    /// Data manifests of the snapshot before.
    pub manifests_before: usize,
    /// Data manifests after (in a dry run: planned).
    pub manifests_after: usize,
    /// Live data-file entries carried over.
    pub entries: usize,
    /// The `replace` snapshot committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Commit attempts.
    pub attempts: u32,
}

/// The live entries of one partition spec, in partition order, each with its origin.
struct SpecEntries {
    spec_id: i32,
    entries: Vec<(ManifestEntryRef, EntryOrigin)>,
}

/// Rewrites the current snapshot's data manifests, clustered by partition.
pub async fn rewrite_manifests(
    catalog: &dyn Catalog,
    swap: &MetadataSwap,
    ident: &TableIdent,
    opts: &RewriteManifestsOptions,
    policy: &crate::commit::CommitPolicy,
    dry_run: bool,
) -> Result<RewriteManifestsReport, MaintenanceError> {
    let mut report = RewriteManifestsReport::default();
    let mut delays = policy.delays();
    loop {
        report.attempts += 1;
        let table = catalog.load_table(ident).await?;
        let Some(base) = table.metadata().current_snapshot().cloned() else {
            return Ok(report);
        };
        let manifests = load_manifests(&table, &base).await?;
        let data: Vec<&LoadedManifest> = manifests
            .iter()
            .filter(|m| m.file.content == ManifestContentType::Data)
            .collect();
        let groups = by_spec(&data);
        let per_manifest = entries_per_manifest(&groups, target_bytes(opts, &table));
        report.manifests_before = data.len();
        report.entries = groups.iter().map(|g| g.entries.len()).sum();
        report.manifests_after = groups
            .iter()
            .map(|g| g.entries.len().div_ceil(per_manifest))
            .sum();
        if data.len() < opts.min_manifests.max(1) || report.manifests_after >= data.len() {
            report.manifests_after = data.len();
            return Ok(report);
        }
        if dry_run {
            return Ok(report);
        }
        let staged = stage(&table, &base, &manifests, &groups, per_manifest).await?;
        if let Swapped::Committed(id) =
            swap_or_retry(&table, swap, staged, &mut delays, ident, report.attempts).await?
        {
            report.snapshot_id = Some(id);
            return Ok(report);
        }
    }
}

/// Writes the clustered manifests (delete manifests carried as they are) and the manifest list.
async fn stage(
    table: &iceberg::table::Table,
    base: &iceberg::spec::Snapshot,
    manifests: &[LoadedManifest],
    groups: &[SpecEntries],
    per_manifest: usize,
) -> Result<super::replace::Staged, MaintenanceError> {
    let mut stager = ManifestStager::new(table);
    let mut new_manifests: Vec<ManifestFile> = Vec::new();
    for g in groups {
        let spec = table
            .metadata()
            .partition_spec_by_id(g.spec_id)
            .ok_or_else(|| {
                MaintenanceError::Unsupported(format!("unknown partition spec {}", g.spec_id))
            })?
            .clone();
        for chunk in g.entries.chunks(per_manifest) {
            let mut writer = stager.writer(&spec)?;
            for (e, o) in chunk {
                writer.add_existing_file(
                    e.data_file().clone(),
                    o.added_by,
                    o.sequence_number,
                    o.file_sequence_number,
                )?;
            }
            new_manifests.push(writer.write_manifest_file().await?);
        }
    }
    new_manifests.extend(
        manifests
            .iter()
            .filter(|m| m.file.content != ManifestContentType::Data)
            .filter(|m| m.entries.iter().any(|e| e.is_alive()))
            .map(|m| m.file.clone()),
    );
    stager
        .finish(base, new_manifests, "rewrite-manifests")
        .await
}

fn target_bytes(opts: &RewriteManifestsOptions, table: &iceberg::table::Table) -> u64 {
    opts.target_manifest_size_bytes.unwrap_or_else(|| {
        table
            .metadata()
            .properties()
            .get("commit.manifest.target-size-bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_TARGET_MANIFEST_BYTES)
    })
}

/// Entries a manifest of `target` bytes holds: from the entries' estimated encoded sizes (not
/// from the manifests' lengths now, whose fixed header would make every rerun pack tighter).
fn entries_per_manifest(groups: &[SpecEntries], target: u64) -> usize {
    let (bytes, entries) = groups
        .iter()
        .flat_map(|g| g.entries.iter())
        .fold((0u64, 0u64), |(b, n), (e, _)| {
            (b + estimated_entry_bytes(e), n + 1)
        });
    let per_entry = bytes.checked_div(entries).unwrap_or(1).max(1);
    usize::try_from(target / per_entry)
        .unwrap_or(usize::MAX)
        .max(1)
}

/// About how many bytes a manifest entry takes in Avro: its path, its bounds, ~12 bytes per
/// statistics map entry and ~64 bytes of fixed fields.
pub fn estimated_entry_bytes(e: &iceberg::spec::ManifestEntry) -> u64 {
    let f = e.data_file();
    let bounds: usize = f
        .lower_bounds()
        .values()
        .chain(f.upper_bounds().values())
        .map(|d| d.to_bytes().map_or(16, |b| b.len()))
        .sum();
    let stats = f.column_sizes().len()
        + f.value_counts().len()
        + f.null_value_counts().len()
        + f.nan_value_counts().len()
        + f.lower_bounds().len()
        + f.upper_bounds().len();
    (f.file_path().len() + bounds + 12 * stats + 64) as u64
}

/// The live entries of each partition spec, sorted by partition value.
fn by_spec(data: &[&LoadedManifest]) -> Vec<SpecEntries> {
    let mut specs: BTreeMap<i32, Vec<(ManifestEntryRef, EntryOrigin)>> = BTreeMap::new();
    for m in data {
        for e in m.entries.iter().filter(|e| e.is_alive()) {
            specs
                .entry(m.file.partition_spec_id)
                .or_default()
                .push((e.clone(), m.origin(e)));
        }
    }
    specs
        .into_iter()
        .map(|(spec_id, mut entries)| {
            entries.sort_by(|(a, _), (b, _)| {
                partition_cmp(a.data_file().partition(), b.data_file().partition())
                    .then_with(|| a.file_path().cmp(b.file_path()))
            });
            SpecEntries { spec_id, entries }
        })
        .collect()
}

/// Partition values compared field by field (nulls first), by value where the types allow.
fn partition_cmp(a: &iceberg::spec::Struct, b: &iceberg::spec::Struct) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(Literal::Primitive(p)), Some(Literal::Primitive(q))) => {
                p.partial_cmp(q).unwrap_or(Ordering::Equal)
            }
            (Some(x), Some(y)) => format!("{x:?}").cmp(&format!("{y:?}")),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
