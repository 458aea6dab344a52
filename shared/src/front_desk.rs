//! intake-api's front desk: every request to the function URL goes to the web-form desk or, for
//! `/stations/{station}/batches`, to the station desk once the station's signature is checked.
//! Answers are (HTTP status, JSON body); the function only turns them into HTTP.

use crate::api::{self, Answer, Route};
use crate::ports::{Clock, Documents};
use crate::station::desk::{StationDesk, StationRequest};
use crate::station::ports::{BatchDesk, StationKeyring};
use crate::upload::desk::WebDesk;
use crate::upload::ports::{PendingRecords, UploadForms};

/// A request as the function URL gives it.
pub struct HttpRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The raw path (what a station signs).
    pub path: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The body, or why it could not be read (not valid base64).
    pub body: Result<Vec<u8>, String>,
}

/// Both desks.
pub struct FrontDesk<T, U, S, K> {
    /// Citizens' uploads.
    pub web: WebDesk<T, U, K>,
    /// The scanning stations' batches.
    pub stations: StationDesk<T, U, S, K>,
}

/// The front desk over AWS.
#[cfg(feature = "aws")]
pub type AwsFrontDesk = FrontDesk<
    crate::adapters::dynamodb::DocumentTable,
    crate::adapters::s3::DocumentStore,
    crate::adapters::ssm::StationKeys,
    crate::ports::SystemClock,
>;

#[cfg(feature = "aws")]
impl AwsFrontDesk {
    /// The desks `config` describes.
    pub fn new(
        aws: &crate::adapters::Aws,
        config: crate::config::ApiConfig,
        rules: crate::routing::RoutingRules,
    ) -> Self {
        use crate::adapters::{dynamodb::DocumentTable, s3::DocumentStore, ssm::StationKeys};
        FrontDesk {
            stations: StationDesk {
                table: DocumentTable::new(aws, &config.table),
                store: DocumentStore::new(aws),
                keys: StationKeys::new(aws, &config.station_key_prefix, config.station_key_cache),
                rules,
                incoming_bucket: config.incoming_bucket.clone(),
                max_upload_bytes: config.max_upload_bytes,
                upload_url_ttl: config.upload_url_ttl,
                clock: crate::ports::SystemClock,
            },
            web: WebDesk {
                table: DocumentTable::new(aws, &config.table),
                store: DocumentStore::new(aws),
                config,
                clock: crate::ports::SystemClock,
            },
        }
    }
}

impl<T, U, S, K> FrontDesk<T, U, S, K>
where
    T: BatchDesk + PendingRecords + Documents,
    U: UploadForms,
    S: StationKeyring,
    K: Clock,
{
    /// Answers one request.
    pub async fn handle(&self, request: HttpRequest<'_>) -> Answer {
        let path = request.path;
        match api::route(request.method, path) {
            Route::CreateUpload => match &request.body {
                Ok(body) => self.web.create_upload(body).await,
                Err(e) => api::refusal(400, "malformed_request", e.clone()),
            },
            Route::UploadStatus(id) => self.web.upload_status(&id).await,
            Route::OpenBatch(station) => match self.signed_body(&request, &station).await {
                Ok(body) => self.stations.open(&station, body).await,
                Err(refused) => refused,
            },
            Route::BatchUploads(station, batch) => {
                match self.signed_body(&request, &station).await {
                    Ok(body) => self.stations.uploads(&station, &batch, body).await,
                    Err(refused) => refused,
                }
            }
            Route::CloseBatch(station, batch) => match self.signed_body(&request, &station).await {
                Ok(body) => self.stations.close(&station, &batch, body).await,
                Err(refused) => refused,
            },
            Route::BatchReport(station, batch) => {
                match self.signed_body(&request, &station).await {
                    Ok(_) => self.stations.report(&station, &batch).await,
                    Err(refused) => refused,
                }
            }
            Route::MethodNotAllowed(allowed) => api::refusal(
                405,
                "method_not_allowed",
                format!("{path} accepts {allowed} only"),
            ),
            Route::NotFound => api::refusal(
                404,
                "not_found",
                "no such resource: use POST /uploads, GET /uploads/{id}, or /stations/{station}/batches",
            ),
        }
    }

    /// The body of a station request, once its signature is checked.
    async fn signed_body<'r>(
        &self,
        request: &'r HttpRequest<'_>,
        station: &str,
    ) -> Result<&'r [u8], Answer> {
        let body = request
            .body
            .as_deref()
            .map_err(|e| api::refusal(400, "malformed_request", e.clone()))?;
        let signed = StationRequest {
            method: request.method,
            path: request.path,
            authorization: request.authorization,
            body,
        };
        self.stations.authenticate(station, &signed).await?;
        Ok(body)
    }
}
