//! The Glue catalog (Terraform's default) against moto, with AWS's VersionId check on UpdateTable
//! enforced (scripts/moto_server.py: stock moto accepts stale versions, which would make every
//! concurrency assertion here meaningless). Table files live on the S3 server as everywhere else.
//! Each test has a Glue database of its own.

use std::collections::HashMap;
use std::sync::Arc;

use floe::ingest::ObjectStatus;
use floe::maintenance::run::{Action, Maintainer};
use floe::source::ObjectRef;
use iceberg::spec::Operation;
use tokio::sync::Semaphore;

use crate::maintenance::{load_small_files, objects, request, table_rows};
use crate::sales::{self, Sale};
use crate::support::{self, moto_sdk_config, sales_spec, TestEnv, LANDING};

async fn glue() -> aws_sdk_glue::Client {
    aws_sdk_glue::Client::new(&moto_sdk_config().await)
}

/// Glue's view of a table: its parameters and its column types by name.
async fn glue_table(
    env: &TestEnv,
    table: &str,
) -> (HashMap<String, String>, HashMap<String, String>) {
    let t = glue()
        .await
        .get_table()
        .database_name(env.namespace())
        .name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let columns = t
        .storage_descriptor
        .and_then(|sd| sd.columns)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.name, c.r#type.unwrap_or_default()))
        .collect();
    (t.parameters.unwrap_or_default(), columns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_tables_with_timestamptz_are_created_committed_and_quarantined() {
    let env = TestEnv::with_glue(&[("gl", sales_spec("gl", "gl/", ""))]);
    let rows = sales::rows(30);
    let mut csv = sales::csv(&rows);
    // One row the contract refuses (id is required): it goes to the quarantine table, whose
    // `received_at` column is a timestamptz too.
    csv.extend_from_slice(b"2026-01-01T00:00:00Z,x,,no id,1.00,1,true\n");
    let key = env.key("gl/", "a.csv");
    env.put(&key, csv).await;
    let ingestor = env.ingestor().await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!((r.rows_written, r.rows_quarantined), (30, 1), "{r:?}");

    let table = ingestor
        .catalog()
        .load_table(&env.ident("gl"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&table).await), rows);
    let (params, columns) = glue_table(&env, "gl").await;
    assert_eq!(params["table_type"], "ICEBERG");
    assert_eq!(
        params["metadata_location"],
        table.metadata_location().unwrap(),
        "Glue points at the committed metadata"
    );
    assert_eq!(
        columns["ts"], "timestamp",
        "timestamptz maps to Glue timestamp"
    );
    assert_eq!(columns["amount"], "decimal(10,2)");
    // No database LocationUri: the table lives under FLOE_WAREHOUSE/<database>.db/<table>.
    assert_eq!(
        table.metadata().location(),
        format!(
            "{}/{}.db/gl",
            env.vars["FLOE_WAREHOUSE"].trim_end_matches('/'),
            env.namespace()
        )
    );

    let q_rows = support::row_count(ingestor.catalog().as_ref(), &env.ident("quarantine")).await;
    assert_eq!(q_rows, 1, "the refused row is in the quarantine table");
    let (_, q_columns) = glue_table(&env, "quarantine").await;
    assert!(
        q_columns.values().any(|t| t == "timestamp"),
        "{q_columns:?}"
    );
}

#[tokio::test]
async fn a_glue_database_location_wins_over_the_warehouse() {
    let env = TestEnv::with_glue(&[("loc", sales_spec("loc", "loc/", ""))]);
    let location = format!("s3://floe-warehouse/it-{}/glue-db-location", env.id);
    glue()
        .await
        .create_database()
        .database_input(
            aws_sdk_glue::types::DatabaseInput::builder()
                .name(env.namespace())
                .location_uri(&location)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let key = env.key("loc/", "a.csv");
    env.put(&key, sales::csv(&sales::rows(5))).await;
    let ingestor = env.ingestor().await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    let table = ingestor
        .catalog()
        .load_table(&env.ident("loc"))
        .await
        .unwrap();
    assert_eq!(table.metadata().location(), format!("{location}/loc"));
    assert_eq!(support::scan(&table).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_on_glue_each_land_exactly_once() {
    const OBJECTS: usize = 12;
    let env = TestEnv::with_glue(&[("conc", sales_spec("conc", "conc/", ""))]);
    let all = sales::rows((OBJECTS * 10) as i64);
    let mut keys = Vec::new();
    for (i, chunk) in all.chunks(10).enumerate() {
        let key = env.key("conc/", &format!("p-{i:02}.csv"));
        env.put(&key, sales::csv(chunk)).await;
        keys.push(key);
    }
    // Create the table first so every writer races on commits, not on create.
    let first = env.ingestor().await;
    let r = first.ingest(ObjectRef::new(LANDING, keys[0].clone())).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    let mut ingestors = Vec::new();
    for _ in 0..4 {
        ingestors.push(Arc::new(env.ingestor().await));
    }
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for (n, key) in keys[1..].iter().cloned().enumerate() {
        let ingestor = ingestors[n % ingestors.len()].clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            ingestor.ingest(ObjectRef::new(LANDING, key)).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    }
    let table = first
        .catalog()
        .load_table(&env.ident("conc"))
        .await
        .unwrap();
    assert_eq!(
        table.metadata().snapshots().count(),
        OBJECTS,
        "one snapshot per object: none lost to a silent overwrite"
    );
    assert_eq!(
        sales::from_batches(&support::scan(&table).await),
        all,
        "every row exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_replaces_through_the_glue_swap() {
    let env = TestEnv::with_glue(&[("cmp", sales_spec("cmp", "cmp/", ""))]);
    let objs = objects(10, 10, 2);
    load_small_files(&env, "cmp/", &objs, 1).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let ident = env.ident("cmp");
    let mut req = request(&[Action::RewriteDataFiles]);
    req.rewrite.min_input_files = 2;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert!(r.groups_committed > 0 && r.files_in > r.files_out, "{r:?}");
    let t = maintainer.catalog().load_table(&ident).await.unwrap();
    assert_eq!(
        t.metadata().current_snapshot().unwrap().summary().operation,
        Operation::Replace
    );
    let (params, _) = glue_table(&env, "cmp").await;
    assert_eq!(params["metadata_location"], t.metadata_location().unwrap());
    let mut expected: Vec<Sale> = objs.concat();
    expected.sort();
    assert_eq!(table_rows(&t).await, expected);
}

#[tokio::test]
async fn the_glue_swap_refuses_a_stale_base() {
    let env = TestEnv::with_glue(&[("cas", sales_spec("cas", "cas/", ""))]);
    crate::maintenance::swap_refuses_a_stale_base(env, "cas").await;
}

#[tokio::test]
async fn schema_evolution_reaches_the_glue_columns() {
    let spec = sales_spec("evo", "evo/", "[contract]\nunknown_columns = \"evolve\"");
    let env = TestEnv::with_glue(&[("evo", spec)]);
    let ingestor = env.ingestor().await;
    let key = env.key("evo/", "a.csv");
    env.put(&key, sales::csv(&sales::rows(3))).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    let (_, columns) = glue_table(&env, "evo").await;
    // sales::csv carries an `extra` column the spec does not have: evolve adds it.
    assert!(columns.contains_key("extra"), "{columns:?}");
    let table = ingestor
        .catalog()
        .load_table(&env.ident("evo"))
        .await
        .unwrap();
    assert!(table
        .metadata()
        .current_schema()
        .field_by_name("extra")
        .is_some());
}
