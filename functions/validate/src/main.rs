//! Floe validate Lambda: dry-run objects against their table's contract.

use floe::config::Config;
use floe::ingest::Ingestor;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    floe::telemetry::init(config.log_format, &config.log_filter);
    let ingestor = Ingestor::new(config)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        validate::handle(ingestor, event).await
    }))
    .await
}
