//! Floe commit Lambda: consumes the SQS FIFO commit queue.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use floe::config::Config;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    floe::telemetry::init(config.log_format, &config.log_filter);
    let catalog = floe::catalog::open_catalog(&config.catalog, &config.s3)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let settings = floe::committer::CommitSettings::from_config(&config).await;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let catalog = catalog.clone();
        let settings = settings.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(commit::handle(catalog, &settings, event).await.0)
        }
    }))
    .await
}
