//! Decoupled commits (queue mode) on a PostgreSQL catalog: ingest writes files and sends commit
//! requests; nothing is visible until the commit function commits them; the commit function
//! batches per table, skips what is already committed (redelivered messages, a batch retried after
//! a lost response), reports poison messages as batch item failures, and interleaves correctly with
//! direct commits racing on the same table.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use lambda_runtime::{Context, LambdaEvent};
use rand::seq::SliceRandom;

use crate::sales;
use crate::support::{self, sales_spec, CapturedQueue, TestEnv, LANDING};

pub fn sqs_event(messages: &[(String, String)]) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|(id, body)| {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.clone());
            m.body = Some(body.clone());
            m
        })
        .collect();
    LambdaEvent::new(event, Context::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_commits_land_once_and_interleave_with_direct_commits() {
    let env = TestEnv::with_postgres(&[("q", sales_spec("q", "q/", ""))]);
    const QUEUED: i64 = 20;
    const DIRECT: i64 = 10;
    const ROWS: i64 = 25;
    let all = sales::rows((QUEUED + DIRECT) * ROWS);
    let mut keys = Vec::new();
    for i in 0..QUEUED + DIRECT {
        let key = env.key("q/", &format!("o-{i:02}.csv"));
        env.put(
            &key,
            sales::csv(&all[(i * ROWS) as usize..((i + 1) * ROWS) as usize]),
        )
        .await;
        keys.push(key);
    }

    // Queue mode: each object ingested twice (S3 delivers at least once).
    let queue = Arc::new(CapturedQueue::default());
    let ingest = env.ingestor().await.with_commit_queue(queue.clone());
    for key in keys[..QUEUED as usize]
        .iter()
        .chain(&keys[..QUEUED as usize])
    {
        let r = ingest.ingest(ObjectRef::new(LANDING, key)).await;
        assert_eq!(r.status, ObjectStatus::Queued, "{r:?}");
    }
    // Files are written but nothing is visible before the commit function runs.
    let catalog = ingest.catalog();
    let table = catalog.load_table(&env.ident("q")).await.unwrap();
    assert!(
        table.metadata().current_snapshot().is_none(),
        "uncommitted files must not be visible"
    );

    // The commit function: shuffled messages in batches of 10, plus a poison message, while
    // direct commits race on the same table.
    let mut messages: Vec<(String, String)> = queue
        .0
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("m{i}"), serde_json::to_string(r).unwrap()))
        .collect();
    messages.push(("poison".into(), "{\"not\": \"a commit request\"}".into()));
    messages.shuffle(&mut rand::rng());
    let direct = env.ingestor().await;
    let direct_keys: Vec<String> = keys[QUEUED as usize..].to_vec();
    let racer = tokio::spawn(async move {
        let mut statuses = Vec::new();
        for key in direct_keys {
            statuses.push(direct.ingest(ObjectRef::new(LANDING, key)).await.status);
        }
        statuses
    });
    let settings = floe::committer::CommitSettings::new(30, 3_600_000);
    let mut failed = Vec::new();
    let mut committed = 0;
    for batch in messages.chunks(10) {
        let (response, report) = commit::handle(catalog.clone(), &settings, sqs_event(batch)).await;
        failed.extend(
            response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier),
        );
        committed += report.tables.iter().map(|t| t.committed).sum::<usize>();
        // A batch whose response was lost is delivered again: nothing is applied twice.
        let (again, report) = commit::handle(catalog.clone(), &settings, sqs_event(batch)).await;
        assert!(report.tables.iter().all(|t| t.committed == 0), "{report:?}");
        assert_eq!(
            again.batch_item_failures.len(),
            batch.iter().filter(|(id, _)| id == "poison").count()
        );
    }
    assert_eq!(failed, vec!["poison".to_string()]);
    assert_eq!(
        committed as i64, QUEUED,
        "each object committed once, its redelivered request skipped"
    );
    assert!(racer
        .await
        .unwrap()
        .iter()
        .all(|s| *s == ObjectStatus::Committed));

    let table = catalog.load_table(&env.ident("q")).await.unwrap();
    assert_eq!(
        sales::from_batches(&support::scan(&table).await),
        all,
        "every row exactly once"
    );
}
