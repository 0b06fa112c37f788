//! The case (诉求/事件/工单) and its lifecycle: a pure state machine.
//!
//! `Case::apply(command, actor, now, rules)` either refuses the command with a [`CaseError`] (illegal for
//! the state, or not the actor's to give) or returns the next case and exactly one [`CaseEvent`] for the
//! timeline. Time, the actor and the deadline rules are parameters; nothing here reads a clock or a database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Permission, Role};
use crate::codes::{GridCode, RegionCode};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal / $zh:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name as users read it.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses the API/database name.
            pub fn parse(text: &str) -> Option<$name> {
                match text.trim() { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(
    /// What kind of matter a case is.
    CaseKind {
        Request = "request" / "求助/投诉/咨询/建议",
        Dispute = "dispute" / "矛盾纠纷",
        Petition = "petition" / "信访",
        GridEvent = "grid_event" / "网格事件",
        Alarm = "alarm" / "告警",
    }
);

text_enum!(
    /// How a case came in.
    Channel {
        WalkIn = "walk_in" / "来访",
        Phone = "phone" / "来电",
        Letter = "letter" / "来信",
        Hotline12345 = "hotline_12345" / "12345热线",
        SelfService = "self_service" / "扫码/网上自助",
        GridReport = "grid_report" / "网格员上报",
        VideoPatrol = "video_patrol" / "视频巡查",
        OtherPlatform = "other_platform" / "其他平台",
        DeviceAlarm = "device_alarm" / "设备告警",
    }
);

text_enum!(
    /// How urgent a case is.
    Urgency {
        Normal = "normal" / "一般",
        Urgent = "urgent" / "紧急",
        Critical = "critical" / "特急",
    }
);

text_enum!(
    /// Where a case stands.
    Status {
        Registered = "registered" / "已登记",
        Accepted = "accepted" / "已受理待分派",
        Dispatched = "dispatched" / "已派单待签收",
        InProgress = "in_progress" / "办理中",
        Returned = "returned" / "已退回",
        Resolved = "resolved" / "已办结待审核",
        AwaitingFollowUp = "awaiting_follow_up" / "待回访",
        Closed = "closed" / "已回访",
        Archived = "archived" / "已归档",
        Rejected = "rejected" / "不予受理",
        Merged = "merged" / "已合并",
    }
);

text_enum!(
    /// The citizen's answer at follow-up.
    FollowUpOutcome {
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Dissatisfied = "dissatisfied" / "不满意",
        Unreachable = "unreachable" / "联系不上",
        Declined = "declined" / "拒绝回访",
    }
);

impl Status {
    /// Closed, archived, rejected and merged cases change only by being reopened (or archived).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Closed | Status::Archived | Status::Rejected | Status::Merged
        )
    }

    /// Statuses in which a case is still being worked.
    pub fn is_open(self) -> bool {
        !self.is_final()
    }
}

/// A unit that handles a case: a department or a grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Unit {
    Department(i64),
    Grid(GridCode),
}

impl Unit {
    /// `dept:ID` or `grid:CODE`.
    pub fn key(&self) -> String {
        match self {
            Unit::Department(id) => format!("dept:{id}"),
            Unit::Grid(code) => format!("grid:{code}"),
        }
    }

    /// Parses `dept:ID` or `grid:CODE`.
    pub fn parse(text: &str) -> Option<Unit> {
        let (kind, rest) = text.trim().split_once(':')?;
        match kind {
            "dept" => rest.parse().ok().filter(|id| *id > 0).map(Unit::Department),
            "grid" => GridCode::parse(rest).ok().map(Unit::Grid),
            _ => None,
        }
    }
}

/// A time limit as the matter catalog states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum Limit {
    WorkingDays(u32),
    WorkingHours(u32),
    CalendarDays(u32),
}

/// A computed deadline and whether it rests on a provisional (unpublished) calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineAt {
    pub at: DateTime<Utc>,
    pub provisional: bool,
}

/// Computes deadlines on the working calendar (implemented over the official calendar elsewhere).
pub trait DeadlineRules {
    /// The deadline `limit` after `start`.
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DeadlineAt;

    /// Working days that passed between two instants (a paused clock adds them back). The default counts
    /// calendar days; the official calendar counts working days.
    fn elapsed_working_days(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        u32::try_from((to - from).num_days().max(0)).unwrap_or(u32::MAX)
    }
}

/// The limits that govern a case, from its category in the matter catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseLimits {
    /// Claim within this after dispatch (响应).
    pub response: Limit,
    /// Resolve within this after acceptance (办理).
    pub handling: Limit,
    /// Follow up within this after the resolution is approved (回访).
    pub follow_up: Limit,
    /// Whether waiting on the citizen may pause the handling clock.
    #[serde(default)]
    pub pausable: bool,
}

impl Default for CaseLimits {
    fn default() -> Self {
        Self {
            response: Limit::WorkingHours(4),
            handling: Limit::WorkingDays(5),
            follow_up: Limit::WorkingDays(3),
            pausable: false,
        }
    }
}

/// The case's clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deadlines {
    pub response: Option<DeadlineAt>,
    pub handling: Option<DeadlineAt>,
    pub follow_up: Option<DeadlineAt>,
    /// Feedback to the citizen after a visit (2 working days), until given.
    #[serde(default)]
    pub feedback: Option<DeadlineAt>,
}

impl Deadlines {
    /// Whether any current deadline rests on a provisional calendar year.
    pub fn provisional(&self) -> bool {
        [self.response, self.handling, self.follow_up, self.feedback]
            .iter()
            .flatten()
            .any(|d| d.provisional)
    }
}

/// An assisting unit of a joint handling (联办) and its recorded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assist {
    pub unit: Unit,
    pub part: Option<String>,
}

/// A pending request to extend the handling deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub working_days: u32,
    pub reason: String,
    pub requested_by: i64,
}

/// The state of a case that the lifecycle governs (the store keeps the rest: parties, text, location …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub status: Status,
    pub kind: CaseKind,
    pub category: Option<String>,
    /// The region of the center that owns the case now (moves on escalation and delegation).
    pub owner_region: RegionCode,
    pub lead: Option<Unit>,
    pub assisting: Vec<Assist>,
    /// The handler who claimed it for the lead unit.
    pub claimed_by: Option<i64>,
    pub pending_extension: Option<ExtensionRequest>,
    pub deadlines: Deadlines,
    pub limits: CaseLimits,
    pub leader_owner: Option<i64>,
    pub follow_up: Option<FollowUpOutcome>,
    pub reopen_count: u32,
    pub merged_into: Option<String>,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the handling clock started (acceptance, or the last reopening).
    pub handling_started_at: Option<DateTime<Utc>>,
    /// Working days added to the handling deadline by approved extensions since it started.
    pub extended_working_days: u32,
    /// When the resolution was approved (the follow-up clock's start).
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Since when the handling clock is paused, waiting on the citizen.
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
}

/// How the center rules on a return (退回).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ReturnRuling {
    /// The return stands: send the case to another unit.
    Redispatch { lead: Unit, assisting: Vec<Unit> },
    /// The return is refused: the same unit must handle it.
    Uphold,
}

/// Something someone asks of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// 受理, naming (or confirming) the category and the limits it brings.
    Accept {
        category: String,
        limits: CaseLimits,
    },
    /// 不予受理, with the one-time notice of what is missing (一次性告知).
    Reject {
        reason: String,
        missing: Vec<String>,
    },
    /// 即办即结 at the window.
    HandleOnSpot {
        result: String,
    },
    Dispatch {
        lead: Unit,
        assisting: Vec<Unit>,
    },
    Claim,
    Return {
        reason: String,
    },
    RuleOnReturn {
        ruling: ReturnRuling,
        note: String,
    },
    Reassign {
        lead: Unit,
        assisting: Vec<Unit>,
        reason: String,
    },
    RequestExtension {
        working_days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        note: String,
    },
    /// 上报 to a center above.
    Escalate {
        to_region: RegionCode,
        reason: String,
    },
    /// Hand down to a center below.
    Delegate {
        to_region: RegionCode,
        reason: String,
    },
    RecordAssistPart {
        unit: Unit,
        part: String,
    },
    Resolve {
        result: String,
    },
    ApproveReview,
    SendBack {
        reason: String,
    },
    FollowUp {
        outcome: FollowUpOutcome,
        note: String,
    },
    Reopen {
        reason: String,
    },
    Archive,
    /// 督办: a supervision order with its own deadline.
    Supervise {
        due: DateTime<Utc>,
        note: String,
    },
    /// 领导包案.
    AssignLeader {
        leader_user_id: i64,
    },
    AddNote {
        text: String,
    },
    ChangeCategory {
        category: String,
        reason: String,
    },
    MergeInto {
        target_number: String,
    },
    /// Pauses the handling clock while waiting on the citizen (only where the category allows).
    PauseClock {
        reason: String,
    },
    /// Restarts the handling clock; the deadline moves by the working days it stood still.
    ResumeClock {
        note: String,
    },
    /// Records the feedback given to the citizen after a visit (来访 2 个工作日内反馈).
    GiveFeedback {
        note: String,
    },
}

impl Command {
    /// The timeline event's name for this command.
    pub fn event_name(&self) -> &'static str {
        match self {
            Command::Accept { .. } => "accepted",
            Command::Reject { .. } => "rejected",
            Command::HandleOnSpot { .. } => "handled_on_spot",
            Command::Dispatch { .. } => "dispatched",
            Command::Claim => "claimed",
            Command::Return { .. } => "returned",
            Command::RuleOnReturn { .. } => "return_ruled",
            Command::Reassign { .. } => "reassigned",
            Command::RequestExtension { .. } => "extension_requested",
            Command::DecideExtension { approve: true, .. } => "extension_approved",
            Command::DecideExtension { approve: false, .. } => "extension_denied",
            Command::Escalate { .. } => "escalated",
            Command::Delegate { .. } => "delegated",
            Command::RecordAssistPart { .. } => "assist_part_recorded",
            Command::Resolve { .. } => "resolved",
            Command::ApproveReview => "review_approved",
            Command::SendBack { .. } => "sent_back",
            Command::FollowUp { .. } => "followed_up",
            Command::Reopen { .. } => "reopened",
            Command::Archive => "archived",
            Command::Supervise { .. } => "supervised",
            Command::AssignLeader { .. } => "leader_assigned",
            Command::AddNote { .. } => "note_added",
            Command::ChangeCategory { .. } => "category_changed",
            Command::MergeInto { .. } => "merged",
            Command::PauseClock { .. } => "clock_paused",
            Command::ResumeClock { .. } => "clock_resumed",
            Command::GiveFeedback { .. } => "feedback_given",
        }
    }
}

/// Who is acting, as the lifecycle needs to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseActor {
    pub user_id: i64,
    pub roles: Vec<Role>,
    /// The units the actor acts for (from `dept:` and `grid:` scopes).
    pub units: Vec<Unit>,
}

impl CaseActor {
    fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| r.may(permission))
    }

    fn acts_for(&self, unit: &Unit) -> bool {
        self.units.contains(unit)
    }
}

/// One entry of the case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseEvent {
    pub name: &'static str,
    pub from: Status,
    pub to: Status,
    pub actor_user_id: i64,
    pub at: DateTime<Utc>,
    /// The command as given (its reason, result, note …).
    pub detail: serde_json::Value,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The command is not allowed in this state.
    #[error("cannot {action} a case that is {status:?}")]
    IllegalInState {
        action: &'static str,
        status: Status,
    },
    /// The actor's roles do not allow it, or the case is not their unit's.
    #[error("{action} is not allowed for this actor: {why}")]
    NotAllowed {
        action: &'static str,
        why: &'static str,
    },
    /// A field of the command is unusable.
    #[error("{field}: {why}")]
    Invalid {
        field: &'static str,
        why: &'static str,
    },
}

impl CaseError {
    /// A message in Chinese for the UI.
    pub fn message_zh(&self) -> String {
        match self {
            CaseError::IllegalInState { action, status } => {
                format!(
                    "案件当前状态为“{}”，不能执行“{}”",
                    status.zh(),
                    action_zh(action)
                )
            }
            CaseError::NotAllowed { action, why } => {
                format!("无权执行“{}”：{}", action_zh(action), why_zh(why))
            }
            CaseError::Invalid { field, why } => format!("{field}：{}", why_zh(why)),
        }
    }
}

fn action_zh(action: &str) -> &'static str {
    match action {
        "accepted" => "受理",
        "rejected" => "不予受理",
        "handled_on_spot" => "即办即结",
        "dispatched" => "派单",
        "claimed" => "签收",
        "returned" => "退回",
        "return_ruled" => "退回裁定",
        "reassigned" => "改派",
        "extension_requested" => "申请延期",
        "extension_approved" | "extension_denied" => "审批延期",
        "escalated" => "上报",
        "delegated" => "下派",
        "assist_part_recorded" => "记录协办情况",
        "resolved" => "办结",
        "review_approved" => "审核通过",
        "sent_back" => "审核退回",
        "followed_up" => "回访",
        "reopened" => "重办",
        "archived" => "归档",
        "supervised" => "督办",
        "leader_assigned" => "领导包案",
        "note_added" => "添加备注",
        "category_changed" => "变更类别",
        "clock_paused" => "暂停计时",
        "clock_resumed" => "恢复计时",
        "feedback_given" => "反馈群众",
        "merged" => "合并",
        _ => "操作",
    }
}

fn why_zh(why: &str) -> &'static str {
    match why {
        "role" => "角色不具备此项权限",
        "not_your_unit" => "案件不属于本单位",
        "not_claimed_by_you" => "案件由他人签收办理",
        "required" => "不能为空",
        "too_long" => "过长",
        "extension_pending" => "已有待审批的延期申请",
        "no_extension_pending" => "没有待审批的延期申请",
        "not_above" => "只能逐级上报到直接上级",
        "not_below" => "只能下派到下级区划",
        "same_unit" => "主办与协办单位不能相同",
        "duplicate_unit" => "协办单位重复",
        "not_pausable" => "该类事项不允许暂停计时",
        "already_paused" => "计时已暂停",
        "not_paused" => "计时未暂停",
        "no_feedback_due" => "无需反馈或已反馈",
        "not_assisting" => "该单位不是协办单位",
        "self" => "不能合并到自身",
        "range" => "超出允许范围",
        "past" => "不能早于当前时间",
        _ => "不允许",
    }
}

fn text(field: &'static str, value: &str, max: usize) -> Result<(), CaseError> {
    let n = value.trim().chars().count();
    if n == 0 {
        return Err(CaseError::Invalid {
            field,
            why: "required",
        });
    }
    if n > max {
        return Err(CaseError::Invalid {
            field,
            why: "too_long",
        });
    }
    Ok(())
}

fn check_units(lead: &Unit, assisting: &[Unit]) -> Result<(), CaseError> {
    if assisting.contains(lead) {
        return Err(CaseError::Invalid {
            field: "assisting",
            why: "same_unit",
        });
    }
    if assisting.len() > 20 {
        return Err(CaseError::Invalid {
            field: "assisting",
            why: "range",
        });
    }
    if assisting
        .iter()
        .enumerate()
        .any(|(i, unit)| assisting[..i].contains(unit))
    {
        return Err(CaseError::Invalid {
            field: "assisting",
            why: "duplicate_unit",
        });
    }
    Ok(())
}

impl Case {
    /// A newly registered case.
    pub fn register(
        kind: CaseKind,
        category: Option<String>,
        owner_region: RegionCode,
        now: DateTime<Utc>,
    ) -> Case {
        Case {
            status: Status::Registered,
            kind,
            category,
            owner_region,
            lead: None,
            assisting: Vec::new(),
            claimed_by: None,
            pending_extension: None,
            deadlines: Deadlines::default(),
            limits: CaseLimits::default(),
            leader_owner: None,
            follow_up: None,
            reopen_count: 0,
            merged_into: None,
            created_at: now,
            accepted_at: None,
            dispatched_at: None,
            claimed_at: None,
            resolved_at: None,
            closed_at: None,
            handling_started_at: None,
            extended_working_days: 0,
            reviewed_at: None,
            paused_at: None,
        }
    }

    /// Recomputes every running deadline from its start (after a calendar notice is imported, so
    /// provisional deadlines become final).
    pub fn recompute_deadlines(&self, rules: &dyn DeadlineRules) -> Deadlines {
        let mut deadlines = self.deadlines;
        if let (Some(_), Some(start)) = (self.deadlines.handling, self.handling_started_at) {
            let base = rules.deadline(start, self.limits.handling);
            deadlines.handling = Some(if self.extended_working_days > 0 {
                let extended =
                    rules.deadline(base.at, Limit::WorkingDays(self.extended_working_days));
                DeadlineAt {
                    at: extended.at,
                    provisional: base.provisional || extended.provisional,
                }
            } else {
                base
            });
        }
        if let (Some(_), Some(start)) = (self.deadlines.response, self.dispatched_at) {
            deadlines.response = Some(rules.deadline(start, self.limits.response));
        }
        if let (Some(_), Some(start)) = (
            self.deadlines.follow_up,
            self.reviewed_at.or(self.resolved_at),
        ) {
            deadlines.follow_up = Some(rules.deadline(start, self.limits.follow_up));
        }
        deadlines
    }

    /// Applies a command: the next case and its one timeline event, or why not.
    pub fn apply(
        &self,
        command: &Command,
        actor: &CaseActor,
        now: DateTime<Utc>,
        rules: &dyn DeadlineRules,
    ) -> Result<(Case, CaseEvent), CaseError> {
        let action = command.event_name();
        let need = |permission: Permission| -> Result<(), CaseError> {
            if actor.may(permission) {
                Ok(())
            } else {
                Err(CaseError::NotAllowed {
                    action,
                    why: "role",
                })
            }
        };
        let in_state = |allowed: &[Status]| -> Result<(), CaseError> {
            if allowed.contains(&self.status) {
                Ok(())
            } else {
                Err(CaseError::IllegalInState {
                    action,
                    status: self.status,
                })
            }
        };
        let lead_handler = || -> Result<(), CaseError> {
            need(Permission::HandleCases)?;
            match &self.lead {
                Some(unit) if actor.acts_for(unit) => Ok(()),
                _ => Err(CaseError::NotAllowed {
                    action,
                    why: "not_your_unit",
                }),
            }
        };
        // Once claimed, the claimant carries the case: colleagues of the unit may not act in their
        // stead (the center reassigns if the claimant is away).
        let claimant = || -> Result<(), CaseError> {
            lead_handler()?;
            match self.claimed_by {
                Some(user) if user != actor.user_id => Err(CaseError::NotAllowed {
                    action,
                    why: "not_claimed_by_you",
                }),
                _ => Ok(()),
            }
        };
        let mut next = self.clone();
        match command {
            Command::Accept { category, limits } => {
                need(Permission::AcceptCases)?;
                in_state(&[Status::Registered])?;
                text("category", category, 64)?;
                next.category = Some(category.trim().to_string());
                next.limits = *limits;
                next.status = Status::Accepted;
                next.accepted_at = Some(now);
                next.handling_started_at = Some(now);
                next.extended_working_days = 0;
                next.deadlines.handling = Some(rules.deadline(now, limits.handling));
            }
            Command::Reject { reason, missing } => {
                need(Permission::AcceptCases)?;
                in_state(&[Status::Registered])?;
                text("reason", reason, 500)?;
                if missing.len() > 30 || missing.iter().any(|m| m.chars().count() > 200) {
                    return Err(CaseError::Invalid {
                        field: "missing",
                        why: "too_long",
                    });
                }
                next.status = Status::Rejected;
                next.closed_at = Some(now);
                next.deadlines = Deadlines::default();
            }
            Command::HandleOnSpot { result } => {
                need(Permission::AcceptCases)?;
                in_state(&[Status::Accepted])?;
                text("result", result, 2000)?;
                next.status = Status::AwaitingFollowUp;
                next.resolved_at = Some(now);
                next.reviewed_at = Some(now);
                next.deadlines.follow_up = Some(rules.deadline(now, self.limits.follow_up));
            }
            Command::Dispatch { lead, assisting } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Accepted])?;
                check_units(lead, assisting)?;
                next.lead = Some(lead.clone());
                next.assisting = assisting
                    .iter()
                    .map(|u| Assist {
                        unit: u.clone(),
                        part: None,
                    })
                    .collect();
                next.status = Status::Dispatched;
                next.claimed_by = None;
                next.dispatched_at = Some(now);
                next.deadlines.response = Some(rules.deadline(now, self.limits.response));
            }
            Command::Claim => {
                lead_handler()?;
                in_state(&[Status::Dispatched])?;
                next.status = Status::InProgress;
                next.claimed_by = Some(actor.user_id);
                next.claimed_at = Some(now);
            }
            Command::Return { reason } => {
                in_state(&[Status::Dispatched, Status::InProgress])?;
                claimant()?;
                text("reason", reason, 500)?;
                next.status = Status::Returned;
                next.claimed_by = None;
                next.pending_extension = None;
            }
            Command::RuleOnReturn { ruling, note } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Returned])?;
                text("note", note, 500)?;
                if let ReturnRuling::Redispatch { lead, assisting } = ruling {
                    check_units(lead, assisting)?;
                    next.lead = Some(lead.clone());
                    next.assisting = assisting
                        .iter()
                        .map(|u| Assist {
                            unit: u.clone(),
                            part: None,
                        })
                        .collect();
                }
                next.status = Status::Dispatched;
                next.dispatched_at = Some(now);
                next.deadlines.response = Some(rules.deadline(now, self.limits.response));
            }
            Command::Reassign {
                lead,
                assisting,
                reason,
            } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Dispatched, Status::InProgress, Status::Returned])?;
                check_units(lead, assisting)?;
                text("reason", reason, 500)?;
                next.lead = Some(lead.clone());
                next.assisting = assisting
                    .iter()
                    .map(|u| Assist {
                        unit: u.clone(),
                        part: None,
                    })
                    .collect();
                next.status = Status::Dispatched;
                next.claimed_by = None;
                next.pending_extension = None;
                next.dispatched_at = Some(now);
                next.deadlines.response = Some(rules.deadline(now, self.limits.response));
            }
            Command::RequestExtension {
                working_days,
                reason,
            } => {
                in_state(&[Status::InProgress])?;
                claimant()?;
                text("reason", reason, 500)?;
                if !(1..=60).contains(working_days) {
                    return Err(CaseError::Invalid {
                        field: "working_days",
                        why: "range",
                    });
                }
                if self.pending_extension.is_some() {
                    return Err(CaseError::Invalid {
                        field: "working_days",
                        why: "extension_pending",
                    });
                }
                next.pending_extension = Some(ExtensionRequest {
                    working_days: *working_days,
                    reason: reason.trim().to_string(),
                    requested_by: actor.user_id,
                });
            }
            Command::DecideExtension { approve, note } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::InProgress])?;
                let Some(request) = &self.pending_extension else {
                    return Err(CaseError::Invalid {
                        field: "approve",
                        why: "no_extension_pending",
                    });
                };
                if !note.is_empty() {
                    text("note", note, 500)?;
                }
                if *approve {
                    let base = self.deadlines.handling.map(|d| d.at).unwrap_or(now);
                    let extended = rules.deadline(base, Limit::WorkingDays(request.working_days));
                    let provisional = extended.provisional
                        || self.deadlines.handling.is_some_and(|d| d.provisional);
                    next.deadlines.handling = Some(DeadlineAt {
                        at: extended.at,
                        provisional,
                    });
                    next.extended_working_days += request.working_days;
                }
                next.pending_extension = None;
            }
            Command::Escalate { to_region, reason } => {
                text("reason", reason, 500)?;
                match self.status {
                    Status::InProgress | Status::Dispatched => claimant()?,
                    Status::Accepted | Status::Returned => need(Permission::DispatchCases)?,
                    _ => in_state(&[
                        Status::Accepted,
                        Status::Returned,
                        Status::Dispatched,
                        Status::InProgress,
                    ])?,
                }
                // Level by level: only to the center directly above.
                if self.owner_region.parent_statistical().as_ref() != Some(to_region) {
                    return Err(CaseError::Invalid {
                        field: "to_region",
                        why: "not_above",
                    });
                }
                next.owner_region = to_region.clone();
                next.status = Status::Accepted;
                next.lead = None;
                next.assisting = Vec::new();
                next.claimed_by = None;
                next.pending_extension = None;
                next.deadlines.response = None;
            }
            Command::Delegate { to_region, reason } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Accepted])?;
                text("reason", reason, 500)?;
                if to_region == &self.owner_region || !self.owner_region.is_ancestor_of(to_region) {
                    return Err(CaseError::Invalid {
                        field: "to_region",
                        why: "not_below",
                    });
                }
                next.owner_region = to_region.clone();
            }
            Command::RecordAssistPart { unit, part } => {
                need(Permission::HandleCases)?;
                in_state(&[Status::Dispatched, Status::InProgress])?;
                if !actor.acts_for(unit) {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "not_your_unit",
                    });
                }
                text("part", part, 2000)?;
                let Some(assist) = next.assisting.iter_mut().find(|a| &a.unit == unit) else {
                    return Err(CaseError::Invalid {
                        field: "unit",
                        why: "not_assisting",
                    });
                };
                assist.part = Some(part.trim().to_string());
            }
            Command::Resolve { result } => {
                in_state(&[Status::InProgress])?;
                claimant()?;
                text("result", result, 4000)?;
                next.status = Status::Resolved;
                next.resolved_at = Some(now);
                next.pending_extension = None;
            }
            Command::ApproveReview => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Resolved])?;
                next.status = Status::AwaitingFollowUp;
                next.reviewed_at = Some(now);
                next.deadlines.follow_up = Some(rules.deadline(now, self.limits.follow_up));
            }
            Command::SendBack { reason } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Resolved])?;
                text("reason", reason, 500)?;
                next.status = Status::InProgress;
                next.resolved_at = None;
            }
            Command::FollowUp { outcome, note } => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::AwaitingFollowUp])?;
                if note.chars().count() > 2000 {
                    return Err(CaseError::Invalid {
                        field: "note",
                        why: "too_long",
                    });
                }
                next.follow_up = Some(*outcome);
                next.status = Status::Closed;
                next.closed_at = Some(now);
            }
            Command::Reopen { reason } => {
                if !(actor.may(Permission::DispatchCases) || actor.may(Permission::SuperviseCases))
                {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "role",
                    });
                }
                in_state(&[Status::Closed, Status::Archived, Status::AwaitingFollowUp])?;
                text("reason", reason, 500)?;
                next.status = Status::Accepted;
                next.reopen_count += 1;
                next.resolved_at = None;
                next.closed_at = None;
                next.follow_up = None;
                next.lead = None;
                next.assisting = Vec::new();
                next.claimed_by = None;
                next.reviewed_at = None;
                next.handling_started_at = Some(now);
                next.extended_working_days = 0;
                next.deadlines = Deadlines {
                    handling: Some(rules.deadline(now, self.limits.handling)),
                    // Feedback still owed to a visitor stays owed.
                    feedback: self.deadlines.feedback,
                    ..Deadlines::default()
                };
            }
            Command::Archive => {
                need(Permission::DispatchCases)?;
                in_state(&[Status::Closed])?;
                next.status = Status::Archived;
            }
            Command::Supervise { due, note } => {
                need(Permission::SuperviseCases)?;
                if self.status.is_final() {
                    return Err(CaseError::IllegalInState {
                        action,
                        status: self.status,
                    });
                }
                text("note", note, 2000)?;
                if *due <= now {
                    return Err(CaseError::Invalid {
                        field: "due",
                        why: "past",
                    });
                }
            }
            Command::AssignLeader { leader_user_id } => {
                if !(actor.may(Permission::SuperviseCases)
                    || actor.may(Permission::ReceivePetitioners))
                {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "role",
                    });
                }
                if self.status.is_final() {
                    return Err(CaseError::IllegalInState {
                        action,
                        status: self.status,
                    });
                }
                next.leader_owner = Some(*leader_user_id);
            }
            Command::AddNote { text: note } => {
                let involved = actor.may(Permission::AcceptCases)
                    || actor.may(Permission::DispatchCases)
                    || actor.may(Permission::SuperviseCases)
                    || (actor.may(Permission::HandleCases)
                        && (self.lead.as_ref().is_some_and(|u| actor.acts_for(u))
                            || self.assisting.iter().any(|a| actor.acts_for(&a.unit))));
                if !involved {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "not_your_unit",
                    });
                }
                if self.status.is_final() {
                    return Err(CaseError::IllegalInState {
                        action,
                        status: self.status,
                    });
                }
                text("text", note, 4000)?;
            }
            Command::ChangeCategory { category, reason } => {
                if !(actor.may(Permission::DispatchCases) || actor.may(Permission::AcceptCases)) {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "role",
                    });
                }
                in_state(&[
                    Status::Accepted,
                    Status::Dispatched,
                    Status::InProgress,
                    Status::Returned,
                    Status::Resolved,
                ])?;
                text("category", category, 64)?;
                text("reason", reason, 500)?;
                next.category = Some(category.trim().to_string());
            }
            Command::MergeInto { target_number } => {
                if !(actor.may(Permission::DispatchCases) || actor.may(Permission::AcceptCases)) {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "role",
                    });
                }
                in_state(&[Status::Registered, Status::Accepted])?;
                text("target_number", target_number, 64)?;
                next.status = Status::Merged;
                next.merged_into = Some(target_number.trim().to_string());
                next.closed_at = Some(now);
                next.deadlines = Deadlines::default();
            }
            Command::PauseClock { reason } => {
                in_state(&[Status::InProgress])?;
                claimant()?;
                text("reason", reason, 500)?;
                if !self.limits.pausable {
                    return Err(CaseError::Invalid {
                        field: "action",
                        why: "not_pausable",
                    });
                }
                if self.paused_at.is_some() {
                    return Err(CaseError::Invalid {
                        field: "action",
                        why: "already_paused",
                    });
                }
                next.paused_at = Some(now);
            }
            Command::ResumeClock { note } => {
                in_state(&[Status::InProgress])?;
                if actor.may(Permission::DispatchCases) {
                    // The center may restart a clock a handler left paused.
                } else {
                    claimant()?;
                }
                if note.chars().count() > 500 {
                    return Err(CaseError::Invalid {
                        field: "note",
                        why: "too_long",
                    });
                }
                let Some(paused_at) = self.paused_at else {
                    return Err(CaseError::Invalid {
                        field: "action",
                        why: "not_paused",
                    });
                };
                let stood = rules.elapsed_working_days(paused_at, now);
                if stood > 0
                    && let Some(handling) = self.deadlines.handling
                {
                    let moved = rules.deadline(handling.at, Limit::WorkingDays(stood));
                    next.deadlines.handling = Some(DeadlineAt {
                        at: moved.at,
                        provisional: moved.provisional || handling.provisional,
                    });
                    next.extended_working_days = next.extended_working_days.saturating_add(stood);
                }
                next.paused_at = None;
            }
            Command::GiveFeedback { note } => {
                let involved = actor.may(Permission::AcceptCases)
                    || actor.may(Permission::DispatchCases)
                    || (actor.may(Permission::HandleCases)
                        && self.lead.as_ref().is_some_and(|u| actor.acts_for(u)));
                if !involved {
                    return Err(CaseError::NotAllowed {
                        action,
                        why: "not_your_unit",
                    });
                }
                if self.status.is_final() {
                    return Err(CaseError::IllegalInState {
                        action,
                        status: self.status,
                    });
                }
                text("note", note, 2000)?;
                if self.deadlines.feedback.is_none() {
                    return Err(CaseError::Invalid {
                        field: "action",
                        why: "no_feedback_due",
                    });
                }
                next.deadlines.feedback = None;
            }
        }
        if next.status != Status::InProgress
            && let Some(paused_at) = next.paused_at.take()
        {
            // The clock only stands still while a handler waits on the citizen: leaving the handler (resolved,
            // returned, reassigned, escalated) gives back the working days it stood, as a resume would.
            let stood = rules.elapsed_working_days(paused_at, now);
            if stood > 0
                && let Some(handling) = next.deadlines.handling
            {
                let moved = rules.deadline(handling.at, Limit::WorkingDays(stood));
                next.deadlines.handling = Some(DeadlineAt {
                    at: moved.at,
                    provisional: moved.provisional || handling.provisional,
                });
                next.extended_working_days = next.extended_working_days.saturating_add(stood);
            }
        }
        if matches!(next.status, Status::Closed | Status::Archived) {
            // Feedback after a visit is moot once the case is closed with the citizen.
            next.deadlines.feedback = None;
        }
        let event = CaseEvent {
            name: action,
            from: self.status,
            to: next.status,
            actor_user_id: actor.user_id,
            at: now,
            detail: serde_json::to_value(command).unwrap_or(serde_json::Value::Null),
        };
        Ok((next, event))
    }
}
