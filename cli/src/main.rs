//! `floe`: local tooling over the same shared crate the Lambdas use.
//!
//! - `floe query "SQL"`: DataFusion SQL over the catalog's tables (`floe.<namespace>.<table>`).
//! - `floe ingest s3://bucket/key ...`: run the ingest pipeline in-process.
//! - `floe put FILE s3://bucket/key`: upload a file (multipart, streamed).
//! - `floe gen csv|jsonl|parquet --rows N --out FILE`: generate sample/benchmark data.
//! - `floe maintain 'JSON'`: run a maintenance request (the compact function's payload, e.g.
//!   `{"tables":["demo.orders"],"actions":["rewrite_data_files"]}`) in-process; prints the report.
//!
//! Configuration comes from the same `FLOE_*` / `AWS_*` variables as the functions.
#![recursion_limit = "256"]

mod bench_commit;
mod gen;
#[cfg(feature = "query")]
mod query;

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use floe::config::Config;
use floe::ingest::{Ingestor, ObjectStatus};
use floe::maintenance::run::{Maintainer, MaintenanceRequest};
use floe::source::ObjectRef;

#[tokio::main]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage:
  floe query \"SQL\"
  floe ingest [--sqs-event-out FILE] s3://bucket/key [...]
  floe put FILE s3://bucket/key
  floe gen csv|jsonl|parquet --rows N --out FILE [--seed S]
  floe bench-commit [--objects N] [--batch B] [--rows R]
  floe spec-prefixes [DIR]
  floe maintain '{\"tables\":[\"ns.table\"],\"actions\":[\"rewrite_data_files\"]}'";

async fn run(args: Vec<String>) -> Result<ExitCode> {
    let Some(cmd) = args.first() else {
        bail!("{USAGE}")
    };
    match cmd.as_str() {
        #[cfg(feature = "query")]
        "query" => {
            let sql = args.get(1).context(USAGE)?;
            let config = Config::from_env()?;
            query::run(&config, sql).await?;
            Ok(ExitCode::SUCCESS)
        }
        "ingest" => {
            let config = Config::from_env()?;
            floe::telemetry::init(config.log_format, &config.log_filter);
            let mut ingestor = Ingestor::new(config).await?;
            let mut urls = &args[1..];
            // Queue mode without AWS: collect the commit requests into an SQS event file for
            // `cargo lambda invoke commit --data-file FILE`.
            let captured = if urls.first().map(String::as_str) == Some("--sqs-event-out") {
                let file = urls.get(1).context("--sqs-event-out FILE")?.clone();
                urls = &urls[2..];
                let queue = std::sync::Arc::new(CapturedQueue::default());
                ingestor = ingestor.with_commit_queue(queue.clone());
                Some((file, queue))
            } else {
                None
            };
            let mut failed = false;
            for url in urls {
                let (bucket, key) = parse_s3_url(url)?;
                let report = ingestor.ingest(ObjectRef::new(bucket, key)).await;
                failed |= report.status == ObjectStatus::Failed;
                println!("{}", serde_json::to_string(&report)?);
            }
            if let Some((file, queue)) = captured {
                let n = queue.write_sqs_event(&file)?;
                eprintln!("wrote {n} commit request(s) as an SQS event to {file}");
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        "put" => {
            let (file, url) = (args.get(1).context(USAGE)?, args.get(2).context(USAGE)?);
            let config = Config::from_env()?;
            let bytes = put(&config, file, url).await?;
            println!("uploaded {file} -> {url} ({bytes} bytes)");
            Ok(ExitCode::SUCCESS)
        }
        "bench-commit" => {
            floe::telemetry::init(floe::config::LogFormat::Text, "warn");
            bench_commit::run(&args[1..]).await?;
            Ok(ExitCode::SUCCESS)
        }
        "gen" => {
            gen::run(&args[1..])?;
            Ok(ExitCode::SUCCESS)
        }
        "spec-prefixes" => {
            // The landing-key prefixes per table, as the ingest router sees them: the Terraform
            // trigger filters (infra/example/tables.auto.tfvars.json, `make infra-prefixes`).
            let dir = args.get(1).map_or("tables", String::as_str);
            let ns = std::env::var("FLOE_DEFAULT_NAMESPACE").unwrap_or_else(|_| "demo".into());
            let stores = floe::storage::Stores::new(floe::config::S3Config::default());
            let router = floe::spec::TableRouter::load(dir, &stores, &ns).await?;
            let prefixes: std::collections::BTreeMap<String, Vec<String>> = router
                .specs()
                .iter()
                .map(|s| {
                    let name = floe::maintenance::table_name(&s.ident);
                    (name, s.prefixes.clone())
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "table_prefixes": prefixes }))?
            );
            Ok(ExitCode::SUCCESS)
        }
        "maintain" => {
            let request: MaintenanceRequest = serde_json::from_str(
                args.get(1).map_or("{}", String::as_str),
            )
            .context("the request is not a maintenance request (see events/compact-*.json)")?;
            let config = Config::from_env()?;
            floe::telemetry::init(config.log_format, &config.log_filter);
            let report = Maintainer::new(&config).await?.run(&request, None).await;
            println!("{}", serde_json::to_string(&report)?);
            Ok(if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        _ => bail!("unknown command `{cmd}`\n{USAGE}"),
    }
}

/// Collects commit requests instead of sending them to SQS.
#[derive(Default)]
pub(crate) struct CapturedQueue(pub(crate) std::sync::Mutex<Vec<floe::queue::CommitRequest>>);

#[async_trait::async_trait]
impl floe::queue::CommitQueue for CapturedQueue {
    async fn send(&self, requests: &[floe::queue::CommitRequest]) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .extend_from_slice(requests);
        Ok(())
    }
}

impl CapturedQueue {
    /// Writes the requests as an SQS (FIFO) event, the shape the commit function receives.
    fn write_sqs_event(&self, file: &str) -> Result<usize> {
        let requests = self.0.lock().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
        let records: Vec<serde_json::Value> = requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(serde_json::json!({
                    "messageId": format!("local-{i}"),
                    "receiptHandle": format!("local-{i}"),
                    "body": serde_json::to_string(r)?,
                    "attributes": {
                        "ApproximateReceiveCount": "1",
                        "MessageGroupId": r.table,
                        "MessageDeduplicationId": r.deduplication_id(),
                        "SentTimestamp": r.sent_at_ms.to_string()
                    },
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:floe-commit.fifo",
                    "awsRegion": "us-east-1"
                }))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        std::fs::write(
            file,
            serde_json::to_vec_pretty(&serde_json::json!({ "Records": records }))?,
        )?;
        Ok(requests.len())
    }
}

fn parse_s3_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("s3://")
        .with_context(|| format!("`{url}` is not an s3:// URL"))?;
    let (bucket, key) = rest
        .split_once('/')
        .with_context(|| format!("`{url}` has no key"))?;
    Ok((bucket.to_string(), key.to_string()))
}

/// Uploads a local file: one PUT below 8 MiB (so the ETag is the file's MD5, as in events/),
/// else streamed in 8 MiB multipart parts.
async fn put(config: &Config, file: &str, url: &str) -> Result<u64> {
    use object_store::{ObjectStoreExt, WriteMultipart};
    use tokio::io::AsyncReadExt;
    const PART: u64 = 8 << 20;
    let stores = floe::storage::Stores::new(config.s3.clone());
    let (store, path) = stores.for_url(url)?;
    let size = tokio::fs::metadata(file)
        .await
        .with_context(|| format!("stat {file}"))?
        .len();
    if size < PART {
        let bytes = tokio::fs::read(file).await?;
        store.put(&path, bytes.into()).await?;
        return Ok(size);
    }
    let mut f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("open {file}"))?;
    let upload = store.put_multipart(&path).await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART as usize);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(4).await?;
        writer.write(&buf[..n]);
        total += n as u64;
    }
    writer.finish().await?;
    Ok(total)
}
