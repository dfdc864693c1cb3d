//! What became of one object: the pipeline returns an [`ObjectOutcome`] value, and it is folded
//! into the [`ObjectReport`] once, so status, counts and snapshot cannot disagree.

use serde::Serialize;

use crate::format::RowCounts;
use crate::Error;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    /// Rows were appended in a new snapshot.
    Committed,
    /// The same object version was committed before; nothing was written.
    Duplicate,
    /// The object could not be read (or broke the contract as a whole): it was copied to the
    /// quarantine location and recorded in the quarantine table.
    Quarantined,
    /// Data files written and a commit request sent to the commit queue (queue mode).
    Queued,
    /// Not ingested, on purpose and for good (see `skipped`): a folder marker, a key no table
    /// routes, a version superseded by a newer write, or an object deleted since its event.
    /// Not retried; counted in the `ObjectsSkipped` metric.
    Skipped,
    /// The object failed (see `error`).
    Failed,
}

/// Why an object was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A zero-byte key ending in `/` (a console "folder").
    FolderMarker,
    /// No table spec routes the key.
    NoRoute,
    /// The key was overwritten after the event: the event's version is gone, the newer version
    /// has its own event.
    Superseded,
    /// The object (version) no longer exists.
    NotFound,
}

/// How a set of data files was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// Appended in this snapshot.
    Committed(i64),
    /// A concurrent delivery of the same object committed it first, in this snapshot.
    Duplicate(i64),
    /// A commit request went to the commit queue.
    Queued,
}

impl Handoff {
    /// The object's status and snapshot when its rows went to the table this way.
    fn status(self) -> (ObjectStatus, Option<i64>) {
        match self {
            Handoff::Committed(id) => (ObjectStatus::Committed, Some(id)),
            Handoff::Queued => (ObjectStatus::Queued, None),
            Handoff::Duplicate(id) => (ObjectStatus::Duplicate, Some(id)),
        }
    }
}

/// The data files an object produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FilesWritten {
    /// Data files.
    pub count: usize,
    /// Parquet bytes.
    pub bytes: u64,
}

impl FilesWritten {
    /// Count and bytes of `files`.
    pub fn of(files: &[iceberg::spec::DataFile]) -> Self {
        Self {
            count: files.len(),
            bytes: files.iter().map(|f| f.file_size_in_bytes()).sum(),
        }
    }
}

/// Columns the object and the table disagree on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ColumnDrift {
    /// Table columns the object lacked.
    pub missing: Vec<String>,
    /// Object columns the table lacks.
    pub unknown: Vec<String>,
}

/// The result of ingesting one object, as a value.
#[derive(Debug)]
pub enum ObjectOutcome {
    /// Rows went to the table (and rejected rows to quarantine); `handoff` is `None` when no
    /// row was good (nothing to append).
    Written {
        /// Rows counted per conformed batch.
        rows: RowCounts,
        /// Data files written.
        files: FilesWritten,
        /// What the table append became.
        handoff: Option<Handoff>,
        /// Column differences.
        drift: ColumnDrift,
    },
    /// A Parquet object committed where it lies (`mode = "register"`): no rows rewritten.
    Registered {
        /// Rows in the object.
        rows: u64,
        /// What the table append became.
        handoff: Handoff,
        /// Optional table columns the object lacks (they read as nulls).
        missing: Vec<String>,
    },
    /// This object version is already in the table.
    Duplicate {
        /// The snapshot that holds it.
        snapshot_id: i64,
    },
    /// Unreadable as a whole: copied to quarantine and recorded.
    Quarantined {
        /// Records read before the failure (all inside the quarantined copy).
        rows: RowCounts,
        /// Why.
        cause: String,
        /// What the quarantine-table append became.
        handoff: Handoff,
    },
    /// Not ingested, for good.
    Skipped {
        /// Why (the metric dimension).
        reason: SkipReason,
        /// The message naming the object.
        why: String,
    },
    /// Failed; `Error::is_retryable` decides redelivery.
    Failed(Error),
}

/// Per-object summary returned by the ingest function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectReport {
    /// `s3://bucket/key`.
    pub object: String,
    /// Target table, when routing succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Outcome.
    pub status: ObjectStatus,
    /// Records read from the object (= `rows_written + rows_quarantined`).
    pub rows_read: u64,
    /// Rows written to the table.
    pub rows_written: u64,
    /// Rows sent to quarantine (for a whole-object quarantine: every record read).
    pub rows_quarantined: u64,
    /// Data files written.
    pub files: usize,
    /// Bytes of the source object.
    pub bytes_in: u64,
    /// Bytes of Parquet written.
    pub bytes_out: u64,
    /// Wall time.
    pub duration_ms: u64,
    /// The snapshot that holds the rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Error message naming the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the object was skipped (status `skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
    /// Table columns the object lacked (filled with nulls under `missing_columns = "null"/"fill"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_columns: Vec<String>,
    /// Object columns (or JSON keys) the table lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_columns: Vec<String>,
    /// Whether a retry could succeed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
    /// The object was committed where it lies (`mode = "register"`), not rewritten.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub registered: bool,
    /// Why a table in `mode = "register"` ingested the object instead of registering it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_registered: Option<String>,
}

/// What is known about an object before its outcome: where it was routed and its size.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `s3://bucket/key`.
    pub object: String,
    /// Target table, once routed.
    pub table: Option<String>,
    /// Object size.
    pub bytes_in: u64,
    /// Why the object was not registered in place (a table in `mode = "register"`).
    pub not_registered: Option<String>,
}

impl ObjectReport {
    /// Folds an outcome into the report: the one place status and counts are set. A failed,
    /// skipped or duplicate object counts no rows: nothing of it was committed by this delivery.
    pub fn fold(seen: Seen, outcome: ObjectOutcome, duration_ms: u64) -> Self {
        let mut r = ObjectReport {
            object: seen.object,
            table: seen.table,
            status: ObjectStatus::Failed,
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            files: 0,
            bytes_in: seen.bytes_in,
            bytes_out: 0,
            duration_ms,
            snapshot_id: None,
            error: None,
            skipped: None,
            missing_columns: Vec::new(),
            unknown_columns: Vec::new(),
            retryable: false,
            registered: false,
            not_registered: seen.not_registered,
        };
        match outcome {
            ObjectOutcome::Written {
                rows,
                files,
                handoff,
                drift,
            } => {
                (r.files, r.bytes_out) = (files.count, files.bytes);
                (r.missing_columns, r.unknown_columns) = (drift.missing, drift.unknown);
                // A concurrent delivery won (duplicate): our files are orphans for cleanup.
                (r.status, r.snapshot_id) = match handoff {
                    None => (ObjectStatus::Committed, None),
                    Some(h) => h.status(),
                };
                if r.status != ObjectStatus::Duplicate {
                    r.count(rows);
                }
            }
            ObjectOutcome::Registered {
                rows,
                handoff,
                missing,
            } => {
                (r.files, r.missing_columns) = (1, missing);
                (r.status, r.snapshot_id) = handoff.status();
                if r.status != ObjectStatus::Duplicate {
                    r.registered = true;
                    (r.rows_read, r.rows_written) = (rows, rows);
                }
            }
            ObjectOutcome::Duplicate { snapshot_id } => {
                (r.status, r.snapshot_id) = (ObjectStatus::Duplicate, Some(snapshot_id))
            }
            ObjectOutcome::Quarantined {
                rows,
                cause,
                handoff,
            } => {
                r.error = Some(cause);
                (r.status, r.snapshot_id) = match handoff.status() {
                    (ObjectStatus::Duplicate, id) => (ObjectStatus::Duplicate, id),
                    (_, id) => (ObjectStatus::Quarantined, id),
                };
                if r.status != ObjectStatus::Duplicate {
                    r.count(rows.all_quarantined());
                }
            }
            ObjectOutcome::Skipped { reason, why } => {
                (r.status, r.skipped, r.error) = (ObjectStatus::Skipped, Some(reason), Some(why))
            }
            ObjectOutcome::Failed(e) => {
                (r.retryable, r.error) = (e.is_retryable(), Some(e.to_string()));
            }
        }
        r
    }

    /// Sets the row counts from the rows counted per conformed batch.
    fn count(&mut self, rows: RowCounts) {
        (self.rows_read, self.rows_written, self.rows_quarantined) =
            (rows.read(), rows.written, rows.quarantined);
    }

    /// Writes the object's metrics (EMF) to stdout, as `function`.
    pub fn emit_metrics(&self, function: &str) {
        let r = self;
        let table = r.table.as_deref().unwrap_or("unrouted");
        let status = format!("{:?}", r.status).to_ascii_lowercase();
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        crate::metrics::emit(
            &[
                ("Function", function),
                ("Table", table),
                ("Status", &status),
            ],
            &[
                ("RowsRead", "Count", r.rows_read as f64),
                ("RowsWritten", "Count", r.rows_written as f64),
                ("RowsQuarantined", "Count", r.rows_quarantined as f64),
                ("BytesIn", "Bytes", r.bytes_in as f64),
                ("BytesOut", "Bytes", r.bytes_out as f64),
                ("DurationMs", "Milliseconds", r.duration_ms as f64),
                ("DataFiles", "Count", r.files as f64),
                (
                    "ObjectsFailed",
                    "Count",
                    flag(r.status == ObjectStatus::Failed),
                ),
                ("ObjectsSkipped", "Count", flag(r.skipped.is_some())),
                ("MissingColumns", "Count", r.missing_columns.len() as f64),
                ("UnknownColumns", "Count", r.unknown_columns.len() as f64),
                ("ObjectsRegistered", "Count", flag(r.registered)),
                (
                    "RegisterDeclined",
                    "Count",
                    flag(r.not_registered.is_some()),
                ),
            ],
        );
        if let Some(reason) = r.skipped {
            let reason = serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            crate::metrics::emit(
                &[
                    ("Function", function),
                    ("Table", table),
                    ("Reason", &reason),
                ],
                &[("ObjectsSkipped", "Count", 1.0)],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen() -> Seen {
        Seen {
            object: "s3://b/k".into(),
            table: Some("db.t".into()),
            bytes_in: 10,
            not_registered: None,
        }
    }

    fn rows(written: u64, quarantined: u64) -> RowCounts {
        RowCounts {
            written,
            quarantined,
        }
    }

    #[test]
    fn written_outcomes_keep_the_row_identity() {
        for handoff in [None, Some(Handoff::Committed(7)), Some(Handoff::Queued)] {
            let r = ObjectReport::fold(
                seen(),
                ObjectOutcome::Written {
                    rows: rows(5, 2),
                    files: FilesWritten {
                        count: 1,
                        bytes: 99,
                    },
                    handoff,
                    drift: ColumnDrift::default(),
                },
                1,
            );
            assert_eq!((r.rows_read, r.rows_written, r.rows_quarantined), (7, 5, 2));
            assert_eq!(r.rows_read, r.rows_written + r.rows_quarantined);
            assert_ne!(r.status, ObjectStatus::Failed);
        }
    }

    #[test]
    fn a_lost_race_counts_no_rows() {
        let r = ObjectReport::fold(
            seen(),
            ObjectOutcome::Written {
                rows: rows(5, 2),
                files: FilesWritten::default(),
                handoff: Some(Handoff::Duplicate(3)),
                drift: ColumnDrift::default(),
            },
            1,
        );
        assert_eq!(
            (r.status, r.snapshot_id, r.rows_read),
            (ObjectStatus::Duplicate, Some(3), 0)
        );
    }

    #[test]
    fn a_whole_object_quarantine_counts_every_row_read_as_quarantined() {
        let r = ObjectReport::fold(
            seen(),
            ObjectOutcome::Quarantined {
                rows: rows(40, 2),
                cause: "bad".into(),
                handoff: Handoff::Committed(9),
            },
            1,
        );
        assert_eq!(
            (r.status, r.rows_read, r.rows_written, r.rows_quarantined),
            (ObjectStatus::Quarantined, 42, 0, 42)
        );
    }

    #[test]
    fn failures_and_skips_count_no_rows_and_carry_the_reason() {
        let e = Error::Arrow(arrow_schema::ArrowError::ComputeError("x".into()));
        let r = ObjectReport::fold(seen(), ObjectOutcome::Failed(e), 1);
        assert_eq!(
            (r.status, r.rows_read, r.retryable),
            (ObjectStatus::Failed, 0, false)
        );
        assert!(r.error.as_deref().unwrap().contains('x'));
        let r = ObjectReport::fold(
            seen(),
            ObjectOutcome::Skipped {
                reason: SkipReason::NoRoute,
                why: "no".into(),
            },
            1,
        );
        assert_eq!(
            (r.status, r.skipped, r.rows_read),
            (ObjectStatus::Skipped, Some(SkipReason::NoRoute), 0)
        );
    }
}
