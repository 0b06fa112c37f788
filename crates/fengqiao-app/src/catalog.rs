//! The matter catalog (事项清单): categories with their time limits, default departments and routing flags.
//!
//! Imported from CSV or XLSX with the header of `data/catalog.csv`; empty cells inherit from the parent,
//! and the store keeps each category's effective values.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::access::Actor;
use crate::import::TableRow;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::case::{CaseKind, CaseLimits, Limit};
use fengqiao_domain::error::FieldError;
use fengqiao_store::CategoryRecord;

/// The default catalog shipped with Fengqiao.
pub const DEFAULT_CATALOG: &str = include_str!("../data/catalog.csv");

/// Parses a limit written `4h` (working hours), `5d` (working days) or `60cd` (calendar days).
pub fn parse_limit(text: &str) -> Option<Limit> {
    let text = text.trim();
    let (number, unit) = if let Some(n) = text.strip_suffix("cd") {
        (n, "cd")
    } else if let Some(n) = text.strip_suffix('h') {
        (n, "h")
    } else if let Some(n) = text.strip_suffix('d') {
        (n, "d")
    } else {
        return None;
    };
    let amount: u32 = number
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0 && *n <= 3650)?;
    Some(match unit {
        "h" => Limit::WorkingHours(amount),
        "d" => Limit::WorkingDays(amount),
        _ => Limit::CalendarDays(amount),
    })
}

/// A category with its effective limits, as callers use it.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub case_kind: Option<String>,
    pub limits: CaseLimits,
    pub town_department: Option<String>,
    pub county_department: Option<String>,
    pub grid_handles: bool,
    pub auto_dispatch: bool,
    pub pausable: bool,
    pub keywords: Vec<String>,
    pub active: bool,
}

impl Category {
    pub fn from_record(record: &CategoryRecord) -> AppResult<Category> {
        let mut limits = CaseLimits::deserialize(&record.limits)
            .map_err(|e| AppError::Internal(format!("category {} limits: {e}", record.code)))?;
        limits.pausable = record.pausable;
        let department = |level: &str| {
            record
                .departments
                .get(level)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(Category {
            code: record.code.clone(),
            name: record.name.clone(),
            parent_code: record.parent_code.clone(),
            case_kind: record.case_kind.clone(),
            limits,
            town_department: department("town"),
            county_department: department("county"),
            grid_handles: record.grid_handles,
            auto_dispatch: record.auto_dispatch,
            pausable: record.pausable,
            keywords: record
                .keywords
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            active: record.active,
        })
    }
}

fn field(row: &TableRow, column: &str, code: &'static str, zh: &str, en: &str) -> FieldError {
    FieldError::new(
        format!("row {}: {column}", row.line),
        code,
        format!("第 {} 行“{column}”：{zh}", row.line),
        format!("row {} \"{column}\": {en}", row.line),
    )
}

fn flag(row: &TableRow, column: &str, inherited: bool, errors: &mut Vec<FieldError>) -> bool {
    match row.get(column) {
        "" => inherited,
        "true" | "1" | "yes" | "是" => true,
        "false" | "0" | "no" | "否" => false,
        _ => {
            errors.push(field(
                row,
                column,
                "format",
                "应为 true 或 false",
                "must be true or false",
            ));
            inherited
        }
    }
}

/// Reads catalog rows (parents before children), resolving inheritance; every bad cell is reported.
pub fn parse_catalog(rows: &[TableRow]) -> AppResult<Vec<CategoryRecord>> {
    let mut errors = Vec::new();
    let mut out: Vec<CategoryRecord> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let kinds: Vec<&str> = crate::org::DEPARTMENT_KINDS
        .iter()
        .map(|(k, _)| *k)
        .collect();
    for row in rows {
        let code = row.get("code");
        let valid_code = !code.is_empty()
            && code.len() <= 64
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
        if !valid_code {
            errors.push(field(
                row,
                "code",
                "format",
                "应为小写字母、数字、点和下划线",
                "must be lowercase letters, digits, dots and underscores",
            ));
            continue;
        }
        if index.contains_key(code) {
            errors.push(field(row, "code", "duplicate", "重复", "appears twice"));
            continue;
        }
        let name = row.get("name");
        if name.is_empty() || name.chars().count() > 50 {
            errors.push(field(
                row,
                "name",
                "length",
                "名称不能为空，且不超过 50 字",
                "must be 1 to 50 characters",
            ));
        }
        let parent_code = Some(row.get("parent_code").to_string()).filter(|p| !p.is_empty());
        let parent = match &parent_code {
            Some(p) => match index.get(p) {
                Some(i) => Some(out[*i].clone()),
                None => {
                    errors.push(field(
                        row,
                        "parent_code",
                        "missing_reference",
                        "上级类别须在前面列出",
                        "the parent must be listed before",
                    ));
                    continue;
                }
            },
            None => None,
        };
        let parent_limits: Option<CaseLimits> = parent
            .as_ref()
            .and_then(|p| serde_json::from_value(p.limits.clone()).ok());
        let mut limit = |column: &str, inherited: Option<Limit>| -> Limit {
            match row.get(column) {
                "" => inherited.unwrap_or_else(|| {
                    errors.push(field(
                        row,
                        column,
                        "required",
                        "顶级类别须填写时限",
                        "a top-level category needs its limits",
                    ));
                    Limit::WorkingDays(1)
                }),
                text => parse_limit(text).unwrap_or_else(|| {
                    errors.push(field(
                        row,
                        column,
                        "format",
                        "时限应写作 4h、5d 或 60cd",
                        "limits are written 4h, 5d or 60cd",
                    ));
                    Limit::WorkingDays(1)
                }),
            }
        };
        let limits = CaseLimits {
            response: limit("response", parent_limits.map(|l| l.response)),
            handling: limit("handling", parent_limits.map(|l| l.handling)),
            follow_up: limit("follow_up", parent_limits.map(|l| l.follow_up)),
            pausable: false,
        };
        let case_kind = match row.get("case_kind") {
            "" => parent.as_ref().and_then(|p| p.case_kind.clone()),
            kind if CaseKind::parse(kind).is_some() => Some(kind.to_string()),
            _ => {
                errors.push(field(
                    row,
                    "case_kind",
                    "unknown",
                    "未知的案件类型",
                    "unknown case kind",
                ));
                None
            }
        };
        let mut departments = serde_json::Map::new();
        for (level, column) in [("town", "town_department"), ("county", "county_department")] {
            let value = match row.get(column) {
                "" => parent
                    .as_ref()
                    .and_then(|p| p.departments.get(level))
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                kind if kinds.contains(&kind) => Some(kind.to_string()),
                _ => {
                    errors.push(field(
                        row,
                        column,
                        "unknown",
                        "未知的部门类型",
                        "unknown department kind",
                    ));
                    None
                }
            };
            if let Some(value) = value {
                departments.insert(level.into(), serde_json::Value::String(value));
            }
        }
        let record = CategoryRecord {
            code: code.to_string(),
            name: name.to_string(),
            parent_code,
            case_kind,
            limits: serde_json::to_value(limits).map_err(|e| AppError::Internal(e.to_string()))?,
            departments: serde_json::Value::Object(departments),
            grid_handles: flag(
                row,
                "grid_handles",
                parent.as_ref().is_some_and(|p| p.grid_handles),
                &mut errors,
            ),
            auto_dispatch: flag(row, "auto_dispatch", false, &mut errors),
            pausable: flag(
                row,
                "pausable",
                parent.as_ref().is_some_and(|p| p.pausable),
                &mut errors,
            ),
            keywords: row.get("keywords").to_string(),
            active: true,
        };
        index.insert(record.code.clone(), out.len());
        out.push(record);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

impl App {
    /// Imports a catalog table (CSV or XLSX) as an administrator, or from the command line (`actor` = None).
    pub async fn import_catalog(
        &self,
        actor: Option<&Actor>,
        bytes: &[u8],
        file_name: &str,
    ) -> AppResult<usize> {
        if let Some(actor) = actor {
            self.require(actor, Permission::ConfigureOrganisation)
                .await?;
        }
        let rows = crate::import::read_table(bytes, file_name)?;
        let categories = parse_catalog(&rows)?;
        let detail = serde_json::json!({ "count": categories.len(), "file": file_name });
        let audit = match actor {
            Some(actor) => actor.audit(self.now(), "catalog.import", "catalog", "ok", detail),
            None => self.system_audit("catalog.import", "catalog", detail),
        };
        Ok(self
            .store
            .upsert_categories(&categories, self.now(), &[audit])
            .await?)
    }

    /// Creates or edits one category as an administrator; the parent (if any) must exist.
    pub async fn save_category(
        &self,
        actor: &Actor,
        code: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> AppResult<Category> {
        self.require(actor, Permission::ConfigureOrganisation)
            .await?;
        let mut cells: HashMap<String, String> = fields
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.trim().to_string(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect();
        cells.insert("code".into(), code.to_string());
        let mut rows = Vec::new();
        // The parent chain first, from the store, so inheritance resolves as on import.
        let mut chain = Vec::new();
        let mut parent = cells.get("parent_code").cloned().filter(|p| !p.is_empty());
        while let Some(code) = parent {
            let Some(record) = self.store.get_category(&code).await? else {
                return Err(AppError::Validation(vec![FieldError::new(
                    "parent_code",
                    "missing_reference",
                    format!("上级类别“{code}”不存在"),
                    format!("no parent category \"{code}\""),
                )]));
            };
            parent = record.parent_code.clone();
            chain.push(record);
            if chain.len() > 10 {
                break;
            }
        }
        for (i, record) in chain.iter().rev().enumerate() {
            let category = Category::from_record(record)?;
            let limit = |l: Limit| match l {
                Limit::WorkingHours(n) => format!("{n}h"),
                Limit::WorkingDays(n) => format!("{n}d"),
                Limit::CalendarDays(n) => format!("{n}cd"),
            };
            let row: HashMap<String, String> = [
                ("code", record.code.clone()),
                ("name", record.name.clone()),
                (
                    "parent_code",
                    record.parent_code.clone().unwrap_or_default(),
                ),
                ("case_kind", record.case_kind.clone().unwrap_or_default()),
                ("response", limit(category.limits.response)),
                ("handling", limit(category.limits.handling)),
                ("follow_up", limit(category.limits.follow_up)),
                (
                    "town_department",
                    category.town_department.clone().unwrap_or_default(),
                ),
                (
                    "county_department",
                    category.county_department.clone().unwrap_or_default(),
                ),
                ("grid_handles", category.grid_handles.to_string()),
                ("auto_dispatch", category.auto_dispatch.to_string()),
                ("pausable", category.pausable.to_string()),
                ("keywords", record.keywords.clone()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            rows.push(TableRow {
                line: i + 1,
                cells: row,
            });
        }
        let line = rows.len() + 1;
        rows.push(TableRow { line, cells });
        let parsed = parse_catalog(&rows).map_err(|e| match e {
            // The edited category's errors name its fields plainly (no row number).
            AppError::Validation(errors) => AppError::Validation(
                errors
                    .into_iter()
                    .map(|mut f| {
                        if let Some(rest) = f.field.strip_prefix(&format!("row {line}: ")) {
                            f.field = rest.to_string();
                        }
                        f
                    })
                    .collect(),
            ),
            other => other,
        })?;
        let Some(record) = parsed.last().cloned() else {
            return Err(AppError::Internal("no category parsed".into()));
        };
        let audit = actor.audit(
            self.now(),
            "catalog.save",
            format!("category:{}", record.code),
            "ok",
            serde_json::json!({ "name": record.name }),
        );
        self.store
            .upsert_categories(std::slice::from_ref(&record), self.now(), &[audit])
            .await?;
        Category::from_record(&record)
    }

    /// Every category with its effective values (every signed-in staff member may read the catalog).
    pub async fn categories(&self) -> AppResult<Vec<Category>> {
        self.store
            .list_categories()
            .await?
            .iter()
            .map(Category::from_record)
            .collect()
    }

    /// One category, or a field error naming `field`.
    pub async fn category(&self, code: &str, field_name: &str) -> AppResult<Category> {
        match self.store.get_category(code.trim()).await? {
            Some(record) if record.active => Category::from_record(&record),
            _ => Err(AppError::Validation(vec![FieldError::new(
                field_name,
                "unknown_category",
                format!("事项清单中没有类别“{code}”"),
                format!("no category \"{code}\" in the matter catalog"),
            )])),
        }
    }

    /// Proposes categories for free text by keyword hits (the classifier behind the intake form's hint).
    pub async fn suggest_categories(
        &self,
        text: &str,
        limit: usize,
    ) -> AppResult<Vec<(Category, usize)>> {
        let mut scored: Vec<(Category, usize)> = self
            .categories()
            .await?
            .into_iter()
            .filter(|c| c.parent_code.is_some())
            .map(|c| {
                let hits = c
                    .keywords
                    .iter()
                    .filter(|k| text.contains(k.as_str()))
                    .count()
                    + usize::from(text.contains(c.name.as_str()));
                (c, hits)
            })
            .filter(|(_, hits)| *hits > 0)
            .collect();
        scored.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code.cmp(&b.0.code)));
        scored.truncate(limit);
        Ok(scored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_read_in_their_three_units() {
        assert_eq!(parse_limit("4h"), Some(Limit::WorkingHours(4)));
        assert_eq!(parse_limit("5d"), Some(Limit::WorkingDays(5)));
        assert_eq!(parse_limit("60cd"), Some(Limit::CalendarDays(60)));
        assert_eq!(parse_limit("0d"), None);
        assert_eq!(parse_limit("5w"), None);
        assert_eq!(parse_limit("d"), None);
    }

    #[test]
    fn children_inherit_and_errors_name_the_cell() -> AppResult<()> {
        let csv = "code,name,parent_code,case_kind,response,handling,follow_up,town_department,county_department,grid_handles,auto_dispatch,pausable,keywords\n\
                   dispute,矛盾纠纷,,dispute,1d,10d,3d,justice_office,justice_office,false,false,true,纠纷\n\
                   dispute.neighbour,邻里纠纷,dispute,,,,,,,true,,,邻居 噪音\n";
        let rows = crate::import::read_table(csv.as_bytes(), "c.csv")?;
        let parsed = parse_catalog(&rows)?;
        let child = Category::from_record(&parsed[1])?;
        assert_eq!(child.limits.handling, Limit::WorkingDays(10));
        assert_eq!(child.case_kind.as_deref(), Some("dispute"));
        assert_eq!(child.town_department.as_deref(), Some("justice_office"));
        assert!(child.grid_handles && child.pausable && !child.auto_dispatch);

        let bad = "code,name,parent_code,case_kind,response,handling,follow_up,town_department,county_department,grid_handles,auto_dispatch,pausable,keywords\n\
                   x,坏,,request,5x,5d,3d,police,,maybe,,,\n";
        let rows = crate::import::read_table(bad.as_bytes(), "c.csv")?;
        let Err(AppError::Validation(errors)) = parse_catalog(&rows) else {
            panic!("expected errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"row 2: response"), "{fields:?}");
        assert!(fields.contains(&"row 2: town_department"), "{fields:?}");
        assert!(fields.contains(&"row 2: grid_handles"), "{fields:?}");
        Ok(())
    }
}
