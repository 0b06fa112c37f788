//! Reading tables for import: CSV or XLSX, first row as the header, each row as named cells.

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use std::collections::HashMap;
use std::io::Cursor;

use crate::{AppError, AppResult};
use fengqiao_domain::error::FieldError;

/// One data row: header name → cell text (trimmed), with its 1-based row number in the file.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub line: usize,
    pub cells: HashMap<String, String>,
}

impl TableRow {
    /// A cell's text, empty when absent.
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(String::as_str).unwrap_or("")
    }

    /// A cell that must be present, or a field error naming the row and column.
    pub fn required(&self, column: &str) -> Result<&str, FieldError> {
        let value = self.get(column);
        if value.is_empty() {
            return Err(FieldError::new(
                format!("row {}: {column}", self.line),
                "required",
                format!("第 {} 行缺少“{column}”", self.line),
                format!("row {} lacks \"{column}\"", self.line),
            ));
        }
        Ok(value)
    }
}

/// Reads a CSV (UTF-8, with or without BOM) or an XLSX workbook's first sheet.
pub fn read_table(bytes: &[u8], file_name: &str) -> AppResult<Vec<TableRow>> {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".ods") {
        read_workbook(bytes)
    } else {
        read_csv(bytes)
    }
}

fn bad_file(zh: String, en: String) -> AppError {
    AppError::Validation(vec![FieldError::new("file", "unreadable", zh, en)])
}

fn read_csv(bytes: &[u8]) -> AppResult<Vec<TableRow>> {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            bad_file(
                format!("CSV 表头无法读取：{e}"),
                format!("unreadable CSV header: {e}"),
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            bad_file(
                format!("CSV 第 {} 行无法读取：{e}", i + 2),
                format!("unreadable CSV row {}: {e}", i + 2),
            )
        })?;
        let cells = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), v.trim().to_string()))
            .collect();
        rows.push(TableRow { line: i + 2, cells });
    }
    Ok(rows)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn read_workbook(bytes: &[u8]) -> AppResult<Vec<TableRow>> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).map_err(|e| {
        bad_file(
            format!("无法打开工作簿：{e}"),
            format!("cannot open the workbook: {e}"),
        )
    })?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Ok(Vec::new());
    };
    let range = workbook.worksheet_range(&sheet).map_err(|e| {
        bad_file(
            format!("无法读取工作表：{e}"),
            format!("cannot read the sheet: {e}"),
        )
    })?;
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    let headers: Vec<String> = header.iter().map(cell_text).collect();
    Ok(rows
        .enumerate()
        .map(|(i, row)| TableRow {
            line: i + 2,
            cells: headers
                .iter()
                .cloned()
                .zip(row.iter().map(cell_text))
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_reads_by_header() -> AppResult<()> {
        let rows = read_table(
            "\u{feff}code,name\n370883107, 太平镇 \n".as_bytes(),
            "r.csv",
        )?;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("code"), "370883107");
        assert_eq!(rows[0].get("name"), "太平镇");
        assert_eq!(rows[0].line, 2);
        assert!(rows[0].required("parent_code").is_err());
        Ok(())
    }

    #[test]
    fn garbage_workbook_is_a_clear_error() {
        let err = read_table(b"not a zip", "x.xlsx");
        assert!(matches!(err, Err(AppError::Validation(_))));
    }
}
