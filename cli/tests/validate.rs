//! `intake validate` as a user runs it: real files, the real binary, exit codes and output.

use std::path::PathBuf;
use std::process::Command;

use intake::engine::pdf::samples::minimal_pdf;

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("intake-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    dir
}

fn intake(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn all_accepted_exits_zero_with_a_table() {
    let dir = workdir("ok");
    std::fs::write(dir.join("a.pdf"), minimal_pdf(2, "a")).unwrap();
    std::fs::write(dir.join("nested/b.PDF"), minimal_pdf(1, "b")).unwrap();
    std::fs::write(dir.join("nested/readme.txt"), "not a pdf, not looked at").unwrap();
    let (code, out, _) = intake(&["validate", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("a.pdf") && out.contains("b.PDF"), "{out}");
    assert!(!out.contains("readme.txt"));
    assert!(
        out.contains("2 documents: 2 accepted, 0 accepted with warnings, 0 rejected"),
        "{out}"
    );
}

#[test]
fn a_rejected_document_exits_one_and_says_why() {
    let dir = workdir("rejected");
    std::fs::write(dir.join("good.pdf"), minimal_pdf(1, "good")).unwrap();
    std::fs::write(dir.join("bad.pdf"), b"GIF89a not a pdf").unwrap();
    let (code, out, _) = intake(&["validate", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let bad_line = out.lines().find(|l| l.contains("bad.pdf")).unwrap();
    assert!(
        bad_line.contains("REJECTED") && bad_line.contains("not_pdf"),
        "{bad_line}"
    );
}

#[test]
fn json_lines_carry_verdict_findings_and_facts() {
    let dir = workdir("json");
    let file = dir.join("a.pdf");
    std::fs::write(&file, minimal_pdf(3, "json")).unwrap();
    let empty = dir.join("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    let (code, out, _) = intake(&[
        "validate",
        "--json",
        file.to_str().unwrap(),
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let a = lines
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("a.pdf"))
        .unwrap();
    assert_eq!(a["verdict"], "accepted");
    assert_eq!(a["pages"], 3);
    assert_eq!(a["facts"]["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    let e = lines
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("empty.pdf"))
        .unwrap();
    assert_eq!(e["verdict"], "rejected");
    assert_eq!(e["findings"][0]["code"], "empty");
}

#[test]
fn a_policy_file_changes_the_verdict() {
    let dir = workdir("policy");
    let file = dir.join("a.pdf");
    std::fs::write(&file, minimal_pdf(40, "many")).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(&policy, r#"{"drop_box": {"limits": {"max_objects": 10}}}"#).unwrap();
    let (code, _, _) = intake(&[
        "validate",
        "--policy",
        policy.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "the web channel keeps its defaults");
    let (code, out, _) = intake(&[
        "validate",
        "--channel",
        "drop_box",
        "--policy",
        policy.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("too_many_objects"), "{out}");
}

#[test]
fn usage_errors_and_missing_files_exit_two() {
    assert_eq!(intake(&[]).0, 2);
    assert_eq!(intake(&["frobnicate"]).0, 2);
    assert_eq!(intake(&["validate"]).0, 2);
    assert_eq!(intake(&["validate", "--channel", "fax", "x.pdf"]).0, 2);
    let (code, out, _) = intake(&["validate", "/no/such/file.pdf"]);
    assert_eq!(code, 2);
    assert!(out.contains("UNREADABLE"), "{out}");
    let (code, _, err) = intake(&["validate", "--frobnicate", "x.pdf"]);
    assert_eq!(code, 2);
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn every_command_and_subcommand_answers_help() {
    let (code, out, _) = intake(&["--help"]);
    assert_eq!(code, 0);
    for command in ["validate", "reclassify", "station", "report"] {
        assert!(out.contains(command), "{out}");
    }
    for args in [
        &["validate", "--help"][..],
        &["reclassify", "--help"],
        &["report", "--help"],
        &["station", "--help"],
        &["station", "push", "--help"],
        &["station", "report", "--help"],
        &["station", "key", "--help"],
        &["station", "revoke", "--help"],
        &["help", "station", "push"],
    ] {
        let (code, out, err) = intake(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage: intake"), "{args:?}: {out}");
    }
    let (_, out, _) = intake(&["validate", "--help"]);
    assert!(
        out.contains("--channel") && out.contains("drop_box"),
        "{out}"
    );
    let (_, out, _) = intake(&["station", "push", "--help"]);
    assert!(
        out.contains("INTAKE_API_URL") && out.contains("--wait"),
        "{out}"
    );
    let (code, _, err) = intake(&["station", "key", "--station", "Not A Site"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a station id"), "{err}");
}

fn signature_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/src/engine/signature/fixtures")
        .join(name)
}

#[test]
fn signatures_are_shown_and_judged_against_the_trust_anchors_given() {
    let dir = workdir("signatures");
    std::fs::copy(signature_fixture("valid-rsa.pdf"), dir.join("signed.pdf")).unwrap();
    std::fs::copy(
        signature_fixture("changed-after-signing.pdf"),
        dir.join("changed.pdf"),
    )
    .unwrap();
    // A detached signature beside its document is checked with it.
    std::fs::copy(
        signature_fixture("detached-document.pdf"),
        dir.join("form.pdf"),
    )
    .unwrap();
    std::fs::copy(
        signature_fixture("detached-valid.p7s"),
        dir.join("form.p7s"),
    )
    .unwrap();
    let anchors = signature_fixture("pki/trust-anchors.pem");

    let (code, out, _) = intake(&[
        "validate",
        "--trust",
        anchors.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing: {out}"))
            .to_string()
    };
    assert!(
        line("signed.pdf").contains("trusted (Jan Kowalski (RSA))"),
        "{out}"
    );
    assert!(
        line("form.pdf").contains("trusted (Jan Kowalski (RSA))"),
        "{out}"
    );
    assert!(line("changed.pdf").contains("INVALID"), "{out}");
    assert!(line("changed.pdf").contains("signature_invalid"), "{out}");

    // Without anchors the same signature is valid, never trusted.
    let (_, out, _) = intake(&["validate", dir.join("signed.pdf").to_str().unwrap()]);
    assert!(out.contains("valid, untrusted"), "{out}");

    let (_, out, _) = intake(&[
        "validate",
        "--json",
        "--trust",
        anchors.to_str().unwrap(),
        dir.join("signed.pdf").to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["signatures"]["status"], "trusted", "{json}");
    assert_eq!(
        json["signatures"]["signatures"][0]["coverage"],
        "entire_file"
    );

    let (code, _, err) = intake(&[
        "validate",
        "--trust",
        dir.join("signed.pdf").to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("trust anchors"), "{err}");
}
