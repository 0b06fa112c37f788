//! The organisation and its map: regions, grids, departments, and placing a point in its grid.

use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::codes::{GridCode, RegionCode, RegionLevel};
use fengqiao_domain::error::FieldError;
use fengqiao_geo::coords::{CoordSystem, LngLat, to_wgs84};
use fengqiao_geo::index::{GridIndex, GridKind, GridShape, Placement};
use fengqiao_store::{
    DepartmentFilter, DepartmentRecord, GridFilter, GridRecord, NewDepartment, NewGrid, NewRegion,
    Page, Paged, RegionFilter, RegionRecord,
};

/// The kinds of department a governance center works with (English code, Chinese name).
pub const DEPARTMENT_KINDS: &[(&str, &str)] = &[
    ("comprehensive_governance_center", "综治中心"),
    ("police_station", "派出所"),
    ("justice_office", "司法所"),
    ("petition_office", "信访办"),
    ("law_enforcement", "综合执法"),
    ("market_regulation", "市场监管"),
    ("emergency_management", "应急管理"),
    ("human_resources_social_security", "人社"),
    ("housing", "住建"),
    ("natural_resources", "自然资源"),
    ("environment", "生态环境"),
    ("civil_affairs", "民政"),
    ("agriculture", "农业农村"),
    ("health", "卫生健康"),
    ("education", "教育"),
    ("transport", "交通运输"),
    ("water", "水务"),
    ("court", "人民法庭"),
    ("other", "其他"),
];

/// A region to create, as the API and import take it.
#[derive(Debug, Clone, Deserialize)]
pub struct RegionInput {
    pub code: String,
    pub name: String,
    /// Defaults to the statistical parent (truncated code). Required for in-between levels' children.
    pub parent_code: Option<String>,
}

/// A department to create.
#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentInput {
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

/// Where a point falls, with its regions from the top down.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    /// The point in WGS-84.
    pub lng: f64,
    pub lat: f64,
    pub placement: Placement,
    /// The grid's regions from province down to village (empty when in no grid).
    pub regions: Vec<RegionRecord>,
    /// Whether the caller's scope covers the grid.
    pub in_scope: bool,
}

/// Builds the point-to-grid index from stored grids.
pub fn build_index(grids: &[GridRecord], margin_m: f64) -> AppResult<GridIndex> {
    let mut shapes = Vec::with_capacity(grids.len());
    for grid in grids {
        let shape = parse_geometry(&grid.geometry)
            .map_err(|e| AppError::Internal(format!("grid {} geometry: {e}", grid.code)))?;
        let kind = if grid.kind == "dedicated" {
            GridKind::Dedicated
        } else {
            GridKind::Basic
        };
        shapes.push(GridShape {
            code: grid.code.clone(),
            kind,
            shape,
        });
    }
    Ok(GridIndex::build(shapes, margin_m))
}

/// Parses stored GeoJSON geometry text into a multipolygon.
pub fn parse_geometry(text: &str) -> Result<geo::MultiPolygon<f64>, String> {
    let geometry: geojson::Geometry = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    let geometry: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|e: geojson::Error| e.to_string())?;
    match geometry {
        geo::Geometry::Polygon(p) => Ok(geo::MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Ok(m),
        _ => Err("expected Polygon or MultiPolygon".into()),
    }
}

fn level_for(code: &RegionCode) -> RegionLevel {
    code.level()
}

fn validation(field: &str, code: &'static str, zh: String, en: String) -> AppError {
    AppError::Validation(vec![FieldError::new(field, code, zh, en)])
}

impl App {
    /// Validates regions and orders them parents first.
    async fn prepare_regions(&self, inputs: &[RegionInput]) -> AppResult<Vec<NewRegion>> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let code = match RegionCode::parse(&input.code) {
                Ok(code) => code,
                Err(e) => {
                    errors.push(e.for_field(format!("regions[{i}].code")));
                    continue;
                }
            };
            let name = input.name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                errors.push(FieldError::new(
                    format!("regions[{i}].name"),
                    "length",
                    "名称不能为空，且不超过 100 字",
                    "the name must be 1 to 100 characters",
                ));
                continue;
            }
            let parent = match input
                .parent_code
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(parent) => match RegionCode::parse(parent) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        errors.push(e.for_field(format!("regions[{i}].parent_code")));
                        continue;
                    }
                },
                None => code.parent_statistical(),
            };
            if let Some(parent) = &parent
                && parent.level() >= code.level()
                && code.level() != RegionLevel::Area
            {
                errors.push(FieldError::new(
                    format!("regions[{i}].parent_code"),
                    "level",
                    format!("上级区划 {parent} 的层级不高于 {code}"),
                    format!("parent {parent} is not above {code}"),
                ));
                continue;
            }
            out.push(NewRegion {
                code: code.as_str().to_string(),
                name: name.to_string(),
                parent_code: parent.map(|p| p.as_str().to_string()),
                level: level_for(&code).as_str().to_string(),
            });
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Parents first: by depth of the statistical code, areas after their parents.
        out.sort_by_key(|r| {
            (
                r.code.split('-').next().map(str::len).unwrap_or(0),
                r.code.contains('-'),
                r.code.clone(),
            )
        });
        Ok(out)
    }

    /// Creates or renames regions as a configured administrator (parents must be in scope).
    pub async fn save_regions(&self, actor: &Actor, inputs: &[RegionInput]) -> AppResult<usize> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let regions = self.prepare_regions(inputs).await?;
        for region in &regions {
            let anchor = match &region.parent_code {
                Some(parent) if !regions.iter().any(|r| &r.code == parent) => {
                    self.store.get_region(parent).await?
                }
                Some(_) => continue,
                None => self.store.get_region(&region.code).await?,
            };
            match anchor {
                Some(anchor) if actor.visibility.sees(&anchor.path) => {}
                _ => {
                    return self
                        .out_of_scope(actor, format!("region:{}", region.code))
                        .await;
                }
            }
        }
        let audit = actor.audit(
            self.now(),
            "region.save",
            "regions",
            "ok",
            serde_json::json!({ "count": regions.len() }),
        );
        Ok(self
            .store
            .upsert_regions(&regions, self.now(), &[audit])
            .await?)
    }

    /// Imports regions from the command line (no scope: the operator owns the machine).
    pub async fn import_regions(&self, inputs: &[RegionInput]) -> AppResult<usize> {
        let regions = self.prepare_regions(inputs).await?;
        let audit = self.system_audit(
            "region.import",
            "regions",
            serde_json::json!({ "count": regions.len() }),
        );
        Ok(self
            .store
            .upsert_regions(&regions, self.now(), &[audit])
            .await?)
    }

    pub async fn region(&self, actor: &Actor, code: &str) -> AppResult<RegionRecord> {
        self.require(actor, Permission::ReadOrganisation).await?;
        match self.store.get_region(code).await? {
            Some(region) if actor.visibility.sees(&region.path) => Ok(region),
            _ => self.out_of_scope(actor, format!("region:{code}")).await,
        }
    }

    pub async fn regions(
        &self,
        actor: &Actor,
        filter: &RegionFilter,
        page: Page,
    ) -> AppResult<Paged<RegionRecord>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        Ok(self
            .store
            .list_regions(&actor.visibility, filter, page)
            .await?)
    }

    /// Parses a GeoJSON FeatureCollection of grids into store rows (villages from the grid codes).
    pub fn grids_from_geojson(&self, text: &str) -> AppResult<Vec<NewGrid>> {
        let features = fengqiao_geo::geojson_grids::from_geojson(text).map_err(|e| {
            validation(
                "geojson",
                "geojson",
                format!("GeoJSON 无法读取：{e}"),
                format!("unreadable GeoJSON: {e}"),
            )
        })?;
        let mut errors = Vec::new();
        let mut grids = Vec::new();
        for (i, feature) in features.into_iter().enumerate() {
            let code = match GridCode::parse(&feature.code) {
                Ok(code) => code,
                Err(e) => {
                    errors.push(e.for_field(format!("features[{i}].properties.code")));
                    continue;
                }
            };
            let geometry: geojson::Geometry =
                geojson::Geometry::new(geojson::GeometryValue::from(&feature.shape));
            let kind = match feature.kind {
                GridKind::Basic => "basic",
                GridKind::Dedicated => "dedicated",
            };
            grids.push(NewGrid {
                village_code: code.village().as_str().to_string(),
                name: feature
                    .name
                    .clone()
                    .unwrap_or_else(|| code.as_str().to_string()),
                code: code.as_str().to_string(),
                kind: kind.to_string(),
                geometry: geometry.to_string(),
            });
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(grids)
    }

    /// Imports grids as an administrator: every grid's village must be in scope.
    pub async fn save_grids(&self, actor: &Actor, grids: &[NewGrid]) -> AppResult<usize> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        for grid in grids {
            match self.store.get_region(&grid.village_code).await? {
                Some(village) if actor.visibility.sees(&village.path) => {}
                Some(_) => {
                    return self
                        .out_of_scope(actor, format!("grid:{}", grid.code))
                        .await;
                }
                None => {
                    return Err(validation(
                        "village_code",
                        "missing_reference",
                        format!(
                            "网格 {} 所属村（社区）{} 不存在",
                            grid.code, grid.village_code
                        ),
                        format!(
                            "village {} of grid {} does not exist",
                            grid.village_code, grid.code
                        ),
                    ));
                }
            }
        }
        let audit = actor.audit(
            self.now(),
            "grid.import",
            "grids",
            "ok",
            serde_json::json!({ "count": grids.len() }),
        );
        let n = self.store.upsert_grids(grids, self.now(), &[audit]).await?;
        self.reload_grid_index().await?;
        Ok(n)
    }

    /// Imports grids from the command line.
    pub async fn import_grids(&self, grids: &[NewGrid]) -> AppResult<usize> {
        let audit = self.system_audit(
            "grid.import",
            "grids",
            serde_json::json!({ "count": grids.len() }),
        );
        let n = self.store.upsert_grids(grids, self.now(), &[audit]).await?;
        self.reload_grid_index().await?;
        Ok(n)
    }

    pub async fn grid(&self, actor: &Actor, code: &str) -> AppResult<GridRecord> {
        self.require(actor, Permission::ReadOrganisation).await?;
        match self.store.get_grid(code).await? {
            Some(grid) if actor.visibility.sees(&grid.path) => Ok(grid),
            _ => self.out_of_scope(actor, format!("grid:{code}")).await,
        }
    }

    pub async fn grids(
        &self,
        actor: &Actor,
        filter: &GridFilter,
        page: Page,
    ) -> AppResult<Paged<GridRecord>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        Ok(self
            .store
            .list_grids(&actor.visibility, filter, page)
            .await?)
    }

    /// Names a grid's worker and leader (both must be users whose scope covers the grid).
    pub async fn set_grid_staff(
        &self,
        actor: &Actor,
        code: &str,
        worker: Option<i64>,
        leader: Option<i64>,
    ) -> AppResult<()> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let grid = self.grid(actor, code).await?;
        for (field, user) in [("worker_user_id", worker), ("leader_user_id", leader)] {
            if let Some(id) = user
                && self.store.get_user(id).await?.is_none()
            {
                return Err(validation(
                    field,
                    "missing_reference",
                    format!("用户 {id} 不存在"),
                    format!("user {id} does not exist"),
                ));
            }
        }
        let audit = actor.audit(
            self.now(),
            "grid.staff",
            format!("grid:{}", grid.code),
            "ok",
            serde_json::json!({ "worker_user_id": worker, "leader_user_id": leader }),
        );
        Ok(self
            .store
            .set_grid_staff(&grid.code, worker, leader, self.now(), &[audit])
            .await?)
    }

    /// Places a point (in any coordinate system) in its grid, village, town and county.
    pub async fn locate(
        &self,
        actor: &Actor,
        lng: f64,
        lat: f64,
        system: CoordSystem,
    ) -> AppResult<Location> {
        self.require(actor, Permission::ReadOrganisation).await?;
        if !(-180.0..=180.0).contains(&lng) || !lng.is_finite() {
            return Err(validation(
                "lng",
                "range",
                "经度须在 -180 到 180 之间".into(),
                "longitude must be within -180..180".into(),
            ));
        }
        if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
            return Err(validation(
                "lat",
                "range",
                "纬度须在 -90 到 90 之间".into(),
                "latitude must be within -90..90".into(),
            ));
        }
        let point = to_wgs84(system, LngLat { lng, lat });
        let placement = self.grid_index().locate(point);
        let (regions, in_scope) = match &placement {
            Placement::InGrid { grid, .. } => match self.store.get_grid(grid).await? {
                Some(record) => (
                    self.store.regions_on_path(&record.path).await?,
                    actor.visibility.sees(&record.path),
                ),
                None => (Vec::new(), false),
            },
            _ => (Vec::new(), false),
        };
        Ok(Location {
            lng: point.lng,
            lat: point.lat,
            placement,
            regions,
            in_scope,
        })
    }

    fn check_department(input: &DepartmentInput) -> AppResult<NewDepartment> {
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
        if !DEPARTMENT_KINDS.iter().any(|(k, _)| *k == input.kind) {
            errors.push(FieldError::new(
                "kind",
                "unknown_kind",
                format!("未知的部门类型“{}”", input.kind),
                format!("unknown department kind \"{}\"", input.kind),
            ));
        }
        let region = RegionCode::parse(&input.region_code).map_err(|e| e.for_field("region_code"));
        if let Err(e) = &region {
            errors.push(e.clone());
        }
        match region {
            Ok(region) if errors.is_empty() => Ok(NewDepartment {
                name: name.to_string(),
                kind: input.kind.clone(),
                region_code: region.as_str().to_string(),
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        input: &DepartmentInput,
    ) -> AppResult<DepartmentRecord> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let department = Self::check_department(input)?;
        match self.store.get_region(&department.region_code).await? {
            Some(region) if actor.visibility.sees(&region.path) => {}
            Some(_) => {
                return self
                    .out_of_scope(actor, format!("region:{}", department.region_code))
                    .await;
            }
            None => {
                return Err(validation(
                    "region_code",
                    "missing_reference",
                    format!("区划 {} 不存在", department.region_code),
                    format!("region {} does not exist", department.region_code),
                ));
            }
        }
        let audit = actor.audit(
            self.now(),
            "department.create",
            "",
            "ok",
            serde_json::json!({ "name": department.name }),
        );
        Ok(self
            .store
            .create_department(&department, self.now(), &[audit])
            .await?)
    }

    /// Creates a department from the command line.
    pub async fn import_department(&self, input: &DepartmentInput) -> AppResult<DepartmentRecord> {
        let department = Self::check_department(input)?;
        let audit = self.system_audit(
            "department.import",
            "",
            serde_json::json!({ "name": department.name }),
        );
        Ok(self
            .store
            .create_department(&department, self.now(), &[audit])
            .await?)
    }

    pub async fn department(&self, actor: &Actor, id: i64) -> AppResult<DepartmentRecord> {
        self.require(actor, Permission::ReadOrganisation).await?;
        match self.store.get_department(id).await? {
            Some(d) if actor.visibility.sees(&d.path) => Ok(d),
            _ => self.out_of_scope(actor, format!("dept:{id}")).await,
        }
    }

    pub async fn departments(
        &self,
        actor: &Actor,
        filter: &DepartmentFilter,
        page: Page,
    ) -> AppResult<Paged<DepartmentRecord>> {
        self.require(actor, Permission::ReadOrganisation).await?;
        Ok(self
            .store
            .list_departments(&actor.visibility, filter, page)
            .await?)
    }
}
