//! The values that cross the storage interface: what goes in, what comes out.
//!
//! These are the store's own types; the database rows behind them stay private to the backends.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Which rows a caller may see: rows whose region path starts with one of these prefixes.
/// An empty list sees nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visibility {
    pub path_prefixes: Vec<String>,
}

impl Visibility {
    pub fn nothing() -> Self {
        Self::default()
    }

    pub fn of(prefixes: impl IntoIterator<Item = String>) -> Self {
        Self {
            path_prefixes: prefixes.into_iter().collect(),
        }
    }

    /// Whether a row with this path is visible.
    pub fn sees(&self, path: &str) -> bool {
        self.path_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    }
}

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 50,
        }
    }
}

/// A page of rows and how many there are in all.
#[derive(Debug, Clone, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// An audit record to append inside a use case's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub result: String,
    pub source: String,
    pub detail: serde_json::Value,
}

/// An audit record as listed to an auditor.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub result: String,
    pub source: String,
    pub detail: serde_json::Value,
    pub chain_seq: Option<i64>,
    pub hash: Option<String>,
}

/// Filters for the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    pub object: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The chain head after sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealOutcome {
    pub sealed_now: i64,
    pub head_seq: i64,
    pub head_hash: [u8; 32],
}

/// A region to insert or update.
#[derive(Debug, Clone)]
pub struct NewRegion {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
}

/// A region as stored.
#[derive(sqlx::FromRow, Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RegionRecord {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub path: String,
}

/// Filters for the region list.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    pub parent_code: Option<String>,
    pub level: Option<String>,
    pub name_contains: Option<String>,
}

/// A grid to insert or update.
#[derive(Debug, Clone)]
pub struct NewGrid {
    pub code: String,
    pub village_code: String,
    pub name: String,
    pub kind: String,
    /// GeoJSON geometry (WGS-84) as text.
    pub geometry: String,
}

/// A grid as stored.
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct GridRecord {
    pub code: String,
    pub village_code: String,
    pub name: String,
    pub kind: String,
    pub geometry: String,
    pub path: String,
    pub worker_user_id: Option<i64>,
    pub leader_user_id: Option<i64>,
}

/// Filters for the grid list.
#[derive(Debug, Clone, Default)]
pub struct GridFilter {
    pub region_code: Option<String>,
    pub kind: Option<String>,
}

/// A department to create.
#[derive(Debug, Clone)]
pub struct NewDepartment {
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

/// A department as stored.
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct DepartmentRecord {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub path: String,
}

/// Filters for the department list.
#[derive(Debug, Clone, Default)]
pub struct DepartmentFilter {
    pub region_code: Option<String>,
    pub kind: Option<String>,
}

/// A role and its scope as stored (`role`, canonical scope text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleGrant {
    pub role: String,
    pub scope: String,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub can_unmask: bool,
    pub department_id: Option<i64>,
    pub grid_code: Option<String>,
    pub home_path: String,
    pub roles: Vec<RoleGrant>,
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub can_unmask: bool,
    pub department_id: Option<i64>,
    pub grid_code: Option<String>,
    pub home_path: String,
    pub roles: Vec<RoleGrant>,
}

/// What login needs of a user.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: i64,
    pub password_hash: String,
    pub disabled: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    pub can_unmask: Option<bool>,
    pub password_hash: Option<String>,
    /// Replaces every role grant, with the new home path.
    pub roles: Option<(Vec<RoleGrant>, String)>,
    pub department_id: Option<Option<i64>>,
    pub grid_code: Option<Option<String>>,
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A live session with its user, loaded on every request.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub token_hash: String,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user: UserRecord,
}

/// A resident to create; personal numbers arrive already encrypted, hashed and masked.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub name: String,
    pub id_number: Option<SealedValue>,
    pub phone: Option<SealedValue>,
    pub region_code: String,
    pub address: String,
    pub created_by: Option<i64>,
}

/// A personal number as stored: ciphertext, blind index, and the masked form for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub ciphertext: String,
    pub blind_index: String,
    pub masked: String,
}

/// A resident as stored.
#[derive(Debug, Clone)]
pub struct ResidentRecord {
    pub id: i64,
    pub name: String,
    pub id_number: Option<SealedValue>,
    pub phone: Option<SealedValue>,
    pub region_code: String,
    pub path: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
}

/// Which personal number a lookup uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentKey {
    IdNumber,
    Phone,
}
