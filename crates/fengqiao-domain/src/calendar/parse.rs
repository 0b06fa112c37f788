//! The `date,kind,name` CSV that carries the published calendar and each year's notice.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{DayOverride, is_weekend};
use crate::error::FieldError;

/// The header every calendar or notice CSV starts with.
pub(super) const HEADER: [&str; 3] = ["date", "kind", "name"];

/// A calendar or notice CSV that could not be read, naming the line and the column at fault.
///
/// `error.field` is the column (`date`, `kind`, `name`), or `header`, `year`, `csv` (the file as a
/// whole), `morning`/`afternoon` (for [`super::WorkingHours::new`]); `error.code` is a stable
/// reason: `header`, `columns`, `format`, `kind`, `required`, `quoted`, `workday_not_weekend`,
/// `duplicate`, `outside_year`, `empty`, `order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct CalendarError {
    /// The 1-based line of the CSV at fault; `None` when the error is about the whole input.
    pub line: Option<usize>,
    /// That line's text (trimmed), so the message can name the row; `None` with `line`.
    pub row: Option<String>,
    /// What is wrong, under the column it concerns, in Chinese and English (boxed to keep
    /// `Result`s small).
    pub error: Box<FieldError>,
}

impl CalendarError {
    /// An error about the input as a whole.
    pub(super) fn whole(
        field: &str,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            line: None,
            row: None,
            error: Box::new(FieldError::new(field, code, zh, en)),
        }
    }

    /// An error about one line; the messages get the line number put in front.
    fn at(
        line: usize,
        row: &str,
        field: &str,
        code: &'static str,
        zh: impl fmt::Display,
        en: impl fmt::Display,
    ) -> Self {
        Self {
            line: Some(line),
            row: Some(row.to_owned()),
            error: Box::new(FieldError::new(
                field,
                code,
                format!("第{line}行「{row}」：{zh}"),
                format!("line {line} \"{row}\": {en}"),
            )),
        }
    }
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The line and row are already part of the message.
        write!(f, "{}", self.error)
    }
}

/// One row of a calendar or notice CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    /// The 1-based line it was read from.
    pub line: usize,
    /// The line's text, trimmed.
    pub text: String,
    pub date: NaiveDate,
    pub entry: DayOverride,
}

/// Reads a `date,kind,name` CSV: a header line, then one row per date.
///
/// Blank lines and lines starting with `#` are skipped; a UTF-8 byte-order mark is ignored. Fields
/// are trimmed; `name` is the rest of the line (it may hold commas, but no quotes: quoting is not
/// supported). Dates are `YYYY-MM-DD`; `kind` is `holiday` or `workday` (a workday must fall on a
/// Saturday or Sunday); every date appears once; there is at least one row.
pub(super) fn read_rows(csv: &str) -> Result<Vec<Row>, CalendarError> {
    let csv = csv.strip_prefix('\u{feff}').unwrap_or(csv);
    let mut header_seen = false;
    let mut rows: Vec<Row> = Vec::new();
    let mut first_line_of: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for (index, raw) in csv.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if !header_seen {
            let fields: Vec<&str> = text.split(',').map(str::trim).collect();
            if fields != HEADER {
                return Err(CalendarError::at(
                    line,
                    text,
                    "header",
                    "header",
                    "表头应为 date,kind,name",
                    "the header must be date,kind,name",
                ));
            }
            header_seen = true;
            continue;
        }
        let row = read_row(line, text)?;
        if let Some(first) = first_line_of.insert(row.date, line) {
            return Err(CalendarError::at(
                line,
                text,
                "date",
                "duplicate",
                format!("{} 已在第{first}行出现", row.date),
                format!("{} already appears on line {first}", row.date),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CalendarError::whole(
            "csv",
            "empty",
            "没有任何日期行",
            "there are no date rows",
        ));
    }
    Ok(rows)
}

fn read_row(line: usize, text: &str) -> Result<Row, CalendarError> {
    let mut fields = text.splitn(3, ',').map(str::trim);
    let (Some(date), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(CalendarError::at(
            line,
            text,
            "csv",
            "columns",
            "应有三列：date,kind,name",
            "expected three columns: date,kind,name",
        ));
    };
    let parsed = (date.len() == 10)
        .then(|| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .flatten();
    let Some(parsed) = parsed else {
        return Err(CalendarError::at(
            line,
            text,
            "date",
            "format",
            format!("日期「{date}」不是 YYYY-MM-DD 格式的有效日期"),
            format!("\"{date}\" is not a valid YYYY-MM-DD date"),
        ));
    };
    if name.is_empty() {
        return Err(CalendarError::at(
            line,
            text,
            "name",
            "required",
            "缺少节日名称",
            "the holiday's name is missing",
        ));
    }
    if name.contains('"') {
        return Err(CalendarError::at(
            line,
            text,
            "name",
            "quoted",
            "名称不能含引号（不支持带引号的字段）",
            "the name may not contain quotes (quoted fields are not supported)",
        ));
    }
    let name = name.to_owned();
    let entry = match kind {
        "holiday" => DayOverride::Holiday { name },
        "workday" => {
            if !is_weekend(parsed) {
                return Err(CalendarError::at(
                    line,
                    text,
                    "date",
                    "workday_not_weekend",
                    format!("调休上班日 {parsed} 不是周六或周日"),
                    format!("the make-up working day {parsed} is not a Saturday or Sunday"),
                ));
            }
            DayOverride::Workday { name }
        }
        other => {
            return Err(CalendarError::at(
                line,
                text,
                "kind",
                "kind",
                format!("类型「{other}」应为 holiday 或 workday"),
                format!("kind \"{other}\" must be holiday or workday"),
            ));
        }
    };
    Ok(Row {
        line,
        text: text.to_owned(),
        date: parsed,
        entry,
    })
}

/// The error for a notice row dated outside the notice's year.
pub(super) fn outside_year(row: &Row, year: i32) -> CalendarError {
    CalendarError::at(
        row.line,
        &row.text,
        "date",
        "outside_year",
        format!("{} 不在公告所属的{year}年内", row.date),
        format!("{} is outside the notice's year {year}", row.date),
    )
}

/// Whether `row` lies in `year`.
pub(super) fn in_year(row: &Row, year: i32) -> bool {
    row.date.year() == year
}
