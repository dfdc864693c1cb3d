//! Compaction next to another engine's merge-on-read deletes (issue 12, class 9): position and
//! equality delete files are written into a Floe table the way Spark or Flink would (Parquet with
//! the spec's reserved field ids, committed as an `overwrite` snapshot with a delete manifest), then
//! the table is compacted. Deleted rows must stay deleted: files a delete may apply to are not
//! rewritten, other partitions still are.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use floe::maintenance::run::{Action, Maintainer};
use floe::maintenance::swap::MetadataSwap;
use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, ManifestContentType,
    ManifestListWriter, ManifestWriterBuilder, Operation, Snapshot, SnapshotReference,
    SnapshotRetention, Summary, MAIN_BRANCH,
};
use iceberg::table::Table;
use iceberg::{TableRequirement, TableUpdate};
use parquet::arrow::ArrowWriter;

use crate::maintenance::{load_small_files, objects, request, table_rows};
use crate::sales::Sale;
use crate::support::{sales_spec, TestEnv};

/// Reserved field ids of a position delete file (Iceberg spec, "Position Delete Files").
const FILE_PATH_ID: i32 = 2_147_483_546;
const POS_ID: i32 = 2_147_483_545;

fn field(name: &str, ty: DataType, id: i32) -> Field {
    Field::new(name, ty, false).with_metadata(HashMap::from([(
        "PARQUET:field_id".to_string(),
        id.to_string(),
    )]))
}

/// Writes `batch` as a Parquet file under the table's data directory; returns (path, size).
async fn put_parquet(table: &Table, name: &str, batch: &RecordBatch) -> (String, u64) {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    let path = format!(
        "{}/data/deletes-{}-{name}.parquet",
        table.metadata().location(),
        uuid::Uuid::now_v7()
    );
    let size = buf.len() as u64;
    table
        .file_io()
        .new_output(&path)
        .unwrap()
        .write(buf.into())
        .await
        .unwrap();
    (path, size)
}

/// A position delete file removing rows `positions` of `data_file`.
async fn position_deletes(table: &Table, data_file: &DataFile, positions: &[i64]) -> DataFile {
    let schema = Arc::new(Schema::new(vec![
        field("file_path", DataType::Utf8, FILE_PATH_ID),
        field("pos", DataType::Int64, POS_ID),
    ]));
    let paths: ArrayRef = Arc::new(StringArray::from(vec![
        data_file.file_path();
        positions.len()
    ]));
    let pos: ArrayRef = Arc::new(Int64Array::from(positions.to_vec()));
    let batch = RecordBatch::try_new(schema, vec![paths, pos]).unwrap();
    let (path, size) = put_parquet(table, "pos", &batch).await;
    DataFileBuilder::default()
        .content(DataContentType::PositionDeletes)
        .file_path(path)
        .file_format(DataFileFormat::Parquet)
        .partition(data_file.partition().clone())
        .partition_spec_id(table.metadata().default_partition_spec_id())
        .record_count(positions.len() as u64)
        .file_size_in_bytes(size)
        .build()
        .unwrap()
}

/// An equality delete file on `id` removing `ids`, scoped to `like`'s partition.
async fn equality_deletes(table: &Table, like: &DataFile, ids: &[i64]) -> DataFile {
    let id_field = table
        .metadata()
        .current_schema()
        .field_by_name("id")
        .unwrap()
        .id;
    let schema = Arc::new(Schema::new(vec![field("id", DataType::Int64, id_field)]));
    let batch =
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(ids.to_vec())) as _]).unwrap();
    let (path, size) = put_parquet(table, "eq", &batch).await;
    DataFileBuilder::default()
        .content(DataContentType::EqualityDeletes)
        .file_path(path)
        .file_format(DataFileFormat::Parquet)
        .partition(like.partition().clone())
        .partition_spec_id(table.metadata().default_partition_spec_id())
        .record_count(ids.len() as u64)
        .file_size_in_bytes(size)
        .equality_ids(Some(vec![id_field]))
        .build()
        .unwrap()
}

/// Commits `deletes` as an `overwrite` snapshot: one new delete manifest + every manifest of the
/// current snapshot, moved with the catalog's compare-and-swap (as another engine would).
async fn commit_deletes(swap: &MetadataSwap, table: &Table, deletes: Vec<DataFile>) -> i64 {
    let metadata = table.metadata();
    let base = metadata.current_snapshot().unwrap();
    let snapshot_id = base.snapshot_id() + 1_000_003;
    let sequence_number = metadata.next_sequence_number();
    let meta_dir = format!("{}/metadata", metadata.location());
    let spec = metadata.default_partition_spec().as_ref().clone();
    let out = table
        .file_io()
        .new_output(format!("{meta_dir}/deletes-{snapshot_id}-m0.avro"))
        .unwrap();
    let mut writer = ManifestWriterBuilder::new(
        out,
        Some(snapshot_id),
        metadata.current_schema().clone(),
        spec,
    )
    .build_v2_deletes();
    let count = deletes.len();
    for d in deletes {
        writer.add_file(d, -1).unwrap();
    }
    let delete_manifest = writer.write_manifest_file().await.unwrap();
    let mut manifests = vec![delete_manifest];
    manifests.extend(
        floe::maintenance::files::manifests(table, base)
            .await
            .unwrap(),
    );
    let list_path = format!("{meta_dir}/snap-{snapshot_id}-deletes.avro");
    let mut list = ManifestListWriter::v2(
        table
            .file_io()
            .new_output(&list_path)
            .unwrap()
            .writer()
            .await
            .unwrap(),
        snapshot_id,
        Some(base.snapshot_id()),
        sequence_number,
    );
    list.add_manifests(manifests.into_iter()).unwrap();
    list.close().await.unwrap();
    let mut props = base.summary().additional_properties.clone();
    props.insert("added-delete-files".into(), count.to_string());
    let snapshot = Snapshot::builder()
        .with_manifest_list(list_path)
        .with_snapshot_id(snapshot_id)
        .with_parent_snapshot_id(Some(base.snapshot_id()))
        .with_sequence_number(sequence_number)
        .with_summary(Summary {
            operation: Operation::Overwrite,
            additional_properties: props,
        })
        .with_schema_id(metadata.current_schema_id())
        .with_timestamp_ms(chrono::Utc::now().timestamp_millis())
        .build();
    swap.commit(
        table,
        vec![TableRequirement::RefSnapshotIdMatch {
            r#ref: MAIN_BRANCH.to_string(),
            snapshot_id: Some(base.snapshot_id()),
        }],
        vec![
            TableUpdate::AddSnapshot { snapshot },
            TableUpdate::SetSnapshotRef {
                ref_name: MAIN_BRANCH.to_string(),
                reference: SnapshotReference::new(
                    snapshot_id,
                    SnapshotRetention::branch(None, None, None),
                ),
            },
        ],
    )
    .await
    .unwrap();
    snapshot_id
}

/// Live data files of the current snapshot with the rows they hold, read through their entries.
async fn live_data_files(table: &Table) -> Vec<DataFile> {
    let snapshot = table.metadata().current_snapshot().unwrap();
    floe::maintenance::files::load_manifests(table, snapshot)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.file.content == ManifestContentType::Data)
        .flat_map(|m| {
            m.entries
                .iter()
                .filter(|e| e.is_alive())
                .map(|e| e.data_file().clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Ids of the rows stored in one data file, in file order (the positions a delete names).
async fn ids_in(table: &Table, file: &DataFile) -> Vec<i64> {
    let bytes = table
        .file_io()
        .new_input(file.file_path())
        .unwrap()
        .read()
        .await
        .unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024)
        .expect("data file");
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let col = batch.column_by_name("id").unwrap();
        let col = col.as_any().downcast_ref::<Int64Array>().unwrap();
        ids.extend(col.values().iter().copied());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_never_resurrects_rows_deleted_by_position_or_equality_deletes() {
    let env = TestEnv::new(&[("del", sales_spec("del", "del/", ""))]);
    // 12 objects of 10 rows over two days: 6 small files per day partition.
    let objs = objects(12, 10, 2);
    load_small_files(&env, "del/", &objs, 1).await;
    let maintainer = Maintainer::new(&env.config()).await.unwrap();
    let ident = env.ident("del");
    let table = maintainer.catalog().load_table(&ident).await.unwrap();
    let files = live_data_files(&table).await;
    assert_eq!(files.len(), 12, "one data file per object");
    let day0 = files[0].partition().clone();
    let in_day0: Vec<&DataFile> = files.iter().filter(|f| *f.partition() == day0).collect();
    assert_eq!(in_day0.len(), 6);

    // Another engine deletes 3 rows by position in one file and 4 rows by id in another.
    let pos_target = in_day0[0];
    let pos_ids = ids_in(&table, pos_target).await;
    let by_position = position_deletes(&table, pos_target, &[0, 4, 9]).await;
    let eq_ids = ids_in(&table, in_day0[1]).await[..4].to_vec();
    let by_equality = equality_deletes(&table, in_day0[1], &eq_ids).await;
    let swap = MetadataSwap::open(&env.config().catalog, "us-east-1")
        .await
        .unwrap();
    commit_deletes(&swap, &table, vec![by_position, by_equality]).await;

    let deleted: Vec<i64> = [pos_ids[0], pos_ids[4], pos_ids[9]]
        .into_iter()
        .chain(eq_ids.iter().copied())
        .collect();
    let mut expected: Vec<Sale> = objs
        .concat()
        .into_iter()
        .filter(|s| !deleted.contains(&s.id))
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 120 - 7);
    let table = maintainer.catalog().load_table(&ident).await.unwrap();
    assert_eq!(
        table_rows(&table).await,
        expected,
        "the deletes apply before compaction"
    );

    let mut req = request(&[Action::RewriteDataFiles]);
    req.rewrite.min_input_files = 2;
    let report = maintainer.run(&req, None).await;
    assert!(!report.failed(), "{report:?}");
    let rewrite = report.tables[0].rewrite.clone().unwrap();
    assert!(
        rewrite.groups_committed >= 1,
        "the partition without deletes is still compacted: {rewrite:?}"
    );

    let after = maintainer.catalog().load_table(&ident).await.unwrap();
    assert_eq!(
        after
            .metadata()
            .current_snapshot()
            .unwrap()
            .summary()
            .operation,
        Operation::Replace
    );
    let rows_after = table_rows(&after).await;
    assert_eq!(
        rows_after.len(),
        expected.len(),
        "compaction must not bring deleted rows back"
    );
    assert!(rows_after == expected, "rows changed by compaction");
    let live = live_data_files(&after).await;
    let day0_after: Vec<&str> = live
        .iter()
        .filter(|f| *f.partition() == day0)
        .map(|f| f.file_path())
        .collect();
    for f in &in_day0 {
        assert!(
            day0_after.contains(&f.file_path()),
            "{} has deletes applying to it and must not be rewritten",
            f.file_path()
        );
    }
    assert!(
        live.len() < files.len(),
        "day 1's six files became fewer: {} live files",
        live.len()
    );
}
