//! An RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4): a TimeStampReq posted as
//! `application/timestamp-query`, a TimeStampResp answered as `application/timestamp-reply`.

use std::time::Duration;

use super::AwsError;
use crate::ports::PortError;

/// The largest answer read: a token with the authority's chain is a few KiB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The authority at a URL.
#[derive(Debug, Clone)]
pub struct HttpTimestampAuthority {
    client: reqwest::Client,
    url: String,
}

impl HttpTimestampAuthority {
    /// The authority at `url`, each request given `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Result<Self, AwsError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|_| PortError::permanent("tsa:client", "no HTTP client could be built"))?;
        Ok(HttpTimestampAuthority {
            client,
            url: url.into(),
        })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts the request and answers the authority's reply (DER).
    pub async fn stamp(&self, request: &[u8]) -> Result<Vec<u8>, AwsError> {
        // The authority's errors are the network's or its own: worth trying again.
        let failed = |detail: String| PortError::transient("tsa:stamp", detail);
        let mut answer = self
            .client
            .post(&self.url)
            .header("content-type", "application/timestamp-query")
            .body(request.to_vec())
            .send()
            .await
            .map_err(|e| failed(format!("the authority did not answer ({})", kind(&e))))?;
        let status = answer.status();
        if !status.is_success() {
            return Err(failed(format!("the authority answered HTTP {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| failed(format!("the answer broke off ({})", kind(&e))))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(PortError::permanent(
                    "tsa:stamp",
                    format!("the authority's answer is over {MAX_ANSWER_BYTES} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// What kind of failure, in our words.
fn kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "no connection"
    } else {
        "transport error"
    }
}
