//! Typed schema evolution (issue 15 #2) under `unknown_columns = "evolve"`: objects that add a
//! typed column, a nested field and a list, widen `int` → `long` (a JSON value out of range) and
//! `float` → `double` (a typed Parquet column) land in one table; rows written before read back
//! unchanged under the new schema (Floe and pyiceberg); a typed change no promotion makes safe is
//! refused per object as `incompatible_type`; 8 concurrent evolving ingests converge.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use iceberg::spec::{PrimitiveType, Type};
use serde_json::{json, Value};

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "evo"
prefixes = ["evo/"]
[contract]
unknown_columns = "evolve"
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "n"
type = "int"
[[columns]]
name = "f"
type = "float"
[[columns]]
name = "a"
type = "struct<x: string>"
"#;

fn parquet(cols: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    crate::support::parquet_bytes(&batch)
}

fn field_type(t: &iceberg::table::Table, path: &str) -> Type {
    t.metadata()
        .current_schema()
        .field_by_name(path)
        .unwrap_or_else(|| panic!("no field {path}"))
        .field_type
        .as_ref()
        .clone()
}

#[tokio::test]
async fn typed_columns_nested_fields_and_promotions_evolve_one_table() {
    let env = TestEnv::new(&[("evo", SPEC.to_string())]);
    let ingestor = env.ingestor().await;
    let objects: Vec<(&str, Vec<u8>, ObjectStatus)> = vec![
        (
            "1.jsonl",
            b"{\"id\": 1, \"n\": 5, \"f\": 1.5, \"a\": {\"x\": \"p\"}}\n".to_vec(),
            ObjectStatus::Committed,
        ),
        (
            "2.jsonl",
            b"{\"id\": 2, \"n\": 6, \"a\": {\"x\": \"q\", \"y\": 7}, \"score\": 2.5, \"tags\": [\"t\", \"u\"], \"when\": \"2024-05-01T10:00:00Z\"}\n".to_vec(),
            ObjectStatus::Committed,
        ),
        (
            "3.jsonl",
            b"{\"id\": 3, \"n\": 3000000000}\n".to_vec(),
            ObjectStatus::Committed,
        ),
        (
            "4.parquet",
            parquet(vec![
                ("id", Arc::new(Int64Array::from(vec![4])) as ArrayRef),
                ("f", Arc::new(Float64Array::from(vec![0.1])) as ArrayRef),
            ]),
            ObjectStatus::Committed,
        ),
        (
            // A fraction into the (now long) integer column: no promotion makes it safe.
            "5.parquet",
            parquet(vec![
                ("id", Arc::new(Int64Array::from(vec![5])) as ArrayRef),
                ("n", Arc::new(Float64Array::from(vec![2.5])) as ArrayRef),
            ]),
            ObjectStatus::Quarantined,
        ),
    ];
    for (name, body, status) in objects {
        let key = env.key("evo/", name);
        env.put_raw(&key, body).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, status, "{name}: {r:?}");
        assert_accounted(&r);
        if status == ObjectStatus::Quarantined {
            let q = quarantine_rows(&env, &key).await;
            assert_eq!(q[0].2, "incompatible_type", "{name}: {q:?}");
        }
    }

    let t = ingestor
        .catalog()
        .load_table(&env.ident("evo"))
        .await
        .unwrap();
    let p = |p| Type::Primitive(p);
    assert_eq!(field_type(&t, "n"), p(PrimitiveType::Long), "int → long");
    assert_eq!(
        field_type(&t, "f"),
        p(PrimitiveType::Double),
        "float → double"
    );
    assert_eq!(
        field_type(&t, "a.y"),
        p(PrimitiveType::Long),
        "nested field"
    );
    assert_eq!(
        field_type(&t, "score"),
        p(PrimitiveType::Double),
        "typed column"
    );
    assert_eq!(field_type(&t, "when"), p(PrimitiveType::Timestamptz));
    assert_eq!(
        floe::infer::type_text(&field_type(&t, "tags")),
        "list<string>"
    );
    // Field ids never change: row 1 (written as int/float) reads back unchanged.
    let expected = vec![
        json!({"id": 1, "n": 5, "f": 1.5, "a": {"x": "p", "y": null}, "score": null, "tags": null, "when": null}),
        json!({"id": 2, "n": 6, "f": null, "a": {"x": "q", "y": 7}, "score": 2.5, "tags": ["t", "u"], "when": "2024-05-01 10:00:00+00:00"}),
        json!({"id": 3, "n": 3000000000i64, "f": null, "a": null, "score": null, "tags": null, "when": null}),
        json!({"id": 4, "n": null, "f": 0.1, "a": null, "score": null, "tags": null, "when": null}),
    ];
    let mut py: Vec<Value> = support::pyiceberg(&env, "table_rows.py", "evo", &[])
        .as_array()
        .unwrap()
        .clone();
    py.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(py, expected);
    let mut duck: Vec<Value> = support::duckdb_rows(&env, &t).as_array().unwrap().clone();
    duck.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(
        duck, expected,
        "DuckDB reads the evolved table as pyiceberg does"
    );
    // (Read through pyiceberg: iceberg-rust 0.10's scan cannot yet read a file written before its
    // struct gained a field — apache/iceberg-rust#2617; see the README.)
}

#[tokio::test]
async fn concurrent_evolving_ingests_converge() {
    let env = TestEnv::new(&[("evo", SPEC.to_string())]);
    let ingestor = Arc::new(env.ingestor().await);
    let mut tasks = Vec::new();
    for k in 0..8 {
        let key = env.key("evo/", &format!("c{k}.jsonl"));
        let line = format!("{{\"id\": {k}, \"col_{k}\": {k}, \"shared\": {k}.5, \"a\": {{\"x\": \"s\", \"z{k}\": true}}}}\n");
        env.put_raw(&key, line.into_bytes()).await;
        let ingestor = ingestor.clone();
        tasks.push(tokio::spawn(async move {
            ingestor.ingest(ObjectRef::new(LANDING, key)).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(
            (r.status, r.rows_written),
            (ObjectStatus::Committed, 1),
            "{r:?}"
        );
    }
    let t = ingestor
        .catalog()
        .load_table(&env.ident("evo"))
        .await
        .unwrap();
    for k in 0..8 {
        assert_eq!(
            field_type(&t, &format!("col_{k}")),
            Type::Primitive(PrimitiveType::Long)
        );
        assert_eq!(
            field_type(&t, &format!("a.z{k}")),
            Type::Primitive(PrimitiveType::Boolean)
        );
    }
    assert_eq!(
        field_type(&t, "shared"),
        Type::Primitive(PrimitiveType::Double)
    );
    let rows = support::pyiceberg(&env, "table_rows.py", "evo", &[]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for r in rows {
        let k = r["id"].as_i64().unwrap();
        assert_eq!(r[format!("col_{k}")], json!(k), "{r}");
        assert_eq!(r["shared"], json!(k as f64 + 0.5), "{r}");
        assert_eq!(r["a"][format!("z{k}")], json!(true), "{r}");
    }
}
