//! Observation import from evaluators' spreadsheets.
//!
//! Two layouts are read, told apart by the header:
//!
//! * **long** — one value per row: `unit, indicator, year, value` and optionally `source,
//!   evaluator, evidence_url, observed_at, note` (Chinese headers such as 单位代码, 指标, 年份,
//!   数值, 来源, 评估人, 证据链接, 采集时间, 备注 work too). A header with an `indicator` (or
//!   `value`) column is long.
//! * **wide** — one row per unit: a `unit`/`code` column, optional `name` and `year`, then one
//!   column per leaf indicator (its id, or its exact Chinese or English name). Row-level
//!   `source`, `evaluator`, `evidence_url`, `observed_at` and `note` columns apply to every
//!   value of their row. An empty indicator cell means "not observed".
//!
//! The file is validated as a whole: every problem is collected with its row and column and
//! nothing is returned unless there are none, so a caller can store the result without ever
//! storing half a file. Whether a value fits an indicator is decided by
//! [`govcap_core::engine::score::read_value`], the same function the engine scores with.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use govcap_core::engine::score::read_value;
use govcap_core::framework::{Framework, Rule};
use govcap_core::intern::Interned;
use govcap_core::observation::{Observation, Origin, Source};
use govcap_core::unit::UnitSet;

use crate::error::{ImportError, Problem};
use crate::table::{read_table, Cell, Table};
use govcap_core::engine::score::short;

/// Choices the file itself may not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Year for rows without one: wide files without a `year` column, long files without a
    /// `year` column, or empty year cells. Without it such rows are an error.
    pub year: Option<i32>,
    /// Workbook sheet to read; the first sheet when `None`. Ignored for CSV.
    pub sheet: Option<String>,
    /// Source for rows whose `source` cell is empty or absent.
    pub default_source: Source,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            year: None,
            sheet: None,
            default_source: Source::Manual,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Field {
    Unit,
    Indicator,
    Year,
    Value,
    Source,
    Evaluator,
    EvidenceUrl,
    ObservedAt,
    Note,
    /// Unit or indicator names kept for people reading the sheet; used to find the unit only
    /// when there is no unit column.
    UnitName,
    /// Descriptive columns that are read by people only.
    Info,
}

/// Canonical header and accepted aliases (compared lower-case, spaces and hyphens as `_`).
const FIELDS: &[(Field, &str, &[&str])] = &[
    (
        Field::Unit,
        "unit",
        &["unit", "code", "unit_code", "单位", "单位代码", "地区代码"],
    ),
    (
        Field::Indicator,
        "indicator",
        &["indicator", "indicator_id", "指标", "指标代码"],
    ),
    (Field::Year, "year", &["year", "年份", "年度"]),
    (Field::Value, "value", &["value", "值", "数值", "得分值"]),
    (Field::Source, "source", &["source", "来源"]),
    (Field::Evaluator, "evaluator", &["evaluator", "评估人"]),
    (
        Field::EvidenceUrl,
        "evidence_url",
        &["evidence_url", "evidence", "证据链接", "证据"],
    ),
    (
        Field::ObservedAt,
        "observed_at",
        &["observed_at", "采集时间", "观测时间"],
    ),
    (Field::Note, "note", &["note", "notes", "备注"]),
    (
        Field::UnitName,
        "name",
        &["name", "unit_name", "名称", "单位名称"],
    ),
    (
        Field::Info,
        "info",
        &[
            "name_en",
            "province",
            "region",
            "region4",
            "indicator_name",
            "省份",
            "指标名称",
        ],
    ),
];

fn field_of(header: &str) -> Option<Field> {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
    FIELDS
        .iter()
        .find(|(_, _, aliases)| aliases.contains(&h.as_str()))
        .map(|(f, _, _)| *f)
}

fn canonical(f: Field) -> (&'static str, &'static [&'static str]) {
    let (_, name, aliases) = FIELDS.iter().find(|(g, _, _)| *g == f).expect("listed");
    (name, aliases)
}

/// Reads every observation of a long or wide CSV/workbook file, or reports every problem.
///
/// Units may be written as codes or exact names of `units`; indicators as leaf ids or exact
/// names of `framework`. Each observation's [`Origin`] names the file, the spreadsheet row
/// (header = row 1; for workbooks the row the sheet shows) and, in wide files, the column.
/// On error nothing is returned: callers must write nothing from a file that failed.
pub fn read_observations(
    path: &Path,
    framework: &Framework,
    units: &UnitSet,
    opts: &ImportOptions,
) -> Result<Vec<Observation>, ImportError> {
    let table = read_table(path, opts.sheet.as_deref())?;
    let mut ctx = Ctx {
        table: &table,
        file: Interned::new(&table.file_name),
        framework,
        units: UnitIndex::new(units),
        opts,
        problems: Vec::new(),
        seen: HashMap::new(),
        out: Vec::new(),
    };
    let columns = ctx.map_header();
    let long = columns.fields.contains_key(&Field::Indicator)
        || columns.fields.contains_key(&Field::Value);
    // Without these columns the rows cannot be checked at all; other header problems (an
    // unknown or repeated column) still let every row be checked, so all is reported at once.
    let mut fatal = if long {
        ctx.require(&columns, &[Field::Unit, Field::Indicator, Field::Value])
    } else {
        ctx.require(&columns, &[Field::Unit])
    };
    if !long && columns.indicators.is_empty() && !columns.has_bad_indicator {
        ctx.problems.push(Problem::new(
            table.header_row,
            None,
            "no indicator column: give either an `indicator` and a `value` column (long \
             layout) or one column per leaf indicator id (wide layout)",
        ));
        fatal = true;
    }
    if !columns.fields.contains_key(&Field::Year) && opts.year.is_none() {
        ctx.problems.push(Problem::new(
            table.header_row,
            Some("year"),
            "missing required column (also accepted: 年份, 年度), and no default year was given",
        ));
        fatal = true;
    }
    ctx.problems.extend(table.unnamed_cells());
    if fatal {
        return Err(ctx.fail());
    }
    for (row, cells) in &table.rows {
        if long {
            ctx.long_row(&columns, *row, cells);
        } else {
            ctx.wide_row(&columns, *row, cells);
        }
    }
    if ctx.problems.is_empty() {
        Ok(ctx.out)
    } else {
        Err(ctx.fail())
    }
}

/// Which column holds what.
struct Columns {
    fields: HashMap<Field, usize>,
    /// Wide layout: (column, leaf position).
    indicators: Vec<(usize, usize)>,
    has_bad_indicator: bool,
}

/// Finds units by code first, then by exact name (names can repeat in custom lists).
struct UnitIndex<'a> {
    units: &'a UnitSet,
    by_name: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> UnitIndex<'a> {
    fn new(units: &'a UnitSet) -> Self {
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for u in units.units() {
            by_name
                .entry(u.name.as_str())
                .or_default()
                .push(u.code.as_str());
        }
        UnitIndex { units, by_name }
    }

    fn find(&self, s: &str) -> Result<String, String> {
        if let Some(u) = self.units.get(s) {
            return Ok(u.code.clone());
        }
        match self.by_name.get(s).map(Vec::as_slice) {
            Some([code]) => Ok(code.to_string()),
            Some(codes) => Err(format!(
                "unit name {:?} is ambiguous (codes {}); use the code",
                short(s),
                codes.join(", ")
            )),
            None => Err(format!(
                "unknown unit {:?} (not a code or name in the unit list)",
                short(s)
            )),
        }
    }
}

struct Ctx<'a> {
    table: &'a Table,
    /// The file name every observation's origin shares.
    file: Interned,
    framework: &'a Framework,
    units: UnitIndex<'a>,
    opts: &'a ImportOptions,
    problems: Vec<Problem>,
    /// (unit, indicator, year) → row of first occurrence.
    seen: HashMap<(String, String, i32), usize>,
    out: Vec<Observation>,
}

/// Fields of a row that every value in it shares.
struct RowMeta {
    year: Option<i32>,
    source: Option<Source>,
    evaluator: Option<Interned>,
    evidence_url: Option<Arc<str>>,
    observed_at: Option<String>,
    note: Option<String>,
}

impl<'a> Ctx<'a> {
    fn fail(&mut self) -> ImportError {
        ImportError::Invalid {
            file: self.table.path.clone(),
            problems: std::mem::take(&mut self.problems),
        }
    }

    fn problem(&mut self, row: usize, col: usize, reason: impl Into<String>) {
        let name = self.table.column_name(col);
        self.problems.push(Problem::new(row, Some(&name), reason));
    }

    /// A leaf's position and rule, or why the text names no leaf.
    fn find_leaf(&self, s: &str) -> Result<(usize, &'a Rule), String> {
        let fw = self.framework;
        let pos = fw.position(s).or_else(|| {
            let named: Vec<usize> = (0..fw.nodes.len())
                .filter(|&i| fw.node(i).name_zh == s || fw.node(i).name_en == s)
                .collect();
            (named.len() == 1).then(|| named[0])
        });
        let Some(i) = pos else {
            return Err(format!(
                "unknown indicator {:?} (not an id or name in framework {})",
                short(s),
                fw.id
            ));
        };
        match (&fw.node(i).leaf, fw.is_leaf(i)) {
            (Some(leaf), true) => Ok((i, &leaf.rule)),
            _ => {
                let leaves: Vec<&str> = fw
                    .leaves()
                    .into_iter()
                    .filter(|&l| is_under(fw, l, i))
                    .map(|l| fw.node(l).id.as_str())
                    .collect();
                Err(format!(
                    "indicator {:?} is not a leaf; give values for its leaves ({})",
                    fw.node(i).id,
                    leaves.join(", ")
                ))
            }
        }
    }

    fn map_header(&mut self) -> Columns {
        let t = self.table;
        let mut fields: HashMap<Field, usize> = HashMap::new();
        let mut indicators: Vec<(usize, usize)> = Vec::new();
        let mut has_bad_indicator = false;
        let mut bad: Vec<(usize, String)> = Vec::new();
        for (col, h) in t.header.iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            match field_of(h) {
                Some(Field::Info) => {}
                Some(f) => match fields.get(&f) {
                    Some(&first) => {
                        bad.push((col, format!("column repeats column {:?}", t.header[first])))
                    }
                    None => {
                        fields.insert(f, col);
                    }
                },
                None => match self.find_leaf(h) {
                    Ok((leaf, _)) => match indicators.iter().find(|(_, l)| *l == leaf) {
                        Some(&(first, _)) => {
                            bad.push((col, format!("column repeats column {:?}", t.header[first])))
                        }
                        None => indicators.push((col, leaf)),
                    },
                    Err(reason) => {
                        has_bad_indicator = true;
                        bad.push((col, reason));
                    }
                },
            }
        }
        let long = fields.contains_key(&Field::Indicator) || fields.contains_key(&Field::Value);
        for (col, reason) in bad {
            // In the long layout a column that is not a known field is a misspelt header,
            // not an indicator.
            let reason = if long && !reason.starts_with("column repeats") {
                let known: Vec<&str> = FIELDS
                    .iter()
                    .filter(|(f, _, _)| *f != Field::Info)
                    .map(|(_, n, _)| *n)
                    .collect();
                format!("unknown column (expected one of: {})", known.join(", "))
            } else {
                reason
            };
            self.problem(t.header_row, col, reason);
        }
        if long {
            for &(col, _) in &indicators {
                self.problem(
                    t.header_row,
                    col,
                    "an indicator column in a long-layout file (which already has an `indicator` \
                     or `value` column); use one layout per file",
                );
            }
            indicators.clear();
        }
        Columns {
            fields,
            indicators,
            has_bad_indicator,
        }
    }

    /// Reports each missing required column; true when any is missing.
    fn require(&mut self, columns: &Columns, required: &[Field]) -> bool {
        let before = self.problems.len();
        for &f in required {
            let present = columns.fields.contains_key(&f)
                || (f == Field::Unit && columns.fields.contains_key(&Field::UnitName));
            if !present {
                let (name, aliases) = canonical(f);
                self.problems.push(Problem::new(
                    self.table.header_row,
                    Some(name),
                    format!(
                        "missing required column (also accepted: {})",
                        aliases[1..].join(", ")
                    ),
                ));
            }
        }
        self.problems.len() > before
    }

    /// The text of a cell in an optional field's column; a spreadsheet error is a problem.
    fn text(&mut self, columns: &Columns, f: Field, row: usize, cells: &[Cell]) -> Option<String> {
        let &col = columns.fields.get(&f)?;
        match Table::cell(cells, col) {
            Cell::Error(e) => {
                let e = e.clone();
                self.problem(
                    row,
                    col,
                    format!("the cell holds a spreadsheet error ({e})"),
                );
                None
            }
            c => c.text().filter(|s| !s.trim().is_empty()),
        }
    }

    /// The unit of a row: the unit column, else the name column.
    fn unit(&mut self, columns: &Columns, row: usize, cells: &[Cell]) -> Option<String> {
        let f = if columns.fields.contains_key(&Field::Unit) {
            Field::Unit
        } else {
            Field::UnitName
        };
        let col = columns.fields[&f];
        match self.text(columns, f, row, cells) {
            None => {
                if !matches!(Table::cell(cells, col), Cell::Error(_)) {
                    self.problem(row, col, "empty required cell");
                }
                None
            }
            Some(s) => match self.units.find(s.trim()) {
                Ok(code) => Some(code),
                Err(reason) => {
                    self.problem(row, col, reason);
                    None
                }
            },
        }
    }

    fn meta(&mut self, columns: &Columns, row: usize, cells: &[Cell]) -> (RowMeta, bool) {
        let mut ok = true;
        let year = match columns.fields.get(&Field::Year) {
            None => self.opts.year,
            Some(&col) => match Table::cell(cells, col) {
                Cell::Empty => {
                    if self.opts.year.is_none() {
                        self.problem(row, col, "empty required cell");
                        ok = false;
                    }
                    self.opts.year
                }
                cell => match parse_year(cell) {
                    Some(y) => Some(y),
                    None => {
                        let shown = short(&cell.text().unwrap_or_default());
                        self.problem(
                            row,
                            col,
                            format!("malformed year {shown:?} (expected a year such as 2021)"),
                        );
                        ok = false;
                        None
                    }
                },
            },
        };
        let source = match self.text(columns, Field::Source, row, cells) {
            None => Some(self.opts.default_source),
            Some(s) => {
                let parsed = Source::parse(&s);
                if parsed.is_none() {
                    let col = columns.fields[&Field::Source];
                    self.problem(
                        row,
                        col,
                        format!(
                            "unknown source {:?} (use auto, manual, proposed or synthetic; or 自动, 人工, 待确认, 合成)",
                            short(&s)
                        ),
                    );
                    ok = false;
                }
                parsed
            }
        };
        let trim = |s: Option<String>| s.map(|s| s.trim().to_string());
        let shared = |s: Option<String>| s.map(|s| Arc::<str>::from(s.trim()));
        let evaluator = trim(self.text(columns, Field::Evaluator, row, cells)).map(Interned::from);
        let evidence_url = shared(self.text(columns, Field::EvidenceUrl, row, cells));
        let observed_at = trim(self.text(columns, Field::ObservedAt, row, cells));
        // Notes are kept exactly as written.
        let note = self.text(columns, Field::Note, row, cells);
        (
            RowMeta {
                year,
                source,
                evaluator,
                evidence_url,
                observed_at,
                note,
            },
            ok,
        )
    }

    /// Checks one value against its leaf's rule and, when the row is otherwise sound and the
    /// key is new, records the observation.
    #[allow(clippy::too_many_arguments)]
    fn value(
        &mut self,
        unit: Option<&str>,
        leaf: Option<(usize, &Rule)>,
        meta: &RowMeta,
        row_ok: bool,
        row: usize,
        col: usize,
        key_col: usize,
        cells: &[Cell],
        wide: bool,
    ) {
        let cell = Table::cell(cells, col);
        let mut valid = true;
        let value = match cell {
            Cell::Empty => {
                self.problem(row, col, "empty required cell");
                valid = false;
                None
            }
            Cell::Error(e) => {
                let e = e.clone();
                self.problem(
                    row,
                    col,
                    format!("the cell holds a spreadsheet error ({e})"),
                );
                valid = false;
                None
            }
            c => Some(c.value()),
        };
        let Some((leaf, rule)) = leaf else { return };
        let id = self.framework.node(leaf).id.clone();
        if let Some(Err(e)) = value.as_ref().map(|v| read_value(rule, v)) {
            self.problem(
                row,
                col,
                format!("value not valid for indicator {id} ({}): {e}", rule.name()),
            );
            valid = false;
        }
        // Duplicates are looked for even when the value is wrong, so that fixing the value
        // does not reveal a new problem on the next import.
        let (Some(unit), Some(year)) = (unit, meta.year) else {
            return;
        };
        let key = (unit.to_string(), id.clone(), year);
        if let Some(&first) = self.seen.get(&key) {
            self.problem(
                row,
                key_col,
                format!(
                    "duplicate of row {first} (same unit {unit}, indicator {id} and year {year})"
                ),
            );
            return;
        }
        self.seen.insert(key, row);
        let (Some(value), Some(source), true, true) = (value, meta.source, valid, row_ok) else {
            return;
        };
        self.out.push(Observation {
            unit: unit.to_string(),
            indicator: id,
            year,
            value,
            source,
            evaluator: meta.evaluator,
            evidence_url: meta.evidence_url.clone(),
            observed_at: meta.observed_at.clone(),
            note: meta.note.clone(),
            origin: Origin {
                file: self.file,
                row,
                column: wide.then(|| self.table.column_name(col)),
            },
        });
    }

    fn long_row(&mut self, columns: &Columns, row: usize, cells: &[Cell]) {
        let unit = self.unit(columns, row, cells);
        let ind_col = columns.fields[&Field::Indicator];
        let leaf = match self.text(columns, Field::Indicator, row, cells) {
            None => {
                if !matches!(Table::cell(cells, ind_col), Cell::Error(_)) {
                    self.problem(row, ind_col, "empty required cell");
                }
                None
            }
            Some(s) => match self.find_leaf(s.trim()) {
                Ok(l) => Some(l),
                Err(reason) => {
                    self.problem(row, ind_col, reason);
                    None
                }
            },
        };
        let (meta, ok) = self.meta(columns, row, cells);
        let value_col = columns.fields[&Field::Value];
        self.value(
            unit.as_deref(),
            leaf,
            &meta,
            ok,
            row,
            value_col,
            ind_col,
            cells,
            false,
        );
    }

    fn wide_row(&mut self, columns: &Columns, row: usize, cells: &[Cell]) {
        let unit = self.unit(columns, row, cells);
        let (meta, ok) = self.meta(columns, row, cells);
        for &(col, leaf) in &columns.indicators {
            if Table::cell(cells, col).is_empty() {
                continue;
            }
            let rule = match &self.framework.node(leaf).leaf {
                Some(l) => &l.rule,
                None => continue,
            };
            self.value(
                unit.as_deref(),
                Some((leaf, rule)),
                &meta,
                ok,
                row,
                col,
                col,
                cells,
                true,
            );
        }
    }
}

/// True when node `n` is `ancestor` or lies below it.
fn is_under(fw: &Framework, n: usize, ancestor: usize) -> bool {
    let mut cur = n;
    loop {
        if cur == ancestor {
            return true;
        }
        match fw.node(cur).parent.as_deref().and_then(|p| fw.position(p)) {
            Some(p) => cur = p,
            None => return false,
        }
    }
}

/// A four-digit year from text (`2021`, ` 2021 `) or a spreadsheet number (2021.0).
fn parse_year(cell: &Cell) -> Option<i32> {
    let y = match cell {
        Cell::Number(n) if n.fract() == 0.0 => *n as i64,
        Cell::Text(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    (1000..=9999).contains(&y).then_some(y as i32)
}
