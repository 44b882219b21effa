//! A tamper-evident audit chain.
//!
//! Every change is an [`AuditEvent`] (who, when, what, before/after). Events are numbered from 1
//! without gaps and each carries the hash of its predecessor, so editing, deleting, inserting or
//! reordering stored events breaks the chain at a precise `seq`. A forger who rewrites the chain
//! from some point on and recomputes every later hash produces a self-consistent chain; that is
//! only caught against an *anchor* — a hash noted elsewhere (a log line, a signed daily report, a
//! supervisor's printout) — hence [`verify_with_anchor`] / [`verify_with_anchors`].
//!
//! The crate is pure: the tickets layer calls [`Chain::append`] inside the transaction that makes
//! the change and inserts the returned event in the same transaction; `hotline audit verify`
//! streams the stored events into [`verify`].
//!
//! ## Hash
//!
//! `hash = hex(sha256(prev_hash_hex || canonical_json(event without "hash")))`, with the genesis
//! `prev_hash` being 64 `'0'`s. See [`canonical_json`] for the exact serialisation.

mod canonical;
mod chain;

pub use canonical::{canonical_json, event_hash, hashed_view};
pub use chain::{
    verify, verify_with_anchor, verify_with_anchors, Anchor, AuditEvent, Chain, NewEvent, Verifier,
    VerifyError, VerifyErrorKind, VerifyReport, GENESIS_HASH,
};
