//! The ingest pipeline, wired in one place: event → route → read + decode → write data files →
//! idempotent commit, with a per-object report.

use std::sync::Arc;
use std::time::Instant;

use iceberg::arrow::schema_to_arrow_schema;
use iceberg::Catalog;
use serde::Serialize;

use crate::catalog::open_catalog;
use crate::commit::{commit_append, find_committed, CommitOutcome, CommitPolicy};
use crate::config::{CommitMode, Config};
use crate::event::IngestEvent;
use crate::format::FormatError;
use crate::landing::{Landing, LandingError};
use crate::pipeline::ObjectPipeline;
use crate::quarantine::{quarantine_spec, QuarantineRecord, QuarantineSink};
use crate::queue::{CommitQueue, CommitRequest, SqsQueue};
use crate::router::TableRouter;
use crate::source::ObjectRef;
use crate::spec::{TableSpec, UnknownColumns};
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
}

/// Shared state of an ingest function: built once per container.
pub struct Ingestor {
    queue: Option<Arc<dyn CommitQueue>>,
    pub(crate) config: Config,
    quarantine_spec: TableSpec,
    pub(crate) stores: Stores,
    /// Routing, pinned landing reads and decoding: shared with validate.
    pub(crate) pipeline: ObjectPipeline,
}

impl Ingestor {
    /// Opens stores, catalog and table specs from `config`.
    pub async fn new(config: Config) -> Result<Self, Error> {
        let catalog = open_catalog(&config.catalog, &config.s3).await?;
        let landing = Landing::new(&config.s3).await;
        Self::from_parts(config, catalog, landing).await
    }

    /// An ingestor over a given catalog and landing store (tests: iceberg's `MemoryCatalog` and
    /// an in-memory landing, so the whole pipeline runs without servers). Specs and the rest come
    /// from `config`.
    pub async fn from_parts(
        config: Config,
        catalog: Arc<dyn Catalog>,
        landing: Landing,
    ) -> Result<Self, Error> {
        let stores = Stores::new(config.s3.clone());
        let router =
            TableRouter::load(&config.table_specs, &stores, &config.default_namespace).await?;
        let pipeline = ObjectPipeline::new(
            Arc::new(landing),
            catalog,
            router,
            config.batch_rows,
            config.limits,
        );
        let ident = config.quarantine_table.clone();
        let quarantine_spec = quarantine_spec(&ident)?;
        let queue: Option<Arc<dyn CommitQueue>> = match &config.commit_mode {
            CommitMode::Direct => None,
            CommitMode::Queue(url) => Some(Arc::new(
                SqsQueue::new(url, config.sqs_endpoint.as_deref()).await,
            )),
        };
        Ok(Self {
            queue,
            config,
            quarantine_spec,
            stores,
            pipeline,
        })
    }

    /// A function's start-up: configuration from the environment (failing with every problem
    /// named), telemetry, then stores, specs and catalog.
    pub async fn from_env() -> Result<Self, Error> {
        let config = crate::telemetry::start()?;
        Self::new(config)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "init failed"))
    }

    /// Sends commit requests to `queue` instead of committing (queue mode with another transport).
    pub fn with_commit_queue(mut self, queue: Arc<dyn CommitQueue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// The catalog in use.
    pub fn catalog(&self) -> Arc<dyn Catalog> {
        self.pipeline.catalog.clone()
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The object stores in use.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The landing-object reader in use.
    pub fn landing(&self) -> Arc<Landing> {
        self.pipeline.landing.clone()
    }

    /// The quarantine table's identifier.
    pub fn quarantine_table(&self) -> &iceberg::TableIdent {
        &self.quarantine_spec.ident
    }

    /// Validates `object` against its table's contract without writing anything (a dry run of
    /// the same read and decode ingest does).
    pub async fn validate(
        &self,
        object: ObjectRef,
        max_examples: usize,
    ) -> crate::validate::ValidationReport {
        self.pipeline.validate(object, max_examples).await
    }

    /// The table specs in use.
    pub fn router(&self) -> &TableRouter {
        &self.pipeline.router
    }

    /// Ingests one object, never panicking on its content; failures are in the report.
    pub async fn ingest(&self, object: ObjectRef) -> ObjectReport {
        let started = Instant::now();
        let mut report = ObjectReport {
            object: object.url(),
            table: None,
            status: ObjectStatus::Failed,
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            files: 0,
            bytes_in: object.size.unwrap_or(0),
            bytes_out: 0,
            duration_ms: 0,
            snapshot_id: None,
            error: None,
            retryable: false,
            skipped: None,
            missing_columns: Vec::new(),
            unknown_columns: Vec::new(),
        };
        match self.ingest_into(object, &mut report).await {
            Ok(()) => {}
            Err(Skip(reason, why)) => {
                report.status = ObjectStatus::Skipped;
                report.skipped = Some(reason);
                report.error = Some(why);
                (
                    report.rows_read,
                    report.rows_written,
                    report.rows_quarantined,
                ) = (0, 0, 0);
                tracing::warn!(object = %report.object, table = ?report.table, reason = ?reason, error = ?report.error, "object skipped");
            }
            Err(Fail(e)) => {
                report.status = ObjectStatus::Failed;
                report.retryable = e.is_retryable();
                report.error = Some(e.to_string());
                // Nothing of a failed object is committed: no row counts as written or quarantined.
                (
                    report.rows_read,
                    report.rows_written,
                    report.rows_quarantined,
                ) = (0, 0, 0);
                tracing::error!(object = %report.object, table = ?report.table, retryable = report.retryable, error = %e, "ingest failed");
            }
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        if !matches!(report.status, ObjectStatus::Failed | ObjectStatus::Skipped) {
            tracing::info!(
                object = %report.object, table = ?report.table, status = ?report.status,
                rows_read = report.rows_read, rows_written = report.rows_written, rows_quarantined = report.rows_quarantined,
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
    ) -> Result<(), Outcome> {
        if object.key.ends_with('/') && object.size.unwrap_or(0) == 0 {
            return Err(Skip(
                SkipReason::FolderMarker,
                format!(
                    "{}: a folder marker (zero-byte key ending in `/`), not data",
                    object.url()
                ),
            ));
        }
        let spec = self
            .pipeline
            .router
            .route(&object.bucket, &object.key)
            .map_err(|e| Skip(SkipReason::NoRoute, e.to_string()))?;
        report.table = Some(spec.ident.to_string());
        if !object.has_identity() || object.size.is_none() {
            // Pin down which version we read, so a repeat is recognised.
            let meta = self
                .pipeline
                .landing
                .head(&object)
                .await
                .map_err(landing_outcome)?;
            object.etag = object.etag.or(meta.etag);
            object.version_id = object.version_id.or(meta.version_id);
            object.size = Some(meta.size);
            report.bytes_in = meta.size;
            if object.key.ends_with('/') && meta.size == 0 {
                return Err(Skip(
                    SkipReason::FolderMarker,
                    format!(
                        "{}: a folder marker (zero-byte key ending in `/`), not data",
                        object.url()
                    ),
                ));
            }
        }
        self.ingest_version(object, spec, report).await
    }

    async fn ingest_version(
        &self,
        object: ObjectRef,
        spec: &TableSpec,
        report: &mut ObjectReport,
    ) -> Result<(), Outcome> {
        let table = load_or_create(self.pipeline.catalog.as_ref(), spec).await?;
        if let Some(snapshot_id) = find_committed(&table, &object.idempotency_key()) {
            report.status = ObjectStatus::Duplicate;
            report.snapshot_id = Some(snapshot_id);
            return Ok(());
        }
        let table = if spec.contract.unknown_columns == UnknownColumns::Evolve {
            self.evolve_schema(table, spec, &object).await?
        } else {
            table
        };
        let table_name = spec.ident.to_string();
        let mut sink = DataFileSink::new(&table)
            .await?
            .with_partition_buffer_bytes(self.config.partition_buffer_bytes);
        let mut qsink = QuarantineSink::new(
            self.pipeline.catalog.as_ref(),
            &self.quarantine_spec,
            &table_name,
            &object,
        );

        let arrow_schema = Arc::new(schema_to_arrow_schema(table.metadata().current_schema())?);
        let decoded = async {
            let mut decoder = self.pipeline.open_decoder(&object, spec, arrow_schema)
            .await?;
            while let Some(c) = decoder.next_batch().await? {
                report.rows_read += c.rows_read as u64;
                if c.batch.num_rows() > 0 {
                    report.rows_written += c.batch.num_rows() as u64;
                    sink.write(c.batch).await?;
                }
                if !c.rejected.is_empty() {
                    report.rows_quarantined += c.rejected.len() as u64;
                    let records: Vec<QuarantineRecord> =
                        c.rejected.into_iter().map(Into::into).collect();
                    qsink.write(&records).await?;
                }
            }
            report.missing_columns = decoder.missing_columns();
            report.unknown_columns = decoder.unknown_columns().to_vec();
            let files = sink.close().await?;
            if files.len() > self.config.limits.max_files_per_object {
                return Err(Error::Format(FormatError::Limit {
                    object: object.url(),
                    limit: "FLOE_MAX_FILES_PER_OBJECT",
                    message: format!(
                        "the object writes {} data files (one per partition and target size), more than {}",
                        files.len(),
                        self.config.limits.max_files_per_object
                    ),
                }));
            }
            Ok::<_, Error>(files)
        }
        .await;
        let files = match decoded {
            Ok(files) => files,
            Err(Error::Format(FormatError::Source(e))) => return Err(landing_outcome(e)),
            Err(Error::Format(e)) if !e.is_retryable() => {
                // Unreadable as a whole: keep the object, record why, write nothing to the table.
                // Data files written so far stay uncommitted (orphans for maintenance to remove).
                return self
                    .quarantine_object(&object, &table_name, e, report)
                    .await
                    .map_err(Fail);
            }
            Err(e) => return Err(Fail(e)),
        };
        report.files = files.len();
        report.bytes_out = files.iter().map(|f| f.file_size_in_bytes()).sum();
        // Quarantine first: if we die between the two commits, the redelivery skips the
        // quarantine append (already there) and completes the table append.
        if let Some((qtable, qfiles)) = qsink.finish().await? {
            self.hand_off(&qtable, qfiles, &object, report.rows_quarantined)
                .await?;
        }
        if !report.missing_columns.is_empty() {
            tracing::warn!(object = %object.url(), columns = ?report.missing_columns, "table columns missing from the object were stored as nulls");
        }
        report.status = ObjectStatus::Committed;
        if !files.is_empty() {
            match self
                .hand_off(&table, files, &object, report.rows_written)
                .await?
            {
                Handoff::Committed(snapshot_id) => report.snapshot_id = Some(snapshot_id),
                Handoff::Queued => report.status = ObjectStatus::Queued,
                Handoff::Duplicate(snapshot_id) => {
                    // A concurrent delivery of the same object won; our files are orphans for cleanup.
                    report.status = ObjectStatus::Duplicate;
                    report.snapshot_id = Some(snapshot_id);
                    report.rows_written = 0;
                    report.rows_quarantined = 0;
                    report.rows_read = 0;
                }
            }
        }
        Ok(())
    }

    /// `unknown_columns = "evolve"`: adds the object's extra columns (CSV header, Parquet schema,
    /// every JSON key of every record) to the table as nullable strings (one schema-update
    /// commit), then returns the reloaded table.
    async fn evolve_schema(
        &self,
        table: iceberg::table::Table,
        spec: &TableSpec,
        object: &ObjectRef,
    ) -> Result<iceberg::table::Table, Error> {
        use iceberg::spec::{PrimitiveType, Type};
        use iceberg::transaction::{AddColumn, ApplyTransactionAction, Transaction};
        let arrow_schema = Arc::new(schema_to_arrow_schema(table.metadata().current_schema())?);
        // An unreadable object is dealt with by the main pass; nothing to evolve from it.
        let opened = self.pipeline.open_decoder(object, spec, arrow_schema).await;
        let mut unknown = match opened {
            Ok(decoder) => match decoder.scan_unknown_columns().await {
                Ok(u) => u,
                Err(e) if e.is_retryable() => return Err(e.into()),
                Err(_) => return Ok(table),
            },
            Err(e) if e.is_retryable() => return Err(e.into()),
            Err(_) => return Ok(table),
        };
        let mut delays = CommitPolicy::from_config(&self.config).delays();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let current = self.pipeline.catalog.load_table(&spec.ident).await?;
            unknown.retain(|c| {
                current
                    .metadata()
                    .current_schema()
                    .field_by_name(c)
                    .is_none()
            });
            if unknown.is_empty() {
                return Ok(current);
            }
            let tx = Transaction::new(&current);
            let mut action = tx.update_schema();
            for c in &unknown {
                action = action.add_column(AddColumn::optional(
                    c,
                    Type::Primitive(PrimitiveType::String),
                ));
            }
            match action
                .apply(tx)?
                .commit(self.pipeline.catalog.as_ref())
                .await
            {
                Ok(t) => {
                    tracing::info!(table = %spec.ident, columns = ?unknown, object = %object.url(), "schema evolved");
                    return Ok(t);
                }
                // A concurrent writer may have added the same columns: reload and look again,
                // after the policy's pause (backing off as the other commit paths do).
                Err(e) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(table = %spec.ident, attempt, delay_ms = delay.as_millis() as u64, error = %e, "schema update failed; retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(e.into()),
                },
            }
        }
    }

    /// Commits directly, or sends commit requests to the queue in queue mode.
    async fn hand_off(
        &self,
        table: &iceberg::table::Table,
        files: Vec<iceberg::spec::DataFile>,
        object: &ObjectRef,
        rows: u64,
    ) -> Result<Handoff, Error> {
        if let Some(queue) = &self.queue {
            let request = CommitRequest::for_files(table, object, rows, files).await?;
            queue
                .send(std::slice::from_ref(&request))
                .await
                .map_err(|source| Error::Queue {
                    object: object.url(),
                    source,
                })?;
            return Ok(Handoff::Queued);
        }
        let outcome = commit_append(
            self.pipeline.catalog.clone(),
            table.identifier(),
            files,
            object,
            rows,
            &CommitPolicy::from_config(&self.config),
        )
        .await?;
        Ok(match outcome {
            CommitOutcome::Committed { snapshot_id } => Handoff::Committed(snapshot_id),
            CommitOutcome::Duplicate { snapshot_id } => Handoff::Duplicate(snapshot_id),
        })
    }

    async fn quarantine_object(
        &self,
        object: &ObjectRef,
        table_name: &str,
        cause: crate::format::FormatError,
        report: &mut ObjectReport,
    ) -> Result<(), Error> {
        let dest = self
            .config
            .quarantine_url
            .clone()
            .unwrap_or_else(|| format!("s3://{}/_floe_quarantine", object.bucket));
        let copied = crate::quarantine::copy_object(&self.pipeline.landing, object, &dest)
            .await
            .map_err(|message| Error::Quarantine {
                object: object.url(),
                message,
            })?;
        let record = QuarantineRecord {
            raw: Some(copied),
            ..QuarantineRecord::whole_object(&cause)
        };
        let mut qsink = QuarantineSink::new(
            self.pipeline.catalog.as_ref(),
            &self.quarantine_spec,
            table_name,
            object,
        );
        qsink.write(std::slice::from_ref(&record)).await?;
        let (qtable, qfiles) = qsink.finish().await?.expect("one record was written");
        // Every record read before the failure is inside the quarantined object.
        report.rows_quarantined = report.rows_read;
        report.rows_written = 0;
        report.error = Some(cause.to_string());
        match self
            .hand_off(&qtable, qfiles, object, report.rows_quarantined)
            .await?
        {
            Handoff::Committed(snapshot_id) => {
                report.status = ObjectStatus::Quarantined;
                report.snapshot_id = Some(snapshot_id);
            }
            Handoff::Queued => report.status = ObjectStatus::Quarantined,
            Handoff::Duplicate(snapshot_id) => {
                report.status = ObjectStatus::Duplicate;
                report.snapshot_id = Some(snapshot_id);
            }
        }
        tracing::warn!(object = %object.url(), error = %cause, "object quarantined whole");
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
                            failures.push(batch_item_failure(item.message_id));
                        }
                        Ok(objects) => {
                            // Skipped objects (folder markers, no route, superseded) are reported,
                            // counted and acknowledged: redelivering them would change nothing.
                            let mut failed = false;
                            for o in objects {
                                let r = self.ingest(o).await;
                                failed |= r.status == ObjectStatus::Failed;
                                reports.push(r);
                            }
                            if failed {
                                failures.push(batch_item_failure(item.message_id));
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

/// Why `ingest_into` stopped early.
enum Outcome {
    /// Not ingested, for good (reported as `skipped`).
    Skip(SkipReason, String),
    /// Failed (reported as `failed`, retryable or not).
    Fail(Error),
}
use Outcome::{Fail, Skip};

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        Fail(e)
    }
}

impl From<iceberg::Error> for Outcome {
    fn from(e: iceberg::Error) -> Self {
        Fail(e.into())
    }
}

fn landing_outcome(e: LandingError) -> Outcome {
    match e {
        LandingError::Superseded { .. } => Skip(SkipReason::Superseded, e.to_string()),
        LandingError::NotFound { .. } => Skip(SkipReason::NotFound, e.to_string()),
        LandingError::Other { .. } => Fail(Error::Format(FormatError::Source(e))),
    }
}

/// How a set of data files was handed over.
enum Handoff {
    Committed(i64),
    Duplicate(i64),
    Queued,
}

/// An SQS message to redeliver: Lambda's own type (aws_lambda_events), as every function uses.
pub use aws_lambda_events::event::sqs::BatchItemFailure;

fn batch_item_failure(message_id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = message_id;
    f
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

impl ObjectReport {
    /// Writes the object's metrics (EMF) to stdout, as `function`.
    pub fn emit_metrics(&self, function: &str) {
        let r = self;
        let table = r.table.as_deref().unwrap_or("unrouted");
        let status = format!("{:?}", r.status).to_ascii_lowercase();
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
                    if r.status == crate::ingest::ObjectStatus::Failed {
                        1.0
                    } else {
                        0.0
                    },
                ),
                (
                    "ObjectsSkipped",
                    "Count",
                    if r.skipped.is_some() { 1.0 } else { 0.0 },
                ),
                ("MissingColumns", "Count", r.missing_columns.len() as f64),
                ("UnknownColumns", "Count", r.unknown_columns.len() as f64),
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
