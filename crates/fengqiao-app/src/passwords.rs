//! Password hashing with argon2id, kept to a few slots so slow hashes cannot starve other requests.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

use crate::{AppError, AppResult};

/// Runs argon2 on blocking threads, at most `slots` at once; callers wait at most a few seconds for a slot.
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    slots: Arc<Semaphore>,
}

/// A hash of a throwaway password, verified against when the username is unknown so that timing does not
/// tell which usernames exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn dummy_hash() -> String {
    DUMMY_HASH
        .get_or_init(|| {
            Argon2::default()
                .hash_password(b"fengqiao-no-such-user")
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

impl PasswordHashing {
    pub fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit =
            tokio::time::timeout(Duration::from_secs(5), self.slots.clone().acquire_owned())
                .await
                .map_err(|_| AppError::Busy)?
                .map_err(|_| AppError::Busy)?;
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?;
        Ok(result)
    }

    /// Hashes a new password (argon2id, default parameters, random salt).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(format!("hashing: {e}")))
        })
        .await?
    }

    /// Checks a password against a stored hash; `None` checks against a dummy and always fails.
    pub async fn verify(&self, password: String, stored: Option<String>) -> AppResult<bool> {
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(dummy_hash);
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            ok && known
        })
        .await
    }
}

/// Checks a new password's strength (field `password`).
pub fn check_strength(password: &str) -> Result<(), fengqiao_domain::error::FieldError> {
    let length = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if length < 8 || classes < 2 {
        return Err(fengqiao_domain::error::FieldError::new(
            "password",
            "weak",
            "密码至少 8 位，且包含字母、数字、符号中的两类",
            "the password needs at least 8 characters from at least two of letters, digits and symbols",
        ));
    }
    if length > 256 {
        return Err(fengqiao_domain::error::FieldError::new(
            "password",
            "length",
            "密码不能超过 256 位",
            "the password may not exceed 256 characters",
        ));
    }
    Ok(())
}
