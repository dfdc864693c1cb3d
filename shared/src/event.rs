//! Lambda event decoding: the three shapes AWS delivers ObjectCreated in (S3 notification,
//! S3 notification inside SQS, EventBridge "Object Created"), plus a plain `{bucket, key}`.
//! Keys in S3 notifications are URL-encoded (`+` for space): they are decoded here, once.

use aws_lambda_events::event::sqs::SqsEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::source::{normalize_etag, ObjectRef};

/// An event that could not be understood.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("unrecognised event: {0}")]
pub struct EventError(pub String);

/// One SQS message and the objects it carries.
#[derive(Debug, Clone)]
pub struct SqsItem {
    /// SQS message id (reported back in `batchItemFailures`).
    pub message_id: String,
    /// The objects, or why the body could not be read.
    pub objects: Result<Vec<ObjectRef>, EventError>,
}

/// A decoded invocation payload.
#[derive(Debug, Clone)]
pub enum IngestEvent {
    /// S3 notification, EventBridge event or `{bucket, key}`.
    Objects(Vec<ObjectRef>),
    /// An SQS batch (partial failures are reported per message).
    Sqs(Vec<SqsItem>),
}

/// The parts of an S3 notification Floe reads. Not aws_lambda_events' `S3Event`: that type
/// requires fields Floe never uses (`userIdentity`, `requestParameters`, ...), which some senders
/// leave out (moto's notifications have no `userIdentity`); such a record still names an object.
#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records")]
    records: Vec<S3Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    event_name: Option<String>,
    event_time: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: NamedBucket,
    object: S3Object,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    size: Option<u64>,
    #[serde(rename = "eTag")]
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

#[derive(Deserialize)]
struct EventBridgeS3 {
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    time: Option<String>,
    detail: EventBridgeDetail,
}

#[derive(Deserialize)]
struct EventBridgeDetail {
    bucket: NamedBucket,
    object: EventBridgeObject,
}

#[derive(Deserialize)]
struct NamedBucket {
    name: String,
}

#[derive(Deserialize)]
struct EventBridgeObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    #[serde(rename = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainObject {
    bucket: String,
    key: String,
    #[serde(default)]
    version_id: Option<String>,
}

impl IngestEvent {
    /// Decodes any supported payload.
    pub fn parse(payload: &Value) -> Result<Self, EventError> {
        if let Some(records) = payload.get("Records").and_then(Value::as_array) {
            let source = records
                .first()
                .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
                .and_then(Value::as_str)
                .unwrap_or("aws:s3");
            if source == "aws:sqs" {
                let sqs: SqsEvent = serde_json::from_value(payload.clone())
                    .map_err(|e| EventError(format!("SQS event: {e}")))?;
                return Ok(Self::Sqs(
                    sqs.records
                        .into_iter()
                        .map(|m| SqsItem {
                            message_id: m.message_id.unwrap_or_default(),
                            objects: m
                                .body
                                .as_deref()
                                .ok_or_else(|| EventError("SQS message has no body".into()))
                                .and_then(objects_in_body),
                        })
                        .collect(),
                ));
            }
            return objects_in_s3_event(payload).map(Self::Objects);
        }
        objects_in_body_value(payload).map(Self::Objects)
    }
}

fn objects_in_body(body: &str) -> Result<Vec<ObjectRef>, EventError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| EventError(format!("SQS body is not JSON: {e}")))?;
    // S3 -> SNS -> SQS wraps the notification in an SNS envelope.
    if let Some(msg) = value.get("Message").and_then(Value::as_str) {
        return objects_in_body(msg);
    }
    objects_in_body_value(&value)
}

fn objects_in_body_value(value: &Value) -> Result<Vec<ObjectRef>, EventError> {
    if value.get("Records").is_some() {
        return objects_in_s3_event(value);
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![]);
    }
    if value.get("detail-type").is_some() {
        let eb: EventBridgeS3 = serde_json::from_value(value.clone())
            .map_err(|e| EventError(format!("EventBridge event: {e}")))?;
        if eb.detail_type != "Object Created" {
            return Err(EventError(format!(
                "EventBridge detail-type `{}` is not `Object Created`",
                eb.detail_type
            )));
        }
        let o = eb.detail.object;
        return Ok(vec![ObjectRef {
            bucket: eb.detail.bucket.name,
            // EventBridge carries the key as written, not URL-encoded.
            key: o.key,
            version_id: o.version_id.filter(|v| !v.is_empty() && v != "null"),
            etag: o.etag.as_deref().map(normalize_etag),
            sequencer: o.sequencer,
            size: o.size,
            content_encoding: None,
            event_time_ms: eb.time.as_deref().and_then(parse_time),
        }]);
    }
    let plain: PlainObject = serde_json::from_value(value.clone()).map_err(|_| {
        EventError("expected an S3 notification, an SQS batch, an EventBridge `Object Created` event or {\"bucket\", \"key\"}".into())
    })?;
    let mut o = ObjectRef::new(plain.bucket, plain.key);
    o.version_id = plain.version_id;
    Ok(vec![o])
}

fn objects_in_s3_event(value: &Value) -> Result<Vec<ObjectRef>, EventError> {
    let event: S3Notification =
        serde_json::from_value(value.clone()).map_err(|e| EventError(format!("S3 event: {e}")))?;
    let mut out = Vec::new();
    for r in event.records {
        if !r
            .event_name
            .as_deref()
            .unwrap_or("ObjectCreated")
            .contains("ObjectCreated")
        {
            continue;
        }
        let o = r.s3.object;
        out.push(ObjectRef {
            bucket: r.s3.bucket.name,
            key: decode_s3_key(&o.key)?,
            version_id: o.version_id.filter(|v| !v.is_empty() && v != "null"),
            etag: o.e_tag.as_deref().map(normalize_etag),
            sequencer: o.sequencer,
            size: o.size,
            content_encoding: None,
            event_time_ms: r.event_time.as_deref().and_then(parse_time),
        });
    }
    Ok(out)
}

fn parse_time(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Decodes an S3 notification key (form encoding: `+` is a space, `%XX` a byte).
pub fn decode_s3_key(raw: &str) -> Result<String, EventError> {
    let plus_decoded = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            EventError(format!(
                "object key `{raw}` is not valid UTF-8 once decoded"
            ))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn s3_event(key: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "landing", "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::landing"},
                   "object": {"key": key, "size": 10, "eTag": "\"e1\"", "sequencer": "01"}}
        }]})
    }

    #[test]
    fn decodes_s3_notification_keys_once() {
        let IngestEvent::Objects(o) =
            IngestEvent::parse(&s3_event("orders/Happy+Face%2B1+%C3%A9.csv")).unwrap()
        else {
            panic!("expected objects")
        };
        assert_eq!(o[0].key, "orders/Happy Face+1 é.csv");
        assert_eq!(o[0].etag.as_deref(), Some("e1"));
        assert_eq!(o[0].size, Some(10));
    }

    #[test]
    fn reads_records_without_the_fields_floe_does_not_use() {
        // moto's shape: no userIdentity / requestParameters, `/` encoded as %2F, no versionId.
        let moto = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-01T16:30:00.000Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "landing", "arn": "arn:aws:s3:::landing"},
                   "object": {"key": "orders%2Fprobe%2Fpart+1.csv", "size": 42, "eTag": "abc"}}
        }]});
        let IngestEvent::Objects(o) = IngestEvent::parse(&moto).unwrap() else {
            panic!("expected objects")
        };
        assert_eq!(o[0].key, "orders/probe/part 1.csv");
        assert_eq!((o[0].size, o[0].version_id.as_deref()), (Some(42), None));
        assert_eq!(o[0].event_time_ms, Some(1_796_142_600_000));
    }

    #[test]
    fn unwraps_sqs_and_reports_bad_bodies_per_message() {
        let sqs = json!({"Records": [
            {"messageId": "m1", "body": s3_event("a/x.csv").to_string(), "eventSource": "aws:sqs"},
            {"messageId": "m2", "body": "not json", "eventSource": "aws:sqs"},
            {"messageId": "m3", "body": json!({"Event": "s3:TestEvent"}).to_string(), "eventSource": "aws:sqs"}
        ]});
        let IngestEvent::Sqs(items) = IngestEvent::parse(&sqs).unwrap() else {
            panic!("expected sqs")
        };
        assert_eq!(items[0].objects.as_ref().unwrap()[0].key, "a/x.csv");
        assert!(items[1].objects.is_err());
        assert!(items[2].objects.as_ref().unwrap().is_empty());
    }

    #[test]
    fn reads_eventbridge_object_created() {
        let eb = json!({"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "1", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"version": "0", "bucket": {"name": "landing"},
                       "object": {"key": "events/a b.jsonl.gz", "size": 5, "etag": "e2", "sequencer": "02"}}});
        let IngestEvent::Objects(o) = IngestEvent::parse(&eb).unwrap() else {
            panic!()
        };
        assert_eq!(
            (o[0].bucket.as_str(), o[0].key.as_str()),
            ("landing", "events/a b.jsonl.gz")
        );
        assert!(IngestEvent::parse(&json!({"hello": 1})).is_err());
    }
}
