//! Revocation from the data a signed document carries, never from the network: CRLs and OCSP
//! responses from the PDF's document security store (/DSS /CRLs and /OCSPs), the CMS's own
//! revocation choices, and Adobe's `adbe-revocationInfoArchival` signed attribute. A
//! certificate is judged at the signing time that was proven (or now): revoked before it, it
//! is not trusted; revoked after it, it was good when it signed; with no usable data, the
//! status is unknown (a finding that services may be configured to require away).

use der::{Decode, Encode, Sequence};
use jiff::Timestamp;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, SingleResponse};

use super::cms::{DigestAlgorithm, oid, verify_signature};
use super::trust;

/// Most CRLs kept from one document.
const MAX_CRLS: usize = 64;
/// Most OCSP responses kept from one document.
const MAX_OCSP_RESPONSES: usize = 256;
/// Largest CRL or OCSP response read (a large CA's CRL is a few MiB).
pub(crate) const MAX_ITEM_BYTES: usize = 8 * 1024 * 1024;
/// How long before the signing time an OCSP response or CRL without a next update may have
/// been issued and still speak for it: signers fetch the response just before they sign.
const GRACE_SECONDS: i64 = 24 * 3600;

/// `adbe-revocationInfoArchival` (Adobe, PDF Reference 8.7, signed attribute).
const ADBE_REVOCATION: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");
/// `id-pkix-ocsp-basic`.
const OCSP_BASIC: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// `id-kp-OCSPSigning`.
const OCSP_SIGNING: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// `RevocationInfoArchival ::= SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRL OPTIONAL,
/// ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] ... OPTIONAL }`.
#[derive(Sequence)]
struct RevocationInfoArchival {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl: Option<Vec<der::Any>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    ocsp: Option<Vec<der::Any>>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    other: Option<Vec<der::Any>>,
}

/// The CRLs and OCSP responses found for one signature.
#[derive(Debug, Default, Clone)]
pub(crate) struct RevocationData {
    crls: Vec<CertificateList>,
    responses: Vec<BasicOcspResponse>,
}

/// What the revocation data says of one certificate at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not revoked at that time (possibly revoked later).
    Good,
    /// Revoked at or before that time.
    Revoked {
        /// When it was revoked.
        at: Timestamp,
        /// The reason given, in words.
        reason: Option<&'static str>,
    },
    /// No usable CRL or OCSP response speaks for it.
    Unknown,
}

fn seconds(duration: core::time::Duration) -> Option<Timestamp> {
    Timestamp::from_second(i64::try_from(duration.as_secs()).ok()?).ok()
}

fn reason_text(reason: CrlReason) -> &'static str {
    match reason {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "key compromise",
        CrlReason::CaCompromise => "CA compromise",
        CrlReason::AffiliationChanged => "affiliation changed",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessation of operation",
        CrlReason::CertificateHold => "certificate on hold",
        CrlReason::RemoveFromCRL => "removed from the CRL",
        CrlReason::PrivilegeWithdrawn => "privilege withdrawn",
        CrlReason::AaCompromise => "attribute authority compromise",
    }
}

/// Whether data issued at `this_update`, valid until `next_update`, speaks for time `at`.
fn fresh_for(this_update: Timestamp, next_update: Option<Timestamp>, at: Timestamp) -> bool {
    let issued_after = this_update.as_second() >= at.as_second().saturating_sub(GRACE_SECONDS);
    match next_update {
        Some(next) => issued_after || next >= at,
        None => issued_after,
    }
}

impl RevocationData {
    /// Adds a DER CRL; `false` when it is not one (or the bound is reached).
    pub fn add_crl(&mut self, der_bytes: &[u8]) -> bool {
        if der_bytes.len() > MAX_ITEM_BYTES || self.crls.len() >= MAX_CRLS {
            return false;
        }
        match CertificateList::from_der(der_bytes) {
            Ok(crl) => {
                self.push_crl(crl);
                true
            }
            Err(_) => false,
        }
    }

    fn push_crl(&mut self, crl: CertificateList) {
        if self.crls.len() < MAX_CRLS && !self.crls.contains(&crl) {
            self.crls.push(crl);
        }
    }

    /// Adds a DER OCSPResponse (or a bare BasicOCSPResponse, as some signers store it);
    /// `false` when it is neither.
    pub fn add_ocsp(&mut self, der_bytes: &[u8]) -> bool {
        if der_bytes.len() > MAX_ITEM_BYTES || self.responses.len() >= MAX_OCSP_RESPONSES {
            return false;
        }
        let basic = match OcspResponse::from_der(der_bytes) {
            Ok(response) => response
                .response_bytes
                .filter(|b| b.response_type == OCSP_BASIC)
                .and_then(|b| BasicOcspResponse::from_der(b.response.as_bytes()).ok()),
            Err(_) => BasicOcspResponse::from_der(der_bytes).ok(),
        };
        match basic {
            Some(basic) => {
                if !self.responses.contains(&basic) {
                    self.responses.push(basic);
                }
                true
            }
            None => false,
        }
    }

    /// Adds what a CMS SignedData carries: its CRLs and its first signer's
    /// `adbe-revocationInfoArchival` attribute.
    pub fn add_cms(&mut self, signed: &cms::signed_data::SignedData) {
        // An RFC 5940 OCSP choice (`[1]`) cannot be read: `cms` 0.2 decodes it with the wrong
        // structure, so the tolerant parse drops it (see `ber::tolerant_signed_data`).
        for choice in signed.crls.iter().flat_map(|set| set.0.iter()) {
            if let cms::revocation::RevocationInfoChoice::Crl(crl) = choice {
                self.push_crl(crl.clone());
            }
        }
        let archival = signed
            .signer_infos
            .0
            .iter()
            .next()
            .and_then(|signer| signer.signed_attrs.as_ref())
            .and_then(|attrs| attrs.iter().find(|a| a.oid == ADBE_REVOCATION))
            .and_then(|a| a.values.iter().next())
            .and_then(|value| value.decode_as::<RevocationInfoArchival>().ok());
        if let Some(archival) = archival {
            for crl in archival.crl.iter().flatten() {
                if let Ok(der_bytes) = crl.to_der() {
                    self.add_crl(&der_bytes);
                }
            }
            for response in archival.ocsp.iter().flatten() {
                if let Ok(der_bytes) = response.to_der() {
                    self.add_ocsp(&der_bytes);
                }
            }
        }
    }

    /// The status of `cert` (issued by `issuer`) at `at` by this data alone.
    fn status(&self, cert: &Certificate, issuer: &Certificate, at: Timestamp) -> Status {
        let mut good = false;
        for response in &self.responses {
            for single in &response.tbs_response_data.responses {
                if !same_certificate(single, cert, issuer) || !ocsp_signed(response, issuer) {
                    continue;
                }
                match &single.cert_status {
                    CertStatus::Revoked(info) => {
                        let Some(when) = seconds(info.revocation_time.0.to_unix_duration()) else {
                            continue;
                        };
                        if when <= at {
                            return Status::Revoked {
                                at: when,
                                reason: info.revocation_reason.map(reason_text),
                            };
                        }
                        good = true;
                    }
                    CertStatus::Good(_) => {
                        let this = seconds(single.this_update.0.to_unix_duration());
                        let next = single
                            .next_update
                            .and_then(|n| seconds(n.0.to_unix_duration()));
                        if this.is_some_and(|t| fresh_for(t, next, at)) {
                            good = true;
                        }
                    }
                    CertStatus::Unknown(_) => {}
                }
            }
        }
        let serial = &cert.tbs_certificate.serial_number;
        for crl in &self.crls {
            let list = &crl.tbs_cert_list;
            if list.issuer != cert.tbs_certificate.issuer || !crl_signed(crl, issuer) {
                continue;
            }
            let entry = list
                .revoked_certificates
                .iter()
                .flatten()
                .find(|entry| &entry.serial_number == serial);
            if let Some(entry) = entry {
                let reason = entry
                    .crl_entry_extensions
                    .iter()
                    .flatten()
                    .find(|e| e.extn_id == oid::CRL_REASON)
                    .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok());
                // An entry "removed from the CRL" (a delta lifting a hold) revokes nothing.
                if reason != Some(CrlReason::RemoveFromCRL) {
                    if let Some(when) = seconds(entry.revocation_date.to_unix_duration()) {
                        if when <= at {
                            return Status::Revoked {
                                at: when,
                                reason: reason.map(reason_text),
                            };
                        }
                        good = true;
                        continue;
                    }
                }
            }
            let this = seconds(list.this_update.to_unix_duration());
            let next = list.next_update.and_then(|n| seconds(n.to_unix_duration()));
            if this.is_some_and(|t| fresh_for(t, next, at)) {
                good = true;
            }
        }
        if good { Status::Good } else { Status::Unknown }
    }
}

/// The status of `cert` (issued by `issuer`) at `at` by every source of revocation data: a
/// revocation shown by any verified CRL or OCSP response wins; otherwise good when one that
/// speaks for `at` says so.
pub(crate) fn status(
    sources: &[&RevocationData],
    cert: &Certificate,
    issuer: &Certificate,
    at: Timestamp,
) -> Status {
    let mut good = false;
    for source in sources {
        match source.status(cert, issuer, at) {
            Status::Good => good = true,
            revoked @ Status::Revoked { .. } => return revoked,
            Status::Unknown => {}
        }
    }
    if good { Status::Good } else { Status::Unknown }
}

/// Whether an OCSP single response names `cert` as issued by `issuer`.
fn same_certificate(single: &SingleResponse, cert: &Certificate, issuer: &Certificate) -> bool {
    let id = &single.cert_id;
    if id.serial_number != cert.tbs_certificate.serial_number {
        return false;
    }
    let Some(digest) = DigestAlgorithm::from_oid(&id.hash_algorithm.oid) else {
        return false;
    };
    let Ok(name) = cert.tbs_certificate.issuer.to_der() else {
        return false;
    };
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    id.issuer_name_hash.as_bytes() == digest.digest(&[&name]).as_slice()
        && id.issuer_key_hash.as_bytes() == digest.digest(&[key]).as_slice()
}

/// Whether the response is signed by `issuer` itself or by a responder `issuer` delegated
/// (a certificate it signed, for OCSP signing, carried in the response).
fn ocsp_signed(response: &BasicOcspResponse, issuer: &Certificate) -> bool {
    let Ok(tbs) = response.tbs_response_data.to_der() else {
        return false;
    };
    let verifies = |signer: &Certificate| {
        verify_signature(
            &signer.tbs_certificate.subject_public_key_info,
            &response.signature_algorithm,
            None,
            &tbs,
            response.signature.raw_bytes(),
        )
        .is_ok()
    };
    if verifies(issuer) {
        return true;
    }
    response.certs.iter().flatten().any(|responder| {
        responder.tbs_certificate.issuer == issuer.tbs_certificate.subject
            && trust::has_extended_usage(responder, OCSP_SIGNING)
            && trust::signed_by(responder, issuer).is_some()
            && verifies(responder)
    })
}

/// Whether `issuer` signed the CRL (and, where its key usage says, may sign CRLs).
fn crl_signed(crl: &CertificateList, issuer: &Certificate) -> bool {
    if !trust::may_sign_crls(issuer) {
        return false;
    }
    let Ok(tbs) = crl.tbs_cert_list.to_der() else {
        return false;
    };
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &crl.signature_algorithm,
        None,
        &tbs,
        crl.signature.raw_bytes(),
    )
    .is_ok()
}

#[cfg(test)]
mod unit {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn data_speaks_for_a_time_it_covers_or_follows() {
        let signing = at("2025-06-02T10:00:00Z");
        // Issued after signing: it says what held then.
        assert!(fresh_for(at("2025-06-03T00:00:00Z"), None, signing));
        // Fetched just before signing (within a day), without a next update.
        assert!(fresh_for(at("2025-06-01T12:00:00Z"), None, signing));
        // Issued long before, but valid until after signing.
        assert!(fresh_for(
            at("2025-05-01T00:00:00Z"),
            Some(at("2025-06-30T00:00:00Z")),
            signing
        ));
        // Issued long before and expired before signing: it does not speak for it.
        assert!(!fresh_for(
            at("2025-05-01T00:00:00Z"),
            Some(at("2025-05-31T00:00:00Z")),
            signing
        ));
        assert!(!fresh_for(at("2025-05-01T00:00:00Z"), None, signing));
    }

    #[test]
    fn unreadable_revocation_data_is_refused_not_kept() {
        let mut data = RevocationData::default();
        assert!(!data.add_crl(b"not a CRL"));
        assert!(!data.add_ocsp(b"\x30\x03\x02\x01\x00"));
        assert!(!data.add_ocsp(&[]));
        assert!(data.crls.is_empty() && data.responses.is_empty());
    }
}
