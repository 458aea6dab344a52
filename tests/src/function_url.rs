//! A Lambda function URL for the local stack: each HTTP request becomes the payload format 2.0
//! event AWS sends, and the function's answer becomes the HTTP response.

use base64::Engine;
use bytes::Bytes;
use serde_json::json;

use crate::http::{HttpRequest, response};
use crate::runtime::FunctionHost;

/// Serves `host` as a function URL; returns the port.
pub async fn start(host: FunctionHost) -> anyhow::Result<u16> {
    crate::http::serve(move |request| {
        let host = host.clone();
        async move { handle(&host, request).await }
    })
    .await
}

async fn handle(
    host: &FunctionHost,
    request: HttpRequest,
) -> hyper::Response<http_body_util::Full<Bytes>> {
    let event = to_event(&request);
    match host.invoke(event.to_string().into()).await {
        Ok(body) => from_function_response(&body),
        // Function URLs answer 502 when the function fails.
        Err(_) => response(502, r#"{"Message":"Internal Server Error"}"#),
    }
}

fn to_event(request: &HttpRequest) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &request.parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                if let Some(s) = v.as_str() {
                    *v = json!(format!("{s},{value}"));
                }
            })
            .or_insert(json!(value));
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let textual = content_type.starts_with("text/") || content_type.contains("json");
    let (body, is_base64) = if request.body.is_empty() {
        (serde_json::Value::Null, false)
    } else if textual && std::str::from_utf8(&request.body).is_ok() {
        (json!(String::from_utf8_lossy(&request.body)), false)
    } else {
        (
            json!(base64::engine::general_purpose::STANDARD.encode(&request.body)),
            true,
        )
    };
    let now = jiff::Timestamp::now();
    let query = request.parts.uri.query().unwrap_or("");
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.parts.uri.path(),
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "local.lambda-url.localhost",
            "domainPrefix": "local",
            "http": {
                "method": request.parts.method.as_str(),
                "path": request.parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").cloned().unwrap_or(json!("")),
            },
            "requestId": uuid::Uuid::now_v7().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.as_millisecond(),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

fn from_function_response(body: &[u8]) -> hyper::Response<http_body_util::Full<Bytes>> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return response(502, r#"{"Message":"Internal Server Error"}"#);
    };
    let status = value
        .get("statusCode")
        .and_then(|s| s.as_u64())
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200);
    let text = value.get("body").and_then(|b| b.as_str()).unwrap_or("");
    let bytes = if value.get("isBase64Encoded").and_then(|b| b.as_bool()) == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut r = response(status, bytes);
    if let Some(headers) = value.get("headers").and_then(|h| h.as_object()) {
        for (name, v) in headers {
            if let (Ok(n), Some(Ok(v))) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                v.as_str().map(hyper::header::HeaderValue::from_str),
            ) {
                r.headers_mut().insert(n, v);
            }
        }
    }
    r
}
