//! Compare-and-swap of a table's metadata pointer, for snapshots iceberg-rust's `Transaction`
//! cannot express (a `replace`). `TableCommit` cannot be built outside iceberg-rust, so
//! `Catalog::update_table` is out of reach; each catalog's own optimistic-concurrency primitive
//! is used instead, exactly as iceberg-rust's catalogs use it for their own commits — so a swap
//! here and a fast-append there race safely: whoever swaps second sees a conflict and retries.
//!
//! - SQL (SQLite / PostgreSQL, the JDBC/pyiceberg layout): `UPDATE iceberg_tables SET
//!   metadata_location = new WHERE ... AND metadata_location = old`.
//! - REST: `POST .../namespaces/{ns}/tables/{table}` with the updates and requirements; the server
//!   answers 409 on a conflict.
//! - Glue: `UpdateTable` with the `VersionId` read together with the metadata location.
//!
//! For SQL and Glue the new metadata file is written here (`<version+1>-<uuid>.metadata.json`,
//! as iceberg-rust names it) before the pointer moves; a swap that loses is cleaned up.

#[cfg(feature = "catalog-glue")]
use std::collections::HashMap;

use iceberg::table::Table;
use iceberg::{TableRequirement, TableUpdate};
#[cfg(feature = "catalog-sql")]
use sqlx::AnyPool;
// The pointer swap (SQL, Glue, S3 Tables) stages the next metadata file itself.
#[cfg(feature = "pointer-swap")]
use {
    iceberg::spec::TableMetadata,
    iceberg::{MetadataLocation, TableIdent},
    std::str::FromStr,
};

use crate::config::{CatalogConfig, CatalogKind};

#[cfg(not(any(
    feature = "catalog-sql",
    feature = "catalog-rest",
    feature = "catalog-glue",
    feature = "catalog-s3tables"
)))]
compile_error!("enable at least one catalog: features catalog-sql, catalog-rest, catalog-glue, catalog-s3tables");

#[cfg(feature = "catalog-rest")]
mod rest;
#[cfg(feature = "catalog-rest")]
pub use rest::RestSwap;

/// Why a swap did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    /// Another writer moved the table first (or a requirement no longer holds): reload and retry.
    #[error("{table} changed concurrently: {detail}")]
    Conflict {
        /// Table.
        table: String,
        /// What was found.
        detail: String,
    },
    /// Building or writing the new metadata failed.
    #[error("{table}: {source}")]
    Iceberg {
        /// Table.
        table: String,
        /// Cause.
        source: iceberg::Error,
    },
    /// The catalog could not be reached or refused the request.
    #[error("{table}: {kind} catalog: {message}")]
    Catalog {
        /// Table.
        table: String,
        /// `sql`, `rest` or `glue`.
        kind: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl SwapError {
    /// The catalog no longer points at `old`: another writer moved the table first.
    #[cfg(feature = "pointer-swap")]
    fn moved(ident: &TableIdent, old: &str) -> Self {
        Self::Conflict {
            table: ident.to_string(),
            detail: format!("metadata location is no longer {old}"),
        }
    }

    /// Whether reloading the table and trying again can succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// The pointer swap of the configured catalog.
#[derive(Debug)]
pub enum MetadataSwap {
    /// A SQL catalog (its own small pool on the catalog database).
    #[cfg(feature = "catalog-sql")]
    Sql {
        /// Pool on the catalog database.
        pool: AnyPool,
        /// The catalog name rows are keyed by.
        catalog_name: String,
        /// `$1` placeholders (PostgreSQL) rather than `?` (SQLite).
        numbered: bool,
    },
    /// A REST catalog.
    #[cfg(feature = "catalog-rest")]
    Rest(RestSwap),
    /// AWS Glue.
    #[cfg(feature = "catalog-glue")]
    Glue {
        /// Glue client.
        client: aws_sdk_glue::Client,
        /// Catalog (account) id, when not the caller's.
        catalog_id: Option<String>,
    },
    /// Amazon S3 Tables: `UpdateTableMetadataLocation` with the table's version token.
    #[cfg(feature = "catalog-s3tables")]
    S3Tables {
        /// S3 Tables client.
        client: aws_sdk_s3tables::Client,
        /// The table bucket's ARN (`FLOE_WAREHOUSE`).
        bucket_arn: String,
    },
}

impl MetadataSwap {
    /// Connects to the catalog named by `cfg`.
    pub async fn open(cfg: &CatalogConfig, region: &str) -> Result<Self, SwapError> {
        let _ = region; // the AWS catalogs and the REST credential read use it
        let fail = |kind, message: String| SwapError::Catalog {
            table: "-".into(),
            kind,
            message,
        };
        match cfg.kind {
            #[cfg(feature = "catalog-sql")]
            CatalogKind::Sql => {
                sqlx::any::install_default_drivers();
                let uri = crate::catalog::sql_uri(cfg.uri.as_deref().unwrap_or_default());
                let pool = sqlx::pool::PoolOptions::<sqlx::Any>::new()
                    .max_connections(2)
                    .connect(&uri)
                    .await
                    .map_err(|e| fail("sql", e.to_string()))?;
                Ok(Self::Sql {
                    pool,
                    catalog_name: cfg.name.clone(),
                    numbered: !uri.starts_with("sqlite:"),
                })
            }
            #[cfg(feature = "catalog-rest")]
            CatalogKind::Rest => {
                let credential = crate::catalog::rest_credential(cfg, region)
                    .await
                    .map_err(|e| fail("rest", e.to_string()))?;
                Ok(Self::Rest(
                    RestSwap::open(cfg, credential)
                        .await
                        .map_err(|m| fail("rest", m.to_string()))?,
                ))
            }
            #[cfg(feature = "catalog-glue")]
            CatalogKind::Glue => {
                let conf =
                    crate::config::aws_sdk_config(Some(region), cfg.glue_endpoint.as_deref()).await;
                Ok(Self::Glue {
                    client: aws_sdk_glue::Client::new(&conf),
                    catalog_id: cfg.glue_catalog_id.clone(),
                })
            }
            #[cfg(feature = "catalog-s3tables")]
            CatalogKind::S3Tables => {
                let conf =
                    crate::config::aws_sdk_config(Some(region), cfg.s3tables_endpoint.as_deref())
                        .await;
                Ok(Self::S3Tables {
                    client: aws_sdk_s3tables::Client::new(&conf),
                    bucket_arn: cfg.warehouse.clone(),
                })
            }
            #[allow(unreachable_patterns)]
            other => Err(fail(other.name(), crate::config::not_built(&other))),
        }
    }

    /// Moves `base`'s table to `base` + `updates` if the catalog still points at `base`'s
    /// metadata file and every requirement holds.
    pub async fn commit(
        &self,
        base: &Table,
        requirements: Vec<TableRequirement>,
        updates: Vec<TableUpdate>,
    ) -> Result<(), SwapError> {
        match self {
            #[cfg(feature = "catalog-rest")]
            Self::Rest(rest) => rest.commit(base.identifier(), requirements, updates).await,
            #[cfg(feature = "pointer-swap")]
            #[allow(unreachable_patterns)]
            _ => self.swap_pointer(base, requirements, updates).await,
        }
    }

    /// SQL, Glue and S3 Tables: the new metadata file is written, then the catalog's pointer is
    /// moved from the old file to it if it still points at the old one.
    #[cfg(feature = "pointer-swap")]
    async fn swap_pointer(
        &self,
        base: &Table,
        requirements: Vec<TableRequirement>,
        updates: Vec<TableUpdate>,
    ) -> Result<(), SwapError> {
        let table = base.identifier().to_string();
        let iceberg = |source| SwapError::Iceberg {
            table: table.clone(),
            source,
        };
        for r in &requirements {
            r.check(Some(base.metadata()))
                .map_err(|e| SwapError::Conflict {
                    table: table.clone(),
                    detail: e.to_string(),
                })?;
        }
        let old = base
            .metadata_location_result()
            .map_err(iceberg)?
            .to_string();
        let (new_metadata, new) = stage(base.metadata(), &old, updates).map_err(iceberg)?;
        new_metadata
            .write_to(base.file_io(), &new)
            .await
            .map_err(iceberg)?;
        let new = new.to_string();
        let swapped = match self {
            #[cfg(feature = "catalog-sql")]
            Self::Sql {
                pool,
                catalog_name,
                numbered,
            } => sql_swap(pool, catalog_name, *numbered, base.identifier(), &old, &new).await,
            #[cfg(feature = "catalog-glue")]
            Self::Glue { client, catalog_id } => {
                glue_swap(client, catalog_id.as_deref(), base.identifier(), &old, &new).await
            }
            #[cfg(feature = "catalog-s3tables")]
            Self::S3Tables { client, bucket_arn } => {
                s3tables_swap(client, bucket_arn, base.identifier(), &old, &new).await
            }
            #[cfg(feature = "catalog-rest")]
            Self::Rest(_) => unreachable!("REST commits through its own endpoint"),
        };
        if swapped.is_err() {
            // Nobody points at the staged file: remove it rather than leave an orphan.
            let _ = base.file_io().delete(&new).await;
        }
        swapped
    }
}

#[cfg(feature = "pointer-swap")]
/// Applies `updates` to `base`, returning the new metadata and where to write it.
fn stage(
    base: &TableMetadata,
    location: &str,
    updates: Vec<TableUpdate>,
) -> Result<(TableMetadata, MetadataLocation), iceberg::Error> {
    let mut builder = base.clone().into_builder(Some(location.to_string()));
    for u in updates {
        builder = u.apply(builder)?;
    }
    let metadata = builder.build()?.metadata;
    let next = MetadataLocation::from_str(location)?
        .with_next_version()
        .with_new_metadata(&metadata);
    Ok((metadata, next))
}

#[cfg(feature = "catalog-sql")]
async fn sql_swap(
    pool: &AnyPool,
    catalog_name: &str,
    numbered: bool,
    ident: &TableIdent,
    old: &str,
    new: &str,
) -> Result<(), SwapError> {
    let p = |n: usize| {
        if numbered {
            format!("${n}")
        } else {
            "?".into()
        }
    };
    // The same statement iceberg-catalog-sql issues for its own commits.
    let sql = format!(
        "UPDATE iceberg_tables SET metadata_location = {}, previous_metadata_location = {} \
         WHERE catalog_name = {} AND table_name = {} AND table_namespace = {} \
         AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL) AND metadata_location = {}",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6)
    );
    let done = sqlx::query(&sql)
        .bind(new)
        .bind(old)
        .bind(catalog_name)
        .bind(ident.name())
        .bind(ident.namespace().join("."))
        .bind(old)
        .execute(pool)
        .await
        .map_err(|e| SwapError::Catalog {
            table: ident.to_string(),
            kind: "sql",
            message: e.to_string(),
        })?;
    if done.rows_affected() == 0 {
        return Err(SwapError::moved(ident, old));
    }
    Ok(())
}

#[cfg(feature = "catalog-glue")]
async fn glue_swap(
    client: &aws_sdk_glue::Client,
    catalog_id: Option<&str>,
    ident: &TableIdent,
    old: &str,
    new: &str,
) -> Result<(), SwapError> {
    use aws_sdk_glue::types::TableInput;
    let fail = |message: String| SwapError::Catalog {
        table: ident.to_string(),
        kind: "glue",
        message,
    };
    let database = ident.namespace().join(".");
    let current = client
        .get_table()
        .set_catalog_id(catalog_id.map(String::from))
        .database_name(&database)
        .name(ident.name())
        .send()
        .await
        .map_err(|e| fail(format!("GetTable: {}", e.into_service_error())))?;
    let glue_table = current
        .table
        .ok_or_else(|| fail("GetTable returned no table".into()))?;
    let mut params: HashMap<String, String> = glue_table.parameters.clone().unwrap_or_default();
    if params.get("metadata_location").map(String::as_str) != Some(old) {
        return Err(SwapError::moved(ident, old));
    }
    params.insert("metadata_location".into(), new.into());
    params.insert("previous_metadata_location".into(), old.into());
    // Same schema, same storage descriptor: only the pointer moves.
    let input = TableInput::builder()
        .name(ident.name())
        .set_description(glue_table.description.clone())
        .set_table_type(glue_table.table_type.clone())
        .set_storage_descriptor(glue_table.storage_descriptor.clone())
        .set_parameters(Some(params))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    client
        .update_table()
        .set_catalog_id(catalog_id.map(String::from))
        .database_name(&database)
        .table_input(input)
        .set_version_id(glue_table.version_id.clone())
        .skip_archive(true)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            aws_sdk_glue::operation::update_table::UpdateTableError::ConcurrentModificationException(m) => {
                SwapError::Conflict {
                    table: ident.to_string(),
                    detail: m.to_string(),
                }
            }
            other => fail(format!("UpdateTable: {other}")),
        })?;
    Ok(())
}

#[cfg(feature = "catalog-s3tables")]
async fn s3tables_swap(
    client: &aws_sdk_s3tables::Client,
    bucket_arn: &str,
    ident: &TableIdent,
    old: &str,
    new: &str,
) -> Result<(), SwapError> {
    let fail = |message: String| SwapError::Catalog {
        table: ident.to_string(),
        kind: "s3tables",
        message,
    };
    let namespace = ident.namespace().to_url_string();
    let current = client
        .get_table_metadata_location()
        .table_bucket_arn(bucket_arn)
        .namespace(&namespace)
        .name(ident.name())
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "GetTableMetadataLocation: {}",
                e.into_service_error()
            ))
        })?;
    if current.metadata_location() != Some(old) {
        return Err(SwapError::moved(ident, old));
    }
    client
        .update_table_metadata_location()
        .table_bucket_arn(bucket_arn)
        .namespace(&namespace)
        .name(ident.name())
        .version_token(current.version_token())
        .metadata_location(new)
        .send()
        .await
        .map_err(|e| match e.into_service_error() {
            aws_sdk_s3tables::operation::update_table_metadata_location::UpdateTableMetadataLocationError::ConflictException(m) => {
                SwapError::Conflict {
                    table: ident.to_string(),
                    detail: m.to_string(),
                }
            }
            other => fail(format!("UpdateTableMetadataLocation: {other}")),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_metadata_file_is_one_version_up() {
        let loc = "s3://w/db/t/metadata/00007-0190e4a2-1c2b-7d3e-8f40-123456789abc.metadata.json";
        let next = MetadataLocation::from_str(loc).unwrap().with_next_version();
        assert!(next.to_string().starts_with("s3://w/db/t/metadata/00008-"));
    }
}
