//! What the register needs of the world: the register book (its own table: one counter per
//! office and year, one entry per number, one mark per document). The documents' records
//! carry their numbers too; notify writes them there ([`crate::ports::Documents`]).
#![allow(async_fn_in_trait)]

use crate::ports::PortError;

/// What an entry into the register came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entered {
    /// The documents hold the numbers after the last one, in the order given, and the register
    /// stands at the last of them.
    Done,
    /// Nothing was written: the register moved on since its last number was read (another
    /// writer numbered documents meanwhile).
    RegisterMoved,
    /// Nothing was written: one of the documents has a number already.
    DocumentTaken,
}

/// The register book.
pub trait RegisterBook {
    /// The last number given in `office`'s register for `year`; 0 before the first.
    async fn last_number(&self, office: &str, year: i16) -> Result<u64, PortError>;

    /// Enters each `(document, number)` of `entries` (the numbers `last + 1`, `last + 2`, ...)
    /// in one atomic write, on condition that the register still stands at `last` and that no
    /// document of them is in the register yet.
    async fn enter(
        &self,
        office: &str,
        year: i16,
        last: u64,
        entries: &[(String, String)],
    ) -> Result<Entered, PortError>;

    /// The number the register gave a document, if it gave one.
    async fn number_of(&self, document_id: &str) -> Result<Option<String>, PortError>;
}
