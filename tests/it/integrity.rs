//! Data integrity on real S3 input (issue 12): every row lands exactly once or is quarantined
//! with a code, every value is stored exactly, every valid key reaches exactly its object.
//! Keys are uploaded raw with aws-sdk-s3, never through Floe's own path handling.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use floe::committer::{commit_messages, CommitMessage, CommitSettings};
use floe::ingest::{ObjectStatus, SkipReason};
use floe::queue::CommitRequest;
use floe::source::ObjectRef;

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{self, CapturedQueue, TestEnv, LANDING};

fn spec(name: &str, prefix: &str, extra: &str, columns: &[(&str, &str)]) -> String {
    let mut s = format!("name = \"{name}\"\nprefixes = [\"{prefix}\"]\n{extra}\n");
    for (n, t) in columns {
        s.push_str(&format!("[[columns]]\nname = \"{n}\"\ntype = \"{t}\"\n"));
    }
    s
}

async fn table_batches(env: &TestEnv, table: &str) -> Vec<RecordBatch> {
    let ingestor = env.ingestor().await;
    match ingestor.catalog().load_table(&env.ident(table)).await {
        Ok(t) => support::scan(&t).await,
        Err(_) => vec![],
    }
}

fn longs(batches: &[RecordBatch], col: &str) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(col)
                .unwrap()
                .as_primitive::<Int64Type>()
                .clone();
            (0..a.len()).map(move |i| a.value(i)).collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

fn strings(batches: &[RecordBatch], col: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(col).unwrap().as_string::<i32>().clone();
            (0..a.len())
                .map(move |i| a.is_valid(i).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn an_overwritten_key_is_read_as_the_version_its_event_named_or_skipped() {
    let env = TestEnv::new(&[("ow", spec("ow", "ow/", "", &[("id", "long")]))]);
    let key = env.key("ow/", "x.csv");
    let etag_a = env.put_raw(&key, b"id\n1\n2\n".to_vec()).await;
    let etag_b = env.put_raw(&key, b"id\n3\n4\n5\n".to_vec()).await;
    assert_ne!(etag_a, etag_b);
    let ingestor = env.ingestor().await;
    // Version A's event arrives after B overwrote the key: A is gone, B must not be stored as A.
    let mut a = ObjectRef::new(LANDING, key.clone());
    a.etag = Some(etag_a);
    let r = ingestor.ingest(a).await;
    assert_eq!(r.status, ObjectStatus::Skipped, "{r:?}");
    assert_eq!(r.skipped, Some(SkipReason::Superseded));
    assert!(!r.retryable && r.error.as_deref().unwrap().contains("superseded"));
    assert!(table_batches(&env, "ow")
        .await
        .iter()
        .all(|b| b.num_rows() == 0));
    // B's own event stores B exactly once.
    let mut b = ObjectRef::new(LANDING, key.clone());
    b.etag = Some(etag_b);
    let r = ingestor.ingest(b.clone()).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!(ingestor.ingest(b).await.status, ObjectStatus::Duplicate);
    assert_eq!(longs(&table_batches(&env, "ow").await, "id"), vec![3, 4, 5]);
}

#[tokio::test]
async fn every_valid_key_reaches_exactly_its_object() {
    let env = TestEnv::new(&[("keys", spec("keys", "keys/", "", &[("id", "long")]))]);
    let names = [
        "ü-umlaut.csv",
        "emoji-🦀.csv",
        "specials ~#%[]{}|^\"<>\\*?.csv",
        "tab\there.csv",
        "double//slash.csv",
        "plus+and%2Fencoded.csv",
    ];
    let ingestor = env.ingestor().await;
    for (i, name) in names.iter().enumerate() {
        let key = env.key("keys/", name);
        env.put_raw(&key, format!("id\n{i}\n").into_bytes()).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{key:?}: {r:?}");
        assert_eq!(r.rows_written, 1, "{key:?}");
    }
    assert_eq!(
        longs(&table_batches(&env, "keys").await, "id"),
        (0..names.len() as i64).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn folder_markers_and_unrouted_keys_are_reported_not_retried() {
    let env = TestEnv::new(&[("fm", spec("fm", "fm/", "", &[("id", "long")]))]);
    let folder = env.key("fm/", "sub/");
    env.put_raw(&folder, Vec::new()).await;
    let unrouted = format!("elsewhere/{}/x.csv", env.id);
    env.put_raw(&unrouted, b"id\n1\n".to_vec()).await;
    let body = |key: &str| {
        serde_json::json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": LANDING, "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::x"},
                   "object": {"key": key.replace(' ', "+"), "size": 0, "sequencer": "01"}}}]})
        .to_string()
    };
    let event = serde_json::json!({"Records": [
        {"messageId": "folder", "body": body(&folder), "eventSource": "aws:sqs"},
        {"messageId": "unrouted", "body": body(&unrouted), "eventSource": "aws:sqs"},
    ]});
    let ingestor = env.ingestor().await;
    let resp = ingestor
        .handle(floe::event::IngestEvent::parse(&event).unwrap())
        .await;
    assert_eq!(
        resp.batch_item_failures.as_deref(),
        Some(&[][..]),
        "{resp:?}"
    );
    let reasons: Vec<_> = resp.objects.iter().map(|r| (r.status, r.skipped)).collect();
    assert_eq!(
        reasons,
        vec![
            (ObjectStatus::Skipped, Some(SkipReason::FolderMarker)),
            (ObjectStatus::Skipped, Some(SkipReason::NoRoute))
        ]
    );
}

#[tokio::test]
async fn an_unreadable_object_with_a_very_long_key_is_still_quarantined() {
    let env = TestEnv::new(&[("lk", spec("lk", "lk/", "", &[("id", "long")]))]);
    // Path segments stay under common file-system name limits; the whole key is near S3's 1,024.
    let long = vec!["k".repeat(190); 5].join("/");
    let key = env.key("lk/", &format!("{long}.csv.gz"));
    assert!(key.len() <= 1024 && key.len() > 990);
    env.put_raw(&key, b"this is not gzip".to_vec()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_eq!(r.status, ObjectStatus::Quarantined, "{r:?}");
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(q.len(), 1, "{q:?}");
    let copy = q[0].3.clone().unwrap();
    assert!(copy.contains("/_long/") && copy.ends_with(".gz"), "{copy}");
    let (bucket, copy_key) = copy.trim_start_matches("s3://").split_once('/').unwrap();
    let got = env
        .s3_client()
        .await
        .get_object()
        .bucket(bucket)
        .key(copy_key)
        .send()
        .await
        .unwrap();
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], b"this is not gzip");
}

#[tokio::test]
async fn csv_line_endings_and_blank_first_lines_keep_every_row() {
    let env = TestEnv::new(&[(
        "le",
        spec("le", "le/", "", &[("id", "long"), ("name", "string")]),
    )]);
    let ingestor = env.ingestor().await;
    let cases: [(&str, &[u8], Vec<i64>); 4] = [
        ("cr.csv", b"id,name\r1,a\r2,b\r3,c\r", vec![1, 2, 3]),
        ("cr-header.csv", b"id,name\r10,a\n11,b\n", vec![10, 11]),
        ("blank-first.csv", b"\nid,name\n20,a\n", vec![20]),
        (
            "crlf.csv",
            b"id,name\r\n30,\"x\r\ny\"\r\n31,b\r\n",
            vec![30, 31],
        ),
    ];
    let mut expected = Vec::new();
    for (name, body, ids) in cases {
        let key = env.key("le/", name);
        env.put_raw(&key, body.to_vec()).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{name}: {r:?}");
        assert_eq!(r.rows_written, ids.len() as u64, "{name}: {r:?}");
        assert_accounted(&r);
        expected.extend(ids);
    }
    expected.sort();
    let batches = table_batches(&env, "le").await;
    assert_eq!(longs(&batches, "id"), expected);
    assert!(strings(&batches, "name").contains(&Some("x\r\ny".into())));
}

#[tokio::test]
async fn json_lines_honour_unknown_columns_and_keep_raw_records() {
    let cols = [("id", "long"), ("name", "string")];
    let env = TestEnv::new(&[
        (
            "je",
            spec(
                "je",
                "je/",
                "[contract]\nunknown_columns = \"evolve\"",
                &cols,
            ),
        ),
        (
            "jr",
            spec(
                "jr",
                "jr/",
                "[contract]\nunknown_columns = \"reject\"",
                &cols,
            ),
        ),
        ("jd", spec("jd", "jd/", "", &cols)),
    ]);
    let ingestor = env.ingestor().await;
    let lines = "{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"name\": \"\", \"extra\": \"e2\", \"more\": 7}\n";
    // evolve: the new keys become columns, with their values.
    let key = env.key("je/", "x.jsonl");
    env.put_raw(&key, lines.as_bytes().to_vec()).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(
        (r.status, r.rows_written),
        (ObjectStatus::Committed, 2),
        "{r:?}"
    );
    let b = table_batches(&env, "je").await;
    assert_eq!(strings(&b, "extra"), vec![None, Some("e2".into())]);
    // Typed evolution: a JSON integer makes a `long` column.
    assert_eq!(
        b.iter()
            .flat_map(|b| {
                let a = b
                    .column_by_name("more")
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .clone();
                (0..a.len()).map(move |i| a.is_valid(i).then(|| a.value(i)))
            })
            .collect::<Vec<_>>(),
        vec![None, Some(7)]
    );
    assert_eq!(
        strings(&b, "name"),
        vec![Some("a".into()), Some("".into())],
        "\"\" is a value"
    );
    // reject: the record with unknown keys is quarantined whole, raw line intact.
    let key = env.key("jr/", "x.jsonl");
    env.put_raw(&key, lines.as_bytes().to_vec()).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
    assert_eq!((r.rows_written, r.rows_quarantined), (1, 1), "{r:?}");
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(q[0].2, "schema_mismatch");
    assert_eq!(q[0].3.as_deref(), Some(lines.lines().nth(1).unwrap()));
    // default (drop): unknown keys are reported per object.
    let key = env.key("jd/", "x.jsonl");
    env.put_raw(&key, lines.as_bytes().to_vec()).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(r.rows_written, 2, "{r:?}");
    assert_eq!(r.unknown_columns, vec!["extra".to_string(), "more".into()]);
}

#[tokio::test]
async fn values_are_stored_exactly_or_quarantined_with_a_code() {
    let env = TestEnv::new(&[(
        "ex",
        spec(
            "ex",
            "ex/",
            "",
            &[
                ("id", "long"),
                ("amount", "decimal(10,2)"),
                ("ratio", "double"),
                ("local_ts", "timestamp"),
                ("t", "time"),
            ],
        ),
    )]);
    let csv = "id,amount,ratio,local_ts,t\n\
        1,1.50,2.5,2026-01-01T10:00:00,10:00:00\n\
        2,1.005,2.5,2026-01-01T10:00:00,10:00:00\n\
        3,0.001,2.5,2026-01-01T10:00:00,10:00:00\n\
        4,1.00,1e400,2026-01-01T10:00:00,10:00:00\n\
        5,1.00,2.5,2026-01-01T10:00:00+05:30,10:00:00\n\
        6,1.00,2.5,2026-01-01T10:00:00.123456789,10:00:00\n\
        7,1.00,2.5,2016-12-31T23:59:60,10:00:00\n\
        8,1.00,2.5,2026-01-01T10:00:00,23:59:60\n\
        9,-0.10,-1e-300,2026-01-01T10:00:00.123456000Z,23:59:59.999999\n";
    let key = env.key("ex/", "x.csv");
    env.put_raw(&key, csv.as_bytes().to_vec()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_accounted(&r);
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    let b = table_batches(&env, "ex").await;
    assert_eq!(longs(&b, "id"), vec![1, 9]);
    let row9: Vec<_> = b
        .iter()
        .flat_map(|b| {
            let ids = b
                .column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .clone();
            let am = b
                .column_by_name("amount")
                .unwrap()
                .as_primitive::<Decimal128Type>()
                .clone();
            let ra = b
                .column_by_name("ratio")
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone();
            let ts = b
                .column_by_name("local_ts")
                .unwrap()
                .as_primitive::<TimestampMicrosecondType>()
                .clone();
            (0..ids.len())
                .filter(move |&i| ids.value(i) == 9)
                .map(move |i| (am.value(i), ra.value(i), ts.value(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(row9, vec![(-10, -1e-300, 1_767_261_600_123_456)]);
    let q = quarantine_rows(&env, &key).await;
    let codes: BTreeMap<i64, (String, String)> = q
        .into_iter()
        .map(|(rec, field, code, _)| (rec.unwrap(), (field.unwrap_or_default(), code)))
        .collect();
    let expect = |rec: i64, field: &str, code: &str| {
        assert_eq!(
            codes.get(&rec).map(|(f, c)| (f.as_str(), c.as_str())),
            Some((field, code)),
            "record {rec}: {codes:?}"
        )
    };
    expect(2, "amount", "lossy_value");
    expect(3, "amount", "lossy_value");
    expect(4, "ratio", "lossy_value");
    expect(5, "local_ts", "lossy_value");
    expect(6, "local_ts", "lossy_value");
    expect(7, "local_ts", "invalid_type");
    expect(8, "t", "invalid_type");
    assert_eq!(codes.len(), 7);
}

/// CSV columns whose every value parses exactly are built straight into their types (the fast
/// path): the stored values are what the text path stores, and a row the contract rejects is
/// quarantined with its values as written (`+0`, `-0.10`, the offset), not as re-formatted.
#[tokio::test]
async fn typed_csv_batches_store_what_the_text_path_stores_and_quarantine_text_as_written() {
    let env = TestEnv::new(&[(
        "fast",
        spec(
            "fast",
            "fast/",
            "[[contract.rules]]\nname = \"qty_positive\"\nsql = \"qty >= 1\"",
            &[
                ("id", "long"),
                ("qty", "int"),
                ("amount", "decimal(10,2)"),
                ("ts", "timestamptz"),
                ("ok", "boolean"),
            ],
        ),
    )]);
    let csv = "id,qty,amount,ts,ok\n\
        1,2,1.5,2026-01-01 10:00:00,true\n\
        2,+0,-0.10,2026-01-01T10:00:00+02:00,1\n\
        3,5,007.25,2026-01-01T10:00:00.5Z,false\n";
    let key = env.key("fast/", "x.csv");
    env.put_raw(&key, csv.as_bytes().to_vec()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_accounted(&r);
    assert_eq!((r.rows_written, r.rows_quarantined), (2, 1), "{r:?}");
    let b = table_batches(&env, "fast").await;
    let mut rows: Vec<(i64, i128, i64, bool)> = Vec::new();
    for batch in &b {
        let col = |n: &str| batch.column_by_name(n).unwrap().clone();
        let (id, am, ts, ok) = (col("id"), col("amount"), col("ts"), col("ok"));
        for i in 0..batch.num_rows() {
            rows.push((
                id.as_primitive::<Int64Type>().value(i),
                am.as_primitive::<Decimal128Type>().value(i),
                ts.as_primitive::<TimestampMicrosecondType>().value(i),
                ok.as_boolean().value(i),
            ));
        }
    }
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (1, 150, 1_767_261_600_000_000, true),
            (3, 725, 1_767_261_600_500_000, false)
        ]
    );
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((q[0].0, q[0].2.as_str()), (Some(2), "rule_failed"));
    let raw: serde_json::Value = serde_json::from_str(q[0].3.as_deref().unwrap()).unwrap();
    assert_eq!(
        raw,
        serde_json::json!({"id": "2", "qty": "+0", "amount": "-0.10",
            "ts": "2026-01-01T10:00:00+02:00", "ok": "1"})
    );
}

/// `null_values` mean the same on the typed fast path as on the text path: `NA` is null in a
/// typed column built straight from the text (first object) and in one that falls back to text
/// because of an empty field, which `empty_as_null` (default for non-strings) then nulls (second).
#[tokio::test]
async fn csv_null_values_mean_the_same_typed_or_as_text() {
    let env = TestEnv::new(&[(
        "nv",
        spec(
            "nv",
            "nv/",
            "[csv]\nnull_values = [\"NA\"]",
            &[("id", "long"), ("n", "int"), ("s", "string")],
        ),
    )]);
    for (name, body) in [
        ("a.csv", "id,n,s\n1,NA,x\n3,5,NA\n"),
        ("b.csv", "id,n,s\n2,,\n4,7,y\n"),
    ] {
        let key = env.key("nv/", name);
        env.put_raw(&key, body.as_bytes().to_vec()).await;
        let r = env
            .ingestor()
            .await
            .ingest(ObjectRef::new(LANDING, key))
            .await;
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (2, 0),
            "{name}: {r:?}"
        );
    }
    let mut rows: Vec<(i64, Option<i32>, Option<String>)> = Vec::new();
    for b in table_batches(&env, "nv").await {
        let id = b
            .column_by_name("id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        let n = b
            .column_by_name("n")
            .unwrap()
            .as_primitive::<arrow_array::types::Int32Type>()
            .clone();
        let st = b.column_by_name("s").unwrap().as_string::<i32>().clone();
        for i in 0..b.num_rows() {
            rows.push((
                id.value(i),
                n.is_valid(i).then(|| n.value(i)),
                st.is_valid(i).then(|| st.value(i).to_string()),
            ));
        }
    }
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (1, None, Some("x".into())),
            (2, None, Some(String::new())),
            (3, Some(5), None),
            (4, Some(7), Some("y".into())),
        ]
    );
}

/// Halves of one character on both sides of a delimiter are invalid UTF-8 in each field (though
/// the two bytes joined are valid): that row is quarantined, the next one lands.
#[tokio::test]
async fn a_character_split_by_a_delimiter_quarantines_its_row() {
    let env = TestEnv::new(&[(
        "u8",
        spec(
            "u8",
            "u8/",
            "",
            &[("id", "long"), ("a", "string"), ("b", "string")],
        ),
    )]);
    let key = env.key("u8/", "x.csv");
    env.put_raw(&key, b"id,a,b\n1,\xC3,\xA9\n2,x,y\n".to_vec())
        .await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_accounted(&r);
    assert_eq!((r.rows_written, r.rows_quarantined), (1, 1), "{r:?}");
    assert_eq!(longs(&table_batches(&env, "u8").await, "id"), vec![2]);
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(
        (q[0].0, q[0].1.as_deref(), q[0].2.as_str()),
        (Some(1), Some("a"), "invalid_encoding"),
        "{q:?}"
    );
}

#[tokio::test]
async fn a_renamed_header_refuses_the_object_instead_of_nulling_a_column() {
    let env = TestEnv::new(&[(
        "rn",
        spec("rn", "rn/", "", &[("id", "long"), ("amount", "double")]),
    )]);
    let key = env.key("rn/", "x.csv");
    env.put_raw(&key, b"id,Amount\n1,2.5\n".to_vec()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_eq!(r.status, ObjectStatus::Quarantined, "{r:?}");
    assert_eq!((r.rows_written, r.rows_read, r.rows_quarantined), (0, 0, 0));
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(q[0].2, "schema_mismatch");
    assert!(table_batches(&env, "rn")
        .await
        .iter()
        .all(|b| b.num_rows() == 0));
}

#[tokio::test]
async fn rule_errors_at_run_time_are_row_level() {
    let env = TestEnv::new(&[(
        "rr",
        spec(
            "rr",
            "rr/",
            "[[contract.rules]]\nname = \"ratio\"\nsql = \"CAST(code AS BIGINT) / qty > 0\"",
            &[("id", "long"), ("qty", "long"), ("code", "string")],
        ),
    )]);
    let key = env.key("rr/", "x.csv");
    env.put_raw(&key, b"id,qty,code\n1,2,4\n2,0,4\n3,1,x\n4,1,3\n".to_vec())
        .await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_accounted(&r);
    assert_eq!(longs(&table_batches(&env, "rr").await, "id"), vec![1, 4]);
    let q = quarantine_rows(&env, &key).await;
    assert_eq!(
        q.iter().map(|r| (r.0, r.2.as_str())).collect::<Vec<_>>(),
        vec![(Some(2), "rule_failed"), (Some(3), "rule_failed")]
    );
}

#[tokio::test]
async fn a_record_past_the_size_limit_quarantines_the_object_naming_the_limit() {
    let mut env = TestEnv::new(&[(
        "lim",
        spec("lim", "lim/", "", &[("id", "long"), ("s", "string")]),
    )]);
    env.vars
        .insert("FLOE_MAX_RECORD_BYTES".into(), "1000".into());
    let key = env.key("lim/", "x.jsonl");
    let body = format!(
        "{{\"id\": 1, \"s\": \"a\"}}\n{{\"id\": 2, \"s\": \"{}\"}}\n",
        "x".repeat(5000)
    );
    env.put_raw(&key, body.into_bytes()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_eq!(r.status, ObjectStatus::Quarantined, "{r:?}");
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("FLOE_MAX_RECORD_BYTES"),
        "{r:?}"
    );
    assert_eq!(quarantine_rows(&env, &key).await[0].2, "limit_exceeded");
}

#[tokio::test]
async fn queued_requests_are_one_message_per_object_checked_before_commit() {
    let columns: Vec<(String, &str)> = (0..65).map(|i| (format!("c{i:02}"), "string")).collect();
    let mut cols: Vec<(&str, &str)> = vec![("id", "long")];
    cols.extend(columns.iter().map(|(n, t)| (n.as_str(), *t)));
    let text = spec(
        "wide",
        "wide/",
        "[[partition]]\ncolumn = \"id\"\ntransform = \"identity\"",
        &cols,
    );
    let env = TestEnv::new(&[("wide", text)]);
    let queue = std::sync::Arc::new(CapturedQueue::default());
    let ingestor = env.ingestor().await.with_commit_queue(queue.clone());
    // 150 partitions → 150 data files of 66 columns: far past one SQS message inline.
    let mut csv = String::from("id");
    for (n, _) in &columns {
        csv.push(',');
        csv.push_str(n);
    }
    csv.push('\n');
    for id in 0..150 {
        csv.push_str(&id.to_string());
        for _ in &columns {
            csv.push_str(",v");
        }
        csv.push('\n');
    }
    let key = env.key("wide/", "x.csv");
    env.put_raw(&key, csv.into_bytes()).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
    assert_eq!((r.status, r.files), (ObjectStatus::Queued, 150), "{r:?}");
    let sent = std::mem::take(&mut *queue.0.lock().unwrap());
    assert_eq!(sent.len(), 1, "one request per object and table");
    let body = serde_json::to_string(&sent[0]).unwrap();
    assert!(body.len() < 64 * 1024, "message of {} bytes", body.len());
    assert!(sent[0].data_files_url.is_some() && sent[0].file_count == 150);
    let settings = CommitSettings::new(10, 3_600_000);
    let msg = |id: &str, r: &CommitRequest| CommitMessage {
        message_id: id.into(),
        request: Ok(r.clone()),
        body: serde_json::to_string(r).unwrap(),
    };
    // Too old: refused, never committed.
    let mut old = sent[0].clone();
    old.sent_at_ms -= 2 * 3_600_000;
    let report = commit_messages(ingestor.catalog(), vec![msg("old", &old)], &settings).await;
    assert_eq!(report.refused[0].code, "too_old");
    assert_eq!(report.failed_message_ids, vec!["old".to_string()]);
    // One file of the object, re-pointed: outside the table, or at a file that is gone.
    let table = ingestor
        .catalog()
        .load_table(&env.ident("wide"))
        .await
        .unwrap();
    let mut one = sent[0].data_files(&table).await.unwrap();
    one.truncate(1);
    let path = one[0].file_path().to_string();
    let single = CommitRequest::for_files(&table, &sent[0].source, 1, one)
        .await
        .unwrap();
    assert!(single.data_files_url.is_none());
    let repoint = |to: &str, suffix: &str| -> CommitRequest {
        let mut r: CommitRequest =
            serde_json::from_str(&serde_json::to_string(&single).unwrap().replace(&path, to))
                .unwrap();
        r.idempotency_key.push_str(suffix);
        r
    };
    let foreign = repoint(
        "s3://floe-warehouse/another-table/data/x.parquet",
        "#outside",
    );
    let report = commit_messages(
        ingestor.catalog(),
        vec![msg("foreign", &foreign)],
        &settings,
    )
    .await;
    assert_eq!(report.refused[0].code, "outside_table", "{report:?}");
    let gone = repoint(
        &format!(
            "{}/data/removed-as-orphan.parquet",
            table.metadata().location()
        ),
        "#gone",
    );
    let report = commit_messages(ingestor.catalog(), vec![msg("gone", &gone)], &settings).await;
    assert_eq!(report.refused[0].code, "missing_files", "{report:?}");
    // In one batch (its requests are checked concurrently), each refusal names its own message,
    // and the real request, twice in the batch, commits all 150 rows once.
    let batch = vec![
        msg("foreign", &foreign),
        msg("ok", &sent[0]),
        msg("gone", &gone),
        msg("ok-again", &sent[0]),
    ];
    let report = commit_messages(ingestor.catalog(), batch, &settings).await;
    let refused: Vec<(&str, &str)> = report
        .refused
        .iter()
        .map(|r| (r.message_id.as_str(), r.code))
        .collect();
    assert_eq!(
        refused,
        vec![("foreign", "outside_table"), ("gone", "missing_files")],
        "{report:?}"
    );
    assert_eq!(report.failed_message_ids, vec!["foreign", "gone"]);
    assert_eq!(
        (report.tables[0].committed, report.tables[0].rows),
        (1, 150)
    );
    assert_eq!(
        longs(&table_batches(&env, "wide").await, "id"),
        (0..150).collect::<Vec<_>>()
    );
}

/// Property-style: random rows of every supported primitive type, written as CSV, JSON lines
/// and Parquet, ingested and read back through Iceberg: every value identical, or its row in
/// quarantine with a code. Never changed.
#[tokio::test]
async fn random_rows_of_every_type_read_back_identical_or_quarantined() {
    use std::sync::Arc;

    use arrow::util::display::{ArrayFormatter, FormatOptions};
    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
        StringArray, TimestampMicrosecondArray,
    };
    use rand::{Rng, SeedableRng};

    let cols = [
        ("id", "long"),
        ("i", "int"),
        ("d", "double"),
        ("dec", "decimal(12,3)"),
        ("s", "string"),
        ("b", "boolean"),
        ("dt", "date"),
        ("ts", "timestamptz"),
        ("lts", "timestamp"),
    ];
    let env = TestEnv::new(&[
        ("pc", spec("pc", "pc/", "", &cols)),
        ("pj", spec("pj", "pj/", "", &cols)),
        ("pp", spec("pp", "pp/", "", &cols)),
    ]);
    let seed: u64 = rand::rng().random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    const N: usize = 300;
    let pick = |rng: &mut rand::rngs::StdRng| rng.random_bool(0.9);
    let texts = [
        "plain",
        "ü 🦀",
        "comma, \"quoted\"",
        "line\nbreak",
        "tab\there",
        " padded ",
        "null",
        "NaN",
    ];
    let ids: Vec<i64> = (0..N as i64).collect();
    let ints: Vec<Option<i32>> = (0..N)
        .map(|k| match k {
            0 => Some(i32::MIN),
            1 => Some(i32::MAX),
            _ => pick(&mut rng).then(|| rng.random()),
        })
        .collect();
    let doubles: Vec<Option<f64>> = (0..N)
        .map(|k| match k {
            0 => Some(f64::MAX),
            1 => Some(f64::MIN_POSITIVE),
            2 => Some(-0.1),
            _ => pick(&mut rng).then(|| {
                let m: f64 = rng.random_range(-1.0..1.0);
                m * 10f64.powi(rng.random_range(-30..30))
            }),
        })
        .collect();
    let decs: Vec<Option<i128>> = (0..N)
        .map(|_| pick(&mut rng).then(|| rng.random_range(-99_999_999_999i128..=99_999_999_999)))
        .collect();
    let strs: Vec<Option<String>> = (0..N)
        .map(|_| pick(&mut rng).then(|| texts[rng.random_range(0..texts.len())].to_string()))
        .collect();
    let bools: Vec<Option<bool>> = (0..N)
        .map(|_| pick(&mut rng).then(|| rng.random()))
        .collect();
    let dates: Vec<Option<i32>> = (0..N)
        .map(|_| pick(&mut rng).then(|| rng.random_range(-25_000..60_000)))
        .collect();
    let micros = |rng: &mut rand::rngs::StdRng| {
        rng.random_range(-2_208_988_800_000_000i64..4_102_444_800_000_000)
    };
    let tss: Vec<Option<i64>> = (0..N)
        .map(|_| pick(&mut rng).then(|| micros(&mut rng)))
        .collect();
    let ltss: Vec<Option<i64>> = (0..N)
        .map(|_| pick(&mut rng).then(|| micros(&mut rng)))
        .collect();
    let expected = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(ids.clone())) as ArrayRef),
        ("i", Arc::new(Int32Array::from(ints.clone()))),
        ("d", Arc::new(Float64Array::from(doubles.clone()))),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(decs.clone())
                    .with_precision_and_scale(12, 3)
                    .unwrap(),
            ),
        ),
        ("s", Arc::new(StringArray::from(strs.clone()))),
        ("b", Arc::new(BooleanArray::from(bools.clone()))),
        ("dt", Arc::new(Date32Array::from(dates.clone()))),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(tss.clone()).with_timezone("UTC")),
        ),
        (
            "lts",
            Arc::new(TimestampMicrosecondArray::from(ltss.clone())),
        ),
    ])
    .unwrap();
    let text_of = |col: usize, row: usize| -> Option<String> {
        let a = expected.column(col);
        if a.is_null(row) {
            return None;
        }
        Some(match col {
            2 => format!("{:?}", doubles[row].unwrap()),
            7 => chrono::DateTime::from_timestamp_micros(tss[row].unwrap())
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            8 => chrono::DateTime::from_timestamp_micros(ltss[row].unwrap())
                .unwrap()
                .naive_utc()
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string(),
            _ => ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())
                .unwrap()
                .value(row)
                .to_string(),
        })
    };
    // CSV: every field quoted (an unquoted empty field is null in CSV; strings here are never empty).
    let mut csv = cols.iter().map(|c| c.0).collect::<Vec<_>>().join(",") + "\n";
    for row in 0..N {
        let fields: Vec<String> = (0..cols.len())
            .map(|c| match text_of(c, row) {
                None => String::new(),
                Some(t) => format!("\"{}\"", t.replace('"', "\"\"")),
            })
            .collect();
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    let mut jsonl = String::new();
    for row in 0..N {
        let mut obj = serde_json::Map::new();
        for (c, (name, _)) in cols.iter().enumerate() {
            let v = match (c, text_of(c, row)) {
                (_, None) => serde_json::Value::Null,
                (0 | 1, Some(t)) => serde_json::Value::Number(t.parse().unwrap()),
                (5, Some(t)) => serde_json::Value::Bool(t == "true"),
                (_, Some(t)) => serde_json::Value::String(t),
            };
            obj.insert(name.to_string(), v);
        }
        jsonl.push_str(&serde_json::Value::Object(obj).to_string());
        jsonl.push('\n');
    }
    let mut parquet_bytes = Vec::new();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(&mut parquet_bytes, expected.schema(), None).unwrap();
    w.write(&expected).unwrap();
    w.close().unwrap();

    let ingestor = env.ingestor().await;
    for (table, name, body) in [
        ("pc", "x.csv", csv.into_bytes()),
        ("pj", "x.jsonl", jsonl.into_bytes()),
        ("pp", "x.parquet", parquet_bytes),
    ] {
        let key = env.key(&format!("{table}/"), name);
        env.put_raw(&key, body).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(
            r.status,
            ObjectStatus::Committed,
            "seed {seed}, {table}: {r:?}"
        );
        assert_accounted(&r);
        let quarantined = quarantine_rows(&env, &key).await;
        assert!(
            quarantined.iter().all(|q| !q.2.is_empty()),
            "seed {seed}: {quarantined:?}"
        );
        let got = table_batches(&env, table).await;
        let got = arrow::compute::concat_batches(&got[0].schema(), &got).unwrap();
        assert_eq!(
            got.num_rows() + quarantined.len(),
            N,
            "seed {seed}, {table}: every row lands or is quarantined"
        );
        let got_ids = got.column(0).as_primitive::<Int64Type>();
        for (c, (col_name, _)) in cols.iter().enumerate().skip(1) {
            let want = arrow::compute::cast(expected.column(c), got.column(c).data_type()).unwrap();
            let fw = ArrayFormatter::try_new(want.as_ref(), &FormatOptions::default()).unwrap();
            let fg =
                ArrayFormatter::try_new(got.column(c).as_ref(), &FormatOptions::default()).unwrap();
            for row in 0..got.num_rows() {
                let id = got_ids.value(row) as usize;
                let w = want.is_valid(id).then(|| fw.value(id).to_string());
                let g = got
                    .column(c)
                    .is_valid(row)
                    .then(|| fg.value(row).to_string());
                assert_eq!(g, w, "seed {seed}, {table}, id {id}, column {col_name}");
            }
        }
    }
}

/// A text longer than Parquet's 64-byte statistics limit is stored truncated in its row group's
/// statistics; the file's bounds must still cover it. (iceberg-rust 0.10's writer skipped such
/// row groups and took the upper bound from the others: with the largest text in a skipped row
/// group, the file's upper bound was below a stored value and a reader pruning by bounds — here
/// pyiceberg with `note >= 'y'` — silently missed the row.) DuckDB reads the same bounds.
#[tokio::test]
async fn long_texts_stay_inside_their_file_bounds_and_readers_find_them() {
    let mut env = TestEnv::new(&[(
        "lt",
        spec(
            "lt",
            "lt/",
            // Row groups of ~1 KiB: the 200 rows span several.
            "[properties]\n\"write.parquet.row-group-size-bytes\" = \"1024\"",
            &[("id", "long"), ("note", "string")],
        ),
    )]);
    env.vars.insert("FLOE_BATCH_ROWS".into(), "16".into());
    let longest = format!("{}end", "z".repeat(100));
    let shortest = format!("{}start", "a".repeat(100));
    let mut body = String::from("id,note\n");
    for id in 1..=200 {
        let note = match id {
            5 => longest.clone(),
            190 => shortest.clone(),
            _ => format!("m-{id}"),
        };
        body.push_str(&format!("{id},{note}\n"));
    }
    let key = env.key("lt/", "notes.csv");
    env.put_raw(&key, body.into_bytes()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key))
        .await;
    assert_eq!((r.rows_written, r.rows_quarantined), (200, 0), "{r:?}");
    let found = support::pyiceberg(&env, "table_rows.py", "lt", &["note >= 'y'".to_string()]);
    assert_eq!(found, serde_json::json!([{"id": 5, "note": longest}]));
    let found = support::pyiceberg(&env, "table_rows.py", "lt", &["note < 'b'".to_string()]);
    assert_eq!(found, serde_json::json!([{"id": 190, "note": shortest}]));

    let ingestor = env.ingestor().await;
    let table = ingestor
        .catalog()
        .load_table(&env.ident("lt"))
        .await
        .unwrap();
    let note_id = table
        .metadata()
        .current_schema()
        .field_by_name("note")
        .unwrap()
        .id;
    let snapshot = table.metadata().current_snapshot().unwrap().clone();
    let manifests = floe::maintenance::files::load_manifests(&table, &snapshot)
        .await
        .unwrap();
    let files: Vec<_> = manifests
        .iter()
        .flat_map(|m| m.entries.iter().map(|e| e.data_file().clone()))
        .collect();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert!(
        file.split_offsets().map_or(0, |s| s.len()) > 2,
        "several row groups: {:?}",
        file.split_offsets()
    );
    let text = |d: &iceberg::spec::Datum| match d.literal() {
        iceberg::spec::PrimitiveLiteral::String(s) => s.clone(),
        other => panic!("not a string bound: {other:?}"),
    };
    let upper = text(&file.upper_bounds()[&note_id]);
    let lower = text(&file.lower_bounds()[&note_id]);
    assert!(
        upper >= longest,
        "upper bound {upper:?} is below a stored value"
    );
    assert!(
        lower <= shortest,
        "lower bound {lower:?} is above a stored value"
    );

    // DuckDB prunes by the same bounds.
    let found = support::duckdb_rows_where(&env, &table, "note >= 'y'");
    assert_eq!(found, serde_json::json!([{"id": 5, "note": longest}]));
    let found = support::duckdb_rows_where(&env, &table, "note < 'b'");
    assert_eq!(found, serde_json::json!([{"id": 190, "note": shortest}]));
}

/// A data file larger than one upload part (8 MiB) is sent as several multipart parts cut
/// mid-row-group; the file the S3 server assembles reads back with every row once and intact.
#[tokio::test]
async fn a_data_file_of_several_upload_parts_reads_back_whole() {
    let env = TestEnv::new(&[(
        "parts",
        spec(
            "parts",
            "parts/",
            "",
            &[("id", "long"), ("token", "string")],
        ),
    )]);
    // 64 hex digits per row from a mixing function: hardly compressible, so ~13 MB of Parquet.
    let token = |id: u64| {
        let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (0..4)
            .map(|_| {
                x ^= x >> 31;
                x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 27);
                format!("{x:016x}")
            })
            .collect::<String>()
    };
    let rows = 400_000u64;
    let mut csv = String::from("id,token\n");
    for id in 0..rows {
        csv.push_str(&format!("{id},{}\n", token(id)));
    }
    let key = env.key("parts/", "tokens.csv");
    env.put_raw(&key, csv.into_bytes()).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key))
        .await;
    assert_eq!((r.rows_written, r.rows_quarantined), (rows, 0), "{r:?}");

    let ingestor = env.ingestor().await;
    let table = ingestor
        .catalog()
        .load_table(&env.ident("parts"))
        .await
        .unwrap();
    let snapshot = table.metadata().current_snapshot().unwrap().clone();
    let sizes: Vec<u64> = floe::maintenance::files::load_manifests(&table, &snapshot)
        .await
        .unwrap()
        .iter()
        .flat_map(|m| m.entries.iter().map(|e| e.data_file().file_size_in_bytes()))
        .collect();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    assert!(
        sizes[0] > floe::write::UPLOAD_PART_BYTES as u64,
        "one file of several parts: {sizes:?}"
    );
    let mut seen = vec![false; rows as usize];
    for b in support::scan(&table).await {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let tokens = b.column_by_name("token").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            let id = ids.value(i);
            assert_eq!(tokens.value(i), token(id as u64), "row {id}");
            assert!(
                !std::mem::replace(&mut seen[id as usize], true),
                "row {id} twice"
            );
        }
    }
    assert!(seen.iter().all(|s| *s), "every row read back");
}
