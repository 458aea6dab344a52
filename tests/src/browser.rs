//! The web form, as a browser runs it: ask for an upload, post the file with the presigned
//! form, then poll for the verdict.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

/// One submitted document.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The upload id.
    pub upload_id: String,
    /// The HTTP status of the presigned POST.
    pub post_status: u16,
}

/// Asks the API for an upload form: the raw status and JSON body.
pub async fn request_upload(
    http: &reqwest::Client,
    api: &str,
    request: &Value,
) -> anyhow::Result<(u16, Value)> {
    let response = http
        .post(format!("{api}/uploads"))
        .json(request)
        .send()
        .await
        .context("POST /uploads")?;
    let status = response.status().as_u16();
    let body = response
        .json()
        .await
        .context("POST /uploads answer is not JSON")?;
    Ok((status, body))
}

/// Asks for an upload that must be granted: its id and the whole answer.
async fn create_upload(
    http: &reqwest::Client,
    api: &str,
    request: &Value,
) -> anyhow::Result<(String, Value)> {
    let (status, created) = request_upload(http, api, request).await?;
    if status != 201 {
        bail!("POST /uploads answered {status}: {created}");
    }
    let upload_id = created["upload_id"]
        .as_str()
        .context("no upload_id")?
        .to_string();
    Ok((upload_id, created))
}

/// Posts `bytes` with the form from a `POST /uploads` answer.
pub async fn post_file(
    http: &reqwest::Client,
    created: &Value,
    file_name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<u16> {
    post_form(
        http,
        &created["upload"],
        file_name,
        "application/pdf",
        bytes,
    )
    .await
}

/// Posts `bytes` with one presigned form (`upload` or `signature_upload` of the answer).
pub async fn post_form(
    http: &reqwest::Client,
    upload: &Value,
    file_name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<u16> {
    let url = upload["url"].as_str().context("no upload url")?;
    let fields = upload["fields"].as_object().context("no upload fields")?;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.as_str().unwrap_or("").to_string());
    }
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_string())
        .mime_str(mime)?;
    form = form.part("file", part);
    let response = http
        .post(url)
        .multipart(form)
        .send()
        .await
        .context("presigned POST")?;
    Ok(response.status().as_u16())
}

/// Requests an upload for `bytes` and posts them; fails if either step is refused.
pub async fn submit(
    http: &reqwest::Client,
    api: &str,
    service: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Submission> {
    let request = serde_json::json!({
        "service": service,
        "file_name": file_name,
        "size": bytes.len(),
        "sha256": intake::engine::hashing::DocumentHash::of(&bytes).to_hex(),
    });
    let (upload_id, created) = create_upload(http, api, &request).await?;
    let post_status = post_file(http, &created, file_name, bytes).await?;
    if !(200..300).contains(&post_status) {
        bail!("the presigned POST answered {post_status}");
    }
    Ok(Submission {
        upload_id,
        post_status,
    })
}

/// Submits a document with a detached signature declared beside it; the `.p7s` is posted
/// with its own form only when `send_signature` (a sender may declare one and never send it).
pub async fn submit_with_detached_signature(
    http: &reqwest::Client,
    api: &str,
    service: &str,
    file_name: &str,
    bytes: Vec<u8>,
    p7s: Vec<u8>,
    send_signature: bool,
) -> anyhow::Result<Submission> {
    let request = serde_json::json!({
        "service": service,
        "file_name": file_name,
        "size": bytes.len(),
        "signature": {"file_name": "podpis.p7s", "size": p7s.len()},
    });
    let (upload_id, created) = create_upload(http, api, &request).await?;
    // The signature goes first: a browser may send the two in either order.
    if send_signature {
        let status = post_form(
            http,
            &created["signature_upload"],
            "podpis.p7s",
            "application/pkcs7-signature",
            p7s,
        )
        .await?;
        if !(200..300).contains(&status) {
            bail!("the signature's presigned POST answered {status}");
        }
    }
    let post_status = post_file(http, &created, file_name, bytes).await?;
    if !(200..300).contains(&post_status) {
        bail!("the presigned POST answered {post_status}");
    }
    Ok(Submission {
        upload_id,
        post_status,
    })
}

/// `GET /uploads/{id}`: the raw status and JSON body.
pub async fn upload_status(
    http: &reqwest::Client,
    api: &str,
    upload_id: &str,
) -> anyhow::Result<(u16, Value)> {
    let response = http
        .get(format!("{api}/uploads/{upload_id}"))
        .send()
        .await
        .context("GET /uploads/{id}")?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.context("status is not JSON")?))
}

/// Polls until the upload is no longer pending.
pub async fn wait_for_verdict(
    http: &reqwest::Client,
    api: &str,
    upload_id: &str,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let (status, body) = upload_status(http, api, upload_id).await?;
        if status == 200 && body["status"] != "pending" {
            return Ok(body);
        }
        if start.elapsed() > timeout {
            bail!("no verdict for {upload_id} after {timeout:?} (last answer {status}: {body})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `GET /uploads/{id}/receipt` until the receipt is issued; its PDF. Any answer but the
/// PDF and `409 receipt_not_ready` is an error.
pub async fn wait_for_receipt(
    http: &reqwest::Client,
    api: &str,
    upload_id: &str,
    timeout: Duration,
) -> anyhow::Result<Vec<u8>> {
    let start = Instant::now();
    loop {
        let response = http
            .get(format!("{api}/uploads/{upload_id}/receipt"))
            .send()
            .await
            .context("GET /uploads/{id}/receipt")?;
        let status = response.status().as_u16();
        if status == 200 {
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if kind != "application/pdf" {
                bail!("the receipt of {upload_id} came as {kind}");
            }
            return Ok(response.bytes().await.context("the receipt")?.to_vec());
        }
        let body: Value = response.json().await.unwrap_or_default();
        if status != 409 || body["error"] != "receipt_not_ready" {
            bail!("the receipt of {upload_id}: {status} {body}");
        }
        if start.elapsed() > timeout {
            bail!("no receipt for {upload_id} after {timeout:?}");
        }
        // A receipt takes seconds; every look is an invocation of intake-api, which the
        // stations and browsers of the other tests share.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
