//! The sample documents of the local run and the tests.

use intake::engine::pdf::samples::minimal_pdf;

/// One sample: what to send and the status it must get.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What it is.
    pub label: &'static str,
    /// The file name sent.
    pub file_name: &'static str,
    /// The service.
    pub service: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The status it must end in.
    pub expected_status: &'static str,
    /// The reason code it must carry, if rejected.
    pub expected_reason: Option<&'static str>,
}

/// The web-form samples: a valid PDF, an empty file, a non-PDF named `.pdf`, a truncated PDF,
/// and the valid PDF again. `tag` makes the bytes unique to one run.
pub fn web_form_samples(tag: &str) -> Vec<Sample> {
    let valid = minimal_pdf(2, &format!("wniosek o swiadczenie wychowawcze {tag}"));
    let truncated = valid[..valid.len() * 2 / 3].to_vec();
    vec![
        Sample {
            label: "valid PDF",
            file_name: "wniosek-800plus.pdf",
            service: "child-benefit",
            bytes: valid.clone(),
            expected_status: "accepted",
            expected_reason: None,
        },
        Sample {
            label: "empty file",
            file_name: "pusty.pdf",
            service: "civil-status-copy",
            bytes: Vec::new(),
            expected_status: "rejected",
            expected_reason: Some("empty"),
        },
        Sample {
            label: "non-PDF named .pdf",
            file_name: "zdjecie.pdf",
            service: "identity-card",
            bytes: b"\x89PNG\r\n\x1a\n this is an image, not a PDF".to_vec(),
            expected_status: "rejected",
            expected_reason: Some("not_pdf"),
        },
        Sample {
            label: "truncated PDF",
            file_name: "przerwany.pdf",
            service: "birth-registration",
            bytes: truncated,
            expected_status: "rejected",
            expected_reason: Some("truncated"),
        },
        Sample {
            label: "valid PDF again",
            file_name: "wniosek-800plus (1).pdf",
            service: "child-benefit",
            bytes: valid,
            expected_status: "duplicate",
            expected_reason: None,
        },
    ]
}
