//! `intake-api`: the web-form channel behind a Lambda function URL.
//!
//! `POST /uploads` answers with an upload id and a presigned S3 POST for exactly one document;
//! `GET /uploads/{id}` answers with that upload's verdict. Under `/stations/{station}/batches`
//! the scanning stations open, fill, close and follow their batches, every request signed with
//! the station's own key.

use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use intake::adapters::Aws;
use intake::adapters::dynamodb::DocumentTable;
use intake::adapters::s3::DocumentStore;
use intake::adapters::ssm::StationKeys;
use intake::api::{self, Route};
use intake::config::{ApiConfig, Env};
use intake::station::desk::{Answer, StationDesk, StationRequest};
use intake::upload::desk::WebDesk;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::json;
use tracing::Instrument;

struct App {
    web: WebDesk,
    stations: StationDesk,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::telemetry::init();
    let config = ApiConfig::from_env(&Env::process())?;
    let aws = Aws::from_env().await?;
    let stations = StationDesk {
        table: DocumentTable::new(&aws, &config.table),
        store: DocumentStore::new(&aws),
        keys: StationKeys::new(&aws, &config.station_key_prefix, config.station_key_cache),
        rules: intake::routing::RoutingRules::bundled()?,
        incoming_bucket: config.incoming_bucket.clone(),
        max_upload_bytes: config.max_upload_bytes,
        upload_url_ttl: config.upload_url_ttl,
    };
    let app = App {
        web: WebDesk {
            store: DocumentStore::new(&aws),
            table: DocumentTable::new(&aws, &config.table),
            config,
        },
        stations,
    };
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
            let span = intake::telemetry::invocation(&event.context.request_id);
            async move { Ok::<_, Error>(app.handle(event.payload).await) }.instrument(span)
        },
    ))
    .await
}

impl App {
    async fn handle(&self, request: LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        let method = request.request_context.http.method.as_deref().unwrap_or("");
        let path = request.raw_path.as_deref().unwrap_or("/");
        match api::route(method, path) {
            Route::CreateUpload => match request_body(&request) {
                Ok(body) => answer(self.web.create_upload(&body).await),
                Err(e) => answer(api::refusal(400, "malformed_request", e)),
            },
            Route::UploadStatus(id) => answer(self.web.upload_status(&id).await),
            Route::OpenBatch(station) => match self.signed_body(&request, &station).await {
                Ok(body) => answer(self.stations.open(&station, &body).await),
                Err(refused) => refused,
            },
            Route::BatchUploads(station, batch) => {
                match self.signed_body(&request, &station).await {
                    Ok(body) => answer(self.stations.uploads(&station, &batch, &body).await),
                    Err(refused) => refused,
                }
            }
            Route::CloseBatch(station, batch) => match self.signed_body(&request, &station).await {
                Ok(body) => answer(self.stations.close(&station, &batch, &body).await),
                Err(refused) => refused,
            },
            Route::BatchReport(station, batch) => {
                match self.signed_body(&request, &station).await {
                    Ok(_) => answer(self.stations.report(&station, &batch).await),
                    Err(refused) => refused,
                }
            }
            Route::MethodNotAllowed(allowed) => answer(api::refusal(
                405,
                "method_not_allowed",
                format!("{path} accepts {allowed} only"),
            )),
            Route::NotFound => answer(api::refusal(
                404,
                "not_found",
                "no such resource: use POST /uploads, GET /uploads/{id}, or /stations/{station}/batches",
            )),
        }
    }

    /// The body of a station request, once its signature is checked.
    async fn signed_body(
        &self,
        request: &LambdaFunctionUrlRequest,
        station: &str,
    ) -> Result<Vec<u8>, LambdaFunctionUrlResponse> {
        let body =
            request_body(request).map_err(|e| answer(api::refusal(400, "malformed_request", e)))?;
        let signed = StationRequest {
            method: request.request_context.http.method.as_deref().unwrap_or(""),
            path: request.raw_path.as_deref().unwrap_or("/"),
            authorization: request
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
            body: &body,
        };
        self.stations
            .authenticate(station, &signed)
            .await
            .map_err(answer)?;
        Ok(body)
    }
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

fn answer((status, body): Answer) -> LambdaFunctionUrlResponse {
    respond(status, &body)
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
