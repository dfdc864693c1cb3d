//! An Iceberg catalog from [`CatalogConfig`]: SQL (SQLite / PostgreSQL), REST, Glue or S3 Tables, built with
//! iceberg-rust's own catalog crates. Table files go through a FileIO that carries the same S3
//! settings as the landing-bucket client ([`crate::storage::file_io_props`]).

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::io::{LocalFsStorageFactory, StorageFactory};
use iceberg::{Catalog, CatalogBuilder};
use iceberg_storage_opendal::OpenDalStorageFactory;

use crate::config::{CatalogConfig, CatalogKind, S3Config};
use crate::storage::file_io_props;

/// Any Iceberg catalog (re-exported so function crates need not depend on iceberg).
pub type DynCatalog = dyn Catalog;

/// Errors opening the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog could not be opened (bad URL, unreachable database or endpoint).
    #[error("cannot open the {kind} catalog at `{target}`: {source}")]
    Open {
        /// `sql`, `rest`, `glue` or `s3tables`.
        kind: &'static str,
        /// URI or warehouse that was tried.
        target: String,
        /// Underlying error.
        source: Box<iceberg::Error>,
    },
    /// The REST credential could not be read from Secrets Manager.
    #[error("cannot read the REST catalog credential from secret `{arn}`: {message}")]
    Secret {
        /// The secret's ARN (never its value).
        arn: String,
        /// Why.
        message: String,
    },
    /// `FLOE_CATALOG_TYPE` names a catalog this build leaves out (cargo features `catalog-*`).
    #[error("{0}")]
    NotBuilt(String),
    /// A SQLite catalog directory could not be created.
    #[error("cannot create directory for SQLite catalog `{path}`: {source}")]
    SqliteDir {
        /// Directory path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// Storage factory for a warehouse URL: local files for `file://`, S3 (opendal) otherwise.
fn storage_factory(warehouse: &str) -> Arc<dyn StorageFactory> {
    if warehouse.starts_with("file://") {
        Arc::new(LocalFsStorageFactory)
    } else {
        Arc::new(OpenDalStorageFactory::S3 {
            customized_credential_load: None,
        })
    }
}

/// The REST catalog's OAuth2 credential `id:secret`: `FLOE_CATALOG_CREDENTIAL`, or the value of
/// the Secrets Manager secret `FLOE_CATALOG_CREDENTIAL_SECRET_ARN` names (read once, at start-up;
/// the secret string is the credential itself). Errors name the secret, never its value.
#[cfg(feature = "catalog-rest")]
pub async fn rest_credential(
    cfg: &CatalogConfig,
    region: &str,
) -> Result<Option<String>, CatalogError> {
    let Some(arn) = &cfg.credential_secret_arn else {
        return Ok(cfg.credential.clone());
    };
    let fail = |message: String| CatalogError::Secret {
        arn: arn.clone(),
        message,
    };
    let conf =
        crate::config::aws_sdk_config(Some(region), cfg.secretsmanager_endpoint.as_deref()).await;
    let client = aws_sdk_secretsmanager::Client::new(&conf);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    let value = out
        .secret_string()
        .ok_or_else(|| fail("the secret has no string value".into()))?;
    if !value.contains(':') {
        return Err(fail(
            "the secret's value is not an `id:secret` client credential".into(),
        ));
    }
    Ok(Some(value.trim().to_string()))
}

/// Without the REST catalog, a credential secret cannot be read (nor used).
#[cfg(not(feature = "catalog-rest"))]
pub async fn rest_credential(
    cfg: &CatalogConfig,
    _region: &str,
) -> Result<Option<String>, CatalogError> {
    match &cfg.credential_secret_arn {
        None => Ok(cfg.credential.clone()),
        Some(arn) => Err(CatalogError::Secret {
            arn: arn.clone(),
            message: crate::config::not_built(&CatalogKind::Rest),
        }),
    }
}

/// `cfg` with its REST credential already read from Secrets Manager (when it names a secret), so
/// the clients one start-up builds from it (catalog and compare-and-swap) share a single read.
pub async fn with_resolved_credential(
    cfg: &CatalogConfig,
    region: &str,
) -> Result<CatalogConfig, CatalogError> {
    let mut resolved = cfg.clone();
    resolved.credential = rest_credential(cfg, region).await?;
    resolved.credential_secret_arn = None;
    Ok(resolved)
}

/// Opens the configured catalog.
pub async fn open_catalog(
    cfg: &CatalogConfig,
    s3: &S3Config,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    let mut props: HashMap<String, String> = file_io_props(s3);
    props.insert("warehouse".into(), cfg.warehouse.clone());
    let factory = storage_factory(&cfg.warehouse);
    match cfg.kind {
        #[cfg(feature = "catalog-sql")]
        CatalogKind::Sql => open_sql(cfg, props, factory).await,
        #[cfg(feature = "catalog-rest")]
        CatalogKind::Rest => open_rest(cfg, s3, props, factory).await,
        #[cfg(feature = "catalog-glue")]
        CatalogKind::Glue => open_glue(cfg, s3, props, factory).await,
        #[cfg(feature = "catalog-s3tables")]
        CatalogKind::S3Tables => open_s3tables(cfg, props, factory).await,
        #[allow(unreachable_patterns)]
        other => {
            let _ = (props, factory);
            Err(CatalogError::NotBuilt(crate::config::not_built(&other)))
        }
    }
}

#[cfg(feature = "catalog-sql")]
async fn open_sql(
    cfg: &CatalogConfig,
    mut props: HashMap<String, String>,
    factory: Arc<dyn StorageFactory>,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    let uri = cfg.uri.clone().unwrap_or_default();
    let sqlite = uri.starts_with("sqlite:");
    if sqlite {
        ensure_sqlite_dir(&uri)?;
    }
    props.insert("uri".into(), sql_uri(&uri));
    // SQLite wants `?` placeholders; PostgreSQL wants `$1` (the crate's default).
    props.insert(
        "sql_bind_style".into(),
        if sqlite { "QMark" } else { "DollarNumeric" }.into(),
    );
    let catalog = iceberg_catalog_sql::SqlCatalogBuilder::default()
        .with_storage_factory(factory)
        .load(&cfg.name, props)
        .await
        .map_err(|source| CatalogError::Open {
            kind: "sql",
            target: crate::config::redact_url(&uri),
            source: Box::new(source),
        })?;
    Ok(Arc::new(catalog))
}

#[cfg(feature = "catalog-rest")]
async fn open_rest(
    cfg: &CatalogConfig,
    s3: &S3Config,
    mut props: HashMap<String, String>,
    factory: Arc<dyn StorageFactory>,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    let uri = cfg.uri.clone().unwrap_or_default();
    props.insert("uri".into(), uri.clone());
    if let Some(c) = rest_credential(cfg, &s3.region).await? {
        props.insert("credential".into(), c);
    }
    let catalog = iceberg_catalog_rest::RestCatalogBuilder::default()
        .with_storage_factory(factory)
        .load(&cfg.name, props)
        .await
        .map_err(|source| CatalogError::Open {
            kind: "rest",
            target: crate::config::redact_url(&uri),
            source: Box::new(source),
        })?;
    if cfg.credential.is_some() || cfg.credential_secret_arn.is_some() {
        return Ok(Arc::new(crate::rest_token::RenewingRestCatalog::new(
            catalog,
            cfg.token_max_age,
        )));
    }
    Ok(Arc::new(catalog))
}

#[cfg(feature = "catalog-glue")]
async fn open_glue(
    cfg: &CatalogConfig,
    s3: &S3Config,
    mut props: HashMap<String, String>,
    factory: Arc<dyn StorageFactory>,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    props.insert("region_name".into(), s3.region.clone());
    if let Some(id) = &cfg.glue_catalog_id {
        props.insert("catalog_id".into(), id.clone());
    }
    if let Some(endpoint) = &cfg.glue_endpoint {
        props.insert("uri".into(), endpoint.clone());
    }
    let catalog = iceberg_catalog_glue::GlueCatalogBuilder::default()
        .with_storage_factory(factory)
        .load(&cfg.name, props)
        .await
        .map_err(|e| CatalogError::Open {
            kind: "glue",
            target: cfg.warehouse.clone(),
            source: Box::new(e),
        })?;
    Ok(Arc::new(catalog))
}

#[cfg(feature = "catalog-s3tables")]
async fn open_s3tables(
    cfg: &CatalogConfig,
    mut props: HashMap<String, String>,
    factory: Arc<dyn StorageFactory>,
) -> Result<Arc<dyn Catalog>, CatalogError> {
    // The warehouse is the table bucket's ARN; S3 Tables chooses each table's location.
    props.insert("table_bucket_arn".into(), cfg.warehouse.clone());
    if let Some(endpoint) = &cfg.s3tables_endpoint {
        props.insert("endpoint_url".into(), endpoint.clone());
    }
    let catalog = iceberg_catalog_s3tables::S3TablesCatalogBuilder::default()
        .with_storage_factory(factory)
        .load(&cfg.name, props)
        .await
        .map_err(|e| CatalogError::Open {
            kind: "s3tables",
            target: cfg.warehouse.clone(),
            source: Box::new(e),
        })?;
    Ok(Arc::new(catalog))
}

#[cfg(feature = "catalog-sql")]
/// The connection URL for a SQL catalog URI: SQLite URLs get `mode=rwc` so the catalog file is
/// created on first use.
pub(crate) fn sql_uri(uri: &str) -> String {
    if uri.starts_with("sqlite:") && !uri.contains("mode=") && !uri.contains(":memory:") {
        let sep = if uri.contains('?') { '&' } else { '?' };
        format!("{uri}{sep}mode=rwc")
    } else {
        uri.to_string()
    }
}

#[cfg(feature = "catalog-sql")]
fn ensure_sqlite_dir(uri: &str) -> Result<(), CatalogError> {
    let path = uri
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| CatalogError::SqliteDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(all(test, feature = "catalog-sql"))]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_once() {
        assert_eq!(sql_uri("sqlite:///tmp/c.db"), "sqlite:///tmp/c.db?mode=rwc");
        assert_eq!(
            sql_uri("sqlite:///tmp/c.db?mode=ro"),
            "sqlite:///tmp/c.db?mode=ro"
        );
        assert_eq!(sql_uri("postgres://h/db"), "postgres://h/db");
    }
}
