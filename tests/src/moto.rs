//! moto server, the local AWS: installed with pip when missing, started on a free loopback port
//! through `tests/local-aws/moto_server.py` (moto with DynamoDB requests one at a time, so a
//! cancelled transaction undoes only itself, as on DynamoDB), stopped when dropped.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

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
