//! Table specs as the pipeline uses them: loaded from a directory or an `s3://` prefix, checked
//! all the way down (column rules and SQL rules compile against the table schema, so a bad spec
//! fails at init, not per object), and routed by bucket and longest key prefix.

use std::collections::HashMap;

use crate::spec::{SpecError, TableSpec};
use crate::storage::Stores;

/// Parses one spec file and checks that its column rules and SQL rules compile.
pub fn load_spec(
    text: &str,
    location: &str,
    default_namespace: &str,
) -> Result<TableSpec, SpecError> {
    let spec = TableSpec::from_toml(text, location, default_namespace)?;
    let contract = |source: Box<dyn std::error::Error + Send + Sync>| SpecError::Contract {
        location: location.to_string(),
        source,
    };
    // Compile the column contracts and SQL rules against the spec's own schema, for their errors.
    let arrow =
        iceberg::arrow::schema_to_arrow_schema(&spec.schema).map_err(|e| contract(Box::new(e)))?;
    crate::contract::CompiledContract::compile(std::sync::Arc::new(arrow), &spec)
        .map_err(|e| contract(Box::new(e)))?;
    Ok(spec)
}

/// The routing error for an object no table claims.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("no table spec routes s3://{bucket}/{key}: its key matches none of the configured prefixes ({prefixes})")]
pub struct NoRoute {
    /// Bucket of the object.
    pub bucket: String,
    /// Key of the object.
    pub key: String,
    /// The prefixes that exist, for the message.
    pub prefixes: String,
}

/// All table specs, and the routing of object keys to them.
#[derive(Debug, Clone)]
pub struct TableRouter {
    specs: Vec<TableSpec>,
}

impl TableRouter {
    /// Builds a router; refuses two specs that claim the same bucket/prefix or the same table.
    pub fn new(specs: Vec<TableSpec>) -> Result<Self, SpecError> {
        let mut claims: HashMap<(String, String), String> = HashMap::new();
        let mut tables = std::collections::HashSet::new();
        for s in &specs {
            if !tables.insert(s.ident.to_string()) {
                return Err(SpecError::Invalid {
                    location: s.ident.to_string(),
                    message: "two spec files define this table".into(),
                });
            }
            let buckets = if s.buckets.is_empty() {
                vec![String::new()]
            } else {
                s.buckets.clone()
            };
            for b in buckets {
                for p in &s.prefixes {
                    if let Some(other) = claims.insert((b.clone(), p.clone()), s.ident.to_string())
                    {
                        return Err(SpecError::Invalid {
                            location: s.ident.to_string(),
                            message: format!("prefix `{p}` is also routed to table {other}"),
                        });
                    }
                }
            }
        }
        Ok(Self { specs })
    }

    /// The specs, in load order.
    pub fn specs(&self) -> &[TableSpec] {
        &self.specs
    }

    /// The spec with the longest prefix matching the object key.
    pub fn route(&self, bucket: &str, key: &str) -> Result<&TableSpec, NoRoute> {
        self.specs
            .iter()
            .filter_map(|s| s.matches(bucket, key).map(|len| (len, s)))
            .max_by_key(|(len, _)| *len)
            .map(|(_, s)| s)
            .ok_or_else(|| NoRoute {
                bucket: bucket.to_string(),
                key: key.to_string(),
                prefixes: self
                    .specs
                    .iter()
                    .flat_map(|s| s.prefixes.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Loads every `*.toml` spec under a local directory/file or an `s3://` prefix.
    pub async fn load(
        location: &str,
        stores: &Stores,
        default_namespace: &str,
    ) -> Result<Self, SpecError> {
        let mut texts = Vec::new();
        if location.starts_with("s3://") {
            use futures::TryStreamExt;
            use object_store::ObjectStoreExt;
            let (store, prefix) = stores.for_url(location)?;
            let read_err = |e: object_store::Error| SpecError::Read {
                location: location.to_string(),
                message: e.to_string(),
            };
            let mut metas: Vec<_> = store
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(read_err)?;
            metas.sort_by(|a, b| a.location.cmp(&b.location));
            for m in metas
                .into_iter()
                .filter(|m| m.location.as_ref().ends_with(".toml"))
            {
                let bytes = store
                    .get(&m.location)
                    .await
                    .map_err(read_err)?
                    .bytes()
                    .await
                    .map_err(read_err)?;
                let url = format!("{}/{}", location.trim_end_matches('/'), m.location);
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| SpecError::Read {
                    location: url.clone(),
                    message: "not UTF-8".into(),
                })?;
                texts.push((url, text));
            }
        } else {
            let path = std::path::Path::new(location);
            let read_err = |p: &std::path::Path, e: std::io::Error| SpecError::Read {
                location: p.display().to_string(),
                message: e.to_string(),
            };
            let mut files = if path.is_dir() {
                std::fs::read_dir(path)
                    .map_err(|e| read_err(path, e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect::<Vec<_>>()
            } else {
                vec![path.to_path_buf()]
            };
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|e| read_err(&f, e))?;
                texts.push((f.display().to_string(), text));
            }
        }
        if texts.is_empty() {
            return Err(SpecError::Read {
                location: location.to_string(),
                message: "no *.toml table specs found".into(),
            });
        }
        let specs = texts
            .iter()
            .map(|(loc, text)| load_spec(text, loc, default_namespace))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(specs)
    }
}
