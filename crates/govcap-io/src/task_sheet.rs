//! The evaluator's spreadsheet: a campaign's tasks out as XLSX (a dropdown for binary and
//! graded leaves, the rule and scoring guidance in a note on the indicator) and the filled
//! sheet back in, every problem located by row and column, nothing accepted unless all rows
//! read. The values themselves are checked by the leaf's rule by the caller (the campaign),
//! with the same function the importer and the engine use.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use govcap_core::framework::Rule;
use rust_xlsxwriter::{DataValidation, Format, Note, Workbook};

use crate::error::{ImportError, Problem};
use crate::export::ExportError;

/// One task as written to the sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetTask {
    pub id: i64,
    pub version: u64,
    pub unit: String,
    pub unit_name: String,
    pub indicator: String,
    pub indicator_name: String,
    pub rule: Rule,
    pub scoring: Option<String>,
    pub status: String,
    pub value: String,
    pub evidence_url: String,
    pub note: String,
}

/// The header, in order; reading checks it so a reordered or foreign sheet is refused.
pub const HEADER: [&str; 11] = [
    "任务编号 task",
    "版本 version",
    "单位代码 unit",
    "单位 name",
    "指标 indicator",
    "指标名称",
    "规则 rule",
    "状态 status",
    "数值 value",
    "证据网址 evidence_url",
    "备注 note",
];
const COL_VALUE: u16 = 8;

fn rule_text(r: &Rule) -> String {
    match r {
        Rule::Binary => "是/否 (yes/no)".into(),
        Rule::Ratio => "比例 0–1 或百分数 (ratio, 0.85 or 85%)".into(),
        Rule::Count { cap } => format!("计数，满分 {cap} (count, full marks at {cap})"),
        Rule::Graded { levels } => format!(
            "分级: {}",
            levels
                .iter()
                .map(|l| format!("{} = {} ({})", l.key, l.zh, l.fraction))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Rule::Continuous => "数值 (any number)".into(),
    }
}

/// The workbook: one sheet `任务`, a header row frozen with an autofilter.
pub fn write_task_sheet(tasks: &[SheetTask], note: &str) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("任务")?;
    let bold = Format::new().set_bold();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, t) in tasks.iter().enumerate() {
        let r = (i + 1) as u32;
        ws.write_number(r, 0, t.id as f64)?;
        ws.write_number(r, 1, t.version as f64)?;
        ws.write_string(r, 2, &t.unit)?;
        ws.write_string(r, 3, &t.unit_name)?;
        ws.write_string(r, 4, &t.indicator)?;
        ws.write_string(r, 5, &t.indicator_name)?;
        ws.write_string(r, 6, t.rule.name())?;
        ws.write_string(r, 7, &t.status)?;
        ws.write_string(r, 8, &t.value)?;
        ws.write_string(r, 9, &t.evidence_url)?;
        ws.write_string(r, 10, &t.note)?;
        let mut text = rule_text(&t.rule);
        if let Some(s) = &t.scoring {
            text.push_str("\n说明: ");
            text.push_str(s);
        }
        ws.insert_note(r, 4, &Note::new(text).set_author("govcap"))?;
        let choices: Option<Vec<String>> = match &t.rule {
            Rule::Binary => Some(vec!["是".into(), "否".into()]),
            Rule::Graded { levels } => Some(levels.iter().map(|l| l.key.clone()).collect()),
            _ => None,
        };
        if let Some(choices) = choices {
            let refs: Vec<&str> = choices.iter().map(String::as_str).collect();
            let dv = DataValidation::new().allow_list_strings(&refs)?;
            ws.add_data_validation(r, COL_VALUE, r, COL_VALUE, &dv)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, tasks.len() as u32, (HEADER.len() - 1) as u16)?;
    for (c, w) in [10, 8, 10, 12, 9, 28, 10, 10, 14, 36, 24]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w as f64)?;
    }
    let info = wb.add_worksheet().set_name("说明")?;
    info.write_string(0, 0, note)?;
    info.write_string(
        1,
        0,
        "只填写“数值”“证据网址”“备注”三列；不要改动任务编号和版本。上传时整个表格一起校验，有一处错误则全部不保存。",
    )?;
    Ok(wb.save_to_buffer()?)
}

/// One filled row read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// The row number the spreadsheet shows.
    pub row: usize,
    pub task: i64,
    pub version: u64,
    pub value: String,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
}

fn text(d: &Data) -> Option<String> {
    match d {
        Data::Empty => None,
        Data::String(s) if s.trim().is_empty() => None,
        Data::String(s) => Some(s.trim().to_string()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(f.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn whole(d: &Data) -> Option<i64> {
    match d {
        Data::Int(i) => Some(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        Data::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads the filled sheet: rows with a value (the others are left as they are). Every row
/// that cannot be read is a located problem; any problem refuses the whole file.
pub fn read_task_sheet(bytes: &[u8], file: &str) -> Result<Vec<SheetRow>, ImportError> {
    let xerr = |reason: String| ImportError::Xlsx {
        file: file.to_string(),
        reason,
    };
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| xerr(format!("not an XLSX workbook ({e})")))?;
    let range = book.worksheet_range("任务").map_err(|_| {
        xerr("there is no sheet named 任务: use the sheet downloaded from the campaign".into())
    })?;
    let mut rows = range.rows();
    let head: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|d| text(d).unwrap_or_default()).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (i, h) in HEADER.iter().enumerate() {
        if head.get(i).map(String::as_str) != Some(*h) {
            problems.push(Problem::new(
                1,
                Some(h),
                format!(
                    "the header must be {h:?} here; use the sheet downloaded from the campaign"
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid {
            file: file.to_string(),
            problems,
        });
    }
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let row = i + 2;
        let cell = |c: usize| r.get(c).unwrap_or(&Data::Empty);
        let Some(value) = text(cell(COL_VALUE as usize)) else {
            continue;
        };
        if let Data::Error(e) = cell(COL_VALUE as usize) {
            problems.push(Problem::new(
                row,
                Some(HEADER[8]),
                format!("the cell holds an error ({e})"),
            ));
            continue;
        }
        let task = whole(cell(0));
        let version = whole(cell(1)).filter(|v| *v >= 0);
        match (task, version) {
            (Some(task), Some(version)) => out.push(SheetRow {
                row,
                task,
                version: version as u64,
                value: value.chars().take(500).collect(),
                evidence_url: text(cell(9)),
                note: text(cell(10)).map(|n| n.chars().take(4000).collect()),
            }),
            (None, _) => problems.push(Problem::new(
                row,
                Some(HEADER[0]),
                "no task number: do not change the first two columns",
            )),
            (_, None) => problems.push(Problem::new(
                row,
                Some(HEADER[1]),
                "no version: do not change the first two columns",
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::Invalid {
            file: file.to_string(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: i64, rule: Rule) -> SheetTask {
        SheetTask {
            id,
            version: 3,
            unit: "110000".into(),
            unit_name: "北京市".into(),
            indicator: "S2.2".into(),
            indicator_name: "办事指南".into(),
            rule,
            scoring: Some("guide".into()),
            status: "todo".into(),
            value: String::new(),
            evidence_url: String::new(),
            note: String::new(),
        }
    }

    #[test]
    fn written_sheets_read_back_and_empty_values_are_skipped() {
        let mut a = task(7, Rule::Binary);
        a.value = "是".into();
        a.evidence_url = "http://127.0.0.1/e".into();
        let b = task(8, Rule::Ratio);
        let bytes = write_task_sheet(&[a, b], "note").unwrap();
        let rows = read_task_sheet(&bytes, "t.xlsx").unwrap();
        assert_eq!(
            rows,
            vec![SheetRow {
                row: 2,
                task: 7,
                version: 3,
                value: "是".into(),
                evidence_url: Some("http://127.0.0.1/e".into()),
                note: None
            }]
        );
    }

    #[test]
    fn foreign_files_are_refused_with_the_reason() {
        assert!(matches!(
            read_task_sheet(b"not a zip", "x.xlsx"),
            Err(ImportError::Xlsx { .. })
        ));
        let mut wb = Workbook::new();
        wb.add_worksheet()
            .set_name("任务")
            .unwrap()
            .write_string(0, 0, "code")
            .unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let e = read_task_sheet(&bytes, "x.xlsx").unwrap_err();
        assert!(e.to_string().contains("任务编号 task"), "{e}");
    }
}
