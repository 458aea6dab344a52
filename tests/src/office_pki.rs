//! The office's PKI on the local stack: a test certification authority that issues the receipt
//! key's certificate (from the request `intake receipt-key csr` makes through KMS), and an
//! RFC 3161 time-stamping authority that answers with `openssl ts -reply`, both made with
//! openssl in the stack's work directory. Nothing here is a real trust service.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use tokio::process::Command;

/// The test CA and TSA of one stack.
#[derive(Debug, Clone)]
pub struct OfficePki {
    /// Where their keys, certificates and configuration are.
    pub dir: PathBuf,
    /// One `openssl ts -reply` at a time: each writes the TSA's serial file.
    replying: Arc<tokio::sync::Mutex<()>>,
}

async fn openssl(args: &[&str], dir: &Path) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .context("openssl is needed for the local PKI")?;
    if !output.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

const OFFICE_EXTENSIONS: &str = "basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

const TSA_EXTENSIONS: &str = "basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

impl OfficePki {
    /// Makes a CA and a TSA certificate it issues, in `dir`.
    pub async fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        let ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
        let mut genkey = vec!["genpkey"];
        genkey.extend(ec);
        openssl(&[genkey.as_slice(), &["-out", "ca.key"]].concat(), &dir).await?;
        openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-sha256",
                "-days",
                "3650",
                "-subj",
                "/C=PL/O=intake test/CN=intake test CA (not a trust service)",
                "-addext",
                "basicConstraints=critical,CA:true",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "ca.pem",
            ],
            &dir,
        )
        .await?;
        std::fs::write(dir.join("office-ext.cnf"), OFFICE_EXTENSIONS)?;
        std::fs::write(dir.join("tsa-ext.cnf"), TSA_EXTENSIONS)?;
        openssl(&[genkey.as_slice(), &["-out", "tsa.key"]].concat(), &dir).await?;
        openssl(
            &[
                "req",
                "-new",
                "-key",
                "tsa.key",
                "-subj",
                "/C=PL/O=intake test/CN=intake test TSA",
                "-out",
                "tsa.csr",
            ],
            &dir,
        )
        .await?;
        let pki = OfficePki {
            dir,
            replying: Arc::default(),
        };
        pki.issue(
            &pki.dir.join("tsa.csr"),
            "tsa-ext.cnf",
            &pki.dir.join("tsa.pem"),
        )
        .await?;
        std::fs::write(pki.dir.join("serial"), "01\n")?;
        let config = format!(
            "[ tsa ]\ndefault_tsa = tsa_config1\n\n[ tsa_config1 ]\ndir = {dir}\nserial = $dir/serial\n\
             crypto_device = builtin\nsigner_cert = $dir/tsa.pem\ncerts = $dir/ca.pem\n\
             signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
             digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            dir = pki.dir.display()
        );
        std::fs::write(pki.dir.join("tsa.cnf"), config)?;
        Ok(pki)
    }

    /// The CA's certificate: the trust anchor for receipts and timestamps.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    async fn issue(&self, request: &Path, extensions: &str, out: &Path) -> anyhow::Result<()> {
        let serial = format!("0x{:016x}", rand_serial());
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &request.display().to_string(),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &serial,
                "-days",
                "825",
                "-sha256",
                "-extfile",
                extensions,
                "-out",
                &out.display().to_string(),
            ],
            &self.dir,
        )
        .await
    }

    /// Issues the office's certificate for a request (PEM) and writes the chain (the office's
    /// certificate, then the CA's) to `chain`.
    pub async fn issue_office_certificate(
        &self,
        request: &Path,
        chain: &Path,
    ) -> anyhow::Result<()> {
        let office = self.dir.join("office.pem");
        self.issue(request, "office-ext.cnf", &office).await?;
        let mut pem = std::fs::read_to_string(&office)?;
        pem.push_str(&std::fs::read_to_string(self.ca_pem())?);
        std::fs::write(chain, pem)?;
        Ok(())
    }

    /// Serves the TSA on a free loopback port; returns its URL.
    pub async fn serve_tsa(&self) -> anyhow::Result<String> {
        // Each request's files are numbered apart.
        let answered = Arc::new(AtomicU64::new(0));
        let pki = self.clone();
        let port = crate::http::serve(move |request| {
            let pki = pki.clone();
            let answered = answered.clone();
            async move {
                let n = answered.fetch_add(1, Ordering::SeqCst);
                match pki.reply(&request.body, n).await {
                    Ok(reply) => {
                        let mut response = crate::http::response(200, reply);
                        response.headers_mut().insert(
                            hyper::header::CONTENT_TYPE,
                            hyper::header::HeaderValue::from_static("application/timestamp-reply"),
                        );
                        response
                    }
                    Err(_) => crate::http::response(500, "the test TSA failed"),
                }
            }
        })
        .await?;
        Ok(format!("http://127.0.0.1:{port}/tsa"))
    }

    async fn reply(&self, query: &[u8], n: u64) -> anyhow::Result<Vec<u8>> {
        let _one_at_a_time = self.replying.lock().await;
        let query_file = self.dir.join(format!("query-{n}.tsq"));
        let reply_file = self.dir.join(format!("reply-{n}.tsr"));
        std::fs::write(&query_file, query)?;
        let result = openssl(
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                &query_file.display().to_string(),
                "-out",
                &reply_file.display().to_string(),
            ],
            &self.dir,
        )
        .await;
        let reply = result.and_then(|()| Ok(std::fs::read(&reply_file)?));
        let _ = std::fs::remove_file(&query_file);
        let _ = std::fs::remove_file(&reply_file);
        reply
    }
}

/// A serial number no two certificates of a run share.
fn rand_serial() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (now ^ NEXT.fetch_add(1, Ordering::SeqCst)) >> 1
}
