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

/// Data files per request: keeps a message well under SQS's size limit (~1.5 KiB per file).
pub const FILES_PER_REQUEST: usize = 100;

/// One commit request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommitRequest {
    /// `namespace.table`.
    pub table: String,
    /// Idempotency key of this request (the source's key, plus `#part=i/n` when split).
    pub idempotency_key: String,
    /// The source object.
    pub source: ObjectRef,
    /// Rows in these files.
    pub rows: u64,
    /// Partition spec the files were written with.
    pub partition_spec_id: i32,
    /// Data files as Iceberg's JSON (`serialize_data_file_to_json`).
    pub data_files: Vec<String>,
    /// When ingest sent it (epoch ms), for end-to-end latency.
    pub sent_at_ms: i64,
}

impl CommitRequest {
    /// Requests for `files` written to `table` from `source` (split every [`FILES_PER_REQUEST`]).
    pub fn for_files(
        table: &Table,
        source: &ObjectRef,
        rows: u64,
        files: Vec<DataFile>,
    ) -> Result<Vec<Self>, iceberg::Error> {
        let meta = table.metadata();
        let spec = meta.default_partition_spec();
        let partition_type = spec.partition_type(meta.current_schema())?;
        let chunks: Vec<Vec<DataFile>> = files
            .chunks(FILES_PER_REQUEST)
            .map(|c| c.to_vec())
            .collect();
        let parts = chunks.len();
        let total_records: u64 = chunks.iter().flatten().map(|f| f.record_count()).sum();
        let key = source.idempotency_key();
        let sent_at_ms = chrono::Utc::now().timestamp_millis();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let chunk_rows: u64 = chunk.iter().map(|f| f.record_count()).sum();
                Ok(CommitRequest {
                    table: table.identifier().to_string(),
                    idempotency_key: if parts > 1 {
                        format!("{key}#part={}/{parts}", i + 1)
                    } else {
                        key.clone()
                    },
                    source: source.clone(),
                    rows: if parts > 1 && total_records > 0 {
                        chunk_rows
                    } else {
                        rows
                    },
                    partition_spec_id: spec.spec_id(),
                    data_files: chunk
                        .into_iter()
                        .map(|f| {
                            serialize_data_file_to_json(f, &partition_type, meta.format_version())
                        })
                        .collect::<Result<_, _>>()?,
                    sent_at_ms,
                })
            })
            .collect()
    }

    /// The data files, decoded against `table`'s metadata.
    pub fn data_files(&self, table: &Table) -> Result<Vec<DataFile>, iceberg::Error> {
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
        self.data_files
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

    /// SQS FIFO `MessageDeduplicationId`: hex SHA-256 of the idempotency key (≤ 128 chars).
    pub fn deduplication_id(&self) -> String {
        Sha256::digest(self.idempotency_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Where ingest sends commit requests.
#[async_trait::async_trait]
pub trait CommitQueue: Send + Sync {
    /// Sends the requests; an error means none may be assumed sent (the caller retries).
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), String>;
}

/// An SQS queue: the commit FIFO queue here, and the compaction group queue (`maintenance`).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// A client for `queue_url` from the standard AWS configuration (honours `AWS_ENDPOINT_URL`).
    pub async fn new(queue_url: &str) -> Self {
        let conf = aws_config::load_from_env().await;
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
    ) -> Result<(), String> {
        let body = serde_json::to_string(message).map_err(|e| e.to_string())?;
        let (group, dedup) = fifo.map_or((None, None), |(g, d)| (Some(g.to_string()), Some(d)));
        self.client
            .send_message()
            .queue_url(&self.url)
            .set_message_group_id(group)
            .set_message_deduplication_id(dedup)
            .message_body(body)
            .send()
            .await
            .map_err(|e| format!("send {what} to {}: {e}", self.url))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl CommitQueue for SqsQueue {
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), String> {
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
    fn deduplication_id_is_stable_and_short() {
        let r = CommitRequest {
            table: "a.b".into(),
            idempotency_key: "s3://b/k#etag=e".into(),
            source: ObjectRef::new("b", "k"),
            rows: 1,
            partition_spec_id: 0,
            data_files: vec![],
            sent_at_ms: 0,
        };
        assert_eq!(r.deduplication_id(), r.clone().deduplication_id());
        assert_eq!(r.deduplication_id().len(), 64);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<CommitRequest>(&json).unwrap(), r);
    }
}
