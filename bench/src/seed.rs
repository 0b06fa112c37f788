//! Bulk-seeding synthetic cases straight into the database (the server is stopped meanwhile): inserting a
//! million through HTTP would take too long.
//!
//! Rows follow the schema in crates/fengqiao-store/migrations/*/0002_cases.sql and 0003_scale.sql and the store's conventions:
//! timestamps truncated to microseconds and bound through sqlx (so SQLite gets the same RFC 3339 text the store
//! writes), the `state` column is the domain's `Case` serialised (starting from a real case registered over
//! HTTP), case numbers `TOWN-YYYYMMDD-NNNN` by local date with `case_numbers` kept in step, `case_units` for
//! every case a unit holds (open and closed alike, as the lifecycle leaves them) and `case_dispatches` for the
//! response rate. Not seeded: parties, timeline events and audit records of the synthetic cases.
//!
//! Shape: cases spread over the last two years in time order (ids rising with `created_at`); county A
//! (370883) holds one fifth of all cases and county B the rest; towns weighted 1/√rank (the first town is
//! the busiest), villages even. Cases older than a month are nearly all closed or archived (some rejected or
//! merged); the last month's are a mix with ~45 % dispatched or in progress, so their handling deadlines
//! (acceptance + 10 working days ≈ 14 calendar days) lie between two weeks ago and two weeks ahead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use crate::db::{Db, on_db};
use crate::fixture::{Fixture, Town, Village};
use fengqiao_domain::calendar::local_date;
use fengqiao_domain::case::{
    Assist, Case, CaseKind, CaseLimits, Channel, DeadlineAt, Deadlines, FollowUpOutcome, Limit,
    Status, Unit,
};
use fengqiao_domain::codes::RegionCode;

/// Rows generated and written per transaction.
const CHUNK: usize = 50_000;
/// Cases per multi-row INSERT on SQLite (45 columns: 9,000 bound values, under SQLite's 32,766).
const SQLITE_CASES_PER_INSERT: usize = 200;
/// Narrow rows (units, dispatches, numbers) per multi-row INSERT.
const SQLITE_ROWS_PER_INSERT: usize = 1_000;
/// How far back cases go.
const HISTORY_DAYS: i64 = 730;
/// The newest seeded case is this old, so its number's date never meets today's intake.
const NEWEST_DAYS: i64 = 2;

/// A small deterministic generator (splitmix64): enough for synthetic data, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + self.unit() * (high - low)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// An 11-digit mainland mobile number.
    pub fn phone(&mut self) -> String {
        let second = *self.pick(&['3', '5', '7', '8', '9']);
        format!("1{second}{:09}", self.next_u64() % 1_000_000_000)
    }
}

/// Which town unit leads a category's cases.
#[derive(Debug, Clone, Copy)]
enum Lead {
    Police,
    Justice,
}

/// A catalog category the synthetic cases use, with its limits and some text.
struct CategorySpec {
    code: &'static str,
    kind: CaseKind,
    lead: Lead,
    weight: f64,
    response_hours: u32,
    handling_days: u32,
    titles: &'static [&'static str],
    details: &'static [&'static str],
}

const CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        code: "dispute.neighbour",
        kind: CaseKind::Dispute,
        lead: Lead::Justice,
        weight: 20.0,
        response_hours: 4,
        handling_days: 10,
        titles: &[
            "楼上漏水殃及楼下住户",
            "邻居占用公共通道堆放杂物",
            "相邻宅基地界址争议",
            "邻里因排水沟走向发生争执",
        ],
        details: &[
            "反映楼上住户卫生间长期渗漏，天花板发霉，多次协商未果",
            "称邻居在楼道长期堆放杂物和电动车，影响通行和消防安全",
            "双方因院墙位置和宅基地界址各执一词，曾发生口角",
            "雨季排水不畅，双方因排水沟改道互不相让",
        ],
    },
    CategorySpec {
        code: "dispute.marriage_family",
        kind: CaseKind::Dispute,
        lead: Lead::Justice,
        weight: 10.0,
        response_hours: 4,
        handling_days: 10,
        titles: &[
            "赡养老人费用分担纠纷",
            "离婚后抚养费未按时支付",
            "家庭矛盾激化请求调解",
        ],
        details: &[
            "兄妹三人对父母赡养费用分担意见不一，老人生活困难",
            "前夫连续数月未支付孩子抚养费，经催要仍不履行",
            "婆媳之间因家务琐事矛盾加深，多次争吵",
        ],
    },
    CategorySpec {
        code: "dispute.labour.wage_arrears",
        kind: CaseKind::Dispute,
        lead: Lead::Justice,
        weight: 8.0,
        response_hours: 2,
        handling_days: 10,
        titles: &[
            "农民工讨要拖欠工资",
            "工地包工头拖欠工钱",
            "企业停产后拖欠员工工资",
        ],
        details: &[
            "十余名农民工反映在某工地务工后工资至今未结清",
            "包工头以工程款未到位为由拖欠工钱三个月",
            "厂区停产后老板失联，员工工资和社保未缴",
        ],
    },
    CategorySpec {
        code: "dispute.property_management",
        kind: CaseKind::Dispute,
        lead: Lead::Justice,
        weight: 7.0,
        response_hours: 4,
        handling_days: 10,
        titles: &[
            "小区物业费收取争议",
            "物业公司不履行维修义务",
            "停车位分配引发业主不满",
        ],
        details: &[
            "业主认为物业服务不到位，拒绝缴纳上涨后的物业费",
            "电梯多次故障，物业公司迟迟不安排维修",
            "新划停车位按抽签分配，部分业主认为不公",
        ],
    },
    CategorySpec {
        code: "petition.appeal",
        kind: CaseKind::Petition,
        lead: Lead::Justice,
        weight: 5.0,
        response_hours: 24,
        handling_days: 60,
        titles: &["对征地补偿标准有异议", "反映低保资格认定不公"],
        details: &[
            "认为本村土地征收补偿标准低于周边村庄，要求重新核定",
            "家庭困难却未纳入低保，认为村里评议不公开",
        ],
    },
    CategorySpec {
        code: "urban_management.illegal_construction",
        kind: CaseKind::Request,
        lead: Lead::Police,
        weight: 10.0,
        response_hours: 4,
        handling_days: 10,
        titles: &["村内私搭乱建影响通行", "临街违规加盖彩钢棚"],
        details: &[
            "有村民在村道旁私自搭建棚屋，占用道路影响车辆通行",
            "临街商户在门前加盖彩钢棚，存在安全隐患",
        ],
    },
    CategorySpec {
        code: "environment.noise",
        kind: CaseKind::Request,
        lead: Lead::Police,
        weight: 12.0,
        response_hours: 4,
        handling_days: 5,
        titles: &[
            "夜间施工噪音扰民",
            "广场舞音响声音过大",
            "商铺高音喇叭招揽顾客",
        ],
        details: &[
            "附近工地连续多晚施工至凌晨，居民无法休息",
            "每晚广场舞音响音量过大，影响老人和学生休息",
            "商铺门口高音喇叭循环播放，周边住户不堪其扰",
        ],
    },
    CategorySpec {
        code: "livelihood.water_supply",
        kind: CaseKind::Request,
        lead: Lead::Police,
        weight: 8.0,
        response_hours: 4,
        handling_days: 5,
        titles: &["小区停水多日未恢复", "自来水水质发黄", "供水管道破裂漏水"],
        details: &[
            "小区停水已三天，未见通知也无人维修",
            "近一周自来水发黄有异味，担心饮水安全",
            "路边供水管道破裂，大量自来水外流",
        ],
    },
    CategorySpec {
        code: "public_security.fight",
        kind: CaseKind::Request,
        lead: Lead::Police,
        weight: 5.0,
        response_hours: 1,
        handling_days: 5,
        titles: &["酒后斗殴致人受伤", "因琐事发生肢体冲突"],
        details: &[
            "饭店内有人酒后斗殴，一人头部受伤",
            "双方因停车琐事发生肢体冲突，需要处理",
        ],
    },
    CategorySpec {
        code: "safety_hazard.fire.corridor",
        kind: CaseKind::Request,
        lead: Lead::Police,
        weight: 15.0,
        response_hours: 2,
        handling_days: 5,
        titles: &["楼道电动车充电存在火灾隐患", "消防通道被占用"],
        details: &[
            "有住户从楼上拉电线在楼道给电动车充电，存在火灾隐患",
            "小区消防通道长期被私家车占用，消防车无法通行",
        ],
    },
];

const SURNAMES: &[&str] = &["张", "王", "李", "赵", "刘", "陈", "孔", "孟", "颜", "曾"];

/// Statuses by a case's age: the last month (weights in %).
const RECENT: &[(Status, f64)] = &[
    (Status::Registered, 2.0),
    (Status::Accepted, 4.0),
    (Status::Dispatched, 15.0),
    (Status::InProgress, 30.0),
    (Status::Returned, 1.0),
    (Status::Resolved, 5.0),
    (Status::AwaitingFollowUp, 8.0),
    (Status::Closed, 29.0),
    (Status::Rejected, 4.0),
    (Status::Merged, 2.0),
];
/// One to two months old.
const MIDDLE: &[(Status, f64)] = &[
    (Status::Closed, 93.0),
    (Status::Archived, 1.0),
    (Status::Rejected, 4.0),
    (Status::Merged, 2.0),
];
/// Older.
const OLD: &[(Status, f64)] = &[
    (Status::Archived, 93.0),
    (Status::Closed, 1.0),
    (Status::Rejected, 4.0),
    (Status::Merged, 2.0),
];

/// One synthetic case row.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub tracking_hash: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub urgency: &'static str,
    pub status: &'static str,
    pub category_code: &'static str,
    pub title: String,
    pub description: String,
    pub tags: &'static str,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    pub grid_code: String,
    pub basic_grid_code: Option<String>,
    pub region_code: String,
    pub path: String,
    pub owner_region: String,
    pub owner_path: String,
    pub lead_unit: Option<String>,
    pub claimed_by: Option<i64>,
    pub response_due: Option<DateTime<Utc>>,
    pub handling_due: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub feedback_due: Option<DateTime<Utc>>,
    pub warning: &'static str,
    pub merged_into: Option<String>,
    pub satisfaction: Option<&'static str>,
    pub state: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The response-rate columns (migration 0003), as the store keeps them from the dispatch records.
    pub responses_on_time: i64,
    pub responses_counted: i64,
    pub response_open_due: Option<DateTime<Utc>>,
}

/// A unit holding a case.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub case_id: i64,
    pub unit_key: String,
    pub role: &'static str,
    /// The case's status, copied as the store does.
    pub status: &'static str,
}

/// A dispatch of a case to a unit.
#[derive(Debug, Clone)]
pub struct DispatchRow {
    pub case_id: i64,
    pub unit_key: String,
    pub dispatched_at: DateTime<Utc>,
    pub response_due: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// How many cases to have in all and in county A (intake's cases count toward both).
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub total: u64,
    pub county_a: u64,
}

/// What seeding did.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// Cases in the database afterwards, and in each county.
    pub cases: u64,
    pub county_a: u64,
    pub county_b: u64,
    /// Of those, inserted here.
    pub inserted: u64,
    pub units: u64,
    pub dispatches: u64,
    /// Time to insert the rows (commits included).
    pub insert_secs: f64,
    /// Time for what follows a bulk load (SQLite: WAL checkpoint; PostgreSQL: VACUUM ANALYZE).
    pub after_secs: f64,
}

/// What a real case registered over HTTP looks like; synthetic rows copy its shape.
#[derive(Debug, Clone)]
struct Template {
    state: Case,
    basic_grid_is_grid: bool,
}

impl Template {
    async fn read(db: &Db) -> anyhow::Result<Template> {
        let rows = db
            .text_pairs(
                "SELECT state, CASE WHEN basic_grid_code = grid_code THEN 'same' ELSE 'other' END FROM cases ORDER BY id LIMIT 1",
            )
            .await?;
        let (state, basic) = rows
            .into_iter()
            .next()
            .context("no case was registered over HTTP to copy the state's shape from")?;
        let state: Case = serde_json::from_str(&state)
            .context("a real case's `state` does not parse as fengqiao_domain::case::Case")?;
        Ok(Template {
            state,
            basic_grid_is_grid: basic == "same",
        })
    }
}

fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn hours(h: f64) -> chrono::Duration {
    chrono::Duration::microseconds((h * 3_600_000_000.0) as i64)
}

fn days(d: f64) -> chrono::Duration {
    hours(d * 24.0)
}

/// Makes the synthetic rows, in time order.
struct Generator<'a> {
    rng: Rng,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    template: Template,
    towns_a: Vec<&'a Town>,
    towns_b: Vec<&'a Town>,
    weights_a: Vec<f64>,
    weights_b: Vec<f64>,
    category_weights: Vec<f64>,
    handlers: HashMap<String, i64>,
    numbers: HashMap<(String, NaiveDate), u32>,
    last_number: Option<String>,
}

impl<'a> Generator<'a> {
    fn new(fixture: &'a Fixture, template: Template, now: DateTime<Utc>) -> Generator<'a> {
        let weights =
            |n: usize| -> Vec<f64> { (0..n).map(|k| 1.0 / ((k + 1) as f64).sqrt()).collect() };
        let towns_a: Vec<&Town> = fixture.county_towns(0).collect();
        let towns_b: Vec<&Town> = fixture.county_towns(1).collect();
        let handlers = fixture
            .towns
            .iter()
            .filter_map(|t| {
                fixture
                    .users
                    .ids
                    .get(&crate::fixture::handler(&t.code))
                    .map(|id| (t.code.clone(), *id))
            })
            .collect();
        Generator {
            rng: Rng::new(20_261_123),
            now,
            start: now - chrono::Duration::days(HISTORY_DAYS),
            template,
            weights_a: weights(towns_a.len()),
            weights_b: weights(towns_b.len()),
            towns_a,
            towns_b,
            category_weights: CATEGORIES.iter().map(|c| c.weight).collect(),
            handlers,
            numbers: HashMap::new(),
            last_number: None,
        }
    }

    /// The `i`-th of `n` cases (created at the matching point of the history), in county A or B.
    fn case(
        &mut self,
        id: i64,
        i: u64,
        n: u64,
        in_a: bool,
    ) -> anyhow::Result<(CaseRow, Vec<UnitRow>, Option<DispatchRow>)> {
        let rng = &mut self.rng;
        let span = (HISTORY_DAYS - NEWEST_DAYS) as f64 * 86_400.0;
        let created_at = micros(
            self.start
                + chrono::Duration::microseconds(
                    ((i as f64 + rng.unit()) / n.max(1) as f64 * span * 1e6) as i64,
                ),
        );
        let town = if in_a {
            self.towns_a[rng.weighted(&self.weights_a)]
        } else {
            self.towns_b[rng.weighted(&self.weights_b)]
        };
        let village: &Village = rng.pick(&town.villages);
        let category = &CATEGORIES[rng.weighted(&self.category_weights)];
        let age_days = (self.now - created_at).num_seconds() as f64 / 86_400.0;
        let table = if age_days <= 30.0 {
            RECENT
        } else if age_days <= 60.0 {
            MIDDLE
        } else {
            OLD
        };
        let weights: Vec<f64> = table.iter().map(|(_, w)| *w).collect();
        let status = table[rng.weighted(&weights)].0;
        let channel = *rng.pick(&[
            Channel::WalkIn,
            Channel::WalkIn,
            Channel::WalkIn,
            Channel::Phone,
            Channel::Phone,
            Channel::Hotline12345,
            Channel::Hotline12345,
            Channel::GridReport,
            Channel::GridReport,
            Channel::SelfService,
        ]);
        let urgency = match rng.below(100) {
            0 => "critical",
            1..=9 => "urgent",
            _ => "normal",
        };

        // The lifecycle's times, each after the one before and all over an hour ago (older than the intake's
        // cases, so the server's search cursor stays past them).
        let latest = self.now - chrono::Duration::hours(1);
        let mut at = created_at;
        let mut step = |rng: &mut Rng, low_h: f64, high_h: f64| -> DateTime<Utc> {
            at = micros((at + hours(rng.range(low_h, high_h))).min(latest).max(at));
            at
        };
        use Status::*;
        let accepted = !matches!(status, Registered | Rejected | Merged);
        let on_the_spot = matches!(status, Resolved | AwaitingFollowUp | Closed | Archived)
            && rng.below(100) < 12;
        let dispatched = accepted && !on_the_spot && !matches!(status, Accepted);
        let claimed = dispatched && !matches!(status, Dispatched | Returned);
        let resolved = matches!(status, Resolved | AwaitingFollowUp | Closed | Archived);
        let reviewed = matches!(status, AwaitingFollowUp | Closed | Archived);
        let closed = matches!(status, Closed | Archived);

        let accepted_at = accepted.then(|| step(rng, 0.1, 2.0));
        let handling_due =
            accepted_at.map(|a| micros(a + days(category.handling_days as f64 * 1.4)));
        let dispatched_at = dispatched.then(|| step(rng, 0.2, 3.0));
        let response_due_of_dispatch =
            dispatched_at.map(|d| micros(d + hours(category.response_hours as f64)));
        let answered_at = (claimed || status == Returned)
            .then(|| step(rng, 0.1, category.response_hours as f64 * 1.3));
        let resolved_at =
            resolved.then(|| step(rng, 4.0, category.handling_days as f64 * 1.4 * 24.0 * 1.15));
        let reviewed_at = reviewed.then(|| step(rng, 1.0, 24.0));
        let closed_at = closed.then(|| step(rng, 1.0, 72.0));
        let updated_at = at;

        let lead = dispatched && status != Returned;
        let lead_dept = match category.lead {
            Lead::Police => town.police_station,
            Lead::Justice => town.justice_office,
        };
        let other_dept = match category.lead {
            Lead::Police => town.justice_office,
            Lead::Justice => town.police_station,
        };
        let assisting = lead && rng.below(10) == 0;
        let outcome = closed.then(|| match rng.below(100) {
            0..=79 => FollowUpOutcome::Satisfied,
            80..=89 => FollowUpOutcome::BasicallySatisfied,
            90..=93 => FollowUpOutcome::Dissatisfied,
            94..=97 => FollowUpOutcome::Unreachable,
            _ => FollowUpOutcome::Declined,
        });
        let claimed_by = claimed.then(|| self.handlers.get(&town.code).copied().unwrap_or(1));
        let response_due = (status == Dispatched)
            .then_some(response_due_of_dispatch)
            .flatten();
        let follow_up_due =
            (status == AwaitingFollowUp).then(|| micros(reviewed_at.unwrap_or(at) + days(4.2)));
        let feedback_due = (channel == Channel::WalkIn && status == Registered)
            .then(|| micros(created_at + days(2.8)));
        let open = matches!(
            status,
            Accepted | Dispatched | InProgress | Returned | Resolved
        );
        let warning = match handling_due {
            Some(due) if open && due < self.now => "red",
            Some(due) if open && due < self.now + chrono::Duration::hours(24) => "yellow",
            _ => "none",
        };
        let merged_into = (status == Merged)
            .then(|| self.last_number.clone())
            .flatten();

        // The number: town, local date, sequence of that day.
        let date = local_date(created_at);
        let seq = self
            .numbers
            .entry((town.code.clone(), date))
            .and_modify(|s| *s += 1)
            .or_insert(1);
        let number = format!("{}-{}-{:04}", town.code, date.format("%Y%m%d"), seq);
        self.last_number = Some(number.clone());

        let deadline = |at: Option<DateTime<Utc>>| {
            at.map(|at| DeadlineAt {
                at,
                provisional: false,
            })
        };
        let mut state = self.template.state.clone();
        state.status = status;
        state.kind = category.kind;
        state.category = Some(category.code.to_string());
        state.owner_region = RegionCode::parse(&town.code).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        state.lead = lead.then_some(Unit::Department(lead_dept));
        state.assisting = if assisting {
            vec![Assist {
                unit: Unit::Department(other_dept),
                part: None,
            }]
        } else {
            Vec::new()
        };
        state.claimed_by = claimed_by;
        state.pending_extension = None;
        state.deadlines = Deadlines {
            response: deadline(response_due),
            handling: deadline(handling_due),
            follow_up: deadline(follow_up_due),
            feedback: deadline(feedback_due),
        };
        state.limits = if accepted {
            CaseLimits {
                response: Limit::WorkingHours(category.response_hours),
                handling: Limit::WorkingDays(category.handling_days),
                follow_up: Limit::WorkingDays(3),
                pausable: category.kind == CaseKind::Dispute,
            }
        } else {
            CaseLimits::default()
        };
        state.leader_owner = None;
        state.follow_up = outcome;
        state.reopen_count = 0;
        state.merged_into = merged_into.clone();
        state.created_at = created_at;
        state.accepted_at = accepted_at;
        state.dispatched_at = dispatched_at;
        state.claimed_at = answered_at.filter(|_| claimed);
        state.resolved_at = resolved_at;
        state.closed_at = closed_at;
        state.handling_started_at = accepted_at;
        state.extended_working_days = 0;
        state.reviewed_at = reviewed_at;
        state.paused_at = None;

        let version = match status {
            Registered => 1,
            Accepted | Rejected | Merged => 2,
            Dispatched => 3,
            InProgress | Returned => 4,
            Resolved => 5,
            AwaitingFollowUp => 6,
            Closed => 7,
            Archived => 8,
        };
        let surname = *rng.pick(SURNAMES);
        let title = rng.pick(category.titles).to_string();
        let detail = *rng.pick(category.details);
        let description = format!(
            "{}{}村民{}{}反映：{}。{}，请求{}尽快协调处理。",
            town.name,
            village.name,
            surname,
            if rng.below(2) == 0 {
                "先生"
            } else {
                "女士"
            },
            detail,
            match rng.below(3) {
                0 => "当事人情绪较为激动",
                1 => "此前已多次反映",
                _ => "现场有照片为证",
            },
            town.name,
        );
        let (lng, lat) = village.point(rng.unit(), rng.unit());
        let tracking_hash = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64()
        );
        let tags = if rng.below(30) == 0 { "repeat" } else { "" };
        let address = format!("{}{}{}号", town.name, village.name, 1 + rng.below(200));

        let mut units = Vec::new();
        if lead {
            units.push(UnitRow {
                case_id: id,
                unit_key: format!("dept:{lead_dept}"),
                role: "lead",
                status: status.as_str(),
            });
            if assisting {
                units.push(UnitRow {
                    case_id: id,
                    unit_key: format!("dept:{other_dept}"),
                    role: "assist",
                    status: status.as_str(),
                });
            }
        }
        let dispatch = dispatched_at.map(|at| DispatchRow {
            case_id: id,
            unit_key: format!("dept:{lead_dept}"),
            dispatched_at: at,
            response_due: response_due_of_dispatch,
            responded_at: answered_at,
            ended_at: (status == Returned).then_some(answered_at).flatten(),
        });

        let (responses_on_time, responses_counted, response_open_due) = match &dispatch {
            None => (0, 0, None),
            Some(d) => {
                let on_time =
                    matches!((d.responded_at, d.response_due), (Some(r), Some(due)) if r <= due);
                let counted = d.responded_at.is_some()
                    || matches!((d.ended_at, d.response_due), (Some(e), Some(due)) if e > due);
                let open_due = if d.responded_at.is_none() && d.ended_at.is_none() {
                    d.response_due
                } else {
                    None
                };
                (i64::from(on_time), i64::from(counted), open_due)
            }
        };
        let row = CaseRow {
            id,
            number,
            tracking_hash,
            kind: category.kind.as_str(),
            channel: channel.as_str(),
            urgency,
            status: status.as_str(),
            category_code: category.code,
            title,
            description,
            tags,
            address,
            lng,
            lat,
            grid_code: village.grid_code.clone(),
            basic_grid_code: self
                .template
                .basic_grid_is_grid
                .then(|| village.grid_code.clone()),
            region_code: village.code.clone(),
            path: village.grid_path.clone(),
            owner_region: town.code.clone(),
            owner_path: town.path.clone(),
            lead_unit: lead.then(|| format!("dept:{lead_dept}")),
            claimed_by,
            response_due,
            handling_due,
            follow_up_due,
            feedback_due,
            warning,
            merged_into,
            satisfaction: outcome.map(FollowUpOutcome::as_str),
            state: serde_json::to_string(&state)?,
            version,
            created_at,
            updated_at,
            accepted_at,
            resolved_at,
            closed_at,
            responses_on_time,
            responses_counted,
            response_open_due,
        };
        Ok((row, units, dispatch))
    }
}

/// Seeds cases until the database holds `plan.total` (`plan.county_a` of them in county A).
pub async fn seed(db: &Db, fixture: &Fixture, plan: SeedPlan) -> anyhow::Result<SeedReport> {
    let template = Template::read(db).await?;
    let existing = db.scalar("SELECT COUNT(*) FROM cases").await?.max(0) as u64;
    let existing_a = db
        .scalar("SELECT COUNT(*) FROM cases WHERE owner_region LIKE '370883%'")
        .await?
        .max(0) as u64;
    let first_id = db.scalar("SELECT MAX(id) FROM cases").await? + 1;
    let to_a = plan.county_a.saturating_sub(existing_a);
    let to_insert = plan.total.saturating_sub(existing).max(to_a);
    // The server reads the same system clock.
    let now = micros(fengqiao_app::clock::Clock::now(
        &fengqiao_app::clock::SystemClock,
    ));
    let mut generator = Generator::new(fixture, template, now);

    let started = Instant::now();
    let (mut units_total, mut dispatches_total) = (0u64, 0u64);
    let mut made_a = 0u64;
    let mut i = 0u64;
    let mut last_progress = Instant::now();
    while i < to_insert {
        let n = (to_insert - i).min(CHUNK as u64);
        let mut cases = Vec::with_capacity(n as usize);
        let mut units = Vec::new();
        let mut dispatches = Vec::new();
        for k in i..i + n {
            // County A's share spread evenly through time.
            let in_a = made_a < ((k + 1) * to_a).div_ceil(to_insert.max(1));
            made_a += u64::from(in_a);
            let (case, case_units, dispatch) =
                generator.case(first_id + k as i64, k, to_insert, in_a)?;
            cases.push(case);
            units.extend(case_units);
            dispatches.extend(dispatch);
        }
        write_chunk(db, &cases, &units, &dispatches)
            .await
            .with_context(|| format!("writing cases {i}…{}", i + n))?;
        units_total += units.len() as u64;
        dispatches_total += dispatches.len() as u64;
        i += n;
        if last_progress.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  … seeded {i} of {to_insert} cases in {:.0} s",
                started.elapsed().as_secs_f64()
            );
            last_progress = Instant::now();
        }
    }
    write_numbers(db, &generator.numbers).await?;
    if db.backend() == crate::db::Backend::Postgres {
        db.execute(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await?;
    }
    let insert_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    match db.backend() {
        // The server would otherwise start on a WAL holding the whole load.
        crate::db::Backend::Sqlite => db.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?,
        // What autovacuum does soon after a bulk load anyway; done now so the plans are steady.
        crate::db::Backend::Postgres => {
            for sql in [
                "VACUUM ANALYZE cases",
                "VACUUM ANALYZE case_units",
                "VACUUM ANALYZE case_dispatches",
            ] {
                db.execute(sql).await?;
            }
        }
    }
    let after_secs = started.elapsed().as_secs_f64();

    let cases = db.scalar("SELECT COUNT(*) FROM cases").await?.max(0) as u64;
    let county_a = db
        .scalar("SELECT COUNT(*) FROM cases WHERE owner_region LIKE '370883%'")
        .await?
        .max(0) as u64;
    Ok(SeedReport {
        cases,
        county_a,
        county_b: cases - county_a,
        inserted: to_insert,
        units: units_total,
        dispatches: dispatches_total,
        insert_secs,
        after_secs,
    })
}

const CASE_COLUMNS: &str = "id, number, tracking_hash, kind, channel, urgency, status, category_code, title, description, tags, address, lng, lat, placement, grid_code, basic_grid_code, region_code, path, owner_region, owner_path, lead_unit, claimed_by, leader_owner, response_due, handling_due, follow_up_due, feedback_due, clock_paused, deadline_provisional, warning, reopen_count, merged_into, satisfaction, state, version, created_by, created_at, updated_at, accepted_at, resolved_at, closed_at, responses_on_time, responses_counted, response_open_due";

async fn write_chunk(
    db: &Db,
    cases: &[CaseRow],
    units: &[UnitRow],
    dispatches: &[DispatchRow],
) -> anyhow::Result<()> {
    match db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for batch in cases.chunks(SQLITE_CASES_PER_INSERT) {
                let mut qb =
                    QueryBuilder::<Sqlite>::new(format!("INSERT INTO cases ({CASE_COLUMNS}) "));
                qb.push_values(batch, |mut b, c| {
                    b.push_bind(c.id)
                        .push_bind(c.number.clone())
                        .push_bind(c.tracking_hash.clone())
                        .push_bind(c.kind)
                        .push_bind(c.channel)
                        .push_bind(c.urgency)
                        .push_bind(c.status)
                        .push_bind(c.category_code)
                        .push_bind(c.title.clone())
                        .push_bind(c.description.clone())
                        .push_bind(c.tags)
                        .push_bind(c.address.clone())
                        .push_bind(c.lng)
                        .push_bind(c.lat)
                        .push_bind("in_grid")
                        .push_bind(c.grid_code.clone())
                        .push_bind(c.basic_grid_code.clone())
                        .push_bind(c.region_code.clone())
                        .push_bind(c.path.clone())
                        .push_bind(c.owner_region.clone())
                        .push_bind(c.owner_path.clone())
                        .push_bind(c.lead_unit.clone())
                        .push_bind(c.claimed_by)
                        .push_bind(None::<i64>)
                        .push_bind(c.response_due)
                        .push_bind(c.handling_due)
                        .push_bind(c.follow_up_due)
                        .push_bind(c.feedback_due)
                        .push_bind(false)
                        .push_bind(false)
                        .push_bind(c.warning)
                        .push_bind(0i64)
                        .push_bind(c.merged_into.clone())
                        .push_bind(c.satisfaction)
                        .push_bind(c.state.clone())
                        .push_bind(c.version)
                        .push_bind(None::<i64>)
                        .push_bind(c.created_at)
                        .push_bind(c.updated_at)
                        .push_bind(c.accepted_at)
                        .push_bind(c.resolved_at)
                        .push_bind(c.closed_at)
                        .push_bind(c.responses_on_time)
                        .push_bind(c.responses_counted)
                        .push_bind(c.response_open_due);
                });
                qb.build().execute(&mut *tx).await?;
            }
            for batch in units.chunks(SQLITE_ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO case_units (case_id, unit_key, role, part, status) ",
                );
                qb.push_values(batch, |mut b, u| {
                    b.push_bind(u.case_id)
                        .push_bind(u.unit_key.clone())
                        .push_bind(u.role)
                        .push_bind(None::<String>)
                        .push_bind(u.status);
                });
                qb.build().execute(&mut *tx).await?;
            }
            for batch in dispatches.chunks(SQLITE_ROWS_PER_INSERT) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO case_dispatches (case_id, unit_key, dispatched_at, response_due, responded_at, ended_at) ",
                );
                qb.push_values(batch, |mut b, d| {
                    b.push_bind(d.case_id)
                        .push_bind(d.unit_key.clone())
                        .push_bind(d.dispatched_at)
                        .push_bind(d.response_due)
                        .push_bind(d.responded_at)
                        .push_bind(d.ended_at);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Db::Postgres(pool) => {
            // COPY … FROM STDIN in text format: one COPY (one transaction) per table and chunk, cases first
            // so the units' and dispatches' foreign keys find them.
            let mut conn = pool.acquire().await?;
            let mut text = String::with_capacity(cases.len() * 1_500);
            for c in cases {
                copy_row(
                    &mut text,
                    &[
                        Some(c.id.to_string()),
                        Some(c.number.clone()),
                        Some(c.tracking_hash.clone()),
                        Some(c.kind.into()),
                        Some(c.channel.into()),
                        Some(c.urgency.into()),
                        Some(c.status.into()),
                        Some(c.category_code.into()),
                        Some(c.title.clone()),
                        Some(c.description.clone()),
                        Some(c.tags.into()),
                        Some(c.address.clone()),
                        Some(format!("{}", c.lng)),
                        Some(format!("{}", c.lat)),
                        Some("in_grid".into()),
                        Some(c.grid_code.clone()),
                        c.basic_grid_code.clone(),
                        Some(c.region_code.clone()),
                        Some(c.path.clone()),
                        Some(c.owner_region.clone()),
                        Some(c.owner_path.clone()),
                        c.lead_unit.clone(),
                        c.claimed_by.map(|v| v.to_string()),
                        None,
                        c.response_due.map(pg_time),
                        c.handling_due.map(pg_time),
                        c.follow_up_due.map(pg_time),
                        c.feedback_due.map(pg_time),
                        Some("f".into()),
                        Some("f".into()),
                        Some(c.warning.into()),
                        Some("0".into()),
                        c.merged_into.clone(),
                        c.satisfaction.map(str::to_string),
                        Some(c.state.clone()),
                        Some(c.version.to_string()),
                        None,
                        Some(pg_time(c.created_at)),
                        Some(pg_time(c.updated_at)),
                        c.accepted_at.map(pg_time),
                        c.resolved_at.map(pg_time),
                        c.closed_at.map(pg_time),
                        Some(c.responses_on_time.to_string()),
                        Some(c.responses_counted.to_string()),
                        c.response_open_due.map(pg_time),
                    ],
                );
            }
            copy(
                &mut conn,
                &format!("COPY cases ({CASE_COLUMNS}) FROM STDIN"),
                text,
            )
            .await?;
            let mut text = String::new();
            for u in units {
                copy_row(
                    &mut text,
                    &[
                        Some(u.case_id.to_string()),
                        Some(u.unit_key.clone()),
                        Some(u.role.into()),
                        None,
                        Some(u.status.into()),
                    ],
                );
            }
            copy(
                &mut conn,
                "COPY case_units (case_id, unit_key, role, part, status) FROM STDIN",
                text,
            )
            .await?;
            let mut text = String::new();
            for d in dispatches {
                copy_row(
                    &mut text,
                    &[
                        Some(d.case_id.to_string()),
                        Some(d.unit_key.clone()),
                        Some(pg_time(d.dispatched_at)),
                        d.response_due.map(pg_time),
                        d.responded_at.map(pg_time),
                        d.ended_at.map(pg_time),
                    ],
                );
            }
            copy(
                &mut conn,
                "COPY case_dispatches (case_id, unit_key, dispatched_at, response_due, responded_at, ended_at) FROM STDIN",
                text,
            )
            .await?;
        }
    }
    Ok(())
}

/// Records each synthetic number prefix's last sequence, as registering would have.
async fn write_numbers(db: &Db, numbers: &HashMap<(String, NaiveDate), u32>) -> anyhow::Result<()> {
    let rows: Vec<(String, i64)> = numbers
        .iter()
        .map(|((town, date), last)| {
            (
                format!("{town}-{}", date.format("%Y%m%d")),
                i64::from(*last),
            )
        })
        .collect();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for batch in rows.chunks(SQLITE_ROWS_PER_INSERT) {
            let mut qb = QueryBuilder::new("INSERT INTO case_numbers (prefix, last) ");
            qb.push_values(batch, |mut b, (prefix, last)| {
                b.push_bind(prefix.clone()).push_bind(*last);
            });
            qb.push(" ON CONFLICT (prefix) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A timestamp as PostgreSQL's text input reads it.
fn pg_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// Appends one row of COPY text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_row(out: &mut String, fields: &[Option<String>]) {
    for (k, field) in fields.iter().enumerate() {
        if k > 0 {
            out.push('\t');
        }
        match field {
            None => out.push_str("\\N"),
            Some(text) => {
                for ch in text.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('\n');
}

async fn copy(
    conn: &mut sqlx::pool::PoolConnection<Postgres>,
    statement: &str,
    text: String,
) -> anyhow::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_and_mark_nulls() {
        let mut out = String::new();
        copy_row(
            &mut out,
            &[Some("a\tb\\c\nd".into()), None, Some(String::new())],
        );
        assert_eq!(out, "a\\tb\\\\c\\nd\t\\N\t\n");
    }

    #[test]
    fn pg_times_keep_microseconds() {
        let at = DateTime::from_timestamp_micros(1_795_000_000_123_456).expect("time");
        assert_eq!(pg_time(at), "2026-11-18 11:06:40.123456+00");
    }

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
            assert!(a.below(10) < 10);
            b.below(10);
        }
        let counts = (0..10_000).fold([0usize; 3], |mut c, _| {
            c[a.weighted(&[1.0, 2.0, 7.0])] += 1;
            c
        });
        assert!(counts[2] > counts[1] && counts[1] > counts[0]);
        assert_eq!(a.phone().len(), 11);
    }
}
