//! `intake`: the command line.
//!
//! `intake validate FILE|DIR... [--json] [--channel web|drop_box] [--policy FILE]` runs the PDF
//! engine of the functions on local files, with no AWS at all. It prints a table (or JSON lines)
//! and exits 1 when any document is rejected, 2 when a file cannot be read or the command is
//! wrong. `intake reclassify DOCUMENT --to DEPARTMENT --by OPERATOR` moves a document to another
//! department in the documents table (AWS). `intake station push DIR --station ID` pushes a
//! scanning station's batch (and `key`, `revoke`, `report` look after stations).
//! `intake report --from DATE --to DATE` remakes the daily reports of a range.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod receipt_key;
mod reclassify;
mod report;
mod station;

use intake::domain::channel_policies::ChannelPolicies;
use intake::domain::model::{Channel, Outcome, Severity, Verdict};
use intake::engine::hashing::{DocumentReader, hash_with_checkpoints};
use intake::engine::pdf::policy::PdfPolicy;
use intake::engine::signature::{SignaturePolicy, TrustAnchors};

use clap::{Parser, Subcommand, ValueEnum};

/// The `intake` command.
#[derive(Parser)]
#[command(
    name = "intake",
    version,
    about = "Document intake for a city hall: the command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validates PDFs with the engine the intake functions use, offline.
    ///
    /// Directories are searched for *.pdf files. Exit status: 0 all accepted, 1 some rejected,
    /// 2 a file could not be read or the command is wrong.
    Validate(ValidateArgs),
    /// Moves a judged document to another department (AWS).
    Reclassify(reclassify::Args),
    /// What a scanning station runs, and what the city's IT runs for it.
    #[command(subcommand)]
    Station(station::Command),
    /// Remakes the daily reports of a range of days (AWS).
    Report(report::Args),
    /// The office's receipt-signing key: its certificate request and certificate (AWS).
    #[command(subcommand)]
    ReceiptKey(receipt_key::Command),
}

/// Whose policy applies.
#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    /// Web-form uploads.
    Web,
    /// Drop-box scans.
    #[value(name = "drop_box")]
    DropBox,
}

/// The language of the findings in the table.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    En,
    Pl,
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// One JSON object per document instead of a table.
    #[arg(long)]
    json: bool,
    /// Whose policy applies.
    #[arg(long, value_enum, default_value = "web")]
    channel: ChannelArg,
    /// A policy file (JSON, as INTAKE_PDF_POLICY in the functions).
    #[arg(long = "policy", value_name = "FILE")]
    policy_file: Option<PathBuf>,
    /// Trust anchors (PEM bundle) that signatures must chain to; without it a signature can be
    /// valid but never trusted.
    #[arg(long = "trust", value_name = "PEM")]
    trust_file: Option<PathBuf>,
    /// The language of the findings in the table.
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// The PDFs, or directories of them.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
}

/// What `validate` was asked.
struct Options {
    json: bool,
    channel: Channel,
    policy_file: Option<PathBuf>,
    trust_file: Option<PathBuf>,
    polish: bool,
    paths: Vec<PathBuf>,
}

impl From<ValidateArgs> for Options {
    fn from(args: ValidateArgs) -> Self {
        Options {
            json: args.json,
            channel: match args.channel {
                ChannelArg::Web => Channel::Web,
                ChannelArg::DropBox => Channel::DropBox,
            },
            policy_file: args.policy_file,
            trust_file: args.trust_file,
            polish: args.lang == Lang::Pl,
            paths: args.paths,
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit 2, --help and --version 0 (clap's own codes).
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate(&args.into()),
        Command::Reclassify(args) => reclassify::run(args),
        Command::Station(command) => station::run(command),
        Command::Report(args) => report::run(args),
        Command::ReceiptKey(command) => receipt_key::run(command),
    }
}

/// A runtime for a command's AWS calls; `None` (after saying why) when there is none.
pub(crate) fn runtime(command: &str) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(e) => {
            eprintln!("intake {command}: {e}");
            None
        }
    }
}

/// One document's result.
enum Checked {
    Judged {
        verdict: Box<Verdict>,
        sha256: String,
        size: u64,
    },
    Unreadable(String),
}

fn validate(options: &Options) -> ExitCode {
    let policies = match &options.policy_file {
        None => ChannelPolicies::default(),
        Some(file) => match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| ChannelPolicies::from_json(&text).map_err(|e| e.to_string()))
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!("intake validate: policy {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
    };
    let policy = policies.for_channel(Some(options.channel));
    let signatures = SignaturePolicy {
        anchors: match &options.trust_file {
            None => TrustAnchors::none(),
            Some(file) => match std::fs::read(file)
                .map_err(|e| e.to_string())
                .and_then(|pem| TrustAnchors::from_pem(&pem).map_err(|e| e.to_string()))
            {
                Ok(anchors) => anchors,
                Err(e) => {
                    eprintln!("intake validate: trust anchors {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            },
        },
        required_for: Default::default(),
        revocation_required_for: Default::default(),
    };
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in &options.paths {
        collect(path, &mut files, &mut unreadable);
    }
    let mut results: Vec<(PathBuf, Checked)> = unreadable
        .into_iter()
        .map(|(path, error)| (path, Checked::Unreadable(error)))
        .collect();
    results.extend(files.into_iter().map(|path| {
        let checked = check_file(&path, policy, &signatures);
        (path, checked)
    }));
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let stdout = std::io::stdout();
    let color = !options.json && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = stdout.lock();
    let written = if options.json {
        print_json(&mut out, &results)
    } else {
        print_table(&mut out, &results, color, options.polish)
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    let any_unreadable = results
        .iter()
        .any(|(_, c)| matches!(c, Checked::Unreadable(_)));
    let any_rejected = results.iter().any(|(_, c)| {
        matches!(c, Checked::Judged { verdict, .. } if verdict.outcome() == Outcome::Rejected)
    });
    if any_unreadable {
        ExitCode::from(2)
    } else if any_rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Files named, and PDFs found under directories named, in a stable order.
fn collect(path: &Path, files: &mut Vec<PathBuf>, unreadable: &mut Vec<(PathBuf, String)>) {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(e) => {
                    unreadable.push((path.to_path_buf(), e.to_string()));
                    return;
                }
            };
            let mut children: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            children.sort();
            for child in children {
                let is_pdf = child
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
                if child.is_dir() || is_pdf {
                    collect(&child, files, unreadable);
                }
            }
        }
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) => unreadable.push((path.to_path_buf(), e.to_string())),
    }
}

/// Reads a file once and judges it while a second thread hashes the same bytes (every document
/// must be hashed, so hashing beside the engine rather than before it halves the wait). A file
/// over the policy's size limit is hashed to its end without being kept, and judged by its size.
fn check_file(path: &Path, policy: &PdfPolicy, signatures: &SignaturePolicy) -> Checked {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Checked::Unreadable(e.to_string()),
    };
    let limit = policy.limits.max_bytes;
    let expected = file.metadata().ok().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut file = file.take(limit.saturating_add(1));
    if let Err(e) = file.read_to_end(&mut bytes) {
        return Checked::Unreadable(e.to_string());
    }
    if bytes.len() as u64 > limit {
        let mut reader = DocumentReader::new(0, None);
        reader.push(&bytes);
        drop(bytes);
        let mut file = file.into_inner();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => reader.push(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Checked::Unreadable(e.to_string()),
            }
        }
        let read = reader.finish();
        return Checked::Judged {
            verdict: Box::new(intake::engine::pdf::too_large(read.size, limit)),
            sha256: read.hash.to_hex(),
            size: read.size,
        };
    }
    let ((mut verdict, parsed), (hash, checkpoints)) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| hash_with_checkpoints(&bytes));
        let verdict = intake::engine::pdf::inspect_document(&bytes, policy);
        // The hashing thread cannot fail; should it ever, hash here rather than give up.
        let hashed = hashing
            .join()
            .unwrap_or_else(|_| hash_with_checkpoints(&bytes));
        (verdict, hashed)
    });
    if verdict.signatures_checkable() {
        // A detached signature beside the file (`name.p7s` for `name.pdf`) is checked too.
        let p7s = std::fs::read(path.with_extension("p7s")).ok();
        let detached = match &p7s {
            Some(p7s) => intake::engine::signature::Detached::Present(Some(p7s)),
            None => intake::engine::signature::Detached::NotDeclared,
        };
        intake::engine::signature::judge(
            &mut verdict,
            &bytes,
            parsed.as_ref(),
            signatures,
            None,
            detached,
            Some(&checkpoints),
        );
    }
    Checked::Judged {
        verdict: Box::new(verdict),
        sha256: hash.to_hex(),
        size: bytes.len() as u64,
    }
}

fn print_json(out: &mut impl Write, results: &[(PathBuf, Checked)]) -> std::io::Result<()> {
    for (path, checked) in results {
        let line = match checked {
            Checked::Judged {
                verdict,
                sha256,
                size,
            } => serde_json::json!({
                "file": path.display().to_string(),
                "verdict": verdict.outcome().as_str(),
                "sha256": sha256,
                "size": size,
                "pages": verdict.pages,
                "pdf_version": verdict.pdf_version,
                "findings": verdict.findings,
                "facts": verdict.facts,
                "signatures": verdict.signatures,
            }),
            Checked::Unreadable(error) => serde_json::json!({
                "file": path.display().to_string(),
                "verdict": "unreadable",
                "error": error,
            }),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The signature column: the document's signature verdict and the first signer.
fn signature_cell(report: Option<&intake::engine::signature::SignatureReport>) -> String {
    use intake::engine::signature::SignatureStatus;
    let Some(report) = report else {
        return "-".into();
    };
    let word = match report.status {
        SignatureStatus::Unsigned => return "-".into(),
        SignatureStatus::Trusted => "trusted",
        SignatureStatus::ValidUntrusted => "valid, untrusted",
        SignatureStatus::ChangedAfterSigning => "changed after signing",
        SignatureStatus::Invalid => "INVALID",
        SignatureStatus::Unsupported => "not checkable",
    };
    let signer = report
        .signatures
        .first()
        .and_then(|s| s.signer.as_ref())
        .map_or(String::new(), |s| format!(" ({})", s.name));
    let more = if report.signatures.len() > 1 {
        format!(" +{}", report.signatures.len() - 1)
    } else {
        String::new()
    };
    format!("{word}{signer}{more}")
}

fn print_table(
    out: &mut impl Write,
    results: &[(PathBuf, Checked)],
    color: bool,
    polish: bool,
) -> std::io::Result<()> {
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|(path, checked)| match checked {
            Checked::Judged {
                verdict, sha256, ..
            } => {
                let word = match verdict.outcome() {
                    Outcome::Accepted => "accepted",
                    Outcome::AcceptedWithWarnings => "warnings",
                    Outcome::Rejected => "REJECTED",
                };
                let findings: Vec<String> = verdict
                    .findings
                    .iter()
                    .map(|f| {
                        let mark = if f.severity == Severity::Reject {
                            "✗"
                        } else {
                            "!"
                        };
                        let message = if polish {
                            f.code.message_pl()
                        } else {
                            f.message.as_str()
                        };
                        format!("{mark} {}: {message}", f.code.as_str())
                    })
                    .collect();
                [
                    path.display().to_string(),
                    word.to_string(),
                    verdict.pages.map_or("-".into(), |p| p.to_string()),
                    sha256[..12].to_string(),
                    signature_cell(verdict.signatures.as_ref()),
                    findings.join("; "),
                ]
            }
            Checked::Unreadable(error) => [
                path.display().to_string(),
                "UNREADABLE".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                error.clone(),
            ],
        })
        .collect();
    let header = [
        "FILE",
        "VERDICT",
        "PAGES",
        "SHA-256",
        "SIGNATURE",
        "FINDINGS",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(5) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let pad = |text: &str, width: usize| {
        format!(
            "{text}{}",
            " ".repeat(width.saturating_sub(text.chars().count()))
        )
    };
    writeln!(
        out,
        "{}",
        paint(
            &format!(
                "{}  {}  {}  {}  {}  {}",
                pad(header[0], widths[0]),
                pad(header[1], widths[1]),
                pad(header[2], widths[2]),
                pad(header[3], widths[3]),
                pad(header[4], widths[4]),
                header[5]
            ),
            "1"
        )
    )?;
    let (mut accepted, mut warned, mut rejected, mut failed) = (0, 0, 0, 0);
    for row in &rows {
        let code = match row[1].as_str() {
            "accepted" => {
                accepted += 1;
                "32"
            }
            "warnings" => {
                warned += 1;
                "33"
            }
            "REJECTED" => {
                rejected += 1;
                "31"
            }
            _ => {
                failed += 1;
                "35"
            }
        };
        writeln!(
            out,
            "{}  {}  {}  {}  {}  {}",
            pad(&row[0], widths[0]),
            paint(&pad(&row[1], widths[1]), code),
            pad(&row[2], widths[2]),
            pad(&row[3], widths[3]),
            pad(&row[4], widths[4]),
            row[5]
        )?;
    }
    let mut summary = format!(
        "\n{} document{}: {accepted} accepted, {warned} accepted with warnings, {rejected} rejected",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    if failed > 0 {
        summary.push_str(&format!(", {failed} unreadable"));
    }
    writeln!(out, "{summary}")
}
