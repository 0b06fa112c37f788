//! Cases: one-window intake from every channel, routing proposals, the workflow, tracking by number and
//! secret, attachments, duplicate hints, and the deadline sweep.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::catalog::Category;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::{Permission, Role};
use fengqiao_domain::calendar::local_date;
use fengqiao_domain::case::{
    Case, CaseActor, CaseError, CaseKind, Channel, Command, ExtensionRequest, FollowUpOutcome,
    ReturnRuling, Status, Unit, Urgency,
};
use fengqiao_domain::codes::{GridCode, RegionCode, RegionLevel, Scope};
use fengqiao_domain::error::FieldError;
use fengqiao_domain::personal::{PhoneNumber, ResidentIdNumber, mask_text};
use fengqiao_geo::coords::{CoordSystem, LngLat, to_wgs84};
use fengqiao_geo::index::Placement;
use fengqiao_store::{
    AttachmentRecord, CaseColumns, CaseFilter, CaseRecord, CaseTransition, CaseUnitRecord,
    CaseVisibility, CreateOutcome, EventDraft, IdempotencyDraft, NewCase, NewNotification,
    NewParty, NewSupervision, Page, Paged, Visibility,
};

/// How many attachments the public page may add to one case.
pub const PUBLIC_PHOTOS_PER_CASE: usize = 9;

/// Which attachment types a caller may add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachmentKinds {
    /// Staff: images, PDF, Office documents, audio and video.
    Any,
    /// The public page: photos only.
    Photos,
}

/// Tags a case may carry.
pub const TAGS: &[(&str, &str)] = &[
    ("group", "群体性"),
    ("repeat", "重复"),
    ("skip_level", "越级"),
    ("sensitive", "敏感"),
];

/// A party to a case as given at intake.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartyInput {
    /// `reporter`, `applicant`, `respondent` or `party`.
    pub role: String,
    #[serde(default)]
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// A case as registered at the window, on the phone, by a grid worker or from another platform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseInput {
    pub kind: String,
    pub channel: String,
    pub urgency: Option<String>,
    pub category: Option<String>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub coord_system: Option<String>,
    /// Where the case belongs when no point is given (or the point is in no grid).
    pub region_code: Option<String>,
    #[serde(default)]
    pub parties: Vec<PartyInput>,
    /// The public page only: the code sent to the reporter's phone (a phone given there must be verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

/// Who registers: a signed-in user, or a citizen on the public page (with a device id for idempotency).
pub enum Registrant<'a> {
    Staff(&'a Actor),
    Citizen { device_id: String, source: String },
}

/// What registering returns.
#[derive(Debug, Clone)]
pub struct Registered {
    pub case: CaseView,
    /// The tracking secret, shown once on the receipt (None when an earlier identical request is replayed).
    pub tracking_secret: Option<String>,
    pub replayed: bool,
}

/// A party as shown (numbers masked unless unmasked).
#[derive(Debug, Clone, Serialize)]
pub struct PartyView {
    pub role: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// A case as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    pub status: String,
    pub category: Option<String>,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub placement: String,
    pub grid_code: Option<String>,
    pub basic_grid_code: Option<String>,
    pub region_code: String,
    pub owner_region: String,
    pub lead_unit: Option<String>,
    pub units: Vec<CaseUnitRecord>,
    pub claimed_by: Option<i64>,
    pub leader_owner: Option<i64>,
    pub response_due: Option<DateTime<Utc>>,
    pub handling_due: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub feedback_due: Option<DateTime<Utc>>,
    pub clock_paused: bool,
    pub deadline_provisional: bool,
    pub warning: String,
    pub pending_extension: Option<serde_json::Value>,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub satisfaction: Option<String>,
    pub parties: Vec<PartyView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A case as its citizen sees it through number + secret: no staff or other parties' personal data.
#[derive(Debug, Clone, Serialize)]
pub struct PublicCaseView {
    pub number: String,
    pub status: String,
    pub status_zh: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub handling_due: Option<DateTime<Utc>>,
    /// Milestones: what happened when, without names.
    pub timeline: Vec<(DateTime<Utc>, String)>,
    /// The result when resolved.
    pub result: Option<String>,
    pub can_rate: bool,
    /// The satisfaction recorded at follow-up (by the citizen here or by the follow-up desk).
    pub satisfaction: Option<String>,
    /// How many photos and files are attached.
    pub attachments: usize,
}

/// An action on a case as the API takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionInput {
    Accept {
        category: Option<String>,
    },
    Reject {
        reason: String,
        #[serde(default)]
        missing: Vec<String>,
    },
    HandleOnSpot {
        result: String,
    },
    Dispatch {
        lead: String,
        #[serde(default)]
        assisting: Vec<String>,
    },
    Claim,
    Return {
        reason: String,
    },
    RuleOnReturn {
        decision: String,
        lead: Option<String>,
        #[serde(default)]
        assisting: Vec<String>,
        note: String,
    },
    Reassign {
        lead: String,
        #[serde(default)]
        assisting: Vec<String>,
        reason: String,
    },
    RequestExtension {
        working_days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        #[serde(default)]
        note: String,
    },
    Escalate {
        reason: String,
    },
    Delegate {
        to_region: String,
        reason: String,
    },
    RecordAssistPart {
        unit: String,
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
        outcome: String,
        #[serde(default)]
        note: String,
    },
    Reopen {
        reason: String,
    },
    Archive,
    Supervise {
        due: DateTime<Utc>,
        note: String,
    },
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
    PauseClock {
        reason: String,
    },
    ResumeClock {
        #[serde(default)]
        note: String,
    },
    GiveFeedback {
        note: String,
    },
}

/// The handler the catalog and the territory propose for a case.
#[derive(Debug, Clone, Serialize)]
pub struct RouteProposal {
    /// `dept:ID` or `grid:CODE`, or None when nothing fits (the dispatcher chooses).
    pub lead: Option<String>,
    pub lead_name: Option<String>,
    pub reason_zh: String,
    pub reason_en: String,
    pub auto_dispatch: bool,
}

pub(crate) fn invalid(
    field: &str,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> FieldError {
    FieldError::new(field, code, zh, en)
}

pub(crate) fn case_error(error: CaseError) -> AppError {
    match &error {
        CaseError::Invalid { field, why } => AppError::Validation(vec![FieldError::new(
            *field,
            why,
            error.message_zh(),
            error.to_string(),
        )]),
        CaseError::IllegalInState { .. } => AppError::Transition {
            code: "illegal_transition",
            zh: error.message_zh(),
            en: error.to_string(),
        },
        CaseError::NotAllowed { .. } => AppError::Transition {
            code: "not_allowed",
            zh: error.message_zh(),
            en: error.to_string(),
        },
    }
}

pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(
        format!("fengqiao-track:{}", secret.trim().to_ascii_uppercase()).as_bytes(),
    ))
}

fn new_secret() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let bytes = crate::personal::random_token(16);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(bytes)
        .unwrap_or_default();
    raw.iter()
        .take(6)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The town (or the region itself, if above town level) that owns a location's cases (属地管理).
fn owning_region(region: &RegionCode) -> RegionCode {
    let code = region.as_str();
    match region.level() {
        RegionLevel::Village => RegionCode::parse(&code[..9]).unwrap_or_else(|_| region.clone()),
        RegionLevel::Area => region
            .parent_statistical()
            .unwrap_or_else(|| region.clone()),
        _ => region.clone(),
    }
}

/// A timeline entry with the display name of the staff member who acted (`actor` is `user:ID`), if any.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    #[serde(flatten)]
    pub event: fengqiao_store::EventRecord,
    pub actor_name: Option<String>,
}

impl App {
    /// The lifecycle's view of an actor: roles and the units they act for.
    pub fn case_actor(&self, actor: &Actor) -> CaseActor {
        let mut units = Vec::new();
        for (_, scope) in &actor.grants {
            match scope {
                Scope::Department(id) => units.push(Unit::Department(*id)),
                Scope::Grid(code) => units.push(Unit::Grid(code.clone())),
                _ => {}
            }
        }
        if let Some(id) = actor.user.department_id {
            units.push(Unit::Department(id));
        }
        if let Some(code) = actor
            .user
            .grid_code
            .as_deref()
            .and_then(|c| GridCode::parse(c).ok())
        {
            units.push(Unit::Grid(code));
        }
        units.dedup();
        CaseActor {
            user_id: actor.user.id,
            roles: actor.roles().into_iter().collect(),
            units,
        }
    }

    /// Which cases an actor sees: region scopes by territory, grid scopes by grid, departments by what is sent to them.
    pub fn case_visibility(&self, actor: &Actor) -> CaseVisibility {
        let mut visibility = CaseVisibility::default();
        for (_, scope) in &actor.grants {
            match scope {
                Scope::Region(_) | Scope::Grid(_) => {}
                Scope::Department(id) => visibility.units.push(format!("dept:{id}")),
                Scope::Committee(id) => visibility.units.push(format!("committee:{id}")),
            }
            if let Scope::Grid(code) = scope {
                visibility.units.push(format!("grid:{code}"));
            }
        }
        // Region and grid scopes see by territory: their resolved path prefixes (departments excluded).
        visibility.path_prefixes = actor
            .grants
            .iter()
            .filter(|(_, s)| matches!(s, Scope::Region(_) | Scope::Grid(_)))
            .filter_map(|(_, s)| self.scope_path_cached(actor, s))
            .collect();
        visibility.path_prefixes.dedup();
        visibility
    }

    fn scope_path_cached(&self, actor: &Actor, scope: &Scope) -> Option<String> {
        // The actor's visibility holds the resolved paths of all grants; pick the one this scope anchors.
        let anchor = match scope {
            Scope::Region(code) => format!("/{}/", code.as_str()),
            Scope::Grid(code) => format!("/{}/", code.as_str()),
            _ => return None,
        };
        actor
            .visibility
            .path_prefixes
            .iter()
            .find(|p| p.ends_with(&anchor))
            .cloned()
    }

    async fn visible_case(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<(CaseRecord, Vec<CaseUnitRecord>)> {
        let Some(record) = self.store.get_case(id).await? else {
            return self.out_of_scope(actor, format!("case:{id}")).await;
        };
        let units = self.store.case_units(id).await?;
        let committees = self.actor_committees(actor);
        let by_committee = !committees.is_empty()
            && self
                .store
                .mediations_of_case(id)
                .await?
                .iter()
                .any(|m| committees.contains(&m.committee_id));
        if !by_committee && !self.case_visibility(actor).sees(&record, &units) {
            return self
                .out_of_scope(actor, format!("case:{}", record.number))
                .await;
        }
        Ok((record, units))
    }

    async fn view(&self, record: CaseRecord, units: Vec<CaseUnitRecord>) -> AppResult<CaseView> {
        let parties = self.store.case_parties(record.id).await?;
        Ok(view_of(
            record,
            units,
            parties.into_iter().map(party_view).collect(),
        ))
    }

    /// Views of many cases, their units and parties read in two queries (a list page).
    pub(crate) async fn views_of(&self, records: Vec<CaseRecord>) -> AppResult<Vec<CaseView>> {
        let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
        let mut units = self.store.units_of_cases(&ids).await?;
        let mut parties = self.store.parties_of_cases(&ids).await?;
        Ok(records
            .into_iter()
            .map(|record| {
                let id = record.id;
                view_of(
                    record,
                    units.remove(&id).unwrap_or_default(),
                    parties
                        .remove(&id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(party_view)
                        .collect(),
                )
            })
            .collect())
    }
}

/// A party as shown: numbers masked.
fn party_view(p: fengqiao_store::PartyRecord) -> PartyView {
    PartyView {
        role: p.role,
        name: p.name,
        phone: p.phone.map(|v| v.masked),
        id_number: p.id_number.map(|v| v.masked),
    }
}

/// The one field of a case's lifecycle state (`Case`, kept as JSON) that its view shows: read alone, the rest
/// of the state is skipped rather than built.
#[derive(Deserialize)]
struct PendingExtension {
    pending_extension: Option<ExtensionRequest>,
}

/// A case as shown: personal numbers masked, also inside free text.
fn view_of(record: CaseRecord, units: Vec<CaseUnitRecord>, parties: Vec<PartyView>) -> CaseView {
    {
        let state: Option<PendingExtension> = serde_json::from_str(&record.state).ok();
        CaseView {
            id: record.id,
            number: record.number,
            kind: record.kind,
            channel: record.channel,
            urgency: record.urgency,
            status: record.status,
            category: record.category_code,
            title: mask_text(&record.title),
            description: mask_text(&record.description),
            tags: record.tags,
            address: mask_text(&record.address),
            lng: record.lng,
            lat: record.lat,
            placement: record.placement,
            grid_code: record.grid_code,
            basic_grid_code: record.basic_grid_code,
            region_code: record.region_code,
            owner_region: record.owner_region,
            lead_unit: record.lead_unit,
            units,
            claimed_by: record.claimed_by,
            leader_owner: record.leader_owner,
            response_due: record.response_due,
            handling_due: record.handling_due,
            follow_up_due: record.follow_up_due,
            feedback_due: record.feedback_due,
            clock_paused: record.clock_paused,
            deadline_provisional: record.deadline_provisional,
            warning: record.warning,
            pending_extension: state
                .and_then(|s| s.pending_extension)
                .and_then(|p| serde_json::to_value(p).ok()),
            reopen_count: record.reopen_count,
            merged_into: record.merged_into,
            satisfaction: record.satisfaction,
            parties,
            version: record.version,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

impl App {
    /// One case, if the actor may see it.
    pub async fn case(&self, actor: &Actor, id: i64) -> AppResult<CaseView> {
        let (record, units) = self.visible_case(actor, id).await?;
        self.view(record, units).await
    }

    /// A case's timeline.
    pub async fn case_timeline(&self, actor: &Actor, id: i64) -> AppResult<Vec<TimelineEvent>> {
        self.visible_case(actor, id).await?;
        let mut events = self.store.case_events(id).await?;
        for event in &mut events {
            if let Ok(text) = serde_json::to_string(&event.detail) {
                event.detail =
                    serde_json::from_str(&mask_text(&text)).unwrap_or(serde_json::Value::Null);
            }
        }
        let user_of = |actor: &str| {
            actor
                .strip_prefix("user:")
                .and_then(|id| id.parse::<i64>().ok())
        };
        let mut ids: Vec<i64> = events.iter().filter_map(|e| user_of(&e.actor)).collect();
        ids.sort_unstable();
        ids.dedup();
        let names = self.store.user_display_names(&ids).await?;
        Ok(events
            .into_iter()
            .map(|event| TimelineEvent {
                actor_name: user_of(&event.actor).and_then(|id| names.get(&id).cloned()),
                event,
            })
            .collect())
    }

    /// Cases the actor may see.
    pub async fn cases(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        page: Page,
    ) -> AppResult<Paged<CaseView>> {
        let visibility = self.case_visibility(actor);
        let found = self.store.list_cases(&visibility, filter, page).await?;
        Ok(Paged {
            items: self.views_of(found.items).await?,
            total: found.total,
        })
    }

    /// Validates intake input and places it: the parsed values, or every field error at once.
    async fn prepare_case(
        &self,
        input: &CaseInput,
        registrant: &Registrant<'_>,
    ) -> AppResult<(NewCase, Option<Category>)> {
        let mut errors = Vec::new();
        let kind = CaseKind::parse(&input.kind);
        if kind.is_none() {
            errors.push(invalid(
                "kind",
                "unknown",
                "未知的案件类型",
                "unknown kind: request, dispute, petition, grid_event or alarm",
            ));
        }
        let channel = Channel::parse(&input.channel);
        match (channel, registrant) {
            (None, _) => errors.push(invalid(
                "channel",
                "unknown",
                "未知的来源渠道",
                "unknown channel",
            )),
            (Some(c), Registrant::Citizen { .. }) if c != Channel::SelfService => {
                errors.push(invalid(
                    "channel",
                    "not_allowed",
                    "群众自助只能使用 self_service 渠道",
                    "the public page registers self_service cases only",
                ))
            }
            _ => {}
        }
        let urgency = match input.urgency.as_deref() {
            None | Some("") => Some(Urgency::Normal),
            Some(text) => Urgency::parse(text),
        };
        if urgency.is_none() {
            errors.push(invalid(
                "urgency",
                "unknown",
                "紧急程度应为 normal、urgent 或 critical",
                "urgency is normal, urgent or critical",
            ));
        }
        let title = input.title.trim();
        if title.is_empty() || title.chars().count() > 100 {
            errors.push(invalid(
                "title",
                "length",
                "标题不能为空，且不超过 100 字",
                "the title must be 1 to 100 characters",
            ));
        }
        let description = input.description.trim();
        if description.is_empty() || description.chars().count() > 5000 {
            errors.push(invalid(
                "description",
                "length",
                "诉求内容不能为空，且不超过 5000 字",
                "the description must be 1 to 5000 characters",
            ));
        }
        if input.address.chars().count() > 200 {
            errors.push(invalid(
                "address",
                "length",
                "地址不超过 200 字",
                "the address may not exceed 200 characters",
            ));
        }
        let mut tags: Vec<String> = Vec::new();
        for (i, tag) in input.tags.iter().enumerate() {
            if TAGS.iter().any(|(t, _)| t == tag) {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            } else {
                errors.push(invalid(
                    &format!("tags[{i}]"),
                    "unknown",
                    "未知标签（group、repeat、skip_level、sensitive）",
                    "unknown tag (group, repeat, skip_level, sensitive)",
                ));
            }
        }
        let category = match input.category.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(code) => match self.category(code, "category").await {
                Ok(c) => Some(c),
                Err(AppError::Validation(e)) => {
                    errors.extend(e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        // Parties.
        let mut parties = Vec::new();
        if input.parties.len() > 50 {
            errors.push(invalid(
                "parties",
                "too_many",
                "当事人不超过 50 人",
                "at most 50 parties",
            ));
        }
        for (i, party) in input.parties.iter().enumerate() {
            if !["reporter", "applicant", "respondent", "party"].contains(&party.role.as_str()) {
                errors.push(invalid(
                    &format!("parties[{i}].role"),
                    "unknown",
                    "当事人角色应为 reporter、applicant、respondent 或 party",
                    "role is reporter, applicant, respondent or party",
                ));
            }
            if party.name.chars().count() > 50 {
                errors.push(invalid(
                    &format!("parties[{i}].name"),
                    "length",
                    "姓名不超过 50 字",
                    "the name may not exceed 50 characters",
                ));
            }
            let phone = match party.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => match PhoneNumber::parse(p) {
                    Ok(p) => Some(self.keys.seal("phone", p.as_str(), p.masked())?),
                    Err(e) => {
                        errors.push(e.for_field(format!("parties[{i}].phone")));
                        None
                    }
                },
                None => None,
            };
            let id_number = match party.id_number.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => match ResidentIdNumber::parse(p) {
                    Ok(id) => Some(self.keys.seal("id_number", id.as_str(), id.masked())?),
                    Err(e) => {
                        errors.push(e.for_field(format!("parties[{i}].id_number")));
                        None
                    }
                },
                None => None,
            };
            parties.push(NewParty {
                role: party.role.clone(),
                name: party.name.trim().to_string(),
                phone,
                id_number,
                resident_id: None,
            });
        }
        // Location: a point resolves to a grid; otherwise the region given.
        let mut placement = "none".to_string();
        let mut grid_code = None;
        let mut basic_grid_code = None;
        let mut point = None;
        let mut region: Option<RegionCode> = None;
        match (input.lng, input.lat) {
            (Some(lng), Some(lat)) => {
                let system = match input.coord_system.as_deref() {
                    None | Some("") => Some(CoordSystem::Wgs84),
                    Some(text) => CoordSystem::parse(text),
                };
                match system {
                    None => errors.push(invalid(
                        "coord_system",
                        "unknown",
                        "坐标系须为 wgs84、gcj02 或 bd09",
                        "coord_system must be wgs84, gcj02 or bd09",
                    )),
                    Some(_)
                        if !(-180.0..=180.0).contains(&lng)
                            || !(-90.0..=90.0).contains(&lat)
                            || !lng.is_finite()
                            || !lat.is_finite() =>
                    {
                        errors.push(invalid(
                            "lng",
                            "range",
                            "坐标超出范围",
                            "coordinates out of range",
                        ))
                    }
                    Some(system) => {
                        let p = to_wgs84(system, LngLat { lng, lat });
                        point = Some(p);
                        match self.grid_index().locate(p) {
                            Placement::InGrid { grid, basic_grid, .. } => {
                                placement = "in_grid".into();
                                if let Ok(code) = GridCode::parse(&grid) {
                                    region = Some(code.village());
                                }
                                grid_code = Some(grid);
                                basic_grid_code = basic_grid;
                            }
                            Placement::OutsideAllGrids => placement = "outside_all_grids".into(),
                            Placement::OutsideArea => errors.push(invalid(
                                "lng",
                                "outside_area",
                                "该位置远在本平台服务区域之外，请核对坐标",
                                "the point lies far outside this deployment's area; check the coordinates",
                            )),
                        }
                    }
                }
            }
            (None, None) => {}
            _ => errors.push(invalid(
                "lat",
                "required",
                "经度和纬度须同时提供",
                "give both lng and lat",
            )),
        }
        if region.is_none() {
            match input
                .region_code
                .as_deref()
                .filter(|r| !r.trim().is_empty())
            {
                Some(code) => match RegionCode::parse(code) {
                    Ok(code) => region = Some(code),
                    Err(e) => errors.push(e.for_field("region_code")),
                },
                None => {
                    if let Registrant::Staff(actor) = registrant {
                        // A user with exactly one region scope registers in it by default.
                        let regions: Vec<&RegionCode> = actor
                            .grants
                            .iter()
                            .filter_map(|(_, s)| {
                                if let Scope::Region(r) = s {
                                    Some(r)
                                } else {
                                    None
                                }
                            })
                            .collect();
                        if regions.len() == 1 {
                            region = Some(regions[0].clone());
                        }
                    }
                    if region.is_none() {
                        errors.push(invalid(
                            "region_code",
                            "required",
                            "请在地图上选点或选择所属区划",
                            "give a point on the map or the region the case belongs to",
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (Some(kind), Some(channel), Some(urgency), Some(region)) =
            (kind, channel, urgency, region)
        else {
            return Err(AppError::Internal("validated values missing".into()));
        };
        let Some(region_record) = self.store.get_region(region.as_str()).await? else {
            return Err(AppError::Validation(vec![invalid(
                "region_code",
                "missing_reference",
                format!("区划 {region} 不存在"),
                format!("region {region} does not exist"),
            )]));
        };
        if let Registrant::Staff(actor) = registrant
            && !actor.visibility.sees(&region_record.path)
            && placement != "in_grid"
        {
            return self.out_of_scope(actor, format!("region:{region}")).await;
        }
        let owner = owning_region(&region);
        // The owner is the region or an ancestor: its path is a prefix of the region's.
        let segment = format!("/{}/", owner.as_str());
        let owner_path = match region_record.path.find(&segment) {
            Some(at) => region_record.path[..at + segment.len()].to_string(),
            None => match self.store.get_region(owner.as_str()).await? {
                Some(r) => r.path,
                None => region_record.path.clone(),
            },
        };
        let path = match &grid_code {
            Some(code) => self
                .store
                .get_grid(code)
                .await?
                .map(|g| g.path)
                .unwrap_or_else(|| region_record.path.clone()),
            None => region_record.path.clone(),
        };
        let now = self.now();
        let created_by = match registrant {
            Registrant::Staff(actor) => Some(actor.user.id),
            Registrant::Citizen { .. } => None,
        };
        let mut state = Case::register(
            kind,
            category.as_ref().map(|c| c.code.clone()),
            owner.clone(),
            now,
        );
        if channel == Channel::WalkIn {
            // Feedback to a visitor within 2 working days of the visit.
            let rules = self.deadline_rules();
            state.deadlines.feedback = Some(fengqiao_domain::case::DeadlineRules::deadline(
                &rules,
                now,
                fengqiao_domain::case::Limit::WorkingDays(2),
            ));
        }
        let actor_name = match registrant {
            Registrant::Staff(actor) => actor.audit_name(),
            Registrant::Citizen { device_id, .. } => format!("citizen:{device_id}"),
        };
        let columns = columns_of(&state, &owner_path, None)?;
        Ok((
            NewCase {
                number_prefix: format!("{}-{}", owner.as_str(), local_date(now).format("%Y%m%d")),
                tracking_hash: String::new(),
                kind: kind.as_str().into(),
                channel: channel.as_str().into(),
                urgency: urgency.as_str().into(),
                title: title.to_string(),
                description: description.to_string(),
                tags,
                address: input.address.trim().to_string(),
                lng: point.map(|p| p.lng),
                lat: point.map(|p| p.lat),
                placement,
                grid_code,
                basic_grid_code,
                region_code: region.as_str().to_string(),
                path,
                created_by,
                created_at: now,
                columns,
                parties,
                event: EventDraft {
                    name: "registered".into(),
                    from_status: Status::Registered.as_str().into(),
                    to_status: Status::Registered.as_str().into(),
                    actor: actor_name,
                    at: now,
                    detail: serde_json::json!({ "channel": channel.as_str(), "kind": kind.as_str() }),
                },
            },
            category,
        ))
    }

    /// Registers a case. With an idempotency key, a retry returns the same case and the same key with a
    /// different body is refused.
    pub async fn register_case(
        &self,
        registrant: Registrant<'_>,
        input: &CaseInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<Registered> {
        if let Registrant::Staff(actor) = &registrant
            && !(actor.may(Permission::RegisterCases) || actor.may(Permission::ReportGridEvents))
        {
            self.require(actor, Permission::RegisterCases).await?;
        }
        let scope = match &registrant {
            Registrant::Staff(actor) => actor.audit_name(),
            Registrant::Citizen { device_id, .. } => format!("device:{device_id}"),
        };
        let idempotency = match idempotency_key {
            Some(key) => {
                if key.is_empty() || key.len() > 200 {
                    return Err(AppError::Validation(vec![invalid(
                        "Idempotency-Key",
                        "length",
                        "Idempotency-Key 长度应为 1–200",
                        "Idempotency-Key must be 1 to 200 characters",
                    )]));
                }
                let body =
                    serde_json::to_vec(input).map_err(|e| AppError::Internal(e.to_string()))?;
                Some(IdempotencyDraft {
                    scope: scope.clone(),
                    key: key.to_string(),
                    request_hash: hex::encode(Sha256::digest(&body)),
                })
            }
            None => {
                if matches!(registrant, Registrant::Citizen { .. }) {
                    return Err(AppError::Validation(vec![invalid(
                        "Idempotency-Key",
                        "required",
                        "群众自助提交须带 Idempotency-Key",
                        "the public page must send an Idempotency-Key",
                    )]));
                }
                None
            }
        };
        if let Registrant::Citizen { .. } = &registrant {
            // A retry of a submission already made replays it; the code was used the first time.
            if let Some(draft) = &idempotency
                && let Some((hash, Some(case_id))) =
                    self.store.idempotency_key(&draft.scope, &draft.key).await?
            {
                if hash != draft.request_hash {
                    return Err(AppError::IdempotencyKeyReused);
                }
                let record = self
                    .store
                    .get_case(case_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let units = self.store.case_units(case_id).await?;
                return Ok(Registered {
                    case: self.view(record, units).await?,
                    tracking_secret: None,
                    replayed: true,
                });
            }
        }
        let (mut case, _) = self.prepare_case(input, &registrant).await?;
        if let Registrant::Citizen { .. } = &registrant {
            // Checked last: a valid code is used up only by a submission that is otherwise sound.
            self.check_citizen_phone(input).await?;
        }
        let secret = new_secret();
        case.tracking_hash = hash_secret(&secret);
        let audit = match &registrant {
            Registrant::Staff(actor) => actor.audit(
                self.now(),
                "case.register",
                "",
                "ok",
                serde_json::json!({ "channel": case.channel, "kind": case.kind }),
            ),
            Registrant::Citizen { source, device_id } => fengqiao_store::AuditDraft {
                at: self.now(),
                actor: format!("citizen:{device_id}"),
                action: "case.register".into(),
                object: String::new(),
                result: "ok".into(),
                source: source.clone(),
                detail: serde_json::json!({ "channel": case.channel }),
            },
        };
        match self
            .store
            .create_case(&case, idempotency.as_ref(), &[audit])
            .await?
        {
            CreateOutcome::Created(record) => {
                // Shown from what was written, without reading it back.
                let mut units: Vec<CaseUnitRecord> = case
                    .columns
                    .units
                    .iter()
                    .map(|(unit_key, role, part)| CaseUnitRecord {
                        unit_key: unit_key.clone(),
                        role: role.clone(),
                        part: part.clone(),
                    })
                    .collect();
                units.sort_by(|a, b| b.role.cmp(&a.role).then(a.unit_key.cmp(&b.unit_key)));
                let parties = case
                    .parties
                    .iter()
                    .map(|p| PartyView {
                        role: p.role.clone(),
                        name: p.name.clone(),
                        phone: p.phone.as_ref().map(|v| v.masked.clone()),
                        id_number: p.id_number.as_ref().map(|v| v.masked.clone()),
                    })
                    .collect();
                Ok(Registered {
                    case: view_of(*record, units, parties),
                    tracking_secret: Some(secret),
                    replayed: false,
                })
            }
            CreateOutcome::Replayed(record) => {
                let units = self.store.case_units(record.id).await?;
                Ok(Registered {
                    case: self.view(*record, units).await?,
                    tracking_secret: None,
                    replayed: true,
                })
            }
            CreateOutcome::KeyReused => Err(AppError::IdempotencyKeyReused),
        }
    }

    /// Turns an API action into a domain command, resolving units, categories and regions.
    async fn command_for(&self, record: &CaseRecord, input: &ActionInput) -> AppResult<Command> {
        let unit = |field: &str, text: &str| -> Result<Unit, AppError> {
            Unit::parse(text).ok_or_else(|| {
                AppError::Validation(vec![invalid(
                    field,
                    "format",
                    "单位应写作 dept:ID 或 grid:CODE",
                    "a unit is dept:ID or grid:CODE",
                )])
            })
        };
        let units = |field: &str, list: &[String]| -> Result<Vec<Unit>, AppError> {
            list.iter()
                .enumerate()
                .map(|(i, t)| unit(&format!("{field}[{i}]"), t))
                .collect()
        };
        Ok(match input {
            ActionInput::Accept { category } => {
                let code = category
                    .clone()
                    .or_else(|| record.category_code.clone())
                    .unwrap_or_default();
                if code.is_empty() {
                    return Err(AppError::Validation(vec![invalid(
                        "category",
                        "required",
                        "受理时须确定事项类别",
                        "choose the category when accepting",
                    )]));
                }
                let category = self.category(&code, "category").await?;
                Command::Accept {
                    category: category.code,
                    limits: category.limits,
                }
            }
            ActionInput::Reject { reason, missing } => Command::Reject {
                reason: reason.clone(),
                missing: missing.clone(),
            },
            ActionInput::HandleOnSpot { result } => Command::HandleOnSpot {
                result: result.clone(),
            },
            ActionInput::Dispatch { lead, assisting } => {
                let lead = unit("lead", lead)?;
                let assisting = units("assisting", assisting)?;
                self.check_units(record, &lead, &assisting).await?;
                Command::Dispatch { lead, assisting }
            }
            ActionInput::Claim => Command::Claim,
            ActionInput::Return { reason } => Command::Return {
                reason: reason.clone(),
            },
            ActionInput::RuleOnReturn {
                decision,
                lead,
                assisting,
                note,
            } => {
                let ruling = match (decision.as_str(), lead) {
                    ("uphold", _) => ReturnRuling::Uphold,
                    ("redispatch", Some(lead)) => {
                        let lead = unit("lead", lead)?;
                        let assisting = units("assisting", assisting)?;
                        self.check_units(record, &lead, &assisting).await?;
                        ReturnRuling::Redispatch { lead, assisting }
                    }
                    ("redispatch", None) => {
                        return Err(AppError::Validation(vec![invalid(
                            "lead",
                            "required",
                            "改派须指定主办单位",
                            "redispatch needs a lead unit",
                        )]));
                    }
                    _ => {
                        return Err(AppError::Validation(vec![invalid(
                            "decision",
                            "unknown",
                            "裁定应为 uphold 或 redispatch",
                            "decision is uphold or redispatch",
                        )]));
                    }
                };
                Command::RuleOnReturn {
                    ruling,
                    note: note.clone(),
                }
            }
            ActionInput::Reassign {
                lead,
                assisting,
                reason,
            } => {
                let lead = unit("lead", lead)?;
                let assisting = units("assisting", assisting)?;
                self.check_units(record, &lead, &assisting).await?;
                Command::Reassign {
                    lead,
                    assisting,
                    reason: reason.clone(),
                }
            }
            ActionInput::RequestExtension {
                working_days,
                reason,
            } => Command::RequestExtension {
                working_days: *working_days,
                reason: reason.clone(),
            },
            ActionInput::DecideExtension { approve, note } => Command::DecideExtension {
                approve: *approve,
                note: note.clone(),
            },
            ActionInput::Escalate { reason } => {
                let owner = RegionCode::parse(&record.owner_region)?;
                let Some(parent) = owner.parent_statistical() else {
                    return Err(AppError::Validation(vec![invalid(
                        "to_region",
                        "not_above",
                        "已是最高一级，无法上报",
                        "already at the top level",
                    )]));
                };
                if self.store.get_region(parent.as_str()).await?.is_none() {
                    return Err(AppError::Validation(vec![invalid(
                        "to_region",
                        "missing_reference",
                        "上级区划未配置",
                        "the level above is not configured",
                    )]));
                }
                Command::Escalate {
                    to_region: parent,
                    reason: reason.clone(),
                }
            }
            ActionInput::Delegate { to_region, reason } => {
                let region = RegionCode::parse(to_region).map_err(|e| e.for_field("to_region"))?;
                if self.store.get_region(region.as_str()).await?.is_none() {
                    return Err(AppError::Validation(vec![invalid(
                        "to_region",
                        "missing_reference",
                        format!("区划 {region} 不存在"),
                        format!("region {region} does not exist"),
                    )]));
                }
                Command::Delegate {
                    to_region: region,
                    reason: reason.clone(),
                }
            }
            ActionInput::RecordAssistPart { unit: u, part } => Command::RecordAssistPart {
                unit: unit("unit", u)?,
                part: part.clone(),
            },
            ActionInput::Resolve { result } => Command::Resolve {
                result: result.clone(),
            },
            ActionInput::ApproveReview => Command::ApproveReview,
            ActionInput::SendBack { reason } => Command::SendBack {
                reason: reason.clone(),
            },
            ActionInput::FollowUp { outcome, note } => {
                let outcome = FollowUpOutcome::parse(outcome).ok_or_else(|| {
                    AppError::Validation(vec![invalid("outcome", "unknown", "回访结果应为 satisfied、basically_satisfied、dissatisfied、unreachable 或 declined", "outcome is satisfied, basically_satisfied, dissatisfied, unreachable or declined")])
                })?;
                Command::FollowUp {
                    outcome,
                    note: note.clone(),
                }
            }
            ActionInput::Reopen { reason } => Command::Reopen {
                reason: reason.clone(),
            },
            ActionInput::Archive => Command::Archive,
            ActionInput::Supervise { due, note } => Command::Supervise {
                due: *due,
                note: note.clone(),
            },
            ActionInput::AssignLeader { leader_user_id } => {
                let leader = self.store.get_user(*leader_user_id).await?;
                if !leader.is_some_and(|u| {
                    !u.disabled && u.roles.iter().any(|g| g.role == Role::Leader.as_str())
                }) {
                    return Err(AppError::Validation(vec![invalid(
                        "leader_user_id",
                        "not_a_leader",
                        "所选用户不是领导",
                        "the user is not a leader",
                    )]));
                }
                Command::AssignLeader {
                    leader_user_id: *leader_user_id,
                }
            }
            ActionInput::AddNote { text } => Command::AddNote { text: text.clone() },
            ActionInput::ChangeCategory { category, reason } => {
                let category = self.category(category, "category").await?;
                Command::ChangeCategory {
                    category: category.code,
                    reason: reason.clone(),
                }
            }
            ActionInput::MergeInto { target_number } => {
                match self.store.get_case_by_number(target_number.trim()).await? {
                    Some(target)
                        if target.id != record.id
                            && !matches!(target.status.as_str(), "merged" | "rejected") => {}
                    Some(target) if target.id == record.id => {
                        return Err(AppError::Validation(vec![invalid(
                            "target_number",
                            "self",
                            "不能合并到自身",
                            "a case cannot be merged into itself",
                        )]));
                    }
                    _ => {
                        return Err(AppError::Validation(vec![invalid(
                            "target_number",
                            "missing_reference",
                            "目标案件不存在或不可合并",
                            "the target case does not exist or cannot take merges",
                        )]));
                    }
                }
                Command::MergeInto {
                    target_number: target_number.trim().to_string(),
                }
            }
            ActionInput::PauseClock { reason } => Command::PauseClock {
                reason: reason.clone(),
            },
            ActionInput::ResumeClock { note } => Command::ResumeClock { note: note.clone() },
            ActionInput::GiveFeedback { note } => Command::GiveFeedback { note: note.clone() },
        })
    }

    /// A unit must exist and serve the case's territory (a department on the owner's line of regions, a grid
    /// under the owner).
    async fn check_units(
        &self,
        record: &CaseRecord,
        lead: &Unit,
        assisting: &[Unit],
    ) -> AppResult<()> {
        for (i, unit) in std::iter::once(lead).chain(assisting.iter()).enumerate() {
            let field = if i == 0 {
                "lead".to_string()
            } else {
                format!("assisting[{}]", i - 1)
            };
            let path = match unit {
                Unit::Department(id) => self.store.get_department(*id).await?.map(|d| d.path),
                Unit::Grid(code) => self.store.get_grid(code.as_str()).await?.map(|g| g.path),
            };
            let Some(path) = path else {
                return Err(AppError::Validation(vec![invalid(
                    &field,
                    "missing_reference",
                    "单位不存在",
                    "no such unit",
                )]));
            };
            let serves = path.starts_with(&record.owner_path)
                || record.owner_path.starts_with(&path)
                || record.path.starts_with(&path);
            if !serves {
                return Err(AppError::Validation(vec![invalid(
                    &field,
                    "out_of_territory",
                    "该单位不负责此案件所在区域",
                    "the unit does not serve the case's territory",
                )]));
            }
        }
        Ok(())
    }

    /// Applies an action to a case: checks scope, runs the lifecycle, and writes case, timeline event and
    /// audit record together. Someone else's change since `expected_version` (or in the same instant) → 409.
    pub async fn act(
        &self,
        actor: &Actor,
        id: i64,
        input: &ActionInput,
        expected_version: Option<i64>,
    ) -> AppResult<CaseView> {
        let (record, _) = self.visible_case(actor, id).await?;
        if let Some(expected) = expected_version
            && expected != record.version
        {
            return Err(AppError::Conflict(format!(
                "case {} is at version {}, not {expected}",
                record.number, record.version
            )));
        }
        let state: Case = serde_json::from_str(&record.state)
            .map_err(|e| AppError::Internal(format!("case state: {e}")))?;
        let command = self.command_for(&record, input).await?;
        let now = self.now();
        let rules = self.deadline_rules();
        let (next, event) = match state.apply(&command, &self.case_actor(actor), now, &rules) {
            Ok(done) => done,
            Err(e) => {
                let draft = actor.audit(
                    now,
                    "case.denied",
                    format!("case:{}", record.number),
                    "denied",
                    serde_json::json!({ "action": command.event_name(), "error": e.to_string() }),
                );
                self.store.append_audit(&[draft]).await?;
                return Err(case_error(e));
            }
        };
        let owner_path = if next.owner_region != state.owner_region {
            self.store
                .get_region(next.owner_region.as_str())
                .await?
                .map(|r| r.path)
                .unwrap_or_else(|| record.owner_path.clone())
        } else {
            record.owner_path.clone()
        };
        let satisfaction = match &command {
            Command::FollowUp { outcome, .. } => Some(outcome.as_str().to_string()),
            Command::Reopen { .. } => None,
            _ => record.satisfaction.clone(),
        };
        let columns = columns_of(&next, &owner_path, satisfaction)?;
        let mut notifications = Vec::new();
        let message = |text: String| text;
        match &command {
            Command::Dispatch { lead, assisting }
            | Command::Reassign {
                lead, assisting, ..
            } => {
                notifications.push(NewNotification {
                    recipient: lead.key(),
                    kind: "assigned".into(),
                    message: message(format!("新派单：{} {}", record.number, record.title)),
                });
                for unit in assisting {
                    notifications.push(NewNotification {
                        recipient: unit.key(),
                        kind: "assisting".into(),
                        message: format!("协办：{} {}", record.number, record.title),
                    });
                }
            }
            Command::RuleOnReturn { .. } => {
                if let Some(lead) = &next.lead {
                    notifications.push(NewNotification {
                        recipient: lead.key(),
                        kind: "assigned".into(),
                        message: format!("退回裁定后派单：{}", record.number),
                    });
                }
            }
            Command::Return { .. }
            | Command::Resolve { .. }
            | Command::RequestExtension { .. }
            | Command::Escalate { .. } => {
                notifications.push(NewNotification {
                    recipient: format!("region:{}", next.owner_region),
                    kind: command.event_name().into(),
                    message: format!("{}：{}", record.number, record.title),
                });
            }
            Command::Supervise { .. } => {
                if let Some(lead) = &next.lead {
                    notifications.push(NewNotification {
                        recipient: lead.key(),
                        kind: "supervised".into(),
                        message: format!("督办：{}", record.number),
                    });
                }
            }
            Command::AssignLeader { leader_user_id } => {
                notifications.push(NewNotification {
                    recipient: format!("user:{leader_user_id}"),
                    kind: "leader_assigned".into(),
                    message: format!("包案：{}", record.number),
                });
            }
            _ => {}
        }
        let supervision = match &command {
            Command::Supervise { due, note } => Some(NewSupervision {
                due: *due,
                note: note.clone(),
                created_by: actor.user.id,
            }),
            _ => None,
        };
        let mut detail = event.detail.clone();
        if let (Command::ChangeCategory { .. }, Some(map)) = (&command, detail.as_object_mut()) {
            // The relabelling view shows what the category was.
            map.insert(
                "from_category".into(),
                serde_json::json!(record.category_code),
            );
        }
        let transition = CaseTransition {
            case_id: record.id,
            expected_version: record.version,
            columns,
            updated_at: now,
            event: EventDraft {
                name: event.name.into(),
                from_status: event.from.as_str().into(),
                to_status: event.to.as_str().into(),
                actor: actor.audit_name(),
                at: now,
                detail: detail.clone(),
            },
            supervision,
            notifications,
            dispatch: dispatch_change(&command, &state, &next),
        };
        let audit = actor.audit(
            now,
            &format!("case.{}", event.name),
            format!("case:{}", record.number),
            "ok",
            serde_json::json!({ "from": event.from.as_str(), "to": event.to.as_str() }),
        );
        match self.store.transition_case(&transition, &[audit]).await {
            Ok(_) => {}
            Err(fengqiao_store::StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(format!(
                    "case {} was changed by someone else at the same moment; reload it",
                    record.number
                )));
            }
            Err(e) => return Err(e.into()),
        }
        // Auto-dispatch (直派): accepting a case whose category says so dispatches it to the proposal.
        if let Command::Accept { category, .. } = &command
            && let Ok(category) = self.category(category, "category").await
            && category.auto_dispatch
        {
            let fresh = self
                .store
                .get_case(record.id)
                .await?
                .ok_or(AppError::NotFound)?;
            let proposal = self.route_proposal_for(&fresh).await?;
            if let Some(lead) = proposal.lead
                && actor.may(Permission::DispatchCases)
            {
                let dispatch = ActionInput::Dispatch {
                    lead,
                    assisting: Vec::new(),
                };
                return Box::pin(self.act(actor, id, &dispatch, None)).await;
            }
        }
        // The actor just acted on the case: show it to them even if the action moved it out of their sight
        // (an escalation or a return leaves the handler's unit).
        let fresh = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
        let units = self.store.case_units(id).await?;
        self.view(fresh, units).await
    }

    /// The handler the catalog and the territory propose (属地管理).
    pub async fn route_proposal(&self, actor: &Actor, id: i64) -> AppResult<RouteProposal> {
        let (record, _) = self.visible_case(actor, id).await?;
        self.route_proposal_for(&record).await
    }

    async fn route_proposal_for(&self, record: &CaseRecord) -> AppResult<RouteProposal> {
        let none = |zh: &str, en: &str| RouteProposal {
            lead: None,
            lead_name: None,
            reason_zh: zh.into(),
            reason_en: en.into(),
            auto_dispatch: false,
        };
        let Some(code) = &record.category_code else {
            return Ok(none("尚未确定事项类别", "no category yet"));
        };
        let category = self.category(code, "category").await?;
        if category.grid_handles
            && let Some(grid) = &record.grid_code
            && let Some(g) = self.store.get_grid(grid).await?
        {
            return Ok(RouteProposal {
                lead: Some(format!("grid:{grid}")),
                lead_name: Some(g.name),
                reason_zh: format!("“{}”由网格办理，案件位于该网格", category.name),
                reason_en: format!("{} is handled by the grid the case lies in", category.code),
                auto_dispatch: category.auto_dispatch,
            });
        }
        let everything = Visibility::of(["/".to_string()]);
        let owner = RegionCode::parse(&record.owner_region)?;
        let mut candidates: Vec<(String, Option<String>)> = Vec::new();
        if owner.level() == RegionLevel::Town {
            candidates.push((owner.as_str().to_string(), category.town_department.clone()));
        }
        let county = if owner.as_str().len() >= 6 {
            owner.as_str()[..6].to_string()
        } else {
            owner.as_str().to_string()
        };
        candidates.push((county, category.county_department.clone()));
        for (region, kind) in candidates {
            let Some(kind) = kind else { continue };
            let filter = fengqiao_store::DepartmentFilter {
                region_code: Some(region.clone()),
                kind: Some(kind.clone()),
            };
            let found = self
                .store
                .list_departments(
                    &everything,
                    &filter,
                    Page {
                        offset: 0,
                        limit: 1,
                    },
                )
                .await?;
            if let Some(department) = found.items.into_iter().next() {
                return Ok(RouteProposal {
                    lead: Some(format!("dept:{}", department.id)),
                    lead_name: Some(department.name.clone()),
                    reason_zh: format!(
                        "“{}”默认由{}办理（属地：{}）",
                        category.name, department.name, region
                    ),
                    reason_en: format!(
                        "{} goes to {} by default (territory {region})",
                        category.code, kind
                    ),
                    auto_dispatch: category.auto_dispatch,
                });
            }
        }
        Ok(none(
            "事项清单未给出本级承办部门，请人工选择",
            "the catalog names no department at this level; choose one",
        ))
    }

    /// Tracks a case with its number and the secret from the receipt; a wrong pair answers "not found".
    pub async fn track(&self, number: &str, secret: &str) -> AppResult<PublicCaseView> {
        let record = self.tracked_case(number, secret).await?;
        self.public_view(record).await
    }

    /// The case a number and its secret name; a wrong pair answers "not found".
    pub(crate) async fn tracked_case(&self, number: &str, secret: &str) -> AppResult<CaseRecord> {
        let Some(record) = self.store.get_case_by_number(number.trim()).await? else {
            return Err(AppError::NotFound);
        };
        let expected = hash_secret(secret);
        let same = expected.len() == record.tracking_hash.len()
            && expected
                .bytes()
                .zip(record.tracking_hash.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(AppError::NotFound);
        }
        Ok(record)
    }

    /// What the citizen sees of a case: milestones without names, the result masked, the rating.
    pub(crate) async fn public_view(&self, record: CaseRecord) -> AppResult<PublicCaseView> {
        let attachments = self.store.attachments(record.id).await?.len();
        let events = self.store.case_events(record.id).await?;
        let result = events
            .iter()
            .rev()
            .find(|e| e.name == "resolved" || e.name == "handled_on_spot")
            .and_then(|e| {
                e.detail
                    .get("result")
                    .and_then(|r| r.as_str())
                    .map(mask_text)
            });
        let status = Status::parse(&record.status).unwrap_or(Status::Registered);
        Ok(PublicCaseView {
            number: record.number,
            status: record.status.clone(),
            status_zh: status.zh().into(),
            title: mask_text(&record.title),
            created_at: record.created_at,
            handling_due: record.handling_due,
            timeline: events
                .iter()
                .filter(|e| {
                    !matches!(
                        e.name.as_str(),
                        "note_added" | "supervised" | "leader_assigned" | "assist_part_recorded"
                    )
                })
                .map(|e| (e.at, public_milestone(&e.name).to_string()))
                .collect(),
            result,
            can_rate: status == Status::AwaitingFollowUp,
            satisfaction: record.satisfaction.clone(),
            attachments,
        })
    }

    /// Likely duplicates at intake: recent visible cases within about 200 m, or from the same phone or ID number.
    pub async fn possible_duplicates(
        &self,
        actor: &Actor,
        lng: Option<f64>,
        lat: Option<f64>,
        phone: Option<&str>,
        id_number: Option<&str>,
    ) -> AppResult<Vec<CaseView>> {
        let mut hashes = Vec::new();
        if let Some(phone) = phone.filter(|p| !p.trim().is_empty()) {
            let phone = PhoneNumber::parse(phone)?;
            hashes.push(self.keys.blind_index("phone", phone.as_str()));
        }
        if let Some(id) = id_number.filter(|p| !p.trim().is_empty()) {
            let id = ResidentIdNumber::parse(id)?;
            hashes.push(self.keys.blind_index("id_number", id.as_str()));
        }
        let near = match (lng, lat) {
            (Some(lng), Some(lat)) => Some((lng, lat, 0.002)),
            _ => None,
        };
        let since = self.now() - chrono::Duration::days(30);
        let found = self
            .store
            .possible_duplicates(&self.case_visibility(actor), since, near, &hashes, 10)
            .await?;
        self.views_of(found).await
    }

    /// Stores an attachment for a case the actor may see (type recognised from its bytes, size bounded).
    /// The same bytes sent again to the same case answer the attachment already there (a retry never
    /// stores a second copy).
    pub async fn add_attachment(
        &self,
        actor: &Actor,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> AppResult<AttachmentRecord> {
        let (record, _) = self.visible_case(actor, id).await?;
        let audit = actor.audit(
            self.now(),
            "case.attachment",
            format!("case:{}", record.number),
            "ok",
            serde_json::json!({ "file_name": file_name.trim(), "size": bytes.len() }),
        );
        let (attachment, _) = self
            .put_attachment(
                &record,
                file_name,
                bytes,
                actor.audit_name(),
                audit,
                AttachmentKinds::Any,
            )
            .await?;
        Ok(attachment)
    }

    /// Validates and stores an attachment on a case; `true` when it was stored now, `false` when the same
    /// bytes were already on the case.
    pub(crate) async fn put_attachment(
        &self,
        record: &CaseRecord,
        file_name: &str,
        bytes: &[u8],
        uploaded_by: String,
        audit: fengqiao_store::AuditDraft,
        kinds: AttachmentKinds,
    ) -> AppResult<(AttachmentRecord, bool)> {
        if Status::parse(&record.status).is_some_and(Status::is_final) {
            return Err(AppError::Transition {
                code: "illegal_transition",
                zh: "已办结或归档的案件不能再添加附件".into(),
                en: "a closed case takes no attachments".into(),
            });
        }
        let mut errors = Vec::new();
        if bytes.is_empty() || bytes.len() > self.settings.max_attachment_bytes {
            errors.push(invalid(
                "file",
                "size",
                format!(
                    "附件大小应在 1 字节到 {} MB 之间",
                    self.settings.max_attachment_bytes / 1024 / 1024
                ),
                format!(
                    "attachments are 1 byte to {} MB",
                    self.settings.max_attachment_bytes / 1024 / 1024
                ),
            ));
        }
        let name = file_name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.contains(['/', '\\']) {
            errors.push(invalid(
                "file_name",
                "format",
                "文件名无效",
                "invalid file name",
            ));
        }
        let content_type = crate::attachments::sniff(bytes);
        match (kinds, content_type) {
            (_, None) if !bytes.is_empty() => errors.push(invalid(
                "file",
                "type",
                "只接受图片（JPEG/PNG/WebP）、PDF、Office 文档、音频和视频",
                "only images (JPEG/PNG/WebP), PDF, Office documents, audio and video are accepted",
            )),
            (AttachmentKinds::Photos, Some(t)) if !t.starts_with("image/") => errors.push(invalid(
                "file",
                "type",
                "只接受照片（JPEG/PNG/WebP）",
                "only photos (JPEG/PNG/WebP) are accepted",
            )),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (key, sha256) = crate::attachments::key_for(bytes);
        let existing = self.store.attachments(record.id).await?;
        if let Some(found) = existing.iter().find(|a| a.sha256 == sha256) {
            return Ok((found.clone(), false));
        }
        if kinds == AttachmentKinds::Photos && existing.len() >= PUBLIC_PHOTOS_PER_CASE {
            return Err(AppError::Validation(vec![invalid(
                "file",
                "too_many",
                format!("每件诉求最多上传 {PUBLIC_PHOTOS_PER_CASE} 张照片"),
                format!("at most {PUBLIC_PHOTOS_PER_CASE} photos per case"),
            )]));
        }
        self.attachments.put(&key, bytes)?;
        let mut attachment = AttachmentRecord {
            id: 0,
            case_id: record.id,
            file_name: name.to_string(),
            content_type: content_type
                .unwrap_or("application/octet-stream")
                .to_string(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256,
            storage_key: key,
            uploaded_by,
            created_at: self.now(),
        };
        attachment.id = self.store.add_attachment(&attachment, &[audit]).await?;
        Ok((attachment, true))
    }

    /// A case's attachments.
    pub async fn attachments(&self, actor: &Actor, id: i64) -> AppResult<Vec<AttachmentRecord>> {
        self.visible_case(actor, id).await?;
        Ok(self.store.attachments(id).await?)
    }

    /// An attachment's bytes.
    pub async fn attachment_bytes(
        &self,
        actor: &Actor,
        id: i64,
        attachment_id: i64,
    ) -> AppResult<(AttachmentRecord, Vec<u8>)> {
        self.visible_case(actor, id).await?;
        let attachment = self
            .store
            .attachments(id)
            .await?
            .into_iter()
            .find(|a| a.id == attachment_id)
            .ok_or(AppError::NotFound)?;
        let bytes = self.attachments.get(&attachment.storage_key)?;
        Ok((attachment, bytes))
    }

    /// The recipients an actor reads notifications for.
    pub fn notification_recipients(&self, actor: &Actor) -> Vec<String> {
        let mut out = vec![format!("user:{}", actor.user.id)];
        for (role, scope) in &actor.grants {
            out.push(scope.to_string());
            out.push(format!("{role}@{scope}"));
        }
        for unit in self.case_actor(actor).units {
            out.push(unit.key());
        }
        out.sort();
        out.dedup();
        out
    }

    /// Marks due-soon (yellow) and overdue (red) cases and notifies their units and centers. Runs once per
    /// tick across all servers sharing the database.
    pub async fn sweep_deadlines(&self) -> AppResult<usize> {
        if !self
            .store
            .claim_tick("deadlines", self.now(), chrono::Duration::seconds(50))
            .await?
        {
            return Ok(0);
        }
        let raised = self
            .store
            .raise_warnings(self.now(), self.settings.due_soon)
            .await?
            .len();
        // A return the center has not ruled on within a day goes to the center's lead.
        let before = self.now() - chrono::Duration::hours(24);
        let escalated = self
            .store
            .escalate_stale_returns(before, self.now())
            .await?
            .len();
        Ok(raised + escalated)
    }

    /// Sends a verification code to a citizen's phone (one a minute per phone; valid ten minutes).
    pub async fn send_verification_code(&self, phone: &str) -> AppResult<()> {
        let phone = PhoneNumber::parse(phone)?;
        let token = crate::personal::random_token(8);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .unwrap_or_default();
        let n = raw.iter().fold(0u64, |acc, b| {
            acc.wrapping_mul(256).wrapping_add(u64::from(*b))
        });
        let code = format!("{:06}", n % 1_000_000);
        let phone_hash = self.keys.blind_index("phone", phone.as_str());
        let code_hash = self
            .keys
            .blind_index("verification_code", &format!("{}:{code}", phone.as_str()));
        let issued = self
            .store
            .put_verification_code(
                &phone_hash,
                &code_hash,
                self.now(),
                chrono::Duration::minutes(10),
                chrono::Duration::seconds(60),
            )
            .await?;
        if !issued {
            return Err(AppError::Throttled {
                retry_after_secs: 60,
            });
        }
        self.sms.send(
            phone.as_str(),
            &format!("【枫桥】您的验证码是 {code}，10 分钟内有效。"),
        );
        Ok(())
    }

    /// On the public page, a phone given for the reporter must come with the code sent to it.
    async fn check_citizen_phone(&self, input: &CaseInput) -> AppResult<()> {
        let phones: Vec<&str> = input
            .parties
            .iter()
            .filter_map(|p| p.phone.as_deref())
            .filter(|p| !p.trim().is_empty())
            .collect();
        if phones.len() > 1 {
            return Err(AppError::Validation(vec![invalid(
                "parties",
                "too_many",
                "自助提交只能填写一个手机号",
                "the public page takes one phone number",
            )]));
        }
        let Some(phone) = phones.first() else {
            return Ok(());
        };
        let phone = PhoneNumber::parse(phone).map_err(|e| e.for_field("parties[0].phone"))?;
        let Some(code) = input
            .verification_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return Err(AppError::Validation(vec![invalid(
                "verification_code",
                "required",
                "请填写短信验证码",
                "enter the code sent to the phone",
            )]));
        };
        let phone_hash = self.keys.blind_index("phone", phone.as_str());
        let code_hash = self
            .keys
            .blind_index("verification_code", &format!("{}:{code}", phone.as_str()));
        let outcome = self
            .store
            .use_verification_code(&phone_hash, &code_hash, self.now())
            .await?;
        if !outcome.ok {
            return Err(AppError::Validation(vec![invalid(
                "verification_code",
                "wrong",
                "验证码错误或已过期",
                "the code is wrong or has expired",
            )]));
        }
        Ok(())
    }

    /// Recomputes the deadlines of open cases that rest on provisional calendar years.
    pub async fn recompute_provisional_deadlines(&self) -> AppResult<usize> {
        let everything = CaseVisibility {
            path_prefixes: vec!["/".into()],
            units: Vec::new(),
        };
        let rules = self.deadline_rules();
        let mut changed = 0;
        let mut page = Page {
            offset: 0,
            limit: 200,
        };
        loop {
            let found = self
                .store
                .list_cases(&everything, &CaseFilter::default(), page)
                .await?;
            if found.items.is_empty() {
                break;
            }
            for record in &found.items {
                if !record.deadline_provisional {
                    continue;
                }
                let Ok(mut state) = serde_json::from_str::<Case>(&record.state) else {
                    continue;
                };
                state.deadlines = state.recompute_deadlines(&rules);
                let columns = columns_of(&state, &record.owner_path, record.satisfaction.clone())?;
                let transition = CaseTransition {
                    case_id: record.id,
                    expected_version: record.version,
                    columns,
                    updated_at: self.now(),
                    event: EventDraft {
                        name: "deadlines_recomputed".into(),
                        from_status: record.status.clone(),
                        to_status: record.status.clone(),
                        actor: "system".into(),
                        at: self.now(),
                        detail: serde_json::json!({ "calendar_version": self.calendar().version() }),
                    },
                    supervision: None,
                    notifications: Vec::new(),
                    dispatch: fengqiao_store::DispatchChange::default(),
                };
                let audit = self.system_audit(
                    "case.deadlines_recomputed",
                    format!("case:{}", record.number),
                    serde_json::json!({}),
                );
                if self
                    .store
                    .transition_case(&transition, &[audit])
                    .await
                    .is_ok()
                {
                    changed += 1;
                }
            }
            page.offset += page.limit;
        }
        Ok(changed)
    }
}

fn public_milestone(event: &str) -> &'static str {
    match event {
        "registered" => "已登记",
        "accepted" => "已受理",
        "rejected" => "不予受理",
        "handled_on_spot" => "已当场办结",
        "dispatched" | "reassigned" | "return_ruled" => "已分派承办单位",
        "claimed" => "承办单位已签收",
        "returned" => "承办单位退回，中心重新研判",
        "extension_requested" | "extension_approved" | "extension_denied" => "办理期限调整",
        "escalated" => "已上报上级",
        "delegated" => "已交下级办理",
        "resolved" => "承办单位已办结",
        "review_approved" => "中心审核通过",
        "sent_back" => "中心要求继续办理",
        "followed_up" => "已回访",
        "reopened" => "重新办理",
        "archived" => "已归档",
        "merged" => "已与相同诉求合并办理",
        "category_changed" => "事项类别调整",
        "deadlines_recomputed" => "办理期限按新公布的节假日重新计算",
        _ => "办理进展",
    }
}

/// How a transition changes the case's dispatch records (the response rate counts them).
pub(crate) fn dispatch_change(
    command: &Command,
    before: &Case,
    after: &Case,
) -> fengqiao_store::DispatchChange {
    let answered = matches!(command, Command::Claim | Command::Return { .. });
    let redispatched =
        after.dispatched_at != before.dispatched_at && after.status == Status::Dispatched;
    let leaves_unit = matches!(
        command,
        Command::Return { .. }
            | Command::Escalate { .. }
            | Command::Reopen { .. }
            | Command::MergeInto { .. }
    ) || redispatched;
    fengqiao_store::DispatchChange {
        respond: answered,
        end: leaves_unit,
        start: if redispatched {
            after
                .lead
                .as_ref()
                .map(|lead| (lead.key(), after.deadlines.response.map(|d| d.at)))
        } else {
            None
        },
    }
}

/// The columns that mirror a domain case.
pub(crate) fn columns_of(
    state: &Case,
    owner_path: &str,
    satisfaction: Option<String>,
) -> AppResult<CaseColumns> {
    let mut units = Vec::new();
    if let Some(lead) = &state.lead {
        units.push((lead.key(), "lead".to_string(), None));
    }
    for assist in &state.assisting {
        units.push((assist.unit.key(), "assist".to_string(), assist.part.clone()));
    }
    Ok(CaseColumns {
        status: state.status.as_str().into(),
        category_code: state.category.clone(),
        owner_region: state.owner_region.as_str().into(),
        owner_path: owner_path.to_string(),
        lead_unit: state.lead.as_ref().map(Unit::key),
        units,
        claimed_by: state.claimed_by,
        leader_owner: state.leader_owner,
        response_due: state.deadlines.response.map(|d| d.at),
        handling_due: state.deadlines.handling.map(|d| d.at),
        follow_up_due: state.deadlines.follow_up.map(|d| d.at),
        feedback_due: state.deadlines.feedback.map(|d| d.at),
        clock_paused: state.paused_at.is_some(),
        deadline_provisional: state.deadlines.provisional(),
        reopen_count: i64::from(state.reopen_count),
        merged_into: state.merged_into.clone(),
        satisfaction,
        state: state_json(state)?,
        accepted_at: state.accepted_at,
        resolved_at: state.resolved_at,
        closed_at: state.closed_at,
    })
}

/// The case's state as the JSON its row keeps, written into 2 KiB reserved at once instead of a buffer grown
/// from nothing by copying (larger states grow from there).
fn state_json(state: &Case) -> AppResult<String> {
    let mut json = Vec::with_capacity(2048);
    serde_json::to_writer(&mut json, state).map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(json).map_err(|e| AppError::Internal(e.to_string()))
}
