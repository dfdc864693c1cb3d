//! Orphan file removal: files under the table's location that no metadata references — left by
//! failed writes, lost commit races, or rewrites that never committed. Only files older than an
//! age guard (default 3 days, as Iceberg) are touched, so an ingest whose data files are written
//! but not yet committed is safe.

use std::collections::HashSet;

use iceberg::table::Table;
use iceberg::{Catalog, TableIdent};
use serde::{Deserialize, Serialize};

use super::action::TableAction;
use super::files::{list_files, normalize, referenced_files, EntryScope};
use super::MaintenanceError;
use crate::storage::Stores;

/// Default age guard: 3 days.
pub const DEFAULT_ORPHAN_AGE_MS: i64 = 3 * 24 * 3600 * 1000;

/// Orphan removal options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrphanOptions {
    /// Only files last modified longer ago than this are removed (default 3 days).
    #[serde(rename = "older-than-ms")]
    pub older_than_ms: Option<i64>,
    /// The least age an orphan must reach, whatever the request says: the redelivery window (a
    /// commit request can wait that long for its files). Set by the runner.
    #[serde(skip)]
    pub min_age_floor_ms: i64,
}

/// What an orphan removal did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrphanReport {
    /// Files listed under the table location.
    pub files_listed: usize,
    /// Unreferenced files younger than the age guard (left alone).
    pub too_young: usize,
    /// Orphans removed (or to remove).
    pub orphans: Vec<String>,
    /// Their total size.
    pub orphan_bytes: u64,
    /// Dry run: nothing was deleted.
    pub dry_run: bool,
}

/// Every file the table's metadata references: current and logged metadata files, and everything
/// any snapshot reaches (deleted manifest entries included, to stay on the safe side).
async fn referenced(table: &Table) -> Result<HashSet<String>, MaintenanceError> {
    let metadata = table.metadata();
    let mut files = referenced_files(
        table,
        metadata.snapshots().map(|s| s.as_ref()),
        EntryScope::All,
    )
    .await?;
    files.extend(table.metadata_location().map(String::from));
    files.extend(
        metadata
            .metadata_log()
            .iter()
            .map(|l| l.metadata_file.clone()),
    );
    files.extend(
        metadata
            .statistics_iter()
            .map(|s| s.statistics_path.clone()),
    );
    files.extend(
        metadata
            .partition_statistics_iter()
            .map(|s| s.statistics_path.clone()),
    );
    Ok(files.iter().map(|f| normalize(f)).collect())
}

/// Orphan removal of one table: `RemoveOrphanFiles::new(catalog, stores, ident)
/// .with_options(o).dry_run(true).execute()` finds (and unless a dry run, deletes) the files under
/// the table location no snapshot references and older than the age guard.
pub type RemoveOrphanFiles<'a> = TableAction<'a, OrphanOptions>;

impl RemoveOrphanFiles<'_> {
    /// Finds the orphans and (unless a dry run) deletes them; returns what it found and did.
    pub async fn execute(self) -> Result<OrphanReport, MaintenanceError> {
        remove_orphan_files(
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

async fn remove_orphan_files(
    catalog: &dyn Catalog,
    stores: &Stores,
    ident: &TableIdent,
    opts: &OrphanOptions,
    dry_run: bool,
    now_ms: i64,
) -> Result<OrphanReport, MaintenanceError> {
    let table = catalog.load_table(ident).await?;
    let age = opts
        .older_than_ms
        .unwrap_or(DEFAULT_ORPHAN_AGE_MS)
        .max(opts.min_age_floor_ms);
    let cutoff = now_ms - age;
    // List first, then read the metadata: a file committed in between is then referenced.
    let listed = list_files(stores, table.metadata().location()).await?;
    let table = catalog.load_table(ident).await?;
    let known = referenced(&table).await?;
    let mut report = OrphanReport {
        files_listed: listed.len(),
        dry_run,
        ..Default::default()
    };
    for f in listed {
        if known.contains(&normalize(&f.url)) {
            continue;
        }
        if f.modified_ms >= cutoff {
            report.too_young += 1;
            continue;
        }
        report.orphan_bytes += f.size;
        report.orphans.push(f.url);
    }
    report.orphans.sort();
    if !dry_run {
        super::files::delete_all(&table, &report.orphans).await?;
    }
    tracing::info!(table = %ident, orphans = report.orphans.len(), dry_run, "remove_orphan_files done");
    Ok(report)
}
