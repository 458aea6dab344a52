//! The integration suite on one local stack: moto, `infra/` applied with terraform once, and the
//! real function binaries under the Lambda Runtime API emulation, driven through the real AWS
//! SDK, HTTP and the `intake` command exactly as browsers, scanning stations, operators and AWS
//! would.
//!
//! - [`pipeline`]: web-form uploads, verdicts, signatures, departments and their notifications;
//! - [`stations`]: scanning-station batches;
//! - [`receipts`]: the incoming register and the signed receipts;
//! - [`reports`]: the daily and range reports.
//!
//! Terraform against moto takes a minute and more, so every test of the suite shares the one
//! stack [`stack`] starts, configured here for all of them. Tests run side by side (scripts/test
//! runs them all at once): each uses documents, stations and days of its own, so none reads
//! another's.

mod pipeline;
mod receipts;
mod reports;
mod stations;

use intake_local::stack::Stack;

/// The stack's upload limit, small so that an oversized file or scan is cheap to make.
pub const MAX_UPLOAD_BYTES: u64 = 1024 * 1024;

/// Who may assume the department roles in the test stack (moto's account).
pub const DEPARTMENT_CLERK: &str = "arn:aws:iam::123456789012:user/department-clerk";

/// The service the test stack requires a trusted signature for (no station scan uses it).
pub const SIGNATURE_REQUIRED_SERVICE: &str = "consumer-ombudsman";

/// The suite's stack, started by the first test that asks for it.
pub fn stack() -> &'static Stack {
    intake_local::stack::for_tests("suite", |options| {
        options.collect_notifications = true;
        options.terraform_vars = vec![
            ("max_upload_bytes", MAX_UPLOAD_BYTES.to_string()),
            // Redelivery and the dead-letter queue within a test's patience: a message comes
            // back 15 s after a failed or killed delivery and goes to the DLQ after its third.
            ("validate_timeout_seconds", "30".into()),
            // moto serves every DynamoDB request one at a time, and a batch's upload forms
            // write 250 pending records while the other tests' documents are judged: more
            // than AWS's 10 s would need.
            ("api_timeout_seconds", "30".into()),
            ("validate_visibility_timeout_seconds", "15".into()),
            ("validate_max_receive_count", "3".into()),
            (
                "trust_anchors_pem",
                String::from_utf8(signature_fixture("pki/trust-anchors.pem")).expect("PEM is text"),
            ),
            (
                "signature_required_services",
                format!("[\"{SIGNATURE_REQUIRED_SERVICE}\"]"),
            ),
            (
                "department_consumer_principals",
                format!("[\"{DEPARTMENT_CLERK}\"]"),
            ),
            // Station keys are re-read within a second of a rotation, and a batch is overdue
            // after a minute.
            ("station_key_cache_seconds", "1".into()),
            ("batch_overdue_minutes", "1".into()),
        ];
    })
}

/// A signature fixture of the library's tests.
pub fn signature_fixture(name: &str) -> Vec<u8> {
    let path = intake_local::workspace_root()
        .join("shared/src/engine/signature/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
