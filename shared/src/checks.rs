//! Table checks: SQL assertions over Iceberg tables (DataFusion through iceberg-datafusion), run on
//! a schedule by the validate function. Each check passes when its query returns one row whose
//! first column is `true`; anything else — false, null, no row, an error — is a failed result.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::prelude::SessionContext;
use iceberg::Catalog;
use iceberg_datafusion::IcebergCatalogProvider;
use serde::Serialize;

use crate::spec::TableSpec;

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Check name.
    pub name: String,
    /// The query run.
    pub sql: String,
    /// Whether the table passed.
    pub passed: bool,
    /// What the query returned (first value), or the error.
    pub detail: String,
    /// Wall time.
    pub duration_ms: u64,
}

/// All checks of one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableCheckReport {
    /// Table.
    pub table: String,
    /// Every check passed.
    pub passed: bool,
    /// Per check.
    pub checks: Vec<CheckResult>,
    /// When the checks ran (RFC 3339).
    pub checked_at: String,
}

/// Runs `spec`'s checks against the catalog's current table.
pub async fn run_checks(catalog: Arc<dyn Catalog>, spec: &TableSpec) -> TableCheckReport {
    let table = spec.ident.to_string();
    let mut checks = Vec::with_capacity(spec.checks.len());
    let ctx = match IcebergCatalogProvider::try_new(catalog).await {
        Ok(p) => {
            let ctx = SessionContext::new();
            ctx.register_catalog("floe", Arc::new(p));
            Ok(ctx)
        }
        Err(e) => Err(e.to_string()),
    };
    let qualified = format!("floe.{}", spec.ident);
    for c in &spec.checks {
        let started = Instant::now();
        let sql = c.sql.replace("{table}", &qualified);
        let outcome = match &ctx {
            Ok(ctx) => run_one(ctx, &sql).await,
            Err(e) => Err(format!("catalog: {e}")),
        };
        let (passed, detail) = match outcome {
            Ok((passed, detail)) => (passed, detail),
            Err(e) => (false, format!("error: {e}")),
        };
        checks.push(CheckResult {
            name: c.name.clone(),
            sql,
            passed,
            detail,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }
    TableCheckReport {
        table,
        passed: checks.iter().all(|c| c.passed),
        checks,
        checked_at: chrono::Utc::now().to_rfc3339(),
    }
}

async fn run_one(ctx: &SessionContext, sql: &str) -> Result<(bool, String), String> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let Some(first) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok((false, "the query returned no row".into()));
    };
    if rows != 1 {
        return Ok((false, format!("the query returned {rows} rows, expected 1")));
    }
    let col = first.column(0);
    let Some(b) = col.as_any().downcast_ref::<BooleanArray>() else {
        return Ok((
            false,
            format!("the first column is {}, expected boolean", col.data_type()),
        ));
    };
    if b.is_null(0) {
        return Ok((false, "null".into()));
    }
    Ok((b.value(0), b.value(0).to_string()))
}
