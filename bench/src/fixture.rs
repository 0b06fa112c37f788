//! The organisation the cases benchmark runs on, created through the binary's own CLI: province 37 and city
//! 3708; county A (370883, 10 towns) and county B (370881, 20 towns); 10 villages per town with one square
//! grid each; a police station and a justice office per town; and the users: intake clerks over county A,
//! a dispatcher and a police-station handler per town of county A, and county A's leader.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;

use crate::db::Db;
use crate::proc::Binary;

/// Villages (each with one grid) per town.
pub const VILLAGES_PER_TOWN: usize = 10;
/// Half the side of a grid square, in degrees (grids sit 0.01° apart).
const GRID_HALF: f64 = 0.004;

/// A county of the fixture.
#[derive(Debug, Clone, Copy)]
pub struct CountySpec {
    pub code: &'static str,
    pub name: &'static str,
    pub towns: usize,
}

/// County A: intake happens here, and it holds one fifth of the seeded cases (the rates' county).
pub const COUNTY_A: CountySpec = CountySpec {
    code: "370883",
    name: "邹城市",
    towns: 10,
};
/// County B: the other four fifths.
pub const COUNTY_B: CountySpec = CountySpec {
    code: "370881",
    name: "曲阜市",
    towns: 20,
};

const TOWN_NAMES: &[&str] = &[
    "太平",
    "石墙",
    "峄山",
    "香城",
    "城前",
    "大束",
    "北宿",
    "中心店",
    "唐村",
    "张庄",
    "田黄",
    "郭里",
    "看庄",
    "匡庄",
    "钢山",
    "千泉",
    "凫山",
    "尼山",
    "王庄",
    "息陬",
    "小雪",
    "吴村",
    "姚村",
    "陵城",
    "书院",
    "时庄",
    "防山",
    "南辛",
    "鲁城",
    "高铁",
];

#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub grid_code: String,
    /// The grid's path (filled from the database after import).
    pub grid_path: String,
    /// The grid square's centre (WGS-84).
    pub lng: f64,
    pub lat: f64,
}

impl Village {
    /// A point inside this village's grid, given two numbers in [0, 1).
    pub fn point(&self, u: f64, v: f64) -> (f64, f64) {
        let span = GRID_HALF * 1.8;
        (self.lng + (u - 0.5) * span, self.lat + (v - 0.5) * span)
    }
}

#[derive(Debug, Clone)]
pub struct Town {
    pub code: String,
    pub name: String,
    /// 0 for county A, 1 for county B.
    pub county: usize,
    /// The town's region path (filled from the database after import).
    pub path: String,
    pub police_station: i64,
    pub justice_office: i64,
    pub villages: Vec<Village>,
}

/// Users and their initial passwords.
#[derive(Debug, Clone, Default)]
pub struct Users {
    pub passwords: HashMap<String, String>,
    pub ids: HashMap<String, i64>,
}

impl Users {
    pub fn password(&self, username: &str) -> anyhow::Result<&str> {
        self.passwords
            .get(username)
            .map(String::as_str)
            .with_context(|| format!("no password for {username}"))
    }
}

/// The whole organisation.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub towns: Vec<Town>,
    pub clerks: usize,
    pub users: Users,
}

pub fn clerk(k: usize) -> String {
    format!("clerk-{k}")
}

pub fn dispatcher(town: &str) -> String {
    format!("dispatcher-{town}")
}

pub fn handler(town: &str) -> String {
    format!("handler-{town}")
}

pub fn leader(county: &str) -> String {
    format!("leader-{county}")
}

impl Fixture {
    /// The fixture's shape (codes, names, grid squares); ids and paths come with [`Fixture::import`].
    pub fn new(clerks: usize) -> Fixture {
        let mut towns = Vec::new();
        let mut grid_index = 0usize;
        for (county, spec) in [COUNTY_A, COUNTY_B].iter().enumerate() {
            for t in 0..spec.towns {
                let code = format!("{}{:03}", spec.code, 101 + t);
                let name = format!("{}镇", TOWN_NAMES.get(towns.len()).copied().unwrap_or("新"));
                let villages = (0..VILLAGES_PER_TOWN)
                    .map(|v| {
                        let village = format!("{code}{:03}", v + 1);
                        let (col, row) = (grid_index % 40, grid_index / 40);
                        grid_index += 1;
                        Village {
                            grid_code: format!("{village}001"),
                            code: village,
                            name: format!("{}第{}村", name.trim_end_matches('镇'), v + 1),
                            grid_path: String::new(),
                            lng: 116.0 + col as f64 * 0.01,
                            lat: 35.0 + row as f64 * 0.01,
                        }
                    })
                    .collect();
                towns.push(Town {
                    code,
                    name,
                    county,
                    path: String::new(),
                    police_station: 0,
                    justice_office: 0,
                    villages,
                });
            }
        }
        Fixture {
            towns,
            clerks,
            users: Users::default(),
        }
    }

    pub fn county_towns(&self, county: usize) -> impl Iterator<Item = &Town> {
        self.towns.iter().filter(move |t| t.county == county)
    }

    /// Imports regions, grids, departments and users through the binary's CLI, then reads ids and paths back.
    pub async fn import(&mut self, binary: &Binary, db_url: &str) -> anyhow::Result<()> {
        let dir = &binary.work_dir;
        let path = |name: &str| dir.join(name).display().to_string();

        write(dir, "regions.csv", &self.regions_csv())?;
        binary
            .cli(&["import", "regions", &path("regions.csv")], None)
            .await?;
        write(dir, "grids.geojson", &self.grids_geojson())?;
        binary
            .cli(&["import", "grids", &path("grids.geojson")], None)
            .await?;
        write(dir, "departments.csv", &self.departments_csv())?;
        binary
            .cli(&["import", "departments", &path("departments.csv")], None)
            .await?;

        let db = Db::open(db_url).await?;
        let result = self.read_back(&db).await;
        if result.is_ok() {
            write(dir, "users.csv", &self.users_csv())?;
        }
        db.close().await;
        result?;

        binary
            .cli(
                &[
                    "import",
                    "users",
                    &path("users.csv"),
                    "--passwords-out",
                    &path("passwords.csv"),
                ],
                None,
            )
            .await?;
        let written = std::fs::read_to_string(dir.join("passwords.csv"))?;
        for line in written.lines().skip(1) {
            if let Some((user, password)) = line.split_once(',') {
                self.users
                    .passwords
                    .insert(user.to_string(), password.to_string());
            }
        }
        let db = Db::open(db_url).await?;
        let ids = db
            .id_text_pairs("SELECT id, username, username FROM users")
            .await;
        db.close().await;
        for (id, username, _) in ids? {
            self.users.ids.insert(username, id);
        }
        Ok(())
    }

    async fn read_back(&mut self, db: &Db) -> anyhow::Result<()> {
        let regions: HashMap<String, String> = db
            .text_pairs("SELECT code, path FROM regions")
            .await?
            .into_iter()
            .collect();
        let grids: HashMap<String, String> = db
            .text_pairs("SELECT code, path FROM grids")
            .await?
            .into_iter()
            .collect();
        let departments = db
            .id_text_pairs("SELECT id, kind, region_code FROM departments")
            .await?;
        for town in &mut self.towns {
            town.path = regions
                .get(&town.code)
                .with_context(|| format!("region {} was not imported", town.code))?
                .clone();
            for village in &mut town.villages {
                village.grid_path = grids
                    .get(&village.grid_code)
                    .with_context(|| format!("grid {} was not imported", village.grid_code))?
                    .clone();
            }
            for (id, kind, region) in &departments {
                if *region == town.code {
                    match kind.as_str() {
                        "police_station" => town.police_station = *id,
                        "justice_office" => town.justice_office = *id,
                        _ => {}
                    }
                }
            }
            anyhow::ensure!(
                town.police_station > 0 && town.justice_office > 0,
                "departments of {} were not imported",
                town.code
            );
        }
        Ok(())
    }

    fn regions_csv(&self) -> String {
        let mut out = String::from("code,name,parent_code\n37,山东省,\n3708,济宁市,37\n");
        for spec in [COUNTY_A, COUNTY_B] {
            out.push_str(&format!("{},{},3708\n", spec.code, spec.name));
        }
        for town in &self.towns {
            out.push_str(&format!(
                "{},{},{}\n",
                town.code,
                town.name,
                &town.code[..6]
            ));
            for village in &town.villages {
                out.push_str(&format!(
                    "{},{},{}\n",
                    village.code, village.name, town.code
                ));
            }
        }
        out
    }

    fn grids_geojson(&self) -> String {
        let features: Vec<serde_json::Value> = self
            .towns
            .iter()
            .flat_map(|t| t.villages.iter())
            .map(|v| {
                let (x0, x1, y0, y1) = (
                    v.lng - GRID_HALF,
                    v.lng + GRID_HALF,
                    v.lat - GRID_HALF,
                    v.lat + GRID_HALF,
                );
                serde_json::json!({
                    "type": "Feature",
                    "properties": { "code": v.grid_code, "name": format!("{}第1网格", v.name) },
                    "geometry": { "type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
                })
            })
            .collect();
        serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
    }

    fn departments_csv(&self) -> String {
        let mut out = String::from("name,kind,region_code\n");
        for town in &self.towns {
            out.push_str(&format!(
                "{}派出所,police_station,{}\n",
                town.name, town.code
            ));
            out.push_str(&format!(
                "{}司法所,justice_office,{}\n",
                town.name, town.code
            ));
        }
        out
    }

    fn users_csv(&self) -> String {
        let mut out = String::from("username,display_name,role,scope\n");
        for k in 0..self.clerks {
            out.push_str(&format!(
                "{},受理员{k},intake_clerk,region:{}\n",
                clerk(k),
                COUNTY_A.code
            ));
        }
        for town in self.county_towns(0) {
            out.push_str(&format!(
                "{},{}值班员,dispatcher,region:{}\n",
                dispatcher(&town.code),
                town.name,
                town.code
            ));
            out.push_str(&format!(
                "{},{}派出所民警,handler,dept:{}\n",
                handler(&town.code),
                town.name,
                town.police_station
            ));
        }
        out.push_str(&format!(
            "{},{}领导,leader,region:{}\n",
            leader(COUNTY_A.code),
            COUNTY_A.name,
            COUNTY_A.code
        ));
        out
    }
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_nest_and_grids_do_not_overlap() {
        let fixture = Fixture::new(2);
        assert_eq!(fixture.towns.len(), COUNTY_A.towns + COUNTY_B.towns);
        let first = &fixture.towns[0];
        assert_eq!(first.code, "370883101");
        assert_eq!(first.villages[0].code, "370883101001");
        assert_eq!(first.villages[0].grid_code, "370883101001001");
        let centres: Vec<(f64, f64)> = fixture
            .towns
            .iter()
            .flat_map(|t| t.villages.iter().map(|v| (v.lng, v.lat)))
            .collect();
        for (i, a) in centres.iter().enumerate() {
            for b in &centres[i + 1..] {
                assert!((a.0 - b.0).abs() > 2.0 * GRID_HALF || (a.1 - b.1).abs() > 2.0 * GRID_HALF);
            }
        }
        let (lng, lat) = first.villages[0].point(0.999, 0.0);
        assert!((lng - first.villages[0].lng).abs() < GRID_HALF);
        assert!((lat - first.villages[0].lat).abs() < GRID_HALF);
        assert!(fixture.users_csv().contains("leader-370883,"));
    }
}
