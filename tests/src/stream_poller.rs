//! Lambda's DynamoDB stream event source mapping, for the local stack: read each shard of the
//! table's stream from its start, invoke the function with batches in Lambda's event shape,
//! and move on only past what succeeded. A partial batch response retries from the first
//! failed record; an error or crash retries the whole batch, as on AWS.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{Value, json};

use crate::runtime::FunctionHost;

/// Counters of the poller's work.
#[derive(Debug, Default)]
pub struct StreamStats {
    /// Batches handed to the function.
    pub batches: AtomicU64,
    /// Records past which the poller moved.
    pub processed: AtomicU64,
    /// Batches retried (a failure or a crash).
    pub retried: AtomicU64,
    /// Records the mapping's filters dropped (never handed to the function).
    pub filtered_out: AtomicU64,
    /// Records whose filter decision was held against the library's
    /// (`intake::notification::wakes_notify`).
    pub checked: AtomicU64,
}

/// A running stream poller.
#[derive(Clone)]
pub struct StreamPoller {
    paused: Arc<AtomicBool>,
    filtering: Arc<AtomicBool>,
    /// Every event handed to the function, in order (tests replay them).
    pub delivered: Arc<Mutex<Vec<Value>>>,
    /// The records on which the mapping's filters and the library disagree (their keys, event
    /// name and whether the filters let them through): none, while the two say the same.
    pub disagreements: Arc<Mutex<Vec<String>>>,
    /// Counters.
    pub stats: Arc<StreamStats>,
}

impl StreamPoller {
    /// Starts polling `stream_arn` into `host`, noting trouble in `log`.
    pub fn start(
        client: aws_sdk_dynamodbstreams::Client,
        stream_arn: String,
        region: String,
        batch_size: usize,
        filters: Vec<Value>,
        host: FunctionHost,
        log: std::path::PathBuf,
    ) -> StreamPoller {
        let poller = StreamPoller {
            paused: Arc::new(AtomicBool::new(false)),
            filtering: Arc::new(AtomicBool::new(true)),
            delivered: Arc::new(Mutex::new(Vec::new())),
            disagreements: Arc::new(Mutex::new(Vec::new())),
            stats: Arc::new(StreamStats::default()),
        };
        let state = poller.clone();
        tokio::spawn(async move {
            // Per shard: the records read and not yet processed, and where to read next.
            // Records are kept as Lambda shapes them, shaped once as they are read.
            let mut pending: HashMap<String, Vec<Value>> = HashMap::new();
            let mut iterators: HashMap<String, Option<String>> = HashMap::new();
            // The shards, described again each second: they change only when DynamoDB splits
            // or rotates them, and moto serves every request on one thread, so describing the
            // stream on every 100 ms poll slowed everything else.
            let mut shard_ids: Vec<String> = Vec::new();
            let mut described_at: Option<std::time::Instant> = None;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if state.paused.load(Ordering::SeqCst) {
                    continue;
                }
                if described_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    let Ok(described) = client
                        .describe_stream()
                        .stream_arn(&stream_arn)
                        .send()
                        .await
                    else {
                        continue;
                    };
                    shard_ids = described
                        .stream_description
                        .and_then(|d| d.shards)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|shard| shard.shard_id)
                        .collect();
                    described_at = Some(std::time::Instant::now());
                }
                for shard_id in &shard_ids {
                    if !iterators.contains_key(shard_id) {
                        let iterator = client
                            .get_shard_iterator()
                            .stream_arn(&stream_arn)
                            .shard_id(shard_id)
                            .shard_iterator_type(ShardIteratorType::TrimHorizon)
                            .send()
                            .await
                            .map_err(|e| note(&log, &format!("GetShardIterator: {e:?}")))
                            .ok()
                            .and_then(|r| r.shard_iterator);
                        iterators.insert(shard_id.clone(), iterator);
                    }
                    let queue = pending.entry(shard_id.clone()).or_default();
                    if queue.len() < batch_size {
                        let before = queue.len();
                        if let Some(Some(iterator)) = iterators.get(shard_id).cloned() {
                            match client.get_records().shard_iterator(iterator).send().await {
                                Ok(read) => {
                                    // As Lambda does, records no filter matches are dropped
                                    // as they are read (they count as processed).
                                    let records = read.records.unwrap_or_default();
                                    let read_count = records.len();
                                    let filtering = state.filtering.load(Ordering::SeqCst);
                                    for record in &records {
                                        let shaped = lambda_record(record, &stream_arn, &region);
                                        let passed = passes(&filters, &shaped);
                                        state.check_against_library(&shaped, passed);
                                        if !filtering || passed {
                                            queue.push(shaped);
                                        }
                                    }
                                    let dropped = (read_count + before - queue.len()) as u64;
                                    state
                                        .stats
                                        .filtered_out
                                        .fetch_add(dropped, Ordering::SeqCst);
                                    state.stats.processed.fetch_add(dropped, Ordering::SeqCst);
                                    iterators.insert(shard_id.clone(), read.next_shard_iterator);
                                }
                                Err(e) => note(&log, &format!("GetRecords: {e:?}")),
                            }
                        }
                    }
                    if queue.is_empty() {
                        continue;
                    }
                    let batch: Vec<Value> = queue.iter().take(batch_size).cloned().collect();
                    let event = json!({ "Records": batch });
                    if let Ok(mut delivered) = state.delivered.lock() {
                        delivered.push(event.clone());
                    }
                    state.stats.batches.fetch_add(1, Ordering::SeqCst);
                    let done = match host.invoke(event.to_string().into()).await {
                        Ok(answer) => {
                            let failed = serde_json::from_slice::<Value>(&answer)
                                .ok()
                                .and_then(|a| {
                                    a["batchItemFailures"]
                                        .as_array()
                                        .and_then(|f| f.first().cloned())
                                })
                                .and_then(|f| f["itemIdentifier"].as_str().map(str::to_string));
                            match failed {
                                // Everything before the first failure is done.
                                Some(sequence) => batch
                                    .iter()
                                    .position(|r| sequence_of(r) == Some(sequence.as_str()))
                                    .unwrap_or(0),
                                None => batch.len(),
                            }
                        }
                        Err(e) => {
                            note(&log, &format!("invoke: {e:?}"));
                            0
                        }
                    };
                    if done < batch.len() {
                        state.stats.retried.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    queue.drain(..done);
                    state
                        .stats
                        .processed
                        .fetch_add(done as u64, Ordering::SeqCst);
                }
            }
        });
        poller
    }

    /// Holds the filters' decision on one record against the library's statement of what
    /// wakes notify, noting any record on which they differ (or that the library cannot read).
    fn check_against_library(&self, record: &Value, passed: bool) {
        let event = json!({ "Records": [record] });
        let wanted: Result<Vec<bool>, _> = intake::adapters::dynamodb::parse_stream_event(&event)
            .into_iter()
            .map(|change| change.map(|c| intake::notification::wakes_notify(&c)))
            .collect();
        self.stats.checked.fetch_add(1, Ordering::SeqCst);
        let agrees = matches!(&wanted, Ok(wanted) if wanted.iter().all(|w| *w == passed));
        if !agrees && let Ok(mut disagreements) = self.disagreements.lock() {
            disagreements.push(format!(
                "{} {} (the filters let it through: {passed}; the library: {wanted:?})",
                record["eventName"], record["dynamodb"]["Keys"]
            ));
        }
    }

    /// Stops handing records to the function (they keep accumulating in the stream).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Resumes.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Applies the mapping's filter patterns to the records read from now on (`true`, the
    /// default), or hands every record to the function as a mapping without filter criteria
    /// does (`false`: how notify was fed before the mapping had filters; `scripts/bench-requests`
    /// measures both).
    pub fn set_filtering(&self, on: bool) {
        self.filtering.store(on, Ordering::SeqCst);
    }
}

/// Appends a line to the poller's log (best effort: the log is for people debugging).
fn note(log: &std::path::Path, line: &str) {
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// Whether a record reaches the function: no filters, or one that matches.
fn passes(filters: &[Value], record: &Value) -> bool {
    filters.is_empty() || filters.iter().any(|f| matches_pattern(f, record))
}

/// Lambda's event filtering, as far as the stack's patterns use it: an object pattern matches
/// when each of its keys matches the event's value there; a list is alternatives, each a value
/// (equal), `{"prefix": …}`, `{"exists": bool}` or `{"anything-but": [values]}`.
pub fn matches_pattern(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| match event.get(key) {
            Some(value) => matches_pattern(sub, value),
            None => matches!(sub, Value::Array(alternatives) if alternatives.iter().any(|a| a["exists"] == false)),
        }),
        Value::Array(alternatives) => alternatives.iter().any(|alternative| match alternative {
            Value::Object(rule) => {
                if let Some(prefix) = rule.get("prefix").and_then(Value::as_str) {
                    event.as_str().is_some_and(|s| s.starts_with(prefix))
                } else if let Some(exists) = rule.get("exists").and_then(Value::as_bool) {
                    exists
                } else if let Some(Value::Array(excluded)) = rule.get("anything-but") {
                    !excluded.contains(event)
                } else {
                    false
                }
            }
            literal => literal == event,
        }),
        literal => literal == event,
    }
}

fn sequence_of(record: &Value) -> Option<&str> {
    record["dynamodb"]["SequenceNumber"].as_str()
}

/// One stream record in the shape Lambda delivers it.
fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> Value {
    // DynamoDB's attribute-value JSON, as Lambda writes it.
    let image = |item: Option<&HashMap<String, AttributeValue>>| {
        item.map(|item| {
            serde_json::to_value(serde_dynamo::Item::from(item.clone())).unwrap_or(Value::Null)
        })
    };
    let stream = record.dynamodb.as_ref();
    let mut dynamodb = serde_json::Map::new();
    if let Some(keys) = image(stream.and_then(|s| s.keys.as_ref())) {
        dynamodb.insert("Keys".into(), keys);
    }
    if let Some(new) = image(stream.and_then(|s| s.new_image.as_ref())) {
        dynamodb.insert("NewImage".into(), new);
    }
    if let Some(old) = image(stream.and_then(|s| s.old_image.as_ref())) {
        dynamodb.insert("OldImage".into(), old);
    }
    dynamodb.insert(
        "SequenceNumber".into(),
        json!(stream.and_then(|s| s.sequence_number.clone())),
    );
    dynamodb.insert("StreamViewType".into(), json!("NEW_AND_OLD_IMAGES"));
    dynamodb.insert(
        "SizeBytes".into(),
        json!(stream.and_then(|s| s.size_bytes).unwrap_or(0)),
    );
    dynamodb.insert(
        "ApproximateCreationDateTime".into(),
        json!(
            stream
                .and_then(|s| s.approximate_creation_date_time)
                .map_or(0.0, |t| t.as_secs_f64())
        ),
    );
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str().to_string()),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, id: &str, status: Option<&str>) -> Value {
        let mut image = json!({ "id": { "S": id } });
        if let Some(status) = status {
            image["status"] = json!({ "S": status });
        }
        json!({
            "eventName": event,
            "dynamodb": { "Keys": { "id": { "S": id } }, "NewImage": image },
        })
    }

    #[test]
    fn patterns_match_as_lambdas_event_filtering_does() {
        let verdicts = json!({
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": { "NewImage": { "status": { "S": ["accepted", "rejected", "duplicate"] } } },
        });
        let batches = json!({
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": { "Keys": { "id": { "S": [{ "prefix": "batch#" }] } } },
        });
        let filters = [verdicts, batches];
        assert!(passes(&filters, &record("MODIFY", "d-1", Some("accepted"))));
        assert!(passes(
            &filters,
            &record("INSERT", "batch#mogilska#b-1", None)
        ));
        assert!(!passes(&filters, &record("INSERT", "d-1", Some("pending"))));
        assert!(!passes(
            &filters,
            &record("INSERT", "notified#d-1#skarb", None)
        ));
        assert!(!passes(
            &filters,
            &record("REMOVE", "d-1", Some("accepted"))
        ));
        assert!(passes(&[], &record("INSERT", "anything", None)));
        let absent = json!({ "dynamodb": { "NewImage": { "department": [{ "exists": false }] } } });
        assert!(matches_pattern(&absent, &record("MODIFY", "d-1", None)));
        let but = json!({ "eventName": [{ "anything-but": ["REMOVE"] }] });
        assert!(matches_pattern(&but, &record("MODIFY", "d-1", None)));
        assert!(!matches_pattern(&but, &record("REMOVE", "d-1", None)));
    }
}
