//! Redelivery: the same object version ingested again (in sequence or concurrently) leaves
//! exactly one copy of its rows.

use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;

use crate::sales;
use crate::support::{self, sales_spec, TestEnv, LANDING};

#[tokio::test]
async fn same_event_twice_keeps_one_copy() {
    let env = TestEnv::new(&[("dup", sales_spec("dup", "dup/", ""))]);
    let rows = sales::rows(100);
    let key = env.key("dup/", "a.csv");
    env.put(&key, sales::csv(&rows)).await;
    let ingestor = env.ingestor().await;
    let first = ingestor.ingest(ObjectRef::new(LANDING, &key)).await;
    let second = ingestor.ingest(ObjectRef::new(LANDING, &key)).await;
    assert_eq!(first.status, ObjectStatus::Committed, "{first:?}");
    assert_eq!(second.status, ObjectStatus::Duplicate, "{second:?}");
    assert_eq!(second.snapshot_id, first.snapshot_id);
    let t = ingestor
        .catalog()
        .load_table(&env.ident("dup"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&t).await), rows);
    assert_eq!(t.metadata().snapshots().count(), 1);
}

#[tokio::test]
async fn concurrent_deliveries_of_one_object_commit_once() {
    let env = TestEnv::new(&[("race", sales_spec("race", "race/", ""))]);
    let rows = sales::rows(50);
    let key = env.key("race/", "a.csv");
    env.put(&key, sales::csv(&rows)).await;
    // Separate ingestors (as separate Lambda containers would be), all racing on the same object.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let ingestor = env.ingestor().await;
        let key = key.clone();
        handles.push(tokio::spawn(async move {
            ingestor.ingest(ObjectRef::new(LANDING, key)).await
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap().status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == ObjectStatus::Committed)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == ObjectStatus::Duplicate)
            .count(),
        3,
        "{statuses:?}"
    );
    let t = env
        .ingestor()
        .await
        .catalog()
        .load_table(&env.ident("race"))
        .await
        .unwrap();
    assert_eq!(sales::from_batches(&support::scan(&t).await), rows);
}

#[tokio::test]
async fn a_new_version_of_the_same_key_is_ingested_again() {
    let env = TestEnv::new(&[("ver", sales_spec("ver", "ver/", ""))]);
    let key = env.key("ver/", "a.csv");
    let ingestor = env.ingestor().await;
    env.put(&key, sales::csv(&sales::rows(10))).await;
    assert_eq!(
        ingestor.ingest(ObjectRef::new(LANDING, &key)).await.status,
        ObjectStatus::Committed
    );
    env.put(&key, sales::csv(&sales::rows(20)[10..])).await;
    assert_eq!(
        ingestor.ingest(ObjectRef::new(LANDING, &key)).await.status,
        ObjectStatus::Committed
    );
    let t = ingestor
        .catalog()
        .load_table(&env.ident("ver"))
        .await
        .unwrap();
    assert_eq!(
        sales::from_batches(&support::scan(&t).await),
        sales::rows(20)
    );
}
