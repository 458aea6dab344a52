//! The register in memory: numbers unique and gapless under redelivery, racing writers, a
//! crash right after the entry, blocks larger than one transaction and the turn of the year.

use super::*;
use crate::domain::model::{Channel, DocumentStatus};
use crate::in_memory::{Fault, InMemory, block_on};

fn world() -> InMemory {
    InMemory::at("2026-03-02T09:00:00Z".parse().expect("a time"))
}

fn register(world: &InMemory) -> Register<&InMemory> {
    Register {
        office: "UMK".into(),
        book: world,
    }
}

fn judged(world: &InMemory, id: &str, received_at: &str) -> DocumentRecord {
    let record = DocumentRecord {
        id: id.into(),
        channel: Some(Channel::Web),
        status: Some(DocumentStatus::Accepted),
        received_at: Some(received_at.into()),
        ..DocumentRecord::default()
    };
    world.put_document(record.clone());
    record
}

fn arrivals(world: &InMemory, n: usize) -> Vec<DocumentRecord> {
    (0..n)
        .map(|i| judged(world, &format!("doc-{i:04}"), "2026-03-02T08:00:00Z"))
        .collect()
}

fn number_all(
    register: &Register<impl RegisterBook>,
    records: &[DocumentRecord],
) -> Result<BTreeMap<String, String>, PortError> {
    block_on(register.number(&records.iter().collect::<Vec<_>>()))
}

/// Every document in the world is entered with one of 1..=last, each once.
fn assert_gapless(world: &InMemory, year: i16, documents: usize) {
    let last = world.register_last("UMK", year);
    assert_eq!(last, documents as u64);
    let mut sequences: Vec<u64> = (0..documents)
        .filter_map(|i| {
            block_on(world.number_of(&format!("doc-{i:04}")))
                .ok()
                .flatten()
        })
        .filter_map(|n| RegisterNumber::parse(&n))
        .map(|n| n.sequence)
        .collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=last).collect::<Vec<_>>());
}

#[test]
fn numbers_are_written_as_the_office_writes_them_and_read_back() {
    let number = RegisterNumber {
        office: "UMK".into(),
        year: 2026,
        sequence: 123,
    };
    assert_eq!(number.to_string(), "UMK/RPW/2026/000123");
    assert_eq!(RegisterNumber::parse("UMK/RPW/2026/000123"), Some(number));
    let big = "UMK/RPW/2026/1234567";
    assert_eq!(
        RegisterNumber::parse(big).map(|n| n.to_string()),
        Some(big.into())
    );
    for bad in [
        "",
        "UMK/RPW/2026",
        "UMK/XYZ/2026/000001",
        "UMK/RPW/2026/000000",
        "UMK/RPW/2026/12",
        "/RPW/2026/000001",
        "UMK/RPW/2026/000001/1",
        "UMK/RPW/year/000001",
    ] {
        assert_eq!(RegisterNumber::parse(bad), None, "{bad}");
    }
}

#[test]
fn two_hundred_documents_at_once_take_1_to_200_in_five_transactions() {
    let world = world();
    let records = arrivals(&world, 200);
    let made = world.faults.made();
    let numbers = number_all(&register(&world), &records).expect("numbered");
    assert_eq!(numbers.len(), 200);
    // Five entries of at most 49.
    assert_eq!(world.faults.made() - made, 5, "blocks of at most {BLOCK}");
    assert_eq!(numbers["doc-0000"], "UMK/RPW/2026/000001");
    assert_eq!(numbers["doc-0199"], "UMK/RPW/2026/000200");
    assert_gapless(&world, 2026, 200);
}

#[test]
fn a_redelivered_batch_keeps_its_numbers_and_takes_no_new_one() {
    let world = world();
    let records = arrivals(&world, 10);
    let first = number_all(&register(&world), &records).expect("numbered");
    // The stream delivers the same records again: their images have no number yet.
    let again = number_all(&register(&world), &records).expect("numbered again");
    assert_eq!(first, again);
    assert_gapless(&world, 2026, 10);
    // The records the entry wrote carry their numbers: nothing is written for them.
    let current: Vec<DocumentRecord> = (0..10)
        .filter_map(|i| world.document(&format!("doc-{i:04}")))
        .collect();
    let made = world.faults.made();
    assert_eq!(
        number_all(&register(&world), &current).expect("read"),
        first
    );
    assert_eq!(world.faults.made(), made);
}

#[test]
fn a_crash_right_after_the_entry_leaves_no_gap_and_no_second_number() {
    let world = world();
    let records = arrivals(&world, 5);
    world.faults.at(1, Fault::DieAfter);
    assert!(number_all(&register(&world), &records).is_err());
    let numbers = number_all(&register(&world), &records).expect("numbered on the retry");
    assert_eq!(numbers["doc-0004"], "UMK/RPW/2026/000005");
    assert_gapless(&world, 2026, 5);
}

#[test]
fn a_failed_entry_writes_nothing_and_the_retry_numbers_all() {
    let world = world();
    let records = arrivals(&world, 5);
    world.faults.at(1, Fault::FailBefore);
    assert!(number_all(&register(&world), &records).is_err());
    assert_eq!(world.register_last("UMK", 2026), 0);
    number_all(&register(&world), &records).expect("numbered");
    assert_gapless(&world, 2026, 5);
}

/// A book whose register another writer moves on between the first read and the first
/// entry (another shard's batch), numbering documents of its own.
struct Racing<'a> {
    world: &'a InMemory,
    rival: std::cell::RefCell<Vec<DocumentRecord>>,
}

impl RegisterBook for &Racing<'_> {
    async fn last_number(&self, office: &str, year: i16) -> Result<u64, PortError> {
        self.world.last_number(office, year).await
    }

    async fn enter(
        &self,
        office: &str,
        year: i16,
        last: u64,
        entries: &[(String, String)],
    ) -> Result<Entered, PortError> {
        let rival: Vec<DocumentRecord> = self.rival.borrow_mut().drain(..).collect();
        if !rival.is_empty() {
            let rival: Vec<&DocumentRecord> = rival.iter().collect();
            register(self.world).number(&rival).await?;
        }
        self.world.enter(office, year, last, entries).await
    }

    async fn number_of(&self, document_id: &str) -> Result<Option<String>, PortError> {
        self.world.number_of(document_id).await
    }
}

#[test]
fn a_racing_writer_makes_the_entry_try_again_from_the_register_as_it_stands() {
    let world = world();
    let records = arrivals(&world, 20);
    let racing = Racing {
        world: &world,
        rival: records[10..].to_vec().into(),
    };
    let register = Register {
        office: "UMK".to_string(),
        book: &racing,
    };
    // This writer's batch holds all 20; the rival numbered 10 of them meanwhile.
    let numbers = number_all(&register, &records).expect("numbered");
    assert_eq!(numbers.len(), 20);
    assert_eq!(numbers["doc-0010"], "UMK/RPW/2026/000001");
    assert_eq!(numbers["doc-0000"], "UMK/RPW/2026/000011");
    assert_gapless(&world, 2026, 20);
}

#[test]
fn the_year_is_the_year_of_receipt_in_warsaw() {
    let world = world();
    // 23:30 UTC on 31 December is half past midnight on 1 January in Warsaw.
    let new_year = judged(&world, "doc-0000", "2026-12-31T23:30:00Z");
    let old_year = judged(&world, "doc-0001", "2026-12-31T22:30:00Z");
    let numbers = number_all(&register(&world), &[new_year, old_year]).expect("numbered");
    assert_eq!(numbers["doc-0000"], "UMK/RPW/2027/000001");
    assert_eq!(numbers["doc-0001"], "UMK/RPW/2026/000001");
}

#[test]
fn only_received_documents_are_numbered() {
    let world = world();
    let pending = DocumentRecord {
        id: "doc-0000".into(),
        status: Some(DocumentStatus::Pending),
        received_at: Some("2026-03-02T08:00:00Z".into()),
        ..DocumentRecord::default()
    };
    let claim = DocumentRecord {
        id: "sha256#ab".into(),
        status: Some(DocumentStatus::Accepted),
        received_at: Some("2026-03-02T08:00:00Z".into()),
        ..DocumentRecord::default()
    };
    let mut rejected = judged(&world, "doc-0001", "2026-03-02T08:00:00Z");
    rejected.status = Some(DocumentStatus::Rejected);
    world.put_document(rejected.clone());
    let numbers = number_all(&register(&world), &[pending, claim, rejected]).expect("numbered");
    assert_eq!(numbers.keys().collect::<Vec<_>>(), vec!["doc-0001"]);
}
