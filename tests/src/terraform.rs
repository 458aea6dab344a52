//! Applying `infra/` to the local AWS with the real terraform.
//!
//! Init works offline when the machine has a provider mirror (a `-plugin-dir` layout with
//! `registry.terraform.io/hashicorp/aws` in it) and online against the registry otherwise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use tokio::process::Command;

/// Directories searched for a provider mirror, after `INTAKE_TF_PLUGIN_DIR`.
const MIRROR_CANDIDATES: &[&str] = &[
    "/opt/tf-plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
];

/// The local provider mirror, if this machine has one.
pub fn provider_mirror() -> Option<PathBuf> {
    let home_plugins = std::env::var("HOME")
        .ok()
        .map(|h| PathBuf::from(h).join(".terraform.d/plugins"));
    std::env::var("INTAKE_TF_PLUGIN_DIR")
        .ok()
        .map(PathBuf::from)
        .into_iter()
        .chain(MIRROR_CANDIDATES.iter().map(PathBuf::from))
        .chain(home_plugins)
        .find(|dir| dir.join("registry.terraform.io/hashicorp/aws").is_dir())
}

/// One function as deployed.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionOutput {
    /// The function name.
    pub name: String,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Timeout in seconds.
    pub timeout_s: u64,
    /// The environment variables.
    pub environment: HashMap<String, String>,
    /// The logging configuration's application log level (`INFO`).
    pub log_level: String,
}

/// The event source mapping of validate.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSourceOutput {
    /// The queue ARN.
    pub queue_arn: String,
    /// Messages per invocation.
    pub batch_size: usize,
}

/// What `infra/` outputs.
#[derive(Debug, Clone)]
pub struct StackOutputs {
    /// The function URL of intake-api.
    pub api_url: String,
    /// incoming, archive, quarantine.
    pub buckets: HashMap<String, String>,
    /// The documents table.
    pub documents_table: String,
    /// The counts table (counters, marks of counted documents, reports).
    pub counts_table: String,
    /// Counter items per day.
    pub counter_shards: u32,
    /// The validate queue.
    pub validate_queue_url: String,
    /// Its dead-letter queue.
    pub validate_dlq_url: String,
    /// The functions by short name.
    pub functions: HashMap<String, FunctionOutput>,
    /// How validate is fed.
    pub validate_event_source: EventSourceOutput,
    /// How notify is fed.
    pub notify_event_source: StreamSourceOutput,
    /// How the receipts function is fed.
    pub receipts_event_source: StreamSourceOutput,
    /// The departments' notification topic.
    pub notification_topic_arn: String,
    /// Each department's queue URL, by department id.
    pub department_queues: HashMap<String, String>,
    /// Each department's consumer role ARN, by department id.
    pub department_consumer_roles: HashMap<String, String>,
    /// The scanning stations (site ids) with their addresses.
    pub stations: HashMap<String, String>,
    /// Where the stations' keys are kept in SSM.
    pub station_key_prefix: String,
    /// Where the daily reports go.
    pub reports_bucket: String,
    /// The management topic.
    pub management_topic_arn: String,
    /// The daily report's schedule: `expression` and `timezone`.
    pub daily_report_schedule: HashMap<String, String>,
    /// The incoming register's table.
    pub register_table: String,
    /// The KMS key that signs receipts.
    pub receipt_key_id: String,
    /// Where the receipt key's certificate chain is installed.
    pub receipt_certificate_parameter: String,
}

/// A stream event source mapping, as Terraform describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamSourceOutput {
    /// The table stream.
    pub stream_arn: String,
    /// Records per invocation.
    pub batch_size: usize,
    /// The mapping's filter patterns (JSON): a record reaches notify when any matches.
    pub filter_patterns: Vec<String>,
}

/// A terraform working area for one stack: its own data dir and state, outside `infra/`.
pub struct Terraform {
    infra: PathBuf,
    work: PathBuf,
    endpoint: String,
}

impl Terraform {
    /// Terraform for `infra` against `endpoint`, keeping its files in `work`.
    pub fn new(infra: &Path, work: &Path, endpoint: &str) -> Self {
        Terraform {
            infra: infra.to_path_buf(),
            work: work.to_path_buf(),
            endpoint: endpoint.to_string(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("terraform");
        command
            .arg(format!("-chdir={}", self.infra.display()))
            .env("TF_DATA_DIR", self.work.join("tf-data"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .kill_on_drop(true);
        // A CLI config that does not exist only makes terraform print a warning.
        if let Ok(config) = std::env::var("TF_CLI_CONFIG_FILE") {
            if !Path::new(&config).is_file() {
                command.env_remove("TF_CLI_CONFIG_FILE");
            }
        }
        command
    }

    async fn run(&self, args: &[String], what: &str) -> anyhow::Result<Vec<u8>> {
        let output = self
            .command()
            .args(args)
            .output()
            .await
            .with_context(|| format!("running terraform {what} (is terraform installed?)"))?;
        let log = self.work.join(format!("terraform-{what}.log"));
        let mut text = output.stdout.clone();
        text.extend_from_slice(&output.stderr);
        std::fs::write(&log, &text)?;
        if !output.status.success() {
            let tail: String = String::from_utf8_lossy(&text)
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            bail!("terraform {what} failed (log: {}):\n{tail}", log.display());
        }
        Ok(output.stdout)
    }

    /// `terraform init`, offline from a provider mirror when there is one.
    pub async fn init(&self) -> anyhow::Result<()> {
        let mut args = vec![
            "init".to_string(),
            "-backend=false".into(),
            "-input=false".into(),
            "-no-color".into(),
        ];
        if let Some(mirror) = provider_mirror() {
            args.push(format!("-plugin-dir={}", mirror.display()));
        }
        self.run(&args, "init").await.map(|_| ())
    }

    /// `terraform apply` with `vars`, then the outputs.
    pub async fn apply(&self, vars: &[(&str, String)]) -> anyhow::Result<StackOutputs> {
        let state = self.work.join("terraform.tfstate");
        let mut args = vec![
            "apply".to_string(),
            "-auto-approve".into(),
            "-input=false".into(),
            "-no-color".into(),
            format!("-state={}", state.display()),
            format!("-var=aws_endpoint_url={}", self.endpoint),
            // Every queue costs the provider a wait against moto; create them side by side.
            "-parallelism=40".into(),
        ];
        args.extend(vars.iter().map(|(k, v)| format!("-var={k}={v}")));
        self.run(&args, "apply").await?;
        let json = self
            .run(
                &[
                    "output".to_string(),
                    "-json".into(),
                    format!("-state={}", state.display()),
                ],
                "output",
            )
            .await?;
        parse_outputs(&json)
    }
}

fn parse_outputs(json: &[u8]) -> anyhow::Result<StackOutputs> {
    let raw: HashMap<String, serde_json::Value> =
        serde_json::from_slice(json).context("terraform output -json is not JSON")?;
    let value = |name: &str| -> anyhow::Result<serde_json::Value> {
        raw.get(name)
            .and_then(|o| o.get("value"))
            .cloned()
            .with_context(|| format!("terraform output {name} is missing"))
    };
    Ok(StackOutputs {
        api_url: serde_json::from_value(value("api_url")?)?,
        buckets: serde_json::from_value(value("buckets")?)?,
        documents_table: serde_json::from_value(value("documents_table")?)?,
        counts_table: serde_json::from_value(value("counts_table")?)?,
        counter_shards: serde_json::from_value(value("counter_shards")?)?,
        validate_queue_url: serde_json::from_value(value("validate_queue_url")?)?,
        validate_dlq_url: serde_json::from_value(value("validate_dlq_url")?)?,
        functions: serde_json::from_value(value("functions")?)?,
        validate_event_source: serde_json::from_value(value("validate_event_source")?)?,
        notify_event_source: serde_json::from_value(value("notify_event_source")?)?,
        receipts_event_source: serde_json::from_value(value("receipts_event_source")?)?,
        notification_topic_arn: serde_json::from_value(value("notification_topic_arn")?)?,
        department_queues: serde_json::from_value(value("department_queues")?)?,
        department_consumer_roles: serde_json::from_value(value("department_consumer_roles")?)?,
        stations: serde_json::from_value(value("stations")?)?,
        station_key_prefix: serde_json::from_value(value("station_key_prefix")?)?,
        reports_bucket: serde_json::from_value(value("reports_bucket")?)?,
        management_topic_arn: serde_json::from_value(value("management_topic_arn")?)?,
        daily_report_schedule: serde_json::from_value(value("daily_report_schedule")?)?,
        register_table: serde_json::from_value(value("register_table")?)?,
        receipt_key_id: serde_json::from_value(value("receipt_key_id")?)?,
        receipt_certificate_parameter: serde_json::from_value(value(
            "receipt_certificate_parameter",
        )?)?,
    })
}
