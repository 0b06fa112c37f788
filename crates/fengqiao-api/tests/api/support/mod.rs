//! The test harness: a fresh database per test, a pinned clock, a small two-town fixture, an HTTP client.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

use fengqiao_app::clock::FixedClock;
use fengqiao_app::org::{DepartmentInput, RegionInput};
use fengqiao_app::personal::PersonalDataKeys;
use fengqiao_app::users::{GrantInput, UserInput};
use fengqiao_app::{App, Settings};
use fengqiao_store::Store;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub const PASSWORD: &str = "Test@2026pass";
pub const TOWN_A: &str = "370883107";
pub const VILLAGE_A: &str = "370883107001";
pub const TOWN_B: &str = "370883108";
pub const VILLAGE_B: &str = "370883108001";
pub const GRID_A: &str = "370883107001001";
pub const GRID_B: &str = "370883108001001";

/// Which databases to run on.
pub fn backends() -> Vec<&'static str> {
    let mut out = vec!["sqlite"];
    match std::env::var("FQ_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push("postgres"),
        _ => assert!(
            std::env::var("FQ_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "FQ_REQUIRE_POSTGRES=1 but FQ_TEST_POSTGRES_URL is not set"
        ),
    }
    out
}

/// A fresh, migrated store on the given backend.
pub async fn fresh_store(backend: &str, dir: &std::path::Path) -> Store {
    let store = match backend {
        "sqlite" => Store::connect(&Store::sqlite_url_in(dir))
            .await
            .expect("sqlite"),
        _ => {
            let admin_url = std::env::var("FQ_TEST_POSTGRES_URL").expect("FQ_TEST_POSTGRES_URL");
            let name = format!("fq_test_{}", rand::random::<u64>());
            let admin = Store::connect(&admin_url).await.expect("postgres admin");
            admin
                .execute_raw(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let url = match admin_url.rfind('/') {
                Some(i) => format!("{}/{name}", &admin_url[..i]),
                None => panic!("bad FQ_TEST_POSTGRES_URL"),
            };
            Store::connect(&url).await.expect("postgres")
        }
    };
    store.migrate().await.expect("migrate");
    store
}

pub struct Server {
    pub backend: &'static str,
    pub base: String,
    pub app: App,
    pub clock: Arc<FixedClock>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// Fixture ids.
    pub dept_a: i64,
    pub dept_b: i64,
    /// Town A's other departments by kind.
    pub town_units: std::collections::BTreeMap<String, i64>,
    /// Text messages the server "sent".
    pub sms: Arc<CapturedSms>,
}

/// An SMS sender that keeps what it sends, for tests to read.
#[derive(Default)]
pub struct CapturedSms(std::sync::Mutex<Vec<(String, String)>>);

impl fengqiao_app::sms::SmsSender for CapturedSms {
    fn send(&self, phone: &str, text: &str) {
        self.0
            .lock()
            .expect("lock")
            .push((phone.to_string(), text.to_string()));
    }
}

impl CapturedSms {
    /// The six-digit code in the last message to a phone.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let messages = self.0.lock().expect("lock");
        let (_, text) = messages.iter().rev().find(|(p, _)| p == phone)?;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_string)
    }
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time")
}

/// A square around a centre, as GeoJSON geometry text.
pub fn square(lng: f64, lat: f64, half: f64) -> String {
    json!({"type": "Polygon", "coordinates": [[
        [lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half], [lng - half, lat + half], [lng - half, lat - half]
    ]]})
    .to_string()
}

impl Server {
    /// Starts a server with the two-town fixture (no users but those `with_users` adds).
    pub async fn start(backend: &'static str) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = fresh_store(backend, dir.path()).await;
        let clock = Arc::new(FixedClock::at(start_time()));
        let settings = Settings {
            checkpoint_path: Some(dir.path().join("audit-checkpoint.json")),
            attachment_dir: dir.path().join("attachments"),
            max_attachment_bytes: 1024 * 1024,
            ..Settings::default()
        };
        let keys = PersonalDataKeys::from_master(&[42; 32]).expect("keys");
        let mut app = App::new(store, clock.clone(), keys, settings)
            .await
            .expect("app");
        let sms = Arc::new(CapturedSms::default());
        app.sms = sms.clone();

        let regions = [
            ("37", "山东省", None),
            ("3708", "济宁市", None),
            ("370883", "邹城市", None),
            (TOWN_A, "太平镇", None),
            (VILLAGE_A, "鲍店社区", None),
            (TOWN_B, "石墙镇", None),
            (VILLAGE_B, "石墙村", None),
        ];
        let inputs: Vec<RegionInput> = regions
            .iter()
            .map(|(code, name, parent)| RegionInput {
                code: code.to_string(),
                name: name.to_string(),
                parent_code: parent.map(str::to_string),
            })
            .collect();
        app.import_regions(&inputs).await.expect("regions");
        let grids = vec![
            fengqiao_store::NewGrid {
                code: GRID_A.into(),
                village_code: VILLAGE_A.into(),
                name: "鲍店第1网格".into(),
                kind: "basic".into(),
                geometry: square(116.80, 35.40, 0.01),
            },
            fengqiao_store::NewGrid {
                code: GRID_B.into(),
                village_code: VILLAGE_B.into(),
                name: "石墙第1网格".into(),
                kind: "basic".into(),
                geometry: square(116.90, 35.40, 0.01),
            },
        ];
        app.import_grids(&grids).await.expect("grids");
        let dept_a = app
            .import_department(&DepartmentInput {
                name: "太平镇派出所".into(),
                kind: "police_station".into(),
                region_code: TOWN_A.into(),
            })
            .await
            .expect("dept a")
            .id;
        let dept_b = app
            .import_department(&DepartmentInput {
                name: "石墙镇派出所".into(),
                kind: "police_station".into(),
                region_code: TOWN_B.into(),
            })
            .await
            .expect("dept b")
            .id;

        app.import_catalog(
            None,
            fengqiao_app::catalog::DEFAULT_CATALOG.as_bytes(),
            "catalog.csv",
        )
        .await
        .expect("catalog");
        let mut town_units = std::collections::BTreeMap::new();
        for (kind, name) in [
            ("justice_office", "太平镇司法所"),
            ("comprehensive_governance_center", "太平镇综治中心"),
            ("law_enforcement", "太平镇综合执法队"),
        ] {
            let id = app
                .import_department(&DepartmentInput {
                    name: name.into(),
                    kind: kind.into(),
                    region_code: TOWN_A.into(),
                })
                .await
                .expect("dept")
                .id;
            town_units.insert(kind.to_string(), id);
        }
        let router = fengqiao_api::router(fengqiao_api::ApiState {
            app: app.clone(),
            metrics: fengqiao_api::metrics_handle(),
            secure_cookies: false,
            trusted_proxies: std::sync::Arc::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Server {
            backend,
            base: format!("http://{addr}"),
            app,
            clock,
            http: reqwest::Client::new(),
            dir,
            dept_a,
            dept_b,
            town_units,
            sms,
        }
    }

    /// Adds a user with one grant (created as the operator would, from the command line).
    pub async fn user(&self, username: &str, role: &str, scope: &str, can_unmask: bool) -> i64 {
        self.app
            .add_user(&UserInput {
                username: username.into(),
                display_name: None,
                password: PASSWORD.into(),
                roles: vec![GrantInput {
                    role: role.into(),
                    scope: scope.into(),
                }],
                can_unmask,
                department_id: None,
                grid_code: None,
            })
            .await
            .unwrap_or_else(|e| panic!("user {username}: {e:?}"))
            .id
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .post_anon(
                "/api/v1/auth/login",
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn post_anon(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("send");
        decode(response).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        decode(response).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("send");
        decode(response).await
    }

    pub async fn post_with(
        &self,
        token: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        decode(request.send().await.expect("send")).await
    }

    /// Acts on a case and asserts it went through.
    pub async fn act(&self, token: &str, id: i64, body: Value) -> Value {
        let (status, answer) = self
            .post(token, &format!("/api/v1/cases/{id}/actions"), body.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{} {body}: {answer}", self.backend);
        answer
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("send");
        decode(response).await
    }

    /// Audit records with an action prefix, via the store (bypassing the API's permission check).
    pub async fn audit(&self, action: &str) -> Vec<fengqiao_store::AuditRecord> {
        let filter = fengqiao_store::AuditFilter {
            action_prefix: Some(action.into()),
            ..Default::default()
        };
        self.app
            .store
            .list_audit(
                &filter,
                fengqiao_store::Page {
                    offset: 0,
                    limit: 500,
                },
            )
            .await
            .expect("audit")
            .items
    }
}

pub async fn decode(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}
