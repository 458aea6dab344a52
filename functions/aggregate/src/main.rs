//! `aggregate`: makes the daily report. Run by its schedule at 00:15 Europe/Warsaw with
//! `{"scheduled_time": "<the schedule's time>"}`, it reports the Warsaw day before that time
//! (and quietly remakes the day before that one, for documents judged after its report).
//! `{"day": "YYYY-MM-DD"}` remakes one day; `{"from": …, "to": …}` remakes every day of a range
//! and reports the range against the same range a year earlier. The reading of the event and
//! the reporting live in `intake::report::reporter`.
// The reporter's futures nest deeply (a port call inside each report step): the compiler's
// default depth is too small to lay the handler's future out.
#![recursion_limit = "256"]

use intake::adapters::Aws;
use intake::aws::AwsReporter;
use intake::lambda::config::{AggregateConfig, Env};
use intake::ports::Clock;
use intake::report::reporter::ReportRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    intake::lambda::telemetry::init();
    let config = AggregateConfig::from_env(&Env::process())?;
    let aws = Aws::from_env().await?;
    let rules = intake::domain::routing::RoutingRules::bundled()?;
    let reporter = AwsReporter::new(&aws, &config, &rules);
    let reporter = &reporter;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let span = intake::lambda::telemetry::invocation(&event.context.request_id);
        async move { handle(reporter, &event.payload).await }.instrument(span)
    }))
    .await
}

async fn handle(reporter: &AwsReporter, event: &Value) -> Result<Value, Error> {
    let request = ReportRequest::from_event(event, reporter.clock.now()).map_err(|e| {
        tracing::error!(error = e, "bad aggregate request");
        Error::from(e)
    })?;
    Ok(reporter.answer(request).await?)
}
