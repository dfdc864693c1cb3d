//! Register Parquet in place (issue 16 #2): a well-formed Parquet object is committed where it
//! lies (the table's data file is the landing object, read back by Floe, pyiceberg and DuckDB);
//! one breaking a `min` is ingested with its bad row quarantined; one spanning two partitions or
//! with a column the table lacks is ingested, each with its reason; the commit service refuses a
//! registered object that changed and any other file outside the table; compaction, expiry and
//! orphan removal leave registered objects alone.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow_array::{
    ArrayRef, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use floe::ingest::{Ingestor, ObjectStatus};
use floe::maintenance::run::{Action, Maintainer};
use floe::source::ObjectRef;
use object_store::ObjectStoreExt;

use crate::maintenance::request;
use crate::support::{self, CapturedQueue, TestEnv, LANDING};

const SPEC: &str = r#"name = "rg"
prefixes = ["rg/"]
mode = "register"
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "amount"
type = "decimal(10, 2)"
min = "0"
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "name"
type = "string"
[[partition]]
column = "ts"
transform = "day"
"#;

/// 2024-03-01T00:00:00Z in microseconds.
const MARCH_1: i64 = 1_709_251_200_000_000;
const HOUR: i64 = 3_600_000_000;

/// A Parquet object as another tool writes it: no Iceberg field ids. `int_ids` writes `id` as
/// int32 and `amount` as decimal(9, 2) (both read as the table's types), columns in reverse
/// order; `extra` adds a column
/// the table lacks.
fn parquet(rows: &[(i64, i128, i64, &str)], int_ids: bool, extra: bool) -> Vec<u8> {
    let (id_type, id): (DataType, ArrayRef) = if int_ids {
        let ids: Int32Array = rows.iter().map(|r| Some(r.0 as i32)).collect();
        (DataType::Int32, Arc::new(ids))
    } else {
        let ids: Int64Array = rows.iter().map(|r| Some(r.0)).collect();
        (DataType::Int64, Arc::new(ids))
    };
    let precision = if int_ids { 9 } else { 10 };
    let amount = Decimal128Array::from_iter_values(rows.iter().map(|r| r.1))
        .with_precision_and_scale(precision, 2)
        .unwrap();
    let ts =
        TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.2)).with_timezone("UTC");
    let name: StringArray = rows.iter().map(|r| Some(r.3)).collect();
    let mut fields = vec![
        Field::new("id", id_type, false),
        Field::new("amount", DataType::Decimal128(precision, 2), true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("name", DataType::Utf8, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![id, Arc::new(amount), Arc::new(ts), Arc::new(name)];
    if extra {
        fields.push(Field::new("note", DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from(vec!["x"; rows.len()])));
    }
    if int_ids {
        // Another column order than the table's: only names tie the columns to the table.
        fields.reverse();
        columns.reverse();
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    support::parquet_bytes(&batch)
}

/// An object: name, bytes, the expected `not_registered` reason (none: registered), rows written
/// and rows quarantined.
type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, u64, u64);

fn ids_of(rows: &serde_json::Value) -> Vec<i64> {
    let mut ids: Vec<i64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_is_registered_in_place_only_when_its_footer_proves_the_contract() {
    let mut env = TestEnv::new(&[("rg", SPEC.to_string())]);
    let ingestor = env.ingestor().await;
    let day = |d: i64, h: i64| MARCH_1 + d * 24 * HOUR + h * HOUR;
    let cases: [Case; 5] = [
        (
            "good.parquet",
            parquet(
                &[
                    (1, 100, day(0, 1), "a"),
                    (2, 250, day(0, 2), "b"),
                    (3, 0, day(0, 23), "c"),
                ],
                false,
                false,
            ),
            None,
            3,
            0,
        ),
        (
            "narrow.parquet",
            parquet(
                &[(4, 999, day(1, 0), "d"), (5, 1, day(1, 5), "e")],
                true,
                false,
            ),
            None,
            2,
            0,
        ),
        (
            "below_min.parquet",
            parquet(
                &[
                    (6, 100, day(2, 0), "f"),
                    (7, -1, day(2, 1), "g"),
                    (8, 300, day(2, 2), "h"),
                ],
                false,
                false,
            ),
            Some("below the minimum 0"),
            2,
            1,
        ),
        (
            "two_days.parquet",
            parquet(
                &[(9, 1, day(3, 0), "i"), (10, 2, day(4, 0), "j")],
                false,
                false,
            ),
            Some("more than one `ts_day` partition"),
            2,
            0,
        ),
        (
            "extra_column.parquet",
            parquet(&[(11, 5, day(5, 0), "k")], false, true),
            Some("columns the table lacks: note"),
            1,
            0,
        ),
    ];
    let mut registered_urls = Vec::new();
    for (name, body, declined, written, quarantined) in cases {
        let key = env.key("rg/", name);
        env.put_raw(&key, body).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{name}: {r:?}");
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (written, quarantined),
            "{name}: {r:?}"
        );
        match declined {
            None => {
                assert!(r.registered, "{name}: {r:?}");
                assert_eq!(r.bytes_out, 0, "{name}: a registered object is not copied");
                registered_urls.push(format!("s3://{LANDING}/{key}"));
            }
            Some(why) => {
                assert!(!r.registered, "{name}: {r:?}");
                let reason = r.not_registered.clone().unwrap_or_default();
                assert!(reason.contains(why), "{name}: {reason}");
            }
        }
    }
    // A redelivery of a registered object commits nothing new.
    let again = ingestor
        .ingest(ObjectRef::new(LANDING, env.key("rg/", "good.parquet")))
        .await;
    assert_eq!(again.status, ObjectStatus::Duplicate, "{again:?}");

    let ident = env.ident("rg");
    let table = ingestor.catalog().load_table(&ident).await.unwrap();
    let files = support::data_files(&table).await;
    for url in &registered_urls {
        assert!(files.contains(url), "{url} is not a data file of {files:?}");
    }
    let location = table.metadata().location().to_string();
    assert_eq!(
        files.iter().filter(|f| !f.starts_with(&location)).count(),
        registered_urls.len(),
        "{files:?}"
    );
    assert!(table
        .metadata()
        .properties()
        .contains_key("schema.name-mapping.default"));

    // Every engine reads the same rows: the registered ones through the name mapping.
    let want: Vec<i64> = vec![1, 2, 3, 4, 5, 6, 8, 9, 10, 11];
    let floe_rows = support::scan(&table).await;
    let mut floe_ids: Vec<i64> = floe_rows
        .iter()
        .flat_map(|b| {
            let ids = b.column_by_name("id").unwrap();
            ids.as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    floe_ids.sort();
    assert_eq!(floe_ids, want);
    let py = support::pyiceberg(&env, "table_rows.py", "rg", &[]);
    assert_eq!(ids_of(&py), want);
    let duck = support::duckdb_rows(&env, &table);
    assert_eq!(ids_of(&duck), want);
    let row4 = py
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 4)
        .unwrap();
    assert_eq!(row4["amount"], "9.99", "{row4}");
    assert_eq!(
        duck.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == 4)
            .unwrap()["amount"],
        "9.99"
    );
    // Partition pruning uses the registered file's partition: one day holds exactly its rows.
    let day1 = ingestor
        .catalog()
        .load_table(&ident)
        .await
        .unwrap()
        .scan()
        .with_filter(
            iceberg::expr::Reference::new("ts")
                .greater_than_or_equal_to(iceberg::spec::Datum::timestamptz_micros(day(1, 0))),
        )
        .build()
        .unwrap()
        .plan_files()
        .await
        .unwrap();
    use futures::TryStreamExt;
    let planned: Vec<String> = day1
        .map_ok(|t| t.data_file_path)
        .try_collect()
        .await
        .unwrap();
    assert!(!planned.contains(&registered_urls[0]), "{planned:?}");
    assert!(planned.contains(&registered_urls[1]), "{planned:?}");

    // Queue mode: the commit service accepts the request's own registered object, refuses one
    // that changed since, and any file outside the table that is not the request's source.
    let queue = Arc::new(CapturedQueue::default());
    let queued = Ingestor::new(env.config())
        .await
        .unwrap()
        .with_commit_queue(queue.clone());
    let mut requests = Vec::new();
    for name in ["q1.parquet", "q2.parquet", "q3.parquet"] {
        let key = env.key("rg/", name);
        env.put_raw(&key, parquet(&[(20, 1, day(6, 0), name)], false, false))
            .await;
        let r = queued.ingest(ObjectRef::new(LANDING, key)).await;
        assert!(r.registered && r.status == ObjectStatus::Queued, "{r:?}");
        requests.push(queue.0.lock().unwrap().pop().unwrap());
    }
    // q2 is overwritten after it was registered; q3's request claims another source.
    env.put_raw(
        &requests[1].source.key,
        parquet(
            &[(21, 1, day(6, 0), "longer name than before")],
            false,
            false,
        ),
    )
    .await;
    requests[2].source = requests[0].source.clone();
    requests[2].idempotency_key = "s3://elsewhere/other#etag=1".into();
    let report = support::commit_requests(queued.catalog(), &requests).await;
    let mut refused: Vec<(String, &str)> = report
        .refused
        .iter()
        .map(|r| (r.message_id.clone(), r.code))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        vec![
            ("1".to_string(), "registered_changed"),
            ("2".to_string(), "outside_table")
        ],
        "{report:?}"
    );
    assert_eq!(report.tables[0].committed, 1, "{report:?}");

    // Ownership: compaction rewrites registered rows into the table, expiry drops every older
    // snapshot and orphan removal runs past its guard: no registered object is deleted.
    env.vars
        .insert("FLOE_REDELIVERY_WINDOW_HOURS".into(), "0".into());
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let mut rewrite = request(&[Action::RewriteDataFiles]);
    rewrite.tables = vec!["it.rg".into()];
    rewrite.rewrite.rewrite_all = true;
    rewrite.rewrite.min_input_files = 1;
    let r = maintainer.run(&rewrite, None).await;
    assert!(!r.failed(), "{r:?}");
    let compacted = maintainer.catalog().load_table(&ident).await.unwrap();
    let files = support::data_files(&compacted).await;
    assert!(
        files.iter().all(|f| f.starts_with(&location)),
        "compaction left registered files referenced: {files:?}"
    );
    let mut cleanup = request(&[Action::ExpireSnapshots, Action::RemoveOrphanFiles]);
    cleanup.tables = vec!["it.rg".into()];
    cleanup.expire.max_snapshot_age_ms = Some(0);
    cleanup.expire.min_snapshots_to_keep = Some(1);
    cleanup.orphans.older_than_ms = Some(0);
    let maintainer = maintainer.with_clock(Arc::new(floe::maintenance::clock::ShiftedClock {
        offset_ms: 2 * 3_600_000,
    }));
    let r = maintainer.run(&cleanup, None).await;
    assert!(!r.failed(), "{r:?}");
    let expired = r.tables[0].expire.clone().unwrap();
    assert!(!expired.snapshots_expired.is_empty(), "{expired:?}");
    let landing = env.stores().bucket(LANDING).unwrap();
    for url in &registered_urls {
        let key = url.trim_start_matches(&format!("s3://{LANDING}/"));
        landing
            .head(&object_store::path::Path::from(key))
            .await
            .unwrap_or_else(|e| panic!("registered object {url} was deleted: {e}"));
    }
    let after = maintainer.catalog().load_table(&ident).await.unwrap();
    let mut ids = ids_of(&support::pyiceberg(&env, "table_rows.py", "rg", &[]));
    ids.dedup();
    let mut want_after = want.clone();
    want_after.push(20);
    assert_eq!(ids, want_after);
    assert_eq!(
        support::duckdb_rows(&env, &after).as_array().unwrap().len(),
        11
    );
}
