//! Where attachment bytes live: on disk by default, behind a trait so object storage can be added.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

use crate::{AppError, AppResult};

/// Stores and fetches attachment bytes by key.
pub trait AttachmentStore: Send + Sync {
    fn put(&self, key: &str, bytes: &[u8]) -> AppResult<()>;
    fn get(&self, key: &str) -> AppResult<Vec<u8>>;
}

/// Files under a directory (the data directory's `attachments/`), written atomically.
pub struct FsAttachmentStore {
    root: PathBuf,
}

impl FsAttachmentStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> AppResult<PathBuf> {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-')
            || key.contains("..")
        {
            return Err(AppError::Internal(format!("bad attachment key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

impl AttachmentStore for FsAttachmentStore {
    fn put(&self, key: &str, bytes: &[u8]) -> AppResult<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::Internal(format!("creating {}: {e}", dir.display())))?;
        }
        let temp = path.with_extension("part");
        std::fs::write(&temp, bytes)
            .map_err(|e| AppError::Internal(format!("writing {}: {e}", temp.display())))?;
        let file = std::fs::File::open(&temp).map_err(|e| AppError::Internal(e.to_string()))?;
        file.sync_all()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        std::fs::rename(&temp, &path)
            .map_err(|e| AppError::Internal(format!("renaming to {}: {e}", path.display())))
    }

    fn get(&self, key: &str) -> AppResult<Vec<u8>> {
        let path = self.path(key)?;
        std::fs::read(&path)
            .map_err(|e| AppError::Internal(format!("reading {}: {e}", path.display())))
    }
}

/// The types an attachment may have, recognised by their first bytes (not by the name the client sent).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"PK\x03\x04") {
        Some("application/zip")
    } else if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        Some("video/mp4")
    } else if starts(b"ID3") || starts(b"\xFF\xFB") || starts(b"\xFF\xF3") {
        Some("audio/mpeg")
    } else {
        None
    }
}

/// The storage key of new content: its hash, fanned out over folders.
pub fn key_for(bytes: &[u8]) -> (String, String) {
    let hash = hex::encode(Sha256::digest(bytes));
    (format!("{}/{}/{}", &hash[..2], &hash[2..4], hash), hash)
}
