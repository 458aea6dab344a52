//! The AWS requests a document costs, by caller, service and operation, and their price per
//! 1,000 documents at AWS list prices (Frankfurt): `scripts/bench-requests [N] [SCANS]`.
//!
//! On the local stack it submits N web-form uploads (default 20) one at a time, as a browser
//! does (the upload request, the presigned POST, the department's notification, then one look
//! at the verdict), and pushes a station batch of SCANS generated scans (default N) with
//! `intake station push`; the local AWS counts every request (`tests/local-aws/moto_server.py`)
//! and the function hosts count the invocations. Each is measured twice: "before", with
//! notify's stream mapping handing it every record (no filter criteria, as before the mapping
//! had them), and "after", with the mapping's filters (today's Terraform).
//!
//! The stand-ins for Lambda's event source mappings poll all the time, documents or not: their
//! rate with nothing happening is measured first, and that rate times a phase's duration is
//! taken off the phase's counts, so what is left is the work the documents caused. The
//! harness's own requests (reading the department's queue, setting up the station) are left
//! out: the departments' consumers are not part of the system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use intake_local::moto::{self, EVENT_SOURCE_KEY, HARNESS_KEY, RequestCount};
use intake_local::stack::{FUNCTIONS, Stack, StackOptions};

/// The scanning station that pushes the batches.
const STATION: &str = "wszystkich-swietych";
/// The web uploads' service (its department's queue is where their notifications are awaited).
const SERVICE: &str = "child-benefit";
/// How long the idle polling is measured.
const IDLE_WINDOW: Duration = Duration::from_secs(20);
/// A phase is over when no function has made a request or been invoked for this long.
const QUIET: Duration = Duration::from_secs(3);

// AWS list prices in USD for Europe (Frankfurt), eu-central-1, on demand, free tiers left out,
// as the pricing pages give them (read in 2025; check them before quoting a figure):
// - DynamoDB on-demand, https://aws.amazon.com/dynamodb/pricing/on-demand/: $0.7625 per million
//   write request units, $0.1525 per million read request units. DynamoDB Streams GetRecords
//   made by Lambda for a trigger are free (DescribeStream and GetShardIterator are not billed).
// - S3 Standard, https://aws.amazon.com/s3/pricing/: PUT, COPY, POST and LIST $0.0054 per 1,000;
//   GET, SELECT and all other requests (HEAD) $0.00043 per 1,000; DELETE free.
// - SQS, https://aws.amazon.com/sqs/pricing/: $0.40 per million requests to standard queues,
//   $0.50 to FIFO queues; every 64 KB chunk of a payload is a request. Lambda's SQS event source
//   mapping's ReceiveMessage and DeleteMessageBatch are billed like any other.
// - SNS, https://aws.amazon.com/sns/pricing/: $0.50 per million publishes to standard topics;
//   FIFO topics $0.30 per million publishes plus $0.017 per GB of payload and $0.01 per million
//   messages delivered (+ $0.001 per GB): the payload and delivery charges, a few millionths of
//   a dollar per 1,000 small notifications, are left out. A delivery to an SQS queue is also an
//   SQS request (counted, as the caller `sns`).
// - Lambda, https://aws.amazon.com/lambda/pricing/: $0.20 per million requests; duration
//   $0.0000133334 per GB-second on arm64 (infra/'s default architecture).
// - Systems Manager Parameter Store, standard parameters at standard throughput: free.
// - KMS, https://aws.amazon.com/kms/pricing/: $0.15 per 10,000 requests with asymmetric keys
//   other than RSA 2048 (the receipt key is ECC_NIST_P256), plus $1 a month for the key.
const DYNAMODB_WRU: f64 = 0.7625e-6;
const DYNAMODB_RRU: f64 = 0.1525e-6;
const S3_TIER1: f64 = 0.0054e-3;
const S3_TIER2: f64 = 0.00043e-3;
const SQS_STANDARD: f64 = 0.40e-6;
const SQS_FIFO: f64 = 0.50e-6;
const SNS_STANDARD: f64 = 0.50e-6;
const SNS_FIFO: f64 = 0.30e-6;
const LAMBDA_REQUEST: f64 = 0.20e-6;
const KMS_ASYMMETRIC: f64 = 0.15e-4;
const LAMBDA_GB_SECOND_ARM: f64 = 0.0000133334;
/// SQS bills each 64 KB chunk of a request's payload as a request.
const SQS_CHUNK: u64 = 64 * 1024;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("request benchmark failed: {e:#}");
        std::process::exit(1);
    }
}

/// The command's Nth argument as a count of documents, if given.
fn count_argument(n: usize) -> anyhow::Result<Option<usize>> {
    std::env::args()
        .nth(n)
        .map(|arg| {
            arg.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("'{arg}' is not a number of documents"))
        })
        .transpose()
}

async fn run() -> anyhow::Result<()> {
    let documents = count_argument(1)?.unwrap_or(20);
    // A batch item grows with its scans, so the scans' figures depend on the batch's size.
    let scans = count_argument(2)?.unwrap_or(documents);
    let started = Instant::now();
    let work = intake_local::workspace_root().join(".local/requests");
    let _ = std::fs::remove_dir_all(&work);
    let options = StackOptions::new(&work);
    let intake = options.bin_dir.join("intake");
    println!("starting moto, applying infra/ with terraform (about a minute and a half)...");
    let stack = Stack::start(options).await?;
    let result = bench(&stack, &work, &intake, documents, scans).await;
    println!("logs: {}", work.join("logs").display());
    stack.stop().await;
    println!("stopped everything; total {:.0?}", started.elapsed());
    result
}

async fn bench(
    stack: &Stack,
    work: &Path,
    intake: &Path,
    n: usize,
    scans_per_batch: usize,
) -> anyhow::Result<()> {
    let station = Station::set_up(stack, work, intake).await?;
    println!(
        "measuring the idle polling ({} s)...",
        IDLE_WINDOW.as_secs()
    );
    let idle = measure_idle(stack).await?;
    let tag = jiff::Timestamp::now().to_string();
    // [before, after]
    let mut web = Vec::new();
    let mut scans = Vec::new();
    for (phase, filtering) in [("before", false), ("after", true)] {
        stack.notify_poller.set_filtering(filtering);
        println!(
            "{phase} (stream filter {}):",
            if filtering { "on" } else { "off" }
        );
        println!("  {n} web uploads, one at a time...");
        let workload = Workload::Web {
            tag: format!("{tag} {phase}"),
        };
        web.push(measure(stack, &idle, n, &workload).await?);
        println!("  a station batch of {scans_per_batch} scans...");
        let workload = Workload::Scans {
            station: &station,
            dir: work.join(format!("scans-{phase}")),
            seed: if filtering { 1_000_000 } else { 0 },
        };
        scans.push(measure(stack, &idle, scans_per_batch, &workload).await?);
    }
    stack.notify_poller.set_filtering(true);

    let memory: BTreeMap<String, u32> = stack
        .outputs
        .functions
        .iter()
        .map(|(name, f)| (name.clone(), f.memory_mb))
        .collect();
    print_idle(&idle);
    print_workload("web upload", &web[0], &web[1], &memory);
    print_workload("scan (station batch)", &scans[0], &scans[1], &memory);
    print_assumptions();
    Ok(())
}

/// A caller, service and operation.
type Key = (String, String, String);

/// Requests and what they are billed in.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    requests: f64,
    read_units: f64,
    write_units: f64,
    max_request_bytes: u64,
    distinct_items: u64,
}

impl Usage {
    fn scaled(self, factor: f64) -> Usage {
        Usage {
            requests: self.requests * factor,
            read_units: self.read_units * factor,
            write_units: self.write_units * factor,
            ..self
        }
    }

    /// This usage less `idle`, never below zero.
    fn less(self, idle: Usage) -> Usage {
        Usage {
            requests: (self.requests - idle.requests).max(0.0),
            read_units: (self.read_units - idle.read_units).max(0.0),
            write_units: (self.write_units - idle.write_units).max(0.0),
            ..self
        }
    }
}

/// The counts by key, the harness's left out.
fn by_key(counts: Vec<RequestCount>) -> BTreeMap<Key, Usage> {
    counts
        .into_iter()
        .filter(|c| c.caller != HARNESS_KEY)
        .map(|c| {
            let usage = Usage {
                requests: c.requests as f64,
                read_units: c.read_units,
                write_units: c.write_units,
                max_request_bytes: c.max_request_bytes,
                distinct_items: c.distinct_items,
            };
            ((c.caller, c.service, c.operation), usage)
        })
        .collect()
}

/// The requests made with nothing happening, per second.
struct Idle {
    seconds: f64,
    per_second: BTreeMap<Key, Usage>,
}

async fn measure_idle(stack: &Stack) -> anyhow::Result<Idle> {
    settle(stack).await?;
    moto::reset_request_counts(&stack.aws_endpoint).await?;
    let started = Instant::now();
    tokio::time::sleep(IDLE_WINDOW).await;
    let counts = moto::request_counts(&stack.aws_endpoint).await?;
    let seconds = started.elapsed().as_secs_f64();
    let per_second = by_key(counts)
        .into_iter()
        .map(|(key, usage)| (key, usage.scaled(1.0 / seconds)))
        .collect();
    Ok(Idle {
        seconds,
        per_second,
    })
}

/// What the documents of one phase did.
enum Workload<'a> {
    /// Web uploads, their bytes made unique by `tag`.
    Web { tag: String },
    /// A station batch of scans written to `dir`, their bytes made unique by `seed`.
    Scans {
        station: &'a Station,
        dir: PathBuf,
        seed: u64,
    },
}

/// What one phase cost.
struct Measured {
    documents: usize,
    seconds: f64,
    /// The requests, the idle polling taken off.
    requests: BTreeMap<Key, Usage>,
    /// Invocations and their milliseconds, by function.
    invocations: BTreeMap<String, (u64, u64)>,
    /// notify's stream: records read, of them filtered out, batches handed to notify.
    stream: [u64; 3],
}

async fn measure(
    stack: &Stack,
    idle: &Idle,
    documents: usize,
    workload: &Workload<'_>,
) -> anyhow::Result<Measured> {
    settle(stack).await?;
    moto::reset_request_counts(&stack.aws_endpoint).await?;
    let invoked_before = invocations(stack);
    let stream_before = stream_counts(stack);
    let started = Instant::now();
    match workload {
        Workload::Web { tag } => web_uploads(stack, documents, tag).await?,
        Workload::Scans { station, dir, seed } => {
            station.push(dir, documents, *seed).await?;
        }
    }
    settle(stack).await?;
    let counts = moto::request_counts(&stack.aws_endpoint).await?;
    let seconds = started.elapsed().as_secs_f64();
    let stream_after = stream_counts(stack);
    let stream = [0, 1, 2].map(|i| stream_after[i] - stream_before[i]);
    let invocations = invocations(stack)
        .into_iter()
        .map(|(name, (count, ms))| {
            let (count_before, ms_before) = invoked_before.get(&name).copied().unwrap_or_default();
            (name, (count - count_before, ms - ms_before))
        })
        .filter(|(_, (count, _))| *count > 0)
        .collect();
    let requests = by_key(counts)
        .into_iter()
        .map(|(key, usage)| {
            let polling = idle
                .per_second
                .get(&key)
                .map_or_else(Usage::default, |rate| rate.scaled(seconds));
            (key, usage.less(polling))
        })
        .collect();
    println!("    done in {seconds:.0} s");
    Ok(Measured {
        documents,
        seconds,
        requests,
        invocations,
        stream,
    })
}

/// notify's stream poller so far: records read, of them filtered out, batches handed over.
fn stream_counts(stack: &Stack) -> [u64; 3] {
    let stats = &stack.notify_poller.stats;
    [&stats.processed, &stats.filtered_out, &stats.batches]
        .map(|c| c.load(std::sync::atomic::Ordering::SeqCst))
}

/// Invocations (responses, errors, crashes) and their milliseconds, by function.
fn invocations(stack: &Stack) -> BTreeMap<String, (u64, u64)> {
    FUNCTIONS
        .iter()
        .map(|name| {
            let stats = stack.function(name).stats();
            let count = stats.responses + stats.errors + stats.crashes;
            (name.to_string(), (count, stats.invocation_ms))
        })
        .collect()
}

/// Waits until no function has made a request or been invoked for [`QUIET`] (the pollers'
/// and the harness's own requests go on all the time and do not count).
async fn settle(stack: &Stack) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = None;
    let mut quiet_since = Instant::now();
    loop {
        let requests: u64 = moto::request_counts(&stack.aws_endpoint)
            .await?
            .iter()
            .filter(|c| c.caller != EVENT_SOURCE_KEY && c.caller != HARNESS_KEY)
            .map(|c| c.requests)
            .sum();
        let invoked: u64 = invocations(stack).values().map(|(count, _)| count).sum();
        if last != Some((requests, invoked)) {
            last = Some((requests, invoked));
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= QUIET {
            return Ok(());
        }
        ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the functions were still busy after 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `n` valid PDFs through the web form, one at a time: each is uploaded, its department's
/// notification awaited and its verdict looked at once, and the stack left to go quiet
/// before the next (a city hall's web form sees documents minutes apart, not in bursts, so
/// one document's stream records are not batched with the next one's).
async fn web_uploads(stack: &Stack, n: usize, tag: &str) -> anyhow::Result<()> {
    let rules = intake::domain::routing::RoutingRules::bundled()?;
    let department = rules
        .route(intake::domain::routing::Origin::Web {
            service: Some(SERVICE),
        })
        .department;
    let queue = stack
        .outputs
        .department_queues
        .get(&department)
        .with_context(|| format!("no queue for the department {department}"))?;
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config().await);
    let http = reqwest::Client::new();
    for i in 0..n {
        let pdf =
            intake::engine::pdf::samples::minimal_pdf(2, &format!("bench-requests {tag} {i}"));
        let upload =
            intake_local::browser::submit(&http, &stack.api_url, SERVICE, "wniosek.pdf", pdf)
                .await
                .with_context(|| format!("submitting upload {i}"))?;
        wait_for_notification(&sqs, queue, &upload.upload_id).await?;
        // What the browser shows at the end: one status query (each further poll of a
        // waiting browser costs one more of these).
        let (status, verdict) =
            intake_local::browser::upload_status(&http, &stack.api_url, &upload.upload_id).await?;
        ensure!(
            status == 200 && verdict["status"] == "accepted",
            "upload {}: {status} {verdict}",
            upload.upload_id
        );
        settle(stack).await?;
    }
    Ok(())
}

/// Reads the department's queue until the notification of `document_id` arrives, deleting
/// what it reads.
async fn wait_for_notification(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    document_id: &str,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .context("reading the department's queue")?;
        let mut found = false;
        for message in received.messages.unwrap_or_default() {
            let body: serde_json::Value =
                serde_json::from_str(message.body.as_deref().unwrap_or("null")).unwrap_or_default();
            found |= body["document_id"] == document_id;
            sqs.delete_message()
                .queue_url(queue)
                .set_receipt_handle(message.receipt_handle)
                .send()
                .await
                .context("deleting a notification")?;
        }
        if found {
            return Ok(());
        }
    }
    bail!("no notification of {document_id} in {queue} within 120 s")
}

/// A scanning station: the `intake` command line with the station's key.
struct Station {
    intake: PathBuf,
    key_file: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Station {
    /// Makes the station's key (before anything is counted).
    async fn set_up(stack: &Stack, work: &Path, intake: &Path) -> anyhow::Result<Station> {
        let env = vec![
            ("AWS_ENDPOINT_URL", stack.aws_endpoint.clone()),
            ("AWS_REGION", stack.region.clone()),
            ("AWS_ACCESS_KEY_ID", HARNESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("INTAKE_API_URL", stack.api_url.clone()),
        ];
        let key = tokio::process::Command::new(intake)
            .args(["station", "key", "--station", STATION, "--prefix"])
            .arg(&stack.outputs.station_key_prefix)
            .envs(env.iter().map(|(k, v)| (k, v.as_str())))
            .output()
            .await
            .with_context(|| format!("running {} station key", intake.display()))?;
        ensure!(key.status.success(), "intake station key failed: {key:?}");
        let key_file = work.join("station.key");
        std::fs::write(&key_file, key.stdout.trim_ascii())
            .with_context(|| format!("writing {}", key_file.display()))?;
        Ok(Station {
            intake: intake.to_path_buf(),
            key_file,
            env,
        })
    }

    /// Pushes `count` generated scans with `intake station push`, which returns with the
    /// batch's final report.
    async fn push(&self, dir: &Path, count: usize, seed: u64) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for i in 0..count {
            let name = format!("K-{:04}_{}.pdf", i / 2, i % 2 + 1);
            let scan = intake::engine::pdf::samples::scan_pdf(1 + i % 4, seed + i as u64 + 1);
            std::fs::write(dir.join(&name), scan).with_context(|| format!("writing {name}"))?;
        }
        let push = tokio::process::Command::new(&self.intake)
            .args(["station", "push"])
            .arg(dir)
            .args(["--station", STATION, "--operator", "bench", "--key-file"])
            .arg(&self.key_file)
            .envs(self.env.iter().map(|(k, v)| (k, v.as_str())))
            .output()
            .await
            .context("running intake station push")?;
        ensure!(
            push.status.success(),
            "intake station push: {}\n{}{}",
            push.status,
            String::from_utf8_lossy(&push.stdout),
            String::from_utf8_lossy(&push.stderr)
        );
        Ok(())
    }
}

/// What a row's usage costs, in USD, and what it is priced as.
fn price(key: &Key, usage: &Usage) -> (f64, &'static str) {
    let (caller, service, operation) = (key.0.as_str(), key.1.as_str(), key.2.as_str());
    let fifo = operation.ends_with("(FIFO)");
    match service {
        "dynamodb" => (
            usage.read_units * DYNAMODB_RRU + usage.write_units * DYNAMODB_WRU,
            "request units",
        ),
        "dynamodbstreams" if caller == EVENT_SOURCE_KEY => (0.0, "free (Lambda trigger)"),
        "dynamodbstreams" => (0.0, "not priced"),
        "s3" if operation.starts_with("Delete") || operation.starts_with("Abort") => {
            (0.0, "free (DELETE)")
        }
        "s3" if operation.starts_with("Get") || operation.starts_with("Head") => {
            (usage.requests * S3_TIER2, "S3 GET/HEAD")
        }
        "s3" => (usage.requests * S3_TIER1, "S3 PUT/COPY/POST/LIST"),
        "sqs" => {
            let chunks = usage.max_request_bytes.div_ceil(SQS_CHUNK).max(1) as f64;
            let each = if fifo { SQS_FIFO } else { SQS_STANDARD };
            let basis = if fifo { "SQS FIFO" } else { "SQS standard" };
            (usage.requests * chunks * each, basis)
        }
        "sns" if fifo => (usage.requests * SNS_FIFO, "SNS FIFO publish"),
        "sns" => (usage.requests * SNS_STANDARD, "SNS publish"),
        "ssm" => (0.0, "free (standard parameter)"),
        "kms" => (usage.requests * KMS_ASYMMETRIC, "KMS asymmetric request"),
        _ => (0.0, "not priced"),
    }
}

/// One row of a workload's table: [before, after].
struct Row {
    caller: String,
    service: String,
    operation: String,
    per_document: [f64; 2],
    units: [String; 2],
    cost_per_1000: [f64; 2],
    basis: &'static str,
}

fn rows(phases: [&Measured; 2]) -> Vec<Row> {
    let mut keys: Vec<&Key> = phases.iter().flat_map(|m| m.requests.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = Vec::new();
    for key in keys {
        let mut row = Row {
            caller: key.0.clone(),
            service: key.1.clone(),
            operation: key.2.clone(),
            per_document: [0.0; 2],
            units: [String::new(), String::new()],
            cost_per_1000: [0.0; 2],
            basis: "",
        };
        for (i, phase) in phases.iter().enumerate() {
            let usage = phase.requests.get(key).copied().unwrap_or_default();
            let documents = phase.documents as f64;
            let (cost, basis) = price(key, &usage);
            row.per_document[i] = usage.requests / documents;
            row.cost_per_1000[i] = cost / documents * 1000.0;
            row.basis = basis;
            let units = match (usage.read_units, usage.write_units) {
                (r, w) if r > 0.0 && w > 0.0 => {
                    format!("{:.2} RRU {:.2} WRU", r / documents, w / documents)
                }
                (r, _) if r > 0.0 => format!("{:.2} RRU", r / documents),
                (_, w) if w > 0.0 => format!("{:.2} WRU", w / documents),
                _ => String::new(),
            };
            row.units[i] = if usage.distinct_items > 0 {
                format!(
                    "{units}, {:.2} items",
                    usage.distinct_items as f64 / documents
                )
            } else {
                units
            };
        }
        // Rows the idle subtraction emptied in both phases are polling, not work.
        if row.per_document.iter().any(|r| *r >= 0.005) {
            rows.push(row);
        }
    }
    let functions: std::collections::BTreeSet<&String> =
        phases.iter().flat_map(|m| m.invocations.keys()).collect();
    for function in functions {
        let mut row = Row {
            caller: "(invoked)".into(),
            service: "lambda".into(),
            operation: format!("Invoke {function}"),
            per_document: [0.0; 2],
            units: [String::new(), String::new()],
            cost_per_1000: [0.0; 2],
            basis: "Lambda requests",
        };
        for (i, phase) in phases.iter().enumerate() {
            let (count, _) = phase.invocations.get(function).copied().unwrap_or_default();
            let per_document = count as f64 / phase.documents as f64;
            row.per_document[i] = per_document;
            row.cost_per_1000[i] = per_document * LAMBDA_REQUEST * 1000.0;
        }
        rows.push(row);
    }
    rows
}

fn print_workload(
    title: &str,
    before: &Measured,
    after: &Measured,
    memory: &BTreeMap<String, u32>,
) {
    let rows = rows([before, after]);
    println!(
        "\n{title}: AWS requests per document ({} documents each time)",
        after.documents
    );
    println!(
        "  before: stream filter off, {:.0} s; after: on, {:.0} s",
        before.seconds, after.seconds
    );
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.caller.clone(),
                r.service.clone(),
                r.operation.clone(),
                format!("{:.2}", r.per_document[0]),
                format!("{:.2}", r.per_document[1]),
                r.units[0].clone(),
                r.units[1].clone(),
                format!("{:.5}", r.cost_per_1000[0]),
                format!("{:.5}", r.cost_per_1000[1]),
                r.basis.to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "caller",
            "service",
            "operation",
            "before",
            "after",
            "units before",
            "units after",
            "$/1000 before",
            "$/1000 after",
            "priced as",
        ],
        &[3, 4, 7, 8],
        &table,
    );
    let mut services: BTreeMap<&str, ([f64; 2], [f64; 2])> = BTreeMap::new();
    for row in &rows {
        let entry = services.entry(row.service.as_str()).or_default();
        for i in 0..2 {
            entry.0[i] += row.per_document[i];
            entry.1[i] += row.cost_per_1000[i];
        }
    }
    let mut total = ([0.0; 2], [0.0; 2]);
    let mut table: Vec<Vec<String>> = Vec::new();
    for (service, (requests, cost)) in &services {
        for i in 0..2 {
            total.0[i] += requests[i];
            total.1[i] += cost[i];
        }
        table.push(vec![
            service.to_string(),
            format!("{:.2}", requests[0]),
            format!("{:.2}", requests[1]),
            format!("{:.5}", cost[0]),
            format!("{:.5}", cost[1]),
        ]);
    }
    table.push(vec![
        "total".into(),
        format!("{:.2}", total.0[0]),
        format!("{:.2}", total.0[1]),
        format!("{:.5}", total.1[0]),
        format!("{:.5}", total.1[1]),
    ]);
    println!("  {title}, by service (requests per document, USD per 1,000 documents):");
    print_table(
        &[
            "service",
            "before",
            "after",
            "$/1000 before",
            "$/1000 after",
        ],
        &[1, 2, 3, 4],
        &table,
    );
    let gb_seconds = |phase: &Measured| -> f64 {
        phase
            .invocations
            .iter()
            .map(|(name, (_, ms))| {
                let mb = memory.get(name).copied().unwrap_or(128);
                *ms as f64 / 1000.0 * f64::from(mb) / 1024.0
            })
            .sum::<f64>()
            / phase.documents as f64
    };
    let stream = |phase: &Measured| {
        let per = |count: u64| count as f64 / phase.documents as f64;
        format!(
            "{:.2} records a document, {:.2} filtered out, {:.2} batches to notify",
            per(phase.stream[0]),
            per(phase.stream[1]),
            per(phase.stream[2])
        )
    };
    println!(
        "  notify's stream: before {}; after {}",
        stream(before),
        stream(after)
    );
    let (gbs_before, gbs_after) = (gb_seconds(before), gb_seconds(after));
    // Debug builds against moto on shared cores: an upper bound, not what AWS would bill.
    println!(
        "  Lambda duration as measured here (debug builds, local): before {gbs_before:.3} GB-s a \
         document (${:.4} per 1,000 on arm64), after {gbs_after:.3} GB-s (${:.4})",
        gbs_before * LAMBDA_GB_SECOND_ARM * 1000.0,
        gbs_after * LAMBDA_GB_SECOND_ARM * 1000.0
    );
}

fn print_idle(idle: &Idle) {
    println!(
        "\nidle polling, nothing submitted ({:.0} s); each phase has its rate times the phase's \
         duration taken off:",
        idle.seconds
    );
    let table: Vec<Vec<String>> = idle
        .per_second
        .iter()
        .map(|((caller, service, operation), usage)| {
            vec![
                caller.clone(),
                service.clone(),
                operation.clone(),
                format!("{:.2}", usage.requests),
            ]
        })
        .collect();
    print_table(
        &["caller", "service", "operation", "requests/s"],
        &[3],
        &table,
    );
}

/// How the figures are made, printed under the tables.
const ASSUMPTIONS: &[&str] = &[
    "callers: each function signs with its own name; `eventsource` is the local stand-in for",
    "  Lambda's event source mappings (validate's SQS mapping, notify's stream mapping);",
    "  `uploader` the browser's or the station's presigned POST; `s3` and `sns` the messages",
    "  those services deliver to SQS; `(invoked)` the Lambda invocations.",
    "DynamoDB units are measured from item sizes (tests/local-aws/moto_server.py): 1 WRU per KB",
    "  of an item written (2 in a transaction), plus the writes of each global secondary index",
    "  it enters, changes in or leaves; 1 RRU per 4 KB read (half when eventually consistent);",
    "  `items` are the distinct items the requests named.",
    "web uploads go one at a time, the stack quiet in between (documents minutes apart); the",
    "  scans as one batch.",
    "SQS requests are priced per 64 KB chunk of the request body; receives are assumed to",
    "  answer less than 64 KB.",
    "the local SQS stand-in long-polls 1 s at a time and the stream stand-in polls every",
    "  100 ms: their idle rate is not Lambda's, so only the work above it is shown.",
    "Lambda requests are the invocations: the web upload's are its upload request and one",
    "  status query, the scan's the station's calls to intake-api (it polls the batch report",
    "  every 2 s).",
    "prices: Frankfurt list prices without free tiers (tests/src/bin/intake-requests.rs names",
    "  the pages).",
];

fn print_assumptions() {
    println!("\nHow the figures are made:");
    for line in ASSUMPTIONS {
        let bullet = if line.starts_with(' ') { " " } else { "-" };
        println!("{bullet} {}", line.trim_start());
    }
}

/// Prints a table; the columns numbered in `right` are aligned right.
fn print_table(header: &[&str], right: &[usize], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if right.contains(&i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    println!();
    line(header.to_vec());
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(rules.iter().map(String::as_str).collect());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(caller: &str, service: &str, operation: &str) -> Key {
        (caller.into(), service.into(), operation.into())
    }

    fn requests(requests: f64) -> Usage {
        Usage {
            requests,
            ..Usage::default()
        }
    }

    #[test]
    fn requests_are_priced_by_service_and_kind() {
        let thousand = requests(1000.0);
        let (put, _) = price(&key("validate", "s3", "PutObject"), &thousand);
        let (get, _) = price(&key("validate", "s3", "GetObject"), &thousand);
        let (delete, _) = price(&key("validate", "s3", "DeleteObject"), &thousand);
        assert!((put - 0.0054).abs() < 1e-12 && (get - 0.00043).abs() < 1e-12);
        assert_eq!(delete, 0.0);
        let (trigger, _) = price(
            &key(EVENT_SOURCE_KEY, "dynamodbstreams", "GetRecords"),
            &thousand,
        );
        assert_eq!(trigger, 0.0);
        let million = requests(1e6);
        let (fifo, _) = price(&key("sns", "sqs", "SendMessage (FIFO)"), &million);
        let (standard, _) = price(&key("s3", "sqs", "SendMessage"), &million);
        assert!((fifo - 0.50).abs() < 1e-9 && (standard - 0.40).abs() < 1e-9);
        // A 100 KB message is two 64 KB chunks.
        let large = Usage {
            max_request_bytes: 100 * 1024,
            ..million
        };
        let (chunked, _) = price(&key("notify", "sqs", "SendMessage"), &large);
        assert!((chunked - 0.80).abs() < 1e-9);
        let units = Usage {
            read_units: 1e6,
            write_units: 2e6,
            ..Usage::default()
        };
        let (dynamodb, _) = price(
            &key("notify", "dynamodb", "UpdateItem intake-documents"),
            &units,
        );
        assert!((dynamodb - (0.1525 + 2.0 * 0.7625)).abs() < 1e-9);
    }

    #[test]
    fn idle_polling_is_taken_off_but_never_below_zero() {
        let left = requests(10.0).less(requests(3.5));
        assert!((left.requests - 6.5).abs() < 1e-12);
        assert_eq!(requests(1.0).less(requests(3.0)).requests, 0.0);
    }
}
