//! `floe`: local tooling over the same shared crate the Lambdas use.
//!
//! - `floe query "SQL"`: DataFusion SQL over the catalog's tables (`floe.<namespace>.<table>`).
//! - `floe ingest s3://bucket/key ...`: run the ingest pipeline in-process.
//! - `floe put FILE s3://bucket/key`: upload a file (multipart, streamed).
//! - `floe gen csv|jsonl|parquet --rows N --out FILE`: generate sample/benchmark data.
//!
//! Configuration comes from the same `FLOE_*` / `AWS_*` variables as the functions.

mod gen;
#[cfg(feature = "query")]
mod query;

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use floe::config::Config;
use floe::ingest::{Ingestor, ObjectStatus};
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
  floe ingest s3://bucket/key [...]
  floe put FILE s3://bucket/key
  floe gen csv|jsonl|parquet --rows N --out FILE [--seed S]";

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
            let ingestor = Ingestor::new(config).await?;
            let mut failed = false;
            for url in &args[1..] {
                let (bucket, key) = parse_s3_url(url)?;
                let report = ingestor.ingest(ObjectRef::new(bucket, key)).await;
                failed |= report.status == ObjectStatus::Failed;
                println!("{}", serde_json::to_string(&report)?);
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
        "gen" => {
            gen::run(&args[1..])?;
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("unknown command `{cmd}`\n{USAGE}"),
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
