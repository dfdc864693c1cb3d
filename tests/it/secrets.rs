//! The REST catalog's OAuth2 credential read from Secrets Manager (moto) instead of a plain
//! environment variable: the secret's value is what authenticates against the REST catalog
//! (SeaweedFS's), a wrong value is refused, and errors name the secret, never its value.

use floe::ingest::{Ingestor, ObjectStatus};
use floe::source::ObjectRef;

use crate::sales;
use crate::support::{moto_endpoint, moto_sdk_config, sales_spec, TestEnv, LANDING};

async fn secret(name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&moto_sdk_config().await)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_credential_comes_from_secrets_manager() {
    let name = format!("sec_{}", uuid::Uuid::now_v7().simple());
    let mut env = TestEnv::with_rest(&[(&name, sales_spec(&name, "sec/", ""))]);
    let credential = env.vars.remove("FLOE_CATALOG_CREDENTIAL").unwrap();
    let arn = secret(&format!("floe-it-{}", env.id), &credential).await;
    env.vars
        .insert("FLOE_CATALOG_CREDENTIAL_SECRET_ARN".into(), arn.clone());
    env.vars
        .insert("AWS_ENDPOINT_URL_SECRETSMANAGER".into(), moto_endpoint());
    let key = env.key("sec/", "a.csv");
    env.put(&key, sales::csv(&sales::rows(5))).await;
    let r = env
        .ingestor()
        .await
        .ingest(ObjectRef::new(LANDING, key.clone()))
        .await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");

    // The secret's value is what authenticates: a wrong one is refused.
    let wrong = secret(&format!("floe-it-{}-wrong", env.id), "nobody:wrong").await;
    env.vars
        .insert("FLOE_CATALOG_CREDENTIAL_SECRET_ARN".into(), wrong);
    let refused = match Ingestor::new(env.config()).await {
        Err(e) => e.to_string(),
        Ok(i) => i
            .ingest(ObjectRef::new(LANDING, key.clone()))
            .await
            .error
            .unwrap_or_default(),
    };
    assert!(!refused.is_empty(), "a wrong credential must not work");

    // A secret that does not exist: start-up fails naming it, never printing a credential.
    let missing = format!("{arn}-missing");
    env.vars
        .insert("FLOE_CATALOG_CREDENTIAL_SECRET_ARN".into(), missing.clone());
    let err = match Ingestor::new(env.config()).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a missing secret must fail start-up"),
    };
    assert!(err.contains(&missing), "{err}");
    assert!(!err.contains(&credential), "the credential leaked: {err}");
}
