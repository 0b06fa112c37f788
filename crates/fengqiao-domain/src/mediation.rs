//! Mediation (调解): committees, mediators and their rota, and the mediation of one dispute as a pure state
//! machine — acceptance → optional hearing → sessions → agreement or failure with the next path
//! (初步调解 → 多元调解 → 诉讼裁决 → 领导包案), judicial confirmation, and the follow-up visit due 30 days
//! after an agreement.
//!
//! `Mediation::apply(command, actor, now)` refuses a command with a [`StepError`] or returns the next
//! mediation and exactly one [`StepEvent`] for the case's timeline. Nothing here reads a clock.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Permission, Role};
use crate::calendar::{end_of_local_day, local_date};

/// Declares an enum with its API/database name and its Chinese name.
macro_rules! named_enum {
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
pub(crate) use named_enum;

named_enum!(
    /// What kind of body a mediation committee is.
    CommitteeKind {
        Village = "village" / "村（居）人民调解委员会",
        Town = "town" / "乡镇（街道）人民调解委员会",
        Industry = "industry" / "行业性专业性人民调解委员会",
        Enterprise = "enterprise" / "企业人民调解室",
    }
);

named_enum!(
    /// Who a mediator is.
    MediatorKind {
        Staff = "staff" / "专职调解员",
        Lawyer = "lawyer" / "律师",
        RetiredJudge = "retired_judge" / "退休法官",
        DeputyOrMember = "deputy_or_member" / "两代表一委员",
        Counsellor = "counsellor" / "心理咨询师",
        Volunteer = "volunteer" / "兼职调解员",
    }
);

named_enum!(
    /// 人民调解 / 行政调解 / 司法调解.
    MediationKind {
        People = "people" / "人民调解",
        Administrative = "administrative" / "行政调解",
        Judicial = "judicial" / "司法调解",
    }
);

named_enum!(
    /// Which office handed the dispute over (访调、诉调、警调/公调、专调 对接).
    LinkageKind {
        Petition = "petition" / "访调对接",
        Litigation = "litigation" / "诉调对接",
        Police = "police" / "警调（公调）对接",
        Special = "special" / "专调对接",
    }
);

named_enum!(
    /// The step of the four-step path the mediation belongs to.
    PathStep {
        Initial = "initial" / "初步调解",
        MultiParty = "multi_party" / "多元调解",
    }
);

named_enum!(
    /// Where a mediation stands.
    MediationStatus {
        Accepted = "accepted" / "已受理",
        InProgress = "in_progress" / "调解中",
        Agreed = "agreed" / "达成协议",
        Failed = "failed" / "调解不成",
        FollowedUp = "followed_up" / "已回访",
    }
);

named_enum!(
    /// Litigation or arbitration, when a failed mediation is referred on.
    Forum {
        Litigation = "litigation" / "诉讼",
        Arbitration = "arbitration" / "仲裁",
    }
);

/// A mediator sits on the given days of the month (两代表一委员 on a rota); an empty rota means every day.
pub fn on_duty(rota_days: &[u32], date: NaiveDate) -> bool {
    rota_days.is_empty() || rota_days.contains(&date.day())
}

/// Checks a rota: days of the month 1–31, no repeats.
pub fn check_rota(rota_days: &[u32]) -> Result<(), StepError> {
    if rota_days.iter().any(|d| !(1..=31).contains(d))
        || rota_days
            .iter()
            .enumerate()
            .any(|(i, d)| rota_days[..i].contains(d))
    {
        return Err(StepError::Invalid {
            field: "rota_days",
            why: "range",
        });
    }
    Ok(())
}

/// Days a follow-up visit is due after an agreement.
pub const FOLLOW_UP_DAYS: u64 = 30;

/// The end of the local day `days` calendar days after `start` (Asia/Shanghai).
pub fn calendar_days_after(start: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    local_date(start)
        .checked_add_days(Days::new(days))
        .map_or(DateTime::<Utc>::MAX_UTC, end_of_local_day)
}

/// The office that handed a dispute over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linkage {
    pub kind: LinkageKind,
    pub handing_office: String,
}

/// A party as the mediation names them (personal numbers stay with the case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediationParty {
    /// applicant, respondent, or another role the case gives.
    pub role: String,
    pub name: String,
}

/// A hearing (听证): the parties state their case before a panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub public: bool,
    pub panel: Vec<String>,
    pub statements: String,
}

/// One mediation session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub held_at: DateTime<Utc>,
    /// A place, or None when held online.
    pub place: Option<String>,
    pub online: bool,
    pub attendees: Vec<String>,
    pub minutes: String,
    pub positions: String,
}

/// One term of an agreement, with the amount it moves if any (in fen, 分).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub text: String,
    pub amount_fen: Option<i64>,
}

/// The mediation agreement (调解协议).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub facts: String,
    pub terms: Vec<Term>,
    pub performance_deadline: NaiveDate,
    pub signed_at: DateTime<Utc>,
}

impl Agreement {
    /// The sum of the terms' amounts, in fen.
    pub fn total_fen(&self) -> i64 {
        self.terms.iter().filter_map(|t| t.amount_fen).sum()
    }
}

/// What happens after a failed mediation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "path", rename_all = "snake_case")]
pub enum NextPath {
    /// 多元调解 by the center with several departments, in the named committee.
    MultiParty {
        committee_id: i64,
        departments: Vec<i64>,
    },
    /// 诉讼/仲裁 guidance, with the referral recorded.
    Referral {
        forum: Forum,
        body: String,
        note: String,
    },
    /// 领导包案.
    LeaderOwnership { leader_user_id: i64 },
}

impl NextPath {
    pub fn as_str(&self) -> &'static str {
        match self {
            NextPath::MultiParty { .. } => "multi_party",
            NextPath::Referral { .. } => "referral",
            NextPath::LeaderOwnership { .. } => "leader_ownership",
        }
    }

    pub fn zh(&self) -> &'static str {
        match self {
            NextPath::MultiParty { .. } => "多元调解",
            NextPath::Referral {
                forum: Forum::Litigation,
                ..
            } => "引导诉讼",
            NextPath::Referral {
                forum: Forum::Arbitration,
                ..
            } => "引导仲裁",
            NextPath::LeaderOwnership { .. } => "领导包案",
        }
    }
}

/// A failed mediation and its next path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    pub next: NextPath,
}

/// An application for judicial confirmation (司法确认) and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudicialConfirmation {
    pub court: String,
    pub applied_at: DateTime<Utc>,
    pub confirmed: Option<bool>,
    pub result_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The follow-up visit (跟踪回访) after an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpVisit {
    pub visited_at: DateTime<Utc>,
    pub performed: bool,
    pub settled: bool,
    pub note: String,
}

/// One mediation of a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mediation {
    pub committee_id: i64,
    pub mediator_user_id: Option<i64>,
    pub kind: MediationKind,
    pub step: PathStep,
    pub linkage: Option<Linkage>,
    /// Departments taking part (多元调解).
    pub departments: Vec<i64>,
    pub parties: Vec<MediationParty>,
    pub status: MediationStatus,
    pub hearing: Option<Hearing>,
    pub sessions: Vec<Session>,
    pub agreement: Option<Agreement>,
    pub failure: Option<Failure>,
    pub judicial: Option<JudicialConfirmation>,
    pub follow_up: Option<FollowUpVisit>,
    pub accepted_at: DateTime<Utc>,
    pub concluded_at: Option<DateTime<Utc>>,
    /// When the follow-up visit is due (30 calendar days after the agreement).
    pub follow_up_due: Option<DateTime<Utc>>,
}

/// What opening a mediation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub committee_id: i64,
    pub mediator_user_id: Option<i64>,
    pub kind: MediationKind,
    pub linkage: Option<Linkage>,
    pub parties: Vec<MediationParty>,
    /// The mediation this one continues, if the dispute comes from a failed one.
    pub previous: Option<Mediation>,
    pub departments: Vec<i64>,
}

/// Something asked of a mediation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum MediationCommand {
    HoldHearing {
        held_at: DateTime<Utc>,
        place: String,
        public: bool,
        panel: Vec<String>,
        statements: String,
    },
    RecordSession {
        held_at: DateTime<Utc>,
        place: Option<String>,
        #[serde(default)]
        online: bool,
        attendees: Vec<String>,
        minutes: String,
        #[serde(default)]
        positions: String,
    },
    ConcludeAgreement {
        facts: String,
        terms: Vec<Term>,
        performance_deadline: NaiveDate,
    },
    ConcludeFailure {
        reason: String,
        next: NextPath,
    },
    ApplyJudicialConfirmation {
        court: String,
    },
    RecordJudicialResult {
        confirmed: bool,
        note: String,
    },
    FollowUp {
        performed: bool,
        settled: bool,
        note: String,
    },
}

impl MediationCommand {
    /// The timeline event's name.
    pub fn event_name(&self) -> &'static str {
        match self {
            MediationCommand::HoldHearing { .. } => "mediation_hearing",
            MediationCommand::RecordSession { .. } => "mediation_session",
            MediationCommand::ConcludeAgreement { .. } => "mediation_agreed",
            MediationCommand::ConcludeFailure { .. } => "mediation_failed",
            MediationCommand::ApplyJudicialConfirmation { .. } => "judicial_confirmation_applied",
            MediationCommand::RecordJudicialResult { .. } => "judicial_confirmation_decided",
            MediationCommand::FollowUp { .. } => "mediation_followed_up",
        }
    }
}

/// Who acts on a mediation, as the rules need to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediationActor {
    pub user_id: i64,
    pub roles: Vec<Role>,
    /// The committees the actor mediates for (`committee:ID` scopes).
    pub committees: Vec<i64>,
}

impl MediationActor {
    fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| r.may(permission))
    }

    /// Whether the actor runs this committee's mediations.
    pub fn mediates_for(&self, committee_id: i64) -> bool {
        self.may(Permission::Mediate) && self.committees.contains(&committee_id)
    }
}

/// One step for the timeline: its name, the status before and after, and the detail as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepEvent {
    pub name: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub actor_user_id: i64,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

/// Why a mediation or petition step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("cannot {action} in state {status}")]
    IllegalInState {
        action: &'static str,
        status: &'static str,
    },
    #[error("{action} is not allowed for this actor: {why}")]
    NotAllowed {
        action: &'static str,
        why: &'static str,
    },
    #[error("{field}: {why}")]
    Invalid {
        field: &'static str,
        why: &'static str,
    },
}

impl StepError {
    /// A message in Chinese for the UI.
    pub fn message_zh(&self) -> String {
        match self {
            StepError::IllegalInState { action, status } => {
                format!("当前状态（{status}）不能执行“{action}”")
            }
            StepError::NotAllowed { why, .. } => format!("无权执行此操作：{}", why_zh(why)),
            StepError::Invalid { field, why } => format!("{field}：{}", why_zh(why)),
        }
    }
}

fn why_zh(why: &str) -> &'static str {
    match why {
        "role" => "角色不具备此项权限",
        "not_your_committee" => "不是本调委会的调解",
        "not_owner" => "不是包案领导",
        "required" => "不能为空",
        "too_long" => "过长",
        "range" => "超出允许范围",
        "no_session" => "尚未记录调解过程",
        "no_failure" => "上一次调解未以“多元调解”为下一步",
        "previous_not_failed" => "上一次调解尚未以失败结束",
        "departments" => "多元调解须有参与部门",
        "before_agreement" => "履行期限不能早于协议日期",
        "already_applied" => "已申请司法确认",
        "not_applied" => "尚未申请司法确认",
        "already_decided" => "已有结果",
        "extension_pending" => "已有待审批的延期申请",
        "no_extension_pending" => "没有待审批的延期申请",
        "already_extended" => "已延期过一次",
        "window_closed" => "已超过申请期限",
        "closed" => "已结案",
        "no_feedback_due" => "无需反馈或已反馈",
        _ => "不允许",
    }
}

pub(crate) fn text(field: &'static str, value: &str, max: usize) -> Result<(), StepError> {
    let n = value.trim().chars().count();
    if n == 0 {
        return Err(StepError::Invalid {
            field,
            why: "required",
        });
    }
    if n > max {
        return Err(StepError::Invalid {
            field,
            why: "too_long",
        });
    }
    Ok(())
}

fn optional_text(field: &'static str, value: &str, max: usize) -> Result<(), StepError> {
    if value.trim().chars().count() > max {
        return Err(StepError::Invalid {
            field,
            why: "too_long",
        });
    }
    Ok(())
}

impl Mediation {
    /// Opens (accepts) a mediation in a committee. A mediation that continues a failed one is a 多元调解 and
    /// needs the failed one to have named that path and at least one department.
    pub fn open(
        opening: Opening,
        actor: &MediationActor,
        now: DateTime<Utc>,
    ) -> Result<(Mediation, StepEvent), StepError> {
        let action = "mediation_accepted";
        if !(actor.mediates_for(opening.committee_id) || actor.may(Permission::DispatchCases)) {
            return Err(StepError::NotAllowed {
                action,
                why: "not_your_committee",
            });
        }
        if let Some(linkage) = &opening.linkage {
            text("linkage.handing_office", &linkage.handing_office, 100)?;
        }
        if opening.parties.is_empty() {
            return Err(StepError::Invalid {
                field: "parties",
                why: "required",
            });
        }
        let step = match &opening.previous {
            None => PathStep::Initial,
            Some(previous) => {
                if previous.status != MediationStatus::Failed {
                    return Err(StepError::Invalid {
                        field: "previous_mediation_id",
                        why: "previous_not_failed",
                    });
                }
                match previous.failure.as_ref().map(|f| &f.next) {
                    Some(NextPath::MultiParty { committee_id, .. })
                        if *committee_id == opening.committee_id => {}
                    _ => {
                        return Err(StepError::Invalid {
                            field: "previous_mediation_id",
                            why: "no_failure",
                        });
                    }
                }
                if opening.departments.is_empty() {
                    return Err(StepError::Invalid {
                        field: "departments",
                        why: "departments",
                    });
                }
                PathStep::MultiParty
            }
        };
        let mediation = Mediation {
            committee_id: opening.committee_id,
            mediator_user_id: opening.mediator_user_id,
            kind: opening.kind,
            step,
            linkage: opening.linkage.clone(),
            departments: opening.departments.clone(),
            parties: opening.parties,
            status: MediationStatus::Accepted,
            hearing: None,
            sessions: Vec::new(),
            agreement: None,
            failure: None,
            judicial: None,
            follow_up: None,
            accepted_at: now,
            concluded_at: None,
            follow_up_due: None,
        };
        let event = StepEvent {
            name: action,
            from: "none",
            to: MediationStatus::Accepted.as_str(),
            actor_user_id: actor.user_id,
            at: now,
            detail: serde_json::json!({
                "committee_id": mediation.committee_id,
                "kind": mediation.kind,
                "step": mediation.step,
                "linkage": mediation.linkage,
                "departments": mediation.departments,
            }),
        };
        Ok((mediation, event))
    }

    /// Whether the follow-up visit is overdue at `now`.
    pub fn follow_up_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == MediationStatus::Agreed && self.follow_up_due.is_some_and(|due| now > due)
    }

    /// Applies a command: the next mediation and its one timeline event, or why not.
    pub fn apply(
        &self,
        command: &MediationCommand,
        actor: &MediationActor,
        now: DateTime<Utc>,
    ) -> Result<(Mediation, StepEvent), StepError> {
        let action = command.event_name();
        if !actor.mediates_for(self.committee_id) {
            return Err(StepError::NotAllowed {
                action,
                why: if actor.may(Permission::Mediate) {
                    "not_your_committee"
                } else {
                    "role"
                },
            });
        }
        let in_state = |allowed: &[MediationStatus]| {
            if allowed.contains(&self.status) {
                Ok(())
            } else {
                Err(StepError::IllegalInState {
                    action,
                    status: self.status.zh(),
                })
            }
        };
        let open = [MediationStatus::Accepted, MediationStatus::InProgress];
        let mut next = self.clone();
        match command {
            MediationCommand::HoldHearing {
                held_at,
                place,
                public,
                panel,
                statements,
            } => {
                in_state(&open)?;
                text("place", place, 200)?;
                text("statements", statements, 10_000)?;
                if panel.is_empty() || panel.len() > 20 {
                    return Err(StepError::Invalid {
                        field: "panel",
                        why: "range",
                    });
                }
                next.hearing = Some(Hearing {
                    held_at: *held_at,
                    place: place.trim().to_string(),
                    public: *public,
                    panel: panel.clone(),
                    statements: statements.trim().to_string(),
                });
                next.status = MediationStatus::InProgress;
            }
            MediationCommand::RecordSession {
                held_at,
                place,
                online,
                attendees,
                minutes,
                positions,
            } => {
                in_state(&open)?;
                match place {
                    Some(place) => text("place", place, 200)?,
                    None if *online => {}
                    None => {
                        return Err(StepError::Invalid {
                            field: "place",
                            why: "required",
                        });
                    }
                }
                text("minutes", minutes, 20_000)?;
                optional_text("positions", positions, 10_000)?;
                if attendees.is_empty() || attendees.len() > 50 {
                    return Err(StepError::Invalid {
                        field: "attendees",
                        why: "range",
                    });
                }
                if next.sessions.len() >= 100 {
                    return Err(StepError::Invalid {
                        field: "held_at",
                        why: "range",
                    });
                }
                next.sessions.push(Session {
                    held_at: *held_at,
                    place: place.as_ref().map(|p| p.trim().to_string()),
                    online: *online,
                    attendees: attendees.clone(),
                    minutes: minutes.trim().to_string(),
                    positions: positions.trim().to_string(),
                });
                next.status = MediationStatus::InProgress;
            }
            MediationCommand::ConcludeAgreement {
                facts,
                terms,
                performance_deadline,
            } => {
                in_state(&open)?;
                if self.sessions.is_empty() {
                    return Err(StepError::Invalid {
                        field: "sessions",
                        why: "no_session",
                    });
                }
                text("facts", facts, 10_000)?;
                if terms.is_empty() || terms.len() > 50 {
                    return Err(StepError::Invalid {
                        field: "terms",
                        why: "range",
                    });
                }
                for term in terms {
                    text("terms", &term.text, 2_000)?;
                    if term
                        .amount_fen
                        .is_some_and(|a| !(0..=100_000_000_000).contains(&a))
                    {
                        return Err(StepError::Invalid {
                            field: "terms.amount_fen",
                            why: "range",
                        });
                    }
                }
                if *performance_deadline < local_date(now) {
                    return Err(StepError::Invalid {
                        field: "performance_deadline",
                        why: "before_agreement",
                    });
                }
                next.agreement = Some(Agreement {
                    facts: facts.trim().to_string(),
                    terms: terms
                        .iter()
                        .map(|t| Term {
                            text: t.text.trim().to_string(),
                            amount_fen: t.amount_fen,
                        })
                        .collect(),
                    performance_deadline: *performance_deadline,
                    signed_at: now,
                });
                next.status = MediationStatus::Agreed;
                next.concluded_at = Some(now);
                next.follow_up_due = Some(calendar_days_after(now, FOLLOW_UP_DAYS));
            }
            MediationCommand::ConcludeFailure { reason, next: path } => {
                in_state(&open)?;
                text("reason", reason, 2_000)?;
                match path {
                    NextPath::MultiParty { departments, .. } => {
                        if departments.is_empty() || departments.len() > 20 {
                            return Err(StepError::Invalid {
                                field: "next.departments",
                                why: "departments",
                            });
                        }
                    }
                    NextPath::Referral { body, note, .. } => {
                        text("next.body", body, 200)?;
                        optional_text("next.note", note, 2_000)?;
                    }
                    NextPath::LeaderOwnership { .. } => {}
                }
                next.failure = Some(Failure {
                    reason: reason.trim().to_string(),
                    next: path.clone(),
                });
                next.status = MediationStatus::Failed;
                next.concluded_at = Some(now);
            }
            MediationCommand::ApplyJudicialConfirmation { court } => {
                in_state(&[MediationStatus::Agreed, MediationStatus::FollowedUp])?;
                text("court", court, 200)?;
                if self.judicial.is_some() {
                    return Err(StepError::Invalid {
                        field: "court",
                        why: "already_applied",
                    });
                }
                next.judicial = Some(JudicialConfirmation {
                    court: court.trim().to_string(),
                    applied_at: now,
                    confirmed: None,
                    result_note: None,
                    decided_at: None,
                });
            }
            MediationCommand::RecordJudicialResult { confirmed, note } => {
                in_state(&[MediationStatus::Agreed, MediationStatus::FollowedUp])?;
                optional_text("note", note, 2_000)?;
                let Some(judicial) = next.judicial.as_mut() else {
                    return Err(StepError::Invalid {
                        field: "confirmed",
                        why: "not_applied",
                    });
                };
                if judicial.confirmed.is_some() {
                    return Err(StepError::Invalid {
                        field: "confirmed",
                        why: "already_decided",
                    });
                }
                judicial.confirmed = Some(*confirmed);
                judicial.result_note = Some(note.trim().to_string());
                judicial.decided_at = Some(now);
            }
            MediationCommand::FollowUp {
                performed,
                settled,
                note,
            } => {
                in_state(&[MediationStatus::Agreed])?;
                optional_text("note", note, 2_000)?;
                next.follow_up = Some(FollowUpVisit {
                    visited_at: now,
                    performed: *performed,
                    settled: *settled,
                    note: note.trim().to_string(),
                });
                next.status = MediationStatus::FollowedUp;
            }
        }
        let event = StepEvent {
            name: action,
            from: self.status.as_str(),
            to: next.status.as_str(),
            actor_user_id: actor.user_id,
            at: now,
            detail: serde_json::to_value(command).unwrap_or(serde_json::Value::Null),
        };
        Ok((next, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap()
    }

    fn mediator(committee: i64) -> MediationActor {
        MediationActor {
            user_id: 7,
            roles: vec![Role::Mediator],
            committees: vec![committee],
        }
    }

    fn opening(committee_id: i64) -> Opening {
        Opening {
            committee_id,
            mediator_user_id: Some(7),
            kind: MediationKind::People,
            linkage: None,
            parties: vec![
                MediationParty {
                    role: "applicant".into(),
                    name: "刘建国".into(),
                },
                MediationParty {
                    role: "respondent".into(),
                    name: "王某".into(),
                },
            ],
            previous: None,
            departments: Vec::new(),
        }
    }

    fn session() -> MediationCommand {
        MediationCommand::RecordSession {
            held_at: at(3),
            place: Some("村调解室".into()),
            online: false,
            attendees: vec!["刘建国".into(), "王某".into()],
            minutes: "双方陈述".into(),
            positions: String::new(),
        }
    }

    #[test]
    fn the_four_step_path_from_village_failure_to_agreement_and_follow_up() {
        let (m, e) = Mediation::open(opening(1), &mediator(1), at(2)).unwrap();
        assert_eq!((m.step, e.name), (PathStep::Initial, "mediation_accepted"));
        let (m, _) = m.apply(&session(), &mediator(1), at(3)).unwrap();
        let fail = MediationCommand::ConcludeFailure {
            reason: "分歧较大".into(),
            next: NextPath::MultiParty {
                committee_id: 2,
                departments: vec![10, 11],
            },
        };
        let (failed, e) = m.apply(&fail, &mediator(1), at(4)).unwrap();
        assert_eq!((failed.status, e.to), (MediationStatus::Failed, "failed"));

        // A second mediation in another committee than the one named is refused.
        let mut wrong = opening(3);
        wrong.previous = Some(failed.clone());
        wrong.departments = vec![10];
        assert!(Mediation::open(wrong, &mediator(3), at(5)).is_err());

        let mut next = opening(2);
        next.previous = Some(failed);
        next.departments = vec![10, 11];
        let (m, _) = Mediation::open(next, &mediator(2), at(5)).unwrap();
        assert_eq!(m.step, PathStep::MultiParty);
        let agree = MediationCommand::ConcludeAgreement {
            facts: "土地界址纠纷".into(),
            terms: vec![Term {
                text: "王某赔偿刘建国".into(),
                amount_fen: Some(300_000),
            }],
            performance_deadline: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        // No agreement before a session.
        assert_eq!(
            m.apply(&agree, &mediator(2), at(6)).unwrap_err(),
            StepError::Invalid {
                field: "sessions",
                why: "no_session"
            }
        );
        let (m, _) = m.apply(&session(), &mediator(2), at(6)).unwrap();
        let (m, _) = m.apply(&agree, &mediator(2), at(6)).unwrap();
        assert_eq!(m.status, MediationStatus::Agreed);
        assert_eq!(m.agreement.as_ref().unwrap().total_fen(), 300_000);
        // Due at the end of the 30th local day after the agreement.
        assert_eq!(
            m.follow_up_due,
            Some(Utc.with_ymd_and_hms(2026, 12, 6, 16, 0, 0).unwrap())
        );
        assert!(!m.follow_up_overdue(at(30)));
        assert!(m.follow_up_overdue(Utc.with_ymd_and_hms(2026, 12, 6, 16, 0, 1).unwrap()));
        // Another committee's mediator may not act.
        let visit = MediationCommand::FollowUp {
            performed: true,
            settled: true,
            note: String::new(),
        };
        assert!(matches!(
            m.apply(&visit, &mediator(1), at(30)),
            Err(StepError::NotAllowed { .. })
        ));
        let (m, e) = m.apply(&visit, &mediator(2), at(30)).unwrap();
        assert_eq!((m.status, e.from), (MediationStatus::FollowedUp, "agreed"));
        assert!(!m.follow_up_overdue(at(30)));
    }

    #[test]
    fn judicial_confirmation_needs_an_agreement_and_is_decided_once() {
        let (m, _) = Mediation::open(opening(1), &mediator(1), at(2)).unwrap();
        let apply = MediationCommand::ApplyJudicialConfirmation {
            court: "邹城市人民法院".into(),
        };
        assert!(matches!(
            m.apply(&apply, &mediator(1), at(2)),
            Err(StepError::IllegalInState { .. })
        ));
        let (m, _) = m.apply(&session(), &mediator(1), at(3)).unwrap();
        let (m, _) = m
            .apply(
                &MediationCommand::ConcludeAgreement {
                    facts: "事实".into(),
                    terms: vec![Term {
                        text: "条款".into(),
                        amount_fen: None,
                    }],
                    performance_deadline: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                },
                &mediator(1),
                at(3),
            )
            .unwrap();
        let result = MediationCommand::RecordJudicialResult {
            confirmed: true,
            note: String::new(),
        };
        assert!(m.apply(&result, &mediator(1), at(4)).is_err());
        let (m, _) = m.apply(&apply, &mediator(1), at(4)).unwrap();
        assert!(m.apply(&apply, &mediator(1), at(4)).is_err());
        let (m, _) = m.apply(&result, &mediator(1), at(5)).unwrap();
        assert_eq!(m.judicial.as_ref().unwrap().confirmed, Some(true));
        assert!(m.apply(&result, &mediator(1), at(5)).is_err());
    }

    #[test]
    fn a_rota_names_days_of_the_month() {
        let rota = [1, 15];
        assert!(on_duty(
            &rota,
            NaiveDate::from_ymd_opt(2026, 11, 15).unwrap()
        ));
        assert!(!on_duty(
            &rota,
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
        ));
        assert!(on_duty(&[], NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()));
        assert!(check_rota(&[0]).is_err());
        assert!(check_rota(&[32]).is_err());
        assert!(check_rota(&[3, 3]).is_err());
        assert!(check_rota(&[1, 31]).is_ok());
    }

    #[test]
    fn only_mediators_of_the_committee_or_dispatchers_open() {
        let clerk = MediationActor {
            user_id: 1,
            roles: vec![Role::IntakeClerk],
            committees: vec![1],
        };
        assert!(Mediation::open(opening(1), &clerk, at(2)).is_err());
        let dispatcher = MediationActor {
            user_id: 1,
            roles: vec![Role::Dispatcher],
            committees: vec![],
        };
        assert!(Mediation::open(opening(1), &dispatcher, at(2)).is_ok());
        assert!(Mediation::open(opening(1), &mediator(2), at(2)).is_err());
    }
}
