//! The notifier in memory: exactly once per (document, department) whatever step the function
//! dies at, under replays, moves and moves back; counting once; batches completed and told once.

use super::*;
use crate::domain::model::{Channel, DocumentStatus};
use crate::in_memory::{Fault, InMemory, block_on};
use crate::station::{BatchState, MANIFEST_SCHEMA, Manifest, ManifestFile};

type InMemoryNotifier<'a> = Notifier<
    &'a InMemory,
    &'a InMemory,
    &'a InMemory,
    &'a InMemory,
    &'a InMemory,
    &'a InMemory,
    crate::register::Register<&'a InMemory>,
>;

const DAY: &str = "2026-03-02";
const BENEFITS: &str = "centrum-swiadczen";
const TAX: &str = "skarb";

fn world() -> InMemory {
    InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"))
}

fn notifier(world: &InMemory) -> InMemoryNotifier<'_> {
    Notifier {
        rules: RoutingRules::bundled().expect("rules"),
        batch_overdue_seconds: 3600,
        counter_shards: 4,
        table: world,
        counts: world,
        store: world,
        topic: world,
        mail: world,
        clock: world,
        register: crate::register::Register {
            office: "UMK".into(),
            book: world,
        },
    }
}

/// Delivers the stream to the notifier as Lambda does, until nothing is left: only the records
/// the mapping's filter lets through ([`wakes_notify`]), and a batch that fails is delivered
/// again from its failed record. Returns how many deliveries it took.
fn run(notifier: &InMemoryNotifier<'_>, world: &InMemory) -> usize {
    for delivery in 1..200 {
        let records: Vec<StreamChange> = world
            .take_stream()
            .into_iter()
            .filter(crate::notification::wakes_notify)
            .collect();
        if records.is_empty() {
            return delivery - 1;
        }
        let handled = block_on(notifier.handle_records(records.clone().into_iter().map(Ok)));
        if let Some(failed) = handled {
            let failed = failed.expect("a sequence number");
            let from = records
                .iter()
                .position(|r| r.sequence_number == failed)
                .expect("the failed record is in the batch");
            world.redeliver(records[from..].to_vec());
        }
    }
    panic!("the stream never went quiet");
}

/// A web document validate has just judged.
fn judged(id: &str, service: &str) -> DocumentRecord {
    DocumentRecord {
        id: id.into(),
        channel: Some(Channel::Web),
        service: Some(service.into()),
        status: Some(DocumentStatus::Accepted),
        sha256: Some("ab".repeat(32)),
        received_at: Some(format!("{DAY}T08:00:00Z")),
        storage: Some(StorageLocation {
            bucket: "archive".into(),
            key: format!("sha256/ab/{id}.pdf"),
        }),
        ..DocumentRecord::default()
    }
}

fn day() -> jiff::civil::Date {
    DAY.parse().expect("a date")
}

fn copy_of(world: &InMemory, department: &str, id: &str) -> bool {
    world.copies().contains_key(&(
        "archive".to_string(),
        format!("departments/{department}/{id}.pdf"),
    ))
}

/// What a department and the figures must show of one accepted document in `department`.
fn assert_told_once(world: &InMemory, id: &str, department: &str) {
    let delivered = world.delivered(department);
    assert_eq!(
        delivered.len(),
        1,
        "{department} is told once: {delivered:?}"
    );
    assert_eq!(delivered[0].subject, id);
    assert_eq!(delivered[0].body["department"], department);
    // Registered once, and the department and the receipt carry that number.
    let number = world.document(id).and_then(|r| r.register_number);
    assert_eq!(number.as_deref(), Some("UMK/RPW/2026/000001"));
    assert_eq!(world.register_last("UMK", 2026), 1);
    assert_eq!(delivered[0].body["register_number"], "UMK/RPW/2026/000001");
    assert!(copy_of(world, department, id), "{department} can read it");
    assert_eq!(world.counter(day(), "total"), 1, "counted once");
    assert_eq!(world.counter(day(), &format!("department:{department}")), 1);
    assert_eq!(
        world.document(id).and_then(|r| r.department).as_deref(),
        Some(department)
    );
}

#[test]
fn a_judged_document_is_placed_counted_copied_and_told_once() {
    let world = world();
    let notifier = notifier(&world);
    world.put_document(judged("doc-1", "child-benefit"));
    // Two deliveries: the verdict, and notify's own department write, which finds everything
    // done (it is there for a verdict whose own record failed for good).
    assert_eq!(run(&notifier, &world), 2);
    assert_told_once(&world, "doc-1", BENEFITS);
    assert_eq!(world.published().len(), 1);
    assert_eq!(world.mails(), vec!["doc-1".to_string()]);
    assert_eq!(world.counter(day(), "status:accepted"), 1);
    assert_eq!(world.counter(day(), "channel:web"), 1);
}

/// The side effects of a clean run of `scenario`, to fault each one in turn.
fn side_effects(scenario: impl Fn(&InMemory, &InMemoryNotifier<'_>)) -> usize {
    let world = world();
    let notifier = notifier(&world);
    scenario(&world, &notifier);
    world.faults.made()
}

#[test]
fn exactly_once_whatever_step_fails_or_the_function_dies_after() {
    let scenario = |world: &InMemory, notifier: &InMemoryNotifier<'_>| {
        world.put_document(judged("doc-1", "child-benefit"));
        run(notifier, world);
    };
    let steps = side_effects(scenario);
    assert!(
        steps >= 7,
        "registering, placing, counting, copying, publishing, the ledger: {steps}"
    );
    for step in 1..=steps {
        for fault in [Fault::FailBefore, Fault::DieAfter] {
            let world = world();
            let notifier = notifier(&world);
            world.faults.at(step, fault);
            scenario(&world, &notifier);
            assert_told_once(&world, "doc-1", BENEFITS);
            // A death between publishing and the ledger publishes twice; the topic drops it.
            assert!(world.published().len() <= 2, "step {step} {fault:?}");
        }
    }
}

#[test]
fn a_replayed_stream_tells_no_one_twice_and_counts_nothing_again() {
    let world = world();
    let notifier = notifier(&world);
    world.put_document(judged("doc-1", "child-benefit"));
    let mut all = Vec::new();
    for _ in 0..10 {
        let records = world.take_stream();
        if records.is_empty() {
            break;
        }
        all.extend(records.clone());
        world.redeliver(records);
        run(&notifier, &world);
    }
    let made = world.faults.made();
    world.redeliver(all.clone());
    world.redeliver(all);
    run(&notifier, &world);
    assert_told_once(&world, "doc-1", BENEFITS);
    assert_eq!(world.published().len(), 1, "not even published again");
    // Copies may be made again (the same bytes); nothing else is written.
    assert!(world.faults.made() <= made + 4);
}

/// An operator's move of `id` to `to`, as `intake reclassify` writes it.
fn moved(world: &InMemory, id: &str, to: &str) {
    let mut record = world.document(id).expect("the record");
    record.department = Some(to.into());
    record.reclassified_by = Some("operator@example.org".into());
    world.put_document(record);
}

#[test]
fn a_move_tells_the_new_department_moves_the_count_and_withdraws_the_copy() {
    let scenario = |world: &InMemory, notifier: &InMemoryNotifier<'_>| {
        world.put_document(judged("doc-1", "child-benefit"));
        run(notifier, world);
        moved(world, "doc-1", TAX);
        run(notifier, world);
    };
    let clean = world();
    scenario(&clean, &notifier(&clean));
    let first = side_effects(|w, n| {
        w.put_document(judged("doc-1", "child-benefit"));
        run(n, w);
    });
    let steps = side_effects(scenario);
    // Each step of the move fails, or the function dies after it.
    for step in first + 1..=steps {
        for fault in [Fault::FailBefore, Fault::DieAfter] {
            let world = world();
            let notifier = notifier(&world);
            world.put_document(judged("doc-1", "child-benefit"));
            run(&notifier, &world);
            world.faults.at(step - first, fault);
            moved(&world, "doc-1", TAX);
            run(&notifier, &world);
            let told = world.delivered(TAX);
            assert_eq!(told.len(), 1, "step {step} {fault:?}: {told:?}");
            assert_eq!(told[0].body["routing"], "reclassified by an operator");
            assert_eq!(world.delivered(BENEFITS).len(), 1, "told once, not again");
            assert!(copy_of(&world, TAX, "doc-1"));
            assert!(!copy_of(&world, BENEFITS, "doc-1"), "withdrawn");
            assert_eq!(world.counter(day(), "total"), 1);
            assert_eq!(world.counter(day(), &format!("department:{BENEFITS}")), 0);
            assert_eq!(world.counter(day(), &format!("department:{TAX}")), 1);
        }
    }
}

#[test]
fn moved_back_the_first_department_reads_it_again_and_is_not_told_twice() {
    let world = world();
    let notifier = notifier(&world);
    world.put_document(judged("doc-1", "child-benefit"));
    run(&notifier, &world);
    moved(&world, "doc-1", TAX);
    run(&notifier, &world);
    moved(&world, "doc-1", BENEFITS);
    run(&notifier, &world);
    assert_eq!(world.delivered(BENEFITS).len(), 1);
    assert_eq!(world.delivered(TAX).len(), 1);
    assert!(copy_of(&world, BENEFITS, "doc-1"), "its copy is back");
    assert!(!copy_of(&world, TAX, "doc-1"));
    assert_eq!(world.counter(day(), &format!("department:{BENEFITS}")), 1);
    assert_eq!(world.counter(day(), &format!("department:{TAX}")), 0);
    assert_eq!(world.counter(day(), "total"), 1);
}

#[test]
fn a_verdict_handled_after_an_operators_move_goes_to_the_operators_department() {
    let world = world();
    let notifier = notifier(&world);
    world.put_document(judged("doc-1", "child-benefit"));
    // The operator moves it before notify handles the verdict.
    let verdict = world.take_stream();
    moved(&world, "doc-1", TAX);
    let later = world.take_stream();
    world.redeliver(later);
    world.redeliver(verdict);
    run(&notifier, &world);
    assert_told_once(&world, "doc-1", TAX);
    assert!(world.delivered(BENEFITS).is_empty());
}

fn manifest(files: &[&str]) -> String {
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA.into(),
        station: "mogilska".into(),
        batch_id: "b-1".into(),
        created_at: format!("{DAY}T08:30:00Z"),
        service: None,
        files: files
            .iter()
            .map(|name| ManifestFile {
                name: (*name).into(),
                sha256: "cd".repeat(32),
                size: 1000,
                pages: 1,
                envelope: "e-1".into(),
                scanned_at: format!("{DAY}T08:00:00Z"),
                operator: "op".into(),
            })
            .collect(),
    };
    serde_json::to_string(&manifest).expect("JSON")
}

fn scan(name: &str) -> DocumentRecord {
    DocumentRecord {
        channel: Some(Channel::DropBox),
        service: None,
        site: Some("mogilska".into()),
        batch_id: Some("b-1".into()),
        file_name: Some(name.into()),
        ..judged(&format!("scan-{name}"), "x")
    }
}

#[test]
fn a_batch_completes_once_its_last_scan_is_judged_and_its_site_is_told_once() {
    let scenario = |world: &InMemory, notifier: &InMemoryNotifier<'_>| {
        world.put_batch(BatchRecord {
            station: "mogilska".into(),
            batch_id: "b-1".into(),
            state: Some(BatchState::Closed),
            opened_at: Some(format!("{DAY}T08:30:00Z")),
            manifest: Some(manifest(&["1.pdf", "2.pdf"])),
            ..BatchRecord::default()
        });
        world.put_document(scan("1.pdf"));
        run(notifier, world);
        assert_ne!(
            world.batch("mogilska", "b-1").and_then(|b| b.state),
            Some(BatchState::Complete),
            "one scan still to come"
        );
        world.put_document(scan("2.pdf"));
        run(notifier, world);
    };
    let steps = side_effects(scenario);
    for step in 1..=steps {
        for fault in [Fault::FailBefore, Fault::DieAfter] {
            let world = world();
            let notifier = notifier(&world);
            world.faults.at(step, fault);
            scenario(&world, &notifier);
            let batch = world.batch("mogilska", "b-1").expect("the batch");
            assert_eq!(
                batch.state,
                Some(BatchState::Complete),
                "step {step} {fault:?}"
            );
            assert_eq!(batch.verdicts.len(), 2);
            let told: Vec<_> = world
                .delivered("architektura")
                .into_iter()
                .filter(|m| m.body["event"] == "batch_complete")
                .collect();
            assert_eq!(told.len(), 1, "step {step} {fault:?}");
            assert_eq!(world.counter(day(), "site:mogilska"), 2);
        }
    }
}

#[test]
fn an_overdue_batch_is_flagged_once_and_its_site_told_once() {
    let world = world();
    let notifier = notifier(&world);
    world.put_batch(BatchRecord {
        station: "mogilska".into(),
        batch_id: "b-1".into(),
        state: Some(BatchState::Open),
        opened_at: Some("2026-03-02T09:00:00Z".into()),
        ..BatchRecord::default()
    });
    run(&notifier, &world);
    assert_eq!(block_on(notifier.flag_overdue_batches()), Ok(0), "not yet");
    world.advance(3601);
    assert_eq!(block_on(notifier.flag_overdue_batches()), Ok(1));
    assert_eq!(block_on(notifier.flag_overdue_batches()), Ok(0), "once");
    run(&notifier, &world);
    let told: Vec<_> = world
        .delivered("architektura")
        .into_iter()
        .filter(|m| m.body["event"] == "batch_overdue")
        .collect();
    assert_eq!(told.len(), 1);
}

#[test]
fn the_documents_of_one_delivery_are_registered_together_in_their_order() {
    let world = world();
    let notifier = notifier(&world);
    for i in 1..=30 {
        world.put_document(judged(&format!("doc-{i:02}"), "child-benefit"));
    }
    let made = world.faults.made();
    let records = world.take_stream();
    assert_eq!(
        block_on(notifier.handle_records(records.into_iter().map(Ok))),
        None
    );
    run(&notifier, &world);
    for i in 1..=30 {
        let id = format!("doc-{i:02}");
        let number = format!("UMK/RPW/2026/{i:06}");
        assert_eq!(
            world.document(&id).and_then(|r| r.register_number),
            Some(number)
        );
    }
    let told = world.delivered(BENEFITS);
    assert_eq!(told.len(), 30);
    assert!(told.iter().all(|m| m.body["register_number"].is_string()));
    // One register entry for the delivery; then per document its department and number (one
    // write), a count, a copy, a publication, a ledger entry and an e-mail.
    assert_eq!(world.faults.made() - made, 1 + 30 * 6);
}

#[test]
fn a_register_that_fails_leaves_the_delivery_whole_for_its_retry() {
    let world = world();
    let notifier = notifier(&world);
    world.put_document(judged("doc-1", "child-benefit"));
    world.faults.at(1, Fault::FailBefore);
    let records = world.take_stream();
    let first = records[0].sequence_number.clone();
    assert_eq!(
        block_on(notifier.handle_records(records.clone().into_iter().map(Ok))),
        Some(Some(first))
    );
    assert!(
        world.published().is_empty(),
        "no one is told of an unregistered document"
    );
    world.redeliver(records);
    run(&notifier, &world);
    assert_told_once(&world, "doc-1", BENEFITS);
}
