//! `floe`: local tooling over the same shared crate the Lambdas use (`floe --help`, and
//! `floe <command> --help` for each command). Arguments are parsed with clap (derive): one
//! declaration per command gives the parser, the help text and the errors.
#![recursion_limit = "256"]

mod bench_commit;
mod gen;
#[cfg(feature = "query")]
mod query;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use floe::config::Config;
use floe::ingest::{Ingestor, ObjectStatus};
use floe::maintenance::run::{Maintainer, MaintenanceRequest};
use floe::source::ObjectRef;

/// Local tooling over the same shared crate the Lambdas use. Configuration comes from the same
/// `FLOE_*` / `AWS_*` variables as the functions.
#[derive(Parser)]
#[command(name = "floe", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// DataFusion SQL over the catalog's tables (`floe.<namespace>.<table>`).
    #[cfg(feature = "query")]
    Query {
        /// The statement, e.g. "SELECT count(*) FROM floe.demo.orders".
        sql: String,
    },
    /// Runs the ingest pipeline in-process on objects.
    Ingest {
        /// Queue mode without AWS: write the commit requests as an SQS event to FILE (for
        /// `cargo lambda invoke commit --data-file FILE`) instead of committing.
        #[arg(long, value_name = "FILE")]
        sqs_event_out: Option<String>,
        /// Objects as s3://bucket/key.
        #[arg(required = true, value_name = "S3_URL")]
        urls: Vec<String>,
    },
    /// Ingests the objects already under a prefix, as live events would (same routing and
    /// idempotency keys: safe alongside live ingestion and when run twice), committing one
    /// snapshot per table per batch and resuming from a checkpoint.
    Backfill(BackfillArgs),
    /// Uploads a local file (one PUT below 8 MiB, else multipart).
    Put {
        /// Local file.
        file: String,
        /// Destination s3://bucket/key.
        url: String,
    },
    /// Generates deterministic sample data shaped like the demo `orders` table.
    Gen(gen::GenArgs),
    /// Commit throughput: queue mode (batched) against direct mode, same run.
    BenchCommit(bench_commit::BenchArgs),
    /// Read throughput of one object as ingest reads it: one GET stream, or ranged GETs with
    /// read-ahead (`FLOE_READ_AHEAD_BYTES`, or the flag); prints bytes, seconds and MB/s as JSON.
    BenchRead {
        /// The object, s3://bucket/key.
        url: String,
        /// Read-ahead budget in bytes (0: one GET stream); default `FLOE_READ_AHEAD_BYTES`.
        #[arg(long)]
        read_ahead_bytes: Option<u64>,
    },
    /// Table specs: infer one from sample objects.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// The quarantine table: replay quarantined records through the current spec.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// Prints the landing-key prefixes per table as JSON (the Terraform trigger filters).
    SpecPrefixes {
        /// Directory of table specs.
        #[arg(default_value = "tables")]
        dir: String,
        /// Namespace for specs that name none.
        #[arg(long, env = "FLOE_DEFAULT_NAMESPACE", default_value = "demo")]
        namespace: String,
    },
    /// Runs a maintenance request (the compact function's payload) in-process; prints the report.
    Maintain {
        /// The request, e.g. '{"tables":["demo.orders"],"actions":["rewrite_data_files"]}'.
        #[arg(default_value = "{}")]
        request: String,
    },
}

#[derive(clap::Args)]
struct BackfillArgs {
    /// The prefix, s3://bucket/prefix/.
    #[arg(value_name = "S3_URL")]
    url: String,
    /// Only objects last modified at or after (RFC 3339).
    #[arg(long)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only objects last modified before (RFC 3339).
    #[arg(long)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// List and route only: objects and bytes per table.
    #[arg(long)]
    dry_run: bool,
    /// Objects ingested at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Objects per committed batch (one snapshot per table per batch).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Ignore the checkpoint of an earlier run and start over (duplicates are still skipped).
    #[arg(long)]
    restart: bool,
    /// Where checkpoints live (default: FLOE_WAREHOUSE).
    #[arg(long, value_name = "URL")]
    checkpoint: Option<String>,
    /// Stop after N batches (the next run continues from the checkpoint).
    #[arg(long, value_name = "N")]
    max_batches: Option<usize>,
    /// Send the listing to the ingest queue (SQS URL) as S3-notification messages: Lambda does
    /// the work (for prefixes too big for one machine).
    #[arg(long, value_name = "QUEUE_URL")]
    fan_out: Option<String>,
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// Replays a table's quarantined records (and objects quarantined whole) through its
    /// current spec: rows that now pass land, the rest are quarantined with their new reason.
    /// Idempotent: a second replay of the same records adds nothing.
    Replay {
        /// The table, namespace.table.
        #[arg(long)]
        table: String,
        /// Only records quarantined with this error code.
        #[arg(long)]
        code: Option<String>,
        /// Only records quarantined at or after (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Infers a table spec (TOML, on stdout) from a sample of the objects under a prefix:
    /// names, types (nested too), nullability, format, a day partition on the first timestamp.
    /// Review it, then commit it to the specs directory.
    Infer {
        /// The prefix, s3://bucket/prefix/.
        #[arg(value_name = "S3_URL")]
        url: String,
        /// Objects to read (the first listed).
        #[arg(long, default_value_t = 20)]
        sample: usize,
        /// Records to read per CSV / JSON-lines object.
        #[arg(long, default_value_t = 10_000)]
        records: u64,
        /// Write the spec to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Backfill progress on stderr after every batch: a bar (indicatif) in a terminal, plain lines
/// otherwise (logs, CI). The listing streams, so there is no total and no ETA: the bar shows
/// objects done, rows, the rate and how far the listing got.
struct BackfillProgress(Option<indicatif::ProgressBar>);

impl BackfillProgress {
    fn new() -> Self {
        use std::io::IsTerminal;
        Self(std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] backfill {pos} objects | {msg}",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        }))
    }

    fn update(&self, r: &floe::backfill::BackfillReport, secs: f64) {
        // Objects done (ingested, registered, skipped): the listing runs ahead of them.
        let done: u64 = r.tables.values().map(|t| t.objects).sum::<u64>() + r.skipped;
        let rows: u64 = r.tables.values().map(|t| t.rows).sum();
        let quarantined: u64 = r.tables.values().map(|t| t.rows_quarantined).sum();
        let line = format!(
            "{rows} rows, {quarantined} quarantined, {} batch(es), {:.1} objects/s, {} listed ({:.1} MB), last key {:?}",
            r.batches,
            done as f64 / secs,
            r.objects,
            r.bytes as f64 / 1e6,
            r.last_key.as_deref().unwrap_or("")
        );
        match &self.0 {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(line);
            }
            None => eprintln!("backfill: {done} object(s) done, {line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish();
        }
    }
}

/// `floe backfill`: progress after every batch on stderr, the report (JSON) on stdout.
async fn backfill(args: BackfillArgs) -> Result<ExitCode> {
    let config = Config::from_env()?;
    let checkpoint = args.checkpoint.clone().or_else(|| {
        let w = &config.catalog.warehouse;
        (w.starts_with("s3://") || w.starts_with("file://")).then(|| w.clone())
    });
    let opts = floe::backfill::BackfillOptions {
        since: args.since,
        until: args.until,
        dry_run: args.dry_run,
        concurrency: args.concurrency,
        batch: args.batch,
        checkpoint_url: checkpoint,
        restart: args.restart,
        max_batches: args.max_batches,
        fan_out: args.fan_out.clone(),
    };
    let started = std::time::Instant::now();
    let progress = BackfillProgress::new();
    let report = floe::backfill::backfill(config, &args.url, &opts, |r| {
        progress.update(r, started.elapsed().as_secs_f64().max(0.001))
    })
    .await?;
    progress.finish();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(exit(!report.failures.is_empty()))
}

/// `floe spec infer`: the inferred spec on stdout (or in `out`), what it read on stderr.
async fn spec_infer(
    url: &str,
    sample: usize,
    records: u64,
    out: Option<String>,
) -> Result<ExitCode> {
    let config = Config::from_env()?;
    let landing = std::sync::Arc::new(floe::landing::Landing::new(&config.s3).await);
    let stores = floe::storage::Stores::new(config.s3.clone());
    let opts = floe::spec_infer::InferOptions {
        sample_objects: sample,
        records_per_object: records,
        csv: Default::default(),
        limits: config.limits,
    };
    let spec = floe::spec_infer::infer_spec(landing, &stores, url, &opts).await?;
    eprintln!(
        "inferred {} column(s) from {} object(s), {} record(s)",
        spec.columns.len(),
        spec.objects.len(),
        spec.records
    );
    match out {
        Some(path) => {
            std::fs::write(&path, &spec.toml).with_context(|| format!("cannot write {path}"))?
        }
        None => print!("{}", spec.toml),
    }
    Ok(ExitCode::SUCCESS)
}

fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(command: Command) -> Result<ExitCode> {
    match command {
        #[cfg(feature = "query")]
        Command::Query { sql } => {
            let config = Config::from_env()?;
            query::run(&config, &sql).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            sqs_event_out,
            urls,
        } => ingest(sqs_event_out, &urls).await,
        Command::Backfill(args) => backfill(args).await,
        Command::Quarantine(QuarantineCommand::Replay { table, code, since }) => {
            let opts = floe::replay::ReplayOptions { table, code, since };
            let report = floe::replay::replay(Config::from_env()?, &opts).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Put { file, url } => {
            let config = Config::from_env()?;
            let bytes = put(&config, &file, &url).await?;
            println!("uploaded {file} -> {url} ({bytes} bytes)");
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchCommit(args) => {
            floe::telemetry::init(floe::config::LogFormat::Text, "warn");
            bench_commit::run(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchRead {
            url,
            read_ahead_bytes,
        } => bench_read(&url, read_ahead_bytes).await,
        Command::Gen(args) => {
            gen::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Spec(SpecCommand::Infer {
            url,
            sample,
            records,
            out,
        }) => spec_infer(&url, sample, records, out).await,
        Command::SpecPrefixes { dir, namespace } => {
            // The landing-key prefixes per table, as the ingest router sees them: the Terraform
            // trigger filters (infra/example/tables.auto.tfvars.json, `make infra-prefixes`).
            let stores = floe::storage::Stores::new(floe::config::S3Config::default());
            let router = floe::router::TableRouter::load(&dir, &stores, &namespace).await?;
            let prefixes: std::collections::BTreeMap<String, Vec<String>> = router
                .specs()
                .iter()
                .map(|s| (floe::maintenance::table_name(&s.ident), s.prefixes.clone()))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "table_prefixes": prefixes }))?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Maintain { request } => {
            let request: MaintenanceRequest = serde_json::from_str(&request)
                .context("the request is not a maintenance request (see events/compact-*.json)")?;
            let config = Config::from_env()?;
            floe::telemetry::init(config.log_format, &config.log_filter);
            let report = Maintainer::new(&config).await?.run(&request, None).await;
            println!("{}", serde_json::to_string(&report)?);
            Ok(exit(report.failed()))
        }
    }
}

/// `floe ingest`: each object through the pipeline, one JSON report line each.
async fn ingest(sqs_event_out: Option<String>, urls: &[String]) -> Result<ExitCode> {
    let config = Config::from_env()?;
    floe::telemetry::init(config.log_format, &config.log_filter);
    let mut ingestor = Ingestor::new(config).await?;
    // Queue mode without AWS: collect the commit requests into an SQS event file.
    let mut captured = None;
    if let Some(file) = sqs_event_out {
        let queue = std::sync::Arc::new(CapturedQueue::default());
        ingestor = ingestor.with_commit_queue(queue.clone());
        captured = Some((file, queue));
    }
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
    Ok(exit(failed))
}

/// Collects commit requests instead of sending them to SQS.
#[derive(Default)]
pub(crate) struct CapturedQueue(pub(crate) std::sync::Mutex<Vec<floe::queue::CommitRequest>>);

#[async_trait::async_trait]
impl floe::queue::CommitQueue for CapturedQueue {
    async fn send(
        &self,
        requests: &[floe::queue::CommitRequest],
    ) -> Result<(), floe::queue::QueueError> {
        self.0
            .lock()
            .map_err(|e| floe::queue::QueueError {
                queue: "captured".into(),
                what: "commit requests".into(),
                message: e.to_string(),
            })?
            .extend_from_slice(requests);
        Ok(())
    }
}

impl CapturedQueue {
    /// Writes the requests as an SQS (FIFO) event, the shape the commit function receives
    /// (aws_lambda_events' own type, so it cannot drift from the function's input).
    fn write_sqs_event(&self, file: &str) -> Result<usize> {
        use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
        let requests = self.0.lock().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
        let mut event = SqsEvent::default();
        for (i, r) in requests.iter().enumerate() {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("local-{i}"));
            m.receipt_handle = Some(format!("local-{i}"));
            m.body = Some(serde_json::to_string(r)?);
            m.attributes = [
                ("ApproximateReceiveCount", "1".to_string()),
                ("MessageGroupId", r.table.clone()),
                ("MessageDeduplicationId", r.deduplication_id()),
                ("SentTimestamp", r.sent_at_ms.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            m.event_source = Some("aws:sqs".into());
            m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:floe-commit.fifo".into());
            m.aws_region = Some("us-east-1".into());
            event.records.push(m);
        }
        std::fs::write(file, serde_json::to_vec_pretty(&event)?)?;
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

/// `floe bench-read`: one object read to the end as the text decoders read it.
async fn bench_read(url: &str, read_ahead_bytes: Option<u64>) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let (bucket, key) = floe::source::split_s3_url(url)
        .ok_or_else(|| anyhow::anyhow!("`{url}` is not an s3://bucket/key URL"))?;
    let landing = floe::landing::Landing::new(&config.s3).await;
    let mut object = floe::source::ObjectRef::new(bucket, key);
    let meta = landing.head(&object).await?;
    (object.etag, object.size) = (meta.etag, Some(meta.size));
    let budget = read_ahead_bytes.unwrap_or(config.limits.read_ahead_bytes);
    let started = std::time::Instant::now();
    let mut body = floe::format::open_raw(&landing, &object, budget).await?;
    let bytes = tokio::io::copy(&mut body.reader, &mut tokio::io::sink()).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bytes": bytes,
            "secs": secs,
            "mb_s": bytes as f64 / 1e6 / secs,
            "read_ahead_bytes": budget,
            "ranged_parts": body.ranged_parts,
        })
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_command_parses_and_has_help() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["floe", "gen", "parquet", "--rows", "5", "--out", "x"]);
        assert!(matches!(cli.map(|c| c.command), Ok(Command::Gen(_))));
        let err = Cli::try_parse_from(["floe", "gen", "xml", "--out", "x"])
            .err()
            .unwrap();
        assert!(err.to_string().contains("xml"), "{err}");
        assert!(
            Cli::try_parse_from(["floe", "ingest"]).is_err(),
            "an object is required"
        );
        let help = Cli::command().render_long_help().to_string();
        for cmd in [
            "ingest",
            "put",
            "gen",
            "bench-commit",
            "spec-prefixes",
            "maintain",
        ] {
            assert!(help.contains(cmd), "{cmd} missing from --help");
        }
    }
}
