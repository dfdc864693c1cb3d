//! Each input format lands in its table with exactly the input rows and values; data files are
//! ZSTD Parquet; partitioned tables put rows in the right partitions.

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::Array;
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use futures::TryStreamExt;
use parquet::basic::Compression;

use crate::sales::{self, Sale};
use crate::support::{self, sales_spec, TestEnv, LANDING};

async fn ingest_and_read(
    env: &TestEnv,
    table: &str,
    key: &str,
    body: Vec<u8>,
    expected: &[Sale],
) -> iceberg::table::Table {
    env.put(key, body).await;
    let ingestor = env.ingestor().await;
    let report = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(report.status, ObjectStatus::Committed, "{report:?}");
    assert_eq!(report.rows_written, expected.len() as u64);
    assert!(report.files > 0 && report.bytes_out > 0);
    let t = ingestor
        .catalog()
        .load_table(&env.ident(table))
        .await
        .unwrap();
    let got = sales::from_batches(&support::scan(&t).await);
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g, e);
    }
    t
}

#[tokio::test]
async fn csv_object_lands_with_exact_values() {
    let env = TestEnv::new(&[("sales_csv", sales_spec("sales_csv", "csv/", ""))]);
    let rows = sales::rows(1_000);
    let t = ingest_and_read(
        &env,
        "sales_csv",
        &env.key("csv/", "sales.csv"),
        sales::csv(&rows),
        &rows,
    )
    .await;
    // The snapshot records where the rows came from.
    let summary = t
        .metadata()
        .current_snapshot()
        .unwrap()
        .summary()
        .additional_properties
        .clone();
    assert!(summary["floe.source.object"].ends_with("/sales.csv"));
    assert_eq!(summary["floe.source.rows"], "1000");
}

#[tokio::test]
async fn gzip_json_lines_object_lands_with_exact_values() {
    let env = TestEnv::new(&[("sales_json", sales_spec("sales_json", "json/", ""))]);
    let rows = sales::rows(700);
    ingest_and_read(
        &env,
        "sales_json",
        &env.key("json/", "sales.jsonl.gz"),
        sales::jsonl_gz(&rows),
        &rows,
    )
    .await;
}

#[tokio::test]
async fn parquet_object_is_cast_to_table_types() {
    let env = TestEnv::new(&[("sales_pq", sales_spec("sales_pq", "pq/", ""))]);
    let rows = sales::rows(900);
    ingest_and_read(
        &env,
        "sales_pq",
        &env.key("pq/", "sales.parquet"),
        sales::parquet(&rows),
        &rows,
    )
    .await;
}

#[tokio::test]
async fn data_files_are_zstd_parquet_in_the_right_partitions() {
    let env = TestEnv::new(&[("sales_part", sales_spec("sales_part", "part/", ""))]);
    let rows = sales::rows(240); // 10 days of hourly rows
    let t = ingest_and_read(
        &env,
        "sales_part",
        &env.key("part/", "sales.csv"),
        sales::csv(&rows),
        &rows,
    )
    .await;
    let files = support::data_files(&t).await;
    assert_eq!(files.len(), 10, "one file per day partition: {files:?}");
    let mut seen = 0;
    for f in &files {
        assert!(f.ends_with(".parquet"), "{f}");
        let day = f
            .split('/')
            .find_map(|seg| seg.strip_prefix("ts_day="))
            .unwrap_or_else(|| panic!("no ts_day= partition directory in {f}"))
            .to_string();
        let builder = support::parquet_reader(&env, f).await;
        let meta = builder.metadata().clone();
        for rg in meta.row_groups() {
            for c in rg.columns() {
                assert!(
                    matches!(c.compression(), Compression::ZSTD(_)),
                    "{f}: {:?}",
                    c.compression()
                );
            }
        }
        let batches: Vec<_> = builder.build().unwrap().try_collect().await.unwrap();
        for b in &batches {
            let ts = b
                .column_by_name("ts")
                .unwrap()
                .as_primitive::<TimestampMicrosecondType>();
            for i in 0..ts.len() {
                assert_eq!(sales::day(ts.value(i)), day, "row in {f}");
            }
            seen += b.num_rows();
        }
    }
    assert_eq!(seen, rows.len());
}

#[tokio::test]
async fn partitioned_write_with_a_tiny_buffer_rolls_files_and_keeps_every_row() {
    let mut env = TestEnv::new(&[("sales_roll", sales_spec("sales_roll", "roll/", ""))]);
    // Close the open partition files after every batch: many more files, same rows.
    env.vars
        .insert("FLOE_PARTITION_BUFFER_BYTES".into(), "1".into());
    let rows = sales::rows(2_000); // ~84 day partitions, 8 batches of 256 rows
    let t = ingest_and_read(
        &env,
        "sales_roll",
        &env.key("roll/", "sales.csv"),
        sales::csv(&rows),
        &rows,
    )
    .await;
    let files = support::data_files(&t).await;
    let partitions: std::collections::HashSet<_> = files
        .iter()
        .filter_map(|f| f.split('/').find(|s| s.starts_with("ts_day=")))
        .collect();
    assert!(
        files.len() > partitions.len(),
        "{} files for {} partitions",
        files.len(),
        partitions.len()
    );
}

#[tokio::test]
async fn content_encoding_gzip_is_honoured_without_an_extension() {
    use object_store::{Attribute, Attributes, ObjectStore, PutOptions};
    let env = TestEnv::new(&[(
        "sales_enc",
        sales_spec("sales_enc", "enc/", "format = \"jsonl\""),
    )]);
    let rows = sales::rows(120);
    let key = env.key("enc/", "sales-no-extension");
    let store = env.stores().bucket(LANDING).unwrap();
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentEncoding, "gzip".into());
    let opts = PutOptions {
        attributes,
        ..Default::default()
    };
    store
        .put_opts(
            &object_store::path::Path::from(key.as_str()),
            sales::jsonl_gz(&rows).into(),
            opts,
        )
        .await
        .unwrap();
    let ingestor = env.ingestor().await;
    let report = ingestor.ingest(ObjectRef::new(LANDING, &key)).await;
    assert_eq!(
        (report.status, report.rows_written),
        (ObjectStatus::Committed, 120),
        "{report:?}"
    );
    let t = ingestor
        .catalog()
        .load_table(&env.ident("sales_enc"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&t).await), rows);
}

#[tokio::test]
async fn unknown_columns_evolve_the_schema_when_the_spec_says_so() {
    let env = TestEnv::new(&[(
        "sales_evo",
        sales_spec(
            "sales_evo",
            "evo/",
            "[contract]\nunknown_columns = \"evolve\"",
        ),
    )]);
    let key = env.key("evo/", "a.csv");
    env.put(&key, b"id,name,channel\n1,a,web\n2,b,\n".to_vec())
        .await;
    let ingestor = env.ingestor().await;
    let report = ingestor.ingest(ObjectRef::new(LANDING, &key)).await;
    assert_eq!(
        (report.status, report.rows_written),
        (ObjectStatus::Committed, 2),
        "{report:?}"
    );
    let t = ingestor
        .catalog()
        .load_table(&env.ident("sales_evo"))
        .await
        .unwrap();
    let field = t
        .metadata()
        .current_schema()
        .field_by_name("channel")
        .expect("column added")
        .clone();
    assert!(!field.required);
    let batches = support::scan(&t).await;
    let channel: Vec<Option<String>> = batches
        .iter()
        .flat_map(|b| {
            let c = b
                .column_by_name("channel")
                .unwrap()
                .as_string::<i32>()
                .clone();
            (0..c.len()).map(move |i| c.is_valid(i).then(|| c.value(i).to_string()))
        })
        .collect();
    let mut channel = channel;
    channel.sort();
    assert_eq!(channel, vec![None, Some("web".to_string())]);
}
