//! S3 event notifications as they arrive in the body of an SQS message.
//!
//! Only the fields the pipeline needs are read, and everything else is tolerated, so a new field
//! from AWS never fails a batch. The first message on a new notification configuration is an
//! `s3:TestEvent`, which carries no records.

use jiff::Timestamp;
use serde::Deserialize;

/// What one SQS message from the incoming bucket holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncomingMessage {
    /// S3's check that the queue is reachable; nothing to process.
    TestEvent,
    /// Objects that were created.
    Objects(Vec<ObjectCreated>),
}

/// One object S3 reports as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// The bucket.
    pub bucket: String,
    /// The key, URL-decoded.
    pub key: String,
    /// The version, on a versioned bucket: reading exactly it keeps a redelivery on the same bytes.
    pub version_id: Option<String>,
    /// The size S3 reports.
    pub size: Option<u64>,
    /// When S3 received the object: the document's received time.
    pub event_time: Timestamp,
}

/// Why a message could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// The body is not JSON of the S3 notification shape.
    #[error("message body is not an S3 event notification: {0}")]
    NotAnS3Event(String),
    /// A key's URL encoding is broken.
    #[error("object key is not valid URL-encoded UTF-8")]
    BadKey,
    /// The event time is not a timestamp.
    #[error("eventTime '{0}' is not a timestamp")]
    BadTime(String),
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    #[serde(default)]
    event_name: String,
    event_time: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    key: String,
    size: Option<u64>,
    version_id: Option<String>,
}

/// Parses the body of an SQS message sent by an S3 bucket notification.
pub fn parse_incoming_message(body: &str) -> Result<IncomingMessage, EventError> {
    let notification: Notification =
        serde_json::from_str(body).map_err(|e| EventError::NotAnS3Event(e.to_string()))?;
    if notification.event.as_deref() == Some("s3:TestEvent") {
        return Ok(IncomingMessage::TestEvent);
    }
    let records = notification
        .records
        .ok_or_else(|| EventError::NotAnS3Event("no Records".into()))?;
    let mut objects = Vec::with_capacity(records.len());
    for record in records {
        if !record.event_name.starts_with("ObjectCreated:") {
            continue;
        }
        let event_time = parse_event_time(&record.event_time)
            .ok_or_else(|| EventError::BadTime(record.event_time.chars().take(40).collect()))?;
        objects.push(ObjectCreated {
            bucket: record.s3.bucket.name,
            key: decode_key(&record.s3.object.key)?,
            version_id: record
                .s3
                .object
                .version_id
                .filter(|v| !v.is_empty() && v != "null"),
            size: record.s3.object.size,
            event_time,
        });
    }
    Ok(IncomingMessage::Objects(objects))
}

/// S3 stamps events in UTC (`2020-03-16T09:30:00.123Z`); an offset-less stamp (some emulators
/// send one) is read as UTC too.
fn parse_event_time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        let civil: jiff::civil::DateTime = text.parse().ok()?;
        civil
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

/// S3 sends keys form-encoded: `+` is a space and everything else non-safe is percent-encoded.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| EventError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-central-1",
      "eventTime":"2020-03-16T09:30:00.123Z","eventName":"ObjectCreated:Post",
      "s3":{"s3SchemaVersion":"1.0","bucket":{"name":"intake-incoming","arn":"arn:aws:s3:::intake-incoming"},
      "object":{"key":"incoming/web/wniosek+%C5%BC%C3%B3%C5%82w.pdf","size":1234,"eTag":"abc","versionId":"v1","sequencer":"01"}}}]}"#;

    #[test]
    fn parses_an_object_created_record_and_decodes_the_key() {
        let IncomingMessage::Objects(objects) = parse_incoming_message(EVENT).unwrap() else {
            panic!("expected objects");
        };
        assert_eq!(objects.len(), 1);
        let o = &objects[0];
        assert_eq!(o.bucket, "intake-incoming");
        assert_eq!(o.key, "incoming/web/wniosek żółw.pdf");
        assert_eq!(o.version_id.as_deref(), Some("v1"));
        assert_eq!(o.size, Some(1234));
        assert_eq!(o.event_time.to_string(), "2020-03-16T09:30:00.123Z");
    }

    #[test]
    fn test_event_is_recognised() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2020-03-16T09:30:00Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
        assert_eq!(
            parse_incoming_message(body).unwrap(),
            IncomingMessage::TestEvent
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in ["", "{", "[]", "{}", r#"{"Records":[{"eventTime":"x"}]}"#] {
            assert!(parse_incoming_message(body).is_err(), "{body}");
        }
        let bad_time = EVENT.replace("2020-03-16T09:30:00.123Z", "yesterday");
        assert_eq!(
            parse_incoming_message(&bad_time),
            Err(EventError::BadTime("yesterday".into()))
        );
        assert_eq!(decode_key("%FF%FE"), Err(EventError::BadKey));
    }

    #[test]
    fn a_time_without_offset_is_utc() {
        let naive = EVENT.replace("2020-03-16T09:30:00.123Z", "2020-03-16T09:30:00.123456");
        let IncomingMessage::Objects(objects) = parse_incoming_message(&naive).unwrap() else {
            panic!("expected objects");
        };
        assert_eq!(
            objects[0].event_time.to_string(),
            "2020-03-16T09:30:00.123456Z"
        );
    }

    #[test]
    fn other_event_kinds_are_skipped() {
        let removed = EVENT.replace("ObjectCreated:Post", "ObjectRemoved:Delete");
        assert_eq!(
            parse_incoming_message(&removed).unwrap(),
            IncomingMessage::Objects(vec![])
        );
    }
}
