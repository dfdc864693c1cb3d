//! Object storage: the one place that builds object_store clients and Iceberg FileIO properties
//! from [`S3Config`], so landing objects and table files reach the same S3 endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;

use crate::config::S3Config;

/// Errors building a store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The S3 client for a bucket could not be built.
    #[error("cannot build S3 client for bucket `{bucket}`: {source}")]
    Build {
        /// Bucket name.
        bucket: String,
        /// Underlying error.
        source: object_store::Error,
    },
    /// A URL that is neither `s3://` nor `file://`.
    #[error("unsupported storage URL `{0}`: use s3://bucket/prefix or file:///path")]
    UnsupportedUrl(String),
}

/// Builds and caches one object_store client per bucket.
#[derive(Debug)]
pub struct Stores {
    s3: S3Config,
    by_bucket: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Stores {
    /// Creates an empty cache for the given S3 settings.
    pub fn new(s3: S3Config) -> Self {
        Self {
            s3,
            by_bucket: Mutex::new(HashMap::new()),
        }
    }

    /// The S3 settings the stores are built from.
    pub fn s3_config(&self) -> &S3Config {
        &self.s3
    }

    /// The client for `bucket`, built on first use.
    pub fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut cache = self.by_bucket.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = cache.get(bucket) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ObjectStore> = Arc::new(self.s3_builder(bucket).build().map_err(
            |source| StorageError::Build {
                bucket: bucket.to_string(),
                source,
            },
        )?);
        cache.insert(bucket.to_string(), store.clone());
        Ok(store)
    }

    /// A store and the path inside it for an `s3://bucket/key` or `file:///path` URL.
    pub fn for_url(
        &self,
        url: &str,
    ) -> Result<(Arc<dyn ObjectStore>, object_store::path::Path), StorageError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            Ok((self.bucket(bucket)?, object_store::path::Path::from(key)))
        } else if let Some(path) = url.strip_prefix("file://") {
            Ok((
                Arc::new(LocalFileSystem::new()),
                object_store::path::Path::from_filesystem_path(path)
                    .map_err(|_| StorageError::UnsupportedUrl(url.to_string()))?,
            ))
        } else {
            Err(StorageError::UnsupportedUrl(url.to_string()))
        }
    }

    fn s3_builder(&self, bucket: &str) -> AmazonS3Builder {
        let s3 = &self.s3;
        // from_env picks up the container credentials / web identity Lambda and ECS provide.
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&s3.region)
            .with_virtual_hosted_style_request(!s3.path_style)
            .with_allow_http(s3.allow_http());
        if let Some(e) = &s3.endpoint {
            b = b.with_endpoint(e);
        }
        if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        if let Some(t) = &s3.session_token {
            b = b.with_token(t);
        }
        b
    }
}

/// Iceberg FileIO properties (`s3.*`) for the same S3 settings.
pub fn file_io_props(s3: &S3Config) -> HashMap<String, String> {
    let mut p = HashMap::new();
    p.insert("s3.region".into(), s3.region.clone());
    p.insert("client.region".into(), s3.region.clone());
    p.insert("s3.path-style-access".into(), s3.path_style.to_string());
    if let Some(e) = &s3.endpoint {
        p.insert("s3.endpoint".into(), e.clone());
    }
    if let Some(v) = &s3.access_key_id {
        p.insert("s3.access-key-id".into(), v.clone());
    }
    if let Some(v) = &s3.secret_access_key {
        p.insert("s3.secret-access-key".into(), v.clone());
    }
    if let Some(v) = &s3.session_token {
        p.insert("s3.session-token".into(), v.clone());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_io_props_carry_endpoint_and_path_style() {
        let s3 = S3Config {
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: "eu-west-1".into(),
            path_style: true,
            ..Default::default()
        };
        let p = file_io_props(&s3);
        assert_eq!(p["s3.endpoint"], "http://127.0.0.1:9000");
        assert_eq!(p["s3.path-style-access"], "true");
        assert_eq!(p["s3.region"], "eu-west-1");
        assert!(!p.contains_key("s3.access-key-id"));
    }

    #[test]
    fn rejects_unknown_url_schemes() {
        let stores = Stores::new(S3Config::default());
        assert!(matches!(
            stores.for_url("gs://b/k"),
            Err(StorageError::UnsupportedUrl(_))
        ));
    }
}
