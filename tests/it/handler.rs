//! The demo's path: the ingest handler invoked as Lambda invokes it, with the sample events in
//! events/ and the sample objects in demo/data/, against the repo's own table specs.

use std::path::PathBuf;

use floe::ingest::ObjectStatus;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

use crate::support::TestEnv;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn event(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(repo().join("events").join(name)).unwrap()).unwrap()
}

async fn upload_demo_objects(env: &TestEnv) {
    for (file, key) in [
        ("orders-2026-01.csv", "orders/2026/orders 2026-01.csv"),
        (
            "order-events-2026-01.jsonl.gz",
            "events/2026/order-events-2026-01.jsonl.gz",
        ),
        (
            "order-export-2026-01.parquet",
            "exports/order export 2026-01.parquet",
        ),
    ] {
        env.put(
            key,
            std::fs::read(repo().join("demo/data").join(file)).unwrap(),
        )
        .await;
    }
}

/// The repo's own table specs, and the demo objects at the keys the events name.
async fn demo_env() -> (TestEnv, floe::ingest::Ingestor) {
    let mut env = TestEnv::new(&[]);
    env.vars.insert(
        "FLOE_TABLE_SPECS".into(),
        repo().join("tables").display().to_string(),
    );
    upload_demo_objects(&env).await;
    let ingestor = env.ingestor().await;
    (env, ingestor)
}

#[tokio::test]
async fn sample_events_ingest_through_the_lambda_handler() {
    let (env, ingestor) = demo_env().await;
    let invoke = |name: &'static str| {
        let ingestor = &ingestor;
        async move { ingest::handle(ingestor, LambdaEvent::new(event(name), Context::default())).await }
    };

    let r = invoke("s3-put-orders.json").await.expect("s3 event");
    assert_eq!(r.objects.len(), 1);
    assert_eq!(
        r.objects[0].object, "s3://floe-landing/orders/2026/orders 2026-01.csv",
        "key decoded from `+`"
    );
    assert_eq!(
        (r.objects[0].status, r.objects[0].rows_written),
        (ObjectStatus::Committed, 500)
    );
    assert!(r.batch_item_failures.is_none());

    let r = invoke("sqs-s3-events.json").await.expect("sqs event");
    assert_eq!(
        (r.objects[0].status, r.objects[0].rows_written),
        (ObjectStatus::Committed, 300)
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["batchItemFailures"],
        serde_json::json!([]),
        "SQS partial-batch response shape"
    );

    let r = invoke("eventbridge-object-created.json")
        .await
        .expect("eventbridge event");
    assert_eq!(
        (r.objects[0].status, r.objects[0].rows_written),
        (ObjectStatus::Committed, 200)
    );

    // Redelivery of the first event: recognised, nothing appended.
    let r = invoke("s3-put-orders.json").await.expect("redelivery");
    assert_eq!(r.objects[0].status, ObjectStatus::Duplicate);

    // A batch with an unknown prefix: that object is skipped with a named error, the other is handled.
    let r = invoke("s3-put-mixed.json")
        .await
        .expect("skipped objects are reported, not raised");
    assert_eq!(r.objects[0].status, ObjectStatus::Skipped);
    assert!(r.objects[0]
        .error
        .as_ref()
        .unwrap()
        .contains("s3://floe-landing/unknown/thing.csv"));
    assert_eq!(r.objects[1].status, ObjectStatus::Duplicate);

    for (table, rows) in [
        ("orders", 500),
        ("order_events", 300),
        ("order_exports", 200),
    ] {
        let t = ingestor
            .catalog()
            .load_table(&env.ident(table))
            .await
            .unwrap();
        let n: usize = crate::support::scan(&t)
            .await
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(n, rows, "{table}");
    }
}

#[tokio::test]
async fn sqs_batch_reports_only_the_failed_message() {
    let (_env, ingestor) = demo_env().await; // keeps the temp catalog alive
    let mut sqs = event("sqs-s3-events.json");
    let good = sqs["Records"][0].clone();
    let mut bad = good.clone();
    bad["messageId"] = "bad-message".into();
    bad["body"] = "{\"not\": \"an s3 event\"".into();
    let mut unknown = good.clone();
    unknown["messageId"] = "unknown-prefix".into();
    unknown["body"] = good["body"]
        .as_str()
        .unwrap()
        .replace("events/2026/", "elsewhere/")
        .into();
    sqs["Records"] = serde_json::json!([good, bad, unknown]);
    let r = ingest::handle(&ingestor, LambdaEvent::new(sqs, Context::default()))
        .await
        .unwrap();
    let failed: Vec<_> = r
        .batch_item_failures
        .unwrap()
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    // The unrouted object is skipped (reported, not retried): only the bad message is redelivered.
    assert_eq!(failed, vec!["bad-message".to_string()]);
    assert_eq!(
        r.objects
            .iter()
            .filter(|o| o.status == ObjectStatus::Committed)
            .count(),
        1
    );
}
