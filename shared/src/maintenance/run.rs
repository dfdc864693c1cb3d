//! The compact function's request (which tables, which actions, options, dry run) and the
//! [`Maintainer`] that carries it out table by table, action by action.

use std::sync::Arc;
use std::time::Instant;

use iceberg::{Catalog, TableIdent};
use serde::{Deserialize, Serialize};

use super::clock::{Clock, SystemClock};
use super::compact::{self, GroupTask, RewriteOptions, RewriteReport};
use super::expire::{self, ExpireOptions, ExpireReport};
use super::manifests::{rewrite_manifests, RewriteManifestsOptions, RewriteManifestsReport};
use super::orphans::{self, OrphanOptions, OrphanReport};
use super::swap::MetadataSwap;
use super::{parse_table, table_name, MaintenanceError};
use crate::commit::CommitPolicy;
use crate::config::Config;
use crate::queue::{QueueError, SqsQueue};
use crate::router::TableRouter;
use crate::storage::Stores;

/// A maintenance action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Bin-pack compaction.
    RewriteDataFiles,
    /// Snapshot expiry with file cleanup.
    ExpireSnapshots,
    /// Orphan file removal.
    RemoveOrphanFiles,
    /// Manifests rewritten, clustered by partition (few manifests for many small appends).
    RewriteManifests,
    /// Quarantine replay through the current spec (`floe quarantine replay` on a schedule);
    /// only when asked for, never one of the default actions.
    ReplayQuarantine,
}

/// Options of a scheduled quarantine replay (`replay_quarantine`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayRequest {
    /// Only records quarantined with this code (e.g. `not_allowed`).
    pub code: Option<String>,
    /// Only records quarantined in the last this many hours (by the maintainer's clock).
    #[serde(rename = "since-hours")]
    pub since_hours: Option<u64>,
}

/// What to do: the body of a scheduled event (or its `detail`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceRequest {
    /// `namespace.table` names; empty: every table in the specs plus the quarantine table.
    pub tables: Vec<String>,
    /// Actions in order; empty: all three (rewrite, expire, orphans).
    pub actions: Vec<Action>,
    /// Report what would be done, change nothing.
    #[serde(rename = "dry-run")]
    pub dry_run: bool,
    /// Compaction options.
    pub rewrite: RewriteOptions,
    /// Expiry options.
    pub expire: ExpireOptions,
    /// Orphan removal options.
    pub orphans: OrphanOptions,
    /// Manifest rewrite options.
    pub manifests: RewriteManifestsOptions,
    /// Quarantine replay options.
    pub replay: ReplayRequest,
    /// Send compaction's file groups to `FLOE_COMPACT_QUEUE_URL` instead of rewriting them here.
    #[serde(rename = "fan-out")]
    pub fan_out: bool,
    /// Time budget for the run in ms (capped by the Lambda deadline).
    #[serde(rename = "time-budget-ms")]
    pub time_budget_ms: Option<u64>,
}

/// One table's results.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableReport {
    /// `namespace.table`.
    pub table: String,
    /// Compaction (in a dry run: the plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<RewriteReport>,
    /// File groups sent to the compaction queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_enqueued: Option<usize>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire: Option<ExpireReport>,
    /// Orphan removal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<OrphanReport>,
    /// Manifest rewrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifests: Option<RewriteManifestsReport>,
    /// Quarantine replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<crate::replay::ReplayReport>,
    /// Actions not run, with the reason (e.g. the catalog maintains the table itself).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Errors, one per failed action.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The whole run's results.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MaintenanceReport {
    /// Per table.
    pub tables: Vec<TableReport>,
}

impl MaintenanceReport {
    /// Whether any action failed.
    pub fn failed(&self) -> bool {
        self.tables.iter().any(|t| !t.errors.is_empty())
    }
}

/// Where fanned-out file groups go.
#[async_trait::async_trait]
pub trait GroupQueue: Send + Sync {
    /// Sends the tasks (one message each).
    async fn send(&self, tasks: &[GroupTask]) -> Result<(), QueueError>;
}

/// Fanned-out groups go to a standard queue: groups of one table commit independently.
#[async_trait::async_trait]
impl GroupQueue for SqsQueue {
    async fn send(&self, tasks: &[GroupTask]) -> Result<(), QueueError> {
        for t in tasks {
            let what = format!("file group of {}", t.table);
            self.send_json(t, None, &what).await?;
        }
        Ok(())
    }
}

/// Runs maintenance requests against the configured catalog.
pub struct Maintainer {
    catalog: Arc<dyn Catalog>,
    swap: MetadataSwap,
    stores: Stores,
    default_tables: Vec<TableIdent>,
    policy: CommitPolicy,
    queue: Option<Arc<dyn GroupQueue>>,
    /// The redelivery window: snapshot expiry and orphan removal never use a shorter age, so
    /// idempotency keys outlive every redelivery and no queued request loses its files.
    redelivery_window_ms: i64,
    /// S3 Tables expires snapshots and removes unreferenced files itself, and refuses listing and
    /// deleting in table storage: Floe only compacts there.
    self_maintained: bool,
    /// What "now" is for ages (expiry, orphan guard, replay windows).
    clock: Arc<dyn Clock>,
    /// The configuration (a scheduled replay ingests with it).
    config: Config,
    /// The quarantine table (nothing to replay into it).
    quarantine_table: TableIdent,
}

impl Maintainer {
    /// Opens the catalog, its compare-and-swap, and reads the table specs (for the default tables).
    pub async fn new(config: &Config) -> Result<Self, crate::Error> {
        let stores = Stores::new(config.s3.clone());
        let router =
            TableRouter::load(&config.table_specs, &stores, &config.default_namespace).await?;
        let mut default_tables: Vec<TableIdent> =
            router.specs().iter().map(|s| s.ident.clone()).collect();
        default_tables.push(config.quarantine_table.clone());
        // The catalog and its compare-and-swap both authenticate: read a secret credential once.
        let catalog_config =
            crate::catalog::with_resolved_credential(&config.catalog, &config.s3.region).await?;
        let catalog = crate::catalog::open_catalog(&catalog_config, &config.s3).await?;
        let swap = MetadataSwap::open(&catalog_config, &config.s3.region)
            .await
            .map_err(|e| crate::Error::Maintenance(e.into()))?;
        let queue: Option<Arc<dyn GroupQueue>> = match &config.compact_queue_url {
            Some(url) => Some(Arc::new(
                SqsQueue::new(url, config.sqs_endpoint.as_deref()).await,
            )),
            None => None,
        };
        Ok(Self {
            catalog,
            swap,
            stores,
            default_tables,
            policy: CommitPolicy::from_config(config),
            queue,
            redelivery_window_ms: config.redelivery_window_ms,
            self_maintained: config.catalog.kind == crate::config::CatalogKind::S3Tables,
            clock: Arc::new(SystemClock),
            config: config.clone(),
            quarantine_table: config.quarantine_table.clone(),
        })
    }

    /// A function's start-up, as `Ingestor::from_env`: configuration from the environment
    /// (failing with every problem named), telemetry, then catalog, swap, specs and queue.
    pub async fn from_env() -> Result<Self, crate::Error> {
        let config = crate::telemetry::start()?;
        Self::new(&config)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "init failed"))
    }

    /// Measures ages (snapshot expiry, the orphan guard) by `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends fanned-out groups to `queue` (another transport than SQS, e.g. in tests).
    pub fn with_group_queue(mut self, queue: Arc<dyn GroupQueue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// The catalog in use.
    pub fn catalog(&self) -> Arc<dyn Catalog> {
        self.catalog.clone()
    }

    /// Carries out `req`; `deadline` bounds compaction (see [`compact::RewriteDataFiles`]).
    /// A failed action is reported and the run goes on with the next.
    pub async fn run(
        &self,
        req: &MaintenanceRequest,
        deadline: Option<Instant>,
    ) -> MaintenanceReport {
        let deadline = match (deadline, req.time_budget_ms) {
            (d, Some(ms)) => {
                let budget = Instant::now() + std::time::Duration::from_millis(ms);
                Some(d.map_or(budget, |d| d.min(budget)))
            }
            (d, None) => d,
        };
        let actions = if req.actions.is_empty() {
            vec![
                Action::RewriteDataFiles,
                Action::ExpireSnapshots,
                Action::RemoveOrphanFiles,
            ]
        } else {
            req.actions.clone()
        };
        let mut tables = Vec::new();
        let mut bad = Vec::new();
        if req.tables.is_empty() {
            // Tables of the specs that no object has created yet are not an error.
            for t in &self.default_tables {
                if self.catalog.table_exists(t).await.unwrap_or(true) {
                    tables.push(t.clone());
                }
            }
        } else {
            for t in &req.tables {
                match parse_table(t) {
                    Ok(i) => tables.push(i),
                    Err(e) => bad.push(TableReport {
                        table: t.clone(),
                        errors: vec![e.to_string()],
                        ..Default::default()
                    }),
                }
            }
        }
        let mut report = MaintenanceReport { tables: bad };
        for ident in tables {
            let mut t = TableReport {
                table: table_name(&ident),
                ..Default::default()
            };
            for action in &actions {
                if let Some(why) = self.not_run(*action, &ident, req) {
                    t.skipped.push(format!("{}: {why}", action_name(*action)));
                    continue;
                }
                // Boxed: the actions' futures are deep, and one at a time is all a run needs.
                let result =
                    Box::pin(self.run_action(*action, &ident, req, deadline, &mut t)).await;
                if let Err(e) = result {
                    tracing::error!(table = %ident, ?action, error = %e, "maintenance action failed");
                    crate::metrics::emit_maintenance(&t.table, action_name(*action), &[], true);
                    t.errors.push(format!("{}: {e}", action_name(*action)));
                }
            }
            report.tables.push(t);
        }
        report
    }

    /// Why `action` is not run on `ident`: a replay in a dry run or of the quarantine table
    /// itself; expiry and orphan removal where S3 Tables maintains the table.
    fn not_run(
        &self,
        action: Action,
        ident: &TableIdent,
        req: &MaintenanceRequest,
    ) -> Option<&'static str> {
        match action {
            Action::ReplayQuarantine if req.dry_run => Some("not run in a dry run"),
            Action::ReplayQuarantine if *ident == self.quarantine_table => {
                Some("the quarantine table itself")
            }
            Action::ExpireSnapshots | Action::RemoveOrphanFiles if self.self_maintained => {
                Some("S3 Tables does this itself (table bucket maintenance settings)")
            }
            _ => None,
        }
    }

    async fn run_action(
        &self,
        action: Action,
        ident: &TableIdent,
        req: &MaintenanceRequest,
        deadline: Option<Instant>,
        out: &mut TableReport,
    ) -> Result<(), MaintenanceError> {
        let catalog = self.catalog.as_ref();
        match action {
            Action::RewriteDataFiles if req.dry_run || req.fan_out => {
                let table = catalog.load_table(ident).await?;
                let plan = compact::plan(&table, &req.rewrite).await?;
                let mut r = RewriteReport {
                    groups_planned: plan.groups.len(),
                    groups_remaining: plan.groups.len(),
                    files_in: plan.groups.iter().map(|g| g.files.len()).sum(),
                    bytes_in: plan.groups.iter().map(|g| g.bytes()).sum(),
                    rows: plan.groups.iter().map(|g| g.rows()).sum(),
                    ..Default::default()
                };
                if req.fan_out && !req.dry_run {
                    let queue = self.queue.as_ref().ok_or_else(|| {
                        MaintenanceError::Unsupported("fan-out needs FLOE_COMPACT_QUEUE_URL".into())
                    })?;
                    let tasks = compact::group_tasks(ident, &plan, &req.rewrite);
                    queue.send(&tasks).await.map_err(MaintenanceError::Queue)?;
                    out.groups_enqueued = Some(tasks.len());
                    r.groups_remaining = 0;
                }
                out.rewrite = Some(r);
            }
            Action::RewriteDataFiles => {
                let r = compact::RewriteDataFiles::new(catalog, &self.swap, ident)
                    .with_options(req.rewrite.clone())
                    .with_deadline(deadline)
                    .with_policy(self.policy)
                    .execute()
                    .await?;
                emit_rewrite(&out.table, &r);
                out.rewrite = Some(r);
            }
            Action::ExpireSnapshots => {
                let mut opts = req.expire.clone();
                opts.min_age_floor_ms = self.redelivery_window_ms;
                let r = expire::ExpireSnapshots::new(catalog, &self.stores, ident)
                    .with_options(opts)
                    .dry_run(req.dry_run)
                    .with_clock(self.clock.as_ref())
                    .execute()
                    .await?;
                crate::metrics::emit_maintenance(
                    &out.table,
                    "expire_snapshots",
                    &[
                        (
                            "SnapshotsExpired",
                            "Count",
                            r.snapshots_expired.len() as f64,
                        ),
                        ("DataFilesDeleted", "Count", r.data_files_deleted as f64),
                        ("DataBytesDeleted", "Bytes", r.data_bytes_deleted as f64),
                        ("FilesDeleted", "Count", r.deleted.len() as f64),
                    ],
                    false,
                );
                out.expire = Some(r);
            }
            Action::RewriteManifests => {
                let r = rewrite_manifests(
                    catalog,
                    &self.swap,
                    ident,
                    &req.manifests,
                    &self.policy,
                    req.dry_run,
                )
                .await?;
                crate::metrics::emit_maintenance(
                    &out.table,
                    "rewrite_manifests",
                    &[
                        ("ManifestsBefore", "Count", r.manifests_before as f64),
                        ("ManifestsAfter", "Count", r.manifests_after as f64),
                    ],
                    false,
                );
                out.manifests = Some(r);
            }
            Action::ReplayQuarantine => {
                let since = req.replay.since_hours.map(|h| {
                    let ms = self.clock.now_ms() - (h as i64) * 3_600_000;
                    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
                });
                let opts = crate::replay::ReplayOptions {
                    table: out.table.clone(),
                    code: req.replay.code.clone(),
                    since,
                };
                let r = crate::replay::replay(self.config.clone(), &opts)
                    .await
                    .map_err(|e| MaintenanceError::Replay(Box::new(e)))?;
                crate::metrics::emit_maintenance(
                    &out.table,
                    "replay_quarantine",
                    &[
                        ("RowsReplayed", "Count", r.rows_replayed as f64),
                        ("RowsLanded", "Count", r.rows_landed as f64),
                        (
                            "RowsStillQuarantined",
                            "Count",
                            r.rows_still_quarantined as f64,
                        ),
                    ],
                    false,
                );
                out.replay = Some(r);
            }
            Action::RemoveOrphanFiles => {
                let mut opts = req.orphans.clone();
                opts.min_age_floor_ms = self.redelivery_window_ms;
                let r = orphans::RemoveOrphanFiles::new(catalog, &self.stores, ident)
                    .with_options(opts)
                    .dry_run(req.dry_run)
                    .with_clock(self.clock.as_ref())
                    .execute()
                    .await?;
                crate::metrics::emit_maintenance(
                    &out.table,
                    "remove_orphan_files",
                    &[
                        ("OrphansRemoved", "Count", r.orphans.len() as f64),
                        ("OrphanBytes", "Bytes", r.orphan_bytes as f64),
                    ],
                    false,
                );
                out.orphans = Some(r);
            }
        }
        Ok(())
    }

    /// Rewrites and commits one fanned-out file group.
    pub async fn run_group(&self, task: &GroupTask) -> Result<RewriteReport, MaintenanceError> {
        let r =
            compact::run_group_task(self.catalog.as_ref(), &self.swap, task, &self.policy).await?;
        emit_rewrite(&task.table, &r);
        Ok(r)
    }
}

fn emit_rewrite(table: &str, r: &RewriteReport) {
    crate::metrics::emit_maintenance(
        table,
        "rewrite_data_files",
        &[
            ("GroupsCommitted", "Count", r.groups_committed as f64),
            ("GroupsRemaining", "Count", r.groups_remaining as f64),
            ("FilesIn", "Count", r.files_in as f64),
            ("FilesOut", "Count", r.files_out as f64),
            ("BytesIn", "Bytes", r.bytes_in as f64),
            ("BytesOut", "Bytes", r.bytes_out as f64),
            ("DurationMs", "Milliseconds", r.elapsed_ms as f64),
        ],
        false,
    );
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::RewriteDataFiles => "rewrite_data_files",
        Action::ExpireSnapshots => "expire_snapshots",
        Action::RemoveOrphanFiles => "remove_orphan_files",
        Action::RewriteManifests => "rewrite_manifests",
        Action::ReplayQuarantine => "replay_quarantine",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_defaults_and_names() {
        let r: MaintenanceRequest = serde_json::from_str("{}").unwrap();
        assert!(r.actions.is_empty() && !r.dry_run && r.tables.is_empty());
        let r: MaintenanceRequest = serde_json::from_str(
            r#"{"tables":["sales.orders"],"actions":["expire_snapshots"],"dry-run":true,
                "expire":{"min-snapshots-to-keep":3},"orphans":{"older-than-ms":1000}}"#,
        )
        .unwrap();
        assert_eq!(r.actions, vec![Action::ExpireSnapshots]);
        assert!(r.dry_run);
        assert_eq!(r.expire.min_snapshots_to_keep, Some(3));
        assert_eq!(r.orphans.older_than_ms, Some(1000));
        assert!(serde_json::from_str::<MaintenanceRequest>(r#"{"dryrun":true}"#).is_err());
    }
}
