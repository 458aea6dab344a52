//! `intake reclassify DOCUMENT --to DEPARTMENT --by OPERATOR`: moves a document to another
//! department. The record keeps who moved it, when, from where and to where; notify then tells
//! the new department (once, like any notification).

use std::process::ExitCode;

use intake::adapters::Aws;
use intake::adapters::dynamodb::DocumentTable;
use intake::notification::reclassify;
use intake::routing::RoutingRules;

pub const USAGE: &str = "\
usage: intake reclassify DOCUMENT --to DEPARTMENT --by OPERATOR [--table TABLE]

Moves a judged document to another department (ids in config/routing.json). The documents
table is --table or INTAKE_TABLE; AWS credentials, region and endpoint come from the usual
AWS_* variables. Exit status: 0 moved, 1 refused, 2 the command is wrong or AWS failed.";

struct Request {
    document: String,
    to: String,
    by: String,
    table: String,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut document = None;
    let (mut to, mut by, mut table) = (None, None, std::env::var("INTAKE_TABLE").ok());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| crate::option_value(&mut args, name);
        match arg.as_str() {
            "--to" => to = Some(value("--to")?),
            "--by" => by = Some(value("--by")?),
            "--table" => table = Some(value("--table")?),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            id if document.is_none() => document = Some(id.to_string()),
            extra => return Err(format!("one document at a time ('{extra}' is extra)")),
        }
    }
    Ok(Request {
        document: document.ok_or("name the document")?,
        to: to.ok_or("--to names the department")?,
        by: by.ok_or("--by names the operator")?,
        table: table.ok_or("--table or INTAKE_TABLE names the documents table")?,
    })
}

/// Runs the command.
pub fn run(args: &[String]) -> ExitCode {
    let request = match parse(args) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("intake reclassify: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = crate::runtime("reclassify") else {
        return ExitCode::from(2);
    };
    runtime.block_on(move_document(request))
}

async fn move_document(request: Request) -> ExitCode {
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
    let now = intake::time::utc_rfc3339(intake::time::Timestamp::now());
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
