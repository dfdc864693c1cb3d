//! Bad input: every row ends up in the table or in quarantine, countably; objects that can't be
//! read are quarantined whole (copied + one quarantine row); errors name the object; no panics;
//! other objects in the same batch are unaffected.

use arrow_array::cast::AsArray;
use arrow_array::Array;
use floe::event::IngestEvent;
use floe::ingest::{ObjectReport, ObjectStatus};
use floe::source::ObjectRef;
use object_store::ObjectStoreExt;

use crate::sales;
use crate::support::{self, sales_spec, TestEnv, LANDING};

/// `rows_read = rows_written + rows_quarantined`, for every report.
pub fn assert_accounted(r: &ObjectReport) {
    assert_eq!(
        r.rows_read,
        r.rows_written + r.rows_quarantined,
        "accounting identity broken: {r:?}"
    );
}

/// Quarantine rows for one object: (record_number, field, error_code, raw_record).
pub async fn quarantine_rows(
    env: &TestEnv,
    object_suffix: &str,
) -> Vec<(Option<i64>, Option<String>, String, Option<String>)> {
    let ingestor = env.ingestor().await;
    let Ok(t) = ingestor
        .catalog()
        .load_table(ingestor.quarantine_table())
        .await
    else {
        return vec![];
    };
    let mut out = Vec::new();
    for b in support::scan(&t).await {
        let obj = b
            .column_by_name("source_object")
            .unwrap()
            .as_string::<i32>()
            .clone();
        let rec = b
            .column_by_name("record_number")
            .unwrap()
            .as_primitive::<arrow_array::types::Int64Type>()
            .clone();
        let field = b
            .column_by_name("field")
            .unwrap()
            .as_string::<i32>()
            .clone();
        let code = b
            .column_by_name("error_code")
            .unwrap()
            .as_string::<i32>()
            .clone();
        let raw = b
            .column_by_name("raw_record")
            .unwrap()
            .as_string::<i32>()
            .clone();
        for i in 0..b.num_rows() {
            if obj.value(i).ends_with(object_suffix) {
                out.push((
                    rec.is_valid(i).then(|| rec.value(i)),
                    field.is_valid(i).then(|| field.value(i).to_string()),
                    code.value(i).to_string(),
                    raw.is_valid(i).then(|| raw.value(i).to_string()),
                ));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn bad_rows_and_bad_objects_are_quarantined_and_others_go_on() {
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
    env.put(&bad_type, b"id,name\n1,a\nnot-a-number,b\n3,c\n".to_vec())
        .await;
    env.put(&not_gzip, b"{\"id\": 1}\n".to_vec()).await;
    let mut pq = sales::parquet(&rows);
    pq.truncate(pq.len() / 2);
    env.put(&bad_parquet, pq).await;
    env.put(&bad_json, b"{\"id\": 1}\n{\"id\": \n".to_vec())
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
    response.objects.iter().for_each(assert_accounted);

    let ok = by_key(&good);
    assert_eq!(
        (ok.status, ok.rows_written, ok.rows_quarantined),
        (ObjectStatus::Committed, 30, 0),
        "{ok:?}"
    );

    // Row-level: the bad row goes to quarantine with its record number, field and raw values.
    let bt = by_key(&bad_type);
    assert_eq!(
        (
            bt.status,
            bt.rows_read,
            bt.rows_written,
            bt.rows_quarantined
        ),
        (ObjectStatus::Committed, 3, 2, 1),
        "{bt:?}"
    );
    let q = quarantine_rows(&env, &bad_type).await;
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].0, q[0].1.as_deref(), q[0].2.as_str()),
        (Some(2), Some("id"), "invalid_type")
    );
    assert_eq!(
        q[0].3.as_deref(),
        Some(r#"{"id":"not-a-number","name":"b"}"#)
    );

    // Unknown prefix: skipped (reported, not retried) with a named error.
    let u = by_key(&unknown);
    assert_eq!(u.status, ObjectStatus::Skipped);
    assert!(
        u.error
            .as_ref()
            .unwrap()
            .contains(&format!("no table spec routes s3://{LANDING}/{unknown}")),
        "{u:?}"
    );
    assert!(!u.retryable);

    // Whole-object quarantine: copied, one quarantine row naming why.
    let stores = env.stores();
    for (key, needle) in [
        (&not_gzip, "cannot read object"),
        (&bad_parquet, "invalid parquet"),
    ] {
        let r = by_key(key);
        assert_eq!(
            (r.status, r.rows_written),
            (ObjectStatus::Quarantined, 0),
            "{key}: {r:?}"
        );
        let err = r.error.clone().unwrap_or_default();
        assert!(
            err.contains(&format!("s3://{LANDING}/{key}")),
            "error must name the object: {err}"
        );
        assert!(err.contains(needle), "{key}: expected `{needle}` in: {err}");
        let q = quarantine_rows(&env, key).await;
        assert_eq!(q.len(), 1, "{key}: {q:?}");
        assert_eq!(q[0].2, "undecodable");
        let copy = q[0].3.clone().unwrap();
        assert!(copy.ends_with(&format!("{LANDING}/{key}")), "{copy}");
        let (store, path) = stores.for_url(&copy).unwrap();
        let copied = store.get(&path).await.unwrap().bytes().await.unwrap();
        let original = stores
            .bucket(LANDING)
            .unwrap()
            .get(&object_store::path::Path::from(key.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            copied, original,
            "the quarantined copy is the object, byte for byte"
        );
    }
    // A JSON line that is not JSON is a row error: the good line lands, the bad one is kept raw.
    let j = by_key(&bad_json);
    assert_eq!(
        (j.status, j.rows_written, j.rows_quarantined),
        (ObjectStatus::Committed, 1, 1),
        "{j:?}"
    );
    let q = quarantine_rows(&env, &bad_json).await;
    assert_eq!(
        (q[0].0, q[0].2.as_str(), q[0].3.as_deref()),
        (Some(2), "undecodable", Some("{\"id\": "))
    );
    // Only good rows are in the table.
    let t = ingestor
        .catalog()
        .load_table(&env.ident("err"))
        .await
        .unwrap();
    let ids: Vec<i64> = sales::from_batches(&support::scan(&t).await)
        .iter()
        .map(|r| r.id)
        .collect();
    let mut expected: Vec<i64> = (0..30).collect();
    expected.extend([1, 1, 3]);
    expected.sort();
    assert_eq!(ids, expected);

    // Redelivering a quarantined object does not quarantine it twice.
    let again = ingestor
        .ingest(ObjectRef::new(LANDING, not_gzip.as_str()))
        .await;
    assert_eq!(again.status, ObjectStatus::Duplicate, "{again:?}");
    assert_eq!(quarantine_rows(&env, &not_gzip).await.len(), 1);
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
    // Gone before it was read: skipped as not found (a retry cannot bring it back).
    assert_eq!(r.status, ObjectStatus::Skipped);
    assert_eq!(r.skipped, Some(floe::ingest::SkipReason::NotFound));
    assert!(r.error.unwrap().contains("never-written.csv"));
}
