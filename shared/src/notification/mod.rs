//! Notifying departments: which department a judged document goes to, what its notification
//! says (plain functions over plain types, here), and the notifier that acts on the documents
//! table's stream exactly once per (document, department) over the ports ([`notifier`]).

pub mod notifier;
pub mod ports;

use serde::Serialize;

use crate::domain::model::{Channel, DocumentRecord, DocumentStatus, Severity, StorageLocation};
use crate::domain::routing::{Origin, RoutingRules};

/// The version of the notification schema (README, "Notifications").
pub const NOTIFICATION_SCHEMA: &str = "intake.notification/1";

/// What to do about one changed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The department to notify.
    pub department: String,
    /// Whether the record still needs the department written into it.
    pub record_department: bool,
    /// Server-side copies to make, before the notification is sent, into the department's
    /// own prefix (the only objects its consumer role may read).
    pub copies: Vec<DepartmentCopy>,
    /// The notification.
    pub notification: Notification,
}

/// Where a department's consumer reads its documents: `departments/<department>/` in the
/// archive bucket. The archive itself is content-addressed and shared by duplicates, so a
/// department is given a copy of each of its own documents rather than the archive.
pub const DEPARTMENT_PREFIX: &str = "departments";

/// One object copied into a department's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCopy {
    /// The archived object.
    pub source: StorageLocation,
    /// The department's copy (same bucket).
    pub destination: StorageLocation,
}

/// The objects of `record` a `department` is given: the accepted document (or the original of
/// a duplicate) and its detached signature, if one was kept. Rejected documents stay in
/// quarantine, where no department's role reaches.
pub fn department_copies(record: &DocumentRecord, department: &str) -> Vec<DepartmentCopy> {
    if !matches!(
        record.status,
        Some(DocumentStatus::Accepted | DocumentStatus::Duplicate)
    ) {
        return Vec::new();
    }
    let Some(document) = &record.storage else {
        return Vec::new();
    };
    let copy = |source: StorageLocation, extension: &str| DepartmentCopy {
        destination: StorageLocation {
            bucket: source.bucket.clone(),
            key: format!("{DEPARTMENT_PREFIX}/{department}/{}.{extension}", record.id),
        },
        source,
    };
    let mut copies = vec![copy(document.clone(), "pdf")];
    let signature = record
        .detached_signature_stored
        .as_deref()
        .and_then(|stored| stored.split_once('/'))
        .filter(|(bucket, _)| *bucket == document.bucket);
    if let Some((bucket, key)) = signature {
        let source = StorageLocation {
            bucket: bucket.to_string(),
            key: key.to_string(),
        };
        copies.push(copy(source, "p7s"));
    }
    copies
}

/// The copies to remove when a document moved from one department to another: the former
/// department's.
pub fn withdrawn_copies(old: &DocumentRecord, new: &DocumentRecord) -> Vec<StorageLocation> {
    match (&old.department, &new.department) {
        (Some(from), Some(to)) if from != to => department_copies(old, from)
            .into_iter()
            .map(|c| c.destination)
            .collect(),
        _ => Vec::new(),
    }
}

/// Where a document is stored, in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAt {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
}

/// One reason of the verdict, in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifiedReason {
    /// The reason code.
    pub code: String,
    /// `reject` or `warning`.
    pub severity: &'static str,
}

/// The message a department receives for one document: its facts and where it is, never its
/// contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Always [`NOTIFICATION_SCHEMA`].
    pub schema: &'static str,
    /// The document id.
    pub document_id: String,
    /// Its number in the incoming register.
    pub register_number: Option<String>,
    /// The department notified.
    pub department: String,
    /// Its Polish name.
    pub department_name: String,
    /// Which routing rule chose the department (or that an operator did).
    pub routing: String,
    /// The service named with the document.
    pub service: Option<String>,
    /// `web` or `drop_box`.
    pub channel: Option<String>,
    /// The drop-box site, for scans.
    pub site: Option<String>,
    /// When it arrived (RFC 3339, UTC).
    pub received_at: Option<String>,
    /// The Warsaw calendar day it arrived on.
    pub received_day: Option<String>,
    /// `accepted`, `rejected` or `duplicate`.
    pub status: String,
    /// The verdict's reasons.
    pub reasons: Vec<NotifiedReason>,
    /// The document-level signature verdict.
    pub signature_status: Option<String>,
    /// The first document with the same bytes, for a duplicate.
    pub duplicate_of: Option<String>,
    /// SHA-256 of the bytes.
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Page count.
    pub pages: Option<u32>,
    /// Where the bytes are (the archive, or quarantine for a rejected document).
    pub stored_at: Option<StoredAt>,
    /// The department's own copy, which its consumer role may read (accepted documents and
    /// duplicates only).
    pub department_copy: Option<StoredAt>,
}

/// Whether a table item is a judged document (not a pending upload, a hash claim or a ledger
/// entry).
fn is_judged_document(record: &DocumentRecord) -> bool {
    matches!(
        record.status,
        Some(DocumentStatus::Accepted | DocumentStatus::Rejected | DocumentStatus::Duplicate)
    ) && !record.id.contains('#')
}

/// What a change of a document's item asks of notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// Nothing: the change concerns no department (a later attribute, a pending upload).
    None,
    /// The document was judged (its status changed, or it appeared judged): route it, tell the
    /// department, count it.
    Verdict,
    /// Its department changed: notify's own write of the routed department (then the ledger
    /// and the count mark show it done, unless the verdict's own record failed for good), or
    /// an operator's move (tell the new department, move the count).
    Department,
}

/// What the change of a document's item from `old` to `new` asks of notify.
pub fn attention(old: Option<&DocumentRecord>, new: &DocumentRecord) -> Attention {
    match old {
        None => Attention::Verdict,
        Some(old) if old.status != new.status => Attention::Verdict,
        Some(old) if old.department != new.department => Attention::Department,
        Some(_) => Attention::None,
    }
}

/// Decides the notification for a document whose item changed from `old` to `new`. `None`
/// when there is nothing to tell: not a judged document, or a change that does not concern a
/// department (the department already notified stays notified; the ledger guards repeats).
pub fn plan(rules: &RoutingRules, new: &DocumentRecord) -> Option<Plan> {
    if !is_judged_document(new) {
        return None;
    }
    let (department, routing, record_department) = match &new.department {
        // A department recorded already (by an earlier run or an operator) stands.
        Some(department) => (
            department.clone(),
            if new.reclassified_by.is_some() {
                "reclassified by an operator".to_string()
            } else {
                "recorded department".to_string()
            },
            false,
        ),
        None => {
            let origin = match new.channel {
                Some(Channel::DropBox) => Origin::DropBox {
                    site: new.site.as_deref(),
                    service: new.service.as_deref(),
                },
                _ => Origin::Web {
                    service: new.service.as_deref(),
                },
            };
            let routed = rules.route(origin);
            (routed.department, routed.rule.to_string(), true)
        }
    };
    let copies = department_copies(new, &department);
    let department_name = rules
        .department(&department)
        .map_or_else(|| department.clone(), |d| d.name.clone());
    let notification = Notification {
        schema: NOTIFICATION_SCHEMA,
        document_id: new.id.clone(),
        register_number: new.register_number.clone(),
        department: department.clone(),
        department_name,
        routing,
        service: new.service.clone(),
        channel: new.channel.map(|c| c.as_str().to_string()),
        site: new.site.clone(),
        received_at: new.received_at.clone(),
        received_day: new.received_day.clone(),
        status: new.status.map_or("unknown", |s| s.as_str()).to_string(),
        reasons: new
            .findings
            .iter()
            .map(|f| NotifiedReason {
                code: f.code.as_str().to_string(),
                severity: if f.severity == Severity::Reject {
                    "reject"
                } else {
                    "warning"
                },
            })
            .collect(),
        signature_status: new.signature_status.clone(),
        duplicate_of: new.duplicate_of.clone(),
        sha256: new.sha256.clone(),
        size: new.size,
        pages: new.pages,
        stored_at: new.storage.as_ref().map(|s| StoredAt {
            bucket: s.bucket.clone(),
            key: s.key.clone(),
        }),
        department_copy: copies.first().map(|c| StoredAt {
            bucket: c.destination.bucket.clone(),
            key: c.destination.key.clone(),
        }),
    };
    Some(Plan {
        department,
        record_department,
        copies,
        notification,
    })
}

/// One move of a document between departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DepartmentMove {
    /// Who moved it (the operator's name or id).
    pub by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The department it was in, if any.
    pub from: Option<String>,
    /// The department it went to.
    pub to: String,
}

/// Why a reclassification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReclassifyError {
    /// The target is not a department of the rules.
    #[error("'{0}' is not a department (see config/routing.json)")]
    UnknownDepartment(String),
    /// The document is not judged yet (or is not a document).
    #[error("the document is not judged yet; it is routed once it is")]
    NotJudged,
    /// It is there already.
    #[error("the document is in '{0}' already")]
    AlreadyThere(String),
    /// The operator was not named.
    #[error("name the operator (--by): the record keeps who moved the document")]
    NoOperator,
}

/// The history after moving `record` to `to`: the record's history with this move appended.
pub fn reclassify(
    rules: &RoutingRules,
    record: &DocumentRecord,
    to: &str,
    by: &str,
    at: &str,
) -> Result<(DepartmentMove, String), ReclassifyError> {
    if by.trim().is_empty() {
        return Err(ReclassifyError::NoOperator);
    }
    if rules.department(to).is_none() {
        return Err(ReclassifyError::UnknownDepartment(to.to_string()));
    }
    if !is_judged_document(record) {
        return Err(ReclassifyError::NotJudged);
    }
    if record.department.as_deref() == Some(to) {
        return Err(ReclassifyError::AlreadyThere(to.to_string()));
    }
    let mut history: Vec<DepartmentMove> = record
        .department_history
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    let entry = DepartmentMove {
        by: by.trim().to_string(),
        at: at.to_string(),
        from: record.department.clone(),
        to: to.to_string(),
    };
    history.push(entry.clone());
    let json = serde_json::to_string(&history).unwrap_or_else(|_| "[]".into());
    Ok((entry, json))
}

/// The e-mail text of a notification (Polish, then the facts): never the document's contents.
pub fn email_text(n: &Notification) -> String {
    let line = |label: &str, value: Option<&str>| format!("{label}: {}\n", value.unwrap_or("-"));
    let mut text = format!(
        "Do: {}\nNowy dokument w systemie intake / a new document for your department.\n\n",
        n.department_name
    );
    text.push_str(&line("Dokument / document", Some(&n.document_id)));
    text.push_str(&line("Status", Some(&n.status)));
    text.push_str(&line("Usługa / service", n.service.as_deref()));
    text.push_str(&line("Kanał / channel", n.channel.as_deref()));
    text.push_str(&line("Skrzynka / drop box", n.site.as_deref()));
    text.push_str(&line("Wpłynął / received", n.received_at.as_deref()));
    text.push_str(&line("Podpis / signature", n.signature_status.as_deref()));
    let reasons: Vec<&str> = n.reasons.iter().map(|r| r.code.as_str()).collect();
    text.push_str(&line(
        "Uwagi / reasons",
        (!reasons.is_empty()).then(|| reasons.join(", ")).as_deref(),
    ));
    text
}

/// The deduplication id of a (document, department) pair: the same pair always gets the same
/// id, so a repeated publish is dropped by the FIFO topic.
pub fn deduplication_id(document_id: &str, department: &str) -> String {
    crate::engine::hashing::DocumentHash::of(format!("{document_id}#{department}").as_bytes())
        .to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_wakes_for_judged_documents_and_batches_that_can_have_news() {
        let record =
            |status: DocumentStatus, department: Option<&str>, moved: bool| DocumentRecord {
                id: "d".into(),
                status: Some(status),
                department: department.map(str::to_string),
                reclassified_by: moved.then(|| "clerk".to_string()),
                ..DocumentRecord::default()
            };
        let change = |old: Option<DocumentRecord>, new: Option<DocumentRecord>| StreamChange {
            sequence_number: "1".into(),
            event_name: if old.is_none() { "INSERT" } else { "MODIFY" }.into(),
            new,
            old,
            new_batch: None,
            old_batch: None,
        };
        use DocumentStatus::{Accepted, Pending, Rejected};
        let pending = record(Pending, None, false);
        let accepted = record(Accepted, None, false);
        let placed = record(Accepted, Some("skarb"), false);
        let moved = record(Accepted, Some("usc"), true);
        for (what, wanted, c) in [
            (
                "an upload requested",
                false,
                change(None, Some(pending.clone())),
            ),
            (
                "a verdict",
                true,
                change(Some(pending.clone()), Some(accepted.clone())),
            ),
            (
                "a verdict with no pending record",
                true,
                change(None, Some(record(Rejected, None, false))),
            ),
            // Its second chance when the verdict's own record fails for good.
            (
                "notify placing it",
                true,
                change(Some(accepted.clone()), Some(placed.clone())),
            ),
            (
                "an operator's move",
                true,
                change(Some(placed.clone()), Some(moved.clone())),
            ),
            // Nothing to tell until the verdict, which carries the move.
            (
                "a move before the verdict",
                false,
                change(
                    Some(pending.clone()),
                    Some(record(Pending, Some("usc"), true)),
                ),
            ),
            ("a removal", false, change(Some(placed.clone()), None)),
        ] {
            assert_eq!(wakes_notify(&c), wanted, "{what}");
        }
        use crate::station::{BatchRecord, BatchState};
        let batch = |state: BatchState, overdue: bool| {
            let mut c = change(None, None);
            c.new_batch = Some(BatchRecord {
                state: Some(state),
                overdue_at: overdue.then(|| "2026-03-02T10:00:00Z".to_string()),
                ..BatchRecord::default()
            });
            c
        };
        assert!(
            !wakes_notify(&batch(BatchState::Open, false)),
            "a batch being pushed"
        );
        assert!(
            wakes_notify(&batch(BatchState::Open, true)),
            "an overdue batch"
        );
        assert!(
            wakes_notify(&batch(BatchState::Closed, false)),
            "a closed batch"
        );
        assert!(
            wakes_notify(&batch(BatchState::Complete, false)),
            "a complete batch"
        );
    }
    use crate::domain::model::{Finding, ReasonCode};

    fn judged(channel: Channel, service: Option<&str>, site: Option<&str>) -> DocumentRecord {
        DocumentRecord {
            id: "0190c0de-0000-7000-8000-000000000001".into(),
            channel: Some(channel),
            service: service.map(str::to_string),
            site: site.map(str::to_string),
            status: Some(DocumentStatus::Accepted),
            sha256: Some("ab".repeat(32)),
            storage: Some(StorageLocation {
                bucket: "archive".into(),
                key: "sha256/ab/x.pdf".into(),
            }),
            ..DocumentRecord::default()
        }
    }

    #[test]
    fn a_judged_document_is_routed_and_described() {
        let rules = RoutingRules::bundled().unwrap();
        let mut record = judged(Channel::Web, Some("child-benefit"), None);
        record.findings = vec![Finding::warning(ReasonCode::EmbeddedFile, "x")];
        let plan = plan(&rules, &record).unwrap();
        assert_eq!(plan.department, "centrum-swiadczen");
        assert!(plan.record_department);
        let n = &plan.notification;
        assert_eq!(n.schema, "intake.notification/1");
        assert_eq!(n.department_name, "Krakowskie Centrum Świadczeń");
        assert_eq!(n.status, "accepted");
        assert_eq!(n.reasons[0].code, "embedded_file");
        assert_eq!(n.stored_at.as_ref().unwrap().bucket, "archive");
        let json = serde_json::to_value(n).unwrap();
        assert_eq!(json["document_id"], record.id);
    }

    #[test]
    fn scans_rejections_and_recorded_departments() {
        let rules = RoutingRules::bundled().unwrap();
        let scan = judged(Channel::DropBox, None, Some("os-zgody"));
        assert_eq!(plan(&rules, &scan).unwrap().department, "kancelaria");
        let mut rejected = judged(Channel::Web, Some("identity-card"), None);
        rejected.status = Some(DocumentStatus::Rejected);
        assert_eq!(
            plan(&rules, &rejected).unwrap().department,
            "sprawy-administracyjne"
        );
        let mut recorded = judged(Channel::Web, Some("identity-card"), None);
        recorded.department = Some("usc".into());
        let p = plan(&rules, &recorded).unwrap();
        assert_eq!(p.department, "usc");
        assert!(!p.record_department);
    }

    #[test]
    fn a_department_gets_a_copy_of_its_accepted_documents_only() {
        let rules = RoutingRules::bundled().unwrap();
        let mut record = judged(Channel::Web, Some("child-benefit"), None);
        record.detached_signature_stored = Some("archive/signatures/x.p7s".into());
        let p = plan(&rules, &record).unwrap();
        let keys: Vec<&str> = p
            .copies
            .iter()
            .map(|c| c.destination.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                format!("departments/centrum-swiadczen/{}.pdf", record.id),
                format!("departments/centrum-swiadczen/{}.p7s", record.id)
            ]
        );
        assert_eq!(p.copies[1].source.key, "signatures/x.p7s");
        assert_eq!(
            p.notification.department_copy.as_ref().unwrap().key,
            keys[0]
        );
        record.status = Some(DocumentStatus::Rejected);
        let p = plan(&rules, &record).unwrap();
        assert!(p.copies.is_empty());
        assert_eq!(p.notification.department_copy, None);

        let mut old = judged(Channel::Web, Some("general-letter"), None);
        old.department = Some("kancelaria".into());
        let mut moved = old.clone();
        moved.department = Some("skarb".into());
        let withdrawn = withdrawn_copies(&old, &moved);
        assert_eq!(
            withdrawn[0].key,
            format!("departments/kancelaria/{}.pdf", old.id)
        );
        assert!(withdrawn_copies(&old, &old).is_empty());
    }

    #[test]
    fn a_verdict_or_a_department_change_asks_for_attention() {
        let mut pending = judged(Channel::Web, Some("child-benefit"), None);
        pending.status = Some(DocumentStatus::Pending);
        let accepted = judged(Channel::Web, Some("child-benefit"), None);
        assert_eq!(attention(None, &accepted), Attention::Verdict);
        assert_eq!(attention(Some(&pending), &accepted), Attention::Verdict);
        let mut routed = accepted.clone();
        routed.department = Some("centrum-swiadczen".into());
        // notify's own write, and an operator's move before notify routed the document.
        assert_eq!(attention(Some(&accepted), &routed), Attention::Department);
        let mut moved = routed.clone();
        moved.department = Some("skarb".into());
        assert_eq!(attention(Some(&routed), &moved), Attention::Department);
        let mut later = moved.clone();
        later.reclassified_by = Some("anna".into());
        assert_eq!(attention(Some(&moved), &moved), Attention::None);
        assert_eq!(attention(Some(&later), &later), Attention::None);
    }

    #[test]
    fn pending_uploads_claims_and_ledger_items_are_not_notified() {
        let rules = RoutingRules::bundled().unwrap();
        let mut pending = judged(Channel::Web, Some("child-benefit"), None);
        pending.status = Some(DocumentStatus::Pending);
        assert_eq!(plan(&rules, &pending), None);
        let mut claim = judged(Channel::Web, None, None);
        claim.id = format!("sha256#{}", "ab".repeat(32));
        assert_eq!(plan(&rules, &claim), None);
    }

    #[test]
    fn the_email_names_the_department_and_the_facts_only() {
        let rules = RoutingRules::bundled().unwrap();
        let plan = plan(&rules, &judged(Channel::Web, Some("child-benefit"), None)).unwrap();
        let text = email_text(&plan.notification);
        assert!(
            text.starts_with("Do: Krakowskie Centrum Świadczeń"),
            "{text}"
        );
        assert!(text.contains(&plan.notification.document_id));
        assert!(text.contains("Uwagi / reasons: -"), "{text}");
    }

    #[test]
    fn a_reclassification_is_checked_and_kept_in_the_history() {
        let rules = RoutingRules::bundled().unwrap();
        let mut record = judged(Channel::Web, Some("general-letter"), None);
        record.department = Some("kancelaria".into());
        let (entry, history) = reclassify(
            &rules,
            &record,
            "skarb",
            "jan.nowak",
            "2026-11-25T08:00:00.000Z",
        )
        .unwrap();
        assert_eq!(entry.from.as_deref(), Some("kancelaria"));
        record.department = Some("skarb".into());
        record.department_history = Some(history);
        let (_, history) =
            reclassify(&rules, &record, "usc", "anna", "2026-11-25T09:00:00.000Z").unwrap();
        let moves: Vec<DepartmentMove> = serde_json::from_str(&history).unwrap();
        assert_eq!(moves.len(), 2);
        assert_eq!(moves[1].from.as_deref(), Some("skarb"));
        assert_eq!(moves[1].to, "usc");
        assert_eq!(
            reclassify(&rules, &record, "nowhere", "anna", "t"),
            Err(ReclassifyError::UnknownDepartment("nowhere".into()))
        );
        assert_eq!(
            reclassify(&rules, &record, "skarb", "anna", "t"),
            Err(ReclassifyError::AlreadyThere("skarb".into()))
        );
        assert_eq!(
            reclassify(&rules, &record, "usc", " ", "t"),
            Err(ReclassifyError::NoOperator)
        );
        record.status = Some(DocumentStatus::Pending);
        assert_eq!(
            reclassify(&rules, &record, "usc", "anna", "t"),
            Err(ReclassifyError::NotJudged)
        );
    }

    #[test]
    fn the_deduplication_id_is_stable_per_pair() {
        assert_eq!(deduplication_id("d", "usc"), deduplication_id("d", "usc"));
        assert_ne!(deduplication_id("d", "usc"), deduplication_id("d", "skarb"));
        assert_eq!(deduplication_id("d", "usc").len(), 64);
    }
}

/// Whether a stream record can ask anything of notify, which is what the stream mapping's
/// filter (`notify_stream_filters` in infra/notify.tf) lets through:
/// - any change that leaves a document judged: the verdict, an operator's move, and notify's own
///   department write, which wakes it on purpose: when the verdict's own record fails for good
///   (its retries spent, it goes to the dead-letter queue), that later record finishes the work,
///   so a placed document is still counted and told;
/// - a batch's change once the batch is closed or complete, or flagged overdue: only then can it
///   complete or have news for a department. While a station is still pushing, its open batch
///   changes with every file assigned and judged, and each record carries the whole batch twice.
///
/// Pending uploads, removals, ledger items and hash claims never wake it.
pub fn wakes_notify(change: &StreamChange) -> bool {
    use crate::station::BatchState;
    if let Some(batch) = &change.new_batch {
        return matches!(batch.state, Some(BatchState::Closed | BatchState::Complete))
            || batch.overdue_at.is_some();
    }
    change
        .new
        .as_ref()
        .is_some_and(|new| new.status.is_some_and(|s| s != DocumentStatus::Pending))
}

/// One record of the table's stream, as Lambda delivers it.
#[derive(Debug, Clone)]
pub struct StreamChange {
    /// The record's sequence number (for partial batch failures).
    pub sequence_number: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: String,
    /// The item after the change, as a record (`None` for a removal).
    pub new: Option<DocumentRecord>,
    /// The item before the change (`None` for an insertion).
    pub old: Option<DocumentRecord>,
    /// For a batch item, the batch after the change.
    pub new_batch: Option<crate::station::BatchRecord>,
    /// For a batch item, the batch before the change.
    pub old_batch: Option<crate::station::BatchRecord>,
}
