//! Lambda's DynamoDB stream event source mappings, for the local stack: read each shard of the
//! table's stream from its start, invoke each mapping's function with batches in Lambda's event
//! shape, and move on only past what succeeded. A partial batch response retries from the first
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

/// What the library says wakes a function (held against the filters on every record).
pub type Wakes = fn(&intake::notification::StreamChange) -> bool;

/// One event source mapping of the stream: its function, batch size and filters.
pub struct StreamMapping {
    /// The function fed.
    pub host: FunctionHost,
    /// Records per invocation.
    pub batch_size: usize,
    /// The mapping's filter patterns: a record reaches the function when any matches.
    pub filters: Vec<Value>,
    /// The library's statement of the same.
    pub wakes: Wakes,
    /// Where trouble is noted.
    pub log: std::path::PathBuf,
}

/// A running mapping of the stream poller: what tests see of it.
#[derive(Clone)]
pub struct StreamPoller {
    wakes: Wakes,
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

/// Per shard, the records read for a mapping and not yet processed.
type Queues = Arc<Mutex<HashMap<String, Vec<Value>>>>;

impl StreamPoller {
    /// Starts reading `stream_arn` and feeding each mapping, as Lambda runs several mappings on
    /// one stream: one reader (moto serves one request at a time, and each GetRecords carries
    /// every record's images), and for each mapping its own queue per shard, batches,
    /// invocations and retries, so a slow function never holds up another. Returns one handle
    /// per mapping, in order.
    pub fn start(
        client: aws_sdk_dynamodbstreams::Client,
        stream_arn: String,
        region: String,
        mappings: Vec<StreamMapping>,
    ) -> Vec<StreamPoller> {
        let mut handles = Vec::new();
        let mut feeds: Vec<(StreamPoller, Vec<Value>, usize, Queues, std::path::PathBuf)> =
            Vec::new();
        for mapping in mappings {
            let handle = StreamPoller {
                wakes: mapping.wakes,
                paused: Arc::new(AtomicBool::new(false)),
                filtering: Arc::new(AtomicBool::new(true)),
                delivered: Arc::new(Mutex::new(Vec::new())),
                disagreements: Arc::new(Mutex::new(Vec::new())),
                stats: Arc::new(StreamStats::default()),
            };
            let queues: Queues = Arc::default();
            tokio::spawn(invoke_loop(
                handle.clone(),
                queues.clone(),
                mapping.host,
                mapping.batch_size,
                mapping.log.clone(),
            ));
            feeds.push((
                handle.clone(),
                mapping.filters,
                mapping.batch_size,
                queues,
                mapping.log,
            ));
            handles.push(handle);
        }
        tokio::spawn(async move {
            let mut iterators: HashMap<String, Option<String>> = HashMap::new();
            // The shards, described again each second: they change only when DynamoDB splits
            // or rotates them, and describing the stream on every 100 ms poll slowed everything
            // else.
            let mut shard_ids: Vec<String> = Vec::new();
            let mut described_at: Option<std::time::Instant> = None;
            let log = feeds.first().map(|f| f.4.clone()).unwrap_or_default();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
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
                    // Read on only while some mapping has room for a batch (as Lambda reads
                    // a shard no further than its mappings have taken).
                    let room = feeds.iter().any(|(handle, _, batch_size, queues, _)| {
                        !handle.paused.load(Ordering::SeqCst)
                            && queues
                                .lock()
                                .map(|q| q.get(shard_id).map_or(0, Vec::len) < *batch_size)
                                .unwrap_or(false)
                    });
                    if !room {
                        continue;
                    }
                    let Some(Some(iterator)) = iterators.get(shard_id).cloned() else {
                        continue;
                    };
                    match client.get_records().shard_iterator(iterator).send().await {
                        Ok(read) => {
                            let records = read.records.unwrap_or_default();
                            let shaped: Vec<Value> = records
                                .iter()
                                .map(|record| lambda_record(record, &stream_arn, &region))
                                .collect();
                            for (handle, filters, _, queues, _) in &feeds {
                                handle.take(shard_id, &shaped, filters, queues);
                            }
                            iterators.insert(shard_id.clone(), read.next_shard_iterator);
                        }
                        Err(e) => note(&log, &format!("GetRecords: {e:?}")),
                    }
                }
            }
        });
        handles
    }

    /// Takes the records a shard gave into this mapping's queue: as Lambda does, the records
    /// no filter matches are dropped as they are read (they count as processed).
    fn take(&self, shard_id: &str, records: &[Value], filters: &[Value], queues: &Queues) {
        let filtering = self.filtering.load(Ordering::SeqCst);
        let mut kept = Vec::new();
        for record in records {
            let passed = passes(filters, record);
            self.check_against_library(record, passed);
            if !filtering || passed {
                kept.push(record.clone());
            }
        }
        let dropped = (records.len() - kept.len()) as u64;
        self.stats.filtered_out.fetch_add(dropped, Ordering::SeqCst);
        self.stats.processed.fetch_add(dropped, Ordering::SeqCst);
        if let Ok(mut queues) = queues.lock() {
            queues.entry(shard_id.to_string()).or_default().extend(kept);
        }
    }

    /// Holds the filters' decision on one record against the library's statement of what
    /// wakes the function, noting any record on which they differ (or that the library cannot read).
    fn check_against_library(&self, record: &Value, passed: bool) {
        let event = json!({ "Records": [record] });
        let wanted: Result<Vec<bool>, _> = intake::adapters::dynamodb::parse_stream_event(&event)
            .into_iter()
            .map(|change| change.map(|c| (self.wakes)(&c)))
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

/// A mapping's invocations: a batch from each shard's queue at a time, moving on only past
/// what succeeded. A partial batch response retries from the first failed record; an error or
/// crash retries the whole batch, as on AWS.
async fn invoke_loop(
    state: StreamPoller,
    queues: Queues,
    host: FunctionHost,
    batch_size: usize,
    log: std::path::PathBuf,
) {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if state.paused.load(Ordering::SeqCst) {
            continue;
        }
        let shards: Vec<String> = queues
            .lock()
            .map(|q| q.keys().cloned().collect())
            .unwrap_or_default();
        for shard_id in shards {
            let batch: Vec<Value> = queues
                .lock()
                .map(|q| {
                    q.get(&shard_id)
                        .map(|queue| queue.iter().take(batch_size).cloned().collect())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            if batch.is_empty() {
                continue;
            }
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
            if let Ok(mut q) = queues.lock()
                && let Some(queue) = q.get_mut(&shard_id)
            {
                queue.drain(..done.min(queue.len()));
            }
            state
                .stats
                .processed
                .fetch_add(done as u64, Ordering::SeqCst);
        }
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
