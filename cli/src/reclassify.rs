//! `intake reclassify DOCUMENT --to DEPARTMENT --by OPERATOR`: moves a document to another
//! department. The record keeps who moved it, when, from where and to where; notify then tells
//! the new department (once, like any notification).

use std::process::ExitCode;

use intake::adapters::Aws;
use intake::adapters::dynamodb::DocumentTable;
use intake::domain::routing::RoutingRules;
use intake::notification::reclassify;
use intake::ports::Clock;

/// `intake reclassify`'s arguments.
#[derive(clap::Args)]
#[command(
    after_help = "Department ids are in config/routing.json. AWS credentials, region and \
                  endpoint come from the usual AWS_* variables. Exit status: 0 moved, 1 refused, \
                  2 the command is wrong or AWS failed."
)]
pub struct Args {
    /// The document's id.
    document: String,
    /// The department it moves to.
    #[arg(long, value_name = "DEPARTMENT")]
    to: String,
    /// Who moves it (an operator's id or e-mail).
    #[arg(long, value_name = "OPERATOR")]
    by: String,
    /// The documents table (terraform output documents_table).
    #[arg(long, env = "INTAKE_TABLE")]
    table: String,
}

/// Runs the command.
pub fn run(request: Args) -> ExitCode {
    let Some(runtime) = crate::runtime("reclassify") else {
        return ExitCode::from(2);
    };
    runtime.block_on(move_document(request))
}

async fn move_document(request: Args) -> ExitCode {
    let rules = match RoutingRules::bundled() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("intake reclassify: {e}");
            return ExitCode::from(2);
        }
    };
    let aws = match Aws::from_env().await {
        Ok(aws) => aws,
        Err(e) => {
            eprintln!("intake reclassify: {e}");
            return ExitCode::from(2);
        }
    };
    let table = DocumentTable::new(&aws, &request.table);
    let record = match table.get(&request.document).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            eprintln!("intake reclassify: no document {}", request.document);
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("intake reclassify: {e}");
            return ExitCode::from(2);
        }
    };
    let now = intake::domain::time::utc_rfc3339(intake::ports::SystemClock.now());
    let (entry, history) = match reclassify(&rules, &record, &request.to, &request.by, &now) {
        Ok(moved) => moved,
        Err(e) => {
            eprintln!("intake reclassify: {e}");
            return ExitCode::from(1);
        }
    };
    match table
        .move_department(
            &request.document,
            entry.from.as_deref(),
            &entry.to,
            &entry.by,
            &history,
        )
        .await
    {
        Ok(true) => {
            println!(
                "{}: {} -> {} (by {}, {})",
                request.document,
                entry.from.as_deref().unwrap_or("-"),
                entry.to,
                entry.by,
                entry.at
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!(
                "intake reclassify: the document's department changed meanwhile; look again and retry"
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("intake reclassify: {e}");
            ExitCode::from(2)
        }
    }
}
