//! The receipt's signature as a CMS SignedData (RFC 5652), for a PDF signature dictionary with
//! `/SubFilter /ETSI.CAdES.detached`: PAdES baseline B-B, and B-T when a signature timestamp
//! (RFC 3161) is added.
//!
//! The private key lives in AWS KMS (ECC_NIST_P256, `ECDSA_SHA_256`, `MessageType=RAW`), so
//! signing is split in synchronous halves around the asynchronous KMS call:
//!
//! 1. [`signed_attributes`] builds what is signed; [`SignedAttributes::to_der`] is the message
//!    handed to KMS (KMS hashes it with SHA-256).
//! 2. [`signed_data`] assembles the detached CMS from the attributes, the DER signature KMS
//!    returned and the certificate chain.
//! 3. Optionally, for B-T: [`timestamp_request`] is POSTed to a TSA (content type
//!    `application/timestamp-query`), [`timestamp_token`] checks the answer, and the token goes
//!    into [`signed_data`] as the unsigned attribute id-aa-signatureTimeStampToken.

use crate::engine::signature::cms::{MessageImprint, TstInfo};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{BitString, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A); not in const-oid's database.
/// (`new_unwrap` runs at compile time: a bad literal fails the build, never a run.)
const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ct-TSTInfo (RFC 3161 §2.4.2), the eContentType of a timestamp token.
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Why a receipt signature could not be built or a timestamp was not accepted.
///
/// The messages are ours, for a person; the `der` error underneath (when there is one) is kept
/// as the source, for logs.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptCmsError {
    /// The signing certificate does not carry an ECDSA P-256 public key.
    #[error("the signing certificate's key is not an ECDSA P-256 key")]
    UnsupportedSignerKey,
    /// The signature is not a DER ECDSA-Sig-Value for P-256.
    #[error("the signature is not a DER-encoded ECDSA P-256 signature")]
    MalformedSignature,
    /// The signature is well formed but does not verify under the signing certificate's key
    /// (the KMS key and the certificate do not belong together, or the wrong bytes were signed).
    #[error("the signature does not verify under the signing certificate's key")]
    SignatureMismatch,
    /// The timestamp token is not a CMS SignedData over a TSTInfo.
    #[error("the timestamp token is not a signed RFC 3161 timestamp")]
    MalformedTimestampToken,
    /// The TSA answered with a status other than granted (0) or granted with mods (1).
    #[error("the timestamp authority refused the request (status {status})")]
    TimestampRefused {
        /// The PKIStatus the TSA returned.
        status: u32,
        /// The TSA's own status text, for logs only.
        text: Option<String>,
    },
    /// The TSA granted the request but sent no token.
    #[error("the timestamp authority sent no timestamp token")]
    TimestampMissing,
    /// The token timestamps something else than this signature (or with another hash).
    #[error("the timestamp token is for another signature")]
    TimestampImprintMismatch,
    /// The token's nonce is not the request's: a replayed or crossed answer.
    #[error("the timestamp token answers another request (nonce differs)")]
    TimestampNonceMismatch,
    /// A structure could not be DER-encoded.
    #[error("could not encode the {what}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error, for logs.
        #[source]
        source: der::Error,
    },
    /// Bytes from outside (a certificate, a TSA's answer) could not be decoded.
    #[error("could not read the {what}")]
    Decoding {
        /// What was being read.
        what: &'static str,
        /// The decoder's error, for logs.
        #[source]
        source: der::Error,
    },
}

fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> ReceiptCmsError {
    move |source| ReceiptCmsError::Encoding { what, source }
}

fn decoding(what: &'static str) -> impl FnOnce(der::Error) -> ReceiptCmsError {
    move |source| ReceiptCmsError::Decoding { what, source }
}

/// The signed attributes of the receipt's SignerInfo: content-type (id-data), message-digest
/// and signing-certificate-v2, and no signing-time (PAdES keeps the time in the PDF's `/M`).
#[derive(Debug, Clone)]
pub struct SignedAttributes {
    attrs: SetOfVec<Attribute>,
    /// The DER of `attrs` with the SET OF tag, computed once: it is what KMS signs, and
    /// [`SignedAttributes::to_der`] must not fail after the signature exists.
    der: Vec<u8>,
    content_digest: [u8; 32],
    signer: Certificate,
}

impl SignedAttributes {
    /// The DER to sign (RFC 5652 §5.4): the attributes as a `SET OF` (tag 0x31), not with the
    /// `[0] IMPLICIT` tag they carry inside the SignerInfo.
    pub fn to_der(&self) -> Vec<u8> {
        self.der.clone()
    }

    /// The SHA-256 digest of the signed content, as carried in the message-digest attribute.
    pub fn content_digest(&self) -> &[u8; 32] {
        &self.content_digest
    }

    /// The signer's certificate the attributes commit to (signing-certificate-v2).
    pub fn signer(&self) -> &Certificate {
        &self.signer
    }
}

/// ESS SigningCertificateV2 (RFC 5035 §3), without policies.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// ESSCertIDv2 with the default hash algorithm (SHA-256), which DER leaves out.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// IssuerSerial (RFC 5035): the issuer as GeneralNames and the serial number.
#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

fn attribute(
    oid: ObjectIdentifier,
    value: &(impl der::EncodeValue + der::Tagged),
    what: &'static str,
) -> Result<Attribute, ReceiptCmsError> {
    let value = Any::encode_from(value).map_err(encoding(what))?;
    let values = SetOfVec::try_from(vec![value]).map_err(encoding(what))?;
    Ok(Attribute { oid, values })
}

/// The signer's public key, when it is the P-256 key KMS signs with.
fn p256_key(cert: &Certificate) -> Result<VerifyingKey, ReceiptCmsError> {
    crate::receipt::certificate::p256_key(&cert.tbs_certificate.subject_public_key_info)
        .ok_or(ReceiptCmsError::UnsupportedSignerKey)
}

/// Builds the signed attributes for content whose SHA-256 digest is `content_digest` (for a
/// PDF: the digest of the signature's byte ranges), signed by the holder of `signer`.
///
/// Fails when `signer` does not carry a P-256 key (the only kind the office's KMS key is).
pub fn signed_attributes(
    content_digest: &[u8; 32],
    signer: &Certificate,
) -> Result<SignedAttributes, ReceiptCmsError> {
    p256_key(signer)?;
    let cert_der = signer.to_der().map_err(encoding("signing certificate"))?;
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(&cert_der).to_vec())
                .map_err(encoding("signing-certificate attribute"))?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    let digest =
        OctetString::new(content_digest.to_vec()).map_err(encoding("message-digest attribute"))?;
    let attrs = SetOfVec::try_from(vec![
        attribute(
            rfc5911::ID_CONTENT_TYPE,
            &rfc5911::ID_DATA,
            "content-type attribute",
        )?,
        attribute(
            rfc5911::ID_MESSAGE_DIGEST,
            &digest,
            "message-digest attribute",
        )?,
        attribute(
            rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
            &signing_certificate,
            "signing-certificate attribute",
        )?,
    ])
    .map_err(encoding("signed attributes"))?;
    let der = attrs.to_der().map_err(encoding("signed attributes"))?;
    Ok(SignedAttributes {
        attrs,
        der,
        content_digest: *content_digest,
        signer: signer.clone(),
    })
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    // SHA-2 and ecdsa-with-SHA256 identifiers carry no parameters (RFC 5754 §2, §3.3).
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// Assembles the detached CMS ContentInfo (id-signedData) for `/ETSI.CAdES.detached`.
///
/// - `attrs`: from [`signed_attributes`].
/// - `signature`: the DER ECDSA-Sig-Value KMS returned for `attrs.to_der()`. It must parse and
///   verify under the signer certificate's key, so a receipt never carries a broken signature.
/// - `chain`: the issuing certificates; the signer's own certificate, if repeated here, is
///   carried once. All go in `certificates`, which DER sorts as a SET OF (verifiers find the
///   signer by issuer and serial number, not by position).
/// - `timestamp_token`: for PAdES B-T, a token from [`timestamp_token`] over this `signature`,
///   carried as the unsigned attribute id-aa-signatureTimeStampToken.
pub fn signed_data(
    attrs: &SignedAttributes,
    signature: &[u8],
    chain: &[Certificate],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, ReceiptCmsError> {
    let parsed = Signature::from_der(signature).map_err(|_| ReceiptCmsError::MalformedSignature)?;
    p256_key(&attrs.signer)?
        .verify(&attrs.der, &parsed)
        .map_err(|_| ReceiptCmsError::SignatureMismatch)?;

    let mut certificates = vec![CertificateChoices::Certificate(attrs.signer.clone())];
    for cert in chain {
        let choice = CertificateChoices::Certificate(cert.clone());
        // A SET OF refuses duplicates; a chain file that starts with the signer is common.
        if !certificates.contains(&choice) {
            certificates.push(choice);
        }
    }
    let certificates = SetOfVec::try_from(certificates).map_err(encoding("certificate set"))?;

    let unsigned_attrs = match timestamp_token {
        None => None,
        Some(token) => {
            check_token_shape(token)?;
            let token = Any::from_der(token).map_err(decoding("timestamp token"))?;
            let attr = attribute(
                ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                &token,
                "timestamp attribute",
            )?;
            Some(SetOfVec::try_from(vec![attr]).map_err(encoding("timestamp attribute"))?)
        }
    };

    let signer_info = SignerInfo {
        // Version 1 goes with an issuerAndSerialNumber sid (RFC 5652 §5.3).
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: attrs.signer.tbs_certificate.issuer.clone(),
            serial_number: attrs.signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: algorithm(rfc5912::ID_SHA_256),
        signed_attrs: Some(attrs.attrs.clone()),
        signature_algorithm: algorithm(rfc5912::ECDSA_WITH_SHA_256),
        signature: OctetString::new(signature).map_err(encoding("signature value"))?,
        unsigned_attrs,
    };
    let signed = SignedData {
        // Version 1: id-data content, only X.509 certificates, v1 SignerInfos (RFC 5652 §5.1).
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(rfc5912::ID_SHA_256)])
            .map_err(encoding("digest algorithms"))?,
        // Detached: the PDF's byte ranges are the content, so no eContent.
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(
            SetOfVec::try_from(vec![signer_info]).map_err(encoding("signer info"))?,
        ),
    };
    let content_info = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(encoding("signed data"))?,
    };
    content_info.to_der().map_err(encoding("signed data"))
}

/// RFC 3161 TimeStampReq, without a policy or extensions.
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    nonce: u64,
    /// True: the TSA puts its certificate in the token, so the PDF carries what a verifier
    /// needs to check the timestamp.
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

/// RFC 3161 TimeStampResp.
#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// RFC 3161 (RFC 4210) PKIStatusInfo.
#[derive(Sequence)]
struct PkiStatusInfo {
    status: u32,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

fn imprint_of(signature: &[u8]) -> Vec<u8> {
    Sha256::digest(signature).to_vec()
}

/// The RFC 3161 TimeStampReq (DER) for a signature timestamp over `signature` (the DER ECDSA
/// signature value, as in the SignerInfo): version 1, SHA-256 message imprint, `nonce`, and
/// certReq true. The caller POSTs it with content type `application/timestamp-query` and
/// keeps `nonce` for [`timestamp_token`].
pub fn timestamp_request(signature: &[u8], nonce: u64) -> Vec<u8> {
    let request = OctetString::new(imprint_of(signature)).map(|hashed_message| TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: algorithm(rfc5912::ID_SHA_256),
            hashed_message,
        },
        nonce,
        cert_req: true,
    });
    // Every field has a fixed, small size, so encoding cannot fail; were it ever to, the empty
    // body is refused by the TSA and the caller gets an error from `timestamp_token`.
    request.and_then(|r| r.to_der()).unwrap_or_default()
}

/// Checks a TSA's TimeStampResp (DER) to the request made by [`timestamp_request`] for the
/// same `signature` and `nonce`, and returns the timestamp token (a ContentInfo, DER) to pass
/// to [`signed_data`].
///
/// Requires status granted (0) or granted with modifications (1), a token whose TSTInfo has a
/// SHA-256 message imprint of `signature`, and `nonce`. The TSA's own signature on the token is
/// not checked here (the PDF's verifiers check it against their trust lists).
pub fn timestamp_token(
    response: &[u8],
    signature: &[u8],
    nonce: u64,
) -> Result<Vec<u8>, ReceiptCmsError> {
    let response = TimeStampResp::from_der(response).map_err(decoding("timestamp response"))?;
    let status = response.status.status;
    if status > 1 {
        return Err(ReceiptCmsError::TimestampRefused {
            status,
            text: response.status.status_string.map(|s| s.join("; ")),
        });
    }
    let token = response
        .time_stamp_token
        .ok_or(ReceiptCmsError::TimestampMissing)?
        .to_der()
        .map_err(encoding("timestamp token"))?;
    let info = check_token_shape(&token)?;
    if info.message_imprint.hash_algorithm.oid != rfc5912::ID_SHA_256
        || info.message_imprint.hashed_message.as_bytes() != imprint_of(signature).as_slice()
    {
        return Err(ReceiptCmsError::TimestampImprintMismatch);
    }
    let expected = nonce.to_der().map_err(encoding("nonce"))?;
    let got = info
        .nonce
        .map(|n| n.to_der())
        .transpose()
        .map_err(encoding("nonce"))?;
    if got.as_deref() != Some(expected.as_slice()) {
        return Err(ReceiptCmsError::TimestampNonceMismatch);
    }
    Ok(token)
}

/// Reads a timestamp token down to its TSTInfo: a ContentInfo with a SignedData whose
/// eContent is an id-ct-TSTInfo.
fn check_token_shape(token: &[u8]) -> Result<TstInfo, ReceiptCmsError> {
    let content_info =
        ContentInfo::from_der(token).map_err(|_| ReceiptCmsError::MalformedTimestampToken)?;
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(ReceiptCmsError::MalformedTimestampToken);
    }
    let signed: SignedData = content_info
        .content
        .decode_as()
        .map_err(|_| ReceiptCmsError::MalformedTimestampToken)?;
    let encap = signed.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(ReceiptCmsError::MalformedTimestampToken);
    }
    let econtent = encap
        .econtent
        .ok_or(ReceiptCmsError::MalformedTimestampToken)?;
    let octets: OctetString = econtent
        .decode_as()
        .map_err(|_| ReceiptCmsError::MalformedTimestampToken)?;
    TstInfo::from_der(octets.as_bytes()).map_err(|_| ReceiptCmsError::MalformedTimestampToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::certificate::tests::{self_signed, sign};
    use der::asn1::Int;

    fn digest_of(content: &[u8]) -> [u8; 32] {
        Sha256::digest(content).into()
    }

    fn decode_cms(der: &[u8]) -> SignedData {
        let ci = ContentInfo::from_der(der).expect("content info");
        assert_eq!(ci.content_type, rfc5911::ID_SIGNED_DATA);
        ci.content.decode_as().expect("signed data")
    }

    #[test]
    fn signed_attributes_round_trip() {
        let cert = self_signed();
        let attrs = signed_attributes(&digest_of(b"receipt"), &cert).unwrap();
        let der = attrs.to_der();
        assert_eq!(der[0], 0x31, "signed as a SET OF");
        let back = SetOfVec::<Attribute>::from_der(&der).unwrap();
        assert_eq!(back.to_der().unwrap(), der);
        let oids: Vec<_> = back.iter().map(|a| a.oid).collect();
        assert!(oids.contains(&rfc5911::ID_CONTENT_TYPE));
        assert!(oids.contains(&rfc5911::ID_MESSAGE_DIGEST));
        assert!(oids.contains(&rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2));
        assert_eq!(oids.len(), 3, "no signing-time in PAdES");

        let signing_cert = back
            .iter()
            .find(|a| a.oid == rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2)
            .unwrap();
        let v2: SigningCertificateV2 = signing_cert.values.get(0).unwrap().decode_as().unwrap();
        let cert_hash = Sha256::digest(cert.to_der().unwrap());
        assert_eq!(v2.certs[0].cert_hash.as_bytes(), cert_hash.as_slice());
        assert_eq!(
            v2.certs[0].issuer_serial.serial_number,
            cert.tbs_certificate.serial_number
        );
    }

    #[test]
    fn cms_verifies_with_the_test_key_and_carries_the_digest() {
        let cert = self_signed();
        let digest = digest_of(b"%PDF-1.7 receipt byte ranges");
        let attrs = signed_attributes(&digest, &cert).unwrap();
        let signature = sign(&attrs.to_der());
        let der = signed_data(&attrs, &signature, &[], None).unwrap();

        let sd = decode_cms(&der);
        assert_eq!(sd.version, CmsVersion::V1);
        assert!(sd.encap_content_info.econtent.is_none(), "detached");
        let si = sd.signer_infos.0.get(0).unwrap();
        assert_eq!(si.version, CmsVersion::V1);
        assert_eq!(si.digest_alg.oid, rfc5912::ID_SHA_256);
        assert_eq!(si.signature_algorithm.oid, rfc5912::ECDSA_WITH_SHA_256);
        assert!(si.unsigned_attrs.is_none());

        // What a verifier does: re-encode the signed attributes as a SET OF and verify.
        let signed_attrs = si.signed_attrs.as_ref().unwrap();
        let message = signed_attrs.to_der().unwrap();
        assert_eq!(message, attrs.to_der());
        let key = p256_key(&cert).unwrap();
        let sig = Signature::from_der(si.signature.as_bytes()).unwrap();
        key.verify(&message, &sig).unwrap();

        let md = signed_attrs
            .iter()
            .find(|a| a.oid == rfc5911::ID_MESSAGE_DIGEST)
            .unwrap();
        let md: OctetString = md.values.get(0).unwrap().decode_as().unwrap();
        assert_eq!(md.as_bytes(), digest.as_slice());
        assert_eq!(attrs.content_digest(), &digest);
        assert_eq!(sd.certificates.unwrap().0.len(), 1);
    }

    #[test]
    fn repeated_signer_in_chain_is_carried_once() {
        let cert = self_signed();
        let attrs = signed_attributes(&[7; 32], &cert).unwrap();
        let signature = sign(&attrs.to_der());
        let der = signed_data(&attrs, &signature, std::slice::from_ref(&cert), None).unwrap();
        assert_eq!(decode_cms(&der).certificates.unwrap().0.len(), 1);
    }

    #[test]
    fn wrong_or_garbage_signatures_are_refused() {
        let cert = self_signed();
        let attrs = signed_attributes(&[1; 32], &cert).unwrap();
        let good = sign(&attrs.to_der());
        for bad in [
            Vec::new(),
            vec![0x30, 0x00],
            b"not a signature".to_vec(),
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), &[0]].concat(),
            vec![0u8; 64], // raw r||s, not DER
        ] {
            assert!(
                matches!(
                    signed_data(&attrs, &bad, &[], None),
                    Err(ReceiptCmsError::MalformedSignature)
                ),
                "{bad:02x?}"
            );
        }
        // Well formed, but over other bytes.
        let other = sign(b"something else");
        assert!(matches!(
            signed_data(&attrs, &other, &[], None),
            Err(ReceiptCmsError::SignatureMismatch)
        ));
    }

    /// A minimal timestamp token: a SignedData over a TSTInfo (unsigned: only its shape is
    /// checked here; the lab checks a real TSA's answer with openssl).
    fn token(imprint: &[u8], nonce: Option<u64>) -> Vec<u8> {
        let info = TstInfo {
            version: 1,
            policy: ObjectIdentifier::new_unwrap("1.2.3.4.1"),
            message_imprint: MessageImprint {
                hash_algorithm: algorithm(rfc5912::ID_SHA_256),
                hashed_message: OctetString::new(imprint).unwrap(),
            },
            serial_number: Int::new(&[5]).unwrap(),
            gen_time: Any::encode_from(
                &der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                    1_750_000_000,
                ))
                .unwrap(),
            )
            .unwrap(),
            accuracy: None,
            ordering: false,
            nonce: nonce.map(|n| Int::from_der(&n.to_der().unwrap()).unwrap()),
            tsa: None,
            extensions: None,
        };
        let econtent = OctetString::new(info.to_der().unwrap()).unwrap();
        let sd = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                econtent: Some(Any::encode_from(&econtent).unwrap()),
            },
            certificates: None,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::new()),
        };
        ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn response(status: u32, token: Option<&[u8]>) -> Vec<u8> {
        TimeStampResp {
            status: PkiStatusInfo {
                status,
                status_string: (status > 1).then(|| vec!["bad request".to_string()]),
                fail_info: None,
            },
            time_stamp_token: token.map(|t| Any::from_der(t).unwrap()),
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn timestamp_request_is_rfc3161() {
        let req = timestamp_request(b"sig", 0x8000_0000_0000_0001);
        let back = TimeStampReq::from_der(&req).unwrap();
        assert_eq!(back.version, 1);
        assert!(back.cert_req);
        assert_eq!(back.nonce, 0x8000_0000_0000_0001);
        assert_eq!(
            back.message_imprint.hashed_message.as_bytes(),
            Sha256::digest(b"sig").as_slice()
        );
    }

    #[test]
    fn timestamp_token_accepts_a_matching_answer() {
        let tok = token(&imprint_of(b"sig"), Some(42));
        let got = timestamp_token(&response(0, Some(&tok)), b"sig", 42).unwrap();
        assert_eq!(got, tok);
        let got = timestamp_token(&response(1, Some(&tok)), b"sig", 42).unwrap();
        assert_eq!(got, tok);
    }

    #[test]
    fn timestamp_token_refuses_mismatches_and_rejections() {
        let tok = token(&imprint_of(b"sig"), Some(42));
        assert!(matches!(
            timestamp_token(&response(0, Some(&tok)), b"sig", 43),
            Err(ReceiptCmsError::TimestampNonceMismatch)
        ));
        let no_nonce = token(&imprint_of(b"sig"), None);
        assert!(matches!(
            timestamp_token(&response(0, Some(&no_nonce)), b"sig", 42),
            Err(ReceiptCmsError::TimestampNonceMismatch)
        ));
        assert!(matches!(
            timestamp_token(&response(0, Some(&tok)), b"other sig", 42),
            Err(ReceiptCmsError::TimestampImprintMismatch)
        ));
        match timestamp_token(&response(2, None), b"sig", 42) {
            Err(ReceiptCmsError::TimestampRefused { status: 2, text }) => {
                assert_eq!(text.as_deref(), Some("bad request"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            timestamp_token(&response(0, None), b"sig", 42),
            Err(ReceiptCmsError::TimestampMissing)
        ));
        assert!(matches!(
            timestamp_token(b"garbage", b"sig", 42),
            Err(ReceiptCmsError::Decoding { .. })
        ));
        // Our messages, not the decoder's.
        let err = timestamp_token(b"garbage", b"sig", 42).unwrap_err();
        assert_eq!(err.to_string(), "could not read the timestamp response");
    }

    #[test]
    fn cms_with_timestamp_carries_the_token() {
        let cert = self_signed();
        let attrs = signed_attributes(&[3; 32], &cert).unwrap();
        let signature = sign(&attrs.to_der());
        let tok = token(&imprint_of(&signature), Some(9));
        let tok = timestamp_token(&response(0, Some(&tok)), &signature, 9).unwrap();
        let der = signed_data(&attrs, &signature, &[], Some(&tok)).unwrap();
        let sd = decode_cms(&der);
        let si = sd.signer_infos.0.get(0).unwrap();
        let unsigned = si.unsigned_attrs.as_ref().unwrap();
        let attr = unsigned.get(0).unwrap();
        assert_eq!(attr.oid, ID_AA_SIGNATURE_TIME_STAMP_TOKEN);
        assert_eq!(attr.values.get(0).unwrap().to_der().unwrap(), tok);

        assert!(matches!(
            signed_data(&attrs, &signature, &[], Some(b"junk")),
            Err(ReceiptCmsError::MalformedTimestampToken)
        ));
    }
}
