//! Mediation use cases: committees and mediators (with caseload and success rate), opening a mediation on a
//! dispute case, its steps (each also written to the case's timeline), the agreement document (PDF/DOCX),
//! and the mediation figures with their drill-down.
//!
//! A committee scope (`committee:ID`) sees that committee's mediations and the cases they are about; region
//! scopes see mediations of cases in their territory.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::calendar::{local_date, start_of_local_day};
use fengqiao_domain::codes::{RegionCode, Scope};
use fengqiao_domain::error::FieldError;
use fengqiao_domain::mediation::{
    CommitteeKind, Linkage, LinkageKind, Mediation, MediationActor, MediationCommand,
    MediationKind, MediationParty, MediationStatus, MediatorKind, NextPath, Opening, StepError,
    StepEvent, check_rota, on_duty,
};
use fengqiao_domain::personal::mask_text;
use fengqiao_store::{
    CaseRecord, CommitteeRecord, EventDraft, IdempotencyDraft, MediationChange, MediationFilter,
    MediationRecord, MediatorRecord, NewCommittee, NewMediation, NewMediator, Page, Paged,
    RecordCreate,
};

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(field, code, zh, en)])
}

/// A refused step as the API reports it.
pub(crate) fn step_error(error: StepError) -> AppError {
    match &error {
        StepError::Invalid { field, why } => AppError::Validation(vec![FieldError::new(
            *field,
            why,
            error.message_zh(),
            error.to_string(),
        )]),
        StepError::IllegalInState { .. } => AppError::Transition {
            code: "illegal_transition",
            zh: error.message_zh(),
            en: error.to_string(),
        },
        StepError::NotAllowed { .. } => AppError::Transition {
            code: "not_allowed",
            zh: error.message_zh(),
            en: error.to_string(),
        },
    }
}

/// The hash of a request body under an idempotency key.
pub(crate) fn request_hash<T: Serialize>(body: &T) -> String {
    let text = serde_json::to_string(body).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Masks personal numbers typed anywhere in a JSON value.
pub(crate) fn mask_json(value: serde_json::Value) -> serde_json::Value {
    match serde_json::to_string(&value) {
        Ok(text) => serde_json::from_str(&mask_text(&text)).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// A committee to create.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CommitteeInput {
    pub name: String,
    /// village, town, industry, enterprise.
    pub kind: String,
    /// For industry committees: land, medical, labour, traffic_accident, or another field an admin names.
    #[serde(default)]
    pub field: String,
    pub region_code: String,
}

/// A mediator to add to a committee.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MediatorInput {
    pub name: String,
    /// staff, lawyer, retired_judge, deputy_or_member, counsellor, volunteer.
    pub kind: String,
    /// The user account the mediator signs in with, if any.
    pub user_id: Option<i64>,
    /// Days of the month the mediator sits (两代表一委员 on a rota); empty = every day.
    #[serde(default)]
    pub rota_days: Vec<u32>,
}

/// A mediator as the dispatcher choosing one sees them.
#[derive(Debug, Clone, Serialize)]
pub struct MediatorView {
    #[serde(flatten)]
    pub record: MediatorRecord,
    pub kind_zh: &'static str,
    /// Sits on the day asked about (today if none).
    pub on_duty: bool,
    /// Open mediations (caseload).
    pub open_mediations: i64,
    pub concluded: i64,
    pub agreed: i64,
    /// agreed / concluded, all time.
    pub success_rate: Option<f64>,
}

/// The office that handed the dispute over.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LinkageInput {
    /// petition (访调), litigation (诉调), police (警调/公调), special (专调).
    pub kind: String,
    pub handing_office: String,
}

/// Opening (accepting) a mediation on a dispute case.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OpenMediationInput {
    pub committee_id: i64,
    pub mediator_user_id: Option<i64>,
    /// people (人民调解), administrative (行政调解), judicial (司法调解).
    pub kind: String,
    pub linkage: Option<LinkageInput>,
    /// The failed mediation this one continues (多元调解).
    pub previous_mediation_id: Option<i64>,
    /// Departments taking part (多元调解).
    #[serde(default)]
    pub departments: Vec<i64>,
}

/// A mediation as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct MediationView {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub committee_id: i64,
    pub committee_name: String,
    pub previous_id: Option<i64>,
    pub kind: String,
    pub step: String,
    pub status: String,
    pub status_zh: &'static str,
    pub accepted_at: DateTime<Utc>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    /// The follow-up visit is past due (flagged like any deadline).
    pub follow_up_overdue: bool,
    pub performed: Option<bool>,
    pub version: i64,
    /// Hearing, sessions, agreement, failure and next path, judicial confirmation, follow-up (numbers masked).
    pub detail: serde_json::Value,
}

/// Which mediations a list shows (local days, inclusive).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MediationListQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub statuses: Vec<String>,
    pub committee_id: Option<i64>,
    pub follow_ups_due: bool,
}

/// Grouping of the mediation figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediationGroup {
    Committee,
    Mediator,
    Kind,
    Category,
    Region,
    Step,
}

/// One row of the mediation figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MediationFigureRow {
    pub key: String,
    pub label: String,
    /// Accepted in the period.
    pub accepted: i64,
    /// Concluded (agreement or failure) in the period.
    pub concluded: i64,
    /// Concluded with an agreement in the period.
    pub succeeded: i64,
    /// 调解成功率 = succeeded / concluded.
    pub success_rate: Option<f64>,
    /// Agreements concluded in the period whose follow-up found them performed.
    pub performed: i64,
}

/// The mediation figures of a period.
#[derive(Debug, Clone, Serialize)]
pub struct MediationFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: MediationGroup,
    pub rows: Vec<MediationFigureRow>,
    pub total: MediationFigureRow,
    /// Agreements whose follow-up visit is overdue now.
    pub follow_ups_overdue: i64,
}

/// A figure's drill-down: the mediations behind one number.
#[derive(Debug, Clone, Serialize)]
pub struct MediationDrill {
    pub mediation_id: i64,
    pub case_id: i64,
    pub status: String,
}

fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn in_period(at: Option<DateTime<Utc>>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    at.is_some_and(|at| at >= from && at < to)
}

/// Which measures a mediation counts in for a period.
fn measures(m: &MediationRecord, from: DateTime<Utc>, to: DateTime<Utc>) -> [bool; 4] {
    let accepted = in_period(Some(m.accepted_at), from, to);
    let concluded = in_period(m.concluded_at, from, to)
        && matches!(m.status.as_str(), "agreed" | "failed" | "followed_up");
    let succeeded = concluded && matches!(m.status.as_str(), "agreed" | "followed_up");
    let performed = succeeded && m.performed == Some(true);
    [accepted, concluded, succeeded, performed]
}

fn period(from: NaiveDate, to: NaiveDate) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    if to < from || (to - from).num_days() > 3660 {
        return Err(invalid(
            "to",
            "range",
            "统计区间无效",
            "the period is invalid",
        ));
    }
    let end = to
        .succ_opt()
        .map(start_of_local_day)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    Ok((start_of_local_day(from), end))
}

impl App {
    /// The committees an actor mediates for (`committee:ID` scopes).
    pub fn actor_committees(&self, actor: &Actor) -> Vec<i64> {
        let mut ids: Vec<i64> = actor
            .grants
            .iter()
            .filter_map(|(_, s)| match s {
                Scope::Committee(id) => Some(*id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn mediation_actor(&self, actor: &Actor) -> MediationActor {
        MediationActor {
            user_id: actor.user.id,
            roles: actor.roles().into_iter().collect(),
            committees: self.actor_committees(actor),
        }
    }

    /// Creates a mediation committee (admin).
    pub async fn create_committee(
        &self,
        actor: &Actor,
        input: &CommitteeInput,
    ) -> AppResult<CommitteeRecord> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let mut errors = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new(
                "name",
                "length",
                "名称不能为空，且不超过 100 字",
                "the name must be 1 to 100 characters",
            ));
        }
        let kind = CommitteeKind::parse(&input.kind);
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "unknown",
                "调委会类型应为 village、town、industry 或 enterprise",
                "kind is village, town, industry or enterprise",
            ));
        }
        if input.field.chars().count() > 50 {
            errors.push(FieldError::new(
                "field",
                "length",
                "行业领域不超过 50 字",
                "the field may not exceed 50 characters",
            ));
        }
        let region = RegionCode::parse(&input.region_code).map_err(|e| e.for_field("region_code"));
        if let Err(e) = &region {
            errors.push(e.clone());
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (Some(kind), Ok(region)) = (kind, region) else {
            return Err(AppError::Validation(errors));
        };
        match self.store.get_region(region.as_str()).await? {
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
        let now = self.now();
        let audit = actor.audit(
            now,
            "committee.create",
            "",
            "ok",
            serde_json::json!({ "name": name, "kind": kind.as_str(), "region_code": region.as_str() }),
        );
        let id = self
            .store
            .create_committee(
                &NewCommittee {
                    name: name.to_string(),
                    kind: kind.as_str().to_string(),
                    field: input.field.trim().to_string(),
                    region_code: region.as_str().to_string(),
                    created_at: now,
                },
                &[audit],
            )
            .await?;
        self.store
            .get_committee(id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Whether an actor sees a committee: by territory or as its member.
    fn sees_committee(&self, actor: &Actor, committee: &CommitteeRecord) -> bool {
        actor.visibility.sees(&committee.path)
            || self.actor_committees(actor).contains(&committee.id)
    }

    async fn visible_committee(&self, actor: &Actor, id: i64) -> AppResult<CommitteeRecord> {
        match self.store.get_committee(id).await? {
            Some(c) if self.sees_committee(actor, &c) => Ok(c),
            _ => self.out_of_scope(actor, format!("committee:{id}")).await,
        }
    }

    /// Committees the actor sees.
    pub async fn committees(&self, actor: &Actor) -> AppResult<Vec<CommitteeRecord>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        Ok(self
            .store
            .list_committees(&actor.visibility, &self.actor_committees(actor))
            .await?)
    }

    /// One committee.
    pub async fn committee(&self, actor: &Actor, id: i64) -> AppResult<CommitteeRecord> {
        self.require(actor, Permission::ReadOrganisation).await?;
        self.visible_committee(actor, id).await
    }

    /// Adds a mediator to a committee (admin).
    pub async fn add_mediator(
        &self,
        actor: &Actor,
        committee_id: i64,
        input: &MediatorInput,
    ) -> AppResult<MediatorView> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let committee = self.visible_committee(actor, committee_id).await?;
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(invalid(
                "name",
                "length",
                "姓名不能为空，且不超过 50 字",
                "the name must be 1 to 50 characters",
            ));
        }
        let Some(kind) = MediatorKind::parse(&input.kind) else {
            return Err(invalid(
                "kind",
                "unknown",
                "调解员类型应为 staff、lawyer、retired_judge、deputy_or_member、counsellor 或 volunteer",
                "kind is staff, lawyer, retired_judge, deputy_or_member, counsellor or volunteer",
            ));
        };
        check_rota(&input.rota_days).map_err(step_error)?;
        if let Some(user_id) = input.user_id
            && self.store.get_user(user_id).await?.is_none()
        {
            return Err(invalid(
                "user_id",
                "missing_reference",
                "用户不存在",
                "no such user",
            ));
        }
        let now = self.now();
        let audit = actor.audit(
            now,
            "committee.mediator_add",
            format!("committee:{}", committee.id),
            "ok",
            serde_json::json!({ "name": name, "kind": kind.as_str(), "rota_days": input.rota_days }),
        );
        let id = self
            .store
            .add_mediator(
                &NewMediator {
                    committee_id: committee.id,
                    user_id: input.user_id,
                    name: name.to_string(),
                    kind: kind.as_str().to_string(),
                    rota_days: input.rota_days.clone(),
                    created_at: now,
                },
                &[audit],
            )
            .await?;
        self.mediators(actor, committee.id, None)
            .await?
            .into_iter()
            .find(|m| m.record.id == id)
            .ok_or(AppError::NotFound)
    }

    /// A committee's mediators with their rota, caseload and success rate (for choosing one).
    pub async fn mediators(
        &self,
        actor: &Actor,
        committee_id: i64,
        on: Option<NaiveDate>,
    ) -> AppResult<Vec<MediatorView>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        let committee = self.visible_committee(actor, committee_id).await?;
        let day = on.unwrap_or_else(|| local_date(self.now()));
        let loads = self.store.mediator_loads(committee.id).await?;
        let mut out = Vec::new();
        for record in self.store.mediators(committee.id).await? {
            let (open, concluded, agreed) = record
                .user_id
                .and_then(|u| loads.iter().find(|l| l.0 == u))
                .map_or((0, 0, 0), |l| (l.1, l.2, l.3));
            out.push(MediatorView {
                kind_zh: MediatorKind::parse(&record.kind).map_or("", |k| k.zh()),
                on_duty: on_duty(&record.rota_days, day),
                open_mediations: open,
                concluded,
                agreed,
                success_rate: rate(agreed, concluded),
                record,
            });
        }
        Ok(out)
    }

    /// Whether an actor sees a mediation: as its committee, or by seeing its case.
    async fn sees_mediation(&self, actor: &Actor, record: &MediationRecord) -> AppResult<bool> {
        let committees = self.actor_committees(actor);
        if committees.contains(&record.committee_id) {
            return Ok(true);
        }
        // A committee that mediated the case earlier still sees its later steps.
        if !committees.is_empty()
            && self
                .store
                .mediations_of_case(record.case_id)
                .await?
                .iter()
                .any(|m| committees.contains(&m.committee_id))
        {
            return Ok(true);
        }
        let Some(case) = self.store.get_case(record.case_id).await? else {
            return Ok(false);
        };
        let units = self.store.case_units(case.id).await?;
        Ok(self.case_visibility(actor).sees(&case, &units))
    }

    async fn visible_mediation(&self, actor: &Actor, id: i64) -> AppResult<MediationRecord> {
        match self.store.get_mediation(id).await? {
            Some(record) if self.sees_mediation(actor, &record).await? => Ok(record),
            _ => self.out_of_scope(actor, format!("mediation:{id}")).await,
        }
    }

    async fn mediation_view(&self, record: MediationRecord) -> AppResult<MediationView> {
        let state: Mediation = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("mediation {} state: {e}", record.id)))?;
        let committee_name = self
            .store
            .get_committee(record.committee_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        let case_number = self
            .store
            .get_case(record.case_id)
            .await?
            .map(|c| c.number)
            .unwrap_or_default();
        let overdue = state.follow_up_overdue(self.now());
        Ok(MediationView {
            id: record.id,
            case_id: record.case_id,
            case_number,
            committee_id: record.committee_id,
            committee_name,
            previous_id: record.previous_id,
            kind: record.kind,
            step: record.step,
            status_zh: state.status.zh(),
            status: record.status,
            accepted_at: record.accepted_at,
            concluded_at: record.concluded_at,
            follow_up_due: record.follow_up_due,
            follow_up_overdue: overdue,
            performed: record.performed,
            version: record.version,
            detail: mask_json(serde_json::to_value(&state).unwrap_or_default()),
        })
    }

    /// One mediation.
    pub async fn mediation(&self, actor: &Actor, id: i64) -> AppResult<MediationView> {
        let record = self.visible_mediation(actor, id).await?;
        self.mediation_view(record).await
    }

    /// A page of the mediations the actor sees (their committees' and their territory's), filtered: newest
    /// first, or with `follow_ups_due` the agreements still to be visited, soonest visit first. Same
    /// permission as the figures.
    pub async fn list_mediations(
        &self,
        actor: &Actor,
        query: &MediationListQuery,
        page: Page,
    ) -> AppResult<Paged<MediationView>> {
        if !(actor.may(Permission::ReadFigures)
            || actor.may(Permission::DispatchCases)
            || actor.may(Permission::Mediate))
        {
            self.require(actor, Permission::ReadFigures).await?;
        }
        const STATUSES: [&str; 5] = ["accepted", "in_progress", "agreed", "failed", "followed_up"];
        if let Some(bad) = query
            .statuses
            .iter()
            .find(|s| !STATUSES.contains(&s.as_str()))
        {
            return Err(AppError::Validation(vec![FieldError::new(
                "status",
                "unknown",
                format!(
                    "未知的调解状态：{bad}（应为 accepted、in_progress、agreed、failed 或 followed_up）"
                ),
                format!(
                    "unknown mediation status {bad}: accepted, in_progress, agreed, failed or followed_up"
                ),
            )]));
        }
        let (from, to) = match (query.from, query.to) {
            (Some(from), Some(to)) => {
                let (start, end) = period(from, to)?;
                (Some(start), Some(end))
            }
            (Some(from), None) => (Some(start_of_local_day(from)), None),
            (None, Some(to)) => (None, to.succ_opt().map(start_of_local_day)),
            (None, None) => (None, None),
        };
        let filter = MediationFilter {
            from,
            to,
            statuses: query.statuses.clone(),
            committee_id: query.committee_id,
            follow_ups_due: query.follow_ups_due,
        };
        let found = self
            .store
            .list_mediations(
                &actor.visibility,
                &self.actor_committees(actor),
                &filter,
                page,
            )
            .await?;
        let mut items = Vec::with_capacity(found.items.len());
        for record in found.items {
            items.push(self.mediation_view(record).await?);
        }
        Ok(Paged {
            items,
            total: found.total,
        })
    }

    /// The mediations of a case the actor sees.
    pub async fn case_mediations(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> AppResult<Vec<MediationView>> {
        self.case(actor, case_id).await?;
        let mut out = Vec::new();
        for record in self.store.mediations_of_case(case_id).await? {
            out.push(self.mediation_view(record).await?);
        }
        Ok(out)
    }

    /// Whether the actor may see a case for opening a mediation on it: by the usual case visibility, or as a
    /// mediator of a committee whose territory holds the case.
    async fn case_for_mediation(
        &self,
        actor: &Actor,
        case_id: i64,
        committee: &CommitteeRecord,
    ) -> AppResult<CaseRecord> {
        let Some(case) = self.store.get_case(case_id).await? else {
            return self.out_of_scope(actor, format!("case:{case_id}")).await;
        };
        let units = self.store.case_units(case.id).await?;
        let seen = self.case_visibility(actor).sees(&case, &units)
            || (self.actor_committees(actor).contains(&committee.id)
                && (case.path.starts_with(&committee.path)
                    || self
                        .store
                        .mediations_of_case(case.id)
                        .await?
                        .iter()
                        .any(|m| m.committee_id == committee.id)));
        if !seen {
            return self
                .out_of_scope(actor, format!("case:{}", case.number))
                .await;
        }
        Ok(case)
    }

    /// Opens (accepts) a mediation on a dispute case; the step goes to the case's timeline. An optional
    /// idempotency key makes retries safe.
    pub async fn open_mediation(
        &self,
        actor: &Actor,
        case_id: i64,
        input: &OpenMediationInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<(MediationView, bool)> {
        if !(actor.may(Permission::Mediate) || actor.may(Permission::DispatchCases)) {
            self.require(actor, Permission::Mediate).await?;
        }
        let Some(committee) = self.store.get_committee(input.committee_id).await? else {
            return Err(invalid(
                "committee_id",
                "missing_reference",
                "调委会不存在",
                "no such committee",
            ));
        };
        let case = self.case_for_mediation(actor, case_id, &committee).await?;
        let key = idempotency_key
            .filter(|k| !k.is_empty())
            .map(|k| IdempotencyDraft {
                scope: actor.audit_name(),
                key: k.chars().take(200).collect(),
                request_hash: request_hash(&(case_id, input)),
            });
        if case.kind != "dispute" {
            return Err(invalid(
                "case_id",
                "not_a_dispute",
                "只有矛盾纠纷类案件可以调解",
                "only dispute cases are mediated",
            ));
        }
        let Some(kind) = MediationKind::parse(&input.kind) else {
            return Err(invalid(
                "kind",
                "unknown",
                "调解类型应为 people、administrative 或 judicial",
                "kind is people, administrative or judicial",
            ));
        };
        let linkage = match &input.linkage {
            None => None,
            Some(l) => match LinkageKind::parse(&l.kind) {
                Some(kind) => Some(Linkage {
                    kind,
                    handing_office: l.handing_office.trim().to_string(),
                }),
                None => {
                    return Err(invalid(
                        "linkage.kind",
                        "unknown",
                        "对接类型应为 petition、litigation、police 或 special",
                        "linkage kind is petition, litigation, police or special",
                    ));
                }
            },
        };
        if let Some(user_id) = input.mediator_user_id {
            let known = self
                .store
                .mediators(committee.id)
                .await?
                .iter()
                .any(|m| m.user_id == Some(user_id) && m.active);
            if !known {
                return Err(invalid(
                    "mediator_user_id",
                    "not_a_mediator",
                    "该用户不是本调委会的调解员",
                    "the user is not a mediator of this committee",
                ));
            }
        }
        for id in &input.departments {
            if self.store.get_department(*id).await?.is_none() {
                return Err(invalid(
                    "departments",
                    "missing_reference",
                    "部门不存在",
                    "no such department",
                ));
            }
        }
        let previous = match input.previous_mediation_id {
            None => None,
            Some(id) => match self.store.get_mediation(id).await? {
                Some(p) if p.case_id == case.id => Some(
                    serde_json::from_str::<Mediation>(&p.state)
                        .map_err(|e| AppError::Internal(format!("mediation {id}: {e}")))?,
                ),
                _ => {
                    return Err(invalid(
                        "previous_mediation_id",
                        "missing_reference",
                        "该案件没有这次调解",
                        "no such mediation of this case",
                    ));
                }
            },
        };
        let parties: Vec<MediationParty> = self
            .store
            .case_parties(case.id)
            .await?
            .into_iter()
            .filter(|p| !p.name.trim().is_empty())
            .map(|p| MediationParty {
                role: p.role,
                name: p.name,
            })
            .collect();
        let now = self.now();
        let (mediation, event) = Mediation::open(
            Opening {
                committee_id: committee.id,
                mediator_user_id: input.mediator_user_id,
                kind,
                linkage,
                parties,
                previous,
                departments: input.departments.clone(),
            },
            &self.mediation_actor(actor),
            now,
        )
        .map_err(step_error)?;
        let state = serde_json::to_string(&mediation)
            .map_err(|e| AppError::Internal(format!("mediation state: {e}")))?;
        let audit = actor.audit(
            now,
            "mediation.open",
            "",
            "ok",
            serde_json::json!({ "case": case.number, "committee_id": committee.id, "step": mediation.step }),
        );
        let created = self
            .store
            .create_mediation(
                &NewMediation {
                    case_id: case.id,
                    committee_id: committee.id,
                    mediator_user_id: input.mediator_user_id,
                    previous_id: input.previous_mediation_id,
                    kind: kind.as_str().to_string(),
                    step: mediation.step.as_str().to_string(),
                    status: mediation.status.as_str().to_string(),
                    category_code: case.category_code.clone(),
                    region_code: case.region_code.clone(),
                    path: case.path.clone(),
                    accepted_at: now,
                    state,
                },
                &case_event(&case, actor, &event, None),
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
            .get_mediation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((self.mediation_view(record).await?, replayed))
    }

    /// Checks the references a command names.
    async fn check_mediation_command(&self, command: &MediationCommand) -> AppResult<()> {
        if let MediationCommand::ConcludeFailure { next, .. } = command {
            match next {
                NextPath::MultiParty {
                    committee_id,
                    departments,
                } => {
                    if self.store.get_committee(*committee_id).await?.is_none() {
                        return Err(invalid(
                            "next.committee_id",
                            "missing_reference",
                            "调委会不存在",
                            "no such committee",
                        ));
                    }
                    for id in departments {
                        if self.store.get_department(*id).await?.is_none() {
                            return Err(invalid(
                                "next.departments",
                                "missing_reference",
                                "部门不存在",
                                "no such department",
                            ));
                        }
                    }
                }
                NextPath::LeaderOwnership { leader_user_id } => {
                    let leader = self.store.get_user(*leader_user_id).await?;
                    if !leader.is_some_and(|u| {
                        !u.disabled && u.roles.iter().any(|g| g.role == Role::Leader.as_str())
                    }) {
                        return Err(invalid(
                            "next.leader_user_id",
                            "not_a_leader",
                            "所选用户不是领导",
                            "the user is not a leader",
                        ));
                    }
                }
                NextPath::Referral { .. } => {}
            }
        }
        Ok(())
    }

    /// Takes a mediation one step (hearing, session, agreement, failure with the next path, judicial
    /// confirmation, follow-up); the step goes to the case's timeline.
    pub async fn act_on_mediation(
        &self,
        actor: &Actor,
        id: i64,
        command: &MediationCommand,
        expected_version: Option<i64>,
    ) -> AppResult<MediationView> {
        self.require(actor, Permission::Mediate).await?;
        let record = self.visible_mediation(actor, id).await?;
        if expected_version.is_some_and(|v| v != record.version) {
            return Err(AppError::Conflict(
                "the mediation changed since it was read".into(),
            ));
        }
        self.check_mediation_command(command).await?;
        let state: Mediation = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("mediation {id} state: {e}")))?;
        let now = self.now();
        let (next, event) = state
            .apply(command, &self.mediation_actor(actor), now)
            .map_err(step_error)?;
        let case = self
            .store
            .get_case(record.case_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let audit = actor.audit(
            now,
            &format!("mediation.{}", event.name.trim_start_matches("mediation_")),
            format!("mediation:{id}"),
            "ok",
            serde_json::json!({ "case": case.number, "to": event.to }),
        );
        self.store
            .change_mediation(
                &MediationChange {
                    id,
                    expected_version: record.version,
                    status: next.status.as_str().to_string(),
                    concluded_at: next.concluded_at,
                    follow_up_due: next.follow_up_due,
                    performed: next.follow_up.as_ref().map(|f| f.performed),
                    state: serde_json::to_string(&next)
                        .map_err(|e| AppError::Internal(format!("mediation state: {e}")))?,
                    at: now,
                },
                case.id,
                &case_event(&case, actor, &event, Some(id)),
                &[audit],
            )
            .await?;
        self.mediation(actor, id).await
    }

    /// The agreement document (调解协议书) of a mediation concluded with an agreement, as PDF or DOCX. The
    /// download is recorded in the audit trail.
    pub async fn agreement_document(
        &self,
        actor: &Actor,
        id: i64,
        format: DocumentFormat,
    ) -> AppResult<Vec<u8>> {
        let record = self.visible_mediation(actor, id).await?;
        let state: Mediation = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("mediation {id} state: {e}")))?;
        let Some(agreement) = &state.agreement else {
            return Err(AppError::Transition {
                code: "illegal_transition",
                zh: "调解未达成协议，没有协议书".into(),
                en: "the mediation has no agreement".into(),
            });
        };
        let committee = self
            .store
            .get_committee(record.committee_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let case = self
            .store
            .get_case(record.case_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut mediators = Vec::new();
        if let Some(user_id) = state.mediator_user_id
            && let Some(user) = self.store.get_user(user_id).await?
        {
            mediators.push(user.display_name);
        }
        let total = agreement.total_fen();
        let doc = fengqiao_documents::AgreementDocument {
            committee: committee.name,
            number: format!("{}-{}", case.number, record.id),
            kind: state.kind.zh().to_string(),
            parties: state
                .parties
                .iter()
                .map(|p| fengqiao_documents::PrintedParty {
                    role: match p.role.as_str() {
                        "applicant" | "reporter" => "申请人".to_string(),
                        "respondent" => "被申请人".to_string(),
                        other => other.to_string(),
                    },
                    name: p.name.clone(),
                })
                .collect(),
            facts: mask_text(&agreement.facts),
            terms: agreement
                .terms
                .iter()
                .map(|t| fengqiao_documents::PrintedTerm {
                    text: mask_text(&t.text),
                    amount_yuan: t.amount_fen.map(fengqiao_documents::yuan),
                })
                .collect(),
            total_yuan: (total > 0).then(|| fengqiao_documents::yuan(total)),
            performance_deadline: fengqiao_documents::chinese_date(agreement.performance_deadline),
            mediators,
            signed_on: fengqiao_documents::chinese_date(local_date(agreement.signed_at)),
        };
        let bytes = match format {
            DocumentFormat::Pdf => {
                let fonts = self.document_fonts()?;
                tokio::task::spawn_blocking(move || doc.pdf(&fonts))
                    .await
                    .map_err(|e| AppError::Internal(format!("typesetting: {e}")))?
            }
            DocumentFormat::Docx => doc.docx(),
        }
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let audit = actor.audit(
            self.now(),
            "mediation.agreement_document",
            format!("mediation:{id}"),
            "ok",
            serde_json::json!({ "format": format }),
        );
        self.store.append_audit(&[audit]).await?;
        Ok(bytes)
    }

    /// The fonts documents are set in, read once from the configured files.
    fn document_fonts(&self) -> AppResult<std::sync::Arc<Vec<Vec<u8>>>> {
        if let Some(fonts) = self.fonts.get() {
            return Ok(fonts.clone());
        }
        let mut fonts = Vec::new();
        for path in &self.settings.document_fonts {
            match std::fs::read(path) {
                Ok(bytes) => fonts.push(bytes),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "document font missing (Debian: apt-get install fonts-noto-cjk)");
                }
            }
        }
        if fonts.is_empty() {
            return Err(AppError::Internal(
                "no document fonts: install Debian's fonts-noto-cjk".into(),
            ));
        }
        let fonts = std::sync::Arc::new(fonts);
        let _ = self.fonts.set(fonts.clone());
        Ok(fonts)
    }

    /// Mediation figures of a period (local dates, inclusive), grouped; scoped by territory and committee.
    pub async fn mediation_figures(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        group_by: MediationGroup,
    ) -> AppResult<MediationFigures> {
        if !(actor.may(Permission::ReadFigures)
            || actor.may(Permission::DispatchCases)
            || actor.may(Permission::Mediate))
        {
            self.require(actor, Permission::ReadFigures).await?;
        }
        let (start, end) = period(from, to)?;
        let records = self
            .store
            .mediations_in_period(&actor.visibility, &self.actor_committees(actor), start, end)
            .await?;
        let mut groups: BTreeMap<String, [i64; 4]> = BTreeMap::new();
        let mut total = [0i64; 4];
        for m in &records {
            let hits = measures(m, start, end);
            let key = self.group_key(m, group_by);
            let row = groups.entry(key).or_default();
            for (i, hit) in hits.iter().enumerate() {
                if *hit {
                    row[i] += 1;
                    total[i] += 1;
                }
            }
        }
        let mut rows = Vec::new();
        for (key, n) in groups {
            let label = self.group_label(&key, group_by).await?;
            rows.push(figure_row(key, label, n));
        }
        let now = self.now();
        let follow_ups_overdue = records
            .iter()
            .filter(|m| m.status == MediationStatus::Agreed.as_str())
            .filter(|m| m.follow_up_due.is_some_and(|due| now > due))
            .count() as i64;
        Ok(MediationFigures {
            from,
            to,
            group_by,
            rows,
            total: figure_row("total".into(), "合计".into(), total),
            follow_ups_overdue,
        })
    }

    fn group_key(&self, m: &MediationRecord, group_by: MediationGroup) -> String {
        match group_by {
            MediationGroup::Committee => m.committee_id.to_string(),
            MediationGroup::Mediator => m
                .mediator_user_id
                .map_or_else(|| "none".into(), |u| u.to_string()),
            MediationGroup::Kind => m.kind.clone(),
            MediationGroup::Category => m.category_code.clone().unwrap_or_else(|| "none".into()),
            MediationGroup::Region => m.region_code.clone(),
            MediationGroup::Step => m.step.clone(),
        }
    }

    async fn group_label(&self, key: &str, group_by: MediationGroup) -> AppResult<String> {
        Ok(match group_by {
            MediationGroup::Committee => match key.parse() {
                Ok(id) => self.store.get_committee(id).await?.map(|c| c.name),
                Err(_) => None,
            },
            MediationGroup::Mediator => match key.parse() {
                Ok(id) => self.store.get_user(id).await?.map(|u| u.display_name),
                Err(_) => Some("未指定".into()),
            },
            MediationGroup::Kind => MediationKind::parse(key).map(|k| k.zh().to_string()),
            MediationGroup::Category => self.store.get_category(key).await?.map(|c| c.name),
            MediationGroup::Region => self.store.get_region(key).await?.map(|r| r.name),
            MediationGroup::Step => {
                fengqiao_domain::mediation::PathStep::parse(key).map(|s| s.zh().to_string())
            }
        }
        .unwrap_or_else(|| key.to_string()))
    }

    /// The mediations behind one figure: `measure` is accepted, concluded, succeeded or performed; `key` a
    /// row's key (or `total`).
    pub async fn mediation_figure_drill(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        group_by: MediationGroup,
        key: &str,
        measure: &str,
    ) -> AppResult<Vec<MediationDrill>> {
        let index = match measure {
            "accepted" => 0,
            "concluded" => 1,
            "succeeded" => 2,
            "performed" => 3,
            _ => {
                return Err(invalid(
                    "measure",
                    "unknown",
                    "指标应为 accepted、concluded、succeeded 或 performed",
                    "measure is accepted, concluded, succeeded or performed",
                ));
            }
        };
        // Same permission and scope as the figures.
        self.mediation_figures(actor, from, to, group_by).await?;
        let (start, end) = period(from, to)?;
        let records = self
            .store
            .mediations_in_period(&actor.visibility, &self.actor_committees(actor), start, end)
            .await?;
        Ok(records
            .into_iter()
            .filter(|m| measures(m, start, end)[index])
            .filter(|m| key == "total" || self.group_key(m, group_by) == key)
            .map(|m| MediationDrill {
                mediation_id: m.id,
                case_id: m.case_id,
                status: m.status,
            })
            .collect())
    }
}

fn figure_row(key: String, label: String, n: [i64; 4]) -> MediationFigureRow {
    MediationFigureRow {
        key,
        label,
        accepted: n[0],
        concluded: n[1],
        succeeded: n[2],
        success_rate: rate(n[2], n[1]),
        performed: n[3],
    }
}

/// A document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    Pdf,
    Docx,
}

/// A mediation step as an entry of the case's timeline (the case's status does not change).
fn case_event(
    case: &CaseRecord,
    actor: &Actor,
    event: &StepEvent,
    mediation_id: Option<i64>,
) -> EventDraft {
    EventDraft {
        name: event.name.to_string(),
        from_status: case.status.clone(),
        to_status: case.status.clone(),
        actor: actor.audit_name(),
        at: event.at,
        detail: serde_json::json!({
            "mediation_id": mediation_id,
            "mediation_from": event.from,
            "mediation_to": event.to,
            "step": event.detail,
        }),
    }
}
