//! The audit trail's upkeep: sealing records onto the chain, writing the checkpoint outside the database,
//! verifying the chain, and the auditor's list.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::audit::{ChainReport, ChainVerifier, Checkpoint, parse_hash};
use fengqiao_store::{AuditFilter, AuditRecord, Page, Paged};

/// The chain head as written to the checkpoint file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckpointFile {
    pub chain_seq: i64,
    pub hash: String,
    pub written_at: chrono::DateTime<chrono::Utc>,
}

/// What `audit verify` reports.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    #[serde(flatten)]
    pub chain: ChainReport,
    /// Records written but not yet sealed (not covered by the chain yet).
    pub unsealed: i64,
    /// The checkpoint checked against, if one was found.
    pub checkpoint_seq: Option<i64>,
    pub ok: bool,
}

/// Reads a checkpoint file; a missing file is `None`.
pub fn read_checkpoint(path: &Path) -> AppResult<Option<Checkpoint>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Internal(format!("reading {}: {e}", path.display())))?;
    let file: CheckpointFile = serde_json::from_str(&text)
        .map_err(|e| AppError::Internal(format!("checkpoint {}: {e}", path.display())))?;
    let hash = parse_hash(&file.hash)
        .ok_or_else(|| AppError::Internal("checkpoint hash is not 32 hex bytes".into()))?;
    Ok(Some(Checkpoint {
        chain_seq: file.chain_seq,
        hash,
    }))
}

fn write_checkpoint(path: &Path, file: &CheckpointFile) -> AppResult<()> {
    let text = serde_json::to_string_pretty(file).map_err(|e| AppError::Internal(e.to_string()))?;
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text)
        .map_err(|e| AppError::Internal(format!("writing {}: {e}", temp.display())))?;
    std::fs::rename(&temp, path)
        .map_err(|e| AppError::Internal(format!("renaming to {}: {e}", path.display())))
}

impl App {
    /// Seals every waiting record, then writes the head to the checkpoint file and the log.
    /// Returns how many were sealed.
    pub async fn seal_audit(&self) -> AppResult<i64> {
        const BATCH: i64 = 2_000;
        let mut total = 0;
        loop {
            let outcome = self.store.seal_audit(BATCH).await?;
            total += outcome.sealed_now;
            if outcome.sealed_now > 0 {
                let hash = hex::encode(outcome.head_hash);
                tracing::info!(target: "fengqiao::audit", chain_seq = outcome.head_seq, hash = %hash, "audit checkpoint");
                if let Some(path) = &self.settings.checkpoint_path {
                    let file = CheckpointFile {
                        chain_seq: outcome.head_seq,
                        hash,
                        written_at: self.now(),
                    };
                    write_checkpoint(path, &file)?;
                }
            }
            if outcome.sealed_now < BATCH {
                return Ok(total);
            }
        }
    }

    /// Walks the whole chain and checks it against the checkpoint file (if configured and present).
    pub async fn verify_audit(&self) -> AppResult<VerifyOutcome> {
        let checkpoint = match &self.settings.checkpoint_path {
            Some(path) => read_checkpoint(path)?,
            None => None,
        };
        let mut verifier = ChainVerifier::new(checkpoint);
        let mut after = 0;
        'walk: loop {
            let records = self.store.audit_chain(after, 5_000).await?;
            if records.is_empty() {
                break;
            }
            for record in &records {
                if !verifier.push(record) {
                    break 'walk;
                }
                after = record.chain_seq;
            }
        }
        let chain = verifier.finish();
        let unsealed = self.store.unsealed_audit_count().await?;
        let ok = chain.first_bad.is_none();
        Ok(VerifyOutcome {
            chain,
            unsealed,
            checkpoint_seq: checkpoint.map(|c| c.chain_seq),
            ok,
        })
    }

    /// The auditor's list of records.
    pub async fn list_audit(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        page: Page,
    ) -> AppResult<Paged<AuditRecord>> {
        self.require(actor, Permission::ReadAudit).await?;
        Ok(self.store.list_audit(filter, page).await?)
    }

    /// Verification on an auditor's request.
    pub async fn verify_audit_as(&self, actor: &Actor) -> AppResult<VerifyOutcome> {
        self.require(actor, Permission::ReadAudit).await?;
        self.verify_audit().await
    }
}
