//! The raw bytes of a text or Avro object: one GET stream, or — for a large object whose version
//! is pinned (version id or ETag) — ranged GETs with read-ahead. One GET stream is capped by one
//! connection's throughput; here parts of [`PART_BYTES`] are fetched on their own tasks, several
//! in flight within the `FLOE_READ_AHEAD_BYTES` budget, and handed on in order, so the network
//! works while the decoder does. Body errors are tagged as network errors (retryable), unlike
//! corrupt compressed data.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{stream, StreamExt};
use tokio::io::{AsyncRead, ReadBuf};

use crate::landing::{Landing, LandingError};
use crate::source::ObjectRef;

/// Bytes per ranged GET.
pub const PART_BYTES: u64 = 8 << 20;

/// A body error from the network (retryable), as opposed to corrupt compressed data.
#[derive(Debug)]
pub(super) struct NetworkError(pub(super) String);
impl std::fmt::Display for NetworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for NetworkError {}

fn network(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(NetworkError(e.to_string()))
}

/// An object's bytes as read from the store, before decompression.
pub struct RawBody {
    /// The bytes, in order.
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
    /// The Content-Encoding header of the (first) response.
    pub content_encoding: Option<String>,
    /// Ranged GETs the object is read in (0: one GET stream).
    pub ranged_parts: u64,
}

impl RawBody {
    /// The body of one GET.
    pub(super) fn whole(body: crate::landing::LandingBody) -> Self {
        Self {
            reader: Box::pin(Tagged(body.body.into_async_read())),
            content_encoding: body.content_encoding,
            ranged_parts: 0,
        }
    }
}

/// How many parts `read_ahead_bytes` allows in flight for `object` (0: read it as one stream).
fn parts_in_flight(object: &ObjectRef, read_ahead_bytes: u64) -> usize {
    let pinned = object.version_id.is_some() || object.etag.is_some();
    let large = object.size.is_some_and(|s| s > PART_BYTES);
    if pinned && large {
        usize::try_from(read_ahead_bytes / PART_BYTES).unwrap_or(usize::MAX)
    } else {
        0
    }
}

/// Opens `object` for reading: ranged GETs with up to `read_ahead_bytes / PART_BYTES` parts in
/// flight when it is large and pinned, else one GET.
pub async fn open(
    landing: &Landing,
    object: &ObjectRef,
    read_ahead_bytes: u64,
) -> Result<RawBody, LandingError> {
    let parts = parts_in_flight(object, read_ahead_bytes);
    let Some(size) = object.size.filter(|_| parts > 0) else {
        return Ok(RawBody::whole(landing.get(object, None).await?));
    };
    // The first part's response carries the Content-Encoding; it is read on its own task too.
    let first = landing.get(object, Some(0..PART_BYTES.min(size))).await?;
    let content_encoding = first.content_encoding.clone();
    let first = tokio::spawn(async move {
        first
            .body
            .collect()
            .await
            .map(|b| b.into_bytes())
            .map_err(network)
    });
    let (landing, object) = (landing.clone(), object.clone());
    let ranges = (1..size.div_ceil(PART_BYTES))
        .map(move |i| i * PART_BYTES..((i + 1) * PART_BYTES).min(size));
    // Each part is spawned when the stream pulls it: at most `parts` are running or waiting.
    let spawned =
        stream::once(std::future::ready(first)).chain(stream::iter(ranges).map(move |range| {
            let (landing, object) = (landing.clone(), object.clone());
            tokio::spawn(async move { landing.get_range(&object, range).await.map_err(network) })
        }));
    let parts_stream = spawned.map(joined).buffered(parts);
    Ok(RawBody {
        reader: Box::pin(tokio_util::io::StreamReader::new(parts_stream)),
        content_encoding,
        ranged_parts: size.div_ceil(PART_BYTES),
    })
}

async fn joined(
    part: tokio::task::JoinHandle<Result<Bytes, std::io::Error>>,
) -> Result<Bytes, std::io::Error> {
    part.await.map_err(network)?
}

/// Tags errors of a raw body as network errors.
struct Tagged<R>(R);
impl<R: AsyncRead + Unpin> AsyncRead for Tagged<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(network(e))),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_pinned_objects_are_read_in_parts_within_the_budget() {
        let mut o = ObjectRef::new("b", "k");
        o.size = Some(3 * PART_BYTES);
        assert_eq!(parts_in_flight(&o, 2 * PART_BYTES), 0, "not pinned");
        o.etag = Some("e".into());
        assert_eq!(parts_in_flight(&o, 2 * PART_BYTES), 2);
        assert_eq!(parts_in_flight(&o, 2 * PART_BYTES + 1), 2);
        assert_eq!(
            parts_in_flight(&o, PART_BYTES - 1),
            0,
            "budget below one part"
        );
        o.size = Some(PART_BYTES);
        assert_eq!(parts_in_flight(&o, 2 * PART_BYTES), 0, "one part: one GET");
        o.size = None;
        assert_eq!(parts_in_flight(&o, 2 * PART_BYTES), 0, "size unknown");
    }
}
