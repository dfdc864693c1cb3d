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
use crate::format::{FormatError, RowCounts};
use crate::landing::{Landing, LandingError};
use crate::pipeline::ObjectPipeline;
use crate::quarantine::{quarantine_spec, QuarantineError, QuarantineRecord, QuarantineSink};
use crate::queue::{CommitQueue, CommitRequest, SqsQueue};
use crate::register::{Decline, Registration};
use crate::router::TableRouter;
use crate::source::ObjectRef;
use crate::spec::{TableSpec, UnknownColumns};
use crate::storage::Stores;
use crate::table::load_or_create;
use crate::write::{BatchWriter, DataFileSink};
use crate::Error;

mod evolve;
mod report;
pub use report::{
    ColumnDrift, FilesWritten, Handoff, ObjectOutcome, ObjectReport, ObjectStatus, Seen, SkipReason,
};

/// Shared state of an ingest function: built once per container.
pub struct Ingestor {
    queue: Option<Arc<dyn CommitQueue>>,
    pub(crate) config: Config,
    quarantine_spec: TableSpec,
    pub(crate) stores: Stores,
    /// Routing, pinned landing reads and decoding: shared with validate.
    pub(crate) pipeline: ObjectPipeline,
    /// The catalog's compare-and-swap, opened on the first schema promotion.
    swap: tokio::sync::OnceCell<crate::swap::MetadataSwap>,
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
            swap: tokio::sync::OnceCell::new(),
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
        self.run(object, None).await
    }

    /// Ingests one object into `spec`'s table whatever its key (quarantine replay), with the
    /// same pinning, idempotency and report as [`Ingestor::ingest`].
    pub async fn ingest_as(&self, object: ObjectRef, spec: &TableSpec) -> ObjectReport {
        self.run(object, Some(spec)).await
    }

    async fn run(&self, object: ObjectRef, spec: Option<&TableSpec>) -> ObjectReport {
        let started = Instant::now();
        let mut seen = Seen {
            object: object.url(),
            table: None,
            bytes_in: object.size.unwrap_or(0),
            not_registered: None,
        };
        let outcome = match self.ingest_into(object, &mut seen, spec).await {
            Ok(outcome) => outcome,
            Err(Skip(reason, why)) => ObjectOutcome::Skipped { reason, why },
            Err(Fail(e)) => ObjectOutcome::Failed(e),
        };
        match &outcome {
            ObjectOutcome::Skipped { reason, why } => {
                tracing::warn!(object = %seen.object, table = ?seen.table, reason = ?reason, error = %why, "object skipped")
            }
            ObjectOutcome::Failed(e) => {
                tracing::error!(object = %seen.object, table = ?seen.table, retryable = e.is_retryable(), error = %e, "ingest failed")
            }
            _ => {}
        }
        let report = ObjectReport::fold(seen, outcome, started.elapsed().as_millis() as u64);
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

    /// Routes the object and pins down the version it reads.
    async fn ingest_into(
        &self,
        mut object: ObjectRef,
        seen: &mut Seen,
        routed: Option<&TableSpec>,
    ) -> Result<ObjectOutcome, Outcome> {
        let folder_marker = |object: &ObjectRef| {
            Skip(
                SkipReason::FolderMarker,
                format!(
                    "{}: a folder marker (zero-byte key ending in `/`), not data",
                    object.url()
                ),
            )
        };
        if object.key.ends_with('/') && object.size.unwrap_or(0) == 0 {
            return Err(folder_marker(&object));
        }
        let spec = match routed {
            Some(spec) => spec,
            None => self
                .pipeline
                .router
                .route(&object.bucket, &object.key)
                .map_err(|e| Skip(SkipReason::NoRoute, e.to_string()))?,
        };
        seen.table = Some(spec.ident.to_string());
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
            seen.bytes_in = meta.size;
            if object.key.ends_with('/') && meta.size == 0 {
                return Err(folder_marker(&object));
            }
        }
        self.ingest_version(object, spec, seen).await
    }

    /// Reads, writes and hands off one pinned object version.
    async fn ingest_version(
        &self,
        object: ObjectRef,
        spec: &TableSpec,
        seen: &mut Seen,
    ) -> Result<ObjectOutcome, Outcome> {
        let table = load_or_create(self.pipeline.catalog.as_ref(), spec).await?;
        if let Some(snapshot_id) = find_committed(&table, &object.idempotency_key()) {
            return Ok(ObjectOutcome::Duplicate { snapshot_id });
        }
        let table_name = spec.ident.to_string();
        let table = if spec.contract.unknown_columns == UnknownColumns::Evolve {
            match self.evolve_schema(table, spec, &object).await {
                Ok(t) => t,
                // A change no promotion makes safe: the object is quarantined whole.
                Err(Error::Format(e)) if !e.is_retryable() => {
                    let rows = RowCounts::default();
                    return self
                        .quarantine_object(&object, &table_name, e, rows)
                        .await
                        .map_err(gone_or_failed);
                }
                Err(e) => return Err(Fail(e)),
            }
        } else {
            table
        };
        if spec.registers(&object.key) {
            match self.inspect_for_register(&table, spec, &object).await {
                Ok(registration) => return self.register(&table, &object, registration).await,
                Err(Decline::NotEligible(why)) => {
                    tracing::info!(object = %object.url(), reason = %why, "not registered in place; ingesting");
                    seen.not_registered = Some(why);
                }
                Err(Decline::Read(FormatError::Source(e))) => return Err(landing_outcome(e)),
                Err(Decline::Read(e)) => return Err(Fail(e.into())),
            }
        }
        self.write_and_hand_off(&table, spec, &object, &table_name)
            .await
    }

    /// The rows path: good rows to data files and rejected rows to quarantine, both handed off
    /// (quarantine first), or the object quarantined whole when it cannot be read.
    async fn write_and_hand_off(
        &self,
        table: &iceberg::table::Table,
        spec: &TableSpec,
        object: &ObjectRef,
        table_name: &str,
    ) -> Result<ObjectOutcome, Outcome> {
        let mut qsink = QuarantineSink::new(
            self.pipeline.catalog.as_ref(),
            &self.quarantine_spec,
            table_name,
            object,
        );
        let mut rows = RowCounts::default();
        let (files, drift) = match self
            .write_rows(table, spec, object, &mut qsink, &mut rows)
            .await
        {
            Ok(written) => written,
            Err(Error::Format(FormatError::Source(e))) => return Err(landing_outcome(e)),
            Err(Error::Format(e)) if !e.is_retryable() => {
                // Unreadable as a whole: keep the object, record why, write nothing to the table.
                // Data files written so far stay uncommitted (orphans for maintenance to remove).
                return self
                    .quarantine_object(object, table_name, e, rows)
                    .await
                    .map_err(gone_or_failed);
            }
            Err(e) => return Err(Fail(e)),
        };
        let written = FilesWritten::of(&files);
        // Quarantine first: if we die between the two commits, the redelivery skips the
        // quarantine append (already there) and completes the table append.
        let quarantine = match qsink.finish().await? {
            Some((qtable, qfiles)) => Some(
                self.hand_off(&qtable, qfiles, object, rows.quarantined)
                    .await?,
            ),
            None => None,
        };
        if let (true, Some(Handoff::Duplicate(snapshot_id))) = (files.is_empty(), quarantine) {
            // Every row was rejected before, by an earlier delivery: nothing new anywhere.
            return Ok(ObjectOutcome::Duplicate { snapshot_id });
        }
        if !drift.missing.is_empty() {
            tracing::warn!(object = %object.url(), columns = ?drift.missing, "table columns missing from the object were stored as nulls");
        }
        let handoff = if files.is_empty() {
            None
        } else {
            Some(self.hand_off(table, files, object, rows.written).await?)
        };
        Ok(ObjectOutcome::Written {
            rows,
            files: written,
            handoff,
            drift,
        })
    }

    /// Checks `object` for registering in place against the table's current schema and
    /// contract (see [`crate::register`]).
    async fn inspect_for_register(
        &self,
        table: &iceberg::table::Table,
        spec: &TableSpec,
        object: &ObjectRef,
    ) -> Result<Registration, Decline> {
        let arrow_schema = schema_to_arrow_schema(table.metadata().current_schema())
            .map_err(|e| Decline::NotEligible(e.to_string()))?;
        let contract = self
            .pipeline
            .contract(spec, Arc::new(arrow_schema))
            .map_err(|e| Decline::NotEligible(e.to_string()))?;
        crate::register::inspect(
            self.pipeline.landing.clone(),
            object,
            spec,
            table,
            &contract,
        )
        .await
    }

    /// Commits a qualifying object where it lies (after extending the table's name mapping,
    /// through which readers find its columns).
    async fn register(
        &self,
        table: &iceberg::table::Table,
        object: &ObjectRef,
        registration: Registration,
    ) -> Result<ObjectOutcome, Outcome> {
        use iceberg::transaction::{ApplyTransactionAction, Transaction};
        let table = match crate::register::name_mapping_update(table) {
            Ok(None) => table.clone(),
            Ok(Some(mapping)) => {
                let tx = Transaction::new(table);
                let tx = tx
                    .update_table_properties()
                    .set(
                        iceberg::spec::DEFAULT_SCHEMA_NAME_MAPPING.to_string(),
                        mapping,
                    )
                    .apply(tx)?;
                tx.commit(self.pipeline.catalog.as_ref()).await?
            }
            Err(e) => {
                return Err(Fail(Error::Iceberg(iceberg::Error::new(
                    iceberg::ErrorKind::Unexpected,
                    format!("cannot write the name mapping: {e}"),
                ))))
            }
        };
        let Registration {
            data_file,
            rows,
            missing,
        } = registration;
        let handoff = self.hand_off(&table, vec![data_file], object, rows).await?;
        tracing::info!(object = %object.url(), table = %table.identifier(), rows, "registered in place");
        Ok(ObjectOutcome::Registered {
            rows,
            handoff,
            missing,
        })
    }

    /// Decodes the object batch by batch: good rows to data files, rejected rows to `qsink`,
    /// every batch counted in `rows` (also when a later batch fails).
    async fn write_rows(
        &self,
        table: &iceberg::table::Table,
        spec: &TableSpec,
        object: &ObjectRef,
        qsink: &mut QuarantineSink<'_>,
        rows: &mut RowCounts,
    ) -> Result<(Vec<iceberg::spec::DataFile>, ColumnDrift), Error> {
        let sink = DataFileSink::new(table)
            .await?
            .with_partition_buffer_bytes(self.config.partition_buffer_bytes);
        let mut sink = BatchWriter::new(sink, self.config.write_pipeline);
        let arrow_schema = Arc::new(schema_to_arrow_schema(table.metadata().current_schema())?);
        let mut decoder = self
            .pipeline
            .open_decoder(object, spec, arrow_schema)
            .await?;
        while let Some(c) = decoder.next_batch().await? {
            rows.add(&c);
            if c.batch.num_rows() > 0 {
                sink.write(c.batch).await?;
            }
            if !c.rejected.is_empty() {
                let records: Vec<QuarantineRecord> =
                    c.rejected.into_iter().map(Into::into).collect();
                qsink.write(&records).await?;
            }
        }
        let drift = ColumnDrift {
            missing: decoder.missing_columns(),
            unknown: decoder.unknown_columns().to_vec(),
        };
        let files = sink.close().await?;
        let limit = self.config.limits.max_files_per_object;
        if files.len() > limit {
            return Err(Error::Format(FormatError::Limit {
                object: object.url(),
                limit: "FLOE_MAX_FILES_PER_OBJECT",
                message: format!(
                    "the object writes {} data files (one per partition and target size), more than {limit}",
                    files.len(),
                ),
            }));
        }
        Ok((files, drift))
    }

    /// `unknown_columns = "evolve"`: adds the object's new columns and nested fields with the
    /// types their values have and applies the safe promotions its data needs (see
    /// [`evolve`]), then returns the reloaded table. A change no promotion makes safe refuses
    /// the object (`incompatible_type`).
    async fn evolve_schema(
        &self,
        table: iceberg::table::Table,
        spec: &TableSpec,
        object: &ObjectRef,
    ) -> Result<iceberg::table::Table, Error> {
        let arrow_schema = Arc::new(schema_to_arrow_schema(table.metadata().current_schema())?);
        // An unreadable object is dealt with by the main pass; nothing to evolve from it.
        let observed = match self.pipeline.open_decoder(object, spec, arrow_schema).await {
            Ok(decoder) => match decoder.observe().await {
                Ok(o) => o,
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
            let plan = evolve::plan(
                current.metadata().current_schema(),
                &observed.columns,
                observed.typed,
            )
            .map_err(|i| {
                Error::Format(FormatError::Rejected {
                    object: object.url(),
                    code: crate::violation::ErrorCode::IncompatibleType,
                    message: format!("column `{}`: {}", i.path, i.message),
                })
            })?;
            if plan.is_empty() {
                return Ok(current);
            }
            let committed = self.apply_plan(&current, &plan).await;
            match committed {
                Ok(()) => {
                    tracing::info!(table = %spec.ident, added = ?plan.add.iter().map(|(p, n, t)| format!("{}{n}: {}", p.as_deref().map(|p| format!("{p}.")).unwrap_or_default(), crate::infer::type_text(t))).collect::<Vec<_>>(), promoted = ?plan.promote.iter().map(|(_, path, t)| format!("{path} → {t}")).collect::<Vec<_>>(), object = %object.url(), "schema evolved");
                    continue; // reload: the next pass confirms nothing is left
                }
                // A concurrent writer may have changed the schema: reload and plan again,
                // after the policy's pause (backing off as the other commit paths do).
                Err(e) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(table = %spec.ident, attempt, delay_ms = delay.as_millis() as u64, error = %e, "schema update failed; retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    /// Commits one step of a plan: the additions (iceberg's schema update, fresh field ids),
    /// or when there are none, the promotions (a new schema through the catalog's swap).
    async fn apply_plan(
        &self,
        table: &iceberg::table::Table,
        plan: &evolve::Plan,
    ) -> Result<(), Error> {
        use iceberg::transaction::{AddColumn, ApplyTransactionAction, Transaction};
        if !plan.add.is_empty() {
            let tx = Transaction::new(table);
            let mut action = tx.update_schema();
            for (parent, name, ty) in &plan.add {
                action = action.add_column(match parent {
                    None => AddColumn::optional(name, ty.clone()),
                    Some(p) => AddColumn::builder()
                        .parent(p.clone())
                        .name(name.clone())
                        .field_type(ty.clone())
                        .build(),
                });
            }
            action
                .apply(tx)?
                .commit(self.pipeline.catalog.as_ref())
                .await?;
            return Ok(());
        }
        let schema = evolve::promoted(table.metadata().current_schema(), &plan.promote)?;
        let swap = self
            .swap
            .get_or_try_init(|| async {
                let cfg = crate::catalog::with_resolved_credential(
                    &self.config.catalog,
                    &self.config.s3.region,
                )
                .await?;
                crate::swap::MetadataSwap::open(&cfg, &self.config.s3.region)
                    .await
                    .map_err(|e| Error::Evolve {
                        table: table.identifier().to_string(),
                        source: Box::new(e),
                    })
            })
            .await?;
        swap.commit(
            table,
            vec![iceberg::TableRequirement::CurrentSchemaIdMatch {
                current_schema_id: table.metadata().current_schema_id(),
            }],
            vec![
                iceberg::TableUpdate::AddSchema { schema },
                iceberg::TableUpdate::SetCurrentSchema { schema_id: -1 },
            ],
        )
        .await
        .map_err(|e| Error::Evolve {
            table: table.identifier().to_string(),
            source: Box::new(e),
        })
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

    /// Copies an unreadable object to quarantine and records it in the quarantine table.
    async fn quarantine_object(
        &self,
        object: &ObjectRef,
        table_name: &str,
        cause: crate::format::FormatError,
        rows: RowCounts,
    ) -> Result<ObjectOutcome, Error> {
        let dest = self
            .config
            .quarantine_url
            .clone()
            .unwrap_or_else(|| format!("s3://{}/_floe_quarantine", object.bucket));
        let copied = crate::quarantine::copy_object(&self.pipeline.landing, object, &dest)
            .await
            .map_err(|source| Error::Quarantine {
                object: object.url(),
                source,
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
        let handoff = self
            .hand_off(&qtable, qfiles, object, rows.all_quarantined().quarantined)
            .await?;
        tracing::warn!(object = %object.url(), error = %cause, "object quarantined whole");
        Ok(ObjectOutcome::Quarantined {
            rows,
            cause: cause.to_string(),
            handoff,
        })
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

/// A whole-object quarantine's failure: a copy of a version gone since is skipped, like any
/// read of a gone version.
fn gone_or_failed(e: Error) -> Outcome {
    match e {
        Error::Quarantine {
            source: QuarantineError::Copy { source, .. },
            ..
        } if !source.is_retryable() => landing_outcome(source),
        e => Fail(e),
    }
}

fn landing_outcome(e: LandingError) -> Outcome {
    match e {
        LandingError::Superseded { .. } => Skip(SkipReason::Superseded, e.to_string()),
        LandingError::NotFound { .. } => Skip(SkipReason::NotFound, e.to_string()),
        LandingError::Other { .. } => Fail(Error::Format(FormatError::Source(e))),
    }
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
