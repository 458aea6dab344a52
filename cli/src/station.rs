//! `intake station …`: what a scanning station runs (push a directory of scans as one batch,
//! follow its report) and what the city's IT runs for it (make, rotate and revoke its key).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use intake::engine::hashing::DocumentHash;
use intake::ports::Clock;
use intake::station::{
    self, BatchReport, MANIFEST_SCHEMA, MAX_FILES_PER_REQUEST, Manifest, ManifestFile,
};
use serde_json::{Value, json};

/// `intake station`'s commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Pushes a directory of scans as one batch and waits for its report.
    ///
    /// Hashes every *.pdf in DIR, writes the batch manifest to DIR/intake-batch.json, opens the
    /// batch, uploads each file (with retries), closes the batch with the manifest, and waits
    /// for the batch report. Run it again on the same DIR to resume an interrupted push: what
    /// already arrived is not sent again. A file name's part before its last '_' is its
    /// envelope (K-0012_2.pdf is the second document of envelope K-0012). Exit status: 0 the
    /// batch is complete and clean, 1 it has problems or was refused, 2 the command is wrong or
    /// a file cannot be read, 3 no final report within --wait.
    Push {
        /// The directory of scans.
        dir: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Who scanned them.
        #[arg(long, value_name = "ID")]
        operator: Option<String>,
        /// The service the whole batch is for, when the station knows it.
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// How long to wait for the final report, in seconds.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
    },
    /// Shows a batch's report.
    Report {
        /// The batch id.
        batch: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Makes the station's key (or replaces it: the old one stops working) and prints it once.
    Key(KeyArgs),
    /// Deletes the station's key.
    Revoke(KeyArgs),
}

/// How a station reaches the API.
#[derive(clap::Args)]
pub struct ClientArgs {
    /// The station (its site id, e.g. mogilska).
    #[arg(long, value_name = "ID", value_parser = station_id)]
    station: String,
    /// The intake API (terraform output api_url).
    #[arg(long, value_name = "URL", env = "INTAKE_API_URL")]
    api: Option<String>,
    /// A file holding the station's key (hex); else INTAKE_STATION_KEY.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// Where a station's key is kept.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// The station (its site id, e.g. mogilska).
    #[arg(long, value_name = "ID", value_parser = station_id)]
    station: String,
    /// The SSM Parameter Store prefix of the keys.
    #[arg(long, default_value = "/intake/stations/")]
    prefix: String,
}

fn station_id(text: &str) -> Result<String, String> {
    if station::is_station_id(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{text}' is not a station id (a site id, e.g. mogilska)"
        ))
    }
}

/// The file the batch manifest is kept in, inside the pushed directory.
const BATCH_FILE: &str = "intake-batch.json";
const UPLOAD_ATTEMPTS: u32 = 4;

#[derive(Default)]
struct Options {
    target: Option<String>,
    station: Option<String>,
    api: Option<String>,
    key_file: Option<PathBuf>,
    operator: Option<String>,
    service: Option<String>,
    wait: Option<u64>,
    prefix: Option<String>,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Push { .. } => "push",
            Command::Report { .. } => "report",
            Command::Key(_) => "key",
            Command::Revoke(_) => "revoke",
        }
    }

    /// The options the commands share.
    fn options(&self) -> Options {
        let client = |client: &ClientArgs| Options {
            station: Some(client.station.clone()),
            api: client.api.clone(),
            key_file: client.key_file.clone(),
            ..Options::default()
        };
        match self {
            Command::Push {
                dir,
                client: c,
                operator,
                service,
                wait,
            } => Options {
                target: Some(dir.clone()),
                operator: operator.clone(),
                service: service.clone(),
                wait: *wait,
                ..client(c)
            },
            Command::Report { batch, client: c } => Options {
                target: Some(batch.clone()),
                ..client(c)
            },
            Command::Key(key) | Command::Revoke(key) => Options {
                station: Some(key.station.clone()),
                prefix: Some(key.prefix.clone()),
                ..Options::default()
            },
        }
    }
}

pub fn run(command: Command) -> ExitCode {
    let name = command.name();
    let Some(runtime) = crate::runtime("station") else {
        return ExitCode::from(2);
    };
    let result = match command {
        Command::Push { .. } => runtime.block_on(push(&command.options())),
        Command::Report { .. } => runtime.block_on(report(&command.options())),
        Command::Key(_) => runtime.block_on(make_key(&command.options())),
        Command::Revoke(_) => runtime.block_on(revoke(&command.options())),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("intake station {name}: {e}");
            ExitCode::from(2)
        }
    }
}

/// A station's signed client of intake-api.
struct Client {
    http: reqwest::Client,
    api: String,
    station: String,
    key: Vec<u8>,
}

impl Client {
    fn new(options: &Options) -> Result<Self, String> {
        let api = options
            .api
            .clone()
            .ok_or("--api or INTAKE_API_URL names the intake API")?;
        let hex_key = match &options.key_file {
            Some(file) => std::fs::read_to_string(file)
                .map_err(|e| format!("reading {}: {e}", file.display()))?,
            None => std::env::var("INTAKE_STATION_KEY")
                .map_err(|_| "--key-file or INTAKE_STATION_KEY holds the station's key")?,
        };
        let key = hex::decode(hex_key.trim()).map_err(|_| "the station key is not hex")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Client {
            http,
            api: api.trim_end_matches('/').to_string(),
            station: options.station.clone().unwrap_or_default(),
            key,
        })
    }

    /// A signed request; answers the status and the JSON body.
    async fn call(&self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Value), String> {
        let mut last = String::new();
        for attempt in 0..UPLOAD_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
            let timestamp = intake::ports::SystemClock.now().as_second();
            let authorization =
                station::authorization(&self.station, &self.key, method, path, timestamp, body);
            let request = match method {
                "GET" => self.http.get(format!("{}{path}", self.api)),
                _ => self.http.post(format!("{}{path}", self.api)),
            };
            let sent = request
                .header("authorization", authorization)
                .header("content-type", "application/json")
                .body(body.to_vec())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_server_error() => {
                    last = format!("{path}: HTTP {}", response.status());
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.json::<Value>().await.unwrap_or(Value::Null);
                    return Ok((status, body));
                }
                Err(e) => last = format!("{path}: {e}"),
            }
        }
        Err(format!("{last} (after {UPLOAD_ATTEMPTS} attempts)"))
    }
}

fn refusal(body: &Value) -> String {
    format!(
        "{} ({})",
        body["message"].as_str().unwrap_or("refused"),
        body["error"].as_str().unwrap_or("?")
    )
}

/// The envelope of a scan file: its name up to the last `_`, or its stem.
fn envelope_of(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    stem.rsplit_once('_')
        .map_or(stem, |(envelope, _)| envelope)
        .to_string()
}

/// Describes one file for the manifest, reading it once.
fn describe(path: &Path, name: &str, operator: &str) -> Result<ManifestFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let policy = intake::engine::pdf::policy::PdfPolicy::default();
    let pages = intake::engine::pdf::inspect(&bytes, &policy)
        .pages
        .unwrap_or(0);
    let scanned_at = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| intake::domain::time::Timestamp::try_from(t).ok())
        .unwrap_or_else(intake::domain::time::Timestamp::now);
    Ok(ManifestFile {
        name: name.to_string(),
        sha256: DocumentHash::of(&bytes).to_hex(),
        size: bytes.len() as u64,
        pages,
        envelope: envelope_of(name),
        scanned_at: intake::domain::time::utc_rfc3339(scanned_at),
        operator: operator.to_string(),
    })
}

/// The batch of a directory: the manifest written on the first push, or a new one.
fn batch_of(dir: &Path, options: &Options) -> Result<Manifest, String> {
    let station = options.station.clone().unwrap_or_default();
    let kept = dir.join(BATCH_FILE);
    if let Ok(text) = std::fs::read(&kept) {
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not a batch manifest: {e}", kept.display()))?;
        if manifest.station != station {
            return Err(format!(
                "{} belongs to station '{}', not '{station}'",
                kept.display(),
                manifest.station
            ));
        }
        println!(
            "resuming batch {} ({} files)",
            manifest.batch_id,
            manifest.files.len()
        );
        return Ok(manifest);
    }
    let mut names = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) || name == BATCH_FILE {
            continue;
        }
        if !name.to_ascii_lowercase().ends_with(".pdf") {
            println!("skipping {name}: not a .pdf");
            continue;
        }
        if !station::is_file_name(&name) {
            return Err(format!(
                "'{name}': scan names may use only letters, digits, '.', '_' and '-'; rename it"
            ));
        }
        names.push(name);
    }
    names.sort();
    if names.is_empty() {
        return Err(format!("{} holds no .pdf files", dir.display()));
    }
    let operator = options
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "station".into());
    let files = names
        .iter()
        .map(|name| describe(&dir.join(name), name, &operator))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA.into(),
        station,
        batch_id: intake::domain::keys::new_document_id(),
        created_at: intake::domain::time::utc_rfc3339(intake::ports::SystemClock.now()),
        service: options.service.clone(),
        files,
    };
    // The rules intake-api closes the batch by, checked before anything is sent: a batch it
    // would refuse at the end (too many files, too large to record) is split now, not then.
    let compact = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    station::parse_manifest(&compact, &manifest.station, &manifest.batch_id)
        .map_err(|e| format!("{} cannot go as one batch: {e}", dir.display()))?;
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let partial = dir.join(format!("{BATCH_FILE}.partial"));
    std::fs::write(&partial, &text)
        .and_then(|()| std::fs::rename(&partial, &kept))
        .map_err(|e| format!("writing {}: {e}", kept.display()))?;
    println!(
        "batch {}: {} files, manifest in {}",
        manifest.batch_id,
        manifest.files.len(),
        kept.display()
    );
    Ok(manifest)
}

async fn push(options: &Options) -> Result<ExitCode, String> {
    let dir = PathBuf::from(
        options
            .target
            .clone()
            .ok_or("name the directory of scans")?,
    );
    let client = Client::new(options)?;
    let manifest = batch_of(&dir, options)?;
    let station = &client.station;
    let batch = &manifest.batch_id;

    let open = json!({ "batch_id": batch, "service": manifest.service }).to_string();
    let (status, body) = client
        .call(
            "POST",
            &format!("/stations/{station}/batches"),
            open.as_bytes(),
        )
        .await?;
    match status {
        200 | 201 => {}
        409 => {
            eprintln!("batch {batch} refused: {}", refusal(&body));
            // Closed with this very manifest: an earlier push got as far as closing it (and
            // was interrupted while waiting), so there is nothing to send; follow its report.
            let closed_with = body["report"]["manifest_sha256"].as_str();
            let ours = serde_json::to_vec(&manifest)
                .map(|bytes| DocumentHash::of(&bytes).to_hex())
                .ok();
            if closed_with.is_some() && closed_with == ours.as_deref() {
                println!(
                    "this directory's batch was pushed and closed before; nothing was sent again"
                );
                return wait_for_report(&client, batch, options.wait.unwrap_or(600)).await;
            }
            print_report(&body["report"]);
            return Ok(ExitCode::from(1));
        }
        _ => return Err(format!("opening the batch: {}", refusal(&body))),
    }

    let (mut sent, mut skipped, mut refused) = (0, 0, 0);
    for chunk in manifest.files.chunks(MAX_FILES_PER_REQUEST) {
        let request = json!({ "files": chunk }).to_string();
        let path = format!("/stations/{station}/batches/{batch}/uploads");
        let (status, body) = client.call("POST", &path, request.as_bytes()).await?;
        if status != 200 {
            eprintln!("upload forms refused: {}", refusal(&body));
            return Ok(ExitCode::from(1));
        }
        for file in body["files"].as_array().into_iter().flatten() {
            let name = file["name"].as_str().unwrap_or("");
            match file["status"].as_str() {
                Some("upload") => {
                    let Some(entry) = chunk.iter().find(|f| f.name == name) else {
                        continue;
                    };
                    upload(&client.http, &dir, entry, &file["upload"]).await?;
                    sent += 1;
                }
                Some("received") => skipped += 1,
                _ => {
                    eprintln!(
                        "{name}: refused: {}",
                        file["message"].as_str().unwrap_or("?")
                    );
                    refused += 1;
                }
            }
        }
    }
    println!("uploaded {sent}, already received {skipped}, refused {refused}");

    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let path = format!("/stations/{station}/batches/{batch}/close");
    let (status, body) = client.call("POST", &path, &manifest_bytes).await?;
    if status != 200 {
        eprintln!("closing the batch refused: {}", refusal(&body));
        print_report(&body["report"]);
        return Ok(ExitCode::from(1));
    }
    wait_for_report(&client, batch, options.wait.unwrap_or(600)).await
}

/// Uploads one file through its presigned form, with retries.
async fn upload(
    http: &reqwest::Client,
    dir: &Path,
    entry: &ManifestFile,
    form: &Value,
) -> Result<(), String> {
    let path = dir.join(&entry.name);
    let bytes = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if DocumentHash::of(&bytes).to_hex() != entry.sha256 {
        eprintln!(
            "{}: changed since the manifest was written; the batch report will show it",
            entry.name
        );
    }
    let url = form["url"].as_str().ok_or("the upload form has no url")?;
    let mut last = String::new();
    for attempt in 0..UPLOAD_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        }
        let mut multipart = reqwest::multipart::Form::new();
        for (name, value) in form["fields"].as_object().into_iter().flatten() {
            multipart = multipart.text(name.clone(), value.as_str().unwrap_or("").to_string());
        }
        let part = reqwest::multipart::Part::bytes(bytes.clone())
            .file_name(entry.name.clone())
            .mime_str("application/pdf")
            .map_err(|e| e.to_string())?;
        multipart = multipart.part("file", part);
        match http.post(url).multipart(multipart).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().is_client_error() => {
                return Err(format!(
                    "{}: the upload was refused: HTTP {}",
                    entry.name,
                    r.status()
                ));
            }
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("{}: upload failed: {last}", entry.name))
}

async fn wait_for_report(client: &Client, batch: &str, wait: u64) -> Result<ExitCode, String> {
    let started = Instant::now();
    let path = format!("/stations/{}/batches/{batch}", client.station);
    loop {
        let (status, body) = client.call("GET", &path, b"").await?;
        if status != 200 {
            return Err(format!("reading the report: {}", refusal(&body)));
        }
        let report: Option<BatchReport> = serde_json::from_value(body.clone()).ok();
        // An overdue batch can still complete: it is waited for like any other.
        let finished = report.as_ref().is_some_and(|r| r.state == "complete");
        if finished || started.elapsed() >= Duration::from_secs(wait) {
            print_report(&body);
            return Ok(match report {
                Some(r) if r.state == "complete" && !r.has_problems() => ExitCode::SUCCESS,
                Some(r) if r.state == "complete" => ExitCode::from(1),
                _ => {
                    eprintln!(
                        "batch {batch} is not complete after {wait} s; run `intake station report` later"
                    );
                    ExitCode::from(3)
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn print_report(report: &Value) {
    let Ok(report) = serde_json::from_value::<BatchReport>(report.clone()) else {
        return;
    };
    println!(
        "batch {} ({}): {}{}; {} in manifest, {} recorded, {} accepted",
        report.batch_id,
        report.station,
        report.state,
        report
            .overdue_at
            .as_deref()
            .map_or(String::new(), |t| format!(", overdue since {t}")),
        report.manifest_files,
        report.recorded,
        report.accepted
    );
    for name in &report.missing {
        println!("  missing           {name}");
    }
    let lists = [
        ("not in manifest", &report.not_in_manifest),
        ("hash mismatch", &report.hash_mismatches),
        ("duplicate", &report.duplicates),
        ("invalid", &report.invalid),
    ];
    for (label, files) in lists {
        for file in files {
            println!("  {label:<17} {}  {}", file.name, file.detail);
        }
    }
}

async fn report(options: &Options) -> Result<ExitCode, String> {
    let batch = options.target.clone().ok_or("name the batch")?;
    let client = Client::new(options)?;
    let path = format!("/stations/{}/batches/{batch}", client.station);
    let (status, body) = client.call("GET", &path, b"").await?;
    if status != 200 {
        eprintln!("{}", refusal(&body));
        return Ok(ExitCode::from(1));
    }
    print_report(&body);
    Ok(ExitCode::SUCCESS)
}

async fn keys(options: &Options) -> Result<intake::adapters::ssm::StationKeys, String> {
    let aws = intake::adapters::Aws::from_env()
        .await
        .map_err(|e| e.to_string())?;
    let prefix = options
        .prefix
        .clone()
        .unwrap_or_else(|| "/intake/stations/".into());
    Ok(intake::adapters::ssm::StationKeys::new(
        &aws,
        prefix,
        Duration::ZERO,
    ))
}

async fn make_key(options: &Options) -> Result<ExitCode, String> {
    let station = options.station.clone().unwrap_or_default();
    let rules = intake::domain::routing::RoutingRules::bundled().map_err(|e| e.to_string())?;
    if rules.site(&station).is_none() {
        eprintln!("'{station}' is not a drop-box site of config/routing.json");
        return Ok(ExitCode::from(1));
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| format!("no randomness: {e}"))?;
    keys(options)
        .await?
        .set(&station, &key)
        .await
        .map_err(|e| e.to_string())?;
    // The only time the key is shown: install it on the station now.
    println!("{}", hex::encode(key));
    eprintln!(
        "station {station}: new key set (an earlier key stops working within the API's key cache time)"
    );
    Ok(ExitCode::SUCCESS)
}

async fn revoke(options: &Options) -> Result<ExitCode, String> {
    let station = options.station.clone().unwrap_or_default();
    let revoked = keys(options)
        .await?
        .revoke(&station)
        .await
        .map_err(|e| e.to_string())?;
    if revoked {
        eprintln!("station {station}: key revoked");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("station {station} had no key");
        Ok(ExitCode::from(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_come_from_the_file_name() {
        assert_eq!(envelope_of("K-0012_2.pdf"), "K-0012");
        assert_eq!(envelope_of("K_0012_2.pdf"), "K_0012");
        assert_eq!(envelope_of("letter.pdf"), "letter");
    }

    #[test]
    fn options_need_a_station_id() {
        use clap::Parser;
        let parse = |a: &[&str]| {
            let args = ["intake", "station", "push"].iter().chain(a);
            crate::Cli::try_parse_from(args).map(|cli| match cli.command {
                crate::Command::Station(command) => command.options(),
                _ => Options::default(),
            })
        };
        assert!(parse(&["dir"]).is_err());
        assert!(parse(&["dir", "--station", "Not An Id"]).is_err());
        let o = parse(&["dir", "--station", "mogilska", "--wait", "5"]).unwrap();
        assert_eq!(o.wait, Some(5));
        assert_eq!(o.target.as_deref(), Some("dir"));
        assert!(parse(&["dir", "--station", "mogilska", "--wait", "x"]).is_err());
    }
}
