//! Floe compact Lambda: table maintenance on a schedule, and fanned-out file groups from SQS.
// The maintenance futures (catalog + Glue + SQS clients) nest deeper than the default limit.
#![recursion_limit = "256"]

use floe::maintenance::run::Maintainer;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let maintainer = Maintainer::from_env().await?;
    let maintainer = &maintainer;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        compact::handle(maintainer, event).await
    }))
    .await
}
