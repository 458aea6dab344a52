//! The whole system on a local AWS: moto, `infra/` applied with terraform, and the function
//! binaries running as Lambda runs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::Command;

use crate::moto::Moto;
use crate::office_pki::OfficePki;
use crate::poller::Poller;
use crate::runtime::{FunctionHost, FunctionSpec};
use crate::stream_poller::StreamPoller;
use crate::terraform::{StackOutputs, Terraform};

/// The functions the stack deploys and runs.
pub const FUNCTIONS: &[&str] = &["intake-api", "validate", "notify", "receipts", "aggregate"];

/// How to set up a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Where logs, packages and terraform state go.
    pub work_dir: PathBuf,
    /// Where the function binaries are (`target/debug` by default).
    pub bin_dir: PathBuf,
    /// Extra terraform variables (name, value).
    pub terraform_vars: Vec<(&'static str, String)>,
    /// Read the department queues continuously into [`Stack::notifications`] (for tests that
    /// run side by side: one reader, so none takes another's messages).
    pub collect_notifications: bool,
}

/// One notification read from a department's queue.
#[derive(Debug, Clone)]
pub struct Notified {
    /// The queue's department.
    pub department: String,
    /// The message body.
    pub body: serde_json::Value,
    /// When it was read.
    pub arrived: std::time::Instant,
}

/// Notifications by document id (batch notifications by `batch:<batch id>`).
pub type NotificationLog = std::sync::Arc<std::sync::Mutex<HashMap<String, Vec<Notified>>>>;

impl StackOptions {
    /// Defaults: binaries from `INTAKE_BIN_DIR` or the workspace's `target/debug`.
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        let bin_dir = std::env::var("INTAKE_BIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                std::env::var("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|_| crate::workspace_root().join("target"))
                    .join("debug")
            });
        StackOptions {
            work_dir: work_dir.into(),
            bin_dir,
            terraform_vars: Vec::new(),
            collect_notifications: false,
        }
    }
}

/// A running local stack.
pub struct Stack {
    moto: Option<Moto>,
    /// The local AWS endpoint.
    pub aws_endpoint: String,
    /// The region.
    pub region: String,
    /// What terraform created.
    pub outputs: StackOutputs,
    /// The web-form API's local function URL.
    pub api_url: String,
    /// The function hosts by short name.
    pub functions: HashMap<String, FunctionHost>,
    /// The poller feeding validate.
    pub validate_poller: Poller,
    /// The stream poller feeding notify.
    pub notify_poller: StreamPoller,
    /// The stream poller feeding the receipts function.
    pub receipts_poller: StreamPoller,
    /// The test CA that issued the receipt key's certificate, and the TSA.
    pub pki: OfficePki,
    /// Every notification read from the department queues, when collected.
    pub notifications: NotificationLog,
    /// Where logs and state are.
    pub work_dir: PathBuf,
}

impl Stack {
    /// Starts moto, applies `infra/`, and starts the functions.
    pub async fn start(options: StackOptions) -> anyhow::Result<Stack> {
        let work = &options.work_dir;
        std::fs::create_dir_all(work.join("logs"))?;
        for function in FUNCTIONS {
            let binary = options.bin_dir.join(function);
            if !binary.is_file() {
                bail!(
                    "{} is missing: build the functions first (cargo build --workspace --bins)",
                    binary.display()
                );
            }
        }
        let region = "eu-central-1".to_string();
        let moto = Moto::start(&work.join("logs/moto.log")).await?;
        let aws_endpoint = moto.endpoint.clone();

        let packages = work.join("packages");
        package_functions(&options.bin_dir, &packages).await?;

        let pki = OfficePki::create(&work.join("pki")).await?;
        let tsa_url = pki.serve_tsa().await?;

        let terraform = Terraform::new(&crate::workspace_root().join("infra"), work, &aws_endpoint);
        terraform.init().await?;
        let mut vars = vec![
            ("tsa_url", tsa_url),
            ("region", region.clone()),
            ("lambda_package_dir", packages.display().to_string()),
            ("lambda_architecture", "x86_64".to_string()),
            ("event_source_mapping_enabled", "false".to_string()),
            // moto enforces the TLS-only bucket policy, but serves plain HTTP.
            ("require_tls", "false".to_string()),
        ];
        vars.extend(options.terraform_vars.iter().cloned());
        let outputs = terraform.apply(&vars).await?;
        install_receipt_certificate(&options.bin_dir, &aws_endpoint, &region, &outputs, &pki)
            .await?;

        let mut functions = HashMap::new();
        for name in FUNCTIONS {
            let deployed = outputs
                .functions
                .get(*name)
                .with_context(|| format!("terraform has no function {name}"))?;
            let spec = FunctionSpec {
                name: name.to_string(),
                function_name: deployed.name.clone(),
                binary: options.bin_dir.join(name),
                environment: deployed.environment.clone(),
                log_level: deployed.log_level.clone(),
                memory_mb: deployed.memory_mb,
                timeout: Duration::from_secs(deployed.timeout_s),
                region: region.clone(),
                log: work.join(format!("logs/{name}.log")),
            };
            functions.insert(
                name.to_string(),
                FunctionHost::start(spec, &aws_endpoint).await?,
            );
        }
        let api_port = crate::function_url::start(functions["intake-api"].clone()).await?;
        let sdk = sdk_config_for(&aws_endpoint, &region).await;
        // The mappings' stand-ins sign as themselves, not as the harness, so the local AWS's
        // request counts tell their requests apart.
        let event_source =
            sdk_config_as(&aws_endpoint, &region, crate::moto::EVENT_SOURCE_KEY).await;
        let validate_poller = Poller::start(
            aws_sdk_sqs::Client::new(&event_source),
            outputs.validate_queue_url.clone(),
            outputs.validate_event_source.queue_arn.clone(),
            region.clone(),
            outputs.validate_event_source.batch_size,
            functions["validate"].clone(),
        );
        let filters = |source: &crate::terraform::StreamSourceOutput| {
            source
                .filter_patterns
                .iter()
                .map(|p| serde_json::from_str(p))
                .collect::<Result<Vec<serde_json::Value>, _>>()
        };
        let mapping = |source: &crate::terraform::StreamSourceOutput,
                       wakes: crate::stream_poller::Wakes,
                       function: &str|
         -> anyhow::Result<crate::stream_poller::StreamMapping> {
            Ok(crate::stream_poller::StreamMapping {
                host: functions[function].clone(),
                batch_size: source.batch_size,
                filters: filters(source)?,
                wakes,
                log: work.join(format!("logs/{function}-stream-poller.log")),
            })
        };
        let mut pollers = StreamPoller::start(
            aws_sdk_dynamodbstreams::Client::new(&event_source),
            outputs.notify_event_source.stream_arn.clone(),
            region.clone(),
            vec![
                mapping(
                    &outputs.notify_event_source,
                    intake::notification::wakes_notify,
                    "notify",
                )?,
                mapping(
                    &outputs.receipts_event_source,
                    |change| {
                        intake::receipt::desk::wakes_receipts(
                            change.old.as_ref(),
                            change.new.as_ref(),
                        )
                    },
                    "receipts",
                )?,
            ],
        )
        .into_iter();
        let (Some(notify_poller), Some(receipts_poller)) = (pollers.next(), pollers.next()) else {
            bail!("the stream poller started no mappings");
        };
        let notifications = NotificationLog::default();
        if options.collect_notifications {
            read_department_queues(
                aws_sdk_sqs::Client::new(&sdk),
                outputs.department_queues.clone(),
                notifications.clone(),
            );
        }
        Ok(Stack {
            moto: Some(moto),
            aws_endpoint,
            region,
            outputs,
            api_url: format!("http://127.0.0.1:{api_port}"),
            functions,
            validate_poller,
            notify_poller,
            receipts_poller,
            pki,
            notifications,
            work_dir: work.clone(),
        })
    }

    /// A fresh SDK configuration for the local AWS (one per caller: SDK connection pools belong
    /// to the runtime that made them).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.aws_endpoint, &self.region).await
    }

    /// An S3 client for the local AWS.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An object's bytes; panics naming it when it cannot be read (a test's failure).
    pub async fn object_bytes(&self, bucket: &str, key: &str) -> Vec<u8> {
        let object = self
            .s3()
            .await
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e}"));
        object
            .body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e}"))
            .into_bytes()
            .to_vec()
    }

    /// A host by short name.
    pub fn function(&self, name: &str) -> &FunctionHost {
        &self.functions[name]
    }

    /// The stream events notify was given that `wanted` picks, to deliver again.
    pub fn delivered_to_notify(
        &self,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        self.notify_poller
            .delivered
            .lock()
            .map(|delivered| delivered.iter().filter(|e| wanted(e)).cloned().collect())
            .unwrap_or_default()
    }

    /// Gives notify these stream events again, as Lambda does with a retried batch; returns
    /// its answers.
    pub async fn redeliver_to_notify(
        &self,
        events: &[serde_json::Value],
    ) -> Vec<serde_json::Value> {
        let mut answers = Vec::new();
        for event in events {
            let answer = self
                .function("notify")
                .invoke(event.to_string().into())
                .await
                .unwrap_or_else(|e| panic!("notify answers: {e}"));
            answers.push(serde_json::from_slice(&answer).unwrap_or_default());
        }
        answers
    }

    /// Stops the functions and moto.
    pub async fn stop(mut self) {
        for host in self.functions.values() {
            host.stop().await;
        }
        if let Some(moto) = self.moto.take() {
            moto.stop().await;
        }
    }
}

/// Reads every department queue, keeping each notification by document id and deleting it.
fn read_department_queues(
    sqs: aws_sdk_sqs::Client,
    queues: HashMap<String, String>,
    log: NotificationLog,
) {
    tokio::spawn(async move {
        loop {
            for (department, url) in &queues {
                let Ok(received) = sqs
                    .receive_message()
                    .queue_url(url)
                    .max_number_of_messages(10)
                    .send()
                    .await
                else {
                    continue;
                };
                for message in received.messages.unwrap_or_default() {
                    let body: serde_json::Value =
                        serde_json::from_str(message.body.as_deref().unwrap_or("null"))
                            .unwrap_or(serde_json::Value::Null);
                    // Documents by id; batch notifications as `batch:<batch id>`.
                    let id = body["document_id"]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| body["batch_id"].as_str().map(|b| format!("batch:{b}")))
                        .unwrap_or_default();
                    if let Ok(mut log) = log.lock() {
                        log.entry(id).or_default().push(Notified {
                            department: department.clone(),
                            body,
                            arrived: std::time::Instant::now(),
                        });
                    }
                    let _ = sqs
                        .delete_message()
                        .queue_url(url)
                        .set_receipt_handle(message.receipt_handle)
                        .send()
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// The office's step after deploying: a certificate request for the receipt key made through
/// KMS by `intake receipt-key csr`, the certificate the test CA issues for it, installed with
/// `intake receipt-key install` (before notify starts, which reads it at its cold start).
async fn install_receipt_certificate(
    bin_dir: &Path,
    endpoint: &str,
    region: &str,
    outputs: &StackOutputs,
    pki: &OfficePki,
) -> anyhow::Result<()> {
    let request = pki.dir.join("office.csr");
    let chain = pki.dir.join("office-chain.pem");
    let intake = |args: &[&str]| {
        let mut command = Command::new(bin_dir.join("intake"));
        command
            .args(args)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("INTAKE_RECEIPT_KEY_ID", &outputs.receipt_key_id);
        command
    };
    let run = |mut command: Command, what: &'static str| async move {
        let output = command
            .output()
            .await
            .with_context(|| format!("{what} runs"))?;
        if !output.status.success() {
            bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        anyhow::Ok(())
    };
    let request_arg = request.display().to_string();
    run(
        intake(&[
            "receipt-key",
            "csr",
            "--office-name",
            "Urząd Miasta Krakowa",
            "--out",
            &request_arg,
        ]),
        "intake receipt-key csr",
    )
    .await?;
    pki.issue_office_certificate(&request, &chain).await?;
    run(
        intake(&[
            "receipt-key",
            "install",
            "--parameter",
            &outputs.receipt_certificate_parameter,
            &chain.display().to_string(),
        ]),
        "intake receipt-key install",
    )
    .await
}

/// An SDK configuration for a local AWS at `endpoint`, signing as the harness.
pub async fn sdk_config_for(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    sdk_config_as(endpoint, region, crate::moto::HARNESS_KEY).await
}

/// An SDK configuration signing with `access_key_id`, which names the caller in the local
/// AWS's request counts.
async fn sdk_config_as(endpoint: &str, region: &str, access_key_id: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            access_key_id,
            "test",
            None,
            None,
            "local",
        ))
        .load()
        .await
}

/// Zips each function binary as `bootstrap`, the layout Lambda's provided.al2023 runtime wants.
async fn package_functions(bin_dir: &Path, packages: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(packages)?;
    for function in FUNCTIONS {
        let script = "import sys, zipfile\n\
            with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as z:\n\
            \x20   info = zipfile.ZipInfo('bootstrap')\n\
            \x20   info.external_attr = 0o755 << 16\n\
            \x20   info.compress_type = zipfile.ZIP_DEFLATED\n\
            \x20   z.writestr(info, open(sys.argv[1], 'rb').read())\n";
        let status = Command::new("python3")
            .args(["-c", script])
            .arg(bin_dir.join(function))
            .arg(packages.join(format!("{function}.zip")))
            .status()
            .await
            .context("running python3 to package the functions")?;
        if !status.success() {
            bail!("packaging {function} failed");
        }
    }
    Ok(())
}

/// The stack of a test process: started on first use, on a thread of its own for the whole
/// process (children are tied to the thread that started them), in
/// `target/local-stack-tests/<name>-<pid>`, with `configure` applied to its options. A stack
/// that does not start fails every test that asks for it, with the reason.
pub fn for_tests(name: &str, configure: fn(&mut StackOptions)) -> &'static Stack {
    static STACK: std::sync::OnceLock<&'static Stack> = std::sync::OnceLock::new();
    STACK.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        let work = crate::workspace_root()
            .join("target/local-stack-tests")
            .join(format!("{name}-{}", std::process::id()));
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => panic!("no tokio runtime for the local stack: {e}"),
            };
            let mut options = StackOptions::new(work);
            configure(&mut options);
            let stack: &'static Stack = match runtime.block_on(Stack::start(options)) {
                Ok(stack) => Box::leak(Box::new(stack)),
                Err(e) => panic!("the local stack did not start: {e:#}"),
            };
            if sender.send(stack).is_err() {
                return;
            }
            loop {
                std::thread::park();
            }
        });
        match receiver.recv() {
            Ok(stack) => stack,
            Err(_) => panic!("the local stack did not start (see the panic above)"),
        }
    })
}

impl Stack {
    async fn aws(&self) -> intake::adapters::Aws {
        intake::adapters::Aws {
            config: self.sdk_config().await,
            s3_force_path_style: true,
        }
    }

    /// The documents table, through the library's adapter.
    pub async fn table(&self) -> intake::adapters::dynamodb::DocumentTable {
        intake::adapters::dynamodb::DocumentTable::new(
            &self.aws().await,
            &self.outputs.documents_table,
        )
    }

    /// The counts table, through the library's adapter.
    pub async fn counts(&self) -> intake::adapters::counters::CountsTable {
        intake::adapters::counters::CountsTable::new(&self.aws().await, &self.outputs.counts_table)
    }
}

/// Waits until `check` holds, polling every quarter second; panics naming `what` after
/// `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < timeout,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
