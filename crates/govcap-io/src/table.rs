//! A file as a grid of cells with spreadsheet row numbers, whatever its format, so that unit
//! and observation import validate CSV and XLSX with the same code.

use std::path::Path;

use calamine::{Data, Reader};
use govcap_core::observation::Value;

use crate::encoding::decode_text;
use crate::error::{ImportError, Problem};

/// One cell as read. Spreadsheet numbers stay numbers so that no precision or formatting is
/// lost between the sheet and the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A spreadsheet error value such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }

    /// The cell as text exactly as written (numbers without a trailing `.0`), or `None` when
    /// empty. Error cells give their error text.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(s) | Cell::Error(s) => Some(s.clone()),
            Cell::Number(n) => Some(format_number(*n)),
        }
    }

    /// Trimmed text, `None` when empty.
    pub(crate) fn trimmed(&self) -> Option<String> {
        self.text()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// The raw observed value: numbers as numbers, text through [`Value::from_cell`].
    pub(crate) fn value(&self) -> Value {
        match self {
            Cell::Number(n) => Value::Number(*n),
            other => Value::from_cell(&other.text().unwrap_or_default()),
        }
    }
}

/// Integral numbers print without a fraction, so a unit code typed as a number (110000) reads
/// the same as the text "110000".
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A header row and its data rows.
#[derive(Debug)]
pub(crate) struct Table {
    /// Path as given, for messages.
    pub path: String,
    /// File name only, for observation origins.
    pub file_name: String,
    /// Header cells, trimmed; empty strings for unnamed columns.
    pub header: Vec<String>,
    /// Spreadsheet row of the header (1 for CSV).
    pub header_row: usize,
    /// (spreadsheet row, cells); rows whose cells are all empty are left out.
    pub rows: Vec<(usize, Vec<Cell>)>,
}

impl Table {
    /// The cell of a row in a column, empty when the row is shorter than the header.
    pub(crate) fn cell(cells: &[Cell], col: usize) -> &Cell {
        cells.get(col).unwrap_or(&Cell::Empty)
    }

    /// Name of a column for messages: its header, or its spreadsheet letter when unnamed.
    pub(crate) fn column_name(&self, col: usize) -> String {
        match self.header.get(col) {
            Some(h) if !h.is_empty() => h.clone(),
            _ => format!("column {}", column_letter(col)),
        }
    }

    /// Reports non-empty cells in columns without a header: such data would otherwise be
    /// dropped without anyone noticing.
    pub(crate) fn unnamed_cells(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (row, cells) in &self.rows {
            for (col, cell) in cells.iter().enumerate() {
                let named = self.header.get(col).is_some_and(|h| !h.is_empty());
                if !named && !cell.is_empty() {
                    out.push(Problem::new(
                        *row,
                        Some(&self.column_name(col)),
                        "cell has a value but its column has no header name",
                    ));
                }
            }
        }
        out
    }
}

/// A, B, …, Z, AA, … as spreadsheets name columns.
pub(crate) fn column_letter(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

enum Kind {
    Csv(u8),
    Workbook,
}

fn kind_of(path: &Path, bytes_start: &[u8]) -> Kind {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx" | "xlsm" | "xls" | "xlsb" | "ods") => Kind::Workbook,
        Some("tsv" | "tab") => Kind::Csv(b'\t'),
        // A workbook saved under another name is still a zip archive.
        _ if bytes_start.starts_with(b"PK\x03\x04") => Kind::Workbook,
        _ => Kind::Csv(b','),
    }
}

/// Reads a CSV (any supported encoding) or a workbook sheet (the named one, else the first).
pub(crate) fn read_table(path: &Path, sheet: Option<&str>) -> Result<Table, ImportError> {
    let shown = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        file: shown.clone(),
        source,
    })?;
    let (header_row, mut grid) = match kind_of(path, &bytes[..bytes.len().min(4)]) {
        Kind::Csv(delimiter) => (1, read_csv(&shown, &bytes, delimiter)?),
        Kind::Workbook => {
            drop(bytes);
            read_workbook(path, &shown, sheet)?
        }
    };
    let header: Vec<String> = if grid.is_empty() {
        Vec::new()
    } else {
        grid.remove(0)
            .1
            .iter()
            .map(|c| c.trimmed().unwrap_or_default())
            .collect()
    };
    let rows = grid
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(Table {
        path: shown,
        file_name,
        header,
        header_row,
        rows,
    })
}

type Grid = Vec<(usize, Vec<Cell>)>;

fn read_csv(shown: &str, bytes: &[u8], delimiter: u8) -> Result<Grid, ImportError> {
    let (text, _) = decode_text(bytes).map_err(|e| ImportError::Encoding {
        file: shown.to_string(),
        reason: e.to_string(),
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    // Rows are numbered by record, as a spreadsheet program shows the file (a quoted cell
    // spanning several lines is still one row).
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Invalid {
            file: shown.to_string(),
            problems: vec![Problem::new(i + 1, None, format!("malformed CSV: {e}"))],
        })?;
        let cells = record
            .iter()
            .map(|s| {
                if s.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s.to_string())
                }
            })
            .collect();
        grid.push((i + 1, cells));
    }
    Ok(grid)
}

fn read_workbook(
    path: &Path,
    shown: &str,
    sheet: Option<&str>,
) -> Result<(usize, Grid), ImportError> {
    let xlsx_err = |reason: String| ImportError::Xlsx {
        file: shown.to_string(),
        reason,
    };
    let mut book = calamine::open_workbook_auto(path).map_err(|e| xlsx_err(e.to_string()))?;
    let names = book.sheet_names();
    let sheet_name = sheet.map(str::to_string).or_else(|| names.first().cloned());
    let range = match sheet {
        Some(name) => {
            if !names.iter().any(|n| n == name) {
                return Err(xlsx_err(format!(
                    "there is no sheet named {name:?} (sheets: {})",
                    names.join(", ")
                )));
            }
            book.worksheet_range(name)
        }
        None => match book.worksheet_range_at(0) {
            Some(r) => r,
            None => return Err(xlsx_err("the workbook has no sheets".to_string())),
        },
    }
    .map_err(|e| xlsx_err(e.to_string()))?;
    let Some((first_row, _)) = range.start() else {
        return Ok((1, Vec::new()));
    };
    // A formula without a saved result (as scripts write them) reads as an empty cell: say
    // so with its address instead of losing the value.
    if let Some(name) = &sheet_name {
        if let Ok(formulas) = book.worksheet_formula(name) {
            let mut problems = Vec::new();
            let uncomputed = results_never_computed(path);
            for (r, c, f) in formulas.used_cells() {
                let (fr, fc) = formulas.start().unwrap_or((0, 0));
                let (row, col) = (fr + r as u32, fc + c as u32);
                let empty = match range.get_value((row, col)) {
                    None | Some(Data::Empty) => true,
                    Some(Data::String(s)) => s.trim().is_empty(),
                    Some(_) => false,
                };
                if !f.is_empty() && (empty || uncomputed) {
                    problems.push(Problem::new(
                        row as usize + 1,
                        Some(&format!("{}{}", column_letter(col as usize), row + 1)),
                        format!(
                            "sheet {name:?} cell {}{} holds the formula ={} with no computed result; open the file in Excel or LibreOffice and save it, so the results are stored",
                            column_letter(col as usize),
                            row + 1,
                            crate::short(f)
                        ),
                    ));
                }
            }
            if !problems.is_empty() {
                return Err(ImportError::Invalid {
                    file: shown.to_string(),
                    problems,
                });
            }
        }
    }
    let first_row = first_row as usize + 1;
    let grid = range
        .rows()
        .enumerate()
        .map(|(i, row)| (first_row + i, row.iter().map(cell_of).collect()))
        .collect();
    Ok((first_row, grid))
}

/// True when an XLSX file asks to have every formula computed when it is opened
/// (`<calcPr fullCalcOnLoad="1"/>`): files written by scripts (XlsxWriter, rust_xlsxwriter)
/// store a placeholder result such as 0 and set it; Excel and LibreOffice clear it on saving.
/// A formula's stored result in such a file is not a result.
fn results_never_computed(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(mut zip) = zip::ZipArchive::new(file) else {
        return false;
    };
    let Ok(entry) = zip.by_name("xl/workbook.xml") else {
        return false;
    };
    // The workbook part is small; a hostile one is cut off at 1 MiB.
    let mut xml = String::new();
    if entry.take(1 << 20).read_to_string(&mut xml).is_err() {
        return false;
    }
    xml.contains("fullCalcOnLoad=\"1\"") || xml.contains("fullCalcOnLoad=\"true\"")
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            if (h, mi, s, ms) == (0, 0, 0, 0) {
                Cell::Text(format!("{y:04}-{mo:02}-{d:02}"))
            } else {
                Cell::Text(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"))
            }
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn integral_numbers_print_as_integers() {
        assert_eq!(format_number(110000.0), "110000");
        assert_eq!(format_number(0.25), "0.25");
        assert_eq!(format_number(-3.0), "-3");
    }
}
