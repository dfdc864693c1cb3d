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
use rand::Rng;

use crate::source::ObjectRef;

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

/// The snapshot that already holds `idempotency_key`, if any.
pub fn find_committed(table: &Table, idempotency_key: &str) -> Option<i64> {
    table
        .metadata()
        .snapshots()
        .find(|s| {
            s.summary()
                .additional_properties
                .get(SUMMARY_SOURCE_KEY)
                .map(String::as_str)
                == Some(idempotency_key)
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

/// Appends `files` to `table` as one snapshot unless `source` is already committed.
pub async fn commit_append(
    catalog: Arc<dyn Catalog>,
    table: &TableIdent,
    files: Vec<DataFile>,
    source: &ObjectRef,
    rows: u64,
    max_attempts: u32,
) -> Result<CommitOutcome, CommitError> {
    let key = source.idempotency_key();
    let guard = Arc::new(GuardedCatalog {
        inner: catalog,
        table: table.clone(),
        key: key.clone(),
        found: Mutex::new(None),
    });
    let props = source_summary(source, rows);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = async {
            let current = guard.load_table(table).await?;
            let tx = Transaction::new(&current);
            let action = tx
                .fast_append()
                // File names are UUID v7 per writer: skip re-reading every manifest to check them.
                .with_check_duplicate(false)
                .add_data_files(files.clone())
                .set_snapshot_properties(props.clone());
            action.apply(tx)?.commit(guard.as_ref()).await
        }
        .await;
        if let Some(snapshot_id) = guard.found() {
            return Ok(CommitOutcome::Duplicate { snapshot_id });
        }
        match result {
            Ok(t) => {
                let snapshot_id = find_committed(&t, &key)
                    .or_else(|| t.metadata().current_snapshot_id())
                    .unwrap_or_default();
                return Ok(CommitOutcome::Committed { snapshot_id });
            }
            Err(e) if e.retryable() && attempt < max_attempts => {
                let delay = backoff(attempt);
                tracing::warn!(table = %table, attempt, delay_ms = delay.as_millis() as u64, error = %e, "commit conflict; retrying");
                tokio::time::sleep(delay).await;
            }
            Err(e) if e.retryable() => {
                return Err(CommitError::Exhausted {
                    table: table.to_string(),
                    attempts: attempt,
                    source: e,
                })
            }
            Err(e) => {
                return Err(CommitError::Failed {
                    table: table.to_string(),
                    source: e,
                })
            }
        }
    }
}

/// Exponential backoff with full jitter: up to 100 ms × 2^(attempt-1), capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let cap = 100u64.saturating_mul(1 << attempt.min(6)).min(5_000);
    Duration::from_millis(rand::rng().random_range(cap / 4..=cap))
}

/// A catalog wrapper whose `load_table` stops a commit when the source is already in the table.
#[derive(Debug)]
struct GuardedCatalog {
    inner: Arc<dyn Catalog>,
    table: TableIdent,
    key: String,
    found: Mutex<Option<i64>>,
}

impl GuardedCatalog {
    fn found(&self) -> Option<i64> {
        *self.found.lock().unwrap_or_else(|p| p.into_inner())
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
            if let Some(id) = find_committed(&table, &self.key) {
                *self.found.lock().unwrap_or_else(|p| p.into_inner()) = Some(id);
                return Err(iceberg::Error::new(
                    ErrorKind::DataInvalid,
                    format!("source {} is already committed in snapshot {id}", self.key),
                ));
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
    fn backoff_grows_and_is_capped() {
        for attempt in 1..20 {
            let d = backoff(attempt).as_millis() as u64;
            let cap = (100u64 << attempt.min(6)).min(5_000);
            assert!(d >= cap / 4 && d <= cap, "attempt {attempt}: {d}");
        }
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
