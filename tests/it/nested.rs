//! Nested types end to end (issue 15 #1): struct, list and map columns (and a struct in a
//! struct, a list of decimals) from nested JSON lines, from Parquet written by pyarrow and from
//! JSON text in CSV cells, into one Iceberg table partitioned on a nested field; contracts on
//! nested parts by path; bad nested values quarantine only their row, naming the path; values
//! read back exactly through Iceberg and through pyiceberg.

use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use serde_json::{json, Value};

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "events"
prefixes = ["ev/"]
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "address"
type = "struct<street: string, country: string, geo: struct<lat: double, lon: double>>"
[[columns]]
name = "tags"
type = "list<string>"
[[columns]]
name = "attrs"
type = "map<string, long>"
[[columns]]
name = "amounts"
type = "list<decimal(10, 2)>"
[[partition]]
column = "address.country"
[[contract.fields]]
name = "address.country"
required = true
allowed = ["DE", "US"]
"#;

/// An object: name, body, rows written, quarantined (field, code) pairs.
type Case<'a> = (&'a str, Vec<u8>, u64, &'a [(&'a str, &'a str)]);

/// One value as canonical JSON: decimals and other non-JSON leaves as their text, maps as
/// objects.
fn value(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Struct(fields) => {
            let s = a.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| (f.name().clone(), value(c.as_ref(), i)))
                    .collect(),
            )
        }
        DataType::List(_) => {
            let l = a.as_list::<i32>().value(i);
            Value::Array((0..l.len()).map(|j| value(l.as_ref(), j)).collect())
        }
        DataType::Map(_, _) => {
            let m = a.as_map().value(i);
            let (k, v) = (m.column(0), m.column(1));
            Value::Object(
                (0..m.len())
                    .map(|j| (text(k.as_ref(), j), value(v.as_ref(), j)))
                    .collect(),
            )
        }
        DataType::Int64 => json!(a.as_primitive::<arrow_array::types::Int64Type>().value(i)),
        DataType::Float64 => json!(a.as_primitive::<arrow_array::types::Float64Type>().value(i)),
        _ => Value::String(text(a, i)),
    }
}

fn text(a: &dyn Array, i: usize) -> String {
    ArrayFormatter::try_new(a, &FormatOptions::default())
        .unwrap()
        .value(i)
        .to_string()
}

fn rows(batches: &[RecordBatch]) -> Vec<Value> {
    let mut out: Vec<Value> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |i| {
                Value::Object(
                    b.schema()
                        .fields()
                        .iter()
                        .zip(b.columns())
                        .map(|(f, c)| (f.name().clone(), value(c.as_ref(), i)))
                        .collect(),
                )
            })
        })
        .collect();
    out.sort_by_key(|r| r["id"].as_i64());
    out
}

fn jsonl() -> String {
    [
        r#"{"id": 1, "address": {"street": "Main 1", "zip": "10115", "country": "DE", "geo": {"lat": 52.52, "lon": 13.405, "alt": 34}}, "tags": ["a", "b"], "attrs": {"x": 1, "y": 2}, "amounts": ["1.50", 2.25]}"#,
        r#"{"id": 2, "address": {"street": "Broadway", "country": "US", "geo": null}, "tags": [], "attrs": {}, "amounts": [3]}"#,
        r#"{"id": 3, "address": null, "tags": null, "attrs": null, "amounts": null}"#,
        r#"{"id": 4, "address": {"street": "x", "country": "FR"}}"#,
        r#"{"id": 5, "address": {"country": "DE"}, "tags": ["ok", 5], "amounts": ["1", "1.005"]}"#,
        r#"{"id": 6, "attrs": {"k": "not a number"}}"#,
        r#"{"id": 7, "address": {"street": "s"}}"#,
        r#"{"id": 8, "tags": {"not": "a list"}}"#,
    ]
    .join("\n")
        + "\n"
}

fn csv() -> String {
    let cell = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
    format!(
        "id,address,tags,attrs,amounts\n30,{},{},{},{}\n31,,,,\n32,{},,,\n",
        cell(r#"{"street": "Elm", "country": "US", "geo": {"lat": 1.5, "lon": -2.25}}"#),
        cell(r#"["c"]"#),
        cell(r#"{"z": 26}"#),
        cell(r#"["0.10"]"#),
        cell(r#"{"street": "bad json"#),
    )
}

fn parquet(env: &TestEnv) -> Vec<u8> {
    let python = std::env::var("FLOE_TEST_PYICEBERG")
        .expect("FLOE_TEST_PYICEBERG is not set: run the tests with `make test`");
    let out = env.dir.join("nested.parquet");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/nested_parquet.py");
    let status = std::process::Command::new(python)
        .arg(script)
        .arg(&out)
        .status()
        .expect("run pyarrow");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn nested_json_parquet_and_csv_land_in_one_nested_table_exactly() {
    let env = TestEnv::new(&[("events", SPEC.to_string())]);
    let ingestor = env.ingestor().await;
    let objects: [Case; 3] = [
        (
            "x.jsonl",
            jsonl().into_bytes(),
            3,
            &[
                ("address.country", "not_allowed"),
                ("amounts.element", "lossy_value"),
                ("attrs.value", "invalid_type"),
                ("address.country", "required_null"),
                ("tags", "invalid_type"),
            ],
        ),
        (
            "x.parquet",
            parquet(&env),
            2,
            &[("address.country", "required_null")],
        ),
        (
            "x.csv",
            csv().into_bytes(),
            2,
            &[("address", "invalid_type")],
        ),
    ];
    for (name, body, written, bad) in objects {
        let key = env.key("ev/", name);
        env.put_raw(&key, body).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{name}: {r:?}");
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (written, bad.len() as u64),
            "{name}: {r:?}"
        );
        assert_accounted(&r);
        if name == "x.jsonl" {
            // Nested keys the table lacks are reported by path, not dropped silently.
            assert_eq!(
                r.unknown_columns,
                vec!["address.zip".to_string(), "address.geo.alt".to_string()],
                "{r:?}"
            );
        }
        let mut got: Vec<(String, String)> = quarantine_rows(&env, &key)
            .await
            .into_iter()
            .map(|(_, field, code, _)| (field.unwrap_or_default(), code))
            .collect();
        let mut want: Vec<(String, String)> = bad
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}");
    }

    let expected = vec![
        json!({"id": 1, "address": {"street": "Main 1", "country": "DE", "geo": {"lat": 52.52, "lon": 13.405}}, "tags": ["a", "b"], "attrs": {"x": 1, "y": 2}, "amounts": ["1.50", "2.25"]}),
        json!({"id": 2, "address": {"street": "Broadway", "country": "US", "geo": null}, "tags": [], "attrs": {}, "amounts": ["3.00"]}),
        json!({"id": 3, "address": null, "tags": null, "attrs": null, "amounts": null}),
        json!({"id": 20, "address": {"street": "Quai 2", "country": "DE", "geo": {"lat": 48.85, "lon": 2.35}}, "tags": ["p", "q"], "attrs": {"a": 10, "b": -1}, "amounts": ["0.01", "99999999.99"]}),
        json!({"id": 21, "address": null, "tags": [], "attrs": null, "amounts": [null]}),
        json!({"id": 30, "address": {"street": "Elm", "country": "US", "geo": {"lat": 1.5, "lon": -2.25}}, "tags": ["c"], "attrs": {"z": 26}, "amounts": ["0.10"]}),
        json!({"id": 31, "address": null, "tags": null, "attrs": null, "amounts": null}),
    ];
    let table = ingestor
        .catalog()
        .load_table(&env.ident("events"))
        .await
        .unwrap();
    assert_eq!(rows(&support::scan(&table).await), expected);
    // Partitioned by the nested field: one data file per country (DE, US, null) per object.
    let files = support::data_files(&table).await;
    assert!(
        files.iter().any(|f| f.contains("address_country=DE")),
        "{files:?}"
    );

    // pyiceberg reads the same nested values.
    let py = support::pyiceberg(&env, "table_rows.py", "events", &[]);
    let mut py_rows: Vec<Value> = py.as_array().unwrap().clone();
    for r in &mut py_rows {
        // pyarrow gives a map as a list of [key, value] pairs.
        if let Some(pairs) = r["attrs"].as_array().cloned() {
            r["attrs"] = Value::Object(
                pairs
                    .iter()
                    .map(|p| (p[0].as_str().unwrap().to_string(), p[1].clone()))
                    .collect(),
            );
        }
    }
    py_rows.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(py_rows, expected);

    // DuckDB's iceberg extension reads them too (decimals as text, maps as objects).
    let mut duck: Vec<Value> = support::duckdb_rows(&env, &table)
        .as_array()
        .unwrap()
        .clone();
    duck.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(duck, expected);
}
