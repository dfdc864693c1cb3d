//! Decoupled commits: ingest writes data files, then sends a [`CommitRequest`] (the files'
//! metadata, row count and the source's idempotency key) to an SQS FIFO queue with
//! `MessageGroupId` = table, so one table's commits are serialised while tables commit in
//! parallel, and `MessageDeduplicationId` = a hash of the idempotency key, so SQS drops
//! redelivered sends within its 5-minute window. The commit function batches them per table.

use iceberg::spec::{deserialize_data_file_from_json, serialize_data_file_to_json, DataFile};
use iceberg::table::Table;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::source::ObjectRef;

/// Largest message body sent inline. Past it (many files, wide tables) the data-file list goes to
/// a JSON object in the table's location and the message carries its path: a request is one
/// message whatever the file count or width, well under SQS's 256 KiB limit.
pub const MAX_INLINE_BYTES: usize = 64 * 1024;

/// Folder (under the table location) holding data-file lists of large commit requests.
pub const REQUEST_LISTS_DIR: &str = "data/_floe_commit_requests";

/// One commit request: every data file one object version wrote to one table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommitRequest {
    /// `namespace.table`.
    pub table: String,
    /// Idempotency key of the source object version.
    pub idempotency_key: String,
    /// The source object.
    pub source: ObjectRef,
    /// Rows in these files.
    pub rows: u64,
    /// Partition spec the files were written with.
    pub partition_spec_id: i32,
    /// Data files as Iceberg's JSON (`serialize_data_file_to_json`), when sent inline.
    #[serde(default)]
    pub data_files: Vec<String>,
    /// Where the data-file list is (a JSON array of the same strings), when not inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_files_url: Option<String>,
    /// Number of data files (inline or listed).
    #[serde(default)]
    pub file_count: usize,
    /// When ingest sent it (epoch ms): end-to-end latency, and the age past which it is refused.
    pub sent_at_ms: i64,
}

impl CommitRequest {
    /// The request for `files` written to `table` from `source`. A file list too large to send
    /// inline is written to the table location first.
    pub async fn for_files(
        table: &Table,
        source: &ObjectRef,
        rows: u64,
        files: Vec<DataFile>,
    ) -> Result<Self, iceberg::Error> {
        let meta = table.metadata();
        let spec = meta.default_partition_spec();
        let partition_type = spec.partition_type(meta.current_schema())?;
        let file_count = files.len();
        let data_files: Vec<String> = files
            .into_iter()
            .map(|f| serialize_data_file_to_json(f, &partition_type, meta.format_version()))
            .collect::<Result<_, _>>()?;
        let mut request = CommitRequest {
            table: table.identifier().to_string(),
            idempotency_key: source.idempotency_key(),
            source: source.clone(),
            rows,
            partition_spec_id: spec.spec_id(),
            data_files,
            data_files_url: None,
            file_count,
            sent_at_ms: chrono::Utc::now().timestamp_millis(),
        };
        let size: usize = request.data_files.iter().map(|f| f.len() + 4).sum();
        if size > MAX_INLINE_BYTES {
            let url = format!(
                "{}/{REQUEST_LISTS_DIR}/{}.json",
                meta.location().trim_end_matches('/'),
                uuid::Uuid::now_v7()
            );
            let body = serde_json::to_vec(&request.data_files)
                .map_err(|e| iceberg::Error::new(iceberg::ErrorKind::Unexpected, e.to_string()))?;
            table.file_io().new_output(&url)?.write(body.into()).await?;
            request.data_files = Vec::new();
            request.data_files_url = Some(url);
        }
        Ok(request)
    }

    /// The data files, decoded against `table`'s metadata (read from the list object when the
    /// request points at one).
    pub async fn data_files(&self, table: &Table) -> Result<Vec<DataFile>, iceberg::Error> {
        let meta = table.metadata();
        let spec = meta
            .partition_spec_by_id(self.partition_spec_id)
            .ok_or_else(|| {
                iceberg::Error::new(
                    iceberg::ErrorKind::DataInvalid,
                    format!("unknown partition spec {}", self.partition_spec_id),
                )
            })?;
        let schema = meta.current_schema();
        let partition_type = spec.partition_type(schema)?;
        let listed: Vec<String>;
        let jsons = match &self.data_files_url {
            None => &self.data_files,
            Some(url) => {
                let bytes = table.file_io().new_input(url)?.read().await?;
                listed = serde_json::from_slice(&bytes).map_err(|e| {
                    iceberg::Error::new(
                        iceberg::ErrorKind::DataInvalid,
                        format!("data-file list {url}: {e}"),
                    )
                })?;
                &listed
            }
        };
        jsons
            .iter()
            .map(|json| {
                deserialize_data_file_from_json(
                    json,
                    self.partition_spec_id,
                    &partition_type,
                    schema,
                )
            })
            .collect()
    }

    /// SQS FIFO `MessageDeduplicationId`: hex SHA-256 of the table and the idempotency key, so
    /// the table's and the quarantine table's requests of one object never collide, even on a
    /// queue with `DeduplicationScope=queue`.
    pub fn deduplication_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.table.as_bytes());
        h.update(b"\n");
        h.update(self.idempotency_key.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Sending to a queue failed: nothing may be assumed sent (the caller retries or redelivers).
#[derive(Debug, thiserror::Error)]
#[error("send {what} to {queue}: {message}")]
pub struct QueueError {
    /// The queue (URL, or a name for other transports).
    pub queue: String,
    /// What was being sent.
    pub what: String,
    /// Why it failed.
    pub message: String,
}

/// Where ingest sends commit requests.
#[async_trait::async_trait]
pub trait CommitQueue: Send + Sync {
    /// Sends the requests; an error means none may be assumed sent (the caller retries).
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), QueueError>;
}

/// An SQS queue: the commit FIFO queue here, and the compaction group queue (`maintenance`).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// A client for `queue_url` from the standard AWS configuration, at `endpoint` when given
    /// (`AWS_ENDPOINT_URL_SQS`: an emulator).
    pub async fn new(queue_url: &str, endpoint: Option<&str>) -> Self {
        let conf = crate::config::aws_sdk_config(None, endpoint).await;
        Self {
            client: aws_sdk_sqs::Client::new(&conf),
            url: queue_url.to_string(),
        }
    }

    /// Sends `message` as JSON; `fifo` is its (group id, deduplication id) on a FIFO queue.
    /// Errors name `what` and the queue.
    pub(crate) async fn send_json(
        &self,
        message: &impl serde::Serialize,
        fifo: Option<(&str, String)>,
        what: &str,
    ) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError {
            queue: self.url.clone(),
            what: what.to_string(),
            message: e.to_string(),
        })?;
        self.send_body(body, fifo, what).await
    }

    /// Sends a message body as it is (e.g. a refused request, to the DLQ).
    pub async fn send_body(
        &self,
        body: String,
        fifo: Option<(&str, String)>,
        what: &str,
    ) -> Result<(), QueueError> {
        let (group, dedup) = fifo.map_or((None, None), |(g, d)| (Some(g.to_string()), Some(d)));
        self.client
            .send_message()
            .queue_url(&self.url)
            .set_message_group_id(group)
            .set_message_deduplication_id(dedup)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError {
                queue: self.url.clone(),
                what: what.to_string(),
                message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl CommitQueue for SqsQueue {
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), QueueError> {
        for r in requests {
            let what = format!("commit request for {}", r.idempotency_key);
            self.send_json(r, Some((&r.table, r.deduplication_id())), &what)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplication_id_is_stable_short_and_unique_per_table() {
        let r = CommitRequest {
            table: "a.b".into(),
            idempotency_key: "s3://b/k#etag=e".into(),
            source: ObjectRef::new("b", "k"),
            rows: 1,
            partition_spec_id: 0,
            data_files: vec![],
            data_files_url: None,
            file_count: 0,
            sent_at_ms: 0,
        };
        assert_eq!(r.deduplication_id(), r.clone().deduplication_id());
        assert_eq!(r.deduplication_id().len(), 64);
        let quarantine = CommitRequest {
            table: "a.quarantine".into(),
            ..r.clone()
        };
        assert_ne!(r.deduplication_id(), quarantine.deduplication_id());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<CommitRequest>(&json).unwrap(), r);
    }
}
