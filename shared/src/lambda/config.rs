//! Configuration from the environment, read and checked once at cold start.

use std::time::Duration;

/// A required variable is missing or a value does not parse. The message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The variable is not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// The variable's value is not acceptable.
    #[error("environment variable {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// Reads configuration from a source of variables (the process environment in the functions,
/// a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A required, non-empty string.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        match (self.0)(name) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(ConfigError::Missing(name)),
        }
    }

    /// A positive whole number, or `default` when unset.
    pub fn u64_or(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match (self.0)(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("'{v}' is not a positive whole number"),
                }),
            },
        }
    }

    /// `true`/`false` (also `1`/`0`), or `default` when unset.
    pub fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match (self.0)(name).as_deref().map(str::trim) {
            None | Some("") => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(v) => Err(ConfigError::Invalid {
                name,
                reason: format!("'{v}' is not true or false"),
            }),
        }
    }
}

/// What `intake-api` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The documents table.
    pub table: String,
    /// The bucket uploads go to.
    pub incoming_bucket: String,
    /// The largest document accepted, in bytes.
    pub max_upload_bytes: u64,
    /// How long an upload form is valid.
    pub upload_url_ttl: Duration,
    /// Where the stations' keys are in SSM Parameter Store (a path prefix ending in `/`).
    pub station_key_prefix: String,
    /// How long a station key read is kept (a revocation takes effect within it).
    pub station_key_cache: Duration,
    /// Where the receipts are (`receipts/<id>.pdf`).
    pub archive_bucket: String,
}

impl ApiConfig {
    /// Reads `INTAKE_TABLE`, `INTAKE_INCOMING_BUCKET`, `INTAKE_ARCHIVE_BUCKET`,
    /// `INTAKE_MAX_UPLOAD_BYTES` and
    /// `INTAKE_UPLOAD_URL_TTL_SECONDS` (at most 900).
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let ttl = env.u64_or("INTAKE_UPLOAD_URL_TTL_SECONDS", 900)?;
        if ttl > crate::domain::limits::MAX_UPLOAD_URL_TTL.as_secs() {
            return Err(ConfigError::Invalid {
                name: "INTAKE_UPLOAD_URL_TTL_SECONDS",
                reason: format!("{ttl} is over the maximum of 900 seconds"),
            });
        }
        Ok(ApiConfig {
            table: env.required("INTAKE_TABLE")?,
            incoming_bucket: env.required("INTAKE_INCOMING_BUCKET")?,
            archive_bucket: env.required("INTAKE_ARCHIVE_BUCKET")?,
            max_upload_bytes: env.u64_or(
                "INTAKE_MAX_UPLOAD_BYTES",
                crate::domain::limits::DEFAULT_MAX_UPLOAD_BYTES,
            )?,
            upload_url_ttl: Duration::from_secs(ttl),
            station_key_prefix: env.0("INTAKE_STATION_KEY_PREFIX")
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| "/intake/stations/".to_string()),
            station_key_cache: Duration::from_secs(
                env.u64_or("INTAKE_STATION_KEY_CACHE_SECONDS", 60)?,
            ),
        })
    }
}

/// What `validate` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateConfig {
    /// The documents table.
    pub table: String,
    /// Where accepted documents are stored.
    pub archive_bucket: String,
    /// Where rejected documents are kept.
    pub quarantine_bucket: String,
    /// The largest document read into memory, in bytes; larger ones are hashed and rejected.
    pub max_document_bytes: u64,
    /// The PDF engine's policy per channel.
    pub pdf_policies: crate::domain::channel_policies::ChannelPolicies,
    /// Services whose submissions must carry a valid, trusted signature.
    pub signature_required_services: std::collections::BTreeSet<String>,
    /// Services whose submissions' signatures must carry revocation data.
    pub revocation_required_services: std::collections::BTreeSet<String>,
    /// Where the PEM bundle of trust anchors is (`s3://bucket/key`), read at cold start.
    pub trust_anchors: Option<(String, String)>,
    /// How many deliveries of a document wait for its declared detached signature before the
    /// document is judged without it.
    pub signature_wait_attempts: u32,
}

/// A comma-separated list of service ids from the catalogue (unset: none).
fn services<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
) -> Result<std::collections::BTreeSet<String>, ConfigError> {
    let mut out = std::collections::BTreeSet::new();
    for id in (env.0)(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        if crate::domain::services::find(id).is_none() {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("'{id}' is not a service in the catalogue"),
            });
        }
        out.insert(id.to_string());
    }
    Ok(out)
}

impl ValidateConfig {
    /// Reads `INTAKE_TABLE`, `INTAKE_ARCHIVE_BUCKET`, `INTAKE_QUARANTINE_BUCKET` and
    /// `INTAKE_MAX_UPLOAD_BYTES`, and `INTAKE_PDF_POLICY` (JSON, see
    /// [`crate::domain::channel_policies::ChannelPolicies`]; unset means the safe defaults).
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let pdf_policies = match (env.0)("INTAKE_PDF_POLICY").filter(|p| !p.trim().is_empty()) {
            None => crate::domain::channel_policies::ChannelPolicies::default(),
            Some(json) => crate::domain::channel_policies::ChannelPolicies::from_json(&json)
                .map_err(|e| ConfigError::Invalid {
                    name: "INTAKE_PDF_POLICY",
                    reason: e.to_string(),
                })?,
        };
        let signature_required_services = services(env, "INTAKE_SIGNATURE_REQUIRED_SERVICES")?;
        let revocation_required_services = services(env, "INTAKE_REVOCATION_REQUIRED_SERVICES")?;
        let trust_anchors = match (env.0)("INTAKE_TRUST_ANCHORS").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(uri) => Some(
                uri.strip_prefix("s3://")
                    .and_then(|rest| rest.split_once('/'))
                    .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
                    .map(|(bucket, key)| (bucket.to_string(), key.to_string()))
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "INTAKE_TRUST_ANCHORS",
                        reason: format!("'{uri}' is not s3://bucket/key"),
                    })?,
            ),
        };
        let signature_wait_attempts =
            u32::try_from(env.u64_or("INTAKE_SIGNATURE_WAIT_ATTEMPTS", 3)?).unwrap_or(u32::MAX);
        Ok(ValidateConfig {
            pdf_policies,
            signature_required_services,
            revocation_required_services,
            trust_anchors,
            signature_wait_attempts,
            table: env.required("INTAKE_TABLE")?,
            archive_bucket: env.required("INTAKE_ARCHIVE_BUCKET")?,
            quarantine_bucket: env.required("INTAKE_QUARANTINE_BUCKET")?,
            max_document_bytes: env.u64_or(
                "INTAKE_MAX_UPLOAD_BYTES",
                crate::domain::limits::DEFAULT_MAX_UPLOAD_BYTES,
            )?,
        })
    }
}

/// The notify function's settings.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The documents table.
    pub table: String,
    /// The departments' FIFO topic.
    pub topic_arn: String,
    /// The optional e-mail topic.
    pub email_topic_arn: Option<String>,
    /// How long a station batch may take, from opening, before it is flagged (seconds).
    pub batch_overdue_seconds: i64,
    /// The counts table (daily counters).
    pub counts_table: String,
    /// Counter shards per day.
    pub counter_shards: u32,
    /// The incoming register's table.
    pub register_table: String,
    /// The office's code, which its register numbers start with.
    pub office_code: String,
}

/// The receipts function's settings.
#[derive(Debug, Clone)]
pub struct ReceiptsConfig {
    /// The office that confirms.
    pub office: crate::domain::model::Office,
    /// Where receipts are kept (`receipts/<id>.pdf`).
    pub archive_bucket: String,
    /// The KMS key that signs receipts.
    pub key_id: String,
    /// The SSM parameter the key's certificate chain is installed in.
    pub certificate_parameter: String,
    /// The RFC 3161 time-stamping authority, when one is configured.
    pub tsa_url: Option<String>,
}

impl ReceiptsConfig {
    /// Reads the office (`INTAKE_OFFICE_CODE`, `INTAKE_OFFICE_NAME`, `INTAKE_OFFICE_ADDRESS`),
    /// `INTAKE_ARCHIVE_BUCKET`, `INTAKE_RECEIPT_KEY_ID`, `INTAKE_RECEIPT_CERTIFICATE_PARAMETER`
    /// and the optional `INTAKE_TSA_URL`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(ReceiptsConfig {
            office: office(env)?,
            archive_bucket: env.required("INTAKE_ARCHIVE_BUCKET")?,
            key_id: env.required("INTAKE_RECEIPT_KEY_ID")?,
            certificate_parameter: env.required("INTAKE_RECEIPT_CERTIFICATE_PARAMETER")?,
            tsa_url: (env.0)("INTAKE_TSA_URL").filter(|u| !u.trim().is_empty()),
        })
    }
}

/// The office, from `INTAKE_OFFICE_CODE` (2-12 capital letters or digits), `INTAKE_OFFICE_NAME`
/// and `INTAKE_OFFICE_ADDRESS`.
fn office<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<crate::domain::model::Office, ConfigError> {
    Ok(crate::domain::model::Office {
        code: office_code(env)?,
        name: env.required("INTAKE_OFFICE_NAME")?,
        address: env.required("INTAKE_OFFICE_ADDRESS")?,
    })
}

/// `INTAKE_OFFICE_CODE`: 2-12 capital letters or digits, starting with a letter.
fn office_code<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<String, ConfigError> {
    let code = env.required("INTAKE_OFFICE_CODE")?;
    let valid = (2..=12).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !valid {
        return Err(ConfigError::Invalid {
            name: "INTAKE_OFFICE_CODE",
            reason: format!("'{code}' is not 2-12 capital letters or digits"),
        });
    }
    Ok(code)
}

fn counter_shards<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<u32, ConfigError> {
    let shards = env.u64_or(
        "INTAKE_COUNTER_SHARDS",
        u64::from(crate::domain::limits::DEFAULT_COUNTER_SHARDS),
    )?;
    u32::try_from(shards)
        .ok()
        .filter(|s| (1..=256).contains(s))
        .ok_or(ConfigError::Invalid {
            name: "INTAKE_COUNTER_SHARDS",
            reason: format!("{shards} is not from 1 to 256"),
        })
}

/// What `aggregate` (and `intake report`) need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateConfig {
    /// The counts table (counters and report items).
    pub counts_table: String,
    /// Where the report files go.
    pub reports_bucket: String,
    /// The management topic, if any.
    pub management_topic_arn: Option<String>,
    /// Counter shards per day (as notify counts).
    pub counter_shards: u32,
}

impl AggregateConfig {
    /// Reads `INTAKE_COUNTS_TABLE`, `INTAKE_REPORTS_BUCKET`, the optional
    /// `INTAKE_MANAGEMENT_TOPIC_ARN` and `INTAKE_COUNTER_SHARDS` (default 16).
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(AggregateConfig {
            counts_table: env.required("INTAKE_COUNTS_TABLE")?,
            reports_bucket: env.required("INTAKE_REPORTS_BUCKET")?,
            management_topic_arn: (env.0)("INTAKE_MANAGEMENT_TOPIC_ARN")
                .filter(|a| !a.trim().is_empty()),
            counter_shards: counter_shards(env)?,
        })
    }
}

impl NotifyConfig {
    /// Reads `INTAKE_TABLE`, `INTAKE_COUNTS_TABLE`, `INTAKE_NOTIFY_TOPIC_ARN`, the optional
    /// `INTAKE_EMAIL_TOPIC_ARN`, `INTAKE_BATCH_OVERDUE_SECONDS` (default six hours),
    /// `INTAKE_COUNTER_SHARDS` (default 16), `INTAKE_REGISTER_TABLE` and `INTAKE_OFFICE_CODE`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(NotifyConfig {
            table: env.required("INTAKE_TABLE")?,
            topic_arn: env.required("INTAKE_NOTIFY_TOPIC_ARN")?,
            email_topic_arn: (env.0)("INTAKE_EMAIL_TOPIC_ARN").filter(|a| !a.trim().is_empty()),
            batch_overdue_seconds: i64::try_from(
                env.u64_or("INTAKE_BATCH_OVERDUE_SECONDS", 6 * 3600)?,
            )
            .unwrap_or(i64::MAX),
            counts_table: env.required("INTAKE_COUNTS_TABLE")?,
            counter_shards: counter_shards(env)?,
            register_table: env.required("INTAKE_REGISTER_TABLE")?,
            office_code: office_code(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |name: &str| map.get(name).cloned())
    }

    #[test]
    fn api_config_reads_defaults_and_names_missing_variables() {
        let cfg = ApiConfig::from_env(&env(&[
            ("INTAKE_TABLE", "docs"),
            ("INTAKE_INCOMING_BUCKET", "in"),
            ("INTAKE_ARCHIVE_BUCKET", "a"),
        ]))
        .unwrap();
        assert_eq!(cfg.max_upload_bytes, 50 * 1024 * 1024);
        assert_eq!(cfg.upload_url_ttl, Duration::from_secs(900));
        assert_eq!(
            ApiConfig::from_env(&env(&[("INTAKE_TABLE", "docs")])),
            Err(ConfigError::Missing("INTAKE_INCOMING_BUCKET"))
        );
    }

    #[test]
    fn validate_config_reads_the_pdf_policy_and_refuses_a_broken_one() {
        let base = [
            ("INTAKE_TABLE", "docs"),
            ("INTAKE_ARCHIVE_BUCKET", "a"),
            ("INTAKE_QUARANTINE_BUCKET", "q"),
        ];
        let cfg = ValidateConfig::from_env(&env(&base)).unwrap();
        assert_eq!(
            cfg.pdf_policies,
            crate::domain::channel_policies::ChannelPolicies::default()
        );
        let mut pairs = base.to_vec();
        pairs.push((
            "INTAKE_PDF_POLICY",
            r#"{"web": {"limits": {"max_objects": 5}}}"#,
        ));
        let cfg = ValidateConfig::from_env(&env(&pairs)).unwrap();
        assert_eq!(cfg.pdf_policies.web.limits.max_objects, 5);
        let mut broken = base.to_vec();
        broken.push(("INTAKE_PDF_POLICY", "{"));
        let err = ValidateConfig::from_env(&env(&broken)).unwrap_err();
        assert!(err.to_string().contains("INTAKE_PDF_POLICY"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_name() {
        let base = [
            ("INTAKE_TABLE", "docs"),
            ("INTAKE_INCOMING_BUCKET", "in"),
            ("INTAKE_ARCHIVE_BUCKET", "a"),
        ];
        for (name, value) in [
            ("INTAKE_UPLOAD_URL_TTL_SECONDS", "3600"),
            ("INTAKE_UPLOAD_URL_TTL_SECONDS", "0"),
            ("INTAKE_MAX_UPLOAD_BYTES", "lots"),
        ] {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            let err = ApiConfig::from_env(&env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(env(&[("X", "maybe")]).bool_or("X", false).is_err());
        assert_eq!(env(&[("X", "1")]).bool_or("X", false), Ok(true));
    }

    #[test]
    fn the_office_is_read_and_a_code_no_register_can_carry_is_refused() {
        let base = [
            ("INTAKE_TABLE", "docs"),
            ("INTAKE_NOTIFY_TOPIC_ARN", "arn:topic"),
            ("INTAKE_COUNTS_TABLE", "counts"),
            ("INTAKE_REGISTER_TABLE", "register"),
            ("INTAKE_OFFICE_CODE", "UMK"),
            ("INTAKE_OFFICE_NAME", "Urząd Miasta Krakowa"),
            ("INTAKE_OFFICE_ADDRESS", "pl. Wszystkich Świętych 3-4"),
            ("INTAKE_ARCHIVE_BUCKET", "a"),
            ("INTAKE_RECEIPT_KEY_ID", "alias/receipts"),
            (
                "INTAKE_RECEIPT_CERTIFICATE_PARAMETER",
                "/intake/receipts/certificate",
            ),
            ("INTAKE_TSA_URL", ""),
        ];
        assert_eq!(
            NotifyConfig::from_env(&env(&base)).unwrap().office_code,
            "UMK"
        );
        let receipts = ReceiptsConfig::from_env(&env(&base)).unwrap();
        assert_eq!(receipts.office.name, "Urząd Miasta Krakowa");
        assert_eq!(receipts.tsa_url, None);
        for bad in ["umk", "U", "UMK/RPW", "UMK 1", "1UMK", "ABCDEFGHIJKLM"] {
            let mut pairs = base.to_vec();
            pairs.retain(|(name, _)| *name != "INTAKE_OFFICE_CODE");
            pairs.push(("INTAKE_OFFICE_CODE", bad));
            let err = NotifyConfig::from_env(&env(&pairs)).unwrap_err();
            assert!(
                err.to_string().contains("INTAKE_OFFICE_CODE"),
                "{bad}: {err}"
            );
            assert!(ReceiptsConfig::from_env(&env(&pairs)).is_err());
        }
    }
}
