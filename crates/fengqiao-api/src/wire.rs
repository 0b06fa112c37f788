//! The JSON shapes of the API (wire types), kept apart from the store's records.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use fengqiao_app::residents::ResidentView;
use fengqiao_store::{
    AuditRecord, DepartmentRecord, GridRecord, Page, RegionRecord, RoleGrant, UserRecord,
};

/// Paging: `page` from 1, `per_page` up to 200 (default 50).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl Paging {
    pub fn page(&self) -> Page {
        let limit = self.per_page.unwrap_or(50).clamp(1, 200);
        let page = self.page.unwrap_or(1).max(1);
        Page {
            offset: (page - 1).saturating_mul(limit),
            limit,
        }
    }
}

/// A page of items and the total count in scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
}

pub fn paged<R, T: ToSchema>(page: fengqiao_store::Paged<R>, f: impl Fn(R) -> T) -> Paged<T> {
    Paged {
        items: page.items.into_iter().map(f).collect(),
        total: page.total,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionOut {
    /// Statistical code (2/4/6/9/12 digits) or an in-between level's code (`370883107-A1`).
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// province, city, county, town, area, village
    pub level: String,
}

impl From<RegionRecord> for RegionOut {
    fn from(r: RegionRecord) -> Self {
        Self {
            code: r.code,
            name: r.name,
            parent_code: r.parent_code,
            level: r.level,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridOut {
    /// The village's 12-digit code plus a 3-digit number.
    pub code: String,
    pub village_code: String,
    pub name: String,
    /// basic 基础网格 or dedicated 专属网格
    pub kind: String,
    /// GeoJSON geometry (WGS-84).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub worker_user_id: Option<i64>,
    pub leader_user_id: Option<i64>,
}

impl From<GridRecord> for GridOut {
    fn from(g: GridRecord) -> Self {
        Self {
            geometry: serde_json::from_str(&g.geometry).unwrap_or(serde_json::Value::Null),
            code: g.code,
            village_code: g.village_code,
            name: g.name,
            kind: g.kind,
            worker_user_id: g.worker_user_id,
            leader_user_id: g.leader_user_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentOut {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

impl From<DepartmentRecord> for DepartmentOut {
    fn from(d: DepartmentRecord) -> Self {
        Self {
            id: d.id,
            name: d.name,
            kind: d.kind,
            region_code: d.region_code,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct GrantOut {
    /// admin, security_admin, auditor, intake_clerk, dispatcher, handler, grid_worker, grid_leader, mediator, leader
    pub role: String,
    /// `region:CODE`, `grid:CODE`, `dept:ID` or `committee:ID`
    pub scope: String,
}

impl From<RoleGrant> for GrantOut {
    fn from(g: RoleGrant) -> Self {
        Self {
            role: g.role,
            scope: g.scope,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    /// May see personal data unmasked (every unmask is recorded).
    pub can_unmask: bool,
    pub department_id: Option<i64>,
    pub grid_code: Option<String>,
    pub roles: Vec<GrantOut>,
}

impl From<UserRecord> for UserOut {
    fn from(u: UserRecord) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
            can_unmask: u.can_unmask,
            department_id: u.department_id,
            grid_code: u.grid_code,
            roles: u.roles.into_iter().map(GrantOut::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentOut {
    pub id: i64,
    pub name: String,
    /// Masked (`370883********1234`) unless this is an unmask response.
    pub id_number: Option<String>,
    /// Masked (`138****5678`) unless this is an unmask response.
    pub phone: Option<String>,
    pub region_code: String,
    pub address: String,
    pub masked: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ResidentView> for ResidentOut {
    fn from(r: ResidentView) -> Self {
        Self {
            id: r.id,
            name: r.name,
            id_number: r.id_number,
            phone: r.phone,
            region_code: r.region_code,
            address: r.address,
            masked: r.masked,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub result: String,
    pub source: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Position in the hash chain; null until sealed.
    pub chain_seq: Option<i64>,
    pub hash: Option<String>,
}

impl From<AuditRecord> for AuditOut {
    fn from(a: AuditRecord) -> Self {
        Self {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            object: a.object,
            result: a.result,
            source: a.source,
            detail: a.detail,
            chain_seq: a.chain_seq,
            hash: a.hash,
        }
    }
}

/// A unit's place on a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseUnitOut {
    /// `dept:ID` or `grid:CODE`
    pub unit_key: String,
    /// `lead` (主办) or `assist` (协办)
    pub role: String,
    /// What an assisting unit recorded of its part.
    pub part: Option<String>,
}

/// A party to a case; numbers masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyOut {
    pub role: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// A case as staff see it. Personal numbers are masked, also inside free text.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseOut {
    pub id: i64,
    /// `370883107-20261123-0001`: owning town, local date, sequence.
    pub number: String,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    /// registered, accepted, dispatched, in_progress, returned, resolved, awaiting_follow_up, closed, archived, rejected, merged
    pub status: String,
    pub category: Option<String>,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// in_grid, outside_all_grids or none (no point given)
    pub placement: String,
    pub grid_code: Option<String>,
    /// The basic grid around a dedicated grid.
    pub basic_grid_code: Option<String>,
    pub region_code: String,
    /// The center (region) that owns the case now; moves on escalation and delegation.
    pub owner_region: String,
    pub lead_unit: Option<String>,
    pub units: Vec<CaseUnitOut>,
    pub claimed_by: Option<i64>,
    pub leader_owner: Option<i64>,
    pub response_due: Option<chrono::DateTime<chrono::Utc>>,
    pub handling_due: Option<chrono::DateTime<chrono::Utc>>,
    pub follow_up_due: Option<chrono::DateTime<chrono::Utc>>,
    /// Feedback to a visitor is due (2 working days after a walk-in), until given.
    pub feedback_due: Option<chrono::DateTime<chrono::Utc>>,
    /// The handling clock stands still, waiting on the citizen.
    pub clock_paused: bool,
    /// A deadline rests on a year whose holiday notice is not yet published.
    pub deadline_provisional: bool,
    /// none, yellow (due soon) or red (overdue)
    pub warning: String,
    #[schema(value_type = Option<Object>)]
    pub pending_extension: Option<serde_json::Value>,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub satisfaction: Option<String>,
    pub parties: Vec<PartyOut>,
    /// Send back as `expected_version` to act only on what you saw.
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<fengqiao_app::cases::CaseView> for CaseOut {
    fn from(c: fengqiao_app::cases::CaseView) -> Self {
        Self {
            id: c.id,
            number: c.number,
            kind: c.kind,
            channel: c.channel,
            urgency: c.urgency,
            status: c.status,
            category: c.category,
            title: c.title,
            description: c.description,
            tags: c.tags,
            address: c.address,
            lng: c.lng,
            lat: c.lat,
            placement: c.placement,
            grid_code: c.grid_code,
            basic_grid_code: c.basic_grid_code,
            region_code: c.region_code,
            owner_region: c.owner_region,
            lead_unit: c.lead_unit,
            units: c
                .units
                .into_iter()
                .map(|u| CaseUnitOut {
                    unit_key: u.unit_key,
                    role: u.role,
                    part: u.part,
                })
                .collect(),
            claimed_by: c.claimed_by,
            leader_owner: c.leader_owner,
            response_due: c.response_due,
            handling_due: c.handling_due,
            follow_up_due: c.follow_up_due,
            feedback_due: c.feedback_due,
            clock_paused: c.clock_paused,
            deadline_provisional: c.deadline_provisional,
            warning: c.warning,
            pending_extension: c.pending_extension,
            reopen_count: c.reopen_count,
            merged_into: c.merged_into,
            satisfaction: c.satisfaction,
            parties: c
                .parties
                .into_iter()
                .map(|p| PartyOut {
                    role: p.role,
                    name: p.name,
                    phone: p.phone,
                    id_number: p.id_number,
                })
                .collect(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
