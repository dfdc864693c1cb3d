//! Amazon S3 Tables as the catalog (iceberg-catalog-s3tables, AWS's native API) against moto:
//! ingest with quarantine, compaction committed through `UpdateTableMetadataLocation` with the
//! table's version token, and a stale base refused. S3 Tables chooses table locations in buckets of
//! its own, so these tests keep landing objects and table files on moto's S3 as well.

use floe::ingest::ObjectStatus;
use floe::maintenance::run::{Action, Maintainer};
use floe::source::ObjectRef;
use iceberg::spec::Operation;

use crate::maintenance::{load_small_files, objects, request, table_rows};
use crate::sales::{self, Sale};
use crate::support::{self, moto_sdk_config, sales_spec, TestEnv, LANDING};

async fn s3tables() -> aws_sdk_s3tables::Client {
    aws_sdk_s3tables::Client::new(&moto_sdk_config().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tables_ingest_and_quarantine() {
    let env = TestEnv::with_s3tables(&[("st", sales_spec("st", "st/", ""))]).await;
    let rows = sales::rows(25);
    let mut csv = sales::csv(&rows);
    csv.extend_from_slice(b"2026-01-01T00:00:00Z,x,,no id,1.00,1,true\n");
    let key = env.key("st/", "a.csv");
    env.put(&key, csv).await;
    let ingestor = env.ingestor().await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!((r.rows_written, r.rows_quarantined), (25, 1), "{r:?}");
    // A redelivery is recognised through the table's snapshot history.
    let again = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(again.status, ObjectStatus::Duplicate, "{again:?}");

    let table = ingestor
        .catalog()
        .load_table(&env.ident("st"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&table).await), rows);
    let registered = s3tables()
        .await
        .get_table_metadata_location()
        .table_bucket_arn(&env.vars["FLOE_WAREHOUSE"])
        .namespace(env.namespace())
        .name("st")
        .send()
        .await
        .unwrap();
    assert_eq!(
        registered.metadata_location(),
        table.metadata_location(),
        "S3 Tables points at the committed metadata"
    );
    assert!(
        table.metadata().location().ends_with("--table-s3"),
        "S3 Tables chose the location: {}",
        table.metadata().location()
    );
    let q_rows = support::row_count(ingestor.catalog().as_ref(), &env.ident("quarantine")).await;
    assert_eq!(q_rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_swaps_through_update_table_metadata_location() {
    let env = TestEnv::with_s3tables(&[("cmp", sales_spec("cmp", "cmp/", ""))]).await;
    let objs = objects(8, 10, 2);
    load_small_files(&env, "cmp/", &objs, 1).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let mut req = request(&[Action::RewriteDataFiles]);
    req.rewrite.min_input_files = 2;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert!(r.groups_committed > 0 && r.files_in > r.files_out, "{r:?}");
    // Expiry and orphan removal are S3 Tables' own: reported as skipped, not failed.
    let all = maintainer
        .run(
            &request(&[Action::ExpireSnapshots, Action::RemoveOrphanFiles]),
            None,
        )
        .await;
    assert!(!all.failed(), "{all:?}");
    assert_eq!(all.tables[0].skipped.len(), 2, "{all:?}");
    let t = maintainer
        .catalog()
        .load_table(&env.ident("cmp"))
        .await
        .unwrap();
    assert_eq!(
        t.metadata().current_snapshot().unwrap().summary().operation,
        Operation::Replace
    );
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&t).await, expected);
}

#[tokio::test]
async fn the_s3_tables_swap_refuses_a_stale_base() {
    let env = TestEnv::with_s3tables(&[("cas", sales_spec("cas", "cas/", ""))]).await;
    // S3 Tables refuses ListObjects on table storage (as AWS does), so the listing check is off.
    crate::maintenance::swap_refuses_a_stale_base_listing(env, "cas", false).await;
}
