//! Floe validate Lambda: dry-run objects against their table's contract.
#![recursion_limit = "256"]

use floe::ingest::Ingestor;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ingestor = Ingestor::from_env().await?;
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        validate::handle(ingestor, event).await
    }))
    .await
}
