//! `rewrite_manifests` (issue 17 #5): twelve one-file appends interleaved over four days leave
//! twelve manifests; the rewrite clusters their entries by partition into four manifests of one
//! day each (a dry run only plans it), commits a `replace` snapshot, and the rows — as Floe and
//! pyiceberg read them — and idempotency stay as they were.

use floe::ingest::ObjectStatus;
use floe::maintenance::manifests::estimated_entry_bytes;
use floe::maintenance::run::{Action, Maintainer};
use floe::source::ObjectRef;
use iceberg::spec::{ManifestContentType, Operation};
use iceberg::table::Table;

use crate::maintenance::{load_small_files, objects, request, table_rows};
use crate::support::{self, sales_spec, TestEnv, LANDING};

async fn data_manifests(t: &Table) -> Vec<iceberg::spec::ManifestFile> {
    let snapshot = t.metadata().current_snapshot().unwrap();
    floe::maintenance::files::manifests(t, snapshot)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.content == ManifestContentType::Data)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_are_clustered_by_partition_without_changing_rows() {
    let env = TestEnv::new(&[("mf", sales_spec("mf", "mf/", ""))]);
    // Object i's rows all fall on day i % 4: appends interleave the four partitions.
    let objs = objects(12, 20, 4);
    load_small_files(&env, "mf/", &objs, 1).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let catalog = maintainer.catalog();
    let ident = env.ident("mf");
    let before = catalog.load_table(&ident).await.unwrap();
    let manifests = data_manifests(&before).await;
    assert_eq!(manifests.len(), 12);
    let rows_before = table_rows(&before).await;
    let py_before = support::pyiceberg(&env, "table_checksum.py", "mf", &[]);

    // A target of three entries per manifest (by Floe's estimate of an entry's size).
    let mut estimates = 0;
    for m in &manifests {
        let loaded = m.load_manifest(before.file_io()).await.unwrap();
        for e in loaded.entries() {
            estimates += estimated_entry_bytes(e);
        }
    }
    let per_entry = estimates / 12;
    let mut req = request(&[Action::RewriteManifests]);
    req.tables = vec!["it.mf".into()];
    req.manifests.target_manifest_size_bytes = Some(per_entry * 3 + per_entry / 2);
    req.dry_run = true;
    let dry = maintainer.run(&req, None).await;
    let planned = dry.tables[0].manifests.clone().unwrap();
    assert_eq!(
        (
            planned.manifests_before,
            planned.manifests_after,
            planned.entries
        ),
        (12, 4, 12)
    );
    assert_eq!(planned.snapshot_id, None);
    let same = catalog.load_table(&ident).await.unwrap();
    assert_eq!(
        same.metadata().current_snapshot_id(),
        before.metadata().current_snapshot_id(),
        "a dry run committed"
    );

    req.dry_run = false;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].manifests.clone().unwrap();
    assert_eq!((r.manifests_before, r.manifests_after), (12, 4), "{r:?}");
    let after = catalog.load_table(&ident).await.unwrap();
    let current = after.metadata().current_snapshot().unwrap();
    assert_eq!(Some(current.snapshot_id()), r.snapshot_id);
    assert_eq!(current.summary().operation, Operation::Replace);
    let rewritten = data_manifests(&after).await;
    assert_eq!(rewritten.len(), 4);
    // Clustered: each manifest covers exactly one day, and the four days are distinct.
    let mut days = Vec::new();
    for m in &rewritten {
        let summary = &m.partitions.as_ref().unwrap()[0];
        assert_eq!(summary.lower_bound, summary.upper_bound, "{m:?}");
        days.push(format!("{:?}", summary.lower_bound));
        assert_eq!(m.existing_files_count, Some(3), "{m:?}");
        assert_eq!(m.added_files_count, Some(0), "{m:?}");
    }
    days.sort();
    days.dedup();
    assert_eq!(days.len(), 4);
    assert_eq!(table_rows(&after).await, rows_before);
    let py_after = support::pyiceberg(&env, "table_checksum.py", "mf", &[]);
    assert_eq!(py_after["checksum"], py_before["checksum"]);
    assert_eq!(py_after["rows"], py_before["rows"]);
    assert_eq!(support::data_files(&after).await.len(), 12);

    // The idempotency keys are still found: a redelivered object commits nothing.
    let key = env.key("mf/", "o-0000.csv");
    let again = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key))
        .await;
    assert_eq!(again.status, ObjectStatus::Duplicate, "{again:?}");
    // Nothing left to cluster: a second run commits nothing.
    let r2 = maintainer.run(&req, None).await.tables[0]
        .manifests
        .clone()
        .unwrap();
    assert_eq!((r2.manifests_before, r2.snapshot_id), (4, None), "{r2:?}");
}
