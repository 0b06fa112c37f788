//! Petitions (信访): computed flags (repeat, skip-level, group), the statutory deadlines of the Regulations on
//! Letters and Visits Work (2022) in calendar days, leaders' reception cadences, and backlog cases (信访积案)
//! owned by a leader and closed with a cease-petition commitment (息诉罢访承诺书).
//!
//! Like the case and the mediation, a petition and a backlog case change only through `apply`, which returns
//! the next state and one [`StepEvent`], or a [`StepError`]. Time is a parameter.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::access::{Permission, Role};
use crate::codes::{RegionCode, RegionLevel};
use crate::mediation::{StepError, StepEvent, calendar_days_after, named_enum, text};

/// Calendar days to decide whether to accept (and tell the petitioner).
pub const DECIDE_DAYS: u64 = 15;
/// Calendar days to handle an accepted petition.
pub const HANDLE_DAYS: u64 = 60;
/// The most an approved extension adds.
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// Calendar days after an answer within which a review (复查) may be requested, and after a review answer a
/// re-review (复核).
pub const REQUEST_WINDOW_DAYS: u64 = 30;
/// Calendar days to answer a review or re-review.
pub const REVIEW_DAYS: u64 = 30;
/// From how many people a visit counts as a group petition (集体访).
pub const GROUP_HEAD_COUNT: u32 = 5;

named_enum!(
    /// How a petition came in.
    PetitionChannel {
        Visit = "visit" / "来访",
        Letter = "letter" / "来信",
        Online = "online" / "网上信访",
        Phone = "phone" / "来电",
    }
);

named_enum!(
    /// Where a petition stands.
    PetitionStatus {
        Registered = "registered" / "已登记",
        Accepted = "accepted" / "已受理",
        NotAccepted = "not_accepted" / "不予受理",
        Answered = "answered" / "已出具处理意见",
        UnderReview = "under_review" / "复查中",
        Reviewed = "reviewed" / "已复查",
        UnderReReview = "under_re_review" / "复核中",
        ReReviewed = "re_reviewed" / "已复核",
    }
);

named_enum!(
    /// How far a backlog case has come.
    BacklogStatus {
        InProgress = "in_progress" / "正在化解",
        BasicallyResolved = "basically_resolved" / "基本化解",
        Resolved = "resolved" / "已化解",
    }
);

/// The flags a petition gets from its history, computed at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PetitionFlags {
    /// The same petitioner or the same matter petitioned within the window before.
    pub repeat: bool,
    /// Received above the town that has jurisdiction without an earlier petition there (越级).
    pub skip_level: bool,
    /// A visit of five people or more (集体访).
    pub group: bool,
}

/// What the flags are computed from, for the new petition and for each earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionFacts {
    pub at: DateTime<Utc>,
    /// Who petitions (a resident id or a personal number's blind index), when known.
    pub petitioner_key: Option<String>,
    /// What about (a linked case, or the category in a village).
    pub matter_key: Option<String>,
    /// Where the matter is.
    pub matter_region: RegionCode,
    /// Where the petition was received.
    pub received_region: RegionCode,
    pub channel: PetitionChannel,
    pub head_count: u32,
}

/// The town with jurisdiction over a matter (or the region itself above town level).
fn jurisdiction(region: &RegionCode) -> String {
    let code = region.as_str();
    match region.level() {
        RegionLevel::Village => code[..9].to_string(),
        _ => code.to_string(),
    }
}

/// Whether a region lies within another (by statistical code prefix).
fn within(inner: &RegionCode, outer: &str) -> bool {
    inner.as_str().starts_with(outer)
}

/// Computes the flags of `new` from the earlier petitions (any order; those after `new` are ignored).
pub fn compute_flags(
    new: &PetitionFacts,
    earlier: &[PetitionFacts],
    repeat_window_days: u32,
) -> PetitionFlags {
    let window_start = new.at - chrono::Duration::days(i64::from(repeat_window_days));
    let related = |e: &&PetitionFacts| {
        e.at <= new.at
            && ((new.petitioner_key.is_some() && e.petitioner_key == new.petitioner_key)
                || (new.matter_key.is_some() && e.matter_key == new.matter_key))
    };
    let repeat = earlier.iter().filter(related).any(|e| e.at >= window_start);
    let town = jurisdiction(&new.matter_region);
    // Received above the town (its code is a proper prefix of the town's) …
    let received_above = town.starts_with(new.received_region.as_str())
        && new.received_region.as_str().len() < town.len();
    // … and never brought to the town or below before.
    let tried_town = earlier
        .iter()
        .filter(related)
        .any(|e| within(&e.received_region, &town));
    PetitionFlags {
        repeat,
        skip_level: received_above && !tried_town,
        group: new.channel == PetitionChannel::Visit && new.head_count >= GROUP_HEAD_COUNT,
    }
}

/// A pending request to extend the handling deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PetitionExtension {
    pub days: u32,
    pub reason: String,
    pub requested_by: i64,
}

/// A petition's lifecycle and clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Petition {
    pub status: PetitionStatus,
    pub flags: PetitionFlags,
    pub registered_at: DateTime<Utc>,
    /// Decide whether to accept by then (15 days).
    pub decide_due: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Handle by then (60 days, plus an approved extension).
    pub handle_due: Option<DateTime<Utc>>,
    pub extended_days: u32,
    pub pending_extension: Option<PetitionExtension>,
    pub answered_at: Option<DateTime<Utc>>,
    /// A review (复查) or re-review (复核) may be requested until then.
    pub request_until: Option<DateTime<Utc>>,
    /// The open review or re-review must be answered by then.
    pub review_due: Option<DateTime<Utc>>,
    pub last_opinion: Option<String>,
    /// Feedback to a visiting petitioner is due by then (2 working days, set by the caller from the working
    /// calendar), until given.
    #[serde(default)]
    pub feedback_due: Option<DateTime<Utc>>,
    #[serde(default)]
    pub feedback_given_at: Option<DateTime<Utc>>,
}

/// Something asked of a petition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PetitionCommand {
    Accept,
    NotAccept {
        reason: String,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        note: String,
    },
    Answer {
        opinion: String,
    },
    RequestReview {
        note: String,
    },
    AnswerReview {
        opinion: String,
    },
    RequestReReview {
        note: String,
    },
    AnswerReReview {
        opinion: String,
    },
    /// Records the feedback given to a visiting petitioner (来访 2 个工作日内反馈).
    GiveFeedback {
        note: String,
    },
}

impl PetitionCommand {
    pub fn event_name(&self) -> &'static str {
        match self {
            PetitionCommand::Accept => "petition_accepted",
            PetitionCommand::NotAccept { .. } => "petition_not_accepted",
            PetitionCommand::RequestExtension { .. } => "petition_extension_requested",
            PetitionCommand::DecideExtension { approve: true, .. } => "petition_extension_approved",
            PetitionCommand::DecideExtension { approve: false, .. } => "petition_extension_denied",
            PetitionCommand::Answer { .. } => "petition_answered",
            PetitionCommand::RequestReview { .. } => "petition_review_requested",
            PetitionCommand::AnswerReview { .. } => "petition_reviewed",
            PetitionCommand::RequestReReview { .. } => "petition_re_review_requested",
            PetitionCommand::AnswerReReview { .. } => "petition_re_reviewed",
            PetitionCommand::GiveFeedback { .. } => "petition_feedback_given",
        }
    }
}

/// Who acts on petitions and backlog cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionActor {
    pub user_id: i64,
    pub roles: Vec<Role>,
}

impl PetitionActor {
    fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| r.may(permission))
    }

    /// Registers and handles petitions: the window (clerk, dispatcher) and leaders who receive.
    pub fn handles_petitions(&self) -> bool {
        self.may(Permission::AcceptCases) || self.may(Permission::ReceivePetitioners)
    }

    /// Approves extensions: supervisors (dispatchers and leaders).
    pub fn approves(&self) -> bool {
        self.may(Permission::SuperviseCases)
    }
}

impl Petition {
    /// A newly registered petition with its flags and its 15-day decision clock.
    pub fn register(flags: PetitionFlags, now: DateTime<Utc>) -> Petition {
        Petition {
            status: PetitionStatus::Registered,
            flags,
            registered_at: now,
            decide_due: calendar_days_after(now, DECIDE_DAYS),
            decided_at: None,
            handle_due: None,
            extended_days: 0,
            pending_extension: None,
            answered_at: None,
            request_until: None,
            review_due: None,
            last_opinion: None,
            feedback_due: None,
            feedback_given_at: None,
        }
    }

    /// Whether the feedback to a visiting petitioner is late.
    pub fn feedback_overdue(&self, now: DateTime<Utc>) -> bool {
        self.feedback_given_at.is_none() && self.feedback_due.is_some_and(|due| now > due)
    }

    /// The deadline that runs now, if any (decision, handling, or review).
    pub fn current_due(&self) -> Option<DateTime<Utc>> {
        match self.status {
            PetitionStatus::Registered => Some(self.decide_due),
            PetitionStatus::Accepted => self.handle_due,
            PetitionStatus::UnderReview | PetitionStatus::UnderReReview => self.review_due,
            _ => None,
        }
    }

    /// Whether the running deadline has passed.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.current_due().is_some_and(|due| now > due)
    }

    /// Applies a command: the next petition and its one event, or why not.
    pub fn apply(
        &self,
        command: &PetitionCommand,
        actor: &PetitionActor,
        now: DateTime<Utc>,
    ) -> Result<(Petition, StepEvent), StepError> {
        let action = command.event_name();
        let in_state = |allowed: &[PetitionStatus]| {
            if allowed.contains(&self.status) {
                Ok(())
            } else {
                Err(StepError::IllegalInState {
                    action,
                    status: self.status.zh(),
                })
            }
        };
        let needs = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(StepError::NotAllowed {
                    action,
                    why: "role",
                })
            }
        };
        let mut next = self.clone();
        match command {
            PetitionCommand::Accept => {
                needs(actor.handles_petitions())?;
                in_state(&[PetitionStatus::Registered])?;
                next.status = PetitionStatus::Accepted;
                next.decided_at = Some(now);
                next.handle_due = Some(calendar_days_after(now, HANDLE_DAYS));
            }
            PetitionCommand::NotAccept { reason } => {
                needs(actor.handles_petitions())?;
                in_state(&[PetitionStatus::Registered])?;
                text("reason", reason, 2_000)?;
                next.status = PetitionStatus::NotAccepted;
                next.decided_at = Some(now);
                next.last_opinion = Some(reason.trim().to_string());
            }
            PetitionCommand::RequestExtension { days, reason } => {
                needs(actor.handles_petitions())?;
                in_state(&[PetitionStatus::Accepted])?;
                text("reason", reason, 2_000)?;
                if self.pending_extension.is_some() {
                    return Err(StepError::Invalid {
                        field: "days",
                        why: "extension_pending",
                    });
                }
                if self.extended_days > 0 {
                    return Err(StepError::Invalid {
                        field: "days",
                        why: "already_extended",
                    });
                }
                if !(1..=MAX_EXTENSION_DAYS).contains(days) {
                    return Err(StepError::Invalid {
                        field: "days",
                        why: "range",
                    });
                }
                next.pending_extension = Some(PetitionExtension {
                    days: *days,
                    reason: reason.trim().to_string(),
                    requested_by: actor.user_id,
                });
            }
            PetitionCommand::DecideExtension { approve, .. } => {
                needs(actor.approves())?;
                in_state(&[PetitionStatus::Accepted])?;
                let Some(pending) = next.pending_extension.take() else {
                    return Err(StepError::Invalid {
                        field: "approve",
                        why: "no_extension_pending",
                    });
                };
                if *approve {
                    next.extended_days = pending.days;
                    next.handle_due = next
                        .handle_due
                        .map(|due| due + chrono::Duration::days(i64::from(pending.days)));
                }
            }
            PetitionCommand::Answer { opinion } => {
                needs(actor.handles_petitions())?;
                in_state(&[PetitionStatus::Accepted])?;
                text("opinion", opinion, 10_000)?;
                next.status = PetitionStatus::Answered;
                next.pending_extension = None;
                next.answered_at = Some(now);
                next.request_until = Some(calendar_days_after(now, REQUEST_WINDOW_DAYS));
                next.last_opinion = Some(opinion.trim().to_string());
            }
            PetitionCommand::RequestReview { .. } | PetitionCommand::RequestReReview { .. } => {
                needs(actor.handles_petitions())?;
                let (from, to) = match command {
                    PetitionCommand::RequestReview { .. } => {
                        (PetitionStatus::Answered, PetitionStatus::UnderReview)
                    }
                    _ => (PetitionStatus::Reviewed, PetitionStatus::UnderReReview),
                };
                in_state(&[from])?;
                if self.request_until.is_some_and(|until| now > until) {
                    return Err(StepError::Invalid {
                        field: "requested_at",
                        why: "window_closed",
                    });
                }
                next.status = to;
                next.request_until = None;
                next.review_due = Some(calendar_days_after(now, REVIEW_DAYS));
            }
            PetitionCommand::AnswerReview { opinion }
            | PetitionCommand::AnswerReReview { opinion } => {
                needs(actor.handles_petitions())?;
                text("opinion", opinion, 10_000)?;
                let (from, to) = match command {
                    PetitionCommand::AnswerReview { .. } => {
                        (PetitionStatus::UnderReview, PetitionStatus::Reviewed)
                    }
                    _ => (PetitionStatus::UnderReReview, PetitionStatus::ReReviewed),
                };
                in_state(&[from])?;
                next.status = to;
                next.review_due = None;
                next.last_opinion = Some(opinion.trim().to_string());
                // After a review the re-review may be requested within 30 days; a re-review is final.
                next.request_until = (to == PetitionStatus::Reviewed)
                    .then(|| calendar_days_after(now, REQUEST_WINDOW_DAYS));
            }
            PetitionCommand::GiveFeedback { note } => {
                needs(actor.handles_petitions())?;
                text("note", note, 2_000)?;
                if self.feedback_due.is_none() || self.feedback_given_at.is_some() {
                    return Err(StepError::Invalid {
                        field: "note",
                        why: "no_feedback_due",
                    });
                }
                next.feedback_given_at = Some(now);
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

/// How often a leader receives petitioners (county leaders monthly, town leaders weekly, village cadres daily).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Cadence {
    /// On this day of each month (moved to the month's last day when it is shorter).
    Monthly { day: u32 },
    /// On this weekday (1 = Monday … 7 = Sunday).
    Weekly { weekday: u32 },
    /// Every Monday to Friday.
    Daily,
}

impl Cadence {
    /// Checks the cadence's numbers.
    pub fn check(&self) -> Result<(), StepError> {
        let ok = match self {
            Cadence::Monthly { day } => (1..=31).contains(day),
            Cadence::Weekly { weekday } => (1..=7).contains(weekday),
            Cadence::Daily => true,
        };
        if ok {
            Ok(())
        } else {
            Err(StepError::Invalid {
                field: "cadence",
                why: "range",
            })
        }
    }

    /// Whether a date is a reception day.
    pub fn falls_on(&self, date: NaiveDate) -> bool {
        match self {
            Cadence::Monthly { day } => {
                let last = last_day_of_month(date);
                date.day() == (*day).min(last)
            }
            Cadence::Weekly { weekday } => date.weekday().number_from_monday() == *weekday,
            Cadence::Daily => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The reception days from `from` to `to` inclusive (at most 400).
    pub fn days(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .take(400)
            .filter(|d| self.falls_on(*d))
            .collect()
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// A milestone of a backlog case's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub due: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// The signed cease-petition commitment (息诉罢访承诺书).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub signed_on: NaiveDate,
    pub signer: String,
    pub text: String,
}

/// A backlog case (信访积案) owned by a leader (包案).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogCase {
    pub leader_user_id: i64,
    pub plan: String,
    pub units: Vec<String>,
    pub milestones: Vec<Milestone>,
    pub status: BacklogStatus,
    pub commitment: Option<Commitment>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Something asked of a backlog case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BacklogCommand {
    AddMilestone {
        title: String,
        due: NaiveDate,
    },
    CompleteMilestone {
        index: usize,
        note: String,
    },
    SetStatus {
        status: BacklogStatus,
        note: String,
    },
    CloseWithCommitment {
        signed_on: NaiveDate,
        signer: String,
        text: String,
    },
}

impl BacklogCommand {
    pub fn event_name(&self) -> &'static str {
        match self {
            BacklogCommand::AddMilestone { .. } => "backlog_milestone_added",
            BacklogCommand::CompleteMilestone { .. } => "backlog_milestone_done",
            BacklogCommand::SetStatus { .. } => "backlog_status_set",
            BacklogCommand::CloseWithCommitment { .. } => "backlog_closed_with_commitment",
        }
    }
}

impl BacklogCase {
    /// Opens a backlog case owned by a leader, with its plan and responsible units.
    pub fn open(
        leader_user_id: i64,
        plan: &str,
        units: Vec<String>,
        actor: &PetitionActor,
        now: DateTime<Utc>,
    ) -> Result<BacklogCase, StepError> {
        if !actor.approves() {
            return Err(StepError::NotAllowed {
                action: "backlog_opened",
                why: "role",
            });
        }
        text("plan", plan, 10_000)?;
        if units.len() > 20 {
            return Err(StepError::Invalid {
                field: "units",
                why: "range",
            });
        }
        Ok(BacklogCase {
            leader_user_id,
            plan: plan.trim().to_string(),
            units,
            milestones: Vec::new(),
            status: BacklogStatus::InProgress,
            commitment: None,
            opened_at: now,
            closed_at: None,
        })
    }

    /// Share of milestones done, 0–100 (none planned: 0, or 100 once closed).
    pub fn progress_percent(&self) -> u32 {
        if self.closed_at.is_some() {
            return 100;
        }
        let total = self.milestones.len();
        if total == 0 {
            return 0;
        }
        let done = self
            .milestones
            .iter()
            .filter(|m| m.done_at.is_some())
            .count();
        u32::try_from(done * 100 / total).unwrap_or(100)
    }

    /// Applies a command: only the owning leader or a supervisor; nothing after the close.
    pub fn apply(
        &self,
        command: &BacklogCommand,
        actor: &PetitionActor,
        now: DateTime<Utc>,
    ) -> Result<(BacklogCase, StepEvent), StepError> {
        let action = command.event_name();
        if !(actor.user_id == self.leader_user_id || actor.approves()) {
            return Err(StepError::NotAllowed {
                action,
                why: "not_owner",
            });
        }
        if self.closed_at.is_some() {
            return Err(StepError::IllegalInState {
                action,
                status: "已息诉罢访",
            });
        }
        let mut next = self.clone();
        match command {
            BacklogCommand::AddMilestone { title, due } => {
                text("title", title, 500)?;
                if next.milestones.len() >= 100 {
                    return Err(StepError::Invalid {
                        field: "title",
                        why: "range",
                    });
                }
                next.milestones.push(Milestone {
                    title: title.trim().to_string(),
                    due: *due,
                    done_at: None,
                    note: None,
                });
            }
            BacklogCommand::CompleteMilestone { index, note } => {
                let Some(milestone) = next.milestones.get_mut(*index) else {
                    return Err(StepError::Invalid {
                        field: "index",
                        why: "range",
                    });
                };
                if milestone.done_at.is_some() {
                    return Err(StepError::Invalid {
                        field: "index",
                        why: "already_decided",
                    });
                }
                milestone.done_at = Some(now);
                milestone.note = Some(note.trim().to_string());
            }
            BacklogCommand::SetStatus { status, .. } => {
                next.status = *status;
            }
            BacklogCommand::CloseWithCommitment {
                signer, text: body, ..
            } => {
                text("signer", signer, 50)?;
                text("text", body, 10_000)?;
                let BacklogCommand::CloseWithCommitment { signed_on, .. } = command else {
                    return Err(StepError::Invalid {
                        field: "action",
                        why: "range",
                    });
                };
                next.commitment = Some(Commitment {
                    signed_on: *signed_on,
                    signer: signer.trim().to_string(),
                    text: body.trim().to_string(),
                });
                next.status = BacklogStatus::Resolved;
                next.closed_at = Some(now);
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

    fn at(month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, 2, 0, 0).unwrap()
    }

    fn region(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    fn facts(at: DateTime<Utc>, who: &str, received: &str) -> PetitionFacts {
        PetitionFacts {
            at,
            petitioner_key: Some(who.into()),
            matter_key: Some(format!("matter-of-{who}")),
            matter_region: region("370883107001"),
            received_region: region(received),
            channel: PetitionChannel::Visit,
            head_count: 1,
        }
    }

    #[test]
    fn flags_table() {
        let town = "370883107";
        let county = "370883";
        let first = facts(at(6, 1), "a", town);
        // (new, earlier, window) -> (repeat, skip_level, group)
        type Row = (PetitionFacts, Vec<PetitionFacts>, u32, (bool, bool, bool));
        let cases: Vec<Row> = vec![
            (
                facts(at(6, 1), "a", town),
                vec![],
                90,
                (false, false, false),
            ),
            (
                facts(at(7, 1), "a", town),
                vec![first.clone()],
                90,
                (true, false, false),
            ),
            // Outside the window: not a repeat.
            (
                facts(at(11, 1), "a", town),
                vec![first.clone()],
                90,
                (false, false, false),
            ),
            // Someone else, other matter.
            (
                facts(at(7, 1), "b", town),
                vec![first.clone()],
                90,
                (false, false, false),
            ),
            // Straight to the county: skip-level; after trying the town first: not.
            (
                facts(at(7, 1), "b", county),
                vec![first.clone()],
                90,
                (false, true, false),
            ),
            (
                facts(at(7, 1), "a", county),
                vec![first.clone()],
                90,
                (true, false, false),
            ),
            // The village itself is below the town: not skip-level.
            (
                facts(at(7, 1), "c", "370883107001"),
                vec![],
                90,
                (false, false, false),
            ),
        ];
        for (i, (new, earlier, window, (repeat, skip, group))) in cases.into_iter().enumerate() {
            let flags = compute_flags(&new, &earlier, window);
            assert_eq!(
                (flags.repeat, flags.skip_level, flags.group),
                (repeat, skip, group),
                "case {i}"
            );
        }
        let mut crowd = facts(at(7, 1), "d", town);
        crowd.head_count = 5;
        assert!(compute_flags(&crowd, &[], 90).group);
        crowd.channel = PetitionChannel::Letter;
        assert!(!compute_flags(&crowd, &[], 90).group);
        // The same matter by another petitioner is a repeat too.
        let mut same_matter = facts(at(7, 1), "e", town);
        same_matter.matter_key = first.matter_key.clone();
        assert!(compute_flags(&same_matter, &[first], 90).repeat);
    }

    fn clerk() -> PetitionActor {
        PetitionActor {
            user_id: 1,
            roles: vec![Role::IntakeClerk],
        }
    }

    fn leader() -> PetitionActor {
        PetitionActor {
            user_id: 2,
            roles: vec![Role::Leader],
        }
    }

    #[test]
    fn statutory_deadlines_in_calendar_days() {
        let p = Petition::register(PetitionFlags::default(), at(11, 23));
        // 15 days: to the end of 8 December, Beijing time.
        assert_eq!(
            p.decide_due,
            Utc.with_ymd_and_hms(2026, 12, 8, 16, 0, 0).unwrap()
        );
        let (p, _) = p
            .apply(&PetitionCommand::Accept, &clerk(), at(11, 24))
            .unwrap();
        // 60 days from 24 November: the end of 23 January.
        assert_eq!(
            p.handle_due,
            Some(Utc.with_ymd_and_hms(2027, 1, 23, 16, 0, 0).unwrap())
        );
        let ask = PetitionCommand::RequestExtension {
            days: 31,
            reason: "情况复杂".into(),
        };
        assert!(p.apply(&ask, &clerk(), at(12, 1)).is_err());
        let ask = PetitionCommand::RequestExtension {
            days: 30,
            reason: "情况复杂".into(),
        };
        let (p, _) = p.apply(&ask, &clerk(), at(12, 1)).unwrap();
        let approve = PetitionCommand::DecideExtension {
            approve: true,
            note: String::new(),
        };
        assert!(matches!(
            p.apply(&approve, &clerk(), at(12, 2)),
            Err(StepError::NotAllowed { .. })
        ));
        let (p, _) = p.apply(&approve, &leader(), at(12, 2)).unwrap();
        assert_eq!(
            p.handle_due,
            Some(Utc.with_ymd_and_hms(2027, 2, 22, 16, 0, 0).unwrap())
        );
        // Only once.
        assert!(p.apply(&ask, &clerk(), at(12, 3)).is_err());
        let (p, _) = p
            .apply(
                &PetitionCommand::Answer {
                    opinion: "答复".into(),
                },
                &clerk(),
                at(12, 10),
            )
            .unwrap();
        // A review asked after 30 days is refused; within, it runs 30 days.
        let review = PetitionCommand::RequestReview {
            note: String::new(),
        };
        assert!(
            p.apply(&review, &clerk(), at(12, 10) + chrono::Duration::days(31))
                .is_err()
        );
        let (p, _) = p.apply(&review, &clerk(), at(12, 20)).unwrap();
        assert_eq!(
            p.review_due,
            Some(Utc.with_ymd_and_hms(2027, 1, 19, 16, 0, 0).unwrap())
        );
        assert!(p.overdue(Utc.with_ymd_and_hms(2027, 1, 19, 16, 0, 1).unwrap()));
        let (p, _) = p
            .apply(
                &PetitionCommand::AnswerReview {
                    opinion: "维持".into(),
                },
                &clerk(),
                at(12, 30),
            )
            .unwrap();
        let (p, _) = p
            .apply(
                &PetitionCommand::RequestReReview {
                    note: String::new(),
                },
                &clerk(),
                at(12, 31),
            )
            .unwrap();
        let (p, e) = p
            .apply(
                &PetitionCommand::AnswerReReview {
                    opinion: "维持".into(),
                },
                &clerk(),
                at(12, 31),
            )
            .unwrap();
        assert_eq!(
            (p.status, e.to),
            (PetitionStatus::ReReviewed, "re_reviewed")
        );
        assert_eq!(p.request_until, None);
    }

    #[test]
    fn cadences() {
        let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert_eq!(Cadence::Monthly { day: 31 }.days(from, to).len(), 4);
        assert!(
            Cadence::Monthly { day: 31 }.falls_on(NaiveDate::from_ymd_opt(2027, 2, 28).unwrap())
        );
        let weekly = Cadence::Weekly { weekday: 1 }.days(from, to);
        assert!(weekly.iter().all(|d| d.weekday() == Weekday::Mon));
        assert_eq!(weekly.len(), 17);
        assert!(Cadence::Monthly { day: 0 }.check().is_err());
        assert!(Cadence::Weekly { weekday: 8 }.check().is_err());
    }

    #[test]
    fn a_backlog_case_closes_with_a_commitment_and_then_takes_nothing() {
        let owner = PetitionActor {
            user_id: 9,
            roles: vec![Role::Leader],
        };
        let b =
            BacklogCase::open(9, "包案化解方案", vec!["dept:1".into()], &owner, at(11, 1)).unwrap();
        assert!(BacklogCase::open(9, "x", vec![], &clerk(), at(11, 1)).is_err());
        let add = BacklogCommand::AddMilestone {
            title: "走访当事人".into(),
            due: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        let (b, _) = b.apply(&add, &owner, at(11, 2)).unwrap();
        assert_eq!(b.progress_percent(), 0);
        let (b, _) = b
            .apply(
                &BacklogCommand::CompleteMilestone {
                    index: 0,
                    note: "已走访".into(),
                },
                &owner,
                at(11, 3),
            )
            .unwrap();
        assert_eq!(b.progress_percent(), 100);
        assert!(b.apply(&add, &clerk(), at(11, 3)).is_err());
        let close = BacklogCommand::CloseWithCommitment {
            signed_on: NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
            signer: "刘建国".into(),
            text: "本人承诺息诉罢访".into(),
        };
        let (b, e) = b.apply(&close, &owner, at(11, 4)).unwrap();
        assert_eq!(
            (b.status, e.name),
            (BacklogStatus::Resolved, "backlog_closed_with_commitment")
        );
        assert!(matches!(
            b.apply(&add, &owner, at(11, 5)),
            Err(StepError::IllegalInState { .. })
        ));
    }
}
