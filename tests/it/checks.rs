//! Scheduled table checks through the validate function: SQL over the Iceberg table, a failed
//! check is a failed result (not just a log line), and the report lands in S3.

use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use futures::TryStreamExt;
use lambda_runtime::{Context, LambdaEvent};
use object_store::ObjectStore;

use crate::sales;
use crate::support::{sales_spec, TestEnv, LANDING};

#[tokio::test]
async fn table_checks_report_pass_and_fail_and_write_reports() {
    let checks = r#"
[[checks]]
name = "ids_unique"
sql = "SELECT count(*) = count(DISTINCT id) FROM {table}"
[[checks]]
name = "no_rows_above_500"
sql = "SELECT count(*) = 0 FROM {table} WHERE id > 500"
[[checks]]
name = "broken_sql"
sql = "SELECT nope FROM {table}"
"#;
    let mut env = TestEnv::new(&[("chk", format!("{}{checks}", sales_spec("chk", "chk/", "")))]);
    let reports = format!("s3://floe-quarantine/reports-{}", env.id);
    env.vars.insert("FLOE_REPORTS_URL".into(), reports.clone());
    let key = env.key("chk/", "a.csv");
    env.put(&key, sales::csv(&sales::rows(600))).await;
    let ingestor = env.ingestor().await;
    assert_eq!(
        ingestor.ingest(ObjectRef::new(LANDING, &key)).await.status,
        ObjectStatus::Committed
    );

    let event = serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.scheduler",
        "detail": {"checks": {"tables": ["it.chk"]}}});
    let r = validate::handle(&ingestor, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(!r.passed);
    let checks = &r.checks[0].checks;
    let by = |n: &str| checks.iter().find(|c| c.name == n).unwrap().clone();
    assert!(by("ids_unique").passed, "{:?}", by("ids_unique"));
    assert!(!by("no_rows_above_500").passed);
    assert_eq!(by("no_rows_above_500").detail, "false");
    assert!(!by("broken_sql").passed && by("broken_sql").detail.starts_with("error:"));

    // The report object is in S3.
    let (store, prefix) = env.stores().for_url(&reports).unwrap();
    let listed: Vec<_> = store.list(Some(&prefix)).try_collect().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].location.as_ref().contains("/checks/it.chk/"));

    // Unknown table names are an error, not a silent pass.
    let event = serde_json::json!({"checks": {"tables": ["it.nope"]}});
    assert!(
        validate::handle(&ingestor, LambdaEvent::new(event, Context::default()))
            .await
            .is_err()
    );
}
