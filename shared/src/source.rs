//! The source object: which S3 object (and which version of it) an event is about, and the
//! idempotency key that recognises the same object version when an event is delivered again.

use serde::{Deserialize, Serialize};

/// One object to ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Object key, decoded (never URL-encoded).
    pub key: String,
    /// Version id when the bucket is versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// ETag without quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// S3 event sequencer (orders events of one key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    /// Size in bytes, when the event says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Content-Encoding, when known (gzip/zstd detection for keys without an extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// When S3 created the event (epoch ms), when the event says (logged; ingest-to-event
    /// latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time_ms: Option<i64>,
}

/// `s3://bucket/prefix` as (bucket, prefix); the prefix may be empty, the bucket may not.
pub fn split_s3_url(url: &str) -> Option<(&str, &str)> {
    url.strip_prefix("s3://")
        .map(|r| r.split_once('/').unwrap_or((r, "")))
        .filter(|(b, _)| !b.is_empty())
}

impl ObjectRef {
    /// An object by bucket and key only (identity filled in later from a HEAD request).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
            etag: None,
            sequencer: None,
            size: None,
            content_encoding: None,
            event_time_ms: None,
        }
    }

    /// `s3://bucket/key`, for messages.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// Whether the object version is pinned down (version id or ETag known).
    pub fn has_identity(&self) -> bool {
        self.version_id.is_some() || self.etag.is_some()
    }

    /// Key identifying this object version: the version id when the bucket is versioned, else the
    /// ETag. The same content written again under the same key is therefore the same version.
    pub fn idempotency_key(&self) -> String {
        match (&self.version_id, &self.etag) {
            (Some(v), _) => format!("{}#version={v}", self.url()),
            (None, Some(e)) => format!("{}#etag={e}", self.url()),
            (None, None) => format!(
                "{}#sequencer={}",
                self.url(),
                self.sequencer.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Strips the quotes S3 puts around ETags.
pub fn normalize_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_s3_urls_into_bucket_and_prefix() {
        assert_eq!(split_s3_url("s3://b/p/q/"), Some(("b", "p/q/")));
        assert_eq!(split_s3_url("s3://b"), Some(("b", "")));
        assert_eq!(split_s3_url("s3:///p"), None);
        assert_eq!(split_s3_url("file:///p"), None);
    }

    #[test]
    fn idempotency_key_prefers_version_then_etag() {
        let mut o = ObjectRef::new("b", "k/x.csv");
        o.etag = Some("abc".into());
        assert_eq!(o.idempotency_key(), "s3://b/k/x.csv#etag=abc");
        o.version_id = Some("v1".into());
        assert_eq!(o.idempotency_key(), "s3://b/k/x.csv#version=v1");
        assert_eq!(normalize_etag("\"abc\""), "abc");
    }
}
