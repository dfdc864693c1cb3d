//! Bad objects get a clear error naming the object, never a panic, and do not stop the others.

use floe::event::IngestEvent;
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;

use crate::sales;
use crate::support::{self, sales_spec, TestEnv, LANDING};

#[tokio::test]
async fn bad_objects_fail_alone_with_errors_naming_them() {
    let env = TestEnv::new(&[("err", sales_spec("err", "err/", ""))]);
    let rows = sales::rows(30);
    let good = env.key("err/", "good.csv");
    let unknown = env.key("nowhere/", "x.csv");
    let bad_type = env.key("err/", "bad-type.csv");
    let not_gzip = env.key("err/", "not-gzip.jsonl.gz");
    let bad_parquet = env.key("err/", "truncated.parquet");
    let bad_json = env.key("err/", "bad.jsonl");
    env.put(&good, sales::csv(&rows)).await;
    env.put(&unknown, sales::csv(&rows)).await;
    env.put(&bad_type, b"id,name\n1,a\nnot-a-number,b\n".to_vec())
        .await;
    env.put(&not_gzip, b"{\"id\": 1}\n".to_vec()).await;
    let mut pq = sales::parquet(&rows);
    pq.truncate(pq.len() / 2);
    env.put(&bad_parquet, pq).await;
    env.put(&bad_json, b"{\"id\": 1}\n[1,2,3]\n{\"id\": \n".to_vec())
        .await;

    let ingestor = env.ingestor().await;
    let objects = [
        &unknown,
        &bad_type,
        &good,
        &not_gzip,
        &bad_parquet,
        &bad_json,
    ]
    .iter()
    .map(|k| ObjectRef::new(LANDING, k.as_str()))
    .collect();
    let response = ingestor.handle(IngestEvent::Objects(objects)).await;
    let by_key = |k: &str| {
        response
            .objects
            .iter()
            .find(|r| r.object.ends_with(k))
            .unwrap()
            .clone()
    };

    let ok = by_key(&good);
    assert_eq!(
        (ok.status, ok.rows),
        (ObjectStatus::Committed, 30),
        "{ok:?}"
    );
    for (key, needle) in [
        (&unknown, "no table spec routes"),
        (&bad_type, "record 2, field `id`"),
        (&not_gzip, "cannot read object"),
        (&bad_parquet, "invalid parquet"),
        (&bad_json, "invalid jsonl"),
    ] {
        let r = by_key(key);
        let err = r.error.clone().unwrap_or_default();
        assert_eq!(r.status, ObjectStatus::Failed, "{key}: {r:?}");
        assert!(
            err.contains(&format!("s3://{LANDING}/{key}")),
            "error must name the object: {err}"
        );
        assert!(err.contains(needle), "{key}: expected `{needle}` in: {err}");
        assert!(!r.retryable, "bad data is not retryable: {r:?}");
    }
    // Only the good object's rows are in the table.
    let t = ingestor
        .catalog()
        .load_table(&env.ident("err"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&t).await), rows);
}

#[tokio::test]
async fn missing_object_is_reported_not_panicked() {
    let env = TestEnv::new(&[("gone", sales_spec("gone", "gone/", ""))]);
    let ingestor = env.ingestor().await;
    let r = ingestor
        .ingest(ObjectRef::new(
            LANDING,
            env.key("gone/", "never-written.csv"),
        ))
        .await;
    assert_eq!(r.status, ObjectStatus::Failed);
    assert!(r.error.unwrap().contains("never-written.csv"));
}
