//! The audit chain: how a record's hash is formed and how a sealed chain is verified.
//!
//! Records are written without a hash inside the use case's own transaction; a single sealer later gives
//! them chain positions in id order and hashes each onto the one before. Verification walks the chain in
//! position order and names the first record that does not fit.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that stands before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// The content of one audit record, as it is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Stored with microsecond precision; the hash uses microseconds since the epoch.
    pub at: DateTime<Utc>,
    /// `user:ID`, `anonymous`, `system` …
    pub actor: String,
    /// `auth.login`, `user.create`, `resident.unmask` …
    pub action: String,
    /// The object acted on, `user:12`, `region:370883101` …
    pub object: String,
    /// `ok`, `denied`, `failed` …
    pub result: String,
    /// The source address, or `cli`.
    pub source: String,
    /// Free detail as JSON text.
    pub detail: String,
}

/// A record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    pub chain_seq: i64,
    pub entry: AuditEntry,
    pub hash: [u8; 32],
}

/// The chain head as last written outside the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub chain_seq: i64,
    pub hash: [u8; 32],
}

/// Hashes a record onto the hash of the record before it. Every field is length-prefixed, so no two
/// different records serialise alike.
pub fn chain_hash(previous: &[u8; 32], chain_seq: i64, entry: &AuditEntry) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"fengqiao-audit-v1");
    hasher.update(previous);
    hasher.update(chain_seq.to_be_bytes());
    hasher.update(entry.id.to_be_bytes());
    hasher.update(entry.at.timestamp_micros().to_be_bytes());
    for field in [
        &entry.actor,
        &entry.action,
        &entry.object,
        &entry.result,
        &entry.source,
        &entry.detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}

/// Why verification stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    /// A record's content no longer gives its hash (altered), or its hash does not follow from the one before.
    Altered,
    /// Chain positions skip: records were deleted.
    Missing,
    /// Chain positions repeat or go backwards: records were reordered or duplicated.
    Reordered,
    /// The chain ends before the last checkpoint written outside the database: its tail was cut off.
    Truncated,
    /// The record at the checkpoint's position has another hash than the checkpoint says: rewritten.
    CheckpointMismatch,
}

/// The first record that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstBad {
    pub chain_seq: i64,
    pub record_id: Option<i64>,
    pub breach: Breach,
}

/// What a walk over the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Sealed records that were checked.
    pub sealed: i64,
    /// The position and hash of the last good record.
    pub head_seq: i64,
    pub head_hash: String,
    pub first_bad: Option<FirstBad>,
}

/// Walks sealed records in chain-position order (as the store returns them) and checks each.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    previous: [u8; 32],
    sealed: i64,
    first_bad: Option<FirstBad>,
    checkpoint: Option<Checkpoint>,
    checkpoint_seen: bool,
}

impl ChainVerifier {
    pub fn new(checkpoint: Option<Checkpoint>) -> Self {
        Self {
            expected_seq: 1,
            previous: GENESIS,
            sealed: 0,
            first_bad: None,
            checkpoint,
            checkpoint_seen: false,
        }
    }

    /// Feeds the next record; returns false once a breach has been found (the caller may stop).
    pub fn push(&mut self, record: &SealedRecord) -> bool {
        if self.first_bad.is_some() {
            return false;
        }
        let bad = |breach| FirstBad {
            chain_seq: record.chain_seq,
            record_id: Some(record.entry.id),
            breach,
        };
        if record.chain_seq > self.expected_seq {
            self.first_bad = Some(FirstBad {
                chain_seq: self.expected_seq,
                record_id: None,
                breach: Breach::Missing,
            });
            return false;
        }
        if record.chain_seq < self.expected_seq {
            self.first_bad = Some(bad(Breach::Reordered));
            return false;
        }
        let hash = chain_hash(&self.previous, record.chain_seq, &record.entry);
        if hash != record.hash {
            self.first_bad = Some(bad(Breach::Altered));
            return false;
        }
        if let Some(checkpoint) = self.checkpoint
            && checkpoint.chain_seq == record.chain_seq
        {
            self.checkpoint_seen = true;
            if checkpoint.hash != hash {
                self.first_bad = Some(bad(Breach::CheckpointMismatch));
                return false;
            }
        }
        self.previous = hash;
        self.expected_seq += 1;
        self.sealed += 1;
        true
    }

    /// Ends the walk: a chain shorter than the checkpoint was cut off.
    pub fn finish(mut self) -> ChainReport {
        if self.first_bad.is_none()
            && let Some(checkpoint) = self.checkpoint
            && !self.checkpoint_seen
            && checkpoint.chain_seq > 0
        {
            self.first_bad = Some(FirstBad {
                chain_seq: self.expected_seq,
                record_id: None,
                breach: Breach::Truncated,
            });
        }
        ChainReport {
            sealed: self.sealed,
            head_seq: self.expected_seq - 1,
            head_hash: hex::encode(self.previous),
            first_bad: self.first_bad,
        }
    }
}

/// Parses a hex hash as stored.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(id: i64) -> AuditEntry {
        AuditEntry {
            id,
            at: Utc
                .timestamp_opt(1_790_000_000 + id, 0)
                .single()
                .unwrap_or_default(),
            actor: format!("user:{id}"),
            action: "auth.login".into(),
            object: "user:1".into(),
            result: "ok".into(),
            source: "127.0.0.1".into(),
            detail: "{}".into(),
        }
    }

    fn chain(n: i64) -> Vec<SealedRecord> {
        let mut previous = GENESIS;
        (1..=n)
            .map(|seq| {
                let entry = entry(seq * 10);
                let hash = chain_hash(&previous, seq, &entry);
                previous = hash;
                SealedRecord {
                    chain_seq: seq,
                    entry,
                    hash,
                }
            })
            .collect()
    }

    fn verify(records: &[SealedRecord], checkpoint: Option<Checkpoint>) -> ChainReport {
        let mut verifier = ChainVerifier::new(checkpoint);
        for record in records {
            if !verifier.push(record) {
                break;
            }
        }
        verifier.finish()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        let checkpoint = Checkpoint {
            chain_seq: 5,
            hash: records[4].hash,
        };
        let report = verify(&records, Some(checkpoint));
        assert_eq!(report.first_bad, None);
        assert_eq!(report.sealed, 5);
        assert_eq!(report.head_hash, hex::encode(records[4].hash));
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let mut altered = chain(5);
        altered[2].entry.result = "denied".into();
        let bad = verify(&altered, None)
            .first_bad
            .map(|b| (b.chain_seq, b.breach));
        assert_eq!(bad, Some((3, Breach::Altered)));

        let mut deleted = chain(5);
        deleted.remove(1);
        let bad = verify(&deleted, None)
            .first_bad
            .map(|b| (b.chain_seq, b.breach));
        assert_eq!(bad, Some((2, Breach::Missing)));

        let mut swapped = chain(5);
        let (a, b) = (swapped[1].entry.clone(), swapped[2].entry.clone());
        swapped[1].entry = b;
        swapped[2].entry = a;
        let bad = verify(&swapped, None)
            .first_bad
            .map(|b| (b.chain_seq, b.breach));
        assert_eq!(bad, Some((2, Breach::Altered)));

        let records = chain(5);
        let checkpoint = Checkpoint {
            chain_seq: 5,
            hash: records[4].hash,
        };
        let bad = verify(&records[..3], Some(checkpoint))
            .first_bad
            .map(|b| (b.chain_seq, b.breach));
        assert_eq!(bad, Some((4, Breach::Truncated)));

        let wrong = Checkpoint {
            chain_seq: 4,
            hash: [7; 32],
        };
        let bad = verify(&records, Some(wrong))
            .first_bad
            .map(|b| (b.chain_seq, b.breach));
        assert_eq!(bad, Some((4, Breach::CheckpointMismatch)));
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = entry(1);
        let mut b = entry(1);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(chain_hash(&GENESIS, 1, &a), chain_hash(&GENESIS, 1, &b));
    }
}
