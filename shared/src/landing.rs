//! Landing-object reads with aws-sdk-s3: the key goes to S3 byte for byte (object_store's `Path`
//! re-encodes keys with `%`, `#`, `//`, control characters and more, so S3 would be asked for
//! another object), and every read is pinned to the object version the event named — the
//! `versionId` when it has one, else `If-Match` on its ETag. A key overwritten between the event
//! and the read is therefore never read under the old version's idempotency key: the read fails
//! as [`LandingError::Superseded`], a non-retryable outcome (the newer version has its own event).
//!
//! Why aws-sdk-s3 and not object_store here: object_store has no way to send an arbitrary key
//! unchanged, and the SDK's GetObject/HeadObject/CopyObject carry version ids and conditions
//! directly. Table files (whose names Floe and Iceberg choose) stay on object_store / FileIO.

use std::ops::Range;
use std::sync::Arc;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use sha2::{Digest, Sha256};

use crate::config::S3Config;
use crate::source::{normalize_etag, ObjectRef};

/// Errors reading a landing object.
#[derive(Debug, thiserror::Error)]
pub enum LandingError {
    /// The key now holds another version than the event named (overwritten or deleted since).
    #[error("{object}: superseded: the object changed after its event ({detail}); the newer version is ingested by its own event")]
    Superseded {
        /// The object.
        object: String,
        /// What S3 answered.
        detail: String,
    },
    /// The object (or the version) does not exist.
    #[error("{object}: not found ({detail})")]
    NotFound {
        /// The object.
        object: String,
        /// What S3 answered.
        detail: String,
    },
    /// Any other failure (network, throttling, permissions): may pass on retry.
    #[error("{object}: cannot read object: {detail}")]
    Other {
        /// The object.
        object: String,
        /// What went wrong.
        detail: String,
    },
}

impl LandingError {
    /// Whether retrying could succeed: a superseded or missing version never comes back.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Other { .. })
    }

    /// Short code for reports and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Superseded { .. } => "superseded",
            Self::NotFound { .. } => "not_found",
            Self::Other { .. } => "read_failed",
        }
    }
}

/// What a HEAD of the pinned version returned.
#[derive(Debug, Clone)]
pub struct LandingMeta {
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: Option<String>,
    /// Version id, on versioned buckets.
    pub version_id: Option<String>,
    /// Content-Encoding header.
    pub content_encoding: Option<String>,
}

/// A body stream of a landing object.
pub struct LandingBody {
    /// The bytes.
    pub body: ByteStream,
    /// Content-Encoding header.
    pub content_encoding: Option<String>,
}

/// The landing objects' store: S3 through aws-sdk-s3 in every deployment, or an in-memory
/// object store for fast tests of the whole pipeline (no server; keys are `bucket/key`).
#[derive(Debug, Clone)]
pub struct Landing {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    S3(aws_sdk_s3::Client),
    Memory(Arc<dyn object_store::ObjectStore>),
}

impl Landing {
    /// A client for the same endpoint, region, credentials and addressing as the object stores.
    pub async fn new(s3: &S3Config) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(s3.region.clone()));
        if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                id,
                secret,
                s3.session_token.clone(),
                None,
                "floe-config",
            ));
        }
        let shared = loader.load().await;
        let mut conf = aws_sdk_s3::config::Builder::from(&shared).force_path_style(s3.path_style);
        if let Some(e) = &s3.endpoint {
            conf = conf.endpoint_url(e);
        }
        Self {
            backend: Backend::S3(aws_sdk_s3::Client::from_conf(conf.build())),
        }
    }

    /// Landing objects in `store` (e.g. object_store's `InMemory`), at `bucket/key`: the seam for
    /// tests that run the pipeline without an S3 server. Versions are the store's ETags.
    pub fn in_store(store: Arc<dyn object_store::ObjectStore>) -> Self {
        Self {
            backend: Backend::Memory(store),
        }
    }

    /// The SDK client (for callers that need other S3 calls on landing buckets); `None` for an
    /// in-store landing.
    pub fn client(&self) -> Option<&aws_sdk_s3::Client> {
        match &self.backend {
            Backend::S3(c) => Some(c),
            Backend::Memory(_) => None,
        }
    }

    /// HEAD of the version `object` names (or the current one when it names none).
    pub async fn head(&self, object: &ObjectRef) -> Result<LandingMeta, LandingError> {
        let client = match &self.backend {
            Backend::S3(c) => c,
            Backend::Memory(store) => return memory::head(store, object).await,
        };
        let mut req = client.head_object().bucket(&object.bucket).key(&object.key);
        req = match (&object.version_id, &object.etag) {
            (Some(v), _) => req.version_id(v),
            (None, Some(e)) => req.if_match(quoted(e)),
            (None, None) => req,
        };
        let out = req.send().await.map_err(|e| classify(object, e))?;
        Ok(LandingMeta {
            size: out.content_length().unwrap_or(0).max(0) as u64,
            etag: out.e_tag().map(normalize_etag),
            version_id: out
                .version_id()
                .filter(|v| !v.is_empty() && *v != "null")
                .map(str::to_string),
            content_encoding: out.content_encoding().map(str::to_string),
        })
    }

    /// GET of the pinned version, whole or a byte range.
    pub async fn get(
        &self,
        object: &ObjectRef,
        range: Option<Range<u64>>,
    ) -> Result<LandingBody, LandingError> {
        let client = match &self.backend {
            Backend::S3(c) => c,
            Backend::Memory(store) => return memory::get(store, object, range).await,
        };
        let mut req = client.get_object().bucket(&object.bucket).key(&object.key);
        req = match (&object.version_id, &object.etag) {
            (Some(v), _) => req.version_id(v),
            (None, Some(e)) => req.if_match(quoted(e)),
            (None, None) => req,
        };
        if let Some(r) = range {
            if r.is_empty() {
                return Ok(LandingBody {
                    body: ByteStream::from_static(b""),
                    content_encoding: None,
                });
            }
            req = req.range(format!("bytes={}-{}", r.start, r.end - 1));
        }
        let out = req.send().await.map_err(|e| classify(object, e))?;
        Ok(LandingBody {
            content_encoding: out.content_encoding().map(str::to_string),
            body: out.body,
        })
    }

    /// Bytes of a range of the pinned version.
    pub async fn get_range(
        &self,
        object: &ObjectRef,
        range: Range<u64>,
    ) -> Result<Bytes, LandingError> {
        let body = self.get(object, Some(range)).await?;
        body.body
            .collect()
            .await
            .map(|b| b.into_bytes())
            .map_err(|e| LandingError::Other {
                object: object.url(),
                detail: e.to_string(),
            })
    }

    /// Server-side copy of the pinned version to `dest_bucket`/`dest_key`.
    pub async fn copy(
        &self,
        object: &ObjectRef,
        dest_bucket: &str,
        dest_key: &str,
    ) -> Result<(), LandingError> {
        let mut source = format!("{}/{}", object.bucket, encode_copy_key(&object.key));
        if let Some(v) = &object.version_id {
            source.push_str("?versionId=");
            source.push_str(&encode_copy_key(v));
        }
        let client = match &self.backend {
            Backend::S3(c) => c,
            Backend::Memory(store) => {
                return memory::copy(store, object, dest_bucket, dest_key).await
            }
        };
        let mut req = client
            .copy_object()
            .copy_source(source)
            .bucket(dest_bucket)
            .key(dest_key);
        if object.version_id.is_none() {
            if let Some(e) = &object.etag {
                req = req.copy_source_if_match(quoted(e));
            }
        }
        req.send().await.map_err(|e| classify(object, e))?;
        Ok(())
    }
}

/// The in-store backend: the same pinning (If-Match on the ETag) through object_store.
mod memory {
    use std::ops::Range;
    use std::sync::Arc;

    use aws_sdk_s3::primitives::ByteStream;
    use object_store::path::Path;
    use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

    use super::{LandingBody, LandingError, LandingMeta};
    use crate::source::{normalize_etag, ObjectRef};

    fn path(bucket: &str, key: &str) -> Path {
        Path::from(format!("{bucket}/{key}"))
    }

    fn error(object: &ObjectRef, e: object_store::Error) -> LandingError {
        let (object, detail) = (object.url(), e.to_string());
        match e {
            object_store::Error::NotFound { .. } => LandingError::NotFound { object, detail },
            object_store::Error::Precondition { .. } => LandingError::Superseded { object, detail },
            _ => LandingError::Other { object, detail },
        }
    }

    fn pinned(object: &ObjectRef, range: Option<Range<u64>>) -> GetOptions {
        GetOptions {
            if_match: object.etag.clone(),
            range: range.map(GetRange::Bounded),
            ..Default::default()
        }
    }

    pub(super) async fn head(
        store: &Arc<dyn ObjectStore>,
        object: &ObjectRef,
    ) -> Result<LandingMeta, LandingError> {
        let mut opts = pinned(object, None);
        opts.head = true;
        let meta = store
            .get_opts(&path(&object.bucket, &object.key), opts)
            .await
            .map_err(|e| error(object, e))?
            .meta;
        Ok(LandingMeta {
            size: meta.size,
            etag: meta.e_tag.as_deref().map(normalize_etag),
            version_id: None,
            content_encoding: None,
        })
    }

    pub(super) async fn get(
        store: &Arc<dyn ObjectStore>,
        object: &ObjectRef,
        range: Option<Range<u64>>,
    ) -> Result<LandingBody, LandingError> {
        if range.as_ref().is_some_and(|r| r.is_empty()) {
            return Ok(LandingBody {
                body: ByteStream::from_static(b""),
                content_encoding: None,
            });
        }
        let bytes = store
            .get_opts(&path(&object.bucket, &object.key), pinned(object, range))
            .await
            .map_err(|e| error(object, e))?
            .bytes()
            .await
            .map_err(|e| error(object, e))?;
        Ok(LandingBody {
            body: ByteStream::from(bytes),
            content_encoding: None,
        })
    }

    pub(super) async fn copy(
        store: &Arc<dyn ObjectStore>,
        object: &ObjectRef,
        dest_bucket: &str,
        dest_key: &str,
    ) -> Result<(), LandingError> {
        head(store, object).await?;
        store
            .copy(
                &path(&object.bucket, &object.key),
                &path(dest_bucket, dest_key),
            )
            .await
            .map_err(|e| error(object, e))
    }
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Percent-encodes a key for `x-amz-copy-source` (every byte but unreserved ones and `/`).
fn encode_copy_key(key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(key, SET).to_string()
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    object: &ObjectRef,
    e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> LandingError {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().map(str::to_string);
    let detail = match (&code, status) {
        (Some(c), Some(s)) => format!("{c} (HTTP {s})"),
        (None, Some(s)) => format!("HTTP {s}"),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    };
    let object = object.url();
    match (status, code.as_deref()) {
        (Some(412), _) | (_, Some("PreconditionFailed")) => {
            LandingError::Superseded { object, detail }
        }
        (Some(404), _) | (_, Some("NoSuchKey" | "NoSuchVersion" | "NotFound")) => {
            LandingError::NotFound { object, detail }
        }
        // An invalid version id is answered 400 InvalidArgument: it will not become valid.
        (_, Some("InvalidArgument")) => LandingError::NotFound { object, detail },
        _ => LandingError::Other { object, detail },
    }
}

/// The key under which an object is copied to quarantine: `prefix/bucket/key` when that fits S3's
/// 1,024-byte key limit, else `prefix/bucket/_long/<sha256 of the key>` plus the key's last
/// extension (so the copy keeps its format hint). The full key is in the quarantine table.
pub fn quarantine_key(prefix: &str, object: &ObjectRef) -> String {
    let prefix = prefix.trim_matches('/');
    let join = |rest: &str| {
        if prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{prefix}/{rest}")
        }
    };
    let full = join(&format!("{}/{}", object.bucket, object.key));
    if full.len() <= 1024 {
        return full;
    }
    let digest: String = Sha256::digest(object.key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ext: String = object
        .key
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 16 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    join(&format!("{}/_long/{digest}{ext}", object.bucket))
}

/// A Parquet reader over pinned ranged GETs of a landing object.
pub struct LandingParquetReader {
    landing: Arc<Landing>,
    object: ObjectRef,
    size: u64,
}

impl LandingParquetReader {
    /// A reader for `object` (its size known from the event or a HEAD).
    pub fn new(landing: Arc<Landing>, object: ObjectRef, size: u64) -> Self {
        Self {
            landing,
            object,
            size,
        }
    }
}

fn parquet_err(e: LandingError) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(e))
}

impl parquet::arrow::async_reader::AsyncFileReader for LandingParquetReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        let landing = self.landing.clone();
        let object = self.object.clone();
        async move { landing.get_range(&object, range).await.map_err(parquet_err) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a parquet::arrow::arrow_reader::ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<parquet::file::metadata::ParquetMetaData>>> {
        Box::pin(async move {
            let size = self.size;
            let metadata_opts = options.map(|o| o.metadata_options().clone());
            let reader = parquet::file::metadata::ParquetMetaDataReader::new()
                .with_metadata_options(metadata_opts)
                .with_prefetch_hint(Some(64 * 1024));
            let meta = reader.load_and_finish(self, size).await?;
            Ok(Arc::new(meta))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_keys_fit_s3_and_hash_long_keys() {
        let o = ObjectRef::new("landing", "orders/ü #%.csv");
        assert_eq!(
            quarantine_key("/_floe_quarantine/", &o),
            "_floe_quarantine/landing/orders/ü #%.csv"
        );
        let long = ObjectRef::new("landing", format!("orders/{}.csv.gz", "x".repeat(1015)));
        let k = quarantine_key("_floe_quarantine", &long);
        assert!(k.len() <= 1024, "{}", k.len());
        assert!(k.starts_with("_floe_quarantine/landing/_long/") && k.ends_with(".gz"));
        // Distinct keys map to distinct copies.
        let other = ObjectRef::new("landing", format!("orders/{}.csv.gz", "y".repeat(1015)));
        assert_ne!(k, quarantine_key("_floe_quarantine", &other));
    }

    #[test]
    fn copy_source_keys_are_fully_encoded() {
        assert_eq!(
            encode_copy_key("a b/ü?#%+.csv"),
            "a%20b/%C3%BC%3F%23%25%2B.csv"
        );
    }
}
