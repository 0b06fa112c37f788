//! Petition use cases (信访): registration with computed flags, the statutory steps, masking and recorded
//! unmasking of the petitioner, leaders' reception schedules with appointments and records (and a leader's
//! calendar), backlog cases owned by a leader, and the petition figures (by channel and category, repeat,
//! skip-level and group counts, villages with zero petitions, backlog progress).
//!
//! Petitions are scoped by territory: the matter's region or the receiving region.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::access::Actor;
use crate::mediation::{mask_json, request_hash, step_error};
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::calendar::{local_date, start_of_local_day};
use fengqiao_domain::codes::{RegionCode, RegionLevel};
use fengqiao_domain::error::FieldError;
use fengqiao_domain::personal::{PhoneNumber, ResidentIdNumber, mask_text};
use fengqiao_domain::petition::{
    BacklogCase, BacklogCommand, BacklogStatus, Cadence, Petition, PetitionActor, PetitionChannel,
    PetitionCommand, PetitionFacts, compute_flags,
};
use fengqiao_store::{
    AppointmentRecord, BacklogRecord, EventDraft, IdempotencyDraft, NewPetition, PetitionRecord,
    ReceptionRecord, RecordCreate, RecordEvent, ScheduleRecord, StateChange,
};

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(field, code, zh, en)])
}

/// A petition to register.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PetitionInput {
    /// visit, letter, online, phone.
    pub channel: String,
    /// How many came (visits); 1 if not given.
    pub head_count: Option<u32>,
    pub petitioner_name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    /// The resident record, where known.
    pub resident_id: Option<i64>,
    /// A sensitive petitioner: the name is masked too.
    #[serde(default)]
    pub sensitive: bool,
    /// The case the petition is about or joins, if any.
    pub case_id: Option<i64>,
    /// The reception (leader's reception day) it was raised at.
    pub reception_id: Option<i64>,
    pub category: Option<String>,
    pub subject: String,
    pub content: String,
    /// Where the matter is (village or town).
    pub region_code: String,
    /// Where it was received (the center's region).
    pub received_region: String,
}

/// A petition as staff see it (numbers masked; a sensitive petitioner's name masked too).
#[derive(Debug, Clone, Serialize)]
pub struct PetitionView {
    pub id: i64,
    pub case_id: Option<i64>,
    pub reception_id: Option<i64>,
    pub channel: String,
    pub head_count: i64,
    pub petitioner_name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub resident_id: Option<i64>,
    pub sensitive: bool,
    pub category: Option<String>,
    pub subject: String,
    pub content: String,
    pub region_code: String,
    pub received_region: String,
    pub repeat: bool,
    pub skip_level: bool,
    pub group: bool,
    pub status: String,
    pub status_zh: &'static str,
    pub current_due: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Feedback to a visiting petitioner (2 working days), until given.
    pub feedback_due: Option<DateTime<Utc>>,
    pub feedback_overdue: bool,
    pub version: i64,
    pub registered_at: DateTime<Utc>,
    /// The clocks and opinions (decision, handling with extension, review, re-review).
    pub detail: serde_json::Value,
}

/// The petitioner's numbers in full (recorded).
#[derive(Debug, Clone, Serialize)]
pub struct UnmaskedPetitioner {
    pub petitioner_name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// A reception schedule to create.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ScheduleInput {
    pub leader_user_id: i64,
    pub region_code: String,
    pub place: String,
    pub cadence: Cadence,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// An appointment (约访).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AppointmentInput {
    pub day: NaiveDate,
    pub petitioner: String,
    pub matter: String,
}

/// A reception held (接访记录).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReceptionInput {
    pub day: NaiveDate,
    #[serde(default)]
    pub notes: String,
}

/// A reception with the petitions raised at it.
#[derive(Debug, Clone, Serialize)]
pub struct ReceptionView {
    #[serde(flatten)]
    pub record: ReceptionRecord,
    pub petitions: Vec<PetitionView>,
}

/// One day of a leader's calendar.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarEntry {
    pub day: NaiveDate,
    pub schedule_id: i64,
    pub place: String,
    pub region_code: String,
    pub appointments: Vec<AppointmentRecord>,
    pub receptions: Vec<ReceptionRecord>,
}

/// Making a petition a backlog case.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BacklogInput {
    pub leader_user_id: i64,
    pub plan: String,
    /// Responsible units, `dept:ID`.
    #[serde(default)]
    pub units: Vec<String>,
}

/// A leader as a picker shows them.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderOption {
    pub id: i64,
    pub display_name: String,
}

/// A backlog case as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct BacklogView {
    pub id: i64,
    pub petition_id: i64,
    pub leader_user_id: i64,
    pub status: String,
    pub status_zh: &'static str,
    pub progress_percent: u32,
    pub version: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub detail: serde_json::Value,
}

/// Petition figures of a period.
#[derive(Debug, Clone, Serialize)]
pub struct PetitionFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: i64,
    pub by_channel: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
    pub repeat: i64,
    pub skip_level: i64,
    pub group: i64,
    /// Head count of group visits.
    pub group_head_count: i64,
    /// Villages in the region with no petition about them in the period (零上访村).
    pub villages: i64,
    pub zero_petition_villages: i64,
    pub zero_petition_share: Option<f64>,
    pub zero_petition_village_codes: Vec<String>,
    /// Backlog cases in scope by status, closed with a commitment, and average progress.
    pub backlog_by_status: BTreeMap<String, i64>,
    pub backlog_closed: i64,
    pub backlog_average_progress: Option<f64>,
}

impl App {
    fn petition_actor(&self, actor: &Actor) -> PetitionActor {
        PetitionActor {
            user_id: actor.user.id,
            roles: actor.roles().into_iter().collect(),
        }
    }

    async fn require_petition_work(&self, actor: &Actor) -> AppResult<()> {
        if self.petition_actor(actor).handles_petitions() {
            Ok(())
        } else {
            self.require(actor, Permission::ReceivePetitioners).await
        }
    }

    fn sees_petition(&self, actor: &Actor, record: &PetitionRecord) -> bool {
        actor.visibility.sees(&record.path) || actor.visibility.sees(&record.received_path)
    }

    async fn visible_petition(&self, actor: &Actor, id: i64) -> AppResult<PetitionRecord> {
        match self.store.get_petition(id).await? {
            Some(p) if self.sees_petition(actor, &p) => Ok(p),
            _ => self.out_of_scope(actor, format!("petition:{id}")).await,
        }
    }

    fn petition_view(&self, record: PetitionRecord) -> AppResult<PetitionView> {
        let state: Petition = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("petition {} state: {e}", record.id)))?;
        let name = if record.sensitive {
            mask_name(&record.petitioner_name)
        } else {
            record.petitioner_name.clone()
        };
        Ok(PetitionView {
            id: record.id,
            case_id: record.case_id,
            reception_id: record.reception_id,
            channel: record.channel,
            head_count: record.head_count,
            petitioner_name: name,
            phone: record.phone.map(|v| v.masked),
            id_number: record.id_number.map(|v| v.masked),
            resident_id: record.resident_id,
            sensitive: record.sensitive,
            category: record.category_code,
            subject: mask_text(&record.subject),
            content: mask_text(&record.content),
            region_code: record.region_code,
            received_region: record.received_region,
            repeat: record.repeat_flag,
            skip_level: record.skip_level,
            group: record.group_flag,
            status_zh: state.status.zh(),
            status: record.status,
            current_due: record.current_due,
            overdue: state.overdue(self.now()),
            feedback_due: state
                .feedback_given_at
                .is_none()
                .then_some(state.feedback_due)
                .flatten(),
            feedback_overdue: state.feedback_overdue(self.now()),
            version: record.version,
            registered_at: record.registered_at,
            detail: mask_json(serde_json::to_value(&state).unwrap_or_default()),
        })
    }

    /// Registers a petition; its flags (repeat, skip-level, group) are computed from the history, its
    /// 15-day decision clock starts. An optional idempotency key makes retries safe.
    pub async fn register_petition(
        &self,
        actor: &Actor,
        input: &PetitionInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<(PetitionView, bool)> {
        self.require_petition_work(actor).await?;
        let mut errors = Vec::new();
        let channel = PetitionChannel::parse(&input.channel);
        if channel.is_none() {
            errors.push(FieldError::new(
                "channel",
                "unknown",
                "信访渠道应为 visit、letter、online 或 phone",
                "channel is visit, letter, online or phone",
            ));
        }
        let head_count = input.head_count.unwrap_or(1);
        if !(1..=10_000).contains(&head_count) {
            errors.push(FieldError::new(
                "head_count",
                "range",
                "人数应在 1 到 10000 之间",
                "head_count is 1 to 10000",
            ));
        }
        let name = input.petitioner_name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            errors.push(FieldError::new(
                "petitioner_name",
                "length",
                "信访人姓名不能为空，且不超过 50 字",
                "the petitioner's name must be 1 to 50 characters",
            ));
        }
        for (field, value, max) in [
            ("subject", &input.subject, 200usize),
            ("content", &input.content, 10_000),
        ] {
            let n = value.trim().chars().count();
            if n == 0 || n > max {
                errors.push(FieldError::new(
                    field,
                    "length",
                    format!("{field} 不能为空，且不超过 {max} 字"),
                    format!("{field} must be 1 to {max} characters"),
                ));
            }
        }
        let phone = match input.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(text) => match PhoneNumber::parse(text) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        let id_number = match input.id_number.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(text) => match ResidentIdNumber::parse(text) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        let matter_region =
            RegionCode::parse(&input.region_code).map_err(|e| e.for_field("region_code"));
        let received_region =
            RegionCode::parse(&input.received_region).map_err(|e| e.for_field("received_region"));
        for e in [&matter_region, &received_region]
            .into_iter()
            .filter_map(|r| r.as_ref().err())
        {
            errors.push(e.clone());
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (Some(channel), Ok(matter_region), Ok(received_region)) =
            (channel, matter_region, received_region)
        else {
            return Err(AppError::Validation(errors));
        };
        let Some(matter) = self.store.get_region(matter_region.as_str()).await? else {
            return Err(invalid(
                "region_code",
                "missing_reference",
                "区划不存在",
                "no such region",
            ));
        };
        let received = match self.store.get_region(received_region.as_str()).await? {
            Some(r) if actor.visibility.sees(&r.path) => r,
            _ => {
                return Err(invalid(
                    "received_region",
                    "missing_reference",
                    "受理地区划不存在或不在权限范围内",
                    "the receiving region does not exist or is outside your scope",
                ));
            }
        };
        if let Some(category) = &input.category {
            self.category(category, "category").await?;
        }
        if let Some(case_id) = input.case_id {
            self.case(actor, case_id).await.map_err(|_| {
                invalid(
                    "case_id",
                    "missing_reference",
                    "案件不存在或不在权限范围内",
                    "the case does not exist or is outside your scope",
                )
            })?;
        }
        if let Some(reception_id) = input.reception_id {
            match self.store.get_reception(reception_id).await? {
                Some(r) if actor.visibility.sees(&r.path) => {}
                _ => {
                    return Err(invalid(
                        "reception_id",
                        "missing_reference",
                        "接访记录不存在",
                        "no such reception",
                    ));
                }
            }
        }
        if let Some(resident_id) = input.resident_id
            && self
                .store
                .get_resident(&actor.visibility, resident_id)
                .await?
                .is_none()
        {
            return Err(invalid(
                "resident_id",
                "missing_reference",
                "居民不存在或不在权限范围内",
                "the resident does not exist or is outside your scope",
            ));
        }
        let phone = match &phone {
            Some(p) => Some(self.keys.seal("phone", p.as_str(), p.masked())?),
            None => None,
        };
        let id_number = match &id_number {
            Some(n) => Some(self.keys.seal("id_number", n.as_str(), n.masked())?),
            None => None,
        };
        let petitioner_key = input
            .resident_id
            .map(|id| format!("resident:{id}"))
            .or_else(|| id_number.as_ref().map(|v| format!("id:{}", v.blind_index)))
            .or_else(|| phone.as_ref().map(|v| format!("phone:{}", v.blind_index)));
        let matter_key = input.case_id.map(|id| format!("case:{id}")).or_else(|| {
            input
                .category
                .as_ref()
                .map(|c| format!("category:{}@{}", c.trim(), matter_region.as_str()))
        });
        let now = self.now();
        let window = self.settings.petition_repeat_window_days;
        let earlier: Vec<PetitionFacts> = self
            .store
            .related_petitions(
                petitioner_key.as_deref(),
                matter_key.as_deref(),
                now - chrono::Duration::days(i64::from(window.max(365))),
            )
            .await?
            .into_iter()
            .filter_map(|p| {
                Some(PetitionFacts {
                    at: p.registered_at,
                    petitioner_key: p.petitioner_key,
                    matter_key: p.matter_key,
                    matter_region: RegionCode::parse(&p.region_code).ok()?,
                    received_region: RegionCode::parse(&p.received_region).ok()?,
                    channel: PetitionChannel::parse(&p.channel)?,
                    head_count: u32::try_from(p.head_count).unwrap_or(1),
                })
            })
            .collect();
        let facts = PetitionFacts {
            at: now,
            petitioner_key: petitioner_key.clone(),
            matter_key: matter_key.clone(),
            matter_region: matter_region.clone(),
            received_region: received_region.clone(),
            channel,
            head_count,
        };
        let flags = compute_flags(&facts, &earlier, window);
        let mut petition = Petition::register(flags, now);
        if channel == PetitionChannel::Visit {
            // Feedback to a visitor within 2 working days, as for cases registered at the window.
            petition.feedback_due = Some(self.calendar().add_working_days(now, 2).at);
        }
        let key = idempotency_key
            .filter(|k| !k.is_empty())
            .map(|k| IdempotencyDraft {
                scope: actor.audit_name(),
                key: k.chars().take(200).collect(),
                request_hash: request_hash(input),
            });
        let event = EventDraft {
            name: "petition_registered".into(),
            from_status: "none".into(),
            to_status: petition.status.as_str().into(),
            actor: actor.audit_name(),
            at: now,
            detail: serde_json::json!({ "flags": flags, "channel": channel.as_str() }),
        };
        let audit = actor.audit(
            now,
            "petition.register",
            "",
            "ok",
            serde_json::json!({ "channel": channel.as_str(), "flags": flags }),
        );
        let created = self
            .store
            .create_petition(
                &NewPetition {
                    case_id: input.case_id,
                    reception_id: input.reception_id,
                    channel: channel.as_str().into(),
                    head_count: i64::from(head_count),
                    petitioner_name: name.to_string(),
                    resident_id: input.resident_id,
                    phone,
                    id_number,
                    sensitive: input.sensitive,
                    petitioner_key,
                    matter_key,
                    category_code: input.category.as_ref().map(|c| c.trim().to_string()),
                    subject: input.subject.trim().to_string(),
                    content: input.content.trim().to_string(),
                    region_code: matter_region.as_str().into(),
                    path: matter.path,
                    received_region: received_region.as_str().into(),
                    received_path: received.path,
                    repeat_flag: flags.repeat,
                    skip_level: flags.skip_level,
                    group_flag: flags.group,
                    status: petition.status.as_str().into(),
                    current_due: petition.current_due(),
                    state: serde_json::to_string(&petition)
                        .map_err(|e| AppError::Internal(format!("petition state: {e}")))?,
                    created_by: Some(actor.user.id),
                    registered_at: now,
                },
                &event,
                key.as_ref(),
                &[audit],
            )
            .await?;
        let (id, replayed) = match created {
            RecordCreate::Created(id) => (id, false),
            RecordCreate::Replayed(id) => (id, true),
            RecordCreate::KeyReused => return Err(AppError::IdempotencyKeyReused),
        };
        let record = self
            .store
            .get_petition(id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((self.petition_view(record)?, replayed))
    }

    /// Petitions registered in a period (local dates, inclusive) that the actor sees, oldest first.
    pub async fn petitions(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<PetitionView>> {
        if to < from || (to - from).num_days() > 400 {
            return Err(invalid(
                "to",
                "range",
                "日期区间无效（最长 400 天）",
                "the period is invalid (at most 400 days)",
            ));
        }
        let start = start_of_local_day(from);
        let end = to
            .succ_opt()
            .map(start_of_local_day)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.store
            .petitions_in_period(&actor.visibility, start, end)
            .await?
            .into_iter()
            .map(|p| self.petition_view(p))
            .collect()
    }

    /// One petition.
    pub async fn petition(&self, actor: &Actor, id: i64) -> AppResult<PetitionView> {
        let record = self.visible_petition(actor, id).await?;
        self.petition_view(record)
    }

    /// A petition's history.
    pub async fn petition_history(&self, actor: &Actor, id: i64) -> AppResult<Vec<RecordEvent>> {
        self.visible_petition(actor, id).await?;
        let mut events = self.store.record_events(&format!("petition:{id}")).await?;
        for e in &mut events {
            e.detail = mask_json(std::mem::take(&mut e.detail));
        }
        Ok(events)
    }

    /// The petitioner's name and numbers in full, for a user with the unmask grant; recorded either way.
    pub async fn unmask_petitioner(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> AppResult<UnmaskedPetitioner> {
        self.require(actor, Permission::LookUpResidents).await?;
        let record = self.visible_petition(actor, id).await?;
        let reason = reason.trim();
        if !actor.may_unmask() {
            let draft = actor.audit(
                self.now(),
                "petition.unmask",
                format!("petition:{id}"),
                "denied",
                serde_json::json!({ "reason": reason }),
            );
            self.store.append_audit(&[draft]).await?;
            return Err(AppError::ForbiddenBecause("unmask_not_granted"));
        }
        if reason.chars().count() < 2 || reason.chars().count() > 200 {
            return Err(invalid(
                "reason",
                "length",
                "请填写查看完整信息的事由（2–200 字）",
                "give the reason for seeing the full numbers (2–200 characters)",
            ));
        }
        let phone = match &record.phone {
            Some(v) => Some(self.keys.decrypt(&v.ciphertext)?),
            None => None,
        };
        let id_number = match &record.id_number {
            Some(v) => Some(self.keys.decrypt(&v.ciphertext)?),
            None => None,
        };
        let draft = actor.audit(
            self.now(),
            "petition.unmask",
            format!("petition:{id}"),
            "ok",
            serde_json::json!({ "reason": reason, "sensitive": record.sensitive }),
        );
        self.store.append_audit(&[draft]).await?;
        Ok(UnmaskedPetitioner {
            petitioner_name: record.petitioner_name,
            phone,
            id_number,
        })
    }

    /// Takes a petition one statutory step (accept or not, extension request and approval, answer, review,
    /// re-review).
    pub async fn act_on_petition(
        &self,
        actor: &Actor,
        id: i64,
        command: &PetitionCommand,
        expected_version: Option<i64>,
    ) -> AppResult<PetitionView> {
        let record = self.visible_petition(actor, id).await?;
        if expected_version.is_some_and(|v| v != record.version) {
            return Err(AppError::Conflict(
                "the petition changed since it was read".into(),
            ));
        }
        let state: Petition = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("petition {id} state: {e}")))?;
        let now = self.now();
        let (next, event) = state
            .apply(command, &self.petition_actor(actor), now)
            .map_err(step_error)?;
        let audit = actor.audit(
            now,
            &format!("petition.{}", event.name.trim_start_matches("petition_")),
            format!("petition:{id}"),
            "ok",
            serde_json::json!({ "to": event.to }),
        );
        self.store
            .change_petition(
                &StateChange {
                    id,
                    expected_version: record.version,
                    status: next.status.as_str().into(),
                    due_or_closed: next.current_due(),
                    state: serde_json::to_string(&next)
                        .map_err(|e| AppError::Internal(format!("petition state: {e}")))?,
                    at: now,
                },
                &event_draft(actor, &event),
                &[audit],
            )
            .await?;
        self.petition(actor, id).await
    }

    // ---------------------------------------------------------------- receptions

    async fn check_leader(&self, field: &str, user_id: i64) -> AppResult<()> {
        let leader = self.store.get_user(user_id).await?;
        if leader
            .is_some_and(|u| !u.disabled && u.roles.iter().any(|g| g.role == Role::Leader.as_str()))
        {
            Ok(())
        } else {
            Err(invalid(
                field,
                "not_a_leader",
                "所选用户不是领导",
                "the user is not a leader",
            ))
        }
    }

    /// Creates a leader's reception schedule (where and how often they receive).
    pub async fn create_schedule(
        &self,
        actor: &Actor,
        input: &ScheduleInput,
    ) -> AppResult<ScheduleRecord> {
        if !(actor.may(Permission::DispatchCases) || actor.may(Permission::ReceivePetitioners)) {
            self.require(actor, Permission::ReceivePetitioners).await?;
        }
        self.check_leader("leader_user_id", input.leader_user_id)
            .await?;
        input.cadence.check().map_err(step_error)?;
        let place = input.place.trim();
        if place.is_empty() || place.chars().count() > 200 {
            return Err(invalid(
                "place",
                "length",
                "地点不能为空，且不超过 200 字",
                "the place must be 1 to 200 characters",
            ));
        }
        if input.valid_to < input.valid_from
            || (input.valid_to - input.valid_from).num_days() > 3660
        {
            return Err(invalid(
                "valid_to",
                "range",
                "有效期无效",
                "the validity period is invalid",
            ));
        }
        match self.store.get_region(input.region_code.trim()).await? {
            Some(r) if actor.visibility.sees(&r.path) => {}
            _ => {
                return Err(invalid(
                    "region_code",
                    "missing_reference",
                    "区划不存在或不在权限范围内",
                    "the region does not exist or is outside your scope",
                ));
            }
        }
        let cadence = serde_json::to_string(&input.cadence)
            .map_err(|e| AppError::Internal(format!("cadence: {e}")))?;
        let now = self.now();
        let audit = actor.audit(
            now,
            "reception.schedule",
            format!("user:{}", input.leader_user_id),
            "ok",
            serde_json::json!({ "region_code": input.region_code, "cadence": input.cadence }),
        );
        let id = self
            .store
            .create_schedule(
                input.leader_user_id,
                input.region_code.trim(),
                place,
                &cadence,
                &input.valid_from.to_string(),
                &input.valid_to.to_string(),
                now,
                &[audit],
            )
            .await?;
        self.store
            .schedules(&actor.visibility, Some(input.leader_user_id))
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(AppError::NotFound)
    }

    async fn visible_schedule(&self, actor: &Actor, id: i64) -> AppResult<ScheduleRecord> {
        match self
            .store
            .schedules(&actor.visibility, None)
            .await?
            .into_iter()
            .find(|s| s.id == id)
        {
            Some(s) => Ok(s),
            None => {
                self.out_of_scope(actor, format!("reception_schedule:{id}"))
                    .await
            }
        }
    }

    fn schedule_falls_on(schedule: &ScheduleRecord, day: NaiveDate) -> bool {
        let cadence: Option<Cadence> = serde_json::from_str(&schedule.cadence).ok();
        let within = schedule.valid_from.as_str() <= day.to_string().as_str()
            && day.to_string().as_str() <= schedule.valid_to.as_str();
        within && cadence.is_some_and(|c| c.falls_on(day))
    }

    /// Books an appointment (约访) on one of the schedule's reception days.
    pub async fn add_appointment(
        &self,
        actor: &Actor,
        schedule_id: i64,
        input: &AppointmentInput,
    ) -> AppResult<AppointmentRecord> {
        self.require_petition_work(actor).await?;
        let schedule = self.visible_schedule(actor, schedule_id).await?;
        if !Self::schedule_falls_on(&schedule, input.day) {
            return Err(invalid(
                "day",
                "not_a_reception_day",
                "该日不是接访日",
                "that day is not a reception day",
            ));
        }
        for (field, value) in [("petitioner", &input.petitioner), ("matter", &input.matter)] {
            let n = value.trim().chars().count();
            if n == 0 || n > 500 {
                return Err(invalid(
                    field,
                    "length",
                    "不能为空，且不超过 500 字",
                    "must be 1 to 500 characters",
                ));
            }
        }
        let now = self.now();
        let audit = actor.audit(
            now,
            "reception.appointment",
            format!("reception_schedule:{schedule_id}"),
            "ok",
            serde_json::json!({ "day": input.day }),
        );
        let id = self
            .store
            .add_appointment(
                schedule_id,
                &input.day.to_string(),
                input.petitioner.trim(),
                input.matter.trim(),
                actor.user.id,
                now,
                &[audit],
            )
            .await?;
        self.store
            .appointments(schedule_id)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(AppError::NotFound)
    }

    /// Records a reception held on one of the schedule's days; petitions raised at it name it.
    pub async fn record_reception(
        &self,
        actor: &Actor,
        schedule_id: i64,
        input: &ReceptionInput,
    ) -> AppResult<ReceptionView> {
        self.require_petition_work(actor).await?;
        let schedule = self.visible_schedule(actor, schedule_id).await?;
        if !Self::schedule_falls_on(&schedule, input.day) {
            return Err(invalid(
                "day",
                "not_a_reception_day",
                "该日不是接访日",
                "that day is not a reception day",
            ));
        }
        if input.notes.chars().count() > 10_000 {
            return Err(invalid(
                "notes",
                "length",
                "记录过长",
                "the notes are too long",
            ));
        }
        let now = self.now();
        let audit = actor.audit(
            now,
            "reception.record",
            format!("reception_schedule:{schedule_id}"),
            "ok",
            serde_json::json!({ "day": input.day }),
        );
        let id = self
            .store
            .add_reception(
                &schedule,
                &input.day.to_string(),
                input.notes.trim(),
                actor.user.id,
                now,
                &[audit],
            )
            .await?;
        self.reception(actor, id).await
    }

    /// A reception with the petitions raised at it.
    pub async fn reception(&self, actor: &Actor, id: i64) -> AppResult<ReceptionView> {
        let record = match self.store.get_reception(id).await? {
            Some(r) if actor.visibility.sees(&r.path) => r,
            _ => return self.out_of_scope(actor, format!("reception:{id}")).await,
        };
        let mut petitions = Vec::new();
        for p in self.store.petitions_of_reception(id).await? {
            if self.sees_petition(actor, &p) {
                petitions.push(self.petition_view(p)?);
            }
        }
        Ok(ReceptionView { record, petitions })
    }

    /// A leader's calendar: their reception days in `[from, to]` with appointments and receptions held.
    pub async fn leader_calendar(
        &self,
        actor: &Actor,
        leader_user_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<CalendarEntry>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        if to < from || (to - from).num_days() > 400 {
            return Err(invalid(
                "to",
                "range",
                "日期区间无效（最长 400 天）",
                "the period is invalid (at most 400 days)",
            ));
        }
        let mut out = Vec::new();
        for schedule in self
            .store
            .schedules(&actor.visibility, Some(leader_user_id))
            .await?
        {
            let Ok(cadence) = serde_json::from_str::<Cadence>(&schedule.cadence) else {
                continue;
            };
            let appointments = self.store.appointments(schedule.id).await?;
            let receptions = self.store.receptions(schedule.id).await?;
            for day in cadence.days(from, to) {
                if !Self::schedule_falls_on(&schedule, day) {
                    continue;
                }
                let text = day.to_string();
                out.push(CalendarEntry {
                    day,
                    schedule_id: schedule.id,
                    place: schedule.place.clone(),
                    region_code: schedule.region_code.clone(),
                    appointments: appointments
                        .iter()
                        .filter(|a| a.day == text)
                        .cloned()
                        .collect(),
                    receptions: receptions
                        .iter()
                        .filter(|r| r.day == text)
                        .cloned()
                        .collect(),
                });
            }
        }
        out.sort_by_key(|e| (e.day, e.schedule_id));
        Ok(out)
    }

    // ---------------------------------------------------------------- backlog cases

    fn backlog_view(&self, record: BacklogRecord) -> AppResult<BacklogView> {
        let state: BacklogCase = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("backlog {} state: {e}", record.id)))?;
        Ok(BacklogView {
            id: record.id,
            petition_id: record.petition_id,
            leader_user_id: record.leader_user_id,
            status: record.status,
            status_zh: state.status.zh(),
            progress_percent: state.progress_percent(),
            version: record.version,
            opened_at: record.opened_at,
            closed_at: record.closed_at,
            detail: mask_json(serde_json::to_value(&state).unwrap_or_default()),
        })
    }

    async fn visible_backlog(&self, actor: &Actor, id: i64) -> AppResult<BacklogRecord> {
        match self.store.get_backlog(id).await? {
            Some(b) if actor.visibility.sees(&b.path) || b.leader_user_id == actor.user.id => Ok(b),
            _ => self.out_of_scope(actor, format!("backlog:{id}")).await,
        }
    }

    /// Makes a petition a backlog case (信访积案) owned by a leader (包案), with a plan and responsible units.
    pub async fn open_backlog(
        &self,
        actor: &Actor,
        petition_id: i64,
        input: &BacklogInput,
    ) -> AppResult<BacklogView> {
        let petition = self.visible_petition(actor, petition_id).await?;
        self.check_leader("leader_user_id", input.leader_user_id)
            .await?;
        for unit in &input.units {
            let known = match unit
                .strip_prefix("dept:")
                .and_then(|id| id.parse::<i64>().ok())
            {
                Some(id) => self.store.get_department(id).await?.is_some(),
                None => false,
            };
            if !known {
                return Err(invalid(
                    "units",
                    "missing_reference",
                    "责任单位应写作 dept:ID 且存在",
                    "units are existing departments written dept:ID",
                ));
            }
        }
        let now = self.now();
        let backlog = BacklogCase::open(
            input.leader_user_id,
            &input.plan,
            input.units.clone(),
            &self.petition_actor(actor),
            now,
        )
        .map_err(step_error)?;
        let state = serde_json::to_string(&backlog)
            .map_err(|e| AppError::Internal(format!("backlog state: {e}")))?;
        let event = EventDraft {
            name: "backlog_opened".into(),
            from_status: "none".into(),
            to_status: BacklogStatus::InProgress.as_str().into(),
            actor: actor.audit_name(),
            at: now,
            detail: serde_json::json!({ "petition_id": petition.id, "leader_user_id": input.leader_user_id, "units": input.units }),
        };
        let audit = actor.audit(now, "backlog.open", "", "ok", serde_json::json!({ "petition_id": petition.id, "leader_user_id": input.leader_user_id }));
        let id = self
            .store
            .create_backlog(
                &petition,
                input.leader_user_id,
                &state,
                now,
                &event,
                &[audit],
            )
            .await?;
        self.backlog(actor, id).await
    }

    /// One backlog case.
    pub async fn backlog(&self, actor: &Actor, id: i64) -> AppResult<BacklogView> {
        let record = self.visible_backlog(actor, id).await?;
        self.backlog_view(record)
    }

    /// Backlog cases in scope or owned by the actor.
    pub async fn backlogs(&self, actor: &Actor) -> AppResult<Vec<BacklogView>> {
        let records = self
            .store
            .backlogs(&actor.visibility, Some(actor.user.id))
            .await?;
        records.into_iter().map(|r| self.backlog_view(r)).collect()
    }

    /// A backlog case's history.
    pub async fn backlog_history(&self, actor: &Actor, id: i64) -> AppResult<Vec<RecordEvent>> {
        self.visible_backlog(actor, id).await?;
        Ok(self.store.record_events(&format!("backlog:{id}")).await?)
    }

    /// Takes a backlog case one step (milestone added or done, status, close with the commitment).
    pub async fn act_on_backlog(
        &self,
        actor: &Actor,
        id: i64,
        command: &BacklogCommand,
        expected_version: Option<i64>,
    ) -> AppResult<BacklogView> {
        let record = self.visible_backlog(actor, id).await?;
        if expected_version.is_some_and(|v| v != record.version) {
            return Err(AppError::Conflict(
                "the backlog case changed since it was read".into(),
            ));
        }
        let state: BacklogCase = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("backlog {id} state: {e}")))?;
        let now = self.now();
        let (next, event) = state
            .apply(command, &self.petition_actor(actor), now)
            .map_err(step_error)?;
        let audit = actor.audit(
            now,
            &format!("backlog.{}", event.name.trim_start_matches("backlog_")),
            format!("backlog:{id}"),
            "ok",
            serde_json::json!({ "to": event.to }),
        );
        self.store
            .change_backlog(
                &StateChange {
                    id,
                    expected_version: record.version,
                    status: next.status.as_str().into(),
                    due_or_closed: next.closed_at,
                    state: serde_json::to_string(&next)
                        .map_err(|e| AppError::Internal(format!("backlog state: {e}")))?,
                    at: now,
                },
                &event_draft(actor, &event),
                &[audit],
            )
            .await?;
        self.backlog(actor, id).await
    }

    // ---------------------------------------------------------------- figures

    /// Petition figures of a period (local dates, inclusive) within a region in scope (default: the
    /// actor's first region scope).
    pub async fn petition_figures(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        region_code: Option<&str>,
    ) -> AppResult<PetitionFigures> {
        if !(actor.may(Permission::ReadFigures) || actor.may(Permission::DispatchCases)) {
            self.require(actor, Permission::ReadFigures).await?;
        }
        if to < from || (to - from).num_days() > 3660 {
            return Err(invalid(
                "to",
                "range",
                "统计区间无效",
                "the period is invalid",
            ));
        }
        let start = start_of_local_day(from);
        let end = to
            .succ_opt()
            .map(start_of_local_day)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let region_path = match region_code {
            Some(code) => match self.store.get_region(code.trim()).await? {
                Some(r) if actor.visibility.sees(&r.path) => Some(r.path),
                _ => return self.out_of_scope(actor, format!("region:{code}")).await,
            },
            None => actor.visibility.path_prefixes.first().cloned(),
        };
        let visibility = match &region_path {
            Some(path) => fengqiao_store::Visibility::of([path.clone()]),
            None => fengqiao_store::Visibility::nothing(),
        };
        let petitions = self
            .store
            .petitions_in_period(&visibility, start, end)
            .await?;
        let mut figures = PetitionFigures {
            from,
            to,
            total: petitions.len() as i64,
            by_channel: BTreeMap::new(),
            by_category: BTreeMap::new(),
            repeat: 0,
            skip_level: 0,
            group: 0,
            group_head_count: 0,
            villages: 0,
            zero_petition_villages: 0,
            zero_petition_share: None,
            zero_petition_village_codes: Vec::new(),
            backlog_by_status: BTreeMap::new(),
            backlog_closed: 0,
            backlog_average_progress: None,
        };
        for p in &petitions {
            *figures.by_channel.entry(p.channel.clone()).or_default() += 1;
            *figures
                .by_category
                .entry(p.category_code.clone().unwrap_or_else(|| "none".into()))
                .or_default() += 1;
            figures.repeat += i64::from(p.repeat_flag);
            figures.skip_level += i64::from(p.skip_level);
            if p.group_flag {
                figures.group += 1;
                figures.group_head_count += p.head_count;
            }
        }
        if let Some(path) = &region_path {
            let villages = self.store.villages_under(path).await?;
            figures.villages = villages.len() as i64;
            for (code, _) in villages {
                let petitioned = petitions.iter().any(|p| {
                    RegionCode::parse(&p.region_code).is_ok_and(|r| {
                        r.level() == RegionLevel::Village && r.as_str() == code
                            || p.region_code.starts_with(&code)
                    })
                });
                if !petitioned {
                    figures.zero_petition_village_codes.push(code);
                }
            }
            figures.zero_petition_villages = figures.zero_petition_village_codes.len() as i64;
            figures.zero_petition_share = (figures.villages > 0)
                .then(|| figures.zero_petition_villages as f64 / figures.villages as f64);
        }
        let backlogs = self.store.backlogs(&visibility, None).await?;
        let mut progress = Vec::new();
        for b in backlogs {
            *figures
                .backlog_by_status
                .entry(b.status.clone())
                .or_default() += 1;
            figures.backlog_closed += i64::from(b.closed_at.is_some());
            if let Ok(state) = serde_json::from_str::<BacklogCase>(&b.state) {
                progress.push(f64::from(state.progress_percent()));
            }
        }
        figures.backlog_average_progress =
            (!progress.is_empty()).then(|| progress.iter().sum::<f64>() / progress.len() as f64);
        Ok(figures)
    }

    /// Reception schedules in scope, optionally of one leader.
    pub async fn schedules(
        &self,
        actor: &Actor,
        leader_user_id: Option<i64>,
    ) -> AppResult<Vec<ScheduleRecord>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        Ok(self
            .store
            .schedules(&actor.visibility, leader_user_id)
            .await?)
    }

    /// Leaders whose home region lies in the actor's scope, with the actor when they are a leader (for
    /// choosing whose reception days to show, and naming the owners of backlog cases).
    pub async fn leaders(&self, actor: &Actor) -> AppResult<Vec<LeaderOption>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        let is_leader = |u: &fengqiao_store::UserRecord| {
            !u.disabled && u.roles.iter().any(|g| g.role == Role::Leader.as_str())
        };
        let mut out: Vec<LeaderOption> = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .store
                .list_users(
                    &actor.visibility,
                    None,
                    fengqiao_store::Page { offset, limit: 500 },
                )
                .await?;
            let n = page.items.len() as i64;
            out.extend(
                page.items
                    .iter()
                    .filter(|u| is_leader(u))
                    .map(|u| LeaderOption {
                        id: u.id,
                        display_name: u.display_name.clone(),
                    }),
            );
            offset += n;
            if n == 0 || offset >= page.total || offset >= 10_000 {
                break;
            }
        }
        if actor.roles().contains(&Role::Leader) && !out.iter().any(|l| l.id == actor.user.id) {
            out.push(LeaderOption {
                id: actor.user.id,
                display_name: actor.user.display_name.clone(),
            });
        }
        Ok(out)
    }

    /// Today's local date (for callers that default a period).
    pub fn today(&self) -> NaiveDate {
        local_date(self.now())
    }
}

/// A name shown masked: the first character, then `*` for the rest (`刘**`).
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

fn event_draft(actor: &Actor, event: &fengqiao_domain::mediation::StepEvent) -> EventDraft {
    EventDraft {
        name: event.name.to_string(),
        from_status: event.from.to_string(),
        to_status: event.to.to_string(),
        actor: actor.audit_name(),
        at: event.at,
        detail: event.detail.clone(),
    }
}
