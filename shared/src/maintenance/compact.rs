//! Bin-pack compaction (Iceberg's `RewriteDataFiles` with the bin-pack strategy): small files of a
//! partition are grouped and each group is rewritten into files of the target size, streamed
//! through Arrow batch by batch, then swapped in with a `replace` commit
//! ([`super::replace::commit_replace`]).
//!
//! Options carry Iceberg's names and defaults, except `max-file-group-size-bytes` (Iceberg:
//! 100 GB), which is 1 GiB here: a group is the unit a Lambda invocation finishes or skips, so it
//! has to fit in one invocation's time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use iceberg::scan::FileScanTask;
use iceberg::spec::{DataFileFormat, ManifestEntryRef, Struct};
use iceberg::table::Table;
use iceberg::{Catalog, TableIdent};
use serde::{Deserialize, Serialize};

use super::files::load_manifests;
use super::replace::{commit_replace, RewriteGroup};
use super::sort::{ExternalSorter, SortKey};
use super::swap::MetadataSwap;
use super::MaintenanceError;
use crate::commit::CommitPolicy;
use crate::write::DataFileSink;

/// Iceberg's default `write.target-file-size-bytes`.
pub const DEFAULT_TARGET_FILE_SIZE: u64 = 512 * 1024 * 1024;

/// Bin-pack options, named as in Iceberg's `RewriteDataFiles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewriteOptions {
    /// Output file size; default: the table's `write.target-file-size-bytes`, else 512 MB.
    #[serde(rename = "target-file-size-bytes")]
    pub target_file_size_bytes: Option<u64>,
    /// Files smaller than this are rewritten (default 75% of the target).
    #[serde(rename = "min-file-size-bytes")]
    pub min_file_size_bytes: Option<u64>,
    /// Files larger than this are rewritten (split; default 180% of the target).
    #[serde(rename = "max-file-size-bytes")]
    pub max_file_size_bytes: Option<u64>,
    /// A group with at least this many files is rewritten (default 5).
    #[serde(rename = "min-input-files")]
    pub min_input_files: usize,
    /// Largest group (default 1 GiB): the unit one invocation rewrites and commits.
    #[serde(rename = "max-file-group-size-bytes")]
    pub max_file_group_size_bytes: u64,
    /// Commit finished groups as the run goes instead of once at the end (default true).
    #[serde(rename = "partial-progress.enabled")]
    pub partial_progress_enabled: bool,
    /// With partial progress, at most this many commits per run (default 10).
    #[serde(rename = "partial-progress.max-commits")]
    pub partial_progress_max_commits: usize,
    /// Rewrite every file regardless of size (default false).
    #[serde(rename = "rewrite-all")]
    pub rewrite_all: bool,
    /// `binpack` (default: rows keep their input order) or `sort` (each group's rows sorted by
    /// `sort-order`, else the table's sort order; see [`super::sort`]).
    pub strategy: Strategy,
    /// With `strategy = "sort"`: `col [ASC|DESC] [NULLS FIRST|LAST], ...` or `zorder(a, b)`.
    #[serde(rename = "sort-order", skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    /// With `strategy = "sort"`: input bytes sorted in memory before a run is spilled to the
    /// temporary directory (default 64 MiB).
    #[serde(rename = "sort.memory-bytes", skip_serializing_if = "Option::is_none")]
    pub sort_memory_bytes: Option<usize>,
}

/// How a group's rows are laid out in its new files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Rows in input order.
    #[default]
    Binpack,
    /// Rows sorted (an external merge sort bounded in memory).
    Sort,
}

/// The order a rewrite writes rows in: `None` for bin-packing.
#[derive(Debug, Clone)]
pub struct RewriteOrder {
    /// The sort key.
    pub key: SortKey,
    /// Bytes sorted in memory before spilling.
    pub memory_bytes: usize,
}

impl RewriteOrder {
    /// The order `opts` asks for on `table`: none for `binpack`; for `sort`, `sort-order` or the
    /// table's sort order (an error when neither is there).
    pub fn of(opts: &RewriteOptions, table: &Table) -> Result<Option<Self>, MaintenanceError> {
        if opts.strategy == Strategy::Binpack {
            return Ok(None);
        }
        let key = match &opts.sort_order {
            Some(text) => SortKey::parse(text).map_err(MaintenanceError::Unsupported)?,
            None => SortKey::of_table(table)
                .map_err(MaintenanceError::Unsupported)?
                .ok_or_else(|| {
                    MaintenanceError::Unsupported(
                        "strategy sort: the table has no sort order; name one in `sort-order`"
                            .into(),
                    )
                })?,
        };
        Ok(Some(Self {
            key,
            memory_bytes: opts
                .sort_memory_bytes
                .unwrap_or(super::sort::DEFAULT_SORT_MEMORY_BYTES),
        }))
    }
}

impl Default for RewriteOptions {
    fn default() -> Self {
        Self {
            target_file_size_bytes: None,
            min_file_size_bytes: None,
            max_file_size_bytes: None,
            min_input_files: 5,
            max_file_group_size_bytes: 1024 * 1024 * 1024,
            partial_progress_enabled: true,
            partial_progress_max_commits: 10,
            rewrite_all: false,
            strategy: Strategy::Binpack,
            sort_order: None,
            sort_memory_bytes: None,
        }
    }
}

/// Size thresholds resolved against a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Target output size.
    pub target: u64,
    /// Rewrite below.
    pub min: u64,
    /// Rewrite above.
    pub max: u64,
}

impl RewriteOptions {
    /// The thresholds for `table`.
    pub fn thresholds(&self, table: &Table) -> Thresholds {
        let target = self.target_file_size_bytes.unwrap_or_else(|| {
            table
                .metadata()
                .properties()
                .get("write.target-file-size-bytes")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_TARGET_FILE_SIZE)
        });
        Thresholds {
            target,
            min: self.min_file_size_bytes.unwrap_or(target / 4 * 3),
            max: self
                .max_file_size_bytes
                .unwrap_or(target.saturating_mul(9) / 5),
        }
    }
}

/// A file group: data files of one partition to rewrite together.
#[derive(Debug, Clone)]
pub struct FileGroup {
    /// The partition (of the default spec); empty for an unpartitioned table.
    pub partition: Struct,
    /// The live manifest entries of the files.
    pub files: Vec<ManifestEntryRef>,
}

impl FileGroup {
    /// Total input bytes.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|e| e.file_size_in_bytes()).sum()
    }
    /// Total rows.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|e| e.record_count()).sum()
    }
    /// Paths of the input files.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|e| e.file_path().to_string())
            .collect()
    }
}

/// The groups to rewrite, planned from one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Snapshot planned from.
    pub snapshot_id: Option<i64>,
    /// Thresholds used.
    pub target_file_size_bytes: u64,
    /// Groups in a stable order (by partition).
    pub groups: Vec<FileGroup>,
    /// Live files written with an older partition spec (left alone).
    pub other_spec_files: usize,
    /// Live files left alone because delete files may apply to them (compaction does not apply
    /// deletes; rewriting them would resurrect deleted rows).
    pub files_with_deletes: usize,
}

/// Plans bin-pack groups over the table's current snapshot.
pub async fn plan(table: &Table, opts: &RewriteOptions) -> Result<Plan, MaintenanceError> {
    let t = opts.thresholds(table);
    let metadata = table.metadata();
    let Some(snapshot) = metadata.current_snapshot() else {
        return Ok(Plan::default());
    };
    let spec_id = metadata.default_partition_spec_id();
    let mut by_partition: BTreeMap<String, (Struct, Vec<ManifestEntryRef>)> = BTreeMap::new();
    let mut other_spec_files = 0;
    let mut files_with_deletes = 0;
    let manifests = load_manifests(table, snapshot).await?;
    let deletes = super::files::DeleteScope::of(table, &manifests);
    for m in manifests {
        if m.file.content != iceberg::spec::ManifestContentType::Data {
            continue;
        }
        for e in m.entries.into_iter().filter(|e| e.is_alive()) {
            if m.file.partition_spec_id != spec_id {
                other_spec_files += 1;
                continue;
            }
            if deletes.covers(spec_id, e.data_file().partition()) {
                files_with_deletes += 1;
                continue;
            }
            let size = e.file_size_in_bytes();
            if !(opts.rewrite_all || size < t.min || size > t.max) {
                continue;
            }
            let p = e.data_file().partition().clone();
            by_partition
                .entry(format!("{p:?}"))
                .or_insert_with(|| (p, Vec::new()))
                .1
                .push(e);
        }
    }
    let mut groups = Vec::new();
    for (_, (partition, files)) in by_partition {
        for files in bin_pack(files, opts.max_file_group_size_bytes) {
            let n = files.len();
            let bytes: u64 = files.iter().map(|e| e.file_size_in_bytes()).sum();
            let too_large = files.iter().any(|e| e.file_size_in_bytes() > t.max);
            let worth_it = (n > 1 && (n >= opts.min_input_files || bytes > t.target))
                || too_large
                || (opts.rewrite_all && n > 0);
            if worth_it {
                groups.push(FileGroup {
                    partition: partition.clone(),
                    files,
                });
            }
        }
    }
    Ok(Plan {
        snapshot_id: Some(snapshot.snapshot_id()),
        target_file_size_bytes: t.target,
        groups,
        other_spec_files,
        files_with_deletes,
    })
}

/// First-fit decreasing into bins of at most `max_bytes` (a file larger than that gets its own).
fn bin_pack(mut files: Vec<ManifestEntryRef>, max_bytes: u64) -> Vec<Vec<ManifestEntryRef>> {
    files.sort_by(|a, b| {
        b.file_size_in_bytes()
            .cmp(&a.file_size_in_bytes())
            .then_with(|| a.file_path().cmp(b.file_path()))
    });
    let mut bins: Vec<(u64, Vec<ManifestEntryRef>)> = Vec::new();
    for f in files {
        let size = f.file_size_in_bytes();
        match bins.iter_mut().find(|(used, _)| used + size <= max_bytes) {
            Some((used, bin)) => {
                *used += size;
                bin.push(f);
            }
            None => bins.push((size, vec![f])),
        }
    }
    bins.into_iter().map(|(_, b)| b).collect()
}

/// Input bytes a rewrite may have in flight across the files it reads at once.
pub const READ_AHEAD_BYTES: u64 = 16 * 1024 * 1024;

/// Files read at once: small files are dominated by request latency (footer, column chunks), so
/// several are fetched concurrently, as many as fit [`READ_AHEAD_BYTES`] (1 to 8).
fn read_ahead_files(sizes: impl Iterator<Item = u64>) -> usize {
    let largest = sizes.max().unwrap_or(1).max(1);
    (READ_AHEAD_BYTES / largest).clamp(1, 8) as usize
}

/// Rewrites one group: reads its files (batch by batch through iceberg-rust's Arrow reader,
/// which maps columns by field id so files from older schemas read as the current schema;
/// small files several at a time, see [`READ_AHEAD_BYTES`]) and writes the rows into new files
/// of the group's partition. Without an `order` rows keep no order across input files; with
/// one they are written sorted by it.
pub async fn rewrite_group(
    table: &Table,
    group: &FileGroup,
    order: Option<&RewriteOrder>,
) -> Result<RewriteGroup, MaintenanceError> {
    let metadata = table.metadata();
    let schema = metadata.current_schema().clone();
    let spec = metadata.default_partition_spec().clone();
    let field_ids: Vec<i32> = schema.as_struct().fields().iter().map(|f| f.id).collect();
    // Files registered in place carry no field ids: the reader finds their columns by name.
    let name_mapping = name_mapping(metadata)?;
    let tasks: Vec<iceberg::Result<FileScanTask>> = group
        .files
        .iter()
        .map(|e| {
            Ok(FileScanTask {
                file_size_in_bytes: e.file_size_in_bytes(),
                start: 0,
                length: e.file_size_in_bytes(),
                record_count: Some(e.record_count()),
                data_file_path: e.file_path().to_string(),
                data_file_format: DataFileFormat::Parquet,
                schema: schema.clone(),
                project_field_ids: field_ids.clone(),
                predicate: None,
                deletes: Vec::new(),
                // No partition: with one, iceberg-rust returns identity columns as run-end
                // encoded constants the Parquet writer refuses. The values are in the files.
                partition: None,
                partition_spec: None,
                name_mapping: name_mapping.clone(),
                case_sensitive: true,
            })
        })
        .collect();
    let mut batches = table
        .reader_builder()
        .with_data_file_concurrency_limit(read_ahead_files(
            group.files.iter().map(|e| e.file_size_in_bytes()),
        ))
        .build()
        .read(Box::pin(futures::stream::iter(tasks)))?
        .stream();
    let partition = (!spec.is_unpartitioned()).then(|| group.partition.clone());
    let mut sink = DataFileSink::for_partition(table, partition).await?;
    let mut spilled_runs = 0;
    match order {
        None => {
            while let Some(batch) = batches.next().await {
                sink.write(batch?).await?;
            }
        }
        Some(order) => {
            let arrow_schema = Arc::new(iceberg::arrow::schema_to_arrow_schema(&schema)?);
            let mut sorter =
                ExternalSorter::new(order.key.clone(), arrow_schema, order.memory_bytes)?;
            while let Some(batch) = batches.next().await {
                sorter.push(batch?)?;
            }
            spilled_runs = sorter.runs();
            sorter.finish(&mut sink).await?;
        }
    }
    let rows_in = group.rows();
    if sink.rows() != rows_in {
        return Err(MaintenanceError::RowCountMismatch {
            table: table.identifier().to_string(),
            expected: rows_in,
            read: sink.rows(),
        });
    }
    Ok(RewriteGroup {
        removed: group.paths(),
        added: sink.close().await?,
        spilled_runs,
    })
}

/// The table's name mapping (`schema.name-mapping.default`), parsed.
fn name_mapping(
    metadata: &iceberg::spec::TableMetadata,
) -> Result<Option<Arc<iceberg::spec::NameMapping>>, MaintenanceError> {
    let key = iceberg::spec::DEFAULT_SCHEMA_NAME_MAPPING;
    metadata
        .properties()
        .get(key)
        .map(|raw| serde_json::from_str(raw).map(Arc::new))
        .transpose()
        .map_err(|e| {
            MaintenanceError::Iceberg(iceberg::Error::new(
                iceberg::ErrorKind::DataInvalid,
                format!("table property {key}: {e}"),
            ))
        })
}

/// What a compaction run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RewriteReport {
    /// Groups planned.
    pub groups_planned: usize,
    /// Groups rewritten and committed.
    pub groups_committed: usize,
    /// Groups rewritten but dropped at commit (their inputs changed meanwhile).
    pub groups_dropped: usize,
    /// Groups left for a later run (time budget).
    pub groups_remaining: usize,
    /// Live files not rewritten because delete files may apply to them.
    pub files_skipped_for_deletes: usize,
    /// Input files replaced.
    pub files_in: usize,
    /// Input bytes replaced.
    pub bytes_in: u64,
    /// New files.
    pub files_out: usize,
    /// New bytes.
    pub bytes_out: u64,
    /// Rows rewritten.
    pub rows: u64,
    /// Replace snapshots committed.
    pub snapshots: Vec<i64>,
    /// Sorted runs spilled to the temporary directory (sort strategy).
    pub sort_runs_spilled: usize,
    /// Whether the run stopped early to stay inside its time budget.
    pub stopped_by_budget: bool,
    /// Wall time of the run in milliseconds.
    pub elapsed_ms: u64,
}

impl RewriteReport {
    fn add_committed(&mut self, g: &RewriteGroup, rows: u64, bytes_in: u64) {
        self.groups_committed += 1;
        self.files_in += g.removed.len();
        self.bytes_in += bytes_in;
        self.files_out += g.added.len();
        self.sort_runs_spilled += g.spilled_runs;
        self.bytes_out += g.added.iter().map(|f| f.file_size_in_bytes()).sum::<u64>();
        self.rows += rows;
    }
}

/// Bin-pack compaction of one table:
/// `RewriteDataFiles::new(catalog, swap, ident).with_options(o).with_deadline(d).execute()`.
/// It plans, rewrites groups in order, and commits them (every ⌈groups / max-commits⌉ groups
/// with partial progress, else once). It starts a group only while the estimated time to rewrite
/// it (from the throughput so far) fits before the deadline; the first group always runs, so
/// every run makes progress. Work done before the budget runs out is committed; the next run
/// plans the rest.
#[derive(Debug)]
pub struct RewriteDataFiles<'a> {
    catalog: &'a dyn Catalog,
    swap: &'a MetadataSwap,
    ident: &'a TableIdent,
    opts: RewriteOptions,
    deadline: Option<Instant>,
    policy: CommitPolicy,
}

impl<'a> RewriteDataFiles<'a> {
    /// Compaction of `ident` with default options, no deadline, the default commit policy.
    pub fn new(catalog: &'a dyn Catalog, swap: &'a MetadataSwap, ident: &'a TableIdent) -> Self {
        Self {
            catalog,
            swap,
            ident,
            opts: RewriteOptions::default(),
            deadline: None,
            policy: CommitPolicy::new(10),
        }
    }

    /// The request's options.
    pub fn with_options(mut self, opts: RewriteOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Start no group that would not finish before `deadline` (the first always runs).
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// How replace commits retry a conflict.
    pub fn with_policy(mut self, policy: CommitPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Plans, rewrites and commits; returns what it did.
    pub async fn execute(self) -> Result<RewriteReport, MaintenanceError> {
        rewrite_data_files(
            self.catalog,
            self.swap,
            self.ident,
            &self.opts,
            self.deadline,
            &self.policy,
        )
        .await
    }
}

async fn rewrite_data_files(
    catalog: &dyn Catalog,
    swap: &MetadataSwap,
    ident: &TableIdent,
    opts: &RewriteOptions,
    deadline: Option<Instant>,
    policy: &CommitPolicy,
) -> Result<RewriteReport, MaintenanceError> {
    let started = Instant::now();
    let table = catalog.load_table(ident).await?;
    let order = RewriteOrder::of(opts, &table)?;
    let plan = plan(&table, opts).await?;
    let mut report = RewriteReport {
        groups_planned: plan.groups.len(),
        files_skipped_for_deletes: plan.files_with_deletes,
        ..Default::default()
    };
    if plan.files_with_deletes > 0 {
        tracing::warn!(table = %ident, files = plan.files_with_deletes, "data files with delete files are not rewritten (compaction does not apply deletes)");
    }
    let per_commit = if opts.partial_progress_enabled {
        plan.groups
            .len()
            .div_ceil(opts.partial_progress_max_commits.max(1))
            .max(1)
    } else {
        usize::MAX
    };
    let mut pending = PendingGroups {
        catalog,
        swap,
        ident,
        policy: *policy,
        groups: Vec::new(),
    };
    let mut rewritten_bytes = 0u64;
    let mut rewrite_time = 0f64;
    for (i, group) in plan.groups.iter().enumerate() {
        if let (Some(deadline), true) = (deadline, rewritten_bytes > 0) {
            let rate = rewritten_bytes as f64 / rewrite_time.max(1e-3);
            let estimate = std::time::Duration::from_secs_f64(group.bytes() as f64 / rate * 1.2);
            if Instant::now() + estimate > deadline {
                report.stopped_by_budget = true;
                report.groups_remaining = plan.groups.len() - i;
                break;
            }
        }
        let t0 = Instant::now();
        let rewritten = match rewrite_group(&table, group, order.as_ref()).await {
            Ok(r) => r,
            Err(e) => {
                // Keep what is finished, then report the failure.
                pending.commit(&mut report).await?;
                return Err(e);
            }
        };
        rewrite_time += t0.elapsed().as_secs_f64();
        rewritten_bytes += group.bytes();
        pending
            .groups
            .push((rewritten, group.rows(), group.bytes()));
        if pending.groups.len() >= per_commit {
            pending.commit(&mut report).await?;
        }
    }
    pending.commit(&mut report).await?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(table = %ident, ?report, "rewrite_data_files done");
    Ok(report)
}

/// Rewritten groups waiting for their replace commit, and where to commit them.
struct PendingGroups<'a> {
    catalog: &'a dyn Catalog,
    swap: &'a MetadataSwap,
    ident: &'a TableIdent,
    policy: CommitPolicy,
    /// Each rewritten group with its input rows and bytes.
    groups: Vec<(RewriteGroup, u64, u64)>,
}

impl PendingGroups<'_> {
    /// Commits the pending groups as one replace snapshot and adds the outcome to `report`.
    async fn commit(&mut self, report: &mut RewriteReport) -> Result<(), MaintenanceError> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let groups: Vec<RewriteGroup> = self.groups.iter().map(|(g, _, _)| g.clone()).collect();
        let outcome =
            commit_replace(self.catalog, self.swap, self.ident, &groups, &self.policy).await?;
        for &i in &outcome.committed {
            let (g, rows, bytes) = &self.groups[i];
            report.add_committed(g, *rows, *bytes);
        }
        report.groups_dropped += outcome.dropped.len();
        report.snapshots.extend(outcome.snapshot_id);
        self.groups.clear();
        Ok(())
    }
}

/// One group as a queue message, for spreading a large table's compaction over parallel
/// invocations: each consumer rewrites its group and commits its own replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTask {
    /// `namespace.table`.
    pub table: String,
    /// Snapshot the group was planned from (informational: the commit re-validates).
    pub planned_from: Option<i64>,
    /// Input files.
    pub files: Vec<String>,
    /// The rewrite's options (its strategy and sort order matter to a group).
    #[serde(default)]
    pub options: RewriteOptions,
}

/// The plan's groups as tasks.
pub fn group_tasks(ident: &TableIdent, plan: &Plan, opts: &RewriteOptions) -> Vec<GroupTask> {
    plan.groups
        .iter()
        .map(|g| GroupTask {
            table: super::table_name(ident),
            planned_from: plan.snapshot_id,
            files: g.paths(),
            options: opts.clone(),
        })
        .collect()
}

/// Rewrites and commits one task's group. Files no longer live (another run compacted them
/// first) make the task a no-op, reported as dropped.
pub async fn run_group_task(
    catalog: &dyn Catalog,
    swap: &MetadataSwap,
    task: &GroupTask,
    policy: &CommitPolicy,
) -> Result<RewriteReport, MaintenanceError> {
    let started = Instant::now();
    let ident = super::parse_table(&task.table)?;
    let table = catalog.load_table(&ident).await?;
    let mut report = RewriteReport {
        groups_planned: 1,
        ..Default::default()
    };
    let Some(snapshot) = table.metadata().current_snapshot() else {
        report.groups_dropped = 1;
        return Ok(report);
    };
    let spec_id = table.metadata().default_partition_spec_id();
    let mut found: Vec<ManifestEntryRef> = Vec::new();
    for m in load_manifests(&table, snapshot).await? {
        for e in m.entries {
            if e.is_alive()
                && m.file.partition_spec_id == spec_id
                && task.files.iter().any(|f| f == e.file_path())
            {
                found.push(e);
            }
        }
    }
    let partition = found.first().map(|e| e.data_file().partition().clone());
    let same_partition = found
        .iter()
        .all(|e| Some(e.data_file().partition()) == partition.as_ref());
    if found.len() != task.files.len() || !same_partition {
        report.groups_dropped = 1;
        return Ok(report);
    }
    let group = FileGroup {
        partition: partition.unwrap_or_else(Struct::empty),
        files: found,
    };
    let order = RewriteOrder::of(&task.options, &table)?;
    let rewritten = rewrite_group(&table, &group, order.as_ref()).await?;
    let mut pending = PendingGroups {
        catalog,
        swap,
        ident: &ident,
        policy: *policy,
        groups: vec![(rewritten, group.rows(), group.bytes())],
    };
    pending.commit(&mut report).await?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_fits_the_byte_budget() {
        const MB: u64 = 1024 * 1024;
        assert_eq!(read_ahead_files([300 * 1024, 290 * 1024].into_iter()), 8);
        assert_eq!(read_ahead_files([MB, 4 * MB].into_iter()), 4);
        assert_eq!(read_ahead_files([100 * MB].into_iter()), 1);
        assert_eq!(read_ahead_files(std::iter::empty()), 8);
    }

    #[test]
    fn defaults_follow_iceberg() {
        let o: RewriteOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o.min_input_files, 5);
        assert!(o.partial_progress_enabled);
        assert_eq!(o.partial_progress_max_commits, 10);
        let o: RewriteOptions =
            serde_json::from_str(r#"{"min-input-files": 2, "target-file-size-bytes": 1000}"#)
                .unwrap();
        assert_eq!(o.min_input_files, 2);
        assert_eq!(o.target_file_size_bytes, Some(1000));
        assert!(serde_json::from_str::<RewriteOptions>(r#"{"min-inputs": 2}"#).is_err());
    }
}
