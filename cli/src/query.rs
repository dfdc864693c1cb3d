//! `floe query`: DataFusion SQL over the Iceberg catalog through iceberg-datafusion.

use std::sync::Arc;

use anyhow::Result;
use datafusion::prelude::SessionContext;
use floe::config::Config;
use iceberg_datafusion::IcebergCatalogProvider;

/// Runs `sql` and prints the result as a table. Tables are `floe.<namespace>.<table>`.
pub async fn run(config: &Config, sql: &str) -> Result<()> {
    let catalog = floe::catalog::open_catalog(&config.catalog, &config.s3).await?;
    let provider = IcebergCatalogProvider::try_new(catalog).await?;
    let ctx = SessionContext::new();
    ctx.register_catalog("floe", Arc::new(provider));
    let df = ctx.sql(sql).await?;
    df.show().await?;
    Ok(())
}
