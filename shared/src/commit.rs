//! Commit: an idempotent fast-append of data files, retried on conflict.
//!
//! Each snapshot records its source object in the summary (`floe.source.*`). The duplicate check
//! runs inside every commit attempt: iceberg-rust's `Transaction::commit` reloads the table
//! through the catalog before each try, and [`GuardedCatalog`] checks the freshly loaded
//! metadata there. A redelivered event, or a retry after a lost response, therefore finds its own
//! earlier snapshot and stops instead of appending the rows twice; the catalog's compare-and-swap
//! on the metadata location closes the window between check and swap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use iceberg::spec::DataFile;
use iceberg::table::Table;
use iceberg::transaction::{ApplyTransactionAction, Transaction};
use iceberg::{
    Catalog, ErrorKind, Namespace, NamespaceIdent, TableCommit, TableCreation, TableIdent,
};

use crate::source::ObjectRef;

/// How every commit path retries a conflict — appends, batched commits, schema evolution and
/// compaction's replace — in one place: at most `max_attempts` attempts (`FLOE_COMMIT_MAX_ATTEMPTS`,
/// default 10), each on a freshly loaded table, with exponential backoff between them from
/// `min_delay` (100 ms), doubling, capped at `max_delay` (5 s), plus up to the same again as
/// jitter (backon's `ExponentialBuilder`). Inside one attempt iceberg-rust's own
/// `Transaction::commit` retry re-applies an append to refreshed metadata (table property
/// `commit.retry.num-retries`, which Floe sets on the tables it creates); the duplicate check
/// runs on every load, at both levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitPolicy {
    /// Attempts in all (at least 1).
    pub max_attempts: u32,
    /// The first pause.
    pub min_delay: Duration,
    /// The longest pause before jitter.
    pub max_delay: Duration,
}

impl CommitPolicy {
    /// `max_attempts` attempts with the default pauses (100 ms doubling to 5 s).
    pub const fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }

    /// The policy the configuration asks for (`FLOE_COMMIT_MAX_ATTEMPTS`).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self::new(config.commit_max_attempts)
    }

    /// The pauses between attempts, one per retry: `max_attempts - 1` of them.
    pub fn delays(&self) -> backon::ExponentialBackoff {
        use backon::BackoffBuilder;
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }
}

/// Snapshot summary key holding the idempotency key of the source object.
pub const SUMMARY_SOURCE_KEY: &str = "floe.source.idempotency-key";

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A new snapshot was added.
    Committed {
        /// The new snapshot.
        snapshot_id: i64,
    },
    /// The source object was already committed by an earlier snapshot; nothing was added.
    Duplicate {
        /// The earlier snapshot.
        snapshot_id: i64,
    },
}

/// Commit failures.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Conflicts persisted through every attempt.
    #[error("commit to {table} still conflicting after {attempts} attempts: {source}")]
    Exhausted {
        /// Table.
        table: String,
        /// Attempts made.
        attempts: u32,
        /// Last error.
        source: iceberg::Error,
    },
    /// A non-retryable catalog or storage error.
    #[error("commit to {table} failed: {source}")]
    Failed {
        /// Table.
        table: String,
        /// Error.
        source: iceberg::Error,
    },
}

impl CommitError {
    /// Whether a later retry could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Exhausted { .. } => true,
            Self::Failed { source, .. } => {
                source.retryable() || source.kind() == ErrorKind::Unexpected
            }
        }
    }
}

/// Snapshot summary key listing the idempotency keys of every source in a batched commit
/// (newline-separated).
pub const SUMMARY_SOURCE_KEYS: &str = "floe.source.idempotency-keys";

/// The snapshot that already holds `idempotency_key`, if any. Walks the snapshots still in the
/// table metadata: redeliveries arrive within minutes to days, well inside snapshot expiry.
pub fn find_committed(table: &Table, idempotency_key: &str) -> Option<i64> {
    table
        .metadata()
        .snapshots()
        .find(|s| {
            let p = &s.summary().additional_properties;
            p.get(SUMMARY_SOURCE_KEY).map(String::as_str) == Some(idempotency_key)
                || p.get(SUMMARY_SOURCE_KEYS)
                    .is_some_and(|keys| keys.lines().any(|k| k == idempotency_key))
        })
        .map(|s| s.snapshot_id())
}

/// Summary properties recording the source object.
pub fn source_summary(source: &ObjectRef, rows: u64) -> HashMap<String, String> {
    let mut p = HashMap::new();
    p.insert(SUMMARY_SOURCE_KEY.into(), source.idempotency_key());
    p.insert("floe.source.object".into(), source.url());
    if let Some(v) = &source.etag {
        p.insert("floe.source.etag".into(), v.clone());
    }
    if let Some(v) = &source.version_id {
        p.insert("floe.source.version-id".into(), v.clone());
    }
    if let Some(v) = &source.sequencer {
        p.insert("floe.source.sequencer".into(), v.clone());
    }
    p.insert("floe.source.rows".into(), rows.to_string());
    p
}

/// One source's share of a batched commit.
#[derive(Debug, Clone)]
pub struct BatchEntry {
    /// The source's idempotency key.
    pub key: String,
    /// Its data files.
    pub files: Vec<DataFile>,
    /// Its rows.
    pub rows: u64,
}

/// What a batched commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Keys appended by the new snapshot.
    pub committed: Vec<String>,
    /// The new snapshot, when one was made.
    pub snapshot_id: Option<i64>,
    /// Keys that were already in the table, with the snapshot holding them.
    pub duplicates: Vec<(String, i64)>,
}

/// Appends `files` to `table` as one snapshot unless `source` is already committed.
pub async fn commit_append(
    catalog: Arc<dyn Catalog>,
    table: &TableIdent,
    files: Vec<DataFile>,
    source: &ObjectRef,
    rows: u64,
    policy: &CommitPolicy,
) -> Result<CommitOutcome, CommitError> {
    let entry = BatchEntry {
        key: source.idempotency_key(),
        files,
        rows,
    };
    let out = commit_batch(
        catalog,
        table,
        vec![entry],
        source_summary(source, rows),
        policy,
    )
    .await?;
    Ok(match (out.snapshot_id, out.duplicates.first()) {
        (_, Some((_, snapshot_id))) => CommitOutcome::Duplicate {
            snapshot_id: *snapshot_id,
        },
        (Some(snapshot_id), None) => CommitOutcome::Committed { snapshot_id },
        (None, None) => CommitOutcome::Committed { snapshot_id: 0 },
    })
}

/// Appends the files of every entry not yet in the table as one snapshot, recording all their
/// keys in it. Entries found committed (before or during the retries) are reported as
/// duplicates and left out; conflicts are retried with backoff and jitter.
pub async fn commit_batch(
    catalog: Arc<dyn Catalog>,
    table: &TableIdent,
    mut entries: Vec<BatchEntry>,
    extra_summary: HashMap<String, String>,
    policy: &CommitPolicy,
) -> Result<BatchOutcome, CommitError> {
    let mut outcome = BatchOutcome::default();
    let mut attempt = 0;
    let mut delays = policy.delays();
    loop {
        if entries.is_empty() {
            return Ok(outcome);
        }
        attempt += 1;
        let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
        let guard = GuardedCatalog {
            inner: catalog.clone(),
            table: table.clone(),
            keys: keys.clone(),
            found: Mutex::new(Vec::new()),
        };
        let mut props = extra_summary.clone();
        props.insert(SUMMARY_SOURCE_KEYS.into(), keys.join("\n"));
        props.insert("floe.source.count".into(), keys.len().to_string());
        let files: Vec<DataFile> = entries
            .iter()
            .flat_map(|e| e.files.iter().cloned())
            .collect();
        let result = async {
            let current = guard.load_table(table).await?;
            let tx = Transaction::new(&current);
            let action = tx
                .fast_append()
                // File names are UUID v7 per writer: skip re-reading every manifest to check them.
                .with_check_duplicate(false)
                .add_data_files(files)
                .set_snapshot_properties(props);
            action.apply(tx)?.commit(&guard).await
        }
        .await;
        let found = guard.take_found();
        if !found.is_empty() {
            // Some sources landed meanwhile (a redelivery, or our own earlier attempt whose
            // response was lost): drop them and commit the rest.
            entries.retain(|e| !found.iter().any(|(k, _)| k == &e.key));
            outcome.duplicates.extend(found);
            continue;
        }
        match result {
            Ok(t) => {
                outcome.snapshot_id = keys
                    .first()
                    .and_then(|k| find_committed(&t, k))
                    .or_else(|| t.metadata().current_snapshot_id());
                outcome.committed = keys;
                return Ok(outcome);
            }
            Err(e) if e.retryable() => match delays.next() {
                Some(delay) => {
                    tracing::warn!(table = %table, attempt, delay_ms = delay.as_millis() as u64, error = %e, "commit conflict; retrying");
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(CommitError::Exhausted {
                        table: table.to_string(),
                        attempts: attempt,
                        source: e,
                    })
                }
            },
            Err(e) => {
                return Err(CommitError::Failed {
                    table: table.to_string(),
                    source: e,
                })
            }
        }
    }
}

/// A catalog wrapper whose `load_table` stops a commit when the source is already in the table.
#[derive(Debug)]
struct GuardedCatalog {
    inner: Arc<dyn Catalog>,
    table: TableIdent,
    keys: Vec<String>,
    found: Mutex<Vec<(String, i64)>>,
}

impl GuardedCatalog {
    fn take_found(&self) -> Vec<(String, i64)> {
        std::mem::take(&mut *self.found.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl Catalog for GuardedCatalog {
    async fn list_namespaces(
        &self,
        parent: Option<&NamespaceIdent>,
    ) -> iceberg::Result<Vec<NamespaceIdent>> {
        self.inner.list_namespaces(parent).await
    }
    async fn create_namespace(
        &self,
        ns: &NamespaceIdent,
        props: HashMap<String, String>,
    ) -> iceberg::Result<Namespace> {
        self.inner.create_namespace(ns, props).await
    }
    async fn get_namespace(&self, ns: &NamespaceIdent) -> iceberg::Result<Namespace> {
        self.inner.get_namespace(ns).await
    }
    async fn namespace_exists(&self, ns: &NamespaceIdent) -> iceberg::Result<bool> {
        self.inner.namespace_exists(ns).await
    }
    async fn update_namespace(
        &self,
        ns: &NamespaceIdent,
        props: HashMap<String, String>,
    ) -> iceberg::Result<()> {
        self.inner.update_namespace(ns, props).await
    }
    async fn drop_namespace(&self, ns: &NamespaceIdent) -> iceberg::Result<()> {
        self.inner.drop_namespace(ns).await
    }
    async fn list_tables(&self, ns: &NamespaceIdent) -> iceberg::Result<Vec<TableIdent>> {
        self.inner.list_tables(ns).await
    }
    async fn create_table(
        &self,
        ns: &NamespaceIdent,
        creation: TableCreation,
    ) -> iceberg::Result<Table> {
        self.inner.create_table(ns, creation).await
    }
    async fn load_table(&self, ident: &TableIdent) -> iceberg::Result<Table> {
        let table = self.inner.load_table(ident).await?;
        if ident == &self.table {
            let found: Vec<(String, i64)> = self
                .keys
                .iter()
                .filter_map(|k| find_committed(&table, k).map(|id| (k.clone(), id)))
                .collect();
            if !found.is_empty() {
                let message = format!(
                    "{} source(s) already committed, e.g. {} in snapshot {}",
                    found.len(),
                    found[0].0,
                    found[0].1
                );
                *self.found.lock().unwrap_or_else(|p| p.into_inner()) = found;
                return Err(iceberg::Error::new(ErrorKind::DataInvalid, message));
            }
        }
        Ok(table)
    }
    async fn drop_table(&self, ident: &TableIdent) -> iceberg::Result<()> {
        self.inner.drop_table(ident).await
    }
    async fn purge_table(&self, ident: &TableIdent) -> iceberg::Result<()> {
        self.inner.purge_table(ident).await
    }
    async fn table_exists(&self, ident: &TableIdent) -> iceberg::Result<bool> {
        self.inner.table_exists(ident).await
    }
    async fn rename_table(&self, src: &TableIdent, dest: &TableIdent) -> iceberg::Result<()> {
        self.inner.rename_table(src, dest).await
    }
    async fn register_table(
        &self,
        ident: &TableIdent,
        metadata_location: String,
    ) -> iceberg::Result<Table> {
        self.inner.register_table(ident, metadata_location).await
    }
    async fn update_table(&self, commit: TableCommit) -> iceberg::Result<Table> {
        self.inner.update_table(commit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_pauses_between_attempts_growing_to_its_cap() {
        let policy = CommitPolicy::new(10);
        let delays: Vec<Duration> = policy.delays().collect();
        assert_eq!(delays.len(), 9, "one pause per retry");
        for (i, d) in delays.iter().enumerate() {
            let base = (100u64 << i.min(6)).min(5_000);
            let ms = d.as_millis() as u64;
            assert!(
                ms >= base && ms <= 2 * base,
                "pause {i}: {ms} ms, base {base}"
            );
        }
        assert_eq!(
            CommitPolicy::new(1).delays().count(),
            0,
            "one attempt: no retry"
        );
    }

    #[test]
    fn summary_records_the_source() {
        let mut o = ObjectRef::new("b", "k.csv");
        o.etag = Some("e".into());
        let s = source_summary(&o, 7);
        assert_eq!(s[SUMMARY_SOURCE_KEY], "s3://b/k.csv#etag=e");
        assert_eq!(s["floe.source.rows"], "7");
    }
}
