//! Work queues and case lists: the presets staff live in, filters, sorting, paging, and XLSX export.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::access::Actor;
use crate::cases::CaseView;
use crate::{App, AppError, AppResult};
use fengqiao_domain::calendar::{local_datetime, start_of_local_day};
use fengqiao_domain::case::Status;
use fengqiao_domain::error::FieldError;
use fengqiao_store::{CaseFilter, CaseSort, Page, Paged};

/// A case list as asked for: a queue preset and/or filters, a sort, a page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseListQuery {
    /// inbox (cases with my units, to claim or in hand), new, awaiting_dispatch, returned, due_soon, overdue,
    /// awaiting_review, awaiting_follow_up.
    pub queue: Option<String>,
    /// Comma-separated statuses.
    pub status: Option<String>,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub region_code: Option<String>,
    /// `dept:ID` or `grid:CODE`.
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub tag: Option<String>,
    /// First and last local day of registration (inclusive).
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    /// `due_soon` (yellow) or `overdue` (red).
    pub deadline: Option<String>,
    /// newest (default), oldest, deadline, updated.
    pub sort: Option<String>,
    /// Chinese full-text search over title, description and notes.
    pub q: Option<String>,
}

fn bad(field: &str, zh: &str, en: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(field, "unknown", zh, en)])
}

impl App {
    /// Turns a list query into a store filter, checking every value and the caller's scope.
    pub(crate) async fn case_filter(
        &self,
        actor: &Actor,
        query: &CaseListQuery,
    ) -> AppResult<CaseFilter> {
        let mut filter = CaseFilter::default();
        if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
            for s in status.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if Status::parse(s).is_none() {
                    return Err(bad("status", "未知的状态", "unknown status"));
                }
                filter.statuses.push(s.to_string());
            }
        }
        match query.queue.as_deref().filter(|q| !q.is_empty()) {
            None => {}
            Some("inbox") => {
                filter.units = self
                    .case_actor(actor)
                    .units
                    .iter()
                    .map(|u| u.key())
                    .collect();
                if filter.units.is_empty() {
                    filter.statuses = vec![
                        "registered".into(),
                        "accepted".into(),
                        "returned".into(),
                        "resolved".into(),
                    ];
                } else {
                    filter.statuses = vec!["dispatched".into(), "in_progress".into()];
                }
            }
            Some("new") => filter.statuses = vec!["registered".into()],
            Some("awaiting_dispatch") => filter.statuses = vec!["accepted".into()],
            Some("returned") => filter.statuses = vec!["returned".into()],
            Some("due_soon") => filter.warning = Some("yellow".into()),
            Some("overdue") => filter.warning = Some("red".into()),
            Some("awaiting_review") => filter.statuses = vec!["resolved".into()],
            Some("awaiting_follow_up") => filter.statuses = vec!["awaiting_follow_up".into()],
            Some(_) => {
                return Err(bad(
                    "queue",
                    "未知的工作队列",
                    "unknown queue: inbox, new, awaiting_dispatch, returned, due_soon, overdue, awaiting_review, awaiting_follow_up",
                ));
            }
        }
        if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
            if fengqiao_domain::case::CaseKind::parse(kind).is_none() {
                return Err(bad("kind", "未知的案件类型", "unknown kind"));
            }
            filter.kind = Some(kind.into());
        }
        if let Some(channel) = query.channel.as_deref().filter(|k| !k.is_empty()) {
            if fengqiao_domain::case::Channel::parse(channel).is_none() {
                return Err(bad("channel", "未知的渠道", "unknown channel"));
            }
            filter.channel = Some(channel.into());
        }
        if let Some(tag) = query.tag.as_deref().filter(|t| !t.is_empty()) {
            if !crate::cases::TAGS.iter().any(|(t, _)| *t == tag) {
                return Err(bad("tag", "未知的标签", "unknown tag"));
            }
            filter.tag = Some(tag.into());
        }
        filter.category = query.category.clone().filter(|c| !c.is_empty());
        if let Some(unit) = query.unit.as_deref().filter(|u| !u.is_empty()) {
            if fengqiao_domain::case::Unit::parse(unit).is_none() {
                return Err(bad(
                    "unit",
                    "单位应写作 dept:ID 或 grid:CODE",
                    "a unit is dept:ID or grid:CODE",
                ));
            }
            filter.units.push(unit.to_string());
        }
        if let Some(code) = query.region_code.as_deref().filter(|c| !c.is_empty()) {
            match self.store.get_region(code).await? {
                Some(region) if actor.visibility.sees(&region.path) => {
                    filter.region_path = Some(region.path)
                }
                _ => return self.out_of_scope(actor, format!("region:{code}")).await,
            }
        }
        match query.deadline.as_deref() {
            None | Some("") => {}
            Some("due_soon") => filter.warning = Some("yellow".into()),
            Some("overdue") => filter.warning = Some("red".into()),
            Some(_) => {
                return Err(bad(
                    "deadline",
                    "应为 due_soon 或 overdue",
                    "deadline is due_soon or overdue",
                ));
            }
        }
        filter.created_from = query.created_from.map(start_of_local_day);
        filter.created_to = query
            .created_to
            .and_then(|d| d.succ_opt())
            .map(start_of_local_day);
        filter.sort = match query.sort.as_deref() {
            None | Some("") | Some("newest") => CaseSort::NewestFirst,
            Some("oldest") => CaseSort::OldestFirst,
            Some("deadline") => CaseSort::DeadlineFirst,
            Some("updated") => CaseSort::RecentlyChanged,
            Some(_) => {
                return Err(bad(
                    "sort",
                    "排序应为 newest、oldest、deadline 或 updated",
                    "sort is newest, oldest, deadline or updated",
                ));
            }
        };
        if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            filter.ids = Some(self.search_case_ids(actor, text).await?);
        }
        Ok(filter)
    }

    /// A queue or filtered list of the cases the actor may see.
    pub async fn case_list(
        &self,
        actor: &Actor,
        query: &CaseListQuery,
        page: Page,
    ) -> AppResult<Paged<CaseView>> {
        let filter = self.case_filter(actor, query).await?;
        let found = self
            .store
            .list_cases(&self.case_visibility(actor), &filter, page)
            .await?;
        Ok(Paged {
            items: self.views_of(found.items).await?,
            total: found.total,
        })
    }

    /// Exports a filtered list to XLSX (personal numbers stay masked); the export is recorded.
    pub async fn export_cases(
        &self,
        actor: &Actor,
        query: &CaseListQuery,
    ) -> AppResult<(Vec<u8>, i64)> {
        const MAX_ROWS: i64 = 200_000;
        let filter = self.case_filter(actor, query).await?;
        let visibility = self.case_visibility(actor);
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        let xlsx = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
        sheet.set_name("案件").map_err(xlsx)?;
        let header = [
            "编号",
            "标题",
            "类型",
            "渠道",
            "状态",
            "事项类别",
            "所属区划",
            "所属网格",
            "承办单位",
            "登记时间",
            "办理期限",
            "预警",
            "满意度",
            "诉求内容",
        ];
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (col, title) in header.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, *title, &bold)
                .map_err(xlsx)?;
        }
        let mut row: u32 = 1;
        let mut page = Page {
            offset: 0,
            limit: 1000,
        };
        let mut total = 0;
        loop {
            let found = self.store.list_cases(&visibility, &filter, page).await?;
            if found.items.is_empty() || total >= MAX_ROWS {
                break;
            }
            for record in &found.items {
                let status = Status::parse(&record.status).map(Status::zh).unwrap_or("");
                let kind = fengqiao_domain::case::CaseKind::parse(&record.kind)
                    .map(|k| k.zh())
                    .unwrap_or("");
                let channel = fengqiao_domain::case::Channel::parse(&record.channel)
                    .map(|c| c.zh())
                    .unwrap_or("");
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| local_datetime(t).format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default()
                };
                let warning = match record.warning.as_str() {
                    "red" => "超期",
                    "yellow" => "临期",
                    _ => "",
                };
                let cells: [String; 14] = [
                    record.number.clone(),
                    fengqiao_domain::personal::mask_text(&record.title),
                    kind.into(),
                    channel.into(),
                    status.into(),
                    record.category_code.clone().unwrap_or_default(),
                    record.region_code.clone(),
                    record.grid_code.clone().unwrap_or_default(),
                    record.lead_unit.clone().unwrap_or_default(),
                    time(Some(record.created_at)),
                    time(record.handling_due),
                    warning.into(),
                    record.satisfaction.clone().unwrap_or_default(),
                    fengqiao_domain::personal::mask_text(&record.description),
                ];
                for (col, text) in cells.iter().enumerate() {
                    sheet.write_string(row, col as u16, text).map_err(xlsx)?;
                }
                row += 1;
                total += 1;
            }
            page.offset += page.limit;
        }
        sheet.autofit();
        let bytes = workbook.save_to_buffer().map_err(xlsx)?;
        let audit = actor.audit(
            self.now(),
            "case.export",
            "cases",
            "ok",
            serde_json::json!({ "rows": total, "query": format!("{query:?}") }),
        );
        self.store.append_audit(&[audit]).await?;
        Ok((bytes, total))
    }
}
