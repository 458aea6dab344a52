//! A pass-through proxy in front of the local AWS, one per function, where tests inject faults
//! at an exact point of a function's work (say, the moment it writes a given archive object).

use std::sync::Arc;

use bytes::Bytes;

use crate::http::{HttpRequest, response};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Kill the function process (SIGKILL) before the request reaches AWS.
    KillFunction,
}

/// A fault that fires on the first request it matches.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// The HTTP method to match.
    pub method: String,
    /// A substring of the path to match.
    pub path_contains: String,
    /// A substring of the body to match (empty matches any).
    pub body_contains: String,
    /// What to do.
    pub fault: Fault,
}

impl FaultRule {
    /// Whether `request` matches.
    pub fn matches(&self, request: &HttpRequest) -> bool {
        request.parts.method.as_str() == self.method
            && request.parts.uri.path().contains(&self.path_contains)
            && (self.body_contains.is_empty()
                || intake::engine::pdf::scan::find(&request.body, self.body_contains.as_bytes())
                    .is_some())
    }
}

const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
];

/// Starts a proxy to `upstream`; `check` decides on a fault for each request. Returns the port.
pub async fn start<C>(upstream: &str, check: C) -> anyhow::Result<u16>
where
    C: Fn(&HttpRequest) -> Option<Fault> + Send + Sync + 'static,
{
    let upstream = upstream.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    let check = Arc::new(check);
    crate::http::serve(move |request| {
        let upstream = upstream.clone();
        let client = client.clone();
        let check = check.clone();
        forward(upstream, client, check, request)
    })
    .await
}

async fn forward<C>(
    upstream: String,
    client: reqwest::Client,
    check: Arc<C>,
    request: HttpRequest,
) -> hyper::Response<http_body_util::Full<Bytes>>
where
    C: Fn(&HttpRequest) -> Option<Fault> + Send + Sync + 'static,
{
    if check(&request).is_some() {
        return response(503, "function killed by injected fault");
    }
    let path_and_query = request
        .parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str());
    let Ok(method) = reqwest::Method::from_bytes(request.parts.method.as_str().as_bytes()) else {
        return response(400, "bad method");
    };
    let mut upstream_request = client.request(method, format!("{upstream}{path_and_query}"));
    for (name, value) in &request.parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            upstream_request = upstream_request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match upstream_request.body(request.body).send().await {
        Ok(answer) => answer,
        Err(e) => return response(502, format!("upstream: {e}")),
    };
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let body = answer.bytes().await.unwrap_or_default();
    let mut r = response(status, body);
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            if let (Ok(n), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(name.as_str().as_bytes()),
                hyper::header::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                r.headers_mut().append(n, v);
            }
        }
    }
    r
}
