//! `intake-api`: the web-form channel behind a Lambda function URL.
//!
//! `POST /uploads` answers with an upload id and a presigned S3 POST for exactly one document;
//! `GET /uploads/{id}` answers with that upload's verdict, and `GET /uploads/{id}/receipt` with
//! its signed receipt. Under `/stations/{station}/batches`
//! the scanning stations open, fill, close and follow their batches, every request signed with
//! the station's own key.

// The desks' futures nest deeply (a port call inside each step): the compiler's default depth
// is too small to lay the handler's future out.
#![recursion_limit = "256"]

use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use intake::adapters::Aws;
use intake::api::Reply;
use intake::aws::AwsFrontDesk;
use intake::front_desk::HttpRequest;
use intake::lambda::config::{ApiConfig, Env};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::json;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::lambda::telemetry::init();
    let config = ApiConfig::from_env(&Env::process())?;
    let aws = Aws::from_env().await?;
    let desk = AwsFrontDesk::new(
        &aws,
        config,
        intake::domain::routing::RoutingRules::bundled()?,
    );
    let desk = &desk;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
            let span = intake::lambda::telemetry::invocation(&event.context.request_id);
            async move { Ok::<_, Error>(handle(desk, event.payload).await) }.instrument(span)
        },
    ))
    .await
}

async fn handle(
    desk: &AwsFrontDesk,
    request: LambdaFunctionUrlRequest,
) -> LambdaFunctionUrlResponse {
    let request = HttpRequest {
        method: request.request_context.http.method.as_deref().unwrap_or(""),
        path: request.raw_path.as_deref().unwrap_or("/"),
        authorization: request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body: request_body(&request),
    };
    answer(desk.handle(request).await)
}

fn request_body(request: &LambdaFunctionUrlRequest) -> Result<Vec<u8>, String> {
    let body = request.body.as_deref().unwrap_or("");
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| "the request body is not valid base64".to_string())
    } else {
        Ok(body.as_bytes().to_vec())
    }
}

fn answer(reply: Reply) -> LambdaFunctionUrlResponse {
    match reply {
        Reply::Json((status, body)) => respond(status, &body),
        Reply::Pdf { file_name, bytes } => document(&file_name, &bytes),
    }
}

/// A PDF as itself: base64 in the function URL's answer, which Lambda decodes.
fn document(file_name: &str, bytes: &[u8]) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = 200;
    response.headers = headers;
    response.body = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
    response.is_base64_encoded = true;
    response
}

fn respond(status: i64, body: &impl serde::Serialize) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(
        serde_json::to_string(body).unwrap_or_else(|_| json!({"error": "internal"}).to_string()),
    );
    response
}
