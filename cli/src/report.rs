//! `intake report --from DATE --to DATE`: remakes the daily reports of a range (a backfill, or
//! after late documents) and reports the range against the same range a year earlier.

use std::process::ExitCode;

use intake::adapters::Aws;
use intake::config::{AggregateConfig, Env};
use intake::reporting::{Reporter, range_report_prefix};
use jiff::civil::Date;

pub const USAGE: &str = "\
usage: intake report --from DATE --to DATE [--counts-table TABLE] [--bucket BUCKET]
                     [--topic ARN] [--shards N]

Remakes the daily report of every day from --from to --to (YYYY-MM-DD, Warsaw days; a day
reported before is replaced, never counted twice) and makes the range's report against the same
days a year earlier: an item in the counts table, report.json, report.csv and report.html in
the reports bucket, and a summary to the management topic. The table, bucket, topic and counter
shards are the options or INTAKE_COUNTS_TABLE, INTAKE_REPORTS_BUCKET,
INTAKE_MANAGEMENT_TOPIC_ARN, INTAKE_COUNTER_SHARDS (terraform outputs counts_table,
reports_bucket, management_topic_arn, counter_shards; shards default to 16, and must be what
notify counts with); AWS settings come from the usual AWS_* variables. Exit status: 0 made, 2 the command is wrong or AWS failed.";

struct Request {
    from: Date,
    to: Date,
    /// Options that override the environment's settings.
    overrides: std::collections::HashMap<&'static str, String>,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let (mut from, mut to) = (None, None);
    let mut overrides = std::collections::HashMap::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| crate::option_value(&mut args, name);
        let date = |name: &str, text: String| {
            text.parse::<Date>()
                .map_err(|_| format!("{name} '{text}' is not a date (YYYY-MM-DD)"))
        };
        match arg.as_str() {
            "--from" => from = Some(date("--from", value("--from")?)?),
            "--to" => to = Some(date("--to", value("--to")?)?),
            "--counts-table" => {
                overrides.insert("INTAKE_COUNTS_TABLE", value("--counts-table")?);
            }
            "--shards" => {
                overrides.insert("INTAKE_COUNTER_SHARDS", value("--shards")?);
            }
            "--bucket" => {
                overrides.insert("INTAKE_REPORTS_BUCKET", value("--bucket")?);
            }
            "--topic" => {
                overrides.insert("INTAKE_MANAGEMENT_TOPIC_ARN", value("--topic")?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let from = from.ok_or("--from names the first day")?;
    let to = to.ok_or("--to names the last day")?;
    let today = intake::time::office_date(intake::time::Timestamp::now());
    intake::report::check_range(from, to, today).map_err(|e| e.to_string())?;
    Ok(Request {
        from,
        to,
        overrides,
    })
}

pub fn run(args: &[String]) -> ExitCode {
    let request = match parse(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("intake report: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
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
            eprintln!("intake report: {e}\n\n{USAGE}");
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
    let rules = intake::routing::RoutingRules::bundled().map_err(|e| e.to_string())?;
    let reporter = Reporter::new(&aws, config, &rules);
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
