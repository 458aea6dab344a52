//! moto server, the local AWS: installed with pip when missing, started on a free loopback port
//! through `tests/local-aws/moto_server.py` (moto with DynamoDB requests one at a time, so a
//! cancelled transaction undoes only itself, as on DynamoDB, and a count of its requests by
//! caller, service and operation), stopped when dropped.
//!
//! The caller of a request is the access key id it is signed with (moto takes any): each
//! function signs with its short name (`validate`), the stand-ins for Lambda's event source
//! mappings with [`EVENT_SOURCE_KEY`], the harness with [`HARNESS_KEY`].

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use tokio::process::{Child, Command};

/// The access key id of the pollers that stand in for Lambda's event source mappings.
pub const EVENT_SOURCE_KEY: &str = "eventsource";

/// The access key id of the harness's own clients (readers, setup, checks).
pub const HARNESS_KEY: &str = "harness";

/// Where the local AWS serves its request counts (GET) and resets them (DELETE).
const COUNTS_PATH: &str = "/_intake/requests";

/// The requests the local AWS served for one caller, service and operation since the last
/// reset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RequestCount {
    /// The access key id signing the requests, `uploader` for presigned POST uploads, or `s3`
    /// and `sns` for the messages those services deliver to SQS.
    pub caller: String,
    /// `dynamodb`, `dynamodbstreams`, `s3`, `sqs`, `sns`...
    pub service: String,
    /// `PutItem`, `GetObject`, `ReceiveMessage (FIFO)`...
    pub operation: String,
    /// Requests.
    pub requests: u64,
    /// DynamoDB read request units they would be billed.
    pub read_units: f64,
    /// DynamoDB write request units they would be billed (global secondary indexes included).
    pub write_units: f64,
    /// The largest request body, in bytes (S3 bodies are not read: 0).
    pub max_request_bytes: u64,
    /// The distinct DynamoDB items the requests named (fewer than the requests: some item was
    /// read or written more than once).
    #[serde(default)]
    pub distinct_items: u64,
}

#[derive(Deserialize)]
struct RequestCounts {
    requests: Vec<RequestCount>,
}

/// The requests the local AWS at `endpoint` served since the last reset.
pub async fn request_counts(endpoint: &str) -> anyhow::Result<Vec<RequestCount>> {
    let answer = reqwest::get(format!("{endpoint}{COUNTS_PATH}"))
        .await
        .context("reading the local AWS's request counts")?
        .error_for_status()
        .context("reading the local AWS's request counts")?;
    let counts: RequestCounts = answer
        .json()
        .await
        .context("the local AWS's request counts are not the JSON expected")?;
    Ok(counts.requests)
}

/// Sets the local AWS's request counts back to zero.
pub async fn reset_request_counts(endpoint: &str) -> anyhow::Result<()> {
    reqwest::Client::new()
        .delete(format!("{endpoint}{COUNTS_PATH}"))
        .send()
        .await
        .context("resetting the local AWS's request counts")?
        .error_for_status()
        .context("resetting the local AWS's request counts")?;
    Ok(())
}

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    child: Child,
}

impl Moto {
    /// Starts moto, logging to `log`.
    pub async fn start(log: &Path) -> anyhow::Result<Moto> {
        ensure_installed().await?;
        let port = crate::process::free_port()?;
        let mut command = Command::new(python());
        let server = crate::workspace_root().join("tests/local-aws/moto_server.py");
        command
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let child = crate::process::spawn_logged(&mut command, log)
            .with_context(|| format!("starting moto server ({})", server.display()))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{endpoint}/moto-api/")).send().await {
                if r.status().is_success() {
                    return Ok(Moto { endpoint, child });
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "moto did not answer on {endpoint} within 20 s; see {}",
            log.display()
        )
    }

    /// Stops moto.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

async fn ensure_installed() -> anyhow::Result<()> {
    let probe = Command::new(python())
        .args(["-c", "import moto.server, flask_cors"])
        .output()
        .await
        .context("running python3 (is Python 3 installed?)")?;
    if probe.status.success() {
        return Ok(());
    }
    eprintln!("moto server is not installed: pip install 'moto[server]'");
    let status = Command::new(python())
        .args(["-m", "pip", "install", "--quiet", "moto[server]>=5.1,<6"])
        .status()
        .await
        .context("running pip")?;
    if !status.success() {
        bail!("pip install 'moto[server]' failed");
    }
    Ok(())
}
