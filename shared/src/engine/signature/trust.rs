//! Trust: the operator's bundle of trust anchors, and the chain from a signer to one of them,
//! checked at a proven signing time (a trusted timestamp), else at the time of checking.

use der::{Decode, Encode};
use jiff::Timestamp;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier};

use super::cms::{oid, verify_signature};
use super::revocation::{self, RevocationData, Status};
use super::{IssueCode, SignatureIssue};

/// Longest chain followed from a signer to an anchor.
const MAX_CHAIN: usize = 8;
/// Most certificates with the wanted subject tried at each step.
const MAX_CANDIDATES: usize = 16;

/// Why a bundle of trust anchors was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The PEM text could not be read.
    #[error("the trust anchor bundle is not readable PEM certificates: {0}")]
    Pem(String),
    /// The bundle holds no certificate.
    #[error("the trust anchor bundle holds no certificate")]
    Empty,
}

/// The certificates the operator trusts (roots, or any certificate to stop at).
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    certificates: Vec<Certificate>,
}

impl TrustAnchors {
    /// No anchors: signatures can be intact and valid, never trusted.
    pub fn none() -> Self {
        TrustAnchors::default()
    }

    /// Reads a PEM bundle (one or more `CERTIFICATE` blocks).
    pub fn from_pem(pem: &[u8]) -> Result<Self, TrustError> {
        let certificates =
            Certificate::load_pem_chain(pem).map_err(|e| TrustError::Pem(e.to_string()))?;
        if certificates.is_empty() {
            return Err(TrustError::Empty);
        }
        Ok(TrustAnchors { certificates })
    }

    /// Whether any anchor is configured.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// How many anchors there are.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    fn contains(&self, cert: &Certificate) -> bool {
        self.certificates.iter().any(|a| a == cert)
    }
}

/// What the signer's certificate must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Signing documents: key usage digitalSignature or nonRepudiation.
    DocumentSigning,
    /// Timestamping: extended key usage id-kp-timeStamping.
    Timestamping,
}

/// The outcome of building a chain.
#[derive(Debug, Default)]
pub(crate) struct ChainCheck {
    /// The chain reaches an anchor, every certificate in it is valid at the time, the links
    /// verify, and the end certificate allows the purpose.
    pub trusted: bool,
    /// Subjects from the signer to the anchor, for the verdict.
    pub path: Vec<String>,
    /// What was wrong.
    pub issues: Vec<SignatureIssue>,
}

fn issue(code: IssueCode, message: impl Into<String>) -> SignatureIssue {
    SignatureIssue {
        code,
        message: message.into(),
    }
}

fn extension(cert: &Certificate, wanted: const_oid::ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == wanted)
        .map(|e| e.extn_value.as_bytes())
}

/// The certificate's subject key identifier, if it has one.
pub(crate) fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    let bytes = extension(cert, oid::SUBJECT_KEY_IDENTIFIER)?;
    Some(
        SubjectKeyIdentifier::from_der(bytes)
            .ok()?
            .0
            .as_bytes()
            .to_vec(),
    )
}

fn seconds(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn valid_at(cert: &Certificate, at: Timestamp) -> Result<(), IssueCode> {
    let now = at.as_second();
    let validity = &cert.tbs_certificate.validity;
    if now < seconds(validity.not_before) {
        Err(IssueCode::CertificateNotYetValid)
    } else if now > seconds(validity.not_after) {
        Err(IssueCode::CertificateExpired)
    } else {
        Ok(())
    }
}

fn is_ca(cert: &Certificate) -> bool {
    extension(cert, oid::BASIC_CONSTRAINTS)
        .and_then(|b| BasicConstraints::from_der(b).ok())
        .is_some_and(|b| b.ca)
}

fn allows(cert: &Certificate, purpose: Purpose) -> bool {
    match purpose {
        Purpose::DocumentSigning => {
            let key_usage = match extension(cert, oid::KEY_USAGE) {
                None => true,
                Some(bytes) => KeyUsage::from_der(bytes)
                    .is_ok_and(|ku| ku.digital_signature() || ku.non_repudiation()),
            };
            // A certificate for TLS servers or timestamping only must not sign documents.
            let extended = match extension(cert, oid::EXTENDED_KEY_USAGE) {
                None => true,
                Some(bytes) => ExtendedKeyUsage::from_der(bytes).is_ok_and(|eku| {
                    eku.0
                        .iter()
                        .any(|usage| DOCUMENT_SIGNING_EKUS.contains(&usage.to_string().as_str()))
                }),
            };
            key_usage && extended
        }
        Purpose::Timestamping => has_extended_usage(cert, oid::TIME_STAMPING),
    }
}

/// The certificate's subject as text.
pub(crate) fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// The certificate's common name, or its whole subject.
pub(crate) fn common_name(cert: &Certificate) -> String {
    const CN: const_oid::ObjectIdentifier = const_oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == CN)
        .and_then(|atv| {
            atv.value
                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<der::asn1::PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
        .unwrap_or_else(|| subject(cert))
}

/// How `issuer`'s key verifies `cert`'s signature: `None` when it does not, else whether the
/// link uses SHA-1.
pub(crate) fn signed_by(cert: &Certificate, issuer: &Certificate) -> Option<bool> {
    let tbs = cert.tbs_certificate.to_der().ok()?;
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        cert.signature.raw_bytes(),
    )
    .ok()
    .map(|(scheme, _)| scheme.contains("SHA-1"))
}

/// Whether the certificate's extended key usage names `usage`.
pub(crate) fn has_extended_usage(cert: &Certificate, usage: const_oid::ObjectIdentifier) -> bool {
    extension(cert, oid::EXTENDED_KEY_USAGE)
        .and_then(|b| ExtendedKeyUsage::from_der(b).ok())
        .is_some_and(|eku| eku.0.contains(&usage))
}

/// Whether a certificate may sign CRLs: key usage, when present, has cRLSign.
pub(crate) fn may_sign_crls(cert: &Certificate) -> bool {
    match extension(cert, oid::KEY_USAGE) {
        None => true,
        Some(bytes) => KeyUsage::from_der(bytes).is_ok_and(|ku| ku.crl_sign()),
    }
}

/// Whether a certificate may issue others: a CA, and key usage (when present) with
/// keyCertSign.
fn may_issue(cert: &Certificate) -> bool {
    is_ca(cert)
        && match extension(cert, oid::KEY_USAGE) {
            None => true,
            Some(bytes) => KeyUsage::from_der(bytes).is_ok_and(|ku| ku.key_cert_sign()),
        }
}

/// Extended key usages that allow signing documents (when the extension is present at all):
/// any, e-mail protection (common on qualified certificates), document signing (RFC 9336),
/// Adobe's and Microsoft's document signing, and client authentication (e-ID cards).
const DOCUMENT_SIGNING_EKUS: [&str; 6] = [
    "2.5.29.37.0",
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.36",
    "1.2.840.113583.1.1.5",
    "1.3.6.1.4.1.311.10.3.12",
    "1.3.6.1.5.5.7.3.2",
];

/// Builds and checks the chain from `end` through `pool` (the certificates the signature
/// carries) to an anchor, at time `at` (the signing time; now when none is known).
pub(crate) fn check_chain(
    end: &Certificate,
    pool: &[Certificate],
    anchors: &TrustAnchors,
    at: Timestamp,
    purpose: Purpose,
    revocation: &[&RevocationData],
) -> ChainCheck {
    let mut out = ChainCheck {
        path: vec![subject(end)],
        ..ChainCheck::default()
    };
    let mut fine = true;
    if let Err(code) = valid_at(end, at) {
        fine = false;
        out.issues.push(issue(
            code,
            format!(
                "the signer's certificate was {} at the time checked (a timestamp's proven time, else now)",
                if code == IssueCode::CertificateExpired {
                    "expired"
                } else {
                    "not yet valid"
                }
            ),
        ));
    }
    if !allows(end, purpose) {
        fine = false;
        out.issues.push(issue(
            IssueCode::KeyUsageForbidsSigning,
            match purpose {
                Purpose::DocumentSigning => {
                    "the signer's certificate does not allow signing (key usage has neither \
                     digitalSignature nor nonRepudiation)"
                }
                Purpose::Timestamping => {
                    "the timestamp authority's certificate is not for timestamping"
                }
            },
        ));
    }
    if anchors.is_empty() {
        out.issues.push(issue(
            IssueCode::NoTrustAnchors,
            "no trust anchors are configured, so no signer can be trusted",
        ));
        return out;
    }
    let mut current = end.clone();
    let mut reached = anchors.contains(&current);
    for _ in 0..MAX_CHAIN {
        if reached {
            break;
        }
        let issuer_name = &current.tbs_certificate.issuer;
        let candidates = anchors
            .certificates
            .iter()
            .chain(pool.iter())
            .filter(|c| &c.tbs_certificate.subject == issuer_name && *c != &current);
        let mut next = None;
        for candidate in candidates.take(MAX_CANDIDATES) {
            if let Some(sha1) = signed_by(&current, candidate) {
                next = Some((candidate.clone(), sha1));
                break;
            }
        }
        let Some((issuer, sha1_link)) = next else {
            out.issues.push(issue(
                IssueCode::ChainIncomplete,
                format!(
                    "no trusted issuer found for {}: the chain does not reach a trust anchor",
                    subject(&current)
                ),
            ));
            return out;
        };
        out.path.push(subject(&issuer));
        match revocation::status(revocation, &current, &issuer, at) {
            Status::Good => {}
            Status::Revoked { at: when, reason } => {
                fine = false;
                out.issues.push(issue(
                    IssueCode::Revoked,
                    format!(
                        "the certificate {} was revoked on {when}{}, before the time checked \
                         (a timestamp's proven time, else now)",
                        subject(&current),
                        reason.map(|r| format!(" ({r})")).unwrap_or_default()
                    ),
                ));
            }
            Status::Unknown => out.issues.push(issue(
                IssueCode::RevocationUnknown,
                format!(
                    "no CRL or OCSP response in the document shows whether {} was revoked at \
                     the time checked",
                    subject(&current)
                ),
            )),
        }
        if sha1_link {
            fine = false;
            out.issues.push(issue(
                IssueCode::WeakAlgorithm,
                format!(
                    "{} is signed with SHA-1, which is no longer secure",
                    subject(&current)
                ),
            ));
        }
        // Even a trust anchor issues only as a CA: a pinned end certificate vouches for itself
        // and nothing else.
        if !may_issue(&issuer) {
            fine = false;
            out.issues.push(issue(
                IssueCode::ChainIncomplete,
                format!("{} issues certificates but is not a CA", subject(&issuer)),
            ));
        }
        reached = anchors.contains(&issuer);
        if !reached {
            if let Err(code) = valid_at(&issuer, at) {
                fine = false;
                out.issues.push(issue(
                    code,
                    format!(
                        "the issuing certificate {} was not valid at the time checked",
                        subject(&issuer)
                    ),
                ));
            }
        }
        current = issuer;
    }
    if !reached {
        out.issues.push(issue(
            IssueCode::ChainIncomplete,
            "the chain does not reach a trust anchor",
        ));
        return out;
    }
    out.trusted = fine;
    out
}
