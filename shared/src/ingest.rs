//! The ingest pipeline, wired in one place: event → route → read + decode → write data files →
//! idempotent commit, with a per-object report.

use std::sync::Arc;
use std::time::Instant;

use iceberg::arrow::schema_to_arrow_schema;
use iceberg::Catalog;
use object_store::ObjectStoreExt;
use serde::Serialize;

use crate::catalog::open_catalog;
use crate::commit::{commit_append, find_committed, CommitOutcome};
use crate::config::Config;
use crate::event::IngestEvent;
use crate::format::ObjectDecoder;
use crate::source::{normalize_etag, ObjectRef};
use crate::spec::TableRouter;
use crate::storage::Stores;
use crate::table::load_or_create;
use crate::write::DataFileSink;
use crate::Error;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    /// Rows were appended in a new snapshot.
    Committed,
    /// The same object version was committed before; nothing was written.
    Duplicate,
    /// The object failed (see `error`).
    Failed,
}

/// Per-object summary returned by the ingest function.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectReport {
    /// `s3://bucket/key`.
    pub object: String,
    /// Target table, when routing succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Outcome.
    pub status: ObjectStatus,
    /// Rows written to the table.
    pub rows: u64,
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
    /// Whether a retry could succeed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
}

/// Shared state of an ingest function: built once per container.
pub struct Ingestor {
    config: Config,
    stores: Stores,
    catalog: Arc<dyn Catalog>,
    router: TableRouter,
}

impl Ingestor {
    /// Opens stores, catalog and table specs from `config`.
    pub async fn new(config: Config) -> Result<Self, Error> {
        let stores = Stores::new(config.s3.clone());
        let router =
            TableRouter::load(&config.table_specs, &stores, &config.default_namespace).await?;
        let catalog = open_catalog(&config.catalog, &config.s3).await?;
        Ok(Self {
            config,
            stores,
            catalog,
            router,
        })
    }

    /// The catalog in use.
    pub fn catalog(&self) -> Arc<dyn Catalog> {
        self.catalog.clone()
    }

    /// The table specs in use.
    pub fn router(&self) -> &TableRouter {
        &self.router
    }

    /// Ingests one object, never panicking on its content; failures are in the report.
    pub async fn ingest(&self, object: ObjectRef) -> ObjectReport {
        let started = Instant::now();
        let mut report = ObjectReport {
            object: object.url(),
            table: None,
            status: ObjectStatus::Failed,
            rows: 0,
            files: 0,
            bytes_in: object.size.unwrap_or(0),
            bytes_out: 0,
            duration_ms: 0,
            snapshot_id: None,
            error: None,
            retryable: false,
        };
        if let Err(e) = self.ingest_into(object, &mut report).await {
            report.status = ObjectStatus::Failed;
            report.retryable = e.is_retryable();
            report.error = Some(e.to_string());
            tracing::error!(object = %report.object, table = ?report.table, retryable = report.retryable, error = %e, "ingest failed");
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        if report.status != ObjectStatus::Failed {
            tracing::info!(
                object = %report.object, table = ?report.table, status = ?report.status, rows = report.rows,
                files = report.files, bytes_in = report.bytes_in, bytes_out = report.bytes_out,
                duration_ms = report.duration_ms, "ingested"
            );
        }
        report
    }

    async fn ingest_into(
        &self,
        mut object: ObjectRef,
        report: &mut ObjectReport,
    ) -> Result<(), Error> {
        let spec = self.router.route(&object.bucket, &object.key)?;
        report.table = Some(spec.ident.to_string());
        let store = self.stores.bucket(&object.bucket)?;
        if !object.has_identity() || object.size.is_none() {
            // Pin down which version we read, so a repeat is recognised.
            let path = object_store::path::Path::from(object.key.as_str());
            let meta = store.head(&path).await.map_err(|e| Error::Read {
                object: object.url(),
                source: e,
            })?;
            object.etag = object.etag.or(meta.e_tag.as_deref().map(normalize_etag));
            object.version_id = object.version_id.or(meta.version);
            object.size = Some(meta.size);
            report.bytes_in = meta.size;
        }
        let table = load_or_create(self.catalog.as_ref(), spec).await?;
        if let Some(snapshot_id) = find_committed(&table, &object.idempotency_key()) {
            report.status = ObjectStatus::Duplicate;
            report.snapshot_id = Some(snapshot_id);
            return Ok(());
        }
        let arrow_schema = Arc::new(schema_to_arrow_schema(table.metadata().current_schema())?);
        let mut decoder =
            ObjectDecoder::open(store, &object, spec, arrow_schema, self.config.batch_rows).await?;
        let mut sink = DataFileSink::new(&table)
            .await?
            .with_partition_buffer_bytes(self.config.partition_buffer_bytes);
        while let Some(batch) = decoder.next_batch().await? {
            sink.write(batch).await?;
        }
        let rows = sink.rows();
        let files = sink.close().await?;
        report.rows = rows;
        report.files = files.len();
        report.bytes_out = files.iter().map(|f| f.file_size_in_bytes()).sum();
        if files.is_empty() {
            // Nothing to append (an object with no records): no snapshot is made.
            report.status = ObjectStatus::Committed;
            return Ok(());
        }
        let outcome = commit_append(
            self.catalog.clone(),
            &spec.ident,
            files,
            &object,
            rows,
            self.config.commit_max_attempts,
        )
        .await?;
        match outcome {
            CommitOutcome::Committed { snapshot_id } => {
                report.status = ObjectStatus::Committed;
                report.snapshot_id = Some(snapshot_id);
            }
            CommitOutcome::Duplicate { snapshot_id } => {
                // A concurrent delivery of the same object won; our files are orphans for cleanup.
                report.status = ObjectStatus::Duplicate;
                report.snapshot_id = Some(snapshot_id);
                report.rows = 0;
            }
        }
        Ok(())
    }

    /// Handles a decoded invocation: every object is attempted; SQS messages whose objects
    /// failed are listed in `batchItemFailures` so only they are redelivered.
    pub async fn handle(&self, event: IngestEvent) -> IngestResponse {
        match event {
            IngestEvent::Objects(objects) => {
                let mut reports = Vec::with_capacity(objects.len());
                for o in objects {
                    reports.push(self.ingest(o).await);
                }
                IngestResponse {
                    objects: reports,
                    batch_item_failures: None,
                }
            }
            IngestEvent::Sqs(items) => {
                let mut reports = Vec::new();
                let mut failures = Vec::new();
                for item in items {
                    match item.objects {
                        Err(e) => {
                            tracing::error!(message_id = %item.message_id, error = %e, "unreadable SQS message");
                            failures.push(BatchItemFailure {
                                item_identifier: item.message_id,
                            });
                        }
                        Ok(objects) => {
                            let mut failed = false;
                            for o in objects {
                                let r = self.ingest(o).await;
                                failed |= r.status == ObjectStatus::Failed;
                                reports.push(r);
                            }
                            if failed {
                                failures.push(BatchItemFailure {
                                    item_identifier: item.message_id,
                                });
                            }
                        }
                    }
                }
                IngestResponse {
                    objects: reports,
                    batch_item_failures: Some(failures),
                }
            }
        }
    }
}

/// An SQS message to redeliver.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The SQS message id.
    pub item_identifier: String,
}

/// The ingest function's response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestResponse {
    /// One report per object.
    pub objects: Vec<ObjectReport>,
    /// Present for SQS events: the messages to redeliver (Lambda's partial batch response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
}

impl IngestResponse {
    /// Objects that failed with an error a retry could fix.
    pub fn retryable_failures(&self) -> Vec<&ObjectReport> {
        self.objects
            .iter()
            .filter(|r| r.status == ObjectStatus::Failed && r.retryable)
            .collect()
    }
}
