//! Iceberg table access: load a spec's table, creating its namespace and the table from the
//! spec on first use (tolerating a concurrent creator).

use std::collections::HashMap;

use iceberg::table::Table;
use iceberg::{Catalog, ErrorKind};

use crate::spec::TableSpec;

/// Loads the table of `spec`, creating it (and its namespace) if it does not exist yet.
pub async fn load_or_create(
    catalog: &dyn Catalog,
    spec: &TableSpec,
) -> Result<Table, iceberg::Error> {
    match catalog.load_table(&spec.ident).await {
        Ok(t) => return Ok(t),
        Err(e) if !is_missing(&e) && catalog.table_exists(&spec.ident).await.unwrap_or(true) => {
            return Err(e)
        }
        Err(_) => {}
    }
    let ns = spec.ident.namespace();
    if !catalog.namespace_exists(ns).await? {
        match catalog.create_namespace(ns, HashMap::new()).await {
            Ok(_) => {}
            // Another invocation created it first.
            Err(e) if catalog.namespace_exists(ns).await.unwrap_or(false) => {
                tracing::debug!(error = %e, "namespace created concurrently")
            }
            Err(e) => return Err(e),
        }
    }
    let creation = spec
        .table_creation()
        .map_err(|m| iceberg::Error::new(ErrorKind::DataInvalid, m))?;
    match catalog.create_table(ns, creation).await {
        Ok(t) => {
            tracing::info!(table = %spec.ident, "created table from spec");
            Ok(t)
        }
        Err(e) => match catalog.load_table(&spec.ident).await {
            // Lost a creation race: the other creator's table is as good as ours.
            Ok(t) => Ok(t),
            Err(_) => Err(e),
        },
    }
}

fn is_missing(e: &iceberg::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TableNotFound | ErrorKind::NamespaceNotFound
    ) || e
        .to_string()
        .to_ascii_lowercase()
        .contains("does not exist")
        || e.to_string().to_ascii_lowercase().contains("not found")
}
