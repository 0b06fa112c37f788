//! Roles and the permissions they carry (DESIGN.md, "Roles and what they may do").
//!
//! A user holds one or more roles, each with a data scope; what the role may do is fixed here,
//! where it may do it is the scope's business. Unmasking personal data is a separate, per-user grant.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A role as DESIGN.md names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    SecurityAdmin,
    Auditor,
    IntakeClerk,
    Dispatcher,
    Handler,
    GridWorker,
    GridLeader,
    Mediator,
    Leader,
}

/// Something a role may do. Checked before any data is touched; the scope then limits which data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read regions, grids and departments in scope (every staff role).
    ReadOrganisation,
    /// Configure regions, grids, departments, the catalog and the calendar.
    ConfigureOrganisation,
    /// Create and disable users, grant roles and scopes.
    ManageUsers,
    /// Read the audit trail and the unmask log, and verify the chain.
    ReadAudit,
    /// Look up residents (masked unless the user also holds the unmask grant).
    LookUpResidents,
    /// Register residents and correct their records.
    RegisterResidents,
    /// Register a case (intake).
    RegisterCases,
    /// Accept, reject or handle on the spot.
    AcceptCases,
    /// Dispatch, reassign, rule on returns, approve extensions, review, follow up.
    DispatchCases,
    /// Supervise (督办).
    SuperviseCases,
    /// Claim, handle, return, request extension, escalate, resolve cases sent to one's unit.
    HandleCases,
    /// Report grid events and handle grid matters.
    ReportGridEvents,
    /// Review the grid's work (grid leader).
    ReviewGridWork,
    /// Run mediations of one's committee.
    Mediate,
    /// Receive petitioners, own cases (包案).
    ReceivePetitioners,
    /// Read every figure in scope.
    ReadFigures,
}

impl Role {
    /// Every role, in the order DESIGN.md lists them.
    pub const ALL: [Role; 10] = [
        Role::Admin,
        Role::SecurityAdmin,
        Role::Auditor,
        Role::IntakeClerk,
        Role::Dispatcher,
        Role::Handler,
        Role::GridWorker,
        Role::GridLeader,
        Role::Mediator,
        Role::Leader,
    ];

    /// The role's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SecurityAdmin => "security_admin",
            Role::Auditor => "auditor",
            Role::IntakeClerk => "intake_clerk",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::GridWorker => "grid_worker",
            Role::GridLeader => "grid_leader",
            Role::Mediator => "mediator",
            Role::Leader => "leader",
        }
    }

    /// The role's name as users read it.
    pub fn zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::Auditor => "审计员",
            Role::IntakeClerk => "受理员",
            Role::Dispatcher => "指挥中心值班员",
            Role::Handler => "承办人",
            Role::GridWorker => "网格员",
            Role::GridLeader => "网格长",
            Role::Mediator => "调解员",
            Role::Leader => "领导",
        }
    }

    /// Parses a role name (field `role`).
    pub fn parse(text: &str) -> Result<Role, FieldError> {
        let text = text.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                FieldError::new(
                    "role",
                    "unknown_role",
                    format!("未知角色“{text}”"),
                    format!("unknown role \"{text}\""),
                )
            })
    }

    /// What this role may do.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => &[ReadOrganisation, ConfigureOrganisation],
            Role::SecurityAdmin => &[ReadOrganisation, ManageUsers],
            Role::Auditor => &[ReadAudit],
            Role::IntakeClerk => &[
                ReadOrganisation,
                LookUpResidents,
                RegisterResidents,
                RegisterCases,
                AcceptCases,
            ],
            Role::Dispatcher => &[
                ReadOrganisation,
                LookUpResidents,
                RegisterResidents,
                RegisterCases,
                AcceptCases,
                DispatchCases,
                SuperviseCases,
            ],
            Role::Handler => &[ReadOrganisation, HandleCases],
            Role::GridWorker => &[
                ReadOrganisation,
                LookUpResidents,
                RegisterResidents,
                ReportGridEvents,
                HandleCases,
                Mediate,
            ],
            Role::GridLeader => &[
                ReadOrganisation,
                LookUpResidents,
                RegisterResidents,
                ReportGridEvents,
                HandleCases,
                Mediate,
                ReviewGridWork,
            ],
            Role::Mediator => &[ReadOrganisation, LookUpResidents, Mediate],
            Role::Leader => &[
                ReadOrganisation,
                LookUpResidents,
                ReceivePetitioners,
                SuperviseCases,
                ReadFigures,
            ],
        }
    }

    /// Whether the role carries the permission.
    pub fn may(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("root").map_err(|e| e.code), Err("unknown_role"));
    }

    #[test]
    fn separation_of_duties_holds() {
        // Whoever grants rights cannot read or touch the audit trail, and the auditor does nothing else.
        assert!(!Role::SecurityAdmin.may(Permission::ReadAudit));
        assert!(!Role::Admin.may(Permission::ManageUsers));
        assert!(!Role::Admin.may(Permission::ReadAudit));
        assert_eq!(Role::Auditor.permissions(), &[Permission::ReadAudit]);
        assert!(!Role::SecurityAdmin.may(Permission::HandleCases));
        assert!(!Role::SecurityAdmin.may(Permission::RegisterCases));
    }

    #[test]
    fn the_dispatcher_may_do_everything_the_clerk_may() {
        for permission in Role::IntakeClerk.permissions() {
            assert!(Role::Dispatcher.may(*permission), "{permission:?}");
        }
    }
}
