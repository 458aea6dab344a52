//! AWS access, each service behind one small adapter. Nothing else in the workspace calls an SDK.

pub mod batches;
pub mod counters;
pub mod dynamodb;
pub mod ports;
pub mod s3;
pub mod sns;
pub mod ssm;

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
    pub async fn from_env() -> Result<Self, crate::config::ConfigError> {
        let config = aws_config::load_from_env().await;
        if config.region().is_none() {
            return Err(crate::config::ConfigError::Missing("AWS_REGION"));
        }
        let s3_force_path_style =
            crate::config::Env::process().bool_or("INTAKE_S3_FORCE_PATH_STYLE", false)?;
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
    pub(crate) fn new<E>(operation: &'static str, err: &aws_sdk_s3::error::SdkError<E>) -> Self
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        let detail = match err.code() {
            Some(code) => format!("{code}: {}", err.message().unwrap_or("")),
            None => aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
        };
        AwsError { operation, detail }
    }
}
