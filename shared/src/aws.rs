//! The functions' logic over AWS: each concern's ports filled with the AWS adapters, built from
//! the function's configuration. The functions in `functions/` and the `intake` command start
//! here; the logic itself never names an adapter.

use crate::adapters::Aws;
use crate::adapters::counters::CountsTable;
use crate::adapters::dynamodb::DocumentTable;
use crate::adapters::s3::DocumentStore;
use crate::adapters::sns::ManagementTopic;
use crate::adapters::ssm::StationKeys;
use crate::domain::routing::RoutingRules;
use crate::front_desk::FrontDesk;
use crate::lambda::config::{AggregateConfig, ApiConfig};
use crate::ports::SystemClock;
use crate::report::Names;
use crate::report::reporter::Reporter;
use crate::station::desk::StationDesk;
use crate::upload::desk::WebDesk;

/// The reporter over AWS.
pub type AwsReporter = Reporter<CountsTable, DocumentStore, Option<ManagementTopic>, SystemClock>;

/// The web-form desk over AWS.
pub type AwsWebDesk = WebDesk<DocumentTable, DocumentStore, SystemClock>;

/// The station desk over AWS.
pub type AwsStationDesk = StationDesk<DocumentTable, DocumentStore, StationKeys, SystemClock>;

/// intake-api's desks over AWS.
pub type AwsFrontDesk = FrontDesk<DocumentTable, DocumentStore, StationKeys, SystemClock>;

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
                store,
                config,
                clock: SystemClock,
            },
        }
    }
}
