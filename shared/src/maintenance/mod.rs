//! Table maintenance — compaction, snapshot expiry, orphan removal — built from iceberg-rust's
//! public pieces where it has no action of its own (see each module).
//!
//! - [`compact`]: bin-pack `RewriteDataFiles`, committed as `replace` snapshots ([`replace`])
//!   through each catalog's compare-and-swap ([`swap`]).
//! - [`expire`]: expire snapshots and delete what only they reached.
//! - [`orphans`]: delete unreferenced files older than an age guard.
//! - [`run`]: the request the compact function takes (tables × actions, dry run) and its report.

pub mod action;
pub mod clock;
pub mod compact;
pub mod expire;
pub mod files;
pub mod manifests;
pub mod orphans;
pub mod replace;
pub mod run;
pub mod sort;
/// The catalog compare-and-swap (shared with schema promotion, so it lives at the crate root).
pub use crate::swap;

use iceberg::TableIdent;

/// Maintenance failures.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// Catalog or file access through iceberg-rust failed.
    #[error("iceberg: {0}")]
    Iceberg(#[from] iceberg::Error),
    /// The metadata swap failed for a reason other than a conflict.
    #[error(transparent)]
    Swap(Box<swap::SwapError>),
    /// Conflicts persisted through every attempt.
    #[error("replace on {table} still conflicting after {attempts} attempts: {last}")]
    Exhausted {
        /// Table.
        table: String,
        /// Attempts made.
        attempts: u32,
        /// Last conflict.
        last: String,
    },
    /// A rewrite read a different number of rows than the manifests list: nothing is committed.
    #[error("{table}: rewrite read {read} rows but the manifests list {expected}")]
    RowCountMismatch {
        /// Table.
        table: String,
        /// Rows per manifests.
        expected: u64,
        /// Rows read.
        read: u64,
    },
    /// The table uses something this module does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A scheduled quarantine replay failed.
    #[error(transparent)]
    Replay(Box<crate::replay::ReplayError>),
    /// Listing storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// File groups could not be sent to the compaction queue.
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    /// A store could not be built for the table location.
    #[error(transparent)]
    Store(#[from] crate::storage::StorageError),
    /// A request names a table that is not `namespace.table`.
    #[error("bad table name `{0}`: expected namespace.table")]
    BadTableName(String),
}

impl From<swap::SwapError> for MaintenanceError {
    fn from(e: swap::SwapError) -> Self {
        Self::Swap(Box::new(e))
    }
}

/// `namespace.table` for an identifier.
pub fn table_name(ident: &TableIdent) -> String {
    format!("{}.{}", ident.namespace().join("."), ident.name())
}

/// Parses `namespace.table` (the namespace may itself contain dots).
pub fn parse_table(name: &str) -> Result<TableIdent, MaintenanceError> {
    crate::config::parse_table_name(name)
        .ok_or_else(|| MaintenanceError::BadTableName(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_round_trip() {
        let t = parse_table("sales.orders").unwrap();
        assert_eq!(t.name(), "orders");
        assert_eq!(table_name(&t), "sales.orders");
        assert_eq!(table_name(&parse_table("a.b.c").unwrap()), "a.b.c");
        assert!(parse_table("orders").is_err());
        assert!(parse_table(".orders").is_err());
    }
}
