//! CMS SignedData (RFC 5652) as PAdES and CAdES use it: the digest of the signed content, the
//! signature over the signed attributes, the signing-certificate binding (ESS), and the
//! signature timestamp token (RFC 3161). Parsing is RustCrypto's (`cms`, `x509-cert`, `der`);
//! this module only decides.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString, UtcTime};
use der::{Decode, Encode, Sequence};
use jiff::Timestamp;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pss::Pss;
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

use super::{IssueCode, SignatureIssue};

pub(crate) mod oid {
    use const_oid::ObjectIdentifier as Oid;
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    pub const SIGNATURE_TIMESTAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSA_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    pub const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const ECDSA_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
    pub const TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
    pub const CRL_REASON: Oid = Oid::new_unwrap("2.5.29.21");
}

/// A digest algorithm a signature may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// SHA-1: broken for collisions; reported as weak.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The digest an OID names. Signers often put the signature algorithm where the digest
    /// algorithm belongs (`sha256WithRSAEncryption` as a SignerInfo's digestAlgorithm); that
    /// names its digest as unambiguously, and other verifiers (poppler's NSS) accept it.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SHA1 | oid::RSA_SHA1 | oid::ECDSA_SHA1 => Some(Self::Sha1),
            oid::SHA256 | oid::RSA_SHA256 | oid::ECDSA_SHA256 => Some(Self::Sha256),
            oid::SHA384 | oid::RSA_SHA384 | oid::ECDSA_SHA384 => Some(Self::Sha384),
            oid::SHA512 | oid::RSA_SHA512 | oid::ECDSA_SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oid::SHA1,
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    /// The name reported in verdicts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// The digest of `parts` concatenated.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            hasher.finalize().to_vec()
        }
        match self {
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// How a signature value is to be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignatureScheme {
    RsaPkcs1(DigestAlgorithm),
    RsaPss {
        digest: DigestAlgorithm,
        salt: usize,
    },
    Ecdsa(DigestAlgorithm),
}

impl SignatureScheme {
    fn name(self) -> String {
        match self {
            Self::RsaPkcs1(d) => format!("RSA PKCS#1 v1.5 with {}", d.name()),
            Self::RsaPss { digest, .. } => format!("RSASSA-PSS with {}", digest.name()),
            Self::Ecdsa(d) => format!("ECDSA with {}", d.name()),
        }
    }
}

/// Why a signature value did not verify.
#[derive(Debug)]
pub(crate) enum VerifyError {
    /// The value does not match.
    Invalid,
    /// An algorithm, curve or key this verifier does not implement (never reported as invalid).
    Unsupported(String),
}

/// What a successful verification noticed.
#[derive(Debug, Default)]
pub(crate) struct Verified {
    /// The RSA DigestInfo leaves out the NULL parameters (Profil Zaufany's seal does).
    pub digest_info_without_null: bool,
}

fn scheme_for(
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<DigestAlgorithm>,
) -> Result<SignatureScheme, VerifyError> {
    let needs_digest =
        || digest.ok_or_else(|| VerifyError::Unsupported("an unknown digest algorithm".into()));
    match algorithm.oid {
        oid::RSA => Ok(SignatureScheme::RsaPkcs1(needs_digest()?)),
        oid::RSA_SHA1 => Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha1)),
        oid::RSA_SHA256 => Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha256)),
        oid::RSA_SHA384 => Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha384)),
        oid::RSA_SHA512 => Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha512)),
        oid::ECDSA_SHA1 => Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha1)),
        oid::ECDSA_SHA256 => Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha256)),
        oid::ECDSA_SHA384 => Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha384)),
        oid::ECDSA_SHA512 => Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha512)),
        oid::EC_PUBLIC_KEY => Ok(SignatureScheme::Ecdsa(needs_digest()?)),
        oid::RSA_PSS => {
            let params = algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.to_der().ok())
                .and_then(|der| {
                    rsa::pkcs1::RsaPssParams::from_der(&der)
                        .ok()
                        .map(|p| (p.hash.oid, p.salt_len))
                });
            // Absent parameters mean SHA-1 and a 20-byte salt (RFC 4055).
            let (hash, salt) = params.unwrap_or((oid::SHA1, 20));
            let digest = DigestAlgorithm::from_oid(&hash).ok_or_else(|| {
                VerifyError::Unsupported(format!("RSASSA-PSS with the digest {hash}"))
            })?;
            Ok(SignatureScheme::RsaPss {
                digest,
                salt: usize::from(salt),
            })
        }
        other => Err(VerifyError::Unsupported(format!(
            "the signature algorithm {other}"
        ))),
    }
}

/// The DER DigestInfo a PKCS#1 v1.5 signature wraps, here without the NULL parameters.
#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

/// Verifies `signature` over `message` with the key in `key` and the algorithm named by
/// `algorithm` (and `digest` where the algorithm does not name one).
pub(crate) fn verify_signature(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<(String, Verified), VerifyError> {
    let scheme = scheme_for(algorithm, digest)?;
    let verified = match scheme {
        SignatureScheme::RsaPkcs1(d) | SignatureScheme::RsaPss { digest: d, .. } => {
            if key.algorithm.oid != oid::RSA && key.algorithm.oid != oid::RSA_PSS {
                return Err(VerifyError::Invalid);
            }
            let public = rsa_key(key)?;
            let hashed = d.digest(&[message]);
            match scheme {
                SignatureScheme::RsaPss { salt, .. } => {
                    let pss = match d {
                        DigestAlgorithm::Sha1 => Pss::new_with_salt::<sha1::Sha1>(salt),
                        DigestAlgorithm::Sha256 => Pss::new_with_salt::<sha2::Sha256>(salt),
                        DigestAlgorithm::Sha384 => Pss::new_with_salt::<sha2::Sha384>(salt),
                        DigestAlgorithm::Sha512 => Pss::new_with_salt::<sha2::Sha512>(salt),
                    };
                    public
                        .verify(pss, &hashed, signature)
                        .map_err(|_| VerifyError::Invalid)?;
                    Verified::default()
                }
                _ => {
                    let padding = match d {
                        DigestAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                        DigestAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                        DigestAlgorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                        DigestAlgorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
                    };
                    if public.verify(padding, &hashed, signature).is_ok() {
                        Verified::default()
                    } else {
                        // The same digest in a DigestInfo without the NULL parameters: sound,
                        // and what the state's own signing service produces.
                        let info = DigestInfo {
                            algorithm: AlgorithmIdentifierOwned {
                                oid: d.oid(),
                                parameters: None,
                            },
                            digest: OctetString::new(hashed).map_err(|_| VerifyError::Invalid)?,
                        }
                        .to_der()
                        .map_err(|_| VerifyError::Invalid)?;
                        public
                            .verify(Pkcs1v15Sign::new_unprefixed(), &info, signature)
                            .map_err(|_| VerifyError::Invalid)?;
                        Verified {
                            digest_info_without_null: true,
                        }
                    }
                }
            }
        }
        SignatureScheme::Ecdsa(d) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            if key.algorithm.oid != oid::EC_PUBLIC_KEY {
                return Err(VerifyError::Invalid);
            }
            let curve = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let point = key.subject_public_key.raw_bytes();
            let prehash = d.digest(&[message]);
            match curve {
                Some(oid::P256) => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| VerifyError::Invalid)?;
                    let sig = p256::ecdsa::Signature::from_der(signature)
                        .map_err(|_| VerifyError::Invalid)?;
                    key.verify_prehash(&prehash, &sig)
                        .map_err(|_| VerifyError::Invalid)?;
                }
                Some(oid::P384) => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| VerifyError::Invalid)?;
                    let sig = p384::ecdsa::Signature::from_der(signature)
                        .map_err(|_| VerifyError::Invalid)?;
                    key.verify_prehash(&prehash, &sig)
                        .map_err(|_| VerifyError::Invalid)?;
                }
                Some(other) => {
                    return Err(VerifyError::Unsupported(format!(
                        "the elliptic curve {}",
                        curve_name(&other)
                    )));
                }
                None => {
                    return Err(VerifyError::Unsupported(
                        "an elliptic curve given by explicit parameters".into(),
                    ));
                }
            }
            Verified::default()
        }
    };
    Ok((scheme.name(), verified))
}

/// Largest RSA modulus accepted, in bits: qualified certificates use up to 8192 (the `rsa`
/// crate's own default stops at 4096); the bound keeps verification time bounded.
const MAX_RSA_BITS: usize = 16384;

/// The RSA public key of a SubjectPublicKeyInfo (PKCS#1 RSAPublicKey in its bit string).
fn rsa_key(key: &SubjectPublicKeyInfoOwned) -> Result<RsaPublicKey, VerifyError> {
    let unreadable = || VerifyError::Unsupported("the RSA key cannot be read".into());
    let bits = key.subject_public_key.as_bytes().ok_or_else(unreadable)?;
    let parsed = rsa::pkcs1::RsaPublicKey::from_der(bits).map_err(|_| unreadable())?;
    let n = rsa::BigUint::from_bytes_be(parsed.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(parsed.public_exponent.as_bytes());
    RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).map_err(|_| {
        VerifyError::Unsupported(format!(
            "an RSA key larger than {MAX_RSA_BITS} bits or with an unusable exponent"
        ))
    })
}

fn curve_name(oid: &ObjectIdentifier) -> String {
    // const-oid's database has no brainpool curves, which Polish e-ID cards use.
    match oid.to_string().as_str() {
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".into(),
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1".into(),
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1".into(),
        _ => const_oid::db::DB
            .by_oid(oid)
            .map_or_else(|| oid.to_string(), str::to_string),
    }
}

/// ESS signing-certificate-v2 (RFC 5035).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

#[derive(Sequence)]
struct EssCertIdV2 {
    /// Absent means SHA-256.
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<der::Any>,
}

/// ESS signing-certificate (RFC 2634), SHA-1 only.
#[derive(Sequence)]
struct SigningCertificateV1 {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<der::Any>,
}

/// RFC 3161 TSTInfo (the receipts' timestamps are read with it too).
#[derive(Sequence)]
pub(crate) struct TstInfo {
    pub(crate) version: u8,
    pub(crate) policy: ObjectIdentifier,
    pub(crate) message_imprint: MessageImprint,
    pub(crate) serial_number: Int,
    /// Read as any value: RFC 3161 allows fractional seconds, which `der`'s GeneralizedTime
    /// (DER's profile of X.680) refuses; see [`generalized_time`].
    pub(crate) gen_time: der::Any,
    #[asn1(optional = "true")]
    pub(crate) accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub(crate) ordering: bool,
    #[asn1(optional = "true")]
    pub(crate) nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) tsa: Option<der::Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<der::Any>,
}

#[derive(Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

#[derive(Sequence)]
pub(crate) struct Accuracy {
    #[asn1(optional = "true")]
    pub(crate) seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) micros: Option<Int>,
}

/// What a CMS SignedData says, checked against the content it signs.
#[derive(Debug, Default)]
pub(crate) struct CmsCheck {
    /// Certificates carried in the CMS (candidates for the chain).
    pub certificates: Vec<Certificate>,
    /// The signer's certificate, when the CMS carries it.
    pub signer: Option<Certificate>,
    /// The digest algorithm of the signed content.
    pub digest: Option<DigestAlgorithm>,
    /// The signature scheme, once verified.
    pub scheme: Option<String>,
    /// The content's digest equals the signed messageDigest.
    pub intact: bool,
    /// The signature over the signed attributes verifies with the signer's key, and the
    /// signing-certificate attribute (when present) names that certificate. Independent of
    /// `intact`, as in the reference validators: a signature can be genuine over bytes that
    /// were changed since.
    pub valid: bool,
    /// The signed signing-time attribute.
    pub claimed_time: Option<Timestamp>,
    /// The signature timestamp token, checked.
    pub timestamp: Option<TimestampCheck>,
    /// For a timestamp token itself: the time it states.
    pub gen_time: Option<Timestamp>,
    /// What was found wrong or notable.
    pub issues: Vec<SignatureIssue>,
    /// The CRLs and OCSP responses the CMS carries.
    pub revocation: super::revocation::RevocationData,
}

/// A signature timestamp token (RFC 3161) over a signature value.
#[derive(Debug)]
pub(crate) struct TimestampCheck {
    /// The token's CMS, checked.
    pub cms: Box<CmsCheck>,
    /// The imprint equals the digest of the signature value.
    pub imprint_matches: bool,
}

/// What the signed content is, for the digest.
pub(crate) enum SignedContent<'a> {
    /// Byte ranges of one buffer (a PDF's ByteRange), with the buffer's SHA-256 checkpoints
    /// when its hash was computed already.
    Ranges(
        &'a [u8],
        &'a [(usize, usize)],
        Option<&'a crate::engine::hashing::HashCheckpoints>,
    ),
    /// One buffer whole.
    Bytes(&'a [u8]),
}

impl SignedContent<'_> {
    /// The signed bytes, in order (ranges outside the buffer are left out).
    fn parts(&self) -> Vec<&[u8]> {
        match self {
            SignedContent::Ranges(bytes, ranges, _) => ranges
                .iter()
                .filter_map(|&(start, len)| bytes.get(start..start.checked_add(len)?))
                .collect(),
            SignedContent::Bytes(bytes) => vec![bytes],
        }
    }

    /// The digest of the content with `algorithm`.
    pub(crate) fn digest(&self, algorithm: DigestAlgorithm) -> Vec<u8> {
        match self {
            SignedContent::Ranges(bytes, ranges, Some(checkpoints))
                if algorithm == DigestAlgorithm::Sha256
                    && ranges.first().is_some_and(|&(start, _)| start == 0) =>
            {
                // The first range runs from the start of the file: resume the document's own
                // hash where it ends instead of hashing it again.
                let mut state = checkpoints.state_at(bytes, ranges[0].1);
                for part in self.parts().into_iter().skip(1) {
                    state.update(part);
                }
                state.finalize().to_vec()
            }
            _ => algorithm.digest(&self.parts()),
        }
    }
}

fn issue(code: IssueCode, message: impl Into<String>) -> SignatureIssue {
    SignatureIssue {
        code,
        message: message.into(),
    }
}

/// A SignedData as decoded, with what decoding loses: the first signer's signed attributes
/// exactly as they were received.
pub(crate) struct Cms {
    /// The decoded SignedData.
    pub data: SignedData,
    /// The first signer's signed attributes, as the SET the signature covers: the bytes
    /// received (DER-normalised where the CMS was BER). `der` sorts a SET it decodes, so
    /// re-encoding would change attributes a signer sent in another order.
    signed_attrs: Option<Vec<u8>>,
}

/// Parses a CMS ContentInfo holding SignedData, DER or BER; whatever follows the first value
/// (the zero padding of a PDF's /Contents, or other bytes) is ignored. Duplicate set elements
/// and obsolete certificate choices, which a strict decoder refuses, are tolerated.
pub(crate) fn parse_signed_data(bytes: &[u8]) -> Result<Cms, SignatureIssue> {
    let end = super::ber::first_value_len(bytes).ok_or_else(|| {
        issue(
            IssueCode::CmsUnreadable,
            "the CMS is unreadable: it is not an ASN.1 value",
        )
    })?;
    let der_bytes = &bytes[..end];
    // `der` sorts every SET OF it reads by insertion, quadratic in its length: a blob with
    // huge sets is refused before it is decoded.
    if !super::ber::sets_within(der_bytes, super::ber::MAX_SET_ELEMENTS) {
        return Err(issue(
            IssueCode::CmsUnreadable,
            "the CMS is unreadable: a set in it has too many elements",
        ));
    }
    // As received; else as DER (real signers use BER indefinite lengths); else tolerantly.
    // Each reading is made only when the one before failed.
    let decoded = |candidate: &[u8]| {
        decode_signed_data(candidate).map(|data| Cms {
            signed_attrs: raw_signed_attrs(candidate),
            data,
        })
    };
    let first_error = match decoded(der_bytes) {
        Ok(cms) => return Ok(cms),
        Err(e) => e,
    };
    let Some(der) = super::ber::to_der(der_bytes) else {
        return Err(first_error);
    };
    if let Ok(cms) = decoded(&der) {
        return Ok(cms);
    }
    super::ber::tolerant_signed_data(&der)
        .and_then(|tolerant| decoded(&tolerant).ok())
        .ok_or(first_error)
}

fn decode_signed_data(bytes: &[u8]) -> Result<SignedData, SignatureIssue> {
    let info = der::SliceReader::new(bytes)
        .and_then(|mut reader| ContentInfo::decode(&mut reader))
        .map_err(|_| {
            issue(
                IssueCode::CmsUnreadable,
                "the CMS is unreadable: it is not a well-formed ContentInfo",
            )
        })?;
    if info.content_type != oid::SIGNED_DATA {
        return Err(issue(
            IssueCode::CmsUnreadable,
            format!("the CMS is {}, not SignedData", info.content_type),
        ));
    }
    info.content.decode_as::<SignedData>().map_err(|_| {
        issue(
            IssueCode::CmsUnreadable,
            "the CMS is unreadable: its SignedData is not well-formed",
        )
    })
}

/// The first signer's signed attributes in `der_bytes` (a DER ContentInfo), as the SET the
/// signature is computed over: ContentInfo, `[0]`, SignedData, the signerInfos SET (its last
/// field), the first SignerInfo, its `[0]` field retagged as SET.
fn raw_signed_attrs(der_bytes: &[u8]) -> Option<Vec<u8>> {
    use der::{Reader, Tagged};
    fn fields(value: &[u8]) -> Option<Vec<der::Any>> {
        let mut reader = der::SliceReader::new(value).ok()?;
        let mut out = Vec::new();
        while !reader.is_finished() {
            out.push(der::Any::decode(&mut reader).ok()?);
        }
        Some(out)
    }
    let info = fields(der_bytes)?.into_iter().next()?;
    let explicit = fields(info.value())?.into_iter().nth(1)?;
    let signed = fields(explicit.value())?.into_iter().next()?;
    let signer_infos = fields(signed.value())?.into_iter().last()?;
    let signer = fields(signer_infos.value())?.into_iter().next()?;
    let attrs = fields(signer.value())?.into_iter().find(|f| {
        f.tag()
            == der::Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N0,
            }
    })?;
    der::Any::new(der::Tag::Set, attrs.value())
        .ok()?
        .to_der()
        .ok()
}

fn find_signer<'a>(
    certificates: &'a [Certificate],
    signer: &SignerInfo,
) -> Option<&'a Certificate> {
    certificates.iter().find(|cert| match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            cert.tbs_certificate.issuer == id.issuer
                && cert.tbs_certificate.serial_number == id.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            super::trust::subject_key_identifier(cert).as_deref() == Some(ski.0.as_bytes())
        }
    })
}

fn attribute(signer: &SignerInfo, wanted: ObjectIdentifier) -> Option<&der::Any> {
    signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == wanted)?
        .values
        .iter()
        .next()
}

pub(crate) fn time_of(any: &der::Any) -> Option<Timestamp> {
    if let Ok(t) = any.decode_as::<UtcTime>() {
        let seconds = t.to_unix_duration().as_secs();
        return Timestamp::from_second(i64::try_from(seconds).ok()?).ok();
    }
    generalized_time(any)
}

/// A GeneralizedTime in UTC, `YYYYMMDDHHMMSS[.f*]Z`, fractional seconds included (RFC 3161
/// §2.4.2 allows them; time-stamping authorities send milliseconds or microseconds). The
/// fraction is kept to the nanosecond.
pub(crate) fn generalized_time(any: &der::Any) -> Option<Timestamp> {
    if der::Tagged::tag(any) != der::Tag::GeneralizedTime {
        return None;
    }
    let text = std::str::from_utf8(any.value()).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| whole.get(range)?.parse::<i16>().ok();
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse::<i32>().ok()?
        }
        Some(_) => return None,
    };
    let year = number(0..4)?;
    let time = jiff::civil::DateTime::new(
        year,
        i8::try_from(number(4..6)?).ok()?,
        i8::try_from(number(6..8)?).ok()?,
        i8::try_from(number(8..10)?).ok()?,
        i8::try_from(number(10..12)?).ok()?,
        i8::try_from(number(12..14)?).ok()?,
        nanos,
    )
    .ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(time).ok()
}

/// Checks a SignedData against the content it signs. Nothing here decides trust; that needs
/// the chain (see `trust`).
pub(crate) fn check(cms: &Cms, content: &SignedContent<'_>) -> CmsCheck {
    let signed = &cms.data;
    let mut out = CmsCheck {
        certificates: signed
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|choice| match choice {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                cms::cert::CertificateChoices::Other(_) => None,
            })
            .collect(),
        ..CmsCheck::default()
    };
    out.revocation.add_cms(signed);
    let signers: Vec<&SignerInfo> = signed.signer_infos.0.iter().collect();
    let Some(signer) = signers.first().copied() else {
        out.issues
            .push(issue(IssueCode::CmsUnreadable, "the CMS has no signer"));
        return out;
    };
    if signers.len() > 1 {
        out.issues.push(issue(
            IssueCode::MultipleSigners,
            "the CMS has more than one signer; only the first is checked",
        ));
    }
    out.signer = find_signer(&out.certificates, signer).cloned();
    let digest = DigestAlgorithm::from_oid(&signer.digest_alg.oid);
    out.digest = digest;
    let Some(digest) = digest else {
        out.issues.push(issue(
            IssueCode::UnsupportedAlgorithm,
            format!(
                "the digest algorithm {} is not supported",
                signer.digest_alg.oid
            ),
        ));
        return out;
    };
    if digest == DigestAlgorithm::Sha1 {
        out.issues.push(issue(
            IssueCode::WeakAlgorithm,
            "the signature uses SHA-1, which is no longer secure",
        ));
    }
    let computed = content.digest(digest);
    let Some(signed_attrs) = signer.signed_attrs.as_ref() else {
        // Without signed attributes the signature is over the content digest directly: rare in
        // PAdES, refused by the ETSI profiles; verified all the same.
        let mut out = verify_value(out, signer, digest, SignedMessage::Content(content));
        out.intact = out.valid;
        return out;
    };
    // Exactly one messageDigest with one value, and the content type signed as the one carried:
    // anything else is ambiguous about what was signed.
    let digests: Vec<&der::Any> = signed_attrs
        .iter()
        .filter(|a| a.oid == oid::MESSAGE_DIGEST)
        .flat_map(|a| a.values.iter())
        .collect();
    let content_type_ok = signed_attrs
        .iter()
        .filter(|a| a.oid == oid::CONTENT_TYPE)
        .flat_map(|a| a.values.iter())
        .map(|v| v.decode_as::<ObjectIdentifier>().ok())
        .collect::<Vec<_>>()
        .as_slice()
        == [Some(signed.encap_content_info.econtent_type)];
    if digests.len() != 1 || !content_type_ok {
        out.issues.push(issue(
            IssueCode::CmsUnreadable,
            "the signed attributes must hold exactly one message digest and the content type",
        ));
        return out;
    }
    match digests
        .first()
        .and_then(|a| a.decode_as::<OctetString>().ok())
    {
        Some(declared) if declared.as_bytes() == computed.as_slice() => out.intact = true,
        Some(_) => out.issues.push(issue(
            IssueCode::DigestMismatch,
            "the signed bytes were changed: their digest differs from the one signed",
        )),
        None => out.issues.push(issue(
            IssueCode::CmsUnreadable,
            "the signed attributes have no message digest",
        )),
    }
    out.claimed_time = attribute(signer, oid::SIGNING_TIME).and_then(time_of);
    if signed.encap_content_info.econtent_type == oid::TST_INFO {
        if let Some(info) = signed
            .encap_content_info
            .econtent
            .as_ref()
            .and_then(|e| e.decode_as::<OctetString>().ok())
            .and_then(|o| TstInfo::from_der(o.as_bytes()).ok())
        {
            out.gen_time = generalized_time(&info.gen_time);
        }
    }
    let mut out = verify_value(
        out,
        signer,
        digest,
        SignedMessage::Attributes {
            received: cms.signed_attrs.as_deref(),
            attributes: signed_attrs,
        },
    );
    if out.valid {
        check_signing_certificate(&mut out, signer);
    }
    if let Some(token) = signer
        .unsigned_attrs
        .as_ref()
        .and_then(|attrs| attrs.iter().find(|a| a.oid == oid::SIGNATURE_TIMESTAMP))
        .and_then(|a| a.values.iter().next())
    {
        out.timestamp = Some(check_timestamp(token, signer.signature.as_bytes()));
    }
    out
}

enum SignedMessage<'a, 'b> {
    /// The signed attributes: as received, and decoded (re-encoded in DER order if needed).
    Attributes {
        received: Option<&'a [u8]>,
        attributes: &'a cms::signed_data::SignedAttributes,
    },
    Content(&'a SignedContent<'b>),
}

fn verify_value(
    mut out: CmsCheck,
    signer: &SignerInfo,
    digest: DigestAlgorithm,
    message: SignedMessage<'_, '_>,
) -> CmsCheck {
    let Some(cert) = out.signer.as_ref() else {
        out.issues.push(issue(
            IssueCode::SignerCertificateMissing,
            "the signer's certificate is not in the signature",
        ));
        return out;
    };
    let verify = |message: &[u8]| {
        verify_signature(
            &cert.tbs_certificate.subject_public_key_info,
            &signer.signature_algorithm,
            Some(digest),
            message,
            signer.signature.as_bytes(),
        )
    };
    let result = match message {
        // The signature covers the attributes as the signer encoded them; a signer that sent
        // them out of DER order may still have signed the sorted form, which is tried second.
        SignedMessage::Attributes {
            received,
            attributes,
        } => {
            let first = received.map(verify);
            match first {
                Some(Ok(verified)) => Ok(verified),
                _ => match attributes.to_der() {
                    Ok(sorted) if Some(sorted.as_slice()) != received => verify(&sorted),
                    Ok(_) => first.unwrap_or(Err(VerifyError::Invalid)),
                    Err(_) => match first {
                        Some(failed) => failed,
                        None => {
                            out.issues.push(issue(
                                IssueCode::CmsUnreadable,
                                "the signed attributes cannot be encoded",
                            ));
                            return out;
                        }
                    },
                },
            }
        }
        SignedMessage::Content(content) => verify(&content.parts().concat()),
    };
    match result {
        Ok((scheme, verified)) => {
            if scheme.contains("SHA-1") && digest != DigestAlgorithm::Sha1 {
                out.issues.push(issue(
                    IssueCode::WeakAlgorithm,
                    format!("the signature uses {scheme}, which is no longer secure"),
                ));
            }
            out.scheme = Some(scheme);
            out.valid = true;
            if verified.digest_info_without_null {
                out.issues.push(issue(
                    IssueCode::Pkcs1DigestInfoWithoutNull,
                    "the RSA signature encodes its digest without the NULL parameters \
                     (sound; common in Profil Zaufany seals)",
                ));
            }
        }
        Err(VerifyError::Invalid) => out.issues.push(issue(
            IssueCode::SignatureInvalid,
            "the signature value does not verify with the signer's key",
        )),
        Err(VerifyError::Unsupported(what)) => out.issues.push(issue(
            IssueCode::UnsupportedAlgorithm,
            format!("{what} is not supported; the signature could not be checked"),
        )),
    }
    out
}

fn check_signing_certificate(out: &mut CmsCheck, signer: &SignerInfo) {
    let Some(cert_der) = out.signer.as_ref().and_then(|c| c.to_der().ok()) else {
        return;
    };
    let bound = if let Some(v2) = attribute(signer, oid::SIGNING_CERTIFICATE_V2) {
        v2.decode_as::<SigningCertificateV2>().ok().and_then(|v2| {
            let first = v2.certs.first()?;
            let algorithm = match &first.hash_algorithm {
                Some(a) => DigestAlgorithm::from_oid(&a.oid)?,
                None => DigestAlgorithm::Sha256,
            };
            Some(first.cert_hash.as_bytes() == algorithm.digest(&[&cert_der]).as_slice())
        })
    } else if let Some(v1) = attribute(signer, oid::SIGNING_CERTIFICATE) {
        v1.decode_as::<SigningCertificateV1>().ok().and_then(|v1| {
            let first = v1.certs.first()?;
            Some(
                first.cert_hash.as_bytes() == DigestAlgorithm::Sha1.digest(&[&cert_der]).as_slice(),
            )
        })
    } else {
        out.issues.push(issue(
            IssueCode::SigningCertificateUnbound,
            "the signed attributes do not name the signer's certificate (no ESS \
             signing-certificate attribute)",
        ));
        return;
    };
    if bound != Some(true) {
        out.valid = false;
        out.issues.push(issue(
            IssueCode::SigningCertificateMismatch,
            "the signing-certificate attribute names a different certificate than the signer's",
        ));
    }
}

fn check_timestamp(token: &der::Any, signature_value: &[u8]) -> TimestampCheck {
    let failed = |message: String| TimestampCheck {
        cms: Box::new(CmsCheck {
            issues: vec![issue(IssueCode::TimestampInvalid, message)],
            ..CmsCheck::default()
        }),
        imprint_matches: false,
    };
    let der = match token.to_der() {
        Ok(der) => der,
        Err(_) => return failed("the timestamp token is unreadable".to_string()),
    };
    let signed = match parse_signed_data(&der) {
        Ok(s) => s,
        Err(e) => return failed(format!("the timestamp token is unreadable: {}", e.message)),
    };
    timestamp_over(&signed, &SignedContent::Bytes(signature_value))
}

/// The content a SignedData encapsulates (an OCTET STRING), if any.
pub(crate) fn encapsulated(signed: &Cms) -> Option<Vec<u8>> {
    signed
        .data
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|e| e.decode_as::<OctetString>().ok())
        .map(|o| o.as_bytes().to_vec())
}

/// Checks a timestamp token's SignedData and that its imprint is the digest of `stamped`.
pub(crate) fn timestamp_over(signed: &Cms, stamped: &SignedContent<'_>) -> TimestampCheck {
    let info = &signed.data.encap_content_info;
    let tst = info
        .econtent
        .as_ref()
        .filter(|_| info.econtent_type == oid::TST_INFO)
        .and_then(|e| e.decode_as::<OctetString>().ok());
    let Some(tst) = tst else {
        return TimestampCheck {
            cms: Box::new(CmsCheck {
                issues: vec![issue(
                    IssueCode::TimestampInvalid,
                    "the timestamp token carries no TSTInfo",
                )],
                ..CmsCheck::default()
            }),
            imprint_matches: false,
        };
    };
    let cms = check(signed, &SignedContent::Bytes(tst.as_bytes()));
    let imprint_matches = TstInfo::from_der(tst.as_bytes()).ok().is_some_and(|info| {
        DigestAlgorithm::from_oid(&info.message_imprint.hash_algorithm.oid).is_some_and(|d| {
            info.message_imprint.hashed_message.as_bytes() == stamped.digest(d).as_slice()
        })
    });
    TimestampCheck {
        cms: Box::new(cms),
        imprint_matches,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn generalized(text: &str) -> Option<String> {
        let any = der::Any::new(der::Tag::GeneralizedTime, text.as_bytes()).ok()?;
        generalized_time(&any).map(|t| t.to_string())
    }

    #[test]
    fn generalized_times_with_and_without_fractions() {
        assert_eq!(
            generalized("20261201080147Z").as_deref(),
            Some("2026-12-01T08:01:47Z")
        );
        assert_eq!(
            generalized("20261201080147.588003Z").as_deref(),
            Some("2026-12-01T08:01:47.588003Z")
        );
        assert_eq!(
            generalized("20261201080147,5Z").as_deref(),
            Some("2026-12-01T08:01:47.5Z")
        );
        for bad in [
            "20261201080147",
            "20261201080147.Z",
            "20261301080147Z",
            "2026120108014Z",
            "20261201080147.1234567890Z",
            "20261201080147.5xZ",
        ] {
            assert_eq!(generalized(bad), None, "{bad}");
        }
        let utc = der::Any::new(der::Tag::UtcTime, b"261201080147Z".as_slice()).unwrap();
        assert_eq!(generalized_time(&utc), None);
    }
}
