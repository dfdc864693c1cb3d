//! `uuid` and `fixed[N]` columns (issue 15 #6): from CSV and JSON lines text (hyphenated or
//! plain-hex UUIDs, 2N hex digits for fixed) and from Parquet fixed-size binary, stored as the
//! exact bytes; a value of the wrong form is quarantined as `invalid_type`, never nulled.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, Int64Array, RecordBatch};
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "ids"
prefixes = ["ids/"]
[[columns]]
name = "id"
type = "long"
[[columns]]
name = "u"
type = "uuid"
[[columns]]
name = "f"
type = "fixed[4]"
"#;

/// A value read back: the bytes, or null.
type Bytes = Option<Vec<u8>>;

const U: &str = "550e8400-e29b-41d4-a716-446655440000";

fn u_bytes() -> Vec<u8> {
    uuid::Uuid::parse_str(U).unwrap().as_bytes().to_vec()
}

fn parquet_object() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("u", DataType::FixedSizeBinary(16), true),
        Field::new("f", DataType::FixedSizeBinary(4), true),
    ]));
    let u = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        [Some(u_bytes()), None].into_iter(),
        16,
    )
    .unwrap();
    let f = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        [Some(vec![9u8, 8, 7, 6]), Some(vec![0, 0, 0, 0])].into_iter(),
        4,
    )
    .unwrap();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![20, 21])),
        Arc::new(u),
        Arc::new(f),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    crate::support::parquet_bytes(&batch)
}

#[tokio::test]
async fn uuid_and_fixed_columns_land_as_exact_bytes_from_text_and_parquet() {
    let env = TestEnv::new(&[("ids", SPEC.to_string())]);
    let ingestor = env.ingestor().await;
    let csv = format!(
        "id,u,f\n1,{U},deadbeef\n2,{},00010203\n3,not-a-uuid,deadbeef\n4,{U},dead\n5,,\n",
        U.replace('-', "").to_uppercase()
    );
    let json = format!("{{\"id\": 10, \"u\": \"{U}\", \"f\": \"CAFEBABE\"}}\n{{\"id\": 11, \"u\": null, \"f\": \"zz000000\"}}\n");
    let objects: [(&str, Vec<u8>, u64, u64); 3] = [
        ("x.csv", csv.into_bytes(), 3, 2),
        ("x.jsonl", json.into_bytes(), 1, 1),
        ("x.parquet", parquet_object(), 2, 0),
    ];
    for (name, body, written, quarantined) in objects {
        let key = env.key("ids/", name);
        env.put_raw(&key, body).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{name}: {r:?}");
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (written, quarantined),
            "{name}: {r:?}"
        );
        assert_accounted(&r);
        for (_, field, code, _) in quarantine_rows(&env, &key).await {
            assert_eq!(code, "invalid_type", "{name}");
            assert!(
                matches!(field.as_deref(), Some("u" | "f")),
                "{name}: {field:?}"
            );
        }
    }

    let table = ingestor
        .catalog()
        .load_table(&env.ident("ids"))
        .await
        .unwrap();
    let mut rows: BTreeMap<i64, (Bytes, Bytes)> = BTreeMap::new();
    for b in support::scan(&table).await {
        let id = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let u = b.column_by_name("u").unwrap().as_fixed_size_binary();
        let f = b.column_by_name("f").unwrap().as_fixed_size_binary();
        assert_eq!((u.value_length(), f.value_length()), (16, 4));
        for i in 0..b.num_rows() {
            let get = |a: &FixedSizeBinaryArray| a.is_valid(i).then(|| a.value(i).to_vec());
            rows.insert(id.value(i), (get(u), get(f)));
        }
    }
    let u = Some(u_bytes());
    let expected: BTreeMap<i64, (Bytes, Bytes)> = [
        (1, (u.clone(), Some(vec![0xde, 0xad, 0xbe, 0xef]))),
        (2, (u.clone(), Some(vec![0, 1, 2, 3]))),
        (5, (None, None)),
        (10, (u.clone(), Some(vec![0xca, 0xfe, 0xba, 0xbe]))),
        (20, (u.clone(), Some(vec![9, 8, 7, 6]))),
        (21, (None, Some(vec![0, 0, 0, 0]))),
    ]
    .into_iter()
    .collect();
    assert_eq!(rows, expected);

    // pyiceberg reads the same values (uuid as a UUID, fixed as bytes).
    let py = support::pyiceberg(&env, "table_rows.py", "ids", &[]);
    let hex = |b: &Bytes| {
        b.as_ref()
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>())
    };
    let py_rows: BTreeMap<i64, (Option<String>, Option<String>)> = py
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().map(|s| s.replace('-', ""));
            (r["id"].as_i64().unwrap(), (text("u"), text("f")))
        })
        .collect();
    let want: BTreeMap<i64, (Option<String>, Option<String>)> = expected
        .iter()
        .map(|(id, (u, f))| (*id, (hex(u), hex(f))))
        .collect();
    assert_eq!(py_rows, want);
}
