//! The commit queue end to end on a real SQS FIFO API (moto): ingest in queue mode sends through
//! aws-sdk-sqs, messages are received as the Lambda service would (batches of up to 10 with their
//! attributes), handed to the commit function's handler as an SQS event, and deleted unless
//! listed as batch item failures. Checks: one message group per table, SQS deduplication of a
//! redelivered object, every row committed once, and a poison message moved to the DLQ at once.

use std::collections::{BTreeSet, HashMap};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use floe::committer::CommitSettings;
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;
use lambda_runtime::{Context, LambdaEvent};

use crate::sales;
use crate::support::{self, moto_endpoint, moto_sdk_config, sales_spec, TestEnv, LANDING};

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&moto_sdk_config().await)
}

/// A FIFO queue (with `redrive` = (DLQ arn, maxReceiveCount) when given); returns its URL.
pub async fn fifo_queue(client: &aws_sdk_sqs::Client, name: &str, redrive: Option<&str>) -> String {
    let mut req = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "30");
    if let Some(arn) = redrive {
        req = req.attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"3"}}"#),
        );
    }
    req.send().await.unwrap().queue_url.unwrap()
}

pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// Receives one batch as Lambda's event source mapping does: messages with their attributes.
pub async fn receive(client: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

/// The Lambda SQS event for received messages (id, body, receipt handle, system attributes).
pub fn lambda_event(messages: &[aws_sdk_sqs::types::Message]) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut r = SqsMessage::default();
            r.message_id = m.message_id.clone();
            r.body = m.body.clone();
            r.receipt_handle = m.receipt_handle.clone();
            r.event_source = Some("aws:sqs".into());
            r.attributes = m
                .attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_string(), v))
                .collect();
            r
        })
        .collect();
    LambdaEvent::new(event, Context::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_commits_through_sqs_fifo_land_once_per_table_and_poison_goes_to_the_dlq() {
    let mut env = TestEnv::new(&[
        ("qa", sales_spec("qa", "qa/", "")),
        ("qb", sales_spec("qb", "qb/", "")),
    ]);
    let client = sqs().await;
    let dlq = fifo_queue(&client, &format!("it-{}-commit-dlq.fifo", env.id), None).await;
    let dlq_arn = queue_arn(&client, &dlq).await;
    let queue = fifo_queue(
        &client,
        &format!("it-{}-commit.fifo", env.id),
        Some(&dlq_arn),
    )
    .await;
    for (k, v) in [
        ("FLOE_COMMIT_MODE", "queue".to_string()),
        ("FLOE_COMMIT_QUEUE_URL", queue.clone()),
        ("FLOE_COMMIT_DLQ_URL", dlq.clone()),
        ("AWS_ENDPOINT_URL_SQS", moto_endpoint()),
    ] {
        env.vars.insert(k.into(), v);
    }

    // 3 objects for table qa (one with a row the contract refuses), 2 for qb.
    let all = sales::rows(50);
    let mut expected: HashMap<&str, Vec<sales::Sale>> = HashMap::new();
    let mut keys = Vec::new();
    for (i, chunk) in all.chunks(10).enumerate() {
        let table = if i < 3 { "qa" } else { "qb" };
        let key = env.key(&format!("{table}/"), &format!("o-{i}.csv"));
        let mut csv = sales::csv(chunk);
        if i == 0 {
            csv.extend_from_slice(b"2026-01-01T00:00:00Z,x,,no id,1.00,1,true\n");
        }
        env.put(&key, csv).await;
        expected.entry(table).or_default().extend_from_slice(chunk);
        keys.push(key);
    }
    let ingestor = env.ingestor().await;
    // S3 delivers at least once: the first object's event arrives twice.
    for key in keys.iter().chain(std::iter::once(&keys[0])) {
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Queued, "{r:?}");
    }
    // Something no commit could ever process.
    client
        .send_message()
        .queue_url(&queue)
        .message_group_id(format!("{}.qa", env.namespace()))
        .message_deduplication_id("poison")
        .message_body("{\"not\": \"a commit request\"}")
        .send()
        .await
        .unwrap();
    let nothing_yet = ingestor
        .catalog()
        .load_table(&env.ident("qa"))
        .await
        .unwrap();
    assert!(nothing_yet.metadata().current_snapshot().is_none());

    let settings = CommitSettings::from_config(&env.config()).await;
    let mut groups = BTreeSet::new();
    let mut received = 0;
    let mut committed = 0;
    loop {
        let batch = receive(&client, &queue).await;
        if batch.is_empty() {
            break;
        }
        received += batch.len();
        for m in &batch {
            groups.insert(
                m.attributes.as_ref().unwrap()[&MessageSystemAttributeName::MessageGroupId].clone(),
            );
        }
        let (response, report) =
            commit::handle(ingestor.catalog(), &settings, lambda_event(&batch)).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
        committed += report.tables.iter().map(|t| t.committed).sum::<usize>();
        // The Lambda service deletes what the handler did not list as failed.
        for m in &batch {
            client
                .delete_message()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle.clone().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    // 5 table requests + 1 quarantine request + the poison message; the redelivered object's
    // request had the same deduplication id and SQS dropped it.
    assert_eq!(received, 7);
    assert_eq!(committed, 6);
    let ns = env.namespace();
    assert_eq!(
        groups,
        BTreeSet::from([
            format!("{ns}.qa"),
            format!("{ns}.qb"),
            format!("{ns}.quarantine")
        ]),
        "one FIFO message group per table"
    );
    for (table, rows) in &expected {
        let t = ingestor
            .catalog()
            .load_table(&env.ident(table))
            .await
            .unwrap();
        let mut got = sales::from_batches(&support::scan(&t).await);
        got.sort();
        let mut want = rows.clone();
        want.sort();
        assert_eq!(got.len(), want.len(), "{table}");
        assert!(got == want, "{table}: rows differ");
    }
    let dead = receive(&client, &dlq).await;
    assert_eq!(dead.len(), 1, "the poison message is in the DLQ at once");
    assert_eq!(
        dead[0].body.as_deref(),
        Some("{\"not\": \"a commit request\"}")
    );
}
