//! The receipt key's certificate material: the office's subject name, the PKCS#10 request
//! (`intake receipt-key csr`), a self-signed fallback certificate, and reading the chain a CA
//! issued.
//!
//! The private key lives in AWS KMS (ECC_NIST_P256), so each signed structure is built here as
//! DER (`request_info`, `self_signed_info`), signed by KMS elsewhere (`ECDSA_SHA_256`,
//! `MessageType=RAW`), and assembled here with the DER signature KMS returned
//! (`certification_request`, `certificate`). The public key comes from KMS `GetPublicKey`, a
//! DER SubjectPublicKeyInfo.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use const_oid::db::{rfc4519, rfc5912};
use der::asn1::{BitString, GeneralizedTime, OctetString, PrintableStringRef, SetOfVec, UtcTime};
use der::pem::LineEnding;
use der::{Any, DateTime, Decode, Encode, EncodePem};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha1::{Digest, Sha1};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::request::{CertReq, CertReqInfo};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// What the common name adds to the office's name: the certificate is only for receipts.
const COMMON_NAME_SUFFIX: &str = " – potwierdzenia wpływu";
/// ub-common-name and ub-organization-name (RFC 5280 Appendix A.1), in characters.
const MAX_NAME_CHARS: usize = 64;

/// Why certificate material could not be built or read.
///
/// The messages are ours, for a person; the `der` error underneath (when there is one) is kept
/// as the source, for logs.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptCertificateError {
    /// The office name is empty (or only spaces).
    #[error("the office name is empty")]
    EmptyOfficeName,
    /// The common name or organization would exceed X.509's 64-character bound.
    #[error("the office name is too long for a certificate (at most {max} characters)")]
    OfficeNameTooLong {
        /// How many characters the office name may have.
        max: usize,
    },
    /// The country is not a two-letter ISO 3166 code in capitals ("PL").
    #[error("the country must be a two-letter code in capitals, such as PL")]
    InvalidCountry,
    /// The public key is not an ECDSA P-256 SubjectPublicKeyInfo.
    #[error("the public key is not an ECDSA P-256 key")]
    UnsupportedKey,
    /// The signature is not a DER ECDSA-Sig-Value for P-256.
    #[error("the signature is not a DER-encoded ECDSA P-256 signature")]
    MalformedSignature,
    /// The signature does not verify under the key in the signed structure (KMS signed with
    /// another key, or other bytes).
    #[error("the signature does not verify under the request's or certificate's own key")]
    SignatureMismatch,
    /// The serial number is empty, zero, or longer than 20 octets (RFC 5280 §4.1.2.2).
    #[error("the serial number must be a positive number of at most 20 octets")]
    InvalidSerial,
    /// The validity period is empty or begins before 1970.
    #[error("the certificate's validity must begin after 1970 and before it ends")]
    InvalidValidity,
    /// The PEM text holds no certificate.
    #[error("no certificate found in the PEM text")]
    NoCertificate,
    /// The PEM text holds a block that is not a certificate (a private key, say).
    #[error("the PEM text holds something other than certificates")]
    UnexpectedPemBlock,
    /// A PEM block is cut short or its base64 is broken.
    #[error("a PEM certificate block is damaged")]
    MalformedPem,
    /// A structure could not be DER-encoded.
    #[error("could not encode the {what}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error, for logs.
        #[source]
        source: der::Error,
    },
    /// Bytes from outside (a key, a certificate) could not be decoded.
    #[error("could not read the {what}")]
    Decoding {
        /// What was being read.
        what: &'static str,
        /// The decoder's error, for logs.
        #[source]
        source: der::Error,
    },
}

fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> ReceiptCertificateError {
    move |source| ReceiptCertificateError::Encoding { what, source }
}

fn decoding(what: &'static str) -> impl FnOnce(der::Error) -> ReceiptCertificateError {
    move |source| ReceiptCertificateError::Decoding { what, source }
}

fn rdn(
    oid: const_oid::ObjectIdentifier,
    value: Any,
) -> Result<RelativeDistinguishedName, ReceiptCertificateError> {
    let atv = AttributeTypeAndValue { oid, value };
    Ok(RelativeDistinguishedName(
        SetOfVec::try_from(vec![atv]).map_err(encoding("subject name"))?,
    ))
}

fn utf8(value: &str) -> Result<Any, ReceiptCertificateError> {
    // UTF8String, so "Urząd" stays "Urząd" (PrintableString has no diacritics).
    Any::new(der::Tag::Utf8String, value.as_bytes()).map_err(encoding("subject name"))
}

/// The receipt certificate's subject: C = `country`, O = `office_name`, and
/// CN = "`office_name` – potwierdzenia wpływu", the names as UTF8String so Polish letters
/// survive.
///
/// `country` is a two-letter code in capitals ("PL"). Fails on an empty office name or one
/// whose common name would pass X.509's 64-character bound.
pub fn office_subject(office_name: &str, country: &str) -> Result<Name, ReceiptCertificateError> {
    let office = office_name.trim();
    if office.is_empty() {
        return Err(ReceiptCertificateError::EmptyOfficeName);
    }
    let common_name = format!("{office}{COMMON_NAME_SUFFIX}");
    if common_name.chars().count() > MAX_NAME_CHARS {
        return Err(ReceiptCertificateError::OfficeNameTooLong {
            max: MAX_NAME_CHARS - COMMON_NAME_SUFFIX.chars().count(),
        });
    }
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ReceiptCertificateError::InvalidCountry);
    }
    // X.520 says countryName is a PrintableString.
    let country = PrintableStringRef::new(country)
        .map_err(|_| ReceiptCertificateError::InvalidCountry)
        .and_then(|c| Any::encode_from(&c).map_err(encoding("subject name")))?;
    // Most significant first, as CAs and openssl print it: C, O, CN.
    Ok(RdnSequence(vec![
        rdn(rfc4519::COUNTRY_NAME, country)?,
        rdn(rfc4519::ORGANIZATION_NAME, utf8(office)?)?,
        rdn(rfc4519::COMMON_NAME, utf8(&common_name)?)?,
    ]))
}

/// The ECDSA P-256 verifying key in `spki`, or `None` for any other key.
pub(crate) fn p256_key(spki: &SubjectPublicKeyInfoOwned) -> Option<VerifyingKey> {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
    if spki.algorithm.oid != rfc5912::ID_EC_PUBLIC_KEY || curve != Some(rfc5912::SECP_256_R_1) {
        return None;
    }
    VerifyingKey::from_sec1_bytes(spki.subject_public_key.as_bytes()?).ok()
}

/// Reads KMS's public key (a DER SubjectPublicKeyInfo) and requires it to be P-256.
fn office_key(public_key_der: &[u8]) -> Result<SubjectPublicKeyInfoOwned, ReceiptCertificateError> {
    let spki =
        SubjectPublicKeyInfoOwned::from_der(public_key_der).map_err(decoding("public key"))?;
    p256_key(&spki).ok_or(ReceiptCertificateError::UnsupportedKey)?;
    Ok(spki)
}

fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    // No parameters for ecdsa-with-SHA256 (RFC 5758 §3.2).
    AlgorithmIdentifierOwned {
        oid: rfc5912::ECDSA_WITH_SHA_256,
        parameters: None,
    }
}

/// Checks that `signature` is a DER ECDSA signature over `message` by the key in `spki`.
fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), ReceiptCertificateError> {
    let signature =
        Signature::from_der(signature).map_err(|_| ReceiptCertificateError::MalformedSignature)?;
    p256_key(spki)
        .ok_or(ReceiptCertificateError::UnsupportedKey)?
        .verify(message, &signature)
        .map_err(|_| ReceiptCertificateError::SignatureMismatch)
}

/// The PKCS#10 CertificationRequestInfo (DER) for `subject` and KMS's public key (a DER
/// SubjectPublicKeyInfo): the bytes KMS signs for [`certification_request`]. No attributes.
pub fn request_info(
    subject: &Name,
    public_key_der: &[u8],
) -> Result<Vec<u8>, ReceiptCertificateError> {
    let info = CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: subject.clone(),
        public_key: office_key(public_key_der)?,
        attributes: SetOfVec::new(),
    };
    info.to_der().map_err(encoding("certification request"))
}

/// The certification request as PEM ("CERTIFICATE REQUEST"), from the DER of
/// [`request_info`] and the DER ECDSA signature KMS returned over it (ecdsa-with-SHA256).
///
/// The signature must verify under the request's own key, so a CA never gets a request that
/// its proof-of-possession check would refuse.
pub fn certification_request(
    info_der: &[u8],
    signature: &[u8],
) -> Result<String, ReceiptCertificateError> {
    let info = CertReqInfo::from_der(info_der).map_err(decoding("certification request"))?;
    // Verify over the re-encoding: that is what the request will carry.
    let tbs = info.to_der().map_err(encoding("certification request"))?;
    verify(&info.public_key, &tbs, signature)?;
    let request = CertReq {
        info,
        algorithm: ecdsa_with_sha256(),
        signature: BitString::from_bytes(signature).map_err(encoding("certification request"))?,
    };
    request
        .to_pem(LineEnding::LF)
        .map_err(encoding("certification request"))
}

/// An X.509 Time for `at`: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
fn x509_time(at: SystemTime) -> Result<Time, ReceiptCertificateError> {
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| ReceiptCertificateError::InvalidValidity)?;
    // Whole seconds: DER times carry no fractions here.
    let since_epoch = Duration::from_secs(since_epoch.as_secs());
    let datetime = DateTime::from_unix_duration(since_epoch)
        .map_err(|_| ReceiptCertificateError::InvalidValidity)?;
    if datetime.year() < 2050 {
        UtcTime::from_date_time(datetime)
            .map(Time::UtcTime)
            .map_err(|_| ReceiptCertificateError::InvalidValidity)
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(datetime)))
    }
}

fn extension(
    oid: const_oid::ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, ReceiptCertificateError> {
    let der = value.to_der().map_err(encoding("certificate extensions"))?;
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der).map_err(encoding("certificate extensions"))?,
    })
}

/// The TBSCertificate (DER) of a self-signed v3 certificate for KMS's public key: issuer and
/// subject `subject`, serial number `serial` (big-endian, unsigned, at most 20 octets, not
/// zero), valid from `not_before` to `not_after` (whole seconds), ecdsa-with-SHA256.
///
/// Extensions: basicConstraints cA=false and keyUsage digitalSignature + nonRepudiation (both
/// critical), and subjectKeyIdentifier (SHA-1 of the key bits, RFC 5280 §4.2.1.2 method 1).
/// KMS signs the result for [`certificate`].
pub fn self_signed_info(
    subject: &Name,
    public_key_der: &[u8],
    serial: &[u8],
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<Vec<u8>, ReceiptCertificateError> {
    let spki = office_key(public_key_der)?;
    if serial.iter().all(|&b| b == 0) {
        return Err(ReceiptCertificateError::InvalidSerial);
    }
    let serial_number =
        SerialNumber::new(serial).map_err(|_| ReceiptCertificateError::InvalidSerial)?;
    if not_before >= not_after {
        return Err(ReceiptCertificateError::InvalidValidity);
    }
    let validity = Validity {
        not_before: x509_time(not_before)?,
        not_after: x509_time(not_after)?,
    };
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(ReceiptCertificateError::UnsupportedKey)?;
    let key_id = OctetString::new(Sha1::digest(key_bits).to_vec())
        .map_err(encoding("certificate extensions"))?;
    let extensions = vec![
        extension(
            rfc5912::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
        extension(
            rfc5912::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        )?,
        extension(
            rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(key_id),
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number,
        signature: ecdsa_with_sha256(),
        issuer: subject.clone(),
        validity,
        subject: subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    tbs.to_der().map_err(encoding("certificate"))
}

/// The self-signed certificate from the DER of [`self_signed_info`] and the DER ECDSA
/// signature KMS returned over it. The signature must verify under the certificate's own key.
pub fn certificate(
    tbs_der: &[u8],
    signature: &[u8],
) -> Result<Certificate, ReceiptCertificateError> {
    let tbs_certificate = TbsCertificate::from_der(tbs_der).map_err(decoding("certificate"))?;
    // Verify over the re-encoding: that is what the certificate will carry.
    let tbs = tbs_certificate.to_der().map_err(encoding("certificate"))?;
    verify(&tbs_certificate.subject_public_key_info, &tbs, signature)?;
    Ok(Certificate {
        tbs_certificate,
        signature_algorithm: ecdsa_with_sha256(),
        signature: BitString::from_bytes(signature).map_err(encoding("certificate"))?,
    })
}

/// Reads one or more PEM certificates (the signer's first, then its issuers), ignoring text
/// between blocks (such as openssl's `subject=` lines). Fails, never panics, on text with no
/// certificate, a damaged block, or a block of another kind (a private key does not belong in
/// a chain file).
pub fn parse_chain_pem(pem: &str) -> Result<Vec<Certificate>, ReceiptCertificateError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = pem;
    // split_once, not indexing: no slicing inside a multi-byte character, whatever the text.
    while let Some((_, block)) = rest.split_once(BEGIN) {
        let (label, body) = block
            .split_once(DASHES)
            .ok_or(ReceiptCertificateError::MalformedPem)?;
        if label != "CERTIFICATE" {
            return Err(ReceiptCertificateError::UnexpectedPemBlock);
        }
        let (body, after) = body
            .split_once(END)
            .ok_or(ReceiptCertificateError::MalformedPem)?;
        // Our own base64 reading tolerates CRLF and any line length, which strict RFC 7468
        // parsers refuse but CAs' downloads use.
        let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(|_| ReceiptCertificateError::MalformedPem)?;
        certs.push(Certificate::from_der(&der).map_err(decoding("certificate"))?);
        rest = after;
    }
    if certs.is_empty() {
        return Err(ReceiptCertificateError::NoCertificate);
    }
    Ok(certs)
}

/// Whether `cert` is for the public key KMS reports (a DER SubjectPublicKeyInfo): the same
/// P-256 point (whatever its SEC1 form), or, for other keys, the same SubjectPublicKeyInfo.
pub fn public_key_matches(cert: &Certificate, public_key_der: &[u8]) -> bool {
    let Ok(theirs) = SubjectPublicKeyInfoOwned::from_der(public_key_der) else {
        return false;
    };
    let ours = &cert.tbs_certificate.subject_public_key_info;
    match (p256_key(ours), p256_key(&theirs)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => *ours == theirs,
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use der::Tagged;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;

    /// The fixed test key (never a real one): what the KMS key is in tests.
    pub(crate) const TEST_KEY: [u8; 32] = [0x17; 32];

    pub(crate) fn signing_key() -> SigningKey {
        SigningKey::from_bytes(&TEST_KEY.into()).unwrap()
    }

    /// What KMS `Sign` (RAW, ECDSA_SHA_256) returns: SHA-256 then ECDSA, DER-encoded.
    pub(crate) fn sign(message: &[u8]) -> Vec<u8> {
        let signature: Signature = signing_key().sign(message);
        signature.to_der().as_bytes().to_vec()
    }

    /// What KMS `GetPublicKey` returns: a DER SubjectPublicKeyInfo.
    pub(crate) fn public_key_der() -> Vec<u8> {
        let point = signing_key().verifying_key().to_encoded_point(false);
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: rfc5912::ID_EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&rfc5912::SECP_256_R_1).unwrap()),
            },
            subject_public_key: BitString::from_bytes(point.as_bytes()).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    pub(crate) fn subject() -> Name {
        office_subject("Urząd Miasta Krakowa", "PL").unwrap()
    }

    /// A self-signed certificate for the test key, valid 2025 to 2035.
    pub(crate) fn self_signed() -> Certificate {
        let tbs = self_signed_info(
            &subject(),
            &public_key_der(),
            &[0x01, 0x02, 0x03],
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600),
            SystemTime::UNIX_EPOCH + Duration::from_secs(2_051_222_400),
        )
        .unwrap();
        certificate(&tbs, &sign(&tbs)).unwrap()
    }

    fn name_values(name: &Name) -> Vec<(const_oid::ObjectIdentifier, der::Tag, String)> {
        name.0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .map(|atv| {
                (
                    atv.oid,
                    atv.value.tag(),
                    String::from_utf8(atv.value.value().to_vec()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn subject_keeps_polish_letters() {
        let name = office_subject("Urząd Miasta Łodzi", "PL").unwrap();
        let back = Name::from_der(&name.to_der().unwrap()).unwrap();
        assert_eq!(back, name);
        assert_eq!(
            name_values(&back),
            vec![
                (
                    rfc4519::COUNTRY_NAME,
                    der::Tag::PrintableString,
                    "PL".into()
                ),
                (
                    rfc4519::ORGANIZATION_NAME,
                    der::Tag::Utf8String,
                    "Urząd Miasta Łodzi".into()
                ),
                (
                    rfc4519::COMMON_NAME,
                    der::Tag::Utf8String,
                    "Urząd Miasta Łodzi – potwierdzenia wpływu".into()
                ),
            ]
        );
    }

    #[test]
    fn subject_refuses_bad_input() {
        assert!(matches!(
            office_subject("  ", "PL"),
            Err(ReceiptCertificateError::EmptyOfficeName)
        ));
        assert!(matches!(
            office_subject("Urząd", "pl"),
            Err(ReceiptCertificateError::InvalidCountry)
        ));
        assert!(matches!(
            office_subject("Urząd", "POL"),
            Err(ReceiptCertificateError::InvalidCountry)
        ));
        // 41 characters plus the suffix's 23 is the most a common name may have.
        assert!(office_subject(&"ą".repeat(41), "PL").is_ok());
        assert!(matches!(
            office_subject(&"ą".repeat(42), "PL"),
            Err(ReceiptCertificateError::OfficeNameTooLong { max: 41 })
        ));
    }

    #[test]
    fn csr_verifies_and_round_trips() {
        let info = request_info(&subject(), &public_key_der()).unwrap();
        let pem = certification_request(&info, &sign(&info)).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));

        let der = pem_body(&pem);
        let req = CertReq::from_der(&der).unwrap();
        assert_eq!(req.algorithm.oid, rfc5912::ECDSA_WITH_SHA_256);
        assert_eq!(req.info.subject, subject());
        assert!(
            name_values(&req.info.subject)
                .iter()
                .any(|(_, _, v)| v == "Urząd Miasta Krakowa – potwierdzenia wpływu")
        );
        let key = p256_key(&req.info.public_key).unwrap();
        let sig = Signature::from_der(req.signature.raw_bytes()).unwrap();
        key.verify(&req.info.to_der().unwrap(), &sig).unwrap();
    }

    fn pem_body(pem: &str) -> Vec<u8> {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    #[test]
    fn csr_refuses_bad_signatures_and_keys() {
        let info = request_info(&subject(), &public_key_der()).unwrap();
        assert!(matches!(
            certification_request(&info, b"garbage"),
            Err(ReceiptCertificateError::MalformedSignature)
        ));
        assert!(matches!(
            certification_request(&info, &sign(b"other")),
            Err(ReceiptCertificateError::SignatureMismatch)
        ));
        assert!(matches!(
            request_info(&subject(), b"not a key"),
            Err(ReceiptCertificateError::Decoding { .. })
        ));
    }

    #[test]
    fn self_signed_certificate_verifies_under_its_own_key() {
        let cert = self_signed();
        let tbs = &cert.tbs_certificate;
        assert_eq!(tbs.version, Version::V3);
        assert_eq!(tbs.issuer, tbs.subject);
        let key = p256_key(&tbs.subject_public_key_info).unwrap();
        let sig = Signature::from_der(cert.signature.raw_bytes()).unwrap();
        key.verify(&tbs.to_der().unwrap(), &sig).unwrap();

        let (critical, bc) = tbs.get::<BasicConstraints>().unwrap().unwrap();
        assert!(critical && !bc.ca);
        let (critical, ku) = tbs.get::<KeyUsage>().unwrap().unwrap();
        assert!(critical);
        assert!(ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());
        let (_, ski) = tbs.get::<SubjectKeyIdentifier>().unwrap().unwrap();
        assert_eq!(ski.0.as_bytes().len(), 20);
        // 2035 is still UTCTime.
        assert!(matches!(tbs.validity.not_after, Time::UtcTime(_)));

        assert!(public_key_matches(&cert, &public_key_der()));
        let other = SigningKey::from_bytes(&[0x18; 32].into()).unwrap();
        let other_point = other.verifying_key().to_encoded_point(true);
        let mut other_der = SubjectPublicKeyInfoOwned::from_der(&public_key_der()).unwrap();
        other_der.subject_public_key = BitString::from_bytes(other_point.as_bytes()).unwrap();
        assert!(!public_key_matches(&cert, &other_der.to_der().unwrap()));
        assert!(!public_key_matches(&cert, b"junk"));
        // The same key in compressed form still matches.
        let compressed = signing_key().verifying_key().to_encoded_point(true);
        let mut same = SubjectPublicKeyInfoOwned::from_der(&public_key_der()).unwrap();
        same.subject_public_key = BitString::from_bytes(compressed.as_bytes()).unwrap();
        assert!(public_key_matches(&cert, &same.to_der().unwrap()));
    }

    #[test]
    fn self_signed_refuses_bad_input() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let build = |serial: &[u8], from, to| {
            self_signed_info(&subject(), &public_key_der(), serial, at(from), at(to))
        };
        assert!(matches!(
            build(&[0, 0], 1, 2),
            Err(ReceiptCertificateError::InvalidSerial)
        ));
        assert!(matches!(
            build(&[], 1, 2),
            Err(ReceiptCertificateError::InvalidSerial)
        ));
        assert!(matches!(
            build(&[0x7f; 21], 1, 2),
            Err(ReceiptCertificateError::InvalidSerial)
        ));
        assert!(build(&[0xff; 19], 1, 2).is_ok());
        assert!(matches!(
            build(&[1], 5, 5),
            Err(ReceiptCertificateError::InvalidValidity)
        ));
        // After 2049: GeneralizedTime.
        let tbs = build(&[1], 1, 2_600_000_000).unwrap();
        let tbs = TbsCertificate::from_der(&tbs).unwrap();
        assert!(matches!(tbs.validity.not_after, Time::GeneralTime(_)));
        let tbs = tbs.to_der().unwrap();
        assert!(matches!(
            certificate(&tbs, &sign(b"other")),
            Err(ReceiptCertificateError::SignatureMismatch)
        ));
        assert!(matches!(
            certificate(b"junk", &sign(b"junk")),
            Err(ReceiptCertificateError::Decoding { .. })
        ));
    }

    #[test]
    fn chain_pem_reads_certificates_in_order() {
        let cert = self_signed();
        let pem = cert.to_pem(LineEnding::LF).unwrap();
        let second = {
            let tbs = self_signed_info(
                &office_subject("Urząd Gminy Żółkiewka", "PL").unwrap(),
                &public_key_der(),
                &[9],
                SystemTime::UNIX_EPOCH + Duration::from_secs(1),
                SystemTime::UNIX_EPOCH + Duration::from_secs(2),
            )
            .unwrap();
            certificate(&tbs, &sign(&tbs)).unwrap()
        };
        // openssl-style text between blocks, CRLF, and 76-column lines.
        let second_pem = second.to_pem(LineEnding::CRLF).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(second.to_der().unwrap());
        let wide: Vec<String> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let wide = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            wide.join("\n")
        );
        let text = format!("subject=CN = x\n{pem}issuer=CN = y\r\n{second_pem}{wide}");
        let chain = parse_chain_pem(&text).unwrap();
        assert_eq!(chain, vec![cert, second.clone(), second]);
    }

    #[test]
    fn chain_pem_refuses_garbage_without_panicking() {
        let cert_pem = self_signed().to_pem(LineEnding::LF).unwrap();
        let cut = &cert_pem[..cert_pem.len() / 2];
        for text in [
            "",
            "\n",
            "garbage",
            "-----BEGIN ",
            "-----BEGIN CERTIFICATE",
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----ą-----END CERTIFICATE-----",
            cut,
        ] {
            assert!(parse_chain_pem(text).is_err(), "{text:?}");
        }
        // Every prefix of a good file: an error or the certificate, never a panic.
        for end in 0..=cert_pem.len() {
            if let Some(prefix) = cert_pem.get(..end) {
                let _ = parse_chain_pem(prefix);
            }
        }
        assert_eq!(
            parse_chain_pem("garbage").unwrap_err().to_string(),
            "no certificate found in the PEM text"
        );
    }
}
