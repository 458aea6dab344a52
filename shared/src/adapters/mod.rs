//! AWS access, each service behind one small adapter. Nothing else in the workspace calls an SDK.

pub mod batches;
pub mod counters;
pub mod dynamodb;
pub mod kms;
pub mod ports;
pub mod register;
pub mod s3;
pub mod sns;
pub mod ssm;
pub mod tsa;

use aws_config::SdkConfig;

/// The shared AWS configuration and the settings derived from it, loaded once at cold start.
#[derive(Clone, Debug)]
pub struct Aws {
    /// The SDK configuration (region, credentials, endpoint).
    pub config: SdkConfig,
    /// S3 addressed by path (`endpoint/bucket/key`): needed for a local endpoint such as moto.
    pub s3_force_path_style: bool,
}

impl Aws {
    /// Loads from the environment the way every AWS SDK does (`AWS_REGION`, credentials,
    /// `AWS_ENDPOINT_URL`), plus `INTAKE_S3_FORCE_PATH_STYLE`.
    pub async fn from_env() -> Result<Self, crate::lambda::config::ConfigError> {
        let config = aws_config::load_from_env().await;
        if config.region().is_none() {
            return Err(crate::lambda::config::ConfigError::Missing("AWS_REGION"));
        }
        let s3_force_path_style =
            crate::lambda::config::Env::process().bool_or("INTAKE_S3_FORCE_PATH_STYLE", false)?;
        Ok(Aws {
            config,
            s3_force_path_style,
        })
    }

    /// The region name.
    pub fn region(&self) -> &str {
        self.config.region().map(|r| r.as_ref()).unwrap_or("")
    }
}

/// An SDK call failed: the ports' error (its message carries the service's error code, never
/// request contents).
pub use crate::ports::PortError as AwsError;

impl AwsError {
    /// Describes a failed SDK call by the service's error code (never request contents) and
    /// tells whether it is worth retrying.
    pub(crate) fn new<E>(operation: &'static str, err: &aws_sdk_s3::error::SdkError<E>) -> Self
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
        let detail = match err.code() {
            Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
            None => aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
        };
        let retry = match err {
            // The request never got an answer: the network, a timeout, a garbled response.
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => crate::ports::Retry::Worthwhile,
            SdkError::ServiceError(service) => {
                retry_for(err.code(), Some(service.raw().status().as_u16()))
            }
            // The request could not even be built: our fault, every time.
            _ => crate::ports::Retry::Pointless,
        };
        AwsError {
            operation,
            detail,
            retry,
        }
    }
}

/// Whether a service's error answer is worth retrying: throttling, the service's own faults and
/// its transient conflicts are (the codes the AWS SDKs' standard retry strategy retries, and
/// S3's `SlowDown`); a refusal of the request itself is not.
pub fn retry_for(code: Option<&str>, status: Option<u16>) -> crate::ports::Retry {
    use crate::ports::Retry;
    const TRANSIENT: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflict",
        "TransactionConflictException",
    ];
    if code.is_some_and(|code| TRANSIENT.contains(&code)) {
        return Retry::Worthwhile;
    }
    match status {
        Some(429) | Some(500..=599) => Retry::Worthwhile,
        _ => Retry::Pointless,
    }
}

#[cfg(test)]
mod tests {
    use super::retry_for;
    use crate::ports::Retry;

    #[test]
    fn throttling_timeouts_and_the_services_faults_are_retried_refusals_are_not() {
        for (code, status) in [
            (Some("ThrottlingException"), Some(400)),
            (Some("ProvisionedThroughputExceededException"), Some(400)),
            (Some("SlowDown"), Some(503)),
            (Some("TransactionConflict"), Some(400)),
            (None, Some(500)),
            (None, Some(503)),
            (Some("SomethingNew"), Some(429)),
        ] {
            assert_eq!(
                retry_for(code, status),
                Retry::Worthwhile,
                "{code:?} {status:?}"
            );
        }
        for (code, status) in [
            (Some("AccessDenied"), Some(403)),
            (Some("AccessDeniedException"), Some(400)),
            (Some("ResourceNotFoundException"), Some(400)),
            (Some("NoSuchBucket"), Some(404)),
            (Some("ValidationException"), Some(400)),
            (Some("ConditionalCheckFailedException"), Some(400)),
            (None, None),
        ] {
            assert_eq!(
                retry_for(code, status),
                Retry::Pointless,
                "{code:?} {status:?}"
            );
        }
    }
}
