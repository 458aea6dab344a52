//! SSM Parameter Store: the scanning stations' keys, one SecureString per station under a
//! prefix (`/intake/stations/<station>`), written by `intake station key` and deleted by
//! `intake station revoke`. `intake-api` keeps a key for a short time, so a revocation or
//! rotation takes effect within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;

use super::{Aws, AwsError};

/// The longest a station found without a key is remembered as such.
const KEEP_MISSING_FOR: Duration = Duration::from_secs(5);

/// A key read (or found missing) at a time.
type CachedKey = (Instant, Option<Vec<u8>>);

/// The stations' keys.
#[derive(Debug)]
pub struct StationKeys {
    client: aws_sdk_ssm::Client,
    prefix: String,
    keep_for: Duration,
    cache: Mutex<HashMap<String, CachedKey>>,
}

impl StationKeys {
    /// An adapter over the parameters under `prefix` (ending in `/`), keeping each key read
    /// for `keep_for`.
    pub fn new(aws: &Aws, prefix: impl Into<String>, keep_for: Duration) -> Self {
        StationKeys {
            client: aws_sdk_ssm::Client::new(&aws.config),
            prefix: prefix.into(),
            keep_for,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// How long a lookup is kept: a key for the configured time; a missing key briefly, so a
    /// key made a moment ago soon works, while a flood of requests for a station without a key
    /// does not reach SSM (whose throughput the account shares) with every request.
    fn keep(&self, found: bool) -> Duration {
        if found {
            self.keep_for
        } else {
            self.keep_for.min(KEEP_MISSING_FOR)
        }
    }

    fn name(&self, station: &str) -> String {
        format!("{}{station}", self.prefix)
    }

    /// A station's key, `None` when it has none (unknown or revoked).
    pub async fn key(&self, station: &str) -> Result<Option<Vec<u8>>, AwsError> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, key)) = cache.get(station)
            && at.elapsed() < self.keep(key.is_some())
        {
            return Ok(key.clone());
        }
        let result = self
            .client
            .get_parameter()
            .name(self.name(station))
            .with_decryption(true)
            .send()
            .await;
        let key = match result {
            Ok(answer) => answer
                .parameter
                .and_then(|p| p.value)
                .and_then(|hex_key| hex::decode(hex_key.trim()).ok())
                .filter(|k| k.len() >= 32),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_parameter_not_found()) =>
            {
                None
            }
            Err(e) => return Err(AwsError::new("ssm:GetParameter", &e)),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(station.to_string(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    /// Sets a station's key (a new one, or a rotation: the old one stops working).
    pub async fn set(&self, station: &str, key: &[u8]) -> Result<(), AwsError> {
        self.client
            .put_parameter()
            .name(self.name(station))
            .value(hex::encode(key))
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .description(format!("intake: scanning station {station}'s request key"))
            .send()
            .await
            .map_err(|e| AwsError::new("ssm:PutParameter", &e))?;
        Ok(())
    }

    /// Revokes a station's key. `false` when it had none.
    pub async fn revoke(&self, station: &str) -> Result<bool, AwsError> {
        match self
            .client
            .delete_parameter()
            .name(self.name(station))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_parameter_not_found()) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::new("ssm:DeleteParameter", &e)),
        }
    }
}

/// The office's receipt certificate chain (PEM, signer first), one parameter written by
/// `intake receipt-key install` once the office's trust service has issued the certificate.
#[derive(Debug, Clone)]
pub struct CertificateParameter {
    client: aws_sdk_ssm::Client,
    name: String,
}

impl CertificateParameter {
    /// The parameter `name`.
    pub fn new(aws: &Aws, name: impl Into<String>) -> Self {
        CertificateParameter {
            client: aws_sdk_ssm::Client::new(&aws.config),
            name: name.into(),
        }
    }

    /// The chain, `None` when none is installed.
    pub async fn read(&self) -> Result<Option<String>, AwsError> {
        match self.client.get_parameter().name(&self.name).send().await {
            Ok(answer) => Ok(answer.parameter.and_then(|p| p.value)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::new("ssm:GetParameter", &e)),
        }
    }

    /// Installs a chain (a renewal replaces the one before).
    pub async fn write(&self, pem: &str) -> Result<(), AwsError> {
        self.client
            .put_parameter()
            .name(&self.name)
            .value(pem)
            .r#type(ParameterType::String)
            // A chain of three certificates outgrows the standard tier's 4 KB.
            .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
            .overwrite(true)
            .description("intake: the office's receipt-signing certificate chain")
            .send()
            .await
            .map_err(|e| AwsError::new("ssm:PutParameter", &e))?;
        Ok(())
    }
}
