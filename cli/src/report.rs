//! `intake report --from DATE --to DATE`: remakes the daily reports of a range (a backfill, or
//! after late documents) and reports the range against the same range a year earlier.

use std::process::ExitCode;

use intake::adapters::Aws;
use intake::aws::AwsReporter;
use intake::lambda::config::{AggregateConfig, Env};
use intake::ports::Clock;
use intake::report::reporter::range_report_prefix;
use jiff::civil::Date;

/// `intake report`'s arguments.
#[derive(clap::Args)]
#[command(
    after_help = "Every day from --from to --to (Warsaw days) is reported again (a day reported \
                  before is replaced, never counted twice), and the range against the same days \
                  a year earlier: an item in the counts table, report.json, report.csv and \
                  report.html in the reports bucket, and a summary to the management topic. AWS \
                  settings come from the usual AWS_* variables. Exit status: 0 made, 2 the \
                  command is wrong or AWS failed."
)]
pub struct Args {
    /// The first day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    from: Date,
    /// The last day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    to: Date,
    /// The counts table (terraform output counts_table).
    #[arg(long, value_name = "TABLE", env = "INTAKE_COUNTS_TABLE")]
    counts_table: Option<String>,
    /// The reports bucket (terraform output reports_bucket).
    #[arg(long, value_name = "BUCKET", env = "INTAKE_REPORTS_BUCKET")]
    bucket: Option<String>,
    /// The management topic (terraform output management_topic_arn).
    #[arg(long, value_name = "ARN", env = "INTAKE_MANAGEMENT_TOPIC_ARN")]
    topic: Option<String>,
    /// Counter shards: what notify counts with (terraform output counter_shards; 16).
    #[arg(long, value_name = "N", env = "INTAKE_COUNTER_SHARDS")]
    shards: Option<String>,
}

/// What the command was asked.
struct Request {
    from: Date,
    to: Date,
    /// Options that override the environment's settings.
    overrides: std::collections::HashMap<&'static str, String>,
}

pub fn run(args: Args) -> ExitCode {
    let today = intake::domain::time::office_date(intake::ports::SystemClock.now());
    if let Err(e) = intake::report::check_range(args.from, args.to, today) {
        eprintln!("intake report: {e}");
        return ExitCode::from(2);
    }
    let overrides = [
        ("INTAKE_COUNTS_TABLE", args.counts_table),
        ("INTAKE_REPORTS_BUCKET", args.bucket),
        ("INTAKE_MANAGEMENT_TOPIC_ARN", args.topic),
        ("INTAKE_COUNTER_SHARDS", args.shards),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    let request = Request {
        from: args.from,
        to: args.to,
        overrides,
    };
    let env = Env(|name: &str| {
        request
            .overrides
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    });
    let config = match AggregateConfig::from_env(&env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("intake report: {e} (see intake report --help)");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = crate::runtime("report") else {
        return ExitCode::from(2);
    };
    match runtime.block_on(make(&config, &request)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("intake report: {e}");
            ExitCode::from(2)
        }
    }
}

async fn make(config: &AggregateConfig, request: &Request) -> Result<(), String> {
    let aws = Aws::from_env().await.map_err(|e| e.to_string())?;
    let rules = intake::domain::routing::RoutingRules::bundled().map_err(|e| e.to_string())?;
    let reporter = AwsReporter::new(&aws, config, &rules);
    let report = reporter
        .range(request.from, request.to)
        .await
        .map_err(|e| e.to_string())?;
    let title = format!("{} – {}", request.from, request.to);
    print!(
        "{}",
        intake::report::summary_text(&title, &[("okres", &report.period)])
    );
    println!(
        "{} daily reports remade; files in s3://{}/{}",
        report.period.days,
        config.reports_bucket,
        range_report_prefix(request.from, request.to)
    );
    Ok(())
}
