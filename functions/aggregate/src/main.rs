//! `aggregate`: makes the daily report. Run by its schedule at 00:15 Europe/Warsaw with
//! `{"scheduled_time": "<the schedule's time>"}`, it reports the Warsaw day before that time
//! (and quietly remakes the day before that one, for documents judged after its report).
//! `{"day": "YYYY-MM-DD"}` remakes one day; `{"from": …, "to": …}` remakes every day of a range
//! and reports the range against the same range a year earlier.

use intake::adapters::Aws;
use intake::config::{AggregateConfig, Env};
use intake::report::reporter::Reporter;
use jiff::civil::Date;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::telemetry::init();
    let config = AggregateConfig::from_env(&Env::process())?;
    let aws = Aws::from_env().await?;
    let rules = intake::routing::RoutingRules::bundled()?;
    let reporter = Reporter::new(&aws, &config, &rules);
    let reporter = &reporter;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let span = intake::telemetry::invocation(&event.context.request_id);
        async move { handle(reporter, &event.payload).await }.instrument(span)
    }))
    .await
}

/// What the event asks for.
enum Request {
    Nightly(Date),
    Day(Date),
    Range(Date, Date),
}

fn date(event: &Value, name: &str) -> Result<Option<Date>, String> {
    match event.get(name).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} '{text}' is not a date (YYYY-MM-DD)")),
    }
}

fn request(event: &Value) -> Result<Request, String> {
    match (
        date(event, "from")?,
        date(event, "to")?,
        date(event, "day")?,
    ) {
        (Some(from), Some(to), _) => Ok(Request::Range(from, to)),
        (Some(_), None, _) | (None, Some(_), _) => Err("a range needs both from and to".into()),
        (None, None, Some(day)) => Ok(Request::Day(day)),
        (None, None, None) => {
            // The schedule's own time, so that a delayed or retried run reports the same day.
            let now = intake::time::Timestamp::now();
            let at = match event.get("scheduled_time").and_then(Value::as_str) {
                Some(text) => text.parse::<intake::time::Timestamp>().unwrap_or_else(|_| {
                    // Still the right day when run at 00:15; said, so the schedule gets fixed.
                    tracing::warn!(
                        scheduled_time = text,
                        "not a time: reporting the day before now"
                    );
                    now
                }),
                None => now,
            };
            Ok(Request::Nightly(intake::time::previous_office_day(at)))
        }
    }
}

async fn handle(reporter: &Reporter, event: &Value) -> Result<Value, Error> {
    let request = request(event).map_err(|e| {
        tracing::error!(error = e, "bad aggregate request");
        Error::from(e)
    })?;
    let report = match request {
        Request::Nightly(day) => reporter.nightly(day).await?,
        Request::Day(day) => reporter.daily(day).await?,
        Request::Range(from, to) => {
            let report = reporter.range(from, to).await?;
            return Ok(json!({
                "from": from.to_string(),
                "to": to.to_string(),
                "total": report.period.counts.total,
                "growth_percent": report.period.growth.total,
                "report": intake::report::reporter::range_report_prefix(from, to),
            }));
        }
    };
    Ok(json!({
        "day": report.day.to_string(),
        "total": report.the_day.counts.total,
        "report": intake::report::reporter::daily_report_prefix(report.day),
    }))
}
