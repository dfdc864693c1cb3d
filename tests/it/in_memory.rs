//! The whole ingest pipeline without servers: iceberg's `MemoryCatalog` (memory FileIO) and an
//! in-memory landing store (`Landing::in_store`). The inner loop for pipeline changes — these run
//! in well under a second with no S3 server, catalog or emulator (`cargo test -p floe-tests
//! --test it in_memory`); the suites against real servers stay the reference.

use std::collections::HashMap;
use std::sync::Arc;

use floe::ingest::{Ingestor, ObjectStatus, SkipReason};
use floe::landing::Landing;
use floe::source::ObjectRef;
use iceberg::memory::{MemoryCatalogBuilder, MEMORY_CATALOG_WAREHOUSE};
use iceberg::{CatalogBuilder, TableIdent};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::sales;
use crate::support::{self, sales_spec};

/// An ingestor over a memory catalog and an in-memory landing store holding `bucket/key`s.
struct MemEnv {
    ingestor: Ingestor,
    store: Arc<InMemory>,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A spec directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl MemEnv {
    async fn new(spec: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("floe-mem-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("t.toml"), spec).unwrap();
        let vars: HashMap<String, String> = [
            ("FLOE_CATALOG_TYPE", "sql"),
            ("FLOE_CATALOG_URI", "sqlite::memory:"),
            ("FLOE_WAREHOUSE", "file:///unused"),
            ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
            ("FLOE_DEFAULT_NAMESPACE", "mem"),
            ("FLOE_QUARANTINE_URL", "s3://quarantine/objects"),
            ("FLOE_BATCH_ROWS", "64"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = floe::config::Config::from_vars(&vars).unwrap();
        let catalog = MemoryCatalogBuilder::default()
            .load(
                "mem",
                HashMap::from([(
                    MEMORY_CATALOG_WAREHOUSE.to_string(),
                    "memory://wh".to_string(),
                )]),
            )
            .await
            .unwrap();
        let store = Arc::new(InMemory::new());
        let ingestor = Ingestor::from_parts(
            config,
            Arc::new(catalog),
            Landing::in_store(store.clone() as Arc<dyn ObjectStore>),
        )
        .await
        .unwrap();
        Self {
            ingestor,
            store,
            _dir: tempdir::Dir(dir),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) {
        self.store
            .put(&Path::from(format!("landing/{key}")), bytes.into())
            .await
            .unwrap();
    }

    async fn ingest(&self, key: &str) -> floe::ingest::ObjectReport {
        self.ingestor
            .ingest(ObjectRef::new("landing", key.to_string()))
            .await
    }

    async fn rows(&self, table: &str) -> Vec<arrow_array::RecordBatch> {
        let ident = TableIdent::from_strs(["mem", table]).unwrap();
        support::scan(&self.ingestor.catalog().load_table(&ident).await.unwrap()).await
    }
}

#[tokio::test]
async fn rows_land_bad_rows_are_quarantined_and_a_redelivery_is_a_duplicate() {
    let env = MemEnv::new(&sales_spec("t", "t/", "")).await;
    let rows = sales::rows(40);
    let mut csv = sales::csv(&rows);
    csv.extend_from_slice(b"2026-01-01T00:00:00Z,x,,no id,1.00,1,true\n");
    env.put("t/a.csv", csv).await;
    let r = env.ingest("t/a.csv").await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!(
        (r.rows_read, r.rows_written, r.rows_quarantined),
        (41, 40, 1)
    );
    assert_eq!(sales::from_batches(&env.rows("t").await), rows);
    let quarantined: usize = env
        .rows("quarantine")
        .await
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(quarantined, 1);
    let again = env.ingest("t/a.csv").await;
    assert_eq!(again.status, ObjectStatus::Duplicate, "{again:?}");
    assert_eq!(sales::from_batches(&env.rows("t").await).len(), 40);
}

#[tokio::test]
async fn a_redelivered_object_whose_rows_were_all_rejected_is_a_duplicate() {
    let env = MemEnv::new(&sales_spec("t", "t/", "")).await;
    let mut csv = sales::csv(&[]);
    csv.extend_from_slice(b"2026-01-01T00:00:00Z,x,,no id,1.00,1,true\n");
    env.put("t/bad.csv", csv).await;
    let first = env.ingest("t/bad.csv").await;
    assert_eq!(
        (first.status, first.rows_written, first.rows_quarantined),
        (ObjectStatus::Committed, 0, 1)
    );
    // Its idempotency key lives only in the quarantine table: the redelivery commits nothing
    // and says so (before: reported as committed again, counting the row twice in metrics).
    let again = env.ingest("t/bad.csv").await;
    assert_eq!(
        (again.status, again.rows_read, again.rows_quarantined),
        (ObjectStatus::Duplicate, 0, 0),
        "{again:?}"
    );
    let quarantined: usize = env
        .rows("quarantine")
        .await
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(quarantined, 1);
}

#[tokio::test]
async fn an_unreadable_object_is_copied_whole_and_recorded() {
    let env = MemEnv::new(&sales_spec("t", "t/", "")).await;
    env.put("t/broken.csv.gz", b"this is not gzip".to_vec())
        .await;
    let r = env.ingest("t/broken.csv.gz").await;
    assert_eq!(r.status, ObjectStatus::Quarantined, "{r:?}");
    let copies: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        env.store.list(Some(&Path::from("quarantine/objects"))),
    )
    .await
    .unwrap();
    assert_eq!(copies.len(), 1, "the whole object is copied");
    let copy = env.store.get(&copies[0].location).await.unwrap();
    assert_eq!(copy.bytes().await.unwrap().as_ref(), b"this is not gzip");
}

#[tokio::test]
async fn a_key_overwritten_after_its_event_is_skipped_as_superseded() {
    let env = MemEnv::new(&sales_spec("t", "t/", "")).await;
    env.put("t/v.csv", sales::csv(&sales::rows(3))).await;
    let first = env
        .store
        .head(&Path::from("landing/t/v.csv"))
        .await
        .unwrap();
    env.put("t/v.csv", sales::csv(&sales::rows(5))).await;
    let mut event = ObjectRef::new("landing", "t/v.csv".to_string());
    event.etag = first.e_tag.clone();
    event.size = Some(first.size);
    let r = env.ingestor.ingest(event).await;
    assert_eq!(r.status, ObjectStatus::Skipped, "{r:?}");
    assert_eq!(r.skipped, Some(SkipReason::Superseded));
    // The newer version, with its own event, lands in full.
    let r = env.ingest("t/v.csv").await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!(sales::from_batches(&env.rows("t").await).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_retry_their_conflicts_and_all_land() {
    let env = Arc::new(MemEnv::new(&sales_spec("t", "t/", "")).await);
    let all = sales::rows(16 * 5);
    for (i, chunk) in all.chunks(5).enumerate() {
        env.put(&format!("t/o-{i:02}.csv"), sales::csv(chunk)).await;
    }
    // Create the table first, then 15 appends at once: those that lose a race retry.
    assert_eq!(
        env.ingest("t/o-00.csv").await.status,
        ObjectStatus::Committed
    );
    let tasks: Vec<_> = (1..16)
        .map(|i| {
            let env = env.clone();
            tokio::spawn(async move { env.ingest(&format!("t/o-{i:02}.csv")).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    }
    let ident = TableIdent::from_strs(["mem", "t"]).unwrap();
    let table = env.ingestor.catalog().load_table(&ident).await.unwrap();
    assert_eq!(
        table.metadata().snapshots().count(),
        16,
        "one snapshot per object"
    );
    assert_eq!(sales::from_batches(&env.rows("t").await), all);
}
