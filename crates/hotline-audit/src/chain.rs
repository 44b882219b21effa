//! Appending to and verifying the chain.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::event_hash;

/// `prev_hash` of the first event (seq 1).
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who: `"agent:1007"`, `"unit:3"`, `"system:sla"`.
    pub actor: String,
    /// What it is about: `"ticket:42"`.
    pub entity: String,
    /// `"create"`, `"assign"`, `"status"`, …
    pub action: String,
    pub before: Value,
    pub after: Value,
    /// Lower-case hex SHA-256 of the previous event ([`GENESIS_HASH`] for seq 1).
    pub prev_hash: String,
    /// Lower-case hex SHA-256, see the crate docs.
    pub hash: String,
}

/// An event to append: everything the caller knows; the chain fills in seq and hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub entity: String,
    pub action: String,
    pub before: Value,
    pub after: Value,
}

/// The head of a chain: the next seq and the hash to link to. Pure — build it from the last
/// stored event (inside the transaction, with that row locked) and append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    next_seq: u64,
    last_hash: String,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// An empty chain: the next event is seq 1, linked to [`GENESIS_HASH`].
    pub fn new() -> Self {
        Chain {
            next_seq: 1,
            last_hash: GENESIS_HASH.to_string(),
        }
    }

    /// Continues after `last` (the newest stored event), or from genesis if there is none.
    pub fn after(last: Option<&AuditEvent>) -> Self {
        match last {
            Some(e) => Chain {
                next_seq: e.seq.saturating_add(1),
                last_hash: e.hash.clone(),
            },
            None => Self::new(),
        }
    }

    /// Continues a chain whose tip is stored elsewhere (e.g. a one-row head table): the newest
    /// event was `last_seq` (0 for an empty chain) with hash `last_hash`.
    pub fn resume(last_seq: u64, last_hash: impl Into<String>) -> Self {
        Chain {
            next_seq: last_seq.saturating_add(1),
            last_hash: last_hash.into(),
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// Builds the next event and advances the head. `at` is truncated to microseconds so the
    /// event hashes the same after a round trip through a `timestamptz` column.
    pub fn append(&mut self, new: NewEvent) -> AuditEvent {
        let at = new
            .at
            .with_nanosecond(new.at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(new.at);
        let mut e = AuditEvent {
            seq: self.next_seq,
            at,
            actor: new.actor,
            entity: new.entity,
            action: new.action,
            before: new.before,
            after: new.after,
            prev_hash: self.last_hash.clone(),
            hash: String::new(),
        };
        e.hash = event_hash(&e);
        self.next_seq = self.next_seq.saturating_add(1);
        self.last_hash = e.hash.clone();
        e
    }
}

/// A hash noted outside the database (log, signed report, printout): event `seq` had `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Events verified.
    pub count: u64,
    /// Seq of the last event (0 for an empty chain).
    pub last_seq: u64,
    /// Hash of the last event ([`GENESIS_HASH`] for an empty chain) — note it somewhere as the
    /// next anchor.
    pub last_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VerifyErrorKind {
    /// The event's content does not match its hash (a field, or the hash itself, was edited).
    BadHash,
    /// The event's `prev_hash` is not the previous event's hash (or not genesis for seq 1).
    BrokenLink,
    /// The event with this seq is missing (deleted, or the first events are gone).
    Gap,
    /// The event with this seq comes later than it should: two events were swapped.
    Reordered,
    /// A seq that was already seen appears again where this seq was expected (an inserted
    /// or repeated event).
    Duplicate,
    /// The chain is self-consistent but disagrees with an anchor noted elsewhere: it was
    /// rewritten and re-hashed from some point at or before this seq.
    AnchorMismatch,
    /// The chain ends before an anchored seq: events from this seq on were cut off.
    Truncated,
}

/// Where verification failed. `seq` is the first seq number that could not be verified: every
/// event before it checked out. (For [`verify_with_anchor`], a bare hash cannot say where the
/// rewrite started, so `seq` is the last event's; use [`verify_with_anchors`] to narrow it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {kind:?}")]
pub struct VerifyError {
    pub seq: u64,
    pub kind: VerifyErrorKind,
}

/// Streaming verifier, for callers that read events in batches (or asynchronously) in seq order.
/// Once it has returned an error it keeps returning it.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected: u64,
    last_hash: String,
    count: u64,
    /// An event that arrived ahead of its turn; the next one decides Gap vs Reordered.
    early: Option<u64>,
    anchors: BTreeMap<u64, String>,
    failed: Option<VerifyError>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Self {
        Self::with_anchors(std::iter::empty())
    }

    pub fn with_anchors(anchors: impl IntoIterator<Item = Anchor>) -> Self {
        Verifier {
            expected: 1,
            last_hash: GENESIS_HASH.to_string(),
            count: 0,
            early: None,
            anchors: anchors.into_iter().map(|a| (a.seq, a.hash)).collect(),
            failed: None,
        }
    }

    fn fail(&mut self, kind: VerifyErrorKind) -> Result<(), VerifyError> {
        let err = VerifyError {
            seq: self.expected,
            kind,
        };
        self.failed = Some(err);
        Err(err)
    }

    pub fn push(&mut self, e: &AuditEvent) -> Result<(), VerifyError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        if self.early.take().is_some() {
            // The previous event was ahead of its turn: if the expected one shows up right after,
            // the two were swapped; otherwise it is simply missing.
            return self.fail(if e.seq == self.expected {
                VerifyErrorKind::Reordered
            } else {
                VerifyErrorKind::Gap
            });
        }
        if e.seq > self.expected {
            self.early = Some(e.seq);
            return Ok(());
        }
        if e.seq < self.expected {
            let kind = if e.seq.saturating_add(1) == self.expected {
                VerifyErrorKind::Duplicate
            } else {
                VerifyErrorKind::Reordered
            };
            return self.fail(kind);
        }
        if e.prev_hash != self.last_hash {
            return self.fail(VerifyErrorKind::BrokenLink);
        }
        let hash = event_hash(e);
        if e.hash != hash {
            return self.fail(VerifyErrorKind::BadHash);
        }
        if self.anchors.get(&e.seq).is_some_and(|a| *a != hash) {
            return self.fail(VerifyErrorKind::AnchorMismatch);
        }
        self.last_hash = hash;
        self.count += 1;
        self.expected = self.expected.saturating_add(1);
        Ok(())
    }

    /// Ends the stream.
    pub fn finish(mut self) -> Result<VerifyReport, VerifyError> {
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        if self.early.is_some() {
            return Err(VerifyError {
                seq: self.expected,
                kind: VerifyErrorKind::Gap,
            });
        }
        if self.anchors.range(self.expected..).next().is_some() {
            return Err(VerifyError {
                seq: self.expected,
                kind: VerifyErrorKind::Truncated,
            });
        }
        Ok(VerifyReport {
            count: self.count,
            last_seq: self.expected - 1,
            last_hash: self.last_hash,
        })
    }
}

/// Verifies a whole chain from genesis, in stored order.
pub fn verify(events: impl IntoIterator<Item = AuditEvent>) -> Result<VerifyReport, VerifyError> {
    verify_with_anchors(events, std::iter::empty())
}

/// Like [`verify`], and every anchored seq must be present with the anchored hash. Anchors
/// taken periodically locate a from-the-middle rewrite to within one anchor interval, and the
/// chain may have grown past the newest anchor.
pub fn verify_with_anchors(
    events: impl IntoIterator<Item = AuditEvent>,
    anchors: impl IntoIterator<Item = Anchor>,
) -> Result<VerifyReport, VerifyError> {
    let mut v = Verifier::with_anchors(anchors);
    for e in events {
        v.push(&e)?;
    }
    v.finish()
}

/// Like [`verify`], and the chain must end with `expected_last_hash` (noted when the chain was
/// last verified and nothing has been appended since). Catches a forger who rewrote the chain
/// from some point on and recomputed every later hash, and one who cut off the tail.
pub fn verify_with_anchor(
    events: impl IntoIterator<Item = AuditEvent>,
    expected_last_hash: &str,
) -> Result<VerifyReport, VerifyError> {
    let report = verify(events)?;
    if report.last_hash != expected_last_hash {
        return Err(VerifyError {
            seq: report.last_seq,
            kind: VerifyErrorKind::AnchorMismatch,
        });
    }
    Ok(report)
}
