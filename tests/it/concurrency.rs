//! Many writers on one table, against a PostgreSQL SQL catalog (FLOE_TEST_POSTGRES_URL, started by
//! scripts/test.sh): 50 distinct objects, each delivered 3 times in random order, ingested by 8
//! separate ingestors (as separate Lambda containers) 24 at a time. Every row lands exactly once
//! and every snapshot stays readable.

use std::sync::Arc;

use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use futures::TryStreamExt;
use rand::seq::SliceRandom;
use tokio::sync::Semaphore;

use crate::sales;
use crate::support::{self, sales_spec, TestEnv, LANDING};

const OBJECTS: i64 = 50;
const ROWS_PER_OBJECT: i64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_objects_delivered_three_times_land_exactly_once() {
    let env = TestEnv::with_postgres(&[("conc", sales_spec("conc", "conc/", ""))]);

    // Object i holds ids [i*ROWS, (i+1)*ROWS): the union is exactly 0..OBJECTS*ROWS.
    let all = sales::rows(OBJECTS * ROWS_PER_OBJECT);
    let mut deliveries = Vec::new();
    for i in 0..OBJECTS {
        let key = env.key("conc/", &format!("part-{i:03}.csv"));
        let chunk = &all[(i * ROWS_PER_OBJECT) as usize..((i + 1) * ROWS_PER_OBJECT) as usize];
        env.put(&key, sales::csv(chunk)).await;
        deliveries.extend(std::iter::repeat_n(key, 3));
    }
    deliveries.shuffle(&mut rand::rng());

    let mut ingestors = Vec::new();
    for _ in 0..8 {
        ingestors.push(Arc::new(env.ingestor().await));
    }
    let gate = Arc::new(Semaphore::new(24));
    let mut tasks = Vec::new();
    for (n, key) in deliveries.into_iter().enumerate() {
        let ingestor = ingestors[n % ingestors.len()].clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            ingestor.ingest(ObjectRef::new(LANDING, key)).await
        }));
    }
    let mut committed = 0;
    let mut duplicate = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            ObjectStatus::Committed => committed += 1,
            ObjectStatus::Duplicate => duplicate += 1,
            other => panic!("unexpected {other:?}: {r:?}"),
        }
    }
    assert_eq!((committed, duplicate), (OBJECTS, 2 * OBJECTS));

    let table = ingestors[0]
        .catalog()
        .load_table(&env.ident("conc"))
        .await
        .unwrap();
    assert_eq!(
        sales::from_batches(&support::scan(&table).await),
        all,
        "every row exactly once"
    );
    // One snapshot per object, and every one of them is readable.
    let snapshots: Vec<i64> = table
        .metadata()
        .snapshots()
        .map(|s| s.snapshot_id())
        .collect();
    assert_eq!(snapshots.len() as i64, OBJECTS);
    for id in snapshots {
        let stream = table
            .scan()
            .snapshot_id(id)
            .select_all()
            .build()
            .unwrap()
            .to_arrow()
            .await
            .unwrap();
        let batches: Vec<_> = stream.try_collect().await.unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(
            rows as i64 % ROWS_PER_OBJECT,
            0,
            "snapshot {id} holds whole objects only"
        );
    }
}
