//! Backfill (issue 16 #1): 2,000 small objects of mixed formats under a prefix. A first run is
//! interrupted after two batches; the rerun resumes from its checkpoint while a second process
//! ingests half of the objects as live events. Every object version lands exactly once, the
//! backfill makes at most one snapshot per table per batch, and a third run finds nothing to do.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use floe::backfill::{backfill, BackfillOptions};
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use futures::StreamExt;

use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "bf"
prefixes = ["bf/"]
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "v"
type = "string"
"#;

const OBJECTS: u64 = 2_000;

/// Object `n`: three rows (ids 10n..10n+2); every 100th has a bad id in its last row instead.
fn body(n: u64) -> (String, Vec<u8>) {
    let bad = n.is_multiple_of(100);
    let third = if bad {
        "x".to_string()
    } else {
        (n * 10 + 2).to_string()
    };
    if n.is_multiple_of(2) {
        let text = format!("id,v\n{},a\n{},b\n{third},c\n", n * 10, n * 10 + 1);
        (format!("{n:05}.csv"), text.into_bytes())
    } else {
        let third = if bad { "\"x\"".to_string() } else { third };
        let text = format!(
            "{{\"id\": {}, \"v\": \"a\"}}\n{{\"id\": {}, \"v\": \"b\"}}\n{{\"id\": {third}, \"v\": \"c\"}}\n",
            n * 10,
            n * 10 + 1
        );
        (format!("{n:05}.jsonl"), text.into_bytes())
    }
}

fn options(checkpoint: String) -> BackfillOptions {
    BackfillOptions {
        since: None,
        until: None,
        dry_run: false,
        concurrency: 8,
        batch: 250,
        checkpoint_url: Some(checkpoint),
        restart: false,
        max_batches: None,
        fan_out: None,
    }
}

#[tokio::test]
async fn backfill_with_live_ingestion_lands_every_object_once_and_resumes() {
    let env = TestEnv::new(&[("bf", SPEC.to_string())]);
    let env = Arc::new(env);
    let keys: Vec<String> = (0..OBJECTS).map(|n| env.key("bf/", &body(n).0)).collect();
    futures::stream::iter(0..OBJECTS)
        .map(|n| {
            let env = env.clone();
            async move {
                let (name, bytes) = body(n);
                env.put_raw(&env.key("bf/", &name), bytes).await;
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let url = format!("s3://{LANDING}/bf/{}/", env.id);
    let checkpoint = env.vars["FLOE_WAREHOUSE"].clone();

    // A dry run lists and routes, ingests nothing.
    let dry = backfill(
        env.config(),
        &url,
        &BackfillOptions {
            dry_run: true,
            ..options(checkpoint.clone())
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (
            dry.objects,
            dry.tables["it.bf"].objects,
            dry.tables["it.bf"].rows
        ),
        (OBJECTS, OBJECTS, 0)
    );

    // An interrupted run: two batches, then stop.
    let first = backfill(
        env.config(),
        &url,
        &BackfillOptions {
            max_batches: Some(2),
            ..options(checkpoint.clone())
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((first.batches, first.complete), (2, false), "{first:?}");
    assert_eq!(first.last_key.as_deref(), Some(keys[499].as_str()));

    // The rerun resumes after the checkpoint while live events ingest every other object.
    let live_ingestor = env.ingestor().await;
    let live = async {
        let mut statuses = Vec::new();
        for key in keys.iter().step_by(2) {
            statuses.push(
                live_ingestor
                    .ingest(ObjectRef::new(LANDING, key.clone()))
                    .await
                    .status,
            );
        }
        statuses
    };
    let resume = options(checkpoint.clone());
    let (live_statuses, second) = tokio::join!(live, backfill(env.config(), &url, &resume, |_| {}));
    let second = second.unwrap();
    assert_eq!(second.resumed_after.as_deref(), Some(keys[499].as_str()));
    assert_eq!(
        (second.objects, second.complete),
        (OBJECTS - 500, true),
        "{second:?}"
    );
    assert!(live_statuses
        .iter()
        .all(|s| matches!(s, ObjectStatus::Committed | ObjectStatus::Duplicate)));

    // Every good row exactly once; every bad row quarantined exactly once.
    let t = live_ingestor
        .catalog()
        .load_table(&env.ident("bf"))
        .await
        .unwrap();
    let ids: Vec<i64> = support::scan(&t)
        .await
        .iter()
        .flat_map(|b| {
            b.column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    let bad = OBJECTS / 100;
    assert_eq!(
        ids.len() as u64,
        OBJECTS * 3 - bad,
        "no row twice, none lost"
    );
    assert_eq!(distinct.len(), ids.len());
    let q = live_ingestor
        .catalog()
        .load_table(live_ingestor.quarantine_table())
        .await
        .unwrap();
    assert_eq!(
        support::scan(&q)
            .await
            .iter()
            .map(|b| b.num_rows() as u64)
            .sum::<u64>(),
        bad
    );

    // Snapshots: the backfill made at most one per batch per table; live made one per object it
    // committed first.
    let live_commits = live_statuses
        .iter()
        .filter(|s| **s == ObjectStatus::Committed)
        .count() as u64;
    let backfill_snapshots = first.tables["it.bf"].snapshots + second.tables["it.bf"].snapshots;
    assert!(
        backfill_snapshots <= first.batches + second.batches,
        "{backfill_snapshots}"
    );
    assert_eq!(
        t.metadata().snapshots().count() as u64,
        backfill_snapshots + live_commits
    );

    // Done: a third run resumes at the end and finds nothing; a restart finds only duplicates.
    let third = backfill(env.config(), &url, &options(checkpoint.clone()), |_| {})
        .await
        .unwrap();
    assert_eq!((third.objects, third.complete), (0, true));
    let again = backfill(
        env.config(),
        &url,
        &BackfillOptions {
            restart: true,
            ..options(checkpoint)
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(again.tables["it.bf"].rows, 0, "{again:?}");
    assert_eq!(again.tables["it.bf"].duplicates, OBJECTS);
}

/// `--fan-out`: the listing goes to the ingest queue (moto SQS) as S3-notification messages; the
/// ingest handler, fed those messages as Lambda's poller would, lands every object once —
/// including keys with spaces and `+`, which must survive S3's form encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_sends_the_listing_to_the_ingest_queue_as_s3_notifications() {
    let mut env = TestEnv::new(&[("bf", SPEC.to_string())]);
    let client = aws_sdk_sqs::Client::new(&support::moto_sdk_config().await);
    let queue = client
        .create_queue()
        .queue_name(format!("it-{}-ingest", env.id))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    env.vars
        .insert("AWS_ENDPOINT_URL_SQS".into(), support::moto_endpoint());
    let n = 150u64;
    for i in 0..n {
        let (name, bytes) = body(i + 1);
        env.put_raw(&env.key("bf/", &format!("a b+c {name}")), bytes)
            .await;
    }
    let url = format!("s3://{LANDING}/bf/{}/", env.id);
    let opts = BackfillOptions {
        batch: 100,
        fan_out: Some(queue.clone()),
        ..options(env.vars["FLOE_WAREHOUSE"].clone())
    };
    // A dry run with --fan-out lists and routes; it sends nothing.
    let dry = BackfillOptions {
        dry_run: true,
        checkpoint_url: None,
        ..opts.clone()
    };
    let counted = backfill(env.config(), &url, &dry, |_| {}).await.unwrap();
    assert_eq!(counted.tables["it.bf"].objects, n);
    assert!(
        crate::sqs::receive(&client, &queue).await.is_empty(),
        "a dry run sent messages"
    );
    let sent = backfill(env.config(), &url, &opts, |_| {}).await.unwrap();
    assert_eq!(
        (sent.objects, sent.batches, sent.tables["it.bf"].objects),
        (n, 2, n)
    );
    assert_eq!(sent.tables["it.bf"].rows, 0, "nothing ingested here");

    let ingestor = env.ingestor().await;
    let mut statuses = Vec::new();
    loop {
        let messages = crate::sqs::receive(&client, &queue).await;
        if messages.is_empty() {
            break;
        }
        let event = crate::sqs::lambda_event(&messages);
        let payload = serde_json::to_value(&event.payload).unwrap();
        let response = ingestor
            .handle(floe::event::IngestEvent::parse(&payload).unwrap())
            .await;
        assert!(response.batch_item_failures.unwrap_or_default().is_empty());
        statuses.extend(response.objects.iter().map(|r| r.status));
        for m in messages {
            client
                .delete_message()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(statuses.len() as u64, n);
    assert!(
        statuses.iter().all(|s| *s == ObjectStatus::Committed),
        "{statuses:?}"
    );
    let bad = (1..=n).filter(|i| i.is_multiple_of(100)).count();
    assert_eq!(
        support::row_count(ingestor.catalog().as_ref(), &env.ident("bf")).await,
        n as usize * 3 - bad
    );
}
