//! `intake receipt-key`: the office's receipt-signing key in KMS.
//!
//! - `csr`: a certificate signing request for the key, signed through KMS (the private key
//!   never leaves it), for the office to take to its trust service;
//! - `install`: puts the certificate chain the trust service issued (PEM, signer first) where
//!   notify reads it, after checking that it is the key's.

use std::path::PathBuf;
use std::process::ExitCode;

use intake::adapters::Aws;
use intake::adapters::kms::ReceiptSigningKey;
use intake::adapters::ssm::CertificateParameter;
use intake::receipt::certificate;

/// `intake receipt-key`'s subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Writes a certificate signing request (PEM) for the key, signed through KMS.
    Csr(CsrArgs),
    /// Installs the certificate chain (PEM, signer first) the trust service issued.
    Install(InstallArgs),
}

/// The key.
#[derive(clap::Args)]
pub struct KeyArg {
    /// The KMS key (terraform output receipt_key_id).
    #[arg(long, env = "INTAKE_RECEIPT_KEY_ID")]
    key_id: String,
}

/// `intake receipt-key csr`.
#[derive(clap::Args)]
#[command(
    after_help = "The request goes to standard output, or to --out. Exit status: 0 \
                        written, 2 the command is wrong or AWS failed."
)]
pub struct CsrArgs {
    #[command(flatten)]
    key: KeyArg,
    /// The office's name, as the certificate names it.
    #[arg(long, env = "INTAKE_OFFICE_NAME")]
    office_name: String,
    /// The office's country (two capital letters).
    #[arg(long, default_value = "PL")]
    country: String,
    /// Where to write the request (PEM); standard output when not given.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `intake receipt-key install`.
#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 installed, 1 the chain is not the key's, 2 the command \
                        is wrong or AWS failed. notify reads the chain at its next cold start."
)]
pub struct InstallArgs {
    #[command(flatten)]
    key: KeyArg,
    /// The SSM parameter (terraform output receipt_certificate_parameter).
    #[arg(long, env = "INTAKE_RECEIPT_CERTIFICATE_PARAMETER")]
    parameter: String,
    /// The chain (PEM: the key's certificate first, then its issuers).
    #[arg(value_name = "CHAIN.pem")]
    chain: PathBuf,
}

/// Runs the command.
pub fn run(command: Command) -> ExitCode {
    let Some(runtime) = crate::runtime("receipt-key") else {
        return ExitCode::from(2);
    };
    let result = runtime.block_on(async {
        let aws = Aws::from_env().await.map_err(|e| (2, e.to_string()))?;
        match command {
            Command::Csr(args) => csr(&aws, args).await,
            Command::Install(args) => install(&aws, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("intake receipt-key: {message}");
            ExitCode::from(code)
        }
    }
}

type Outcome = Result<(), (u8, String)>;

async fn csr(aws: &Aws, args: CsrArgs) -> Outcome {
    let key = ReceiptSigningKey::new(aws, &args.key.key_id);
    let public_key = key.public_key().await.map_err(|e| (2, e.to_string()))?;
    let subject = certificate::office_subject(&args.office_name, &args.country)
        .map_err(|e| (2, e.to_string()))?;
    let info = certificate::request_info(&subject, &public_key).map_err(|e| (2, e.to_string()))?;
    let signature = key.sign(&info).await.map_err(|e| (2, e.to_string()))?;
    let pem =
        certificate::certification_request(&info, &signature).map_err(|e| (2, e.to_string()))?;
    match &args.out {
        Some(path) => std::fs::write(path, pem)
            .map_err(|e| (2, format!("cannot write {}: {e}", path.display())))?,
        None => print!("{pem}"),
    }
    Ok(())
}

async fn install(aws: &Aws, args: InstallArgs) -> Outcome {
    let pem = std::fs::read_to_string(&args.chain)
        .map_err(|e| (2, format!("cannot read {}: {e}", args.chain.display())))?;
    let chain = certificate::parse_chain_pem(&pem)
        .map_err(|e| (1, format!("{}: {e}", args.chain.display())))?;
    let key = ReceiptSigningKey::new(aws, &args.key.key_id);
    let public_key = key.public_key().await.map_err(|e| (2, e.to_string()))?;
    if !chain
        .first()
        .is_some_and(|c| certificate::public_key_matches(c, &public_key))
    {
        return Err((
            1,
            "the chain's first certificate is not the receipt key's: nothing installed".into(),
        ));
    }
    CertificateParameter::new(aws, &args.parameter)
        .write(&pem)
        .await
        .map_err(|e| (2, e.to_string()))?;
    println!(
        "installed {} certificate(s) in {}",
        chain.len(),
        args.parameter
    );
    Ok(())
}
