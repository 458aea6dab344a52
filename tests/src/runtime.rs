//! Running a function binary as Lambda does: the binary is started with Lambda's environment
//! and pulls its invocations from an emulation of the Lambda Runtime API
//! (`/2018-06-01/runtime/invocation/next`, `.../response`, `.../error`, `/init/error`).
//!
//! Like a Lambda sandbox, a host runs one invocation at a time, starts its process on the first
//! invocation (a cold start), and starts a new one after a crash or a timeout.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, oneshot};

use crate::http::{HttpRequest, response};
use crate::proxy::FaultRule;

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/";

/// How an invocation ended, when it did not return a response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error (`/invocation/{id}/error`).
    #[error("function error: {0}")]
    Function(String),
    /// The process exited mid-invocation (or at init).
    #[error("function process exited ({status}){init}")]
    Crashed {
        /// The exit status.
        status: String,
        /// The init error the runtime reported, if any.
        init: String,
    },
    /// The invocation ran past the function's timeout; the process was killed.
    #[error("function timed out after {0:?}")]
    TimedOut(Duration),
    /// The harness could not start the process.
    #[error("could not start the function: {0}")]
    Start(String),
}

/// What a host needs to run a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Short name (`validate`).
    pub name: String,
    /// The deployed function name.
    pub function_name: String,
    /// The binary.
    pub binary: PathBuf,
    /// The environment from the deployed configuration.
    pub environment: HashMap<String, String>,
    /// The logging configuration's level, which Lambda gives as `AWS_LAMBDA_LOG_LEVEL`.
    pub log_level: String,
    /// Memory in MB (reported to the runtime as Lambda does).
    pub memory_mb: u32,
    /// Timeout.
    pub timeout: Duration,
    /// The region.
    pub region: String,
    /// Where the process's output goes.
    pub log: PathBuf,
}

/// Counters of what happened to a host.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HostStats {
    /// Processes started.
    pub cold_starts: u64,
    /// Invocations that returned a response.
    pub responses: u64,
    /// Invocations that reported an error.
    pub errors: u64,
    /// Invocations lost to a crash or timeout.
    pub crashes: u64,
    /// Wall time of all invocations, from the hand-off to the end (a cold start's process
    /// start included), in milliseconds: what Lambda bills as duration, roughly.
    pub invocation_ms: u64,
}

struct Pending {
    id: String,
    payload: Bytes,
    deadline_ms: u128,
}

enum Outcome {
    Response(Bytes),
    Error(String),
}

struct Shared {
    spec: FunctionSpec,
    port: OnceLock<u16>,
    proxy_endpoint: OnceLock<String>,
    next: Mutex<Option<Pending>>,
    next_ready: Notify,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    pid: AtomicU32,
    cold_starts: AtomicU64,
    responses: AtomicU64,
    errors: AtomicU64,
    crashes: AtomicU64,
    invocation_ms: AtomicU64,
    faults: Mutex<Vec<FaultRule>>,
}

/// A function binary under the Runtime API emulation.
#[derive(Clone)]
pub struct FunctionHost {
    shared: Arc<Shared>,
    /// The runtime the host was started on (the stack's, which lives as long as the harness):
    /// the process is started from one of its threads, because the parent-death signal that
    /// ties it to the harness fires when the thread that started it ends, and a test's own
    /// runtime ends with the test while other tests still use the function.
    home: tokio::runtime::Handle,
    child: Arc<tokio::sync::Mutex<Option<Child>>>,
    invoke_lock: Arc<tokio::sync::Mutex<()>>,
}

impl FunctionHost {
    /// Starts the runtime API endpoint and the AWS proxy for `spec`; the process starts on the
    /// first invocation.
    pub async fn start(spec: FunctionSpec, aws_endpoint: &str) -> anyhow::Result<FunctionHost> {
        let shared = Arc::new(Shared {
            spec,
            port: OnceLock::new(),
            proxy_endpoint: OnceLock::new(),
            next: Mutex::new(None),
            next_ready: Notify::new(),
            in_flight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            pid: AtomicU32::new(0),
            cold_starts: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            crashes: AtomicU64::new(0),
            invocation_ms: AtomicU64::new(0),
            faults: Mutex::new(Vec::new()),
        });
        let runtime_shared = shared.clone();
        let port = crate::http::serve(move |request| {
            let shared = runtime_shared.clone();
            async move { runtime_api(&shared, request).await }
        })
        .await?;
        let _ = shared.port.set(port);
        let proxy_shared = shared.clone();
        let proxy_port = crate::proxy::start(aws_endpoint, move |request| {
            let mut faults = proxy_shared
                .faults
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let hit = faults.iter().position(|rule| rule.matches(request));
            hit.map(|i| {
                let rule = faults.remove(i);
                crate::process::kill_hard(proxy_shared.pid.load(Ordering::SeqCst));
                rule.fault
            })
        })
        .await?;
        let _ = shared
            .proxy_endpoint
            .set(format!("http://127.0.0.1:{proxy_port}"));
        Ok(FunctionHost {
            shared,
            home: tokio::runtime::Handle::current(),
            child: Arc::new(tokio::sync::Mutex::new(None)),
            invoke_lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The endpoint the function's AWS SDK talks to (the fault proxy in front of moto).
    pub fn aws_endpoint(&self) -> &str {
        self.shared.proxy_endpoint.get().map_or("", String::as_str)
    }

    /// Adds a fault that fires once on the first AWS request it matches.
    pub fn inject(&self, rule: FaultRule) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    /// What happened so far.
    pub fn stats(&self) -> HostStats {
        HostStats {
            cold_starts: self.shared.cold_starts.load(Ordering::SeqCst),
            responses: self.shared.responses.load(Ordering::SeqCst),
            errors: self.shared.errors.load(Ordering::SeqCst),
            crashes: self.shared.crashes.load(Ordering::SeqCst),
            invocation_ms: self.shared.invocation_ms.load(Ordering::SeqCst),
        }
    }

    /// The peak resident memory of the function's current process, in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        crate::process::peak_memory_kib(self.shared.pid.load(Ordering::SeqCst))
    }

    /// Invokes the function with `payload` and waits for its response.
    pub async fn invoke(&self, payload: Bytes) -> Result<Bytes, InvokeError> {
        let _one_at_a_time = self.invoke_lock.lock().await;
        let started = std::time::Instant::now();
        let mut child_slot = self.child.lock().await;
        let running = match child_slot.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        };
        if !running {
            let host = self.clone();
            let spawned = self.home.spawn(async move { host.spawn() }).await;
            *child_slot = Some(match spawned {
                Ok(Ok(child)) => child,
                Ok(Err(e)) => return Err(InvokeError::Start(format!("{e:#}"))),
                Err(e) => return Err(InvokeError::Start(e.to_string())),
            });
        }
        let timeout = self.shared.spec.timeout;
        let id = uuid::Uuid::now_v7().to_string();
        let (tx, mut rx) = oneshot::channel();
        self.shared
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(timeout)
            .as_millis();
        *self.shared.next.lock().unwrap_or_else(|e| e.into_inner()) = Some(Pending {
            id: id.clone(),
            payload,
            deadline_ms,
        });
        self.shared.next_ready.notify_one();

        enum Ended {
            Outcome(Option<Outcome>),
            Exited(String),
            TimedOut,
        }
        let ended = {
            let Some(child) = child_slot.as_mut() else {
                return Err(InvokeError::Start("no process".into()));
            };
            tokio::select! {
                outcome = &mut rx => Ended::Outcome(outcome.ok()),
                status = child.wait() => Ended::Exited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())),
                _ = tokio::time::sleep(timeout) => Ended::TimedOut,
            }
        };
        // Whatever happened, this invocation is over: nothing of it may reach the next process.
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.shared
            .invocation_ms
            .fetch_add(elapsed, Ordering::SeqCst);
        self.shared
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        self.shared
            .next
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match ended {
            Ended::Outcome(Some(Outcome::Response(body))) => {
                self.shared.responses.fetch_add(1, Ordering::SeqCst);
                Ok(body)
            }
            Ended::Outcome(Some(Outcome::Error(error))) => {
                self.shared.errors.fetch_add(1, Ordering::SeqCst);
                Err(InvokeError::Function(error))
            }
            Ended::Outcome(None) | Ended::Exited(_) | Ended::TimedOut => {
                // A crash or timeout: the sandbox is gone, as on Lambda.
                if let Some(mut child) = child_slot.take() {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
                self.shared.crashes.fetch_add(1, Ordering::SeqCst);
                match ended {
                    Ended::TimedOut => Err(InvokeError::TimedOut(timeout)),
                    Ended::Exited(status) => Err(InvokeError::Crashed {
                        status,
                        init: self
                            .shared
                            .init_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .take()
                            .map(|e| format!("; init error: {e}"))
                            .unwrap_or_default(),
                    }),
                    _ => Err(InvokeError::Crashed {
                        status: "lost".into(),
                        init: String::new(),
                    }),
                }
            }
        }
    }

    fn spawn(&self) -> anyhow::Result<Child> {
        let spec = &self.shared.spec;
        let port = self.shared.port.get().context("runtime API not started")?;
        let mut command = Command::new(&spec.binary);
        command
            .env_clear()
            .envs(&spec.environment)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.function_name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.function_name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", &spec.log_level)
            .env("AWS_REGION", &spec.region)
            .env("AWS_DEFAULT_REGION", &spec.region)
            // moto takes any key: the function's name tells its requests apart in the local
            // AWS's request counts (tests/local-aws/moto_server.py).
            .env("AWS_ACCESS_KEY_ID", &spec.name)
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_SESSION_TOKEN", "local-session-token")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", self.aws_endpoint())
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC");
        if let Ok(filter) = std::env::var("RUST_LOG") {
            command.env("RUST_LOG", filter);
        }
        let child = crate::process::spawn_logged(&mut command, &spec.log)
            .with_context(|| format!("starting {}", spec.binary.display()))?;
        self.shared
            .pid
            .store(child.id().unwrap_or(0), Ordering::SeqCst);
        self.shared.cold_starts.fetch_add(1, Ordering::SeqCst);
        Ok(child)
    }

    /// Stops the process, if running.
    pub async fn stop(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            let _ = child.kill().await;
        }
    }
}

async fn runtime_api(
    shared: &Shared,
    request: HttpRequest,
) -> hyper::Response<http_body_util::Full<Bytes>> {
    let path = request.parts.uri.path().to_string();
    let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) else {
        return response(404, "not a runtime API path");
    };
    let method = request.parts.method.as_str();
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        ("GET", ["invocation", "next"]) => loop {
            let pending = shared.next.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(pending) = pending {
                let spec = &shared.spec;
                let mut r = response(200, pending.payload);
                let headers = r.headers_mut();
                let mut set = |name: &'static str, value: String| {
                    if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
                        headers.insert(name, v);
                    }
                };
                set("lambda-runtime-aws-request-id", pending.id);
                set(
                    "lambda-runtime-deadline-ms",
                    pending.deadline_ms.to_string(),
                );
                set(
                    "lambda-runtime-invoked-function-arn",
                    format!(
                        "arn:aws:lambda:{}:123456789012:function:{}",
                        spec.region, spec.function_name
                    ),
                );
                set(
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
                );
                set("content-type", "application/json".into());
                return r;
            }
            shared.next_ready.notified().await;
        },
        ("POST", ["invocation", id, kind @ ("response" | "error")]) => {
            let sender = shared
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(*id);
            match sender {
                Some(sender) => {
                    let outcome = if *kind == "response" {
                        Outcome::Response(request.body)
                    } else {
                        Outcome::Error(String::from_utf8_lossy(&request.body).into_owned())
                    };
                    let _ = sender.send(outcome);
                    response(202, "")
                }
                None => response(400, "unknown or finished invocation"),
            }
        }
        ("POST", ["init", "error"]) => {
            *shared.init_error.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(String::from_utf8_lossy(&request.body).into_owned());
            response(202, "")
        }
        _ => response(404, "unknown runtime API path"),
    }
}
