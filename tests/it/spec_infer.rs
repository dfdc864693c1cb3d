//! `floe spec infer` (issue 15 #3): a spec inferred from a sample of CSV, JSON lines (nested),
//! Parquet and Avro objects ingests the same objects with zero quarantined rows; one bad value
//! in a sample does not change a column's inferred type (its row is what gets quarantined).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StructArray,
};
use floe::ingest::{Ingestor, ObjectStatus};
use floe::source::ObjectRef;
use floe::spec_infer::{infer_spec, InferOptions};

use crate::errors::assert_accounted;
use crate::support::{TestEnv, LANDING};

fn parquet_object() -> Vec<u8> {
    let s = StructArray::new(
        Fields::from(vec![Field::new("a", DataType::Int32, true)]),
        vec![Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef],
        None,
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Float64, true),
        Field::new("s", s.data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Float64Array::from(vec![Some(0.5), None])),
            Arc::new(s),
        ],
    )
    .unwrap();
    crate::support::parquet_bytes(&batch)
}

#[tokio::test]
async fn inferred_specs_ingest_their_sample_with_nothing_quarantined() {
    let env = TestEnv::new(&[]);
    let csv_header = "id,name,amount,ts,flag,day,qty\n";
    let objects: Vec<(&str, Vec<u8>)> = vec![
        (
            "csv/a.csv",
            format!("{csv_header}1,a,1.50,2024-01-01T10:00:00Z,true,2024-01-01,5\n2,,2.25,2024-01-02T11:30:00Z,false,2024-01-02,6\n").into_bytes(),
        ),
        (
            "csv/b.csv",
            format!("{csv_header}3,c,-0.75,2024-01-03T00:00:00+02:00,true,2024-01-03,3000000000\n").into_bytes(),
        ),
        (
            "csvbad/a.csv",
            format!(
                "id,qty\n{}9,n/a\n",
                (1..=40).map(|i| format!("{i},{}\n", i * 10)).collect::<String>()
            )
            .into_bytes(),
        ),
        (
            "jsonl/a.jsonl",
            b"{\"id\": 1, \"user\": {\"name\": \"a\", \"age\": 30}, \"tags\": [\"x\"], \"score\": 1.5, \"at\": \"2024-01-01T00:00:00Z\"}\n{\"id\": 2, \"user\": {\"name\": \"b\", \"age\": 31}, \"tags\": [], \"at\": \"2024-01-02T00:00:00Z\"}\n".to_vec(),
        ),
        ("parquet/a.parquet", parquet_object()),
        (
            "avro/a.avro",
            crate::avro::avro_file(apache_avro::Codec::Null, 1..41),
        ),
    ];
    let mut keys = Vec::new();
    for (name, body) in objects {
        let key = env.key("inf/", name);
        env.put_raw(&key, body).await;
        keys.push(key);
    }
    let config = env.config();
    let landing = Arc::new(floe::landing::Landing::new(&config.s3).await);
    let opts = InferOptions {
        sample_objects: 10,
        records_per_object: 1_000,
        csv: Default::default(),
        limits: config.limits,
    };
    let mut specs = std::collections::BTreeMap::new();
    for table in ["csv", "csvbad", "jsonl", "parquet", "avro"] {
        let url = format!("s3://{LANDING}/inf/{}/{table}/", env.id);
        let spec = infer_spec(landing.clone(), &env.stores(), &url, &opts)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        std::fs::write(
            env.dir.join("tables").join(format!("{table}.toml")),
            &spec.toml,
        )
        .unwrap();
        specs.insert(table, spec);
    }
    let types = |table: &str| -> Vec<(String, String, bool)> {
        specs[table]
            .columns
            .iter()
            .map(|(n, t, nullable)| (n.clone(), floe::infer::type_text(t), *nullable))
            .collect()
    };
    let col = |n: &str, t: &str, nullable: bool| (n.to_string(), t.to_string(), nullable);
    assert_eq!(
        types("csv"),
        vec![
            col("id", "long", false),
            col("name", "string", true),
            col("amount", "double", false),
            col("ts", "timestamptz", false),
            col("flag", "boolean", false),
            col("day", "date", false),
            col("qty", "long", false),
        ]
    );
    assert!(
        specs["csv"].toml.contains("transform = \"day\""),
        "{}",
        specs["csv"].toml
    );
    assert_eq!(
        types("csvbad")[1],
        col("qty", "long", false),
        "one `n/a` among 41 values"
    );
    assert_eq!(
        types("jsonl"),
        vec![
            col("id", "long", false),
            col("user", "struct<name: string, age: long>", false),
            col("tags", "list<string>", false),
            col("score", "double", true),
            col("at", "timestamptz", false),
        ]
    );
    assert_eq!(
        types("parquet"),
        vec![
            col("id", "long", false),
            col("v", "double", true),
            col("s", "struct<a: int>", true),
        ]
    );
    assert!(
        types("avro").contains(&col("amount", "decimal(10, 3)", false)),
        "{:?}",
        types("avro")
    );

    // The inferred specs ingest their own samples: nothing quarantined but the one bad value.
    let ingestor = Ingestor::new(env.config())
        .await
        .expect("inferred specs load");
    for key in keys {
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{key}: {r:?}");
        assert_accounted(&r);
        let bad = u64::from(key.contains("csvbad"));
        assert_eq!(r.rows_quarantined, bad, "{key}: {r:?}");
        assert!(r.rows_written > 0, "{key}: {r:?}");
    }
}
