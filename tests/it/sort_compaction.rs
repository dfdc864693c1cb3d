//! Sort compaction (issue 17 #5): `strategy = "sort"` rewrites a table's small files into one
//! file sorted by the table's sort order (nulls and directions as declared), through an external
//! merge sort that spills sorted runs when the memory budget is small; `zorder(x, y)` clusters
//! by the interleaved bits. Every row is still there exactly once.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use floe::ingest::ObjectStatus;
use floe::maintenance::compact::Strategy;
use floe::maintenance::run::{Action, Maintainer};
use floe::maintenance::sort::zorder_key;
use floe::source::ObjectRef;

use crate::maintenance::request;
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "so"
prefixes = ["so/"]
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "country"
type = "string"
[[columns]]
name = "amount"
type = "long"
[[columns]]
name = "x"
type = "long"
[[columns]]
name = "y"
type = "long"
[[sort]]
column = "country"
nulls_first = true
[[sort]]
column = "amount"
descending = true
"#;

/// (id, country, amount, x, y) of every row in the table's current snapshot, sorted.
type Row = (i64, Option<String>, Option<i64>, i64, i64);

fn rows_of(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let (id, country, amount, x, y) =
            (col("id"), col("country"), col("amount"), col("x"), col("y"));
        let (id, amount, x, y) = (
            id.as_primitive::<Int64Type>(),
            amount.as_primitive::<Int64Type>(),
            x.as_primitive::<Int64Type>(),
            y.as_primitive::<Int64Type>(),
        );
        let country = country.as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((
                id.value(i),
                country.is_valid(i).then(|| country.value(i).to_string()),
                amount.is_valid(i).then(|| amount.value(i)),
                x.value(i),
                y.value(i),
            ));
        }
    }
    out
}

/// The rows of one data file, in file order.
async fn file_rows(env: &TestEnv, path: &str) -> Vec<RecordBatch> {
    use futures::TryStreamExt;
    support::parquet_reader(env, path)
        .await
        .build()
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_compaction_orders_rows_by_the_table_order_and_by_zorder() {
    let env = TestEnv::new(&[("so", SPEC.to_string())]);
    let ingestor = env.ingestor().await;
    let countries = ["DE", "FR", "", "US", "AT"];
    for o in 0..6i64 {
        let mut csv = String::from("id,country,amount,x,y\n");
        for r in 0..400i64 {
            let id = o * 1000 + r;
            let h = (id * 2_654_435_761) % 1_000_003;
            let amount = if h % 17 == 0 {
                String::new()
            } else {
                (h % 500).to_string()
            };
            csv.push_str(&format!(
                "{id},{},{amount},{},{}\n",
                countries[(h % 5) as usize],
                h % 64,
                (h / 64) % 64
            ));
        }
        let key = env.key("so/", &format!("part-{o}.csv"));
        env.put(&key, csv.into_bytes()).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    }
    let ident = env.ident("so");
    let catalog = ingestor.catalog();
    let mut before = rows_of(&support::scan(&catalog.load_table(&ident).await.unwrap()).await);
    before.sort();
    assert_eq!(before.len(), 2400);

    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let mut req = request(&[Action::RewriteDataFiles]);
    req.tables = vec!["it.so".into()];
    req.rewrite.strategy = Strategy::Sort;
    req.rewrite.rewrite_all = true;
    // A budget far below the input: the sort spills runs and merges them.
    req.rewrite.sort_memory_bytes = Some(16 * 1024);
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert_eq!((r.files_in, r.files_out, r.rows), (6, 1, 2400), "{r:?}");
    assert!(r.sort_runs_spilled > 2, "{r:?}");

    let table = catalog.load_table(&ident).await.unwrap();
    let files = support::data_files(&table).await;
    assert_eq!(files.len(), 1);
    let sorted = rows_of(&file_rows(&env, &files[0]).await);
    // country ascending with nulls first, then amount descending (nulls last by default).
    let key = |r: &Row| {
        (
            r.1.is_some(),
            r.1.clone(),
            r.2.is_none(),
            std::cmp::Reverse(r.2),
        )
    };
    assert!(
        sorted.windows(2).all(|w| key(&w[0]) <= key(&w[1])),
        "not in the table's sort order"
    );
    assert!(sorted[0].1.is_none(), "nulls first: {:?}", sorted[0]);
    let mut after = sorted.clone();
    after.sort();
    assert_eq!(after, before, "rows changed");

    // z-order over (x, y), in memory this time (the default budget).
    req.rewrite.sort_order = Some("zorder(x, y)".into());
    req.rewrite.sort_memory_bytes = None;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let r = report.tables[0].rewrite.clone().unwrap();
    assert_eq!((r.files_out, r.sort_runs_spilled), (1, 0), "{r:?}");
    let table = catalog.load_table(&ident).await.unwrap();
    let files = support::data_files(&table).await;
    let batches = file_rows(&env, &files[0]).await;
    let z: Vec<Vec<u8>> = batches
        .iter()
        .flat_map(|b| {
            let cols: Vec<ArrayRef> = vec![
                b.column_by_name("x").unwrap().clone(),
                b.column_by_name("y").unwrap().clone(),
            ];
            let k = zorder_key(&cols).unwrap();
            (0..k.len())
                .map(|i| k.value(i).to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(z.windows(2).all(|w| w[0] <= w[1]), "not in z-order");
    let mut after = rows_of(&batches);
    after.sort();
    assert_eq!(after, before);
    // pyiceberg reads the sorted table as the same rows.
    let py = support::pyiceberg(&env, "table_rows.py", "so", &[]);
    assert_eq!(py.as_array().unwrap().len(), 2400);
}
