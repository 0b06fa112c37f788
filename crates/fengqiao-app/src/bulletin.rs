//! The daily bulletin (每日通报) for a town or county, viewable and exportable as XLSX, and the relabelling
//! view that keeps category changes in sight.

use chrono::NaiveDate;
use serde::Serialize;

use crate::access::Actor;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::calendar::{local_date, start_of_local_day};
use fengqiao_store::{BulletinFigures, Page, Paged, RelabelRecord};

/// A bulletin: the region, the day, the figures, and unit names for the overdue list.
#[derive(Debug, Clone, Serialize)]
pub struct Bulletin {
    pub region_code: String,
    pub region_name: String,
    pub date: NaiveDate,
    pub figures: BulletinFigures,
    /// `dept:ID` / `grid:CODE` / `region:CODE` → a readable name.
    pub unit_names: std::collections::BTreeMap<String, String>,
}

impl App {
    async fn require_figures(&self, actor: &Actor) -> AppResult<()> {
        if actor.may(Permission::ReadFigures)
            || actor.may(Permission::DispatchCases)
            || actor.may(Permission::SuperviseCases)
        {
            Ok(())
        } else {
            self.require(actor, Permission::ReadFigures).await
        }
    }

    /// The bulletin of a region (in scope) for a local day (default: yesterday).
    pub async fn bulletin(
        &self,
        actor: &Actor,
        region_code: &str,
        date: Option<NaiveDate>,
    ) -> AppResult<Bulletin> {
        self.require_figures(actor).await?;
        let Some(region) = self
            .store
            .get_region(region_code)
            .await?
            .filter(|r| actor.visibility.sees(&r.path))
        else {
            return self
                .out_of_scope(actor, format!("region:{region_code}"))
                .await;
        };
        let date = match date {
            Some(d) => d,
            None => local_date(self.now())
                .pred_opt()
                .ok_or_else(|| AppError::Internal("no yesterday".into()))?,
        };
        let next = date
            .succ_opt()
            .ok_or_else(|| AppError::Internal("no tomorrow".into()))?;
        let figures = self
            .store
            .bulletin(
                &region.path,
                start_of_local_day(date),
                start_of_local_day(next),
            )
            .await?;
        // The units' names in one query per kind of unit.
        let labels: Vec<&str> = figures
            .overdue_by_unit
            .iter()
            .map(|e| e.label.as_str())
            .collect();
        let department_ids: Vec<i64> = labels
            .iter()
            .filter_map(|l| l.strip_prefix("dept:")?.parse().ok())
            .collect();
        let grid_codes: Vec<String> = labels
            .iter()
            .filter_map(|l| l.strip_prefix("grid:").map(str::to_string))
            .collect();
        let departments = self.store.department_names(&department_ids).await?;
        let grids = self.store.grid_names(&grid_codes).await?;
        let mut unit_names = std::collections::BTreeMap::new();
        for label in labels {
            let name = if let Some(id) = label
                .strip_prefix("dept:")
                .and_then(|id| id.parse::<i64>().ok())
            {
                departments.get(&id).cloned()
            } else if let Some(code) = label.strip_prefix("grid:") {
                grids.get(code).cloned()
            } else if let Some(code) = label.strip_prefix("region:") {
                self.store
                    .get_region(code)
                    .await?
                    .map(|r| format!("{}（待分派）", r.name))
            } else {
                None
            };
            unit_names.insert(label.to_string(), name.unwrap_or_else(|| label.to_string()));
        }
        Ok(Bulletin {
            region_code: region.code,
            region_name: region.name,
            date,
            figures,
            unit_names,
        })
    }

    /// The bulletin as an XLSX workbook (the export is recorded).
    pub async fn bulletin_xlsx(
        &self,
        actor: &Actor,
        region_code: &str,
        date: Option<NaiveDate>,
    ) -> AppResult<(Bulletin, Vec<u8>)> {
        let bulletin = self.bulletin(actor, region_code, date).await?;
        let xlsx = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = workbook.add_worksheet();
        sheet.set_name("每日通报").map_err(xlsx)?;
        let f = &bulletin.figures;
        let title = format!(
            "{} {} 每日通报",
            bulletin.region_name,
            bulletin.date.format("%Y年%m月%d日")
        );
        sheet
            .write_string_with_format(0, 0, &title, &bold)
            .map_err(xlsx)?;
        let mut row = 2u32;
        for (label, value) in [
            ("新登记", f.registered),
            ("受理", f.accepted),
            ("办结", f.resolved),
            ("超期未办结", f.overdue),
            ("新开督办单", f.supervision_opened),
            ("督办销号", f.supervision_closed),
        ] {
            sheet.write_string(row, 0, label).map_err(xlsx)?;
            sheet.write_number(row, 1, value as f64).map_err(xlsx)?;
            row += 1;
        }
        row += 1;
        sheet
            .write_string_with_format(row, 0, "超期案件（按承办单位）", &bold)
            .map_err(xlsx)?;
        row += 1;
        for entry in &f.overdue_by_unit {
            let name = bulletin
                .unit_names
                .get(&entry.label)
                .cloned()
                .unwrap_or_else(|| entry.label.clone());
            sheet.write_string(row, 0, &name).map_err(xlsx)?;
            sheet
                .write_number(row, 1, entry.count as f64)
                .map_err(xlsx)?;
            row += 1;
        }
        row += 1;
        sheet
            .write_string_with_format(row, 0, "新登记（按渠道）", &bold)
            .map_err(xlsx)?;
        row += 1;
        for entry in &f.registered_by_channel {
            let name = fengqiao_domain::case::Channel::parse(&entry.label)
                .map(|c| c.zh().to_string())
                .unwrap_or_else(|| entry.label.clone());
            sheet.write_string(row, 0, &name).map_err(xlsx)?;
            sheet
                .write_number(row, 1, entry.count as f64)
                .map_err(xlsx)?;
            row += 1;
        }
        sheet.autofit();
        let bytes = workbook.save_to_buffer().map_err(xlsx)?;
        let audit = actor.audit(
            self.now(),
            "bulletin.export",
            format!("region:{}", bulletin.region_code),
            "ok",
            serde_json::json!({ "date": bulletin.date }),
        );
        self.store.append_audit(&[audit]).await?;
        Ok((bulletin, bytes))
    }

    /// Category changes of the cases the actor may see (who, when, from, to, why).
    pub async fn relabels(&self, actor: &Actor, page: Page) -> AppResult<Paged<RelabelRecord>> {
        self.require_figures(actor).await?;
        Ok(self
            .store
            .relabels(&self.case_visibility(actor), page)
            .await?)
    }
}
