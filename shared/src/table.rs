//! Iceberg table access: load a spec's table, creating its namespace and the table from the
//! spec on first use (tolerating a concurrent creator).

use std::collections::HashMap;

use iceberg::table::Table;
use iceberg::{Catalog, ErrorKind, TableIdent};

use crate::spec::TableSpec;

/// Loads the table of `spec`, creating it (and its namespace) if it does not exist yet.
pub async fn load_or_create(
    catalog: &dyn Catalog,
    spec: &TableSpec,
) -> Result<Table, iceberg::Error> {
    match catalog.load_table(&spec.ident).await {
        Ok(t) => return Ok(t),
        Err(e) if !is_missing(catalog, &spec.ident, &e).await => return Err(e),
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

/// Whether `e`, from loading `ident`, means the table does not exist (rather than that the
/// catalog could not be reached). By error kind; catalogs that do not map their not-found error
/// to a kind are asked `table_exists`, and an error from that counts as "exists" (so the
/// original error is reported, never a table created over a network blip).
pub async fn is_missing(catalog: &dyn Catalog, ident: &TableIdent, e: &iceberg::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TableNotFound | ErrorKind::NamespaceNotFound
    ) || !catalog.table_exists(ident).await.unwrap_or(true)
}
