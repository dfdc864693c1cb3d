//! Floe commit Lambda: consumes the SQS FIFO commit queue.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use floe::committer::CommitService;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let service = CommitService::from_env().await?;
    let service = &service;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let (response, _) = commit::handle(service.catalog.clone(), &service.settings, event).await;
        Ok::<SqsBatchResponse, Error>(response)
    }))
    .await
}
