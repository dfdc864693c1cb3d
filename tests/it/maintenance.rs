//! Table maintenance against the real S3 server and SQL catalogs: bin-pack compaction committed
//! as `replace` snapshots (rows identical before and after, read by Floe and by pyiceberg),
//! appends racing a compaction, time-budgeted partial progress, fan-out over a queue, snapshot
//! expiry that deletes exactly the unreachable files, and orphan removal behind its age guard.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use floe::commit::CommitPolicy;
use floe::ingest::{Ingestor, ObjectStatus};
use floe::maintenance::compact::{self as binpack, GroupTask, RewriteOptions};
use floe::maintenance::expire::metadata_version;
use floe::maintenance::replace::commit_replace;
use floe::maintenance::run::{Action, GroupQueue, Maintainer, MaintenanceRequest};
use floe::maintenance::swap::MetadataSwap;
use floe::source::ObjectRef;
use futures::TryStreamExt;
use iceberg::spec::Operation;
use iceberg::table::Table;
use object_store::ObjectStoreExt;

use crate::commit_queue::sqs_event;
use crate::sales::{self, Sale};
use crate::support::{self, sales_spec, CapturedQueue, TestEnv, LANDING};

const DAY_MICROS: i64 = 86_400_000_000;

/// `objects` objects of `per` rows; object `i`'s rows all fall on day `i % days`.
pub(crate) fn objects(objects: usize, per: usize, days: usize) -> Vec<Vec<Sale>> {
    let all = sales::rows((objects * per) as i64);
    let base = all[0].ts_micros.unwrap();
    all.chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(j, s)| Sale {
                    ts_micros: Some(base + (i % days) as i64 * DAY_MICROS + j as i64 * 60_000_000),
                    ..s.clone()
                })
                .collect()
        })
        .collect()
}

/// Lands each object as its own small data file(s): ingest writes the files (queue mode, requests
/// captured), then the commit path commits `per_commit` objects per snapshot.
pub(crate) async fn load_small_files(
    env: &TestEnv,
    prefix: &str,
    objs: &[Vec<Sale>],
    per_commit: usize,
) {
    let queue = Arc::new(CapturedQueue::default());
    let ingestor = Ingestor::new(env.config())
        .await
        .unwrap()
        .with_commit_queue(queue.clone());
    for (i, rows) in objs.iter().enumerate() {
        let key = env.key(prefix, &format!("o-{i:04}.csv"));
        env.put(&key, sales::csv(rows)).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(r.status, ObjectStatus::Queued, "{r:?}");
    }
    let requests = std::mem::take(&mut *queue.0.lock().unwrap());
    for chunk in requests.chunks(per_commit) {
        let report = support::commit_requests(ingestor.catalog(), chunk).await;
        assert!(report.failed_message_ids.is_empty(), "{report:?}");
    }
}

fn sorted_rows(batches: &[arrow_array::RecordBatch]) -> Vec<Sale> {
    let mut rows = sales::from_batches(batches);
    rows.sort();
    rows
}

pub(crate) async fn table_rows(t: &Table) -> Vec<Sale> {
    sorted_rows(&support::scan(t).await)
}

/// Rows, live files and checksum as pyiceberg reads them, at the current or a given snapshot.
fn pyiceberg_read(env: &TestEnv, table: &str, snapshot: Option<i64>) -> serde_json::Value {
    let extra: Vec<String> = snapshot.map(|id| id.to_string()).into_iter().collect();
    support::pyiceberg(env, "table_checksum.py", table, &extra)
}

pub(crate) fn request(actions: &[Action]) -> MaintenanceRequest {
    MaintenanceRequest {
        actions: actions.to_vec(),
        ..Default::default()
    }
}

/// Every object under the table's location, as `s3://bucket/key`.
async fn list_table(env: &TestEnv, t: &Table) -> BTreeSet<String> {
    let location = t.metadata().location().to_string();
    let (store, prefix) = env.stores().for_url(&location).unwrap();
    let bucket = location
        .trim_start_matches("s3://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    store
        .list(Some(&prefix))
        .map_ok(|m| format!("s3://{bucket}/{}", m.location))
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_rewrites_hundreds_of_small_files_without_changing_rows() {
    let env = TestEnv::new(&[("small", sales_spec("small", "small/", ""))]);
    let objs = objects(200, 12, 4);
    load_small_files(&env, "small/", &objs, 50).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let catalog = maintainer.catalog();
    let before = catalog.load_table(&env.ident("small")).await.unwrap();
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(support::data_files(&before).await.len(), 200);
    assert_eq!(table_rows(&before).await, expected);
    let py_before = pyiceberg_read(&env, "small", None);
    assert_eq!(py_before["rows"], 2400);

    // A dry run plans and changes nothing.
    let mut req = request(&[Action::RewriteDataFiles]);
    req.dry_run = true;
    let dry = maintainer.run(&req, None).await;
    let plan = dry.tables[0].rewrite.clone().unwrap();
    assert_eq!((plan.groups_planned, plan.files_in), (4, 200), "{dry:?}");
    let same = catalog.load_table(&env.ident("small")).await.unwrap();
    assert_eq!(
        same.metadata().current_snapshot_id(),
        before.metadata().current_snapshot_id()
    );

    let report = maintainer
        .run(&request(&[Action::RewriteDataFiles]), None)
        .await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert_eq!(
        (r.groups_committed, r.files_in, r.files_out, r.rows),
        (4, 200, 4, 2400),
        "{r:?}"
    );
    assert_eq!(r.bytes_in, plan.bytes_in);

    let after = catalog.load_table(&env.ident("small")).await.unwrap();
    let files = support::data_files(&after).await;
    assert_eq!(files.len(), 4, "one file per day partition: {files:?}");
    for f in &files {
        let day_dirs: HashSet<&str> = f.split('/').filter(|s| s.starts_with("ts_day=")).collect();
        assert_eq!(day_dirs.len(), 1, "{f}");
    }
    assert_eq!(table_rows(&after).await, expected);
    let snap = after.metadata().current_snapshot().unwrap();
    assert_eq!(snap.summary().operation, Operation::Replace);
    assert_eq!(
        snap.summary().additional_properties["total-records"],
        "2400"
    );
    assert_eq!(
        snap.summary().additional_properties["total-data-files"],
        "4"
    );
    let py_after = pyiceberg_read(&env, "small", None);
    assert_eq!(py_after["rows"], 2400);
    assert_eq!(py_after["files"], 4);
    assert_eq!(
        py_after["checksum"], py_before["checksum"],
        "pyiceberg sees other rows"
    );

    // The previous snapshot still reads the 200 original files (time travel).
    let old = before.metadata().current_snapshot_id().unwrap();
    let py_old = pyiceberg_read(&env, "small", Some(old));
    assert_eq!(
        (py_old["rows"].as_u64(), py_old["files"].as_u64()),
        (Some(2400), Some(200))
    );

    // Nothing left to do: a second run plans no group.
    let again = maintainer
        .run(&request(&[Action::RewriteDataFiles]), None)
        .await;
    assert_eq!(again.tables[0].rewrite.as_ref().unwrap().groups_planned, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_racing_a_compaction_are_all_kept() {
    let env = TestEnv::with_postgres(&[("race", sales_spec("race", "race/", ""))]);
    let objs = objects(60, 10, 3);
    let (first, later) = objs.split_at(40);
    load_small_files(&env, "race/", first, 20).await;
    let config = env.config();
    let maintainer = Maintainer::new(&config).await.unwrap();
    let catalog = maintainer.catalog();
    let swap = MetadataSwap::open(&config.catalog, &config.s3.region)
        .await
        .unwrap();
    let ident = env.ident("race");

    // Deterministic interleaving: rewrite from snapshot S, let appends land, then commit.
    let table = catalog.load_table(&ident).await.unwrap();
    let plan = binpack::plan(&table, &RewriteOptions::default())
        .await
        .unwrap();
    assert_eq!(plan.groups.len(), 3);
    let mut rewritten = Vec::new();
    for g in &plan.groups {
        rewritten.push(binpack::rewrite_group(&table, g, None).await.unwrap());
    }
    let ingestor = env.ingestor().await;
    for (i, rows) in later[..10].iter().enumerate() {
        let key = env.key("race/", &format!("late-{i:02}.csv"));
        env.put(&key, sales::csv(rows)).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    }
    // A second compactor rewrote the first group too and committed first: ours must drop it.
    let winner = binpack::rewrite_group(&table, &plan.groups[0], None)
        .await
        .unwrap();
    let won = commit_replace(
        catalog.as_ref(),
        &swap,
        &ident,
        &[winner],
        &CommitPolicy::new(10),
    )
    .await
    .unwrap();
    assert_eq!(won.committed, vec![0]);
    let out = commit_replace(
        catalog.as_ref(),
        &swap,
        &ident,
        &rewritten,
        &CommitPolicy::new(10),
    )
    .await
    .unwrap();
    assert_eq!(out.committed, vec![1, 2], "{out:?}");
    assert_eq!(out.dropped, vec![0]);
    // The dropped group's new files were deleted, not left behind.
    let stores = env.stores();
    for f in &rewritten[0].added {
        let (store, path) = stores.for_url(f.file_path()).unwrap();
        assert!(
            store.head(&path).await.is_err(),
            "{} still exists",
            f.file_path()
        );
    }
    let mut expected: Vec<Sale> = objs[..50].concat();
    expected.sort();
    let t = catalog.load_table(&ident).await.unwrap();
    assert_eq!(table_rows(&t).await, expected);

    // Free-running: compaction and ten more appends at the same time, on PostgreSQL.
    let appender = {
        let env_ingestor = env.ingestor().await;
        let keys: Vec<(String, Vec<u8>)> = later[10..]
            .iter()
            .enumerate()
            .map(|(i, rows)| {
                (
                    env.key("race/", &format!("live-{i:02}.csv")),
                    sales::csv(rows),
                )
            })
            .collect();
        for (k, b) in &keys {
            env.put(k, b.clone()).await;
        }
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for (k, _) in keys {
                statuses.push(env_ingestor.ingest(ObjectRef::new(LANDING, k)).await.status);
            }
            statuses
        })
    };
    let mut opts = request(&[Action::RewriteDataFiles]);
    opts.rewrite.min_input_files = 2;
    let report = maintainer.run(&opts, None).await;
    assert!(!report.failed(), "{report:?}");
    let statuses = appender.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == ObjectStatus::Committed),
        "{statuses:?}"
    );
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    let t = catalog.load_table(&ident).await.unwrap();
    assert_eq!(table_rows(&t).await, expected, "rows lost or duplicated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_budget_commits_partial_progress_and_the_next_run_finishes() {
    let env = TestEnv::new(&[("budget", sales_spec("budget", "budget/", ""))]);
    let objs = objects(24, 10, 4);
    load_small_files(&env, "budget/", &objs, 24).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let ident = env.ident("budget");
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();

    let mut req = request(&[Action::RewriteDataFiles]);
    // Spent before it starts: each run does its one guaranteed group, then stops.
    req.time_budget_ms = Some(0);
    let mut runs = Vec::new();
    loop {
        let report = maintainer.run(&req, None).await;
        assert!(!report.failed(), "{report:?}");
        let r = report.tables[0].rewrite.clone().unwrap();
        if r.groups_planned == 0 {
            break;
        }
        let t = maintainer.catalog().load_table(&ident).await.unwrap();
        assert_eq!(
            table_rows(&t).await,
            expected,
            "after run {}",
            runs.len() + 1
        );
        runs.push(r);
        assert!(runs.len() <= 4, "{runs:?}");
    }
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert!(runs[0].stopped_by_budget);
    assert_eq!((runs[0].groups_committed, runs[0].groups_remaining), (1, 3));
    assert_eq!(runs[0].snapshots.len(), 1, "partial progress is committed");
    assert!(!runs[3].stopped_by_budget);
    let t = maintainer.catalog().load_table(&ident).await.unwrap();
    assert_eq!(support::data_files(&t).await.len(), 4);

    // Without a budget, one run does it all, one commit per group with partial progress.
    let env2 = TestEnv::new(&[("budget2", sales_spec("budget2", "budget2/", ""))]);
    load_small_files(&env2, "budget2/", &objs, 24).await;
    let m2 = Maintainer::new(&env2.config()).await.unwrap();
    let r = m2.run(&request(&[Action::RewriteDataFiles]), None).await;
    let r = r.tables[0].rewrite.clone().unwrap();
    assert_eq!(
        (r.groups_committed, r.snapshots.len(), r.stopped_by_budget),
        (4, 4, false)
    );
}

/// Stands in for SQS between the planning run and the group consumers.
#[derive(Default)]
struct CapturedGroups(Mutex<Vec<GroupTask>>);

#[async_trait::async_trait]
impl GroupQueue for CapturedGroups {
    async fn send(&self, tasks: &[GroupTask]) -> Result<(), floe::queue::QueueError> {
        self.0.lock().unwrap().extend_from_slice(tasks);
        Ok(())
    }
}

/// The compact function's SQS path; returns the ids of the messages to redeliver.
async fn failures(m: &Maintainer, event: aws_lambda_events::event::sqs::SqsEvent) -> Vec<String> {
    compact::handle_groups(m, event)
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fanned_out_groups_commit_independently_and_redelivery_is_a_no_op() {
    let env = TestEnv::with_postgres(&[("fan", sales_spec("fan", "fan/", ""))]);
    let objs = objects(24, 10, 4);
    load_small_files(&env, "fan/", &objs, 12).await;
    let queue = Arc::new(CapturedGroups::default());
    let maintainer = Arc::new(
        Maintainer::new(&env.config())
            .await
            .unwrap()
            .with_group_queue(queue.clone()),
    );
    let mut req = request(&[Action::RewriteDataFiles]);
    req.fan_out = true;
    let report = maintainer.run(&req, None).await;
    assert_eq!(report.tables[0].groups_enqueued, Some(4), "{report:?}");
    let tasks = std::mem::take(&mut *queue.0.lock().unwrap());
    let bodies: Vec<(String, String)> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("m{i}"), serde_json::to_string(t).unwrap()))
        .collect();
    // Four consumers at once, one group each, all committing to the same table.
    let mut handles = Vec::new();
    for b in bodies.clone() {
        let m = maintainer.clone();
        handles.push(tokio::spawn(async move {
            failures(&m, sqs_event(&[b]).payload).await
        }));
    }
    for h in handles {
        let failures = h.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }
    let t = maintainer
        .catalog()
        .load_table(&env.ident("fan"))
        .await
        .unwrap();
    assert_eq!(support::data_files(&t).await.len(), 4);
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&t).await, expected);
    let replaces = t
        .metadata()
        .snapshots()
        .filter(|s| s.summary().operation == Operation::Replace)
        .count();
    assert_eq!(replaces, 4);

    // Redelivered messages find their files gone and do nothing; a poison message fails alone.
    let mut again = bodies.clone();
    again.push(("poison".into(), "{\"not\":\"a group\"}".into()));
    let failures = failures(&maintainer, sqs_event(&again).payload).await;
    assert_eq!(failures, vec!["poison".to_string()]);
    let t2 = maintainer
        .catalog()
        .load_table(&env.ident("fan"))
        .await
        .unwrap();
    assert_eq!(
        t2.metadata().current_snapshot_id(),
        t.metadata().current_snapshot_id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_deletes_exactly_the_unreachable_files() {
    let extra = "[properties]\n\"write.metadata.previous-versions-max\" = \"3\"";
    let mut env = TestEnv::new(&[("exp", sales_spec("exp", "exp/", extra))]);
    let objs = objects(15, 10, 1);
    // Three append snapshots of five files each, then a compaction (a replace snapshot), then one
    // more append.
    load_small_files(&env, "exp/", &objs[..15], 5).await;
    // The redelivery window is a floor under the snapshot age: with the default (18 days), a
    // request to expire everything older than 0 ms expires nothing (the keys must outlive
    // redeliveries).
    let guarded = Maintainer::new(&env.config()).await.unwrap();
    let mut floor = request(&[Action::ExpireSnapshots]);
    floor.expire.max_snapshot_age_ms = Some(0);
    let r = guarded.run(&floor, None).await;
    assert!(
        r.tables[0]
            .expire
            .as_ref()
            .unwrap()
            .snapshots_expired
            .is_empty(),
        "{r:?}"
    );
    env.vars
        .insert("FLOE_REDELIVERY_WINDOW_HOURS".into(), "0".into());
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let catalog = maintainer.catalog();
    let ident = env.ident("exp");
    let r = maintainer
        .run(&request(&[Action::RewriteDataFiles]), None)
        .await;
    assert_eq!(
        r.tables[0].rewrite.as_ref().unwrap().groups_committed,
        1,
        "{r:?}"
    );
    let extra_obj = objects(16, 10, 1).pop().unwrap();
    let key = env.key("exp/", "last.csv");
    env.put(&key, sales::csv(&extra_obj)).await;
    let ingestor = env.ingestor().await;
    assert_eq!(
        ingestor.ingest(ObjectRef::new(LANDING, key)).await.status,
        ObjectStatus::Committed
    );
    let before = catalog.load_table(&ident).await.unwrap();
    let snapshots: Vec<i64> = {
        let mut s: Vec<_> = before
            .metadata()
            .snapshots()
            .map(|s| (s.sequence_number(), s.snapshot_id()))
            .collect();
        s.sort();
        s.into_iter().map(|(_, id)| id).collect()
    };
    assert_eq!(snapshots.len(), 5);
    let listed_before = list_table(&env, &before).await;

    // What must survive: everything the two newest snapshots reach. What must go: the original
    // 15 small files (only the three expired appends reach them) and the expired manifest lists.
    let mut keep_files: BTreeSet<String> = BTreeSet::new();
    for id in &snapshots[3..] {
        keep_files.extend(support::data_files_at(&before, Some(*id)).await);
    }
    let originals: BTreeSet<String> = support::data_files_at(&before, Some(snapshots[2]))
        .await
        .into_iter()
        .collect();
    assert_eq!(originals.len(), 15);

    let mut req = request(&[Action::ExpireSnapshots]);
    req.expire.max_snapshot_age_ms = Some(0);
    req.expire.min_snapshots_to_keep = Some(2);
    req.dry_run = true;
    let dry = maintainer.run(&req, None).await;
    let dry = dry.tables[0].expire.clone().unwrap();
    assert_eq!(dry.snapshots_expired.len(), 3, "{dry:?}");
    assert_eq!(
        list_table(&env, &before).await,
        listed_before,
        "dry run deleted files"
    );

    req.dry_run = false;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].expire.clone().unwrap();
    let mut expired = r.snapshots_expired.clone();
    expired.sort();
    let mut want: Vec<i64> = snapshots[..3].to_vec();
    want.sort();
    assert_eq!(expired, want);
    // The dry run predicted every deletion (metadata files aside: the expiry commit itself moves
    // the metadata log on by one version).
    let not_metadata = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|f| metadata_version(f).is_none())
            .cloned()
            .collect()
    };
    assert_eq!(not_metadata(&r.deleted), not_metadata(&dry.deleted));
    assert_eq!(r.data_files_deleted, 15);
    assert_eq!(r.manifest_lists_deleted, 3);

    let after = catalog.load_table(&ident).await.unwrap();
    let listed_after = list_table(&env, &after).await;
    let gone: BTreeSet<String> = listed_before.difference(&listed_after).cloned().collect();
    let deleted: BTreeSet<String> = r.deleted.iter().cloned().collect();
    assert_eq!(gone, deleted, "storage lost exactly what the report lists");
    for f in &originals {
        assert!(gone.contains(f), "{f} should be deleted");
    }
    for f in &keep_files {
        assert!(listed_after.contains(f), "{f} is reachable but was deleted");
    }
    for id in &snapshots[..3] {
        let list = before
            .metadata()
            .snapshot_by_id(*id)
            .unwrap()
            .manifest_list()
            .to_string();
        assert!(gone.contains(&list));
    }
    // Every kept snapshot still reads in full.
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    let mut with_last = expected.clone();
    with_last.extend(extra_obj.clone());
    with_last.sort();
    let at_replace: Vec<arrow_array::RecordBatch> = after
        .scan()
        .snapshot_id(snapshots[3])
        .select_all()
        .build()
        .unwrap()
        .to_arrow()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sorted_rows(&at_replace), expected);
    assert_eq!(table_rows(&after).await, with_last);
    // Old metadata files beyond previous-versions-max are gone.
    let versions: Vec<u64> = listed_after
        .iter()
        .filter_map(|f| metadata_version(f))
        .collect();
    let oldest_logged = after
        .metadata()
        .metadata_log()
        .iter()
        .filter_map(|l| metadata_version(&l.metadata_file))
        .min()
        .unwrap();
    assert!(r.metadata_files_deleted > 0, "{r:?}");
    assert!(versions.iter().all(|v| *v >= oldest_logged), "{versions:?}");
    assert!(after.metadata().metadata_log().len() <= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_removal_respects_the_age_guard_and_dry_run() {
    let mut env = TestEnv::new(&[("orph", sales_spec("orph", "orph/", ""))]);
    let objs = objects(6, 10, 2);
    load_small_files(&env, "orph/", &objs, 3).await;
    // Guard floors are tested in the expiry test; here the request's own guard is under test.
    env.vars
        .insert("FLOE_REDELIVERY_WINDOW_HOURS".into(), "0".into());
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let ident = env.ident("orph");
    let table = maintainer.catalog().load_table(&ident).await.unwrap();
    // Orphans: a rewrite whose commit never happened, and a stray file in the metadata folder.
    let plan = binpack::plan(
        &table,
        &RewriteOptions {
            min_input_files: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let uncommitted = binpack::rewrite_group(&table, &plan.groups[0], None)
        .await
        .unwrap();
    let stray = format!(
        "{}/metadata/stray-{}.avro",
        table.metadata().location(),
        env.id
    );
    let (store, path) = env.stores().for_url(&stray).unwrap();
    store.put(&path, b"junk".to_vec().into()).await.unwrap();
    let mut orphans: Vec<String> = uncommitted
        .added
        .iter()
        .map(|f| f.file_path().to_string())
        .collect();
    orphans.push(stray.clone());
    orphans.sort();
    let listed_before = list_table(&env, &table).await;

    // Younger than the guard: found, left alone.
    let mut req = request(&[Action::RemoveOrphanFiles]);
    req.orphans.older_than_ms = Some(3_600_000);
    let r = maintainer.run(&req, None).await;
    let r = r.tables[0].orphans.clone().unwrap();
    assert!(r.orphans.is_empty(), "{r:?}");
    assert_eq!(r.too_young, orphans.len());
    // Two hours later (an injected clock, no waiting): older than the 1 h guard; a dry run lists
    // exactly them and deletes nothing.
    let maintainer = Maintainer::new(&env.config())
        .await
        .unwrap()
        .with_clock(Arc::new(floe::maintenance::clock::ShiftedClock {
            offset_ms: 2 * 3_600_000,
        }));
    req.dry_run = true;
    let dry = maintainer.run(&req, None).await;
    let dry = dry.tables[0].orphans.clone().unwrap();
    assert_eq!(dry.orphans, orphans);
    assert_eq!(list_table(&env, &table).await, listed_before);

    req.dry_run = false;
    let r = maintainer.run(&req, None).await;
    let r = r.tables[0].orphans.clone().unwrap();
    assert_eq!(r.orphans, orphans);
    let listed_after = list_table(&env, &table).await;
    let gone: Vec<String> = listed_before.difference(&listed_after).cloned().collect();
    assert_eq!(gone, orphans);
    let t = maintainer.catalog().load_table(&ident).await.unwrap();
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&t).await, expected);
}

/// The compare-and-swap itself: a swap built on a stale table (a fast-append landed since it was
/// loaded) is refused and leaves no staged metadata file behind; on the fresh table it lands.
pub(crate) async fn swap_refuses_a_stale_base(env: TestEnv, table: &str) {
    swap_refuses_a_stale_base_listing(env, table, true).await;
}

/// As [`swap_refuses_a_stale_base`]; `listable` = false where table storage cannot be listed
/// (S3 Tables refuses ListObjects), so the no-staged-file-left check is skipped there.
pub(crate) async fn swap_refuses_a_stale_base_listing(env: TestEnv, table: &str, listable: bool) {
    let objs = objects(2, 10, 1);
    load_small_files(&env, "cas/", &objs[..1], 1).await;
    let config = env.config();
    let catalog = floe::catalog::open_catalog(&config.catalog, &config.s3)
        .await
        .unwrap();
    let swap = MetadataSwap::open(&config.catalog, &config.s3.region)
        .await
        .unwrap();
    let ident = env.ident(table);
    let stale = catalog.load_table(&ident).await.unwrap();
    load_small_files(&env, "cas/", &objs[1..], 1).await;
    let fresh = catalog.load_table(&ident).await.unwrap();
    let listed = if listable {
        list_table(&env, &fresh).await
    } else {
        BTreeSet::new()
    };
    let update = |v: &str| {
        vec![iceberg::TableUpdate::SetProperties {
            updates: [("floe.test".to_string(), v.to_string())].into(),
        }]
    };
    // As a replace commit states them: same table, main still at the snapshot it was built on.
    // (SQL catalogs also refuse on the stale metadata pointer alone; REST checks requirements.)
    let requirement = |t: &Table| {
        vec![
            iceberg::TableRequirement::UuidMatch {
                uuid: t.metadata().uuid(),
            },
            iceberg::TableRequirement::RefSnapshotIdMatch {
                r#ref: "main".into(),
                snapshot_id: t.metadata().current_snapshot_id(),
            },
        ]
    };
    let err = swap
        .commit(&stale, requirement(&stale), update("stale"))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    if listable {
        assert_eq!(
            list_table(&env, &fresh).await,
            listed,
            "staged metadata left behind"
        );
    }
    swap.commit(&fresh, requirement(&fresh), update("fresh"))
        .await
        .unwrap();
    let now = catalog.load_table(&ident).await.unwrap();
    assert_eq!(now.metadata().properties()["floe.test"], "fresh");
    assert_eq!(
        now.metadata().current_snapshot_id(),
        fresh.metadata().current_snapshot_id()
    );
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&now).await, expected);
}

#[tokio::test]
async fn swap_refuses_a_stale_base_on_sqlite() {
    let env = TestEnv::new(&[("cas", sales_spec("cas", "cas/", ""))]);
    swap_refuses_a_stale_base(env, "cas").await;
}

#[tokio::test]
async fn swap_refuses_a_stale_base_on_postgres() {
    let env = TestEnv::with_postgres(&[("cas", sales_spec("cas", "cas/", ""))]);
    swap_refuses_a_stale_base(env, "cas").await;
}

/// A table name unique to this run (the REST catalog outlives the test).
fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[tokio::test]
async fn swap_refuses_a_stale_base_on_rest() {
    let name = unique("cas");
    let env = TestEnv::with_rest(&[(&name, sales_spec(&name, "cas/", ""))]);
    swap_refuses_a_stale_base(env, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_commits_through_the_rest_catalog() {
    let name = unique("rest");
    let env = TestEnv::with_rest(&[(&name, sales_spec(&name, "rest/", ""))]);
    let objs = objects(12, 10, 2);
    load_small_files(&env, "rest/", &objs, 6).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let report = maintainer
        .run(&request(&[Action::RewriteDataFiles]), None)
        .await;
    assert!(!report.failed(), "{report:?}");
    let r = report
        .tables
        .iter()
        .find_map(|t| t.rewrite.clone())
        .unwrap();
    assert_eq!(
        (r.groups_committed, r.files_in, r.files_out),
        (2, 12, 2),
        "{r:?}"
    );
    let t = maintainer
        .catalog()
        .load_table(&env.ident(&name))
        .await
        .unwrap();
    assert_eq!(support::data_files(&t).await.len(), 2);
    assert_eq!(
        t.metadata().current_snapshot().unwrap().summary().operation,
        Operation::Replace
    );
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&t).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_partitioned_tables_compact_and_dead_manifests_are_dropped() {
    let spec = sales_spec("idp", "idp/", "").replace(
        "[[partition]]\ncolumn = \"ts\"\ntransform = \"day\"",
        "[[partition]]\ncolumn = \"flag\"\ntransform = \"identity\"",
    );
    assert!(spec.contains("identity"));
    let env = TestEnv::new(&[("idp", spec)]);
    let objs = objects(12, 10, 1);
    load_small_files(&env, "idp/", &objs, 1).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let ident = env.ident("idp");
    let before = maintainer.catalog().load_table(&ident).await.unwrap();
    let rows = table_rows(&before).await;
    let mut req = request(&[Action::RewriteDataFiles]);
    req.rewrite.min_input_files = 2;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert!(r.groups_committed > 0 && r.files_in > r.files_out, "{r:?}");
    let after = maintainer.catalog().load_table(&ident).await.unwrap();
    assert_eq!(table_rows(&after).await, rows);
    // A second compaction (after more appends) drops the manifests the first left all-DELETED.
    let more: Vec<Vec<Sale>> = objects(4, 10, 1)
        .into_iter()
        .map(|o| {
            o.into_iter()
                .map(|s| Sale {
                    id: s.id + 10_000,
                    ..s
                })
                .collect()
        })
        .collect();
    load_small_files(&env, "idp/", &more, 1).await;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let t = maintainer.catalog().load_table(&ident).await.unwrap();
    let snapshot = t.metadata().current_snapshot().unwrap();
    for m in floe::maintenance::files::load_manifests(&t, snapshot)
        .await
        .unwrap()
    {
        let alive = m.entries.iter().any(|e| e.is_alive());
        assert!(
            alive || m.file.added_snapshot_id == snapshot.snapshot_id(),
            "manifest {} of snapshot {} lists only deleted files",
            m.file.manifest_path,
            m.file.added_snapshot_id
        );
    }
}
