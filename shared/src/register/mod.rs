//! The incoming register (rejestr przesyłek wpływających): every document the office
//! receives, from any channel, accepted or not, gets a number once, unique and gapless within
//! its office and year: `UMK/RPW/2026/000123`.
//!
//! Numbers are given in blocks. notify reads the documents table's stream in batches; the
//! documents judged in a batch are entered together, in one transaction on the register's own
//! table that moves the office's counter for the year from the number it was read at to the
//! last number given, puts one entry per number and one mark per document (on condition that
//! the document has none). Either all of it happens or nothing does, so the register has no gap
//! (no number is taken without its document) and no document has two numbers (a redelivered
//! record finds its mark). When two writers race, one transaction is refused, re-reads the
//! counter and tries again. notify then writes each number into its document's record with
//! the department, which carries it to the department, the receipt and the sender.
//!
//! No item is hot at a national scale: each office and year has its own counter, and within an
//! office the counter is written once per stream batch (up to 49 documents), not once per
//! document.

pub mod ports;

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::model::{DocumentRecord, DocumentStatus};
use crate::domain::time::office_date;
use crate::ports::PortError;
use ports::{Entered, RegisterBook};

/// The register's mark in a number, after the office's code (RPW: rejestr przesyłek
/// wpływających, the incoming register).
pub const REGISTER_MARK: &str = "RPW";

/// The most documents numbered in one transaction: DynamoDB takes 100 items in one; the
/// counter is one of them and each document takes two (its entry and its mark).
pub const BLOCK: usize = 49;

/// How many times a block is tried against writers racing for the same counter before the
/// batch is left to the stream's retry.
const ATTEMPTS: usize = 25;

/// A number in the incoming register.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegisterNumber {
    /// The office's code (`UMK`).
    pub office: String,
    /// The register's year (the year of receipt, in Warsaw).
    pub year: i16,
    /// The entry's place in that year's register, from 1.
    pub sequence: u64,
}

impl fmt::Display for RegisterNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{REGISTER_MARK}/{}/{:06}",
            self.office, self.year, self.sequence
        )
    }
}

impl RegisterNumber {
    /// Reads a number as [`fmt::Display`] writes it; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let office = parts.next().filter(|o| !o.is_empty())?;
        if parts.next()? != REGISTER_MARK {
            return None;
        }
        let year = parts.next()?.parse().ok()?;
        let sequence = parts.next()?;
        if parts.next().is_some() || sequence.len() < 6 {
            return None;
        }
        Some(RegisterNumber {
            office: office.to_string(),
            year,
            sequence: sequence.parse().ok().filter(|&n| n > 0)?,
        })
    }
}

/// The register's year for a document: the Warsaw year of its receipt. `None` for an item
/// that is not a judged document, or has no time of receipt.
pub fn register_year(record: &DocumentRecord) -> Option<i16> {
    if !is_registrable(record) {
        return None;
    }
    let received = record.received_at.as_deref()?.parse().ok()?;
    Some(office_date(received).year())
}

/// Whether an item is a received document the register numbers: judged (accepted, rejected
/// or a duplicate), and not one of the table's other items.
pub fn is_registrable(record: &DocumentRecord) -> bool {
    matches!(
        record.status,
        Some(DocumentStatus::Accepted | DocumentStatus::Rejected | DocumentStatus::Duplicate)
    ) && !record.id.contains('#')
}

/// The register of one office, over its book.
pub struct Register<B> {
    /// The office's code, which every number starts with.
    pub office: String,
    /// The book.
    pub book: B,
}

impl<B: RegisterBook> Register<B> {
    /// Numbers every registrable document among `records` that has no number yet, and answers
    /// each registrable document's number (given now or before), by document id. Documents
    /// appear in the register in the order given.
    pub async fn number(
        &self,
        records: &[&DocumentRecord],
    ) -> Result<BTreeMap<String, String>, PortError> {
        let mut numbers = BTreeMap::new();
        let mut waiting: BTreeMap<i16, Vec<String>> = BTreeMap::new();
        for record in records {
            let Some(year) = register_year(record) else {
                if is_registrable(record) {
                    // Every judged record has its time of receipt; one without is left for an
                    // operator to see, not numbered in a year guessed.
                    tracing::warn!(
                        document_id = record.id,
                        "not registered: the record has no time of receipt"
                    );
                }
                continue;
            };
            if let Some(number) = &record.register_number {
                numbers.insert(record.id.clone(), number.clone());
            } else if !numbers.contains_key(&record.id) {
                let ids = waiting.entry(year).or_default();
                if !ids.contains(&record.id) {
                    ids.push(record.id.clone());
                }
            }
        }
        for (year, ids) in waiting {
            for block in ids.chunks(BLOCK) {
                numbers.extend(self.enter_block(year, block).await?);
            }
        }
        Ok(numbers)
    }

    /// Enters one block of documents of one year, trying again while other writers move the
    /// register on; each document's number (given now, or before for one entered already).
    async fn enter_block(
        &self,
        year: i16,
        block: &[String],
    ) -> Result<Vec<(String, String)>, PortError> {
        let mut numbered = Vec::with_capacity(block.len());
        let mut ids = block.to_vec();
        for _ in 0..ATTEMPTS {
            if ids.is_empty() {
                return Ok(numbered);
            }
            let last = self.book.last_number(&self.office, year).await?;
            let entries: Vec<(String, String)> = ids
                .iter()
                .zip(1u64..)
                .map(|(id, n)| {
                    let number = RegisterNumber {
                        office: self.office.clone(),
                        year,
                        sequence: last + n,
                    };
                    (id.clone(), number.to_string())
                })
                .collect();
            match self.book.enter(&self.office, year, last, &entries).await? {
                Entered::Done => {
                    for (id, number) in &entries {
                        tracing::info!(document_id = id, register_number = number, "registered");
                    }
                    numbered.extend(entries);
                    return Ok(numbered);
                }
                Entered::RegisterMoved => {}
                Entered::DocumentTaken => {
                    // A redelivered record, or a document entered by a racing writer: it keeps
                    // the number it has, and the rest are entered.
                    let mut rest = Vec::with_capacity(ids.len());
                    for id in ids {
                        match self.book.number_of(&id).await? {
                            Some(number) => numbered.push((id, number)),
                            None => rest.push(id),
                        }
                    }
                    ids = rest;
                }
            }
        }
        if ids.is_empty() {
            return Ok(numbered);
        }
        Err(PortError::transient(
            "register:enter",
            format!("the {year} register kept moving under {ATTEMPTS} attempts"),
        ))
    }
}

#[cfg(test)]
mod tests;
