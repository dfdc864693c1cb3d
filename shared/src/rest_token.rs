//! A REST catalog whose OAuth2 token is renewed in long-lived processes. iceberg-catalog-rest
//! fetches a client-credentials token once and keeps it; a warm Lambda container outlives it
//! (SeaweedFS and many servers issue 1-hour tokens), after which every call fails. This wrapper
//! drops the token once it is older than `max_age`, so the next call fetches a new one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use iceberg::table::Table;
use iceberg::{Catalog, Namespace, NamespaceIdent, Result, TableCommit, TableCreation, TableIdent};
use iceberg_catalog_rest::RestCatalog;

/// [`RestCatalog`] with its token renewed after `max_age`.
#[derive(Debug)]
pub(crate) struct RenewingRestCatalog {
    inner: RestCatalog,
    max_age: Duration,
    fetched: Mutex<Instant>,
}

impl RenewingRestCatalog {
    pub(crate) fn new(inner: RestCatalog, max_age: Duration) -> Self {
        Self {
            inner,
            max_age,
            fetched: Mutex::new(Instant::now()),
        }
    }

    /// Invalidates the token when it is due; the catalog fetches a new one on its next request.
    async fn renew_if_due(&self) -> Result<()> {
        let due = {
            let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
            if fetched.elapsed() >= self.max_age {
                *fetched = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            tracing::debug!("renewing the REST catalog token");
            self.inner.invalidate_token().await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Catalog for RenewingRestCatalog {
    async fn list_namespaces(
        &self,
        parent: Option<&NamespaceIdent>,
    ) -> Result<Vec<NamespaceIdent>> {
        self.renew_if_due().await?;
        self.inner.list_namespaces(parent).await
    }
    async fn create_namespace(
        &self,
        namespace: &NamespaceIdent,
        properties: HashMap<String, String>,
    ) -> Result<Namespace> {
        self.renew_if_due().await?;
        self.inner.create_namespace(namespace, properties).await
    }
    async fn get_namespace(&self, namespace: &NamespaceIdent) -> Result<Namespace> {
        self.renew_if_due().await?;
        self.inner.get_namespace(namespace).await
    }
    async fn namespace_exists(&self, namespace: &NamespaceIdent) -> Result<bool> {
        self.renew_if_due().await?;
        self.inner.namespace_exists(namespace).await
    }
    async fn update_namespace(
        &self,
        namespace: &NamespaceIdent,
        properties: HashMap<String, String>,
    ) -> Result<()> {
        self.renew_if_due().await?;
        self.inner.update_namespace(namespace, properties).await
    }
    async fn drop_namespace(&self, namespace: &NamespaceIdent) -> Result<()> {
        self.renew_if_due().await?;
        self.inner.drop_namespace(namespace).await
    }
    async fn list_tables(&self, namespace: &NamespaceIdent) -> Result<Vec<TableIdent>> {
        self.renew_if_due().await?;
        self.inner.list_tables(namespace).await
    }
    async fn create_table(
        &self,
        namespace: &NamespaceIdent,
        creation: TableCreation,
    ) -> Result<Table> {
        self.renew_if_due().await?;
        self.inner.create_table(namespace, creation).await
    }
    async fn load_table(&self, table: &TableIdent) -> Result<Table> {
        self.renew_if_due().await?;
        self.inner.load_table(table).await
    }
    async fn drop_table(&self, table: &TableIdent) -> Result<()> {
        self.renew_if_due().await?;
        self.inner.drop_table(table).await
    }
    async fn purge_table(&self, table: &TableIdent) -> Result<()> {
        self.renew_if_due().await?;
        self.inner.purge_table(table).await
    }
    async fn table_exists(&self, table: &TableIdent) -> Result<bool> {
        self.renew_if_due().await?;
        self.inner.table_exists(table).await
    }
    async fn rename_table(&self, src: &TableIdent, dest: &TableIdent) -> Result<()> {
        self.renew_if_due().await?;
        self.inner.rename_table(src, dest).await
    }
    async fn register_table(&self, table: &TableIdent, metadata_location: String) -> Result<Table> {
        self.renew_if_due().await?;
        self.inner.register_table(table, metadata_location).await
    }
    async fn update_table(&self, commit: TableCommit) -> Result<Table> {
        self.renew_if_due().await?;
        self.inner.update_table(commit).await
    }
}
