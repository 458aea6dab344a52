//! The functions' logic over AWS: each concern's ports filled with the AWS adapters, built from
//! the function's configuration. The functions in `functions/` and the `intake` command start
//! here; the logic itself never names an adapter.

use crate::adapters::Aws;
use crate::adapters::counters::CountsTable;
use crate::adapters::dynamodb::DocumentTable;
use crate::adapters::kms::ReceiptSigningKey;
use crate::adapters::register::RegisterTable;
use crate::adapters::s3::{DocumentStore, ReceiptStore};
use crate::adapters::sns::ManagementTopic;
use crate::adapters::sns::{EmailTopic, NotificationTopic};
use crate::adapters::ssm::CertificateParameter;
use crate::adapters::ssm::StationKeys;
use crate::adapters::tsa::HttpTimestampAuthority;
use crate::domain::routing::RoutingRules;
use crate::front_desk::FrontDesk;
use crate::lambda::config::{AggregateConfig, ApiConfig, NotifyConfig, ReceiptsConfig};
use crate::notification::notifier::Notifier;
use crate::ports::PortError;
use crate::ports::SystemClock;
use crate::receipt::desk::ReceiptDesk;
use crate::register::Register;
use crate::report::Names;
use crate::report::reporter::Reporter;
use crate::station::desk::StationDesk;
use crate::upload::desk::WebDesk;

/// The reporter over AWS.
pub type AwsReporter = Reporter<CountsTable, DocumentStore, Option<ManagementTopic>, SystemClock>;

/// The web-form desk over AWS.
pub type AwsWebDesk = WebDesk<DocumentTable, DocumentStore, SystemClock, ReceiptStore>;

/// The station desk over AWS.
pub type AwsStationDesk = StationDesk<DocumentTable, DocumentStore, StationKeys, SystemClock>;

/// intake-api's desks over AWS.
pub type AwsFrontDesk =
    FrontDesk<DocumentTable, DocumentStore, StationKeys, SystemClock, ReceiptStore>;

/// The receipt desk over AWS.
pub type AwsReceiptDesk =
    ReceiptDesk<ReceiptSigningKey, ReceiptStore, HttpTimestampAuthority, SystemClock>;

/// The notifier over AWS.
pub type AwsNotifier = Notifier<
    DocumentTable,
    CountsTable,
    DocumentStore,
    NotificationTopic,
    Option<EmailTopic>,
    SystemClock,
    Register<RegisterTable>,
>;

/// How long the time-stamping authority has to answer.
const TSA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl AwsNotifier {
    /// The notifier `config` describes, routing by `rules`.
    pub fn new(aws: &Aws, config: &NotifyConfig, rules: RoutingRules) -> Self {
        let table = DocumentTable::new(aws, &config.table);
        Notifier {
            rules,
            batch_overdue_seconds: config.batch_overdue_seconds,
            counter_shards: config.counter_shards,
            counts: CountsTable::new(aws, &config.counts_table),
            store: DocumentStore::new(aws),
            topic: NotificationTopic::new(aws, &config.topic_arn),
            mail: config
                .email_topic_arn
                .as_ref()
                .map(|arn| EmailTopic::new(aws, arn)),
            clock: SystemClock,
            register: Register {
                office: config.office_code.clone(),
                book: RegisterTable::new(aws, &config.register_table),
            },
            table,
        }
    }
}

impl AwsReceiptDesk {
    /// The receipt desk `config` describes. Reads the receipt key's installed certificate
    /// chain (once: a new one is taken at the next cold start).
    pub async fn new(
        aws: &Aws,
        config: &ReceiptsConfig,
        rules: RoutingRules,
    ) -> Result<Self, PortError> {
        let installed_chain = CertificateParameter::new(aws, &config.certificate_parameter)
            .read()
            .await?;
        let tsa = match &config.tsa_url {
            Some(url) => Some(HttpTimestampAuthority::new(url, TSA_TIMEOUT)?),
            None => None,
        };
        Ok(ReceiptDesk {
            office: config.office.clone(),
            rules,
            key: ReceiptSigningKey::new(aws, &config.key_id),
            files: ReceiptStore::new(DocumentStore::new(aws), &config.archive_bucket),
            tsa,
            clock: SystemClock,
            installed_chain,
            chain: std::sync::OnceLock::new(),
        })
    }
}

impl AwsReporter {
    /// The reporter `config` describes, naming departments and sites as `rules` do.
    pub fn new(aws: &Aws, config: &AggregateConfig, rules: &RoutingRules) -> Self {
        Reporter {
            store: CountsTable::new(aws, &config.counts_table),
            files: DocumentStore::new(aws),
            bucket: config.reports_bucket.clone(),
            management: config
                .management_topic_arn
                .as_ref()
                .map(|arn| ManagementTopic::new(aws, arn)),
            shards: config.counter_shards,
            names: Names::from_rules(rules),
            clock: SystemClock,
        }
    }
}

impl AwsFrontDesk {
    /// The desks `config` describes.
    pub fn new(aws: &Aws, config: ApiConfig, rules: RoutingRules) -> Self {
        // One client of each service for both desks (the SDK clients share their connections).
        let table = DocumentTable::new(aws, &config.table);
        let store = DocumentStore::new(aws);
        FrontDesk {
            stations: StationDesk {
                table: table.clone(),
                store: store.clone(),
                keys: StationKeys::new(aws, &config.station_key_prefix, config.station_key_cache),
                rules,
                incoming_bucket: config.incoming_bucket.clone(),
                max_upload_bytes: config.max_upload_bytes,
                upload_url_ttl: config.upload_url_ttl,
                clock: SystemClock,
            },
            web: WebDesk {
                table,
                receipts: ReceiptStore::new(store.clone(), &config.archive_bucket),
                store,
                config,
                clock: SystemClock,
            },
        }
    }
}
