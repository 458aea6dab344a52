//! Signature validation: PAdES signatures inside PDFs and detached CAdES signatures, each given
//! a verdict as precise as the reference validators': intact (the signed bytes are unchanged),
//! valid (the signature verifies with the signer's key), trusted (the signer chains to an
//! operator's trust anchor and could sign at a proven signing time, else now), what the signature covers,
//! and what was changed in the file after it was signed.
//!
//! A wrong "valid" is the worst failure this system can have, so every step defaults to the
//! negative: a signature is intact, valid or trusted only when that was shown.

mod ber;
mod changes;
pub(crate) mod cms;
mod pades;
mod revocation;
#[cfg(test)]
mod tests;
pub mod trust;

use serde::{Deserialize, Serialize};

pub use cms::DigestAlgorithm;
pub use pades::{check_pdf_signatures, check_pdf_signatures_resuming};
pub use trust::{TrustAnchors, TrustError};

use jiff::Timestamp;

/// What can be wrong with (or notable about) a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The signature dictionary has no usable /Contents.
    ContentsMissing,
    /// The /ByteRange is missing or not four non-negative integers in order.
    ByteRangeMalformed,
    /// The /ByteRange does not start at the beginning of the file.
    ByteRangeNotFromStart,
    /// The part the /ByteRange leaves out is not exactly this signature's /Contents.
    ByteRangeGap,
    /// The /ByteRange does not end where a revision ends.
    ByteRangeNotAtRevisionEnd,
    /// The CMS cannot be read.
    CmsUnreadable,
    /// More than one SignerInfo.
    MultipleSigners,
    /// An algorithm, curve or key type that is not implemented (never reported as invalid).
    UnsupportedAlgorithm,
    /// SHA-1 or a legacy sub-filter.
    WeakAlgorithm,
    /// The RSA DigestInfo omits the NULL parameters (accepted).
    Pkcs1DigestInfoWithoutNull,
    /// The signed bytes changed.
    DigestMismatch,
    /// The signature value does not verify.
    SignatureInvalid,
    /// The signer's certificate is not in the signature.
    SignerCertificateMissing,
    /// No ESS signing-certificate attribute binds the certificate (a warning).
    SigningCertificateUnbound,
    /// The ESS signing-certificate attribute names another certificate.
    SigningCertificateMismatch,
    /// No trust anchors are configured.
    NoTrustAnchors,
    /// The chain does not reach a trust anchor.
    ChainIncomplete,
    /// A certificate had expired at the time checked (a proven signing time, else now).
    CertificateExpired,
    /// A certificate was not yet valid at the time checked.
    CertificateNotYetValid,
    /// The signer's key usage does not allow signing.
    KeyUsageForbidsSigning,
    /// The timestamp token does not verify or does not cover this signature.
    TimestampInvalid,
    /// The file was changed after signing in a way the signature's permissions allow.
    ChangedAfterSigning,
    /// The file was changed after signing in a way nothing allows.
    DisallowedChange,
    /// The detached signature has no signed content to check against.
    NoSignedContent,
    /// A certificate of the chain was revoked before the time checked.
    Revoked,
    /// No CRL or OCSP response carried with the signature shows a certificate's status at
    /// the time checked (a warning, unless the service requires revocation data).
    RevocationUnknown,
}

/// One finding about a signature: a code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureIssue {
    /// Machine-readable code.
    pub code: IssueCode,
    /// What a person is told.
    pub message: String,
}

/// The kind of signature. XAdES (XML) is not verified yet; the model admits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFormat {
    /// A CMS signature embedded in a PDF signature field.
    Pades,
    /// An RFC 3161 document timestamp in a PDF.
    DocumentTimestamp,
    /// A detached CMS signature (`.p7s`) over a document's bytes.
    Cades,
    /// An XML signature (not verified yet).
    Xades,
}

/// What a PDF signature's byte range covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The whole file but the signature itself.
    EntireFile,
    /// The file up to the end of the revision the signature closes; later revisions follow.
    EntireRevision,
    /// Something else: a gap, a range that ends mid-revision, or no usable range.
    Partial,
}

/// The most significant change made to the file after a signature, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modification {
    /// Nothing: the signature covers the whole file.
    None,
    /// Validation data (DSS) or document timestamps added.
    ValidationData,
    /// Further signatures added.
    Signatures,
    /// Form fields filled in.
    FormFilling,
    /// Annotations (comments) added or changed.
    Annotations,
    /// Anything else: page content, pages, replaced objects, data outside any revision.
    Disallowed,
}

/// Where the signing time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// A verified signature timestamp token (trustworthy).
    Timestamp,
    /// The signer's own signing-time attribute (claimed, not proven).
    SigningTimeAttribute,
    /// The PDF signature dictionary's /M (claimed, not proven).
    PdfSigningTime,
}

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The certificate's common name.
    pub name: String,
    /// The whole subject.
    pub subject: String,
    /// The certificate's serial number, hex.
    pub serial: String,
    /// The issuer's subject.
    pub issuer: String,
}

/// A signature timestamp token's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampVerdict {
    /// The time it states.
    pub time: Option<String>,
    /// It covers this signature and its own signature verifies.
    pub valid: bool,
    /// Its authority chains to a trust anchor.
    pub trusted: bool,
    /// The authority's name.
    pub authority: Option<String>,
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureVerdict {
    /// The PDF signature field's full name.
    pub field: Option<String>,
    /// The kind of signature.
    pub format: SignatureFormat,
    /// The PDF /SubFilter.
    pub sub_filter: Option<String>,
    /// The revision the signature closes (1 = the original file), for PDF signatures.
    pub revision: Option<usize>,
    /// The signed bytes are unchanged.
    pub intact: bool,
    /// The signature value verifies with the signer's key (over the signed attributes; whether
    /// the document bytes still match is `intact`).
    pub valid: bool,
    /// Intact and valid, with strong algorithms, and the signer chains to a trust anchor, was
    /// valid at a proven signing time (else now) and may sign.
    pub trusted: bool,
    /// What the byte range covers (PDF signatures).
    pub coverage: Option<Coverage>,
    /// The most significant change after signing (PDF signatures).
    pub modification: Option<Modification>,
    /// Whether the changes after signing are allowed (by DocMDP, or as validation data).
    pub changes_allowed: Option<bool>,
    /// The changes after signing, in words.
    pub changes: Vec<String>,
    /// The DocMDP permission level of a certification signature (1 to 3).
    pub docmdp: Option<u8>,
    /// The signer.
    pub signer: Option<Signer>,
    /// When it was signed (RFC 3339), and by whose word.
    pub signing_time: Option<String>,
    /// The source of `signing_time`.
    pub time_source: Option<TimeSource>,
    /// Digest algorithm.
    pub digest_algorithm: Option<String>,
    /// Signature algorithm.
    pub signature_algorithm: Option<String>,
    /// The signature timestamp, if any.
    pub timestamp: Option<TimestampVerdict>,
    /// The certificate chain, signer first.
    pub chain: Vec<String>,
    /// What was found.
    pub issues: Vec<SignatureIssue>,
}

impl SignatureVerdict {
    pub(crate) fn new(format: SignatureFormat) -> Self {
        SignatureVerdict {
            field: None,
            format,
            sub_filter: None,
            revision: None,
            intact: false,
            valid: false,
            trusted: false,
            coverage: None,
            modification: None,
            changes_allowed: None,
            changes: Vec::new(),
            docmdp: None,
            signer: None,
            signing_time: None,
            time_source: None,
            digest_algorithm: None,
            signature_algorithm: None,
            timestamp: None,
            chain: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// Whether the signature could not be checked because it uses an algorithm this verifier
    /// does not implement (reported as such, never as invalid).
    pub fn unsupported(&self) -> bool {
        !self.valid
            && self
                .issues
                .iter()
                .any(|i| i.code == IssueCode::UnsupportedAlgorithm)
    }

    /// Whether something other than an unsupported algorithm shows the signature does not
    /// hold.
    fn fails(&self) -> bool {
        // Not intact because the digest could not be computed (an unsupported digest
        // algorithm) is unsupported too; a digest computed and different always fails.
        let digest_differs = self
            .issues
            .iter()
            .any(|i| i.code == IssueCode::DigestMismatch);
        (!self.intact && (digest_differs || !self.unsupported()))
            || (!self.valid && !self.unsupported())
            || self.coverage == Some(Coverage::Partial)
            || self.changes_allowed == Some(false)
    }

    fn push(&mut self, code: IssueCode, message: impl Into<String>) {
        self.issues.push(SignatureIssue {
            code,
            message: message.into(),
        });
    }
}

/// The document-level verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// No signature.
    Unsigned,
    /// Every signature holds and is trusted.
    Trusted,
    /// Every signature holds; not every signer is trusted.
    ValidUntrusted,
    /// Every signature holds, but fields were filled in or annotations added after signing,
    /// as the permissions allow: what is shown may differ from what was signed (the shadow
    /// "replace" attack works this way), so no signature vouches for the whole document.
    ChangedAfterSigning,
    /// Some signature does not hold (changed, invalid, partial, or changed after signing).
    Invalid,
    /// No signature fails, but some uses an algorithm this verifier does not implement (such
    /// as a brainpool curve), so it could not be checked.
    Unsupported,
}

/// Every signature of a document, and the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// The document-level verdict.
    pub status: SignatureStatus,
    /// One verdict per signature, in file order.
    pub signatures: Vec<SignatureVerdict>,
}

impl SignatureReport {
    pub(crate) fn from_signatures(signatures: Vec<SignatureVerdict>) -> Self {
        let signed = signatures
            .iter()
            .any(|s| s.format != SignatureFormat::DocumentTimestamp);
        let status = if signatures.is_empty() {
            SignatureStatus::Unsigned
        } else if signatures.iter().any(SignatureVerdict::fails) {
            SignatureStatus::Invalid
        } else if signatures.iter().any(SignatureVerdict::unsupported) {
            SignatureStatus::Unsupported
        } else if signatures
            .iter()
            .any(|s| s.modification.is_some_and(|m| m > Modification::Signatures))
        {
            SignatureStatus::ChangedAfterSigning
        } else if !signed {
            // Document timestamps prove when, not who: nobody signed the document.
            SignatureStatus::Unsigned
        } else if signatures.iter().all(|s| s.trusted) {
            SignatureStatus::Trusted
        } else {
            SignatureStatus::ValidUntrusted
        };
        SignatureReport { status, signatures }
    }

    /// A one-line summary for people.
    pub fn summary(&self) -> String {
        let n = self.signatures.len();
        match self.status {
            SignatureStatus::Unsigned => "not signed".into(),
            SignatureStatus::Trusted => format!("{n} signature(s), all valid and trusted"),
            SignatureStatus::ValidUntrusted => {
                format!("{n} signature(s), all valid, not all signers trusted")
            }
            SignatureStatus::ChangedAfterSigning => {
                format!(
                    "{n} signature(s), valid, but the document was filled in or annotated after signing"
                )
            }
            SignatureStatus::Invalid => format!("{n} signature(s), not all valid"),
            SignatureStatus::Unsupported => {
                format!("{n} signature(s), some using an algorithm that could not be checked")
            }
        }
    }
}

impl SignatureStatus {
    /// The name stored in records.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::Trusted => "trusted",
            SignatureStatus::ValidUntrusted => "valid_untrusted",
            SignatureStatus::ChangedAfterSigning => "changed_after_signing",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Unsupported => "unsupported",
        }
    }
}

/// What the signatures of a document must be: the operator's anchors, and whether the service
/// requires a valid, trusted signature.
#[derive(Debug, Clone, Default)]
pub struct SignaturePolicy {
    /// The trust anchors.
    pub anchors: TrustAnchors,
    /// Services (catalogue ids) whose submissions must carry a trusted signature.
    pub required_for: std::collections::BTreeSet<String>,
    /// Services whose submissions' signatures must carry revocation data for every
    /// certificate of their chains (PAdES-LT and beyond); elsewhere missing data is a warning.
    pub revocation_required_for: std::collections::BTreeSet<String>,
}

/// A document's detached signature, as far as the pipeline knows it.
#[derive(Debug, Clone, Copy)]
pub enum Detached<'a> {
    /// None was declared.
    NotDeclared,
    /// One was declared and did not arrive.
    Missing,
    /// The `.p7s` bytes (`None` when over the size limit).
    Present(Option<&'a [u8]>),
}

/// Checks a PDF's signatures after the engine accepted it (on the document it read, when
/// given, else reading the file again), and adds the report and its
/// findings to the verdict: a signature that does not hold is a warning, unless the service
/// requires a trusted signature, when anything short of one rejects the document (it is kept
/// in quarantine like every rejected document).
pub fn judge(
    verdict: &mut crate::engine::findings::Verdict,
    bytes: &[u8],
    parsed: Option<&crate::engine::pdf::Parsed>,
    policy: &SignaturePolicy,
    service: Option<&str>,
    detached: Detached<'_>,
    checkpoints: Option<&crate::engine::hashing::HashCheckpoints>,
) {
    use crate::engine::findings::{Finding, ReasonCode};
    // The checks are safe code over bounded input; should one still panic, the document is
    // reported as having a signature that could not be checked rather than crash the batch.
    let mut report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pades::check_pdf_signatures_of(bytes, parsed, &policy.anchors, checkpoints)
    }))
    .unwrap_or_else(|_| {
        let mut v = SignatureVerdict::new(SignatureFormat::Pades);
        v.push(
            IssueCode::CmsUnreadable,
            "the signatures could not be checked",
        );
        SignatureReport::from_signatures(vec![v])
    });
    match detached {
        Detached::NotDeclared => {}
        Detached::Missing => verdict.findings.push(Finding::warning(
            ReasonCode::DetachedSignatureMissing,
            "the detached signature (.p7s) declared with the document did not arrive",
        )),
        Detached::Present(p7s) => {
            let signature = match p7s {
                Some(p7s) => check_detached(bytes, p7s, &policy.anchors),
                None => {
                    let mut v = SignatureVerdict::new(SignatureFormat::Cades);
                    v.push(IssueCode::CmsUnreadable, "the .p7s is larger than 1 MiB");
                    v
                }
            };
            let mut all = report.signatures;
            all.push(signature);
            report = SignatureReport::from_signatures(all);
        }
    }
    if report.status == SignatureStatus::Unsupported {
        verdict.findings.push(Finding::warning(
            ReasonCode::SignatureUnsupported,
            "a signature uses an algorithm this system cannot check yet; it is neither valid nor invalid",
        ));
    }
    if report.status == SignatureStatus::Invalid {
        let problems: Vec<String> = report
            .signatures
            .iter()
            .filter(|s| s.fails())
            .map(|s| {
                let first = s.issues.first().map_or("", |i| i.message.as_str());
                format!("{}: {first}", s.field.as_deref().unwrap_or("signature"))
            })
            .collect();
        verdict.findings.push(Finding::warning(
            ReasonCode::SignatureInvalid,
            format!("a signature does not hold ({})", problems.join("; ")),
        ));
    }
    let revocation_required = service.is_some_and(|s| policy.revocation_required_for.contains(s));
    let unknown: Vec<String> = report
        .signatures
        .iter()
        .filter(|s| {
            s.issues
                .iter()
                .any(|i| i.code == IssueCode::RevocationUnknown)
        })
        .map(|s| s.field.clone().unwrap_or_else(|| "signature".into()))
        .collect();
    if revocation_required && !unknown.is_empty() {
        verdict.findings.push(Finding::reject(
            ReasonCode::RevocationRequired,
            format!(
                "the service requires revocation data with every signature; {} carries none \
                 for some certificate of its chain",
                unknown.join(", ")
            ),
        ));
    }
    let required = service.is_some_and(|s| policy.required_for.contains(s));
    if required && report.status != SignatureStatus::Trusted {
        verdict.findings.push(Finding::reject(
            ReasonCode::SignatureRequired,
            format!(
                "the service requires a valid, trusted signature; the document is {}",
                report.summary()
            ),
        ));
    }
    verdict.signatures = Some(report);
}

fn rfc3339(at: Timestamp) -> String {
    at.to_string()
}

/// Fills a verdict from a checked CMS: signer, algorithms, time, trust.
fn apply_cms(
    verdict: &mut SignatureVerdict,
    checked: cms::CmsCheck,
    anchors: &TrustAnchors,
    claimed_pdf_time: Option<Timestamp>,
    document_revocation: &revocation::RevocationData,
) {
    // Revocation data for this signature: what the document's security store holds, what its
    // CMS carries, and what its timestamp token carries.
    let mut revocation = vec![document_revocation, &checked.revocation];
    if let Some(ts) = &checked.timestamp {
        revocation.push(&ts.cms.revocation);
    }
    verdict.intact = checked.intact;
    verdict.valid = checked.valid;
    verdict.digest_algorithm = checked.digest.map(|d| d.name().to_string());
    verdict.signature_algorithm = checked.scheme.clone();
    verdict.issues.extend(checked.issues.iter().cloned());
    let Some(signer) = checked.signer.as_ref() else {
        return;
    };
    verdict.signer = Some(signer_of(signer));

    // The certificate is judged at a time that is proven: a verified timestamp's from a
    // trusted authority; otherwise now, at receipt. The signer's own claims (the signing-time
    // attribute, the PDF's /M) are shown, never relied on: a holder of an expired
    // certificate could claim any time.
    let mut proven = None;
    if let Some(ts) = &checked.timestamp {
        let valid = ts.imprint_matches && ts.cms.intact && ts.cms.valid;
        let mut ts_verdict = TimestampVerdict {
            time: ts.cms.gen_time.map(rfc3339),
            valid,
            trusted: false,
            authority: ts.cms.signer.as_ref().map(trust::common_name),
        };
        if valid {
            if let (Some(tsa), Some(at)) = (ts.cms.signer.as_ref(), ts.cms.gen_time) {
                let pool: Vec<_> = ts
                    .cms
                    .certificates
                    .iter()
                    .chain(checked.certificates.iter())
                    .cloned()
                    .collect();
                let chain = trust::check_chain(
                    tsa,
                    &pool,
                    anchors,
                    at,
                    trust::Purpose::Timestamping,
                    &revocation,
                );
                ts_verdict.trusted = chain.trusted;
                if chain.trusted {
                    proven = Some(at);
                }
            }
        } else {
            verdict.push(
                IssueCode::TimestampInvalid,
                "the signature timestamp does not verify or does not cover this signature",
            );
        }
        verdict.timestamp = Some(ts_verdict);
    }
    // A document timestamp is judged at its own time when it verifies (its authority's chain
    // is what is checked below).
    if verdict.format == SignatureFormat::DocumentTimestamp && checked.intact && checked.valid {
        proven = checked.gen_time;
    }
    let shown = proven
        .map(|t| (t, TimeSource::Timestamp))
        .or_else(|| {
            checked
                .claimed_time
                .map(|t| (t, TimeSource::SigningTimeAttribute))
        })
        .or_else(|| claimed_pdf_time.map(|t| (t, TimeSource::PdfSigningTime)));
    if let Some((at, source)) = shown {
        verdict.signing_time = Some(rfc3339(at));
        verdict.time_source = Some(source);
    }
    let at = proven.unwrap_or_else(Timestamp::now);
    let purpose = if verdict.format == SignatureFormat::DocumentTimestamp {
        trust::Purpose::Timestamping
    } else {
        trust::Purpose::DocumentSigning
    };
    let chain = trust::check_chain(
        signer,
        &checked.certificates,
        anchors,
        at,
        purpose,
        &revocation,
    );
    verdict.chain = chain.path;
    verdict.issues.extend(chain.issues);
    let weak = verdict
        .issues
        .iter()
        .any(|i| i.code == IssueCode::WeakAlgorithm);
    verdict.trusted = verdict.intact && verdict.valid && !weak && chain.trusted;
}

fn signer_of(cert: &x509_cert::Certificate) -> Signer {
    Signer {
        name: trust::common_name(cert),
        subject: trust::subject(cert),
        serial: hex::encode(cert.tbs_certificate.serial_number.as_bytes()),
        issuer: cert.tbs_certificate.issuer.to_string(),
    }
}

/// Verifies a detached CAdES signature (`.p7s`, DER) over a document's bytes.
pub fn check_detached(document: &[u8], p7s: &[u8], anchors: &TrustAnchors) -> SignatureVerdict {
    let mut verdict = SignatureVerdict::new(SignatureFormat::Cades);
    // A PEM-armoured .p7s is common from openssl; its body is the same DER.
    let der_bytes = pem_body(p7s).unwrap_or_else(|| p7s.to_vec());
    let signed = match cms::parse_signed_data(&der_bytes) {
        Ok(s) => s,
        Err(issue) => {
            verdict.issues.push(issue);
            return verdict;
        }
    };
    if signed.data.encap_content_info.econtent.is_some() {
        verdict.push(
            IssueCode::NoSignedContent,
            "the .p7s carries its own content (an attached signature), not a detached one",
        );
        return verdict;
    }
    let ranges = [(0, document.len())];
    let checked = cms::check(
        &signed,
        &cms::SignedContent::Ranges(document, &ranges, None),
    );
    apply_cms(
        &mut verdict,
        checked,
        anchors,
        None,
        &revocation::RevocationData::default(),
    );
    verdict
}

fn pem_body(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    if !text.trim_start().starts_with("-----BEGIN") {
        return None;
    }
    let (_label, der) = der::pem::decode_vec(text.as_bytes()).ok()?;
    Some(der)
}
