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
use intake::api::{self, ErrorBody, Route};
use intake::config::{ApiConfig, Env};
use intake::station::desk::{Answer, StationDesk, StationRequest};
use intake::upload::{PostPolicySpec, parse_upload_request, web_signature_key, web_upload_key};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::json;
use tracing::Instrument;

struct App {
    config: ApiConfig,
    store: DocumentStore,
    table: DocumentTable,
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
        store: DocumentStore::new(&aws),
        table: DocumentTable::new(&aws, &config.table),
        stations,
        config,
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
                Ok(body) => self.create_upload(&body).await,
                Err(e) => respond(400, &ErrorBody::new("malformed_request", e)),
            },
            Route::UploadStatus(id) => self.upload_status(&id).await,
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
            Route::MethodNotAllowed(allowed) => respond(
                405,
                &ErrorBody::new(
                    "method_not_allowed",
                    format!("{path} accepts {allowed} only"),
                ),
            ),
            Route::NotFound => respond(
                404,
                &ErrorBody::new(
                    "not_found",
                    "no such resource: use POST /uploads, GET /uploads/{id}, or /stations/{station}/batches",
                ),
            ),
        }
    }

    /// The body of a station request, once its signature is checked.
    async fn signed_body(
        &self,
        request: &LambdaFunctionUrlRequest,
        station: &str,
    ) -> Result<Vec<u8>, LambdaFunctionUrlResponse> {
        let body = request_body(request)
            .map_err(|e| respond(400, &ErrorBody::new("malformed_request", e)))?;
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

    async fn create_upload(&self, body: &[u8]) -> LambdaFunctionUrlResponse {
        let spec = match parse_upload_request(body, self.config.max_upload_bytes) {
            Ok(spec) => spec,
            Err(e) => {
                let status = match e {
                    intake::upload::UploadRequestError::TooLarge { .. } => 413,
                    _ => 400,
                };
                tracing::info!(error = e.code(), "upload request refused");
                return respond(status, &ErrorBody::new(e.code(), e.to_string()));
            }
        };
        let upload_id = intake::keys::new_document_id();
        let now_system = std::time::SystemTime::now();
        let now = jiff::Timestamp::try_from(now_system).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let key = web_upload_key(&upload_id);
        let policy = PostPolicySpec {
            bucket: &self.config.incoming_bucket,
            key: &key,
            content_type: "application/pdf",
            max_bytes: self.config.max_upload_bytes,
            ttl: self.config.upload_url_ttl,
            metadata: vec![
                ("upload-id", upload_id.clone()),
                ("channel", "web".to_string()),
                ("service", spec.service.clone()),
            ],
            checksum: spec.sha256,
        };
        let post = match self.store.presign_upload(&policy, now_system).await {
            Ok(post) => post,
            Err(e) => return internal_error("presigning the upload", &e),
        };
        let signature_post = match &spec.signature_file_name {
            None => None,
            Some(_) => {
                let key = web_signature_key(&upload_id);
                let policy = PostPolicySpec {
                    bucket: &self.config.incoming_bucket,
                    key: &key,
                    content_type: "application/pkcs7-signature",
                    max_bytes: intake::upload::MAX_DETACHED_SIGNATURE_BYTES,
                    ttl: self.config.upload_url_ttl,
                    metadata: vec![
                        ("upload-id", upload_id.clone()),
                        ("channel", "web".to_string()),
                    ],
                    checksum: None,
                };
                match self.store.presign_upload(&policy, now_system).await {
                    Ok(post) => Some(post),
                    Err(e) => return internal_error("presigning the signature upload", &e),
                }
            }
        };
        // The pending record exists before the form is handed out, so the upload is never unknown.
        let record = api::pending_record(&upload_id, &spec, now);
        if let Err(e) = self.table.create_pending(&record).await {
            return internal_error("recording the upload", &e);
        }
        tracing::info!(
            upload_id,
            service = spec.service,
            size = spec.size,
            "upload requested"
        );
        respond(
            201,
            &api::upload_created(
                &upload_id,
                post,
                self.config.max_upload_bytes,
                signature_post,
            ),
        )
    }

    async fn upload_status(&self, id: &str) -> LambdaFunctionUrlResponse {
        let not_found = || {
            respond(
                404,
                &ErrorBody::new("unknown_upload", "no upload with this id"),
            )
        };
        if !intake::keys::is_document_id(id) {
            return not_found();
        }
        match self.table.get(id).await {
            Ok(Some(record)) => respond(200, &api::upload_status(&record)),
            Ok(None) => not_found(),
            Err(e) => internal_error("reading the upload", &e),
        }
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

fn internal_error(doing: &str, error: &dyn std::error::Error) -> LambdaFunctionUrlResponse {
    tracing::error!(error = %error, "failed {doing}");
    respond(
        503,
        &ErrorBody::new(
            "temporarily_unavailable",
            "the service could not complete the request; try again shortly",
        ),
    )
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
