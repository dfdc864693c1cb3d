//! `floe bench-commit`: commit throughput and end-to-end latency for N small objects, queue mode
//! (commit requests batched B per commit, as the commit function receives them from SQS) against
//! direct mode (one commit per object) in the same run. Uses the configured catalog and S3.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use floe::committer::{commit_messages, CommitMessage};
use floe::config::Config;
use floe::ingest::{Ingestor, ObjectStatus};
use floe::source::ObjectRef;
use object_store::ObjectStoreExt;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// `floe bench-commit` options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Objects per mode.
    #[arg(long, default_value_t = 100)]
    objects: usize,
    /// Commit requests per commit in queue mode (as an SQS batch).
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Rows per object.
    #[arg(long, default_value_t = 1000)]
    rows: u64,
}

/// Runs the benchmark and prints a markdown table.
pub async fn run(args: &BenchArgs) -> Result<()> {
    let (objects, batch, rows) = (args.objects, args.batch, args.rows);
    let config = Config::from_env()?;
    let stores = floe::storage::Stores::new(config.s3.clone());
    let landing = stores.bucket("floe-landing")?;
    let tag = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let body = crate::gen::csv_bytes(rows, 7);
    let mut keys = Vec::new();
    for mode in ["queue", "direct"] {
        for i in 0..objects {
            let key = format!("orders/bench-commit/{tag}/{mode}/o-{i:04}.csv");
            landing
                .put(
                    &object_store::path::Path::from(key.as_str()),
                    body.clone().into(),
                )
                .await?;
            keys.push(key);
        }
    }

    // Queue mode: ingest (each object's own latency), then commit batches as SQS would deliver them.
    let queue = Arc::new(crate::CapturedQueue::default());
    let ingestor = Ingestor::new(config.clone())
        .await?
        .with_commit_queue(queue.clone());
    let mut ingest_ms = Vec::new();
    for key in &keys[..objects] {
        let t = Instant::now();
        let r = ingestor.ingest(ObjectRef::new("floe-landing", key)).await;
        anyhow::ensure!(r.status == ObjectStatus::Queued, "{r:?}");
        ingest_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let requests = queue.0.lock().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    let mut commit_ms = Vec::new();
    let mut e2e_ms = Vec::new();
    let started = Instant::now();
    for (n, chunk) in requests.chunks(batch).enumerate() {
        let msgs = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| CommitMessage {
                message_id: format!("{n}-{i}"),
                request: Ok(r.clone()),
                body: String::new(),
            })
            .collect();
        let t = Instant::now();
        let report = commit_messages(
            ingestor.catalog(),
            msgs,
            &floe::committer::CommitSettings::new(
                config.commit_max_attempts,
                config.redelivery_window_ms,
            ),
        )
        .await;
        anyhow::ensure!(report.failed_message_ids.is_empty(), "{report:?}");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        commit_ms.push(ms);
        // End to end for an object in this batch: its ingest + the batch commit (queue wait ~0 here).
        for i in 0..chunk.len() {
            e2e_ms.push(ingest_ms[n * batch + i] + ms);
        }
    }
    let queue_secs = started.elapsed().as_secs_f64();

    // Direct mode baseline: every object commits itself.
    let direct = Ingestor::new(config.clone()).await?;
    let mut direct_ms = Vec::new();
    let started = Instant::now();
    for key in &keys[objects..] {
        let t = Instant::now();
        let r = direct.ingest(ObjectRef::new("floe-landing", key)).await;
        anyhow::ensure!(r.status == ObjectStatus::Committed, "{r:?}");
        direct_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let direct_secs = started.elapsed().as_secs_f64();

    let commits = commit_ms.len() as f64;
    println!("Commit benchmark {tag}: {objects} objects x {rows} rows, one table (demo.orders, day-partitioned)\n");
    println!(
        "| mode | commits | commit wall s | commits/s | objects/s committed | p50 ms | p95 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| queue, batch {batch}: commit latency per batch | {commits} | {queue_secs:.2} | {:.2} | {:.1} | {:.0} | {:.0} |",
        commits / queue_secs,
        objects as f64 / queue_secs,
        pct(&mut commit_ms, 0.5),
        pct(&mut commit_ms, 0.95)
    );
    println!(
        "| queue, batch {batch}: end to end per object (ingest + commit) | | | | | {:.0} | {:.0} |",
        pct(&mut e2e_ms, 0.5),
        pct(&mut e2e_ms, 0.95)
    );
    println!(
        "| direct (baseline): ingest + own commit per object | {objects} | {direct_secs:.2} | {:.2} | {:.1} | {:.0} | {:.0} |",
        objects as f64 / direct_secs,
        objects as f64 / direct_secs,
        pct(&mut direct_ms, 0.5),
        pct(&mut direct_ms, 0.95)
    );
    Ok(())
}
