//! intake-api's front desk: every request to the function URL goes to the web-form desk or, for
//! `/stations/{station}/batches`, to the station desk once the station's signature is checked.
//! Answers are (HTTP status, JSON body); the function only turns them into HTTP.

use crate::api::{self, Answer, Reply};
use crate::ports::{Clock, Documents};
use crate::receipt::ports::ReceiptFiles;
use crate::station::desk::{StationDesk, StationRequest};
use crate::station::ports::{BatchDesk, StationKeyring};
use crate::upload::desk::WebDesk;
use crate::upload::ports::{PendingRecords, UploadForms};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /uploads`: request an upload form.
    CreateUpload,
    /// `GET /uploads/{id}`: the status of an upload.
    UploadStatus(String),
    /// `GET /uploads/{id}/receipt`: its signed receipt.
    Receipt(String),
    /// `POST /stations/{station}/batches`: open (or resume) a batch.
    OpenBatch(String),
    /// `POST /stations/{station}/batches/{batch}/uploads`: upload forms for some files.
    BatchUploads(String, String),
    /// `POST /stations/{station}/batches/{batch}/close`: the manifest.
    CloseBatch(String, String),
    /// `GET /stations/{station}/batches/{batch}`: the batch report.
    BatchReport(String, String),
    /// A known path with the wrong method.
    MethodNotAllowed(&'static str),
    /// Anything else.
    NotFound,
}

/// Routes a method and path (a trailing slash is tolerated).
pub fn route(method: &str, path: &str) -> Route {
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match (method, segments.as_slice()) {
        ("POST", ["uploads"]) => Route::CreateUpload,
        (_, ["uploads"]) => Route::MethodNotAllowed("POST"),
        ("GET", ["uploads", id]) => Route::UploadStatus((*id).to_string()),
        (_, ["uploads", _]) => Route::MethodNotAllowed("GET"),
        ("GET", ["uploads", id, "receipt"]) => Route::Receipt((*id).to_string()),
        (_, ["uploads", _, "receipt"]) => Route::MethodNotAllowed("GET"),
        ("POST", ["stations", station, "batches"]) => Route::OpenBatch((*station).to_string()),
        (_, ["stations", _, "batches"]) => Route::MethodNotAllowed("POST"),
        ("POST", ["stations", station, "batches", batch, "uploads"]) => {
            Route::BatchUploads((*station).to_string(), (*batch).to_string())
        }
        ("POST", ["stations", station, "batches", batch, "close"]) => {
            Route::CloseBatch((*station).to_string(), (*batch).to_string())
        }
        (_, ["stations", _, "batches", _, "uploads" | "close"]) => Route::MethodNotAllowed("POST"),
        ("GET", ["stations", station, "batches", batch]) => {
            Route::BatchReport((*station).to_string(), (*batch).to_string())
        }
        (_, ["stations", _, "batches", _]) => Route::MethodNotAllowed("GET"),
        _ => Route::NotFound,
    }
}

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
pub struct FrontDesk<T, U, S, K, R> {
    /// Citizens' uploads.
    pub web: WebDesk<T, U, K, R>,
    /// The scanning stations' batches.
    pub stations: StationDesk<T, U, S, K>,
}

impl<T, U, S, K, R> FrontDesk<T, U, S, K, R>
where
    T: BatchDesk + PendingRecords + Documents,
    U: UploadForms,
    S: StationKeyring,
    K: Clock,
    R: ReceiptFiles,
{
    /// Answers one request.
    pub async fn handle(&self, request: HttpRequest<'_>) -> Reply {
        let path = request.path;
        let answer: Answer = match route(request.method, path) {
            Route::CreateUpload => match &request.body {
                Ok(body) => self.web.create_upload(body).await,
                Err(e) => api::refusal(400, "malformed_request", e.clone()),
            },
            Route::UploadStatus(id) => self.web.upload_status(&id).await,
            // The one answer that may be a document rather than JSON.
            Route::Receipt(id) => return self.web.receipt(&id).await,
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
                "no such resource: use POST /uploads, GET /uploads/{id}, GET /uploads/{id}/receipt, or /stations/{station}/batches",
            ),
        };
        answer.into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("POST", "/uploads"), Route::CreateUpload);
        assert_eq!(route("POST", "/uploads/"), Route::CreateUpload);
        assert_eq!(
            route("GET", "/uploads/abc"),
            Route::UploadStatus("abc".into())
        );
        assert_eq!(route("GET", "/uploads"), Route::MethodNotAllowed("POST"));
        assert_eq!(
            route("DELETE", "/uploads/abc"),
            Route::MethodNotAllowed("GET")
        );
        assert_eq!(route("GET", "/"), Route::NotFound);
        assert_eq!(route("GET", "/uploads/a/b"), Route::NotFound);
        assert_eq!(
            route("GET", "/uploads/abc/receipt"),
            Route::Receipt("abc".into())
        );
        assert_eq!(
            route("POST", "/uploads/abc/receipt"),
            Route::MethodNotAllowed("GET")
        );
        assert_eq!(
            route("POST", "/stations/mogilska/batches"),
            Route::OpenBatch("mogilska".into())
        );
        assert_eq!(
            route("POST", "/stations/mogilska/batches/b-1/uploads"),
            Route::BatchUploads("mogilska".into(), "b-1".into())
        );
        assert_eq!(
            route("POST", "/stations/mogilska/batches/b-1/close"),
            Route::CloseBatch("mogilska".into(), "b-1".into())
        );
        assert_eq!(
            route("GET", "/stations/mogilska/batches/b-1"),
            Route::BatchReport("mogilska".into(), "b-1".into())
        );
        assert_eq!(
            route("GET", "/stations/mogilska/batches/b-1/close"),
            Route::MethodNotAllowed("POST")
        );
    }
}
