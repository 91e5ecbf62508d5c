//! Unit lists: the 337 default governments, or any list an evaluation team brings.
//!
//! A unit list is a table with `code` and `name` and any other columns; the extra columns
//! become attributes, so a team can group or denominate by a column govcap has never heard of
//! (population, a custom peer group) without code changes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use govcap_core::unit::{Unit, UnitSet};

use crate::error::{ImportError, Problem};
use crate::table::{read_table, Cell, Table};

/// The default unit list (4 municipalities + 333 prefecture-level divisions), embedded so that
/// govcap runs without any input file. See `data/README.md` for its sources and checks.
pub const DEFAULT_UNITS_CSV: &str = include_str!("../data/prefectures_337.csv");

/// The 337 default units in code order: `region` is the NBS four-region class (`region4`),
/// and the remaining columns (`name_pinyin`, `province_code`, `type`, `sub_provincial`,
/// `provincial_capital`) are attributes.
pub fn default_units() -> UnitSet {
    let grid = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(DEFAULT_UNITS_CSV.as_bytes())
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.expect("the embedded unit list is valid CSV");
            (i + 1, r.iter().map(|s| Cell::Text(s.to_string())).collect())
        })
        .collect::<Vec<(usize, Vec<Cell>)>>();
    let mut rows = grid.into_iter();
    let header = rows
        .next()
        .expect("the embedded unit list has a header")
        .1
        .iter()
        .map(|c| c.trimmed().unwrap_or_default())
        .collect();
    let table = Table {
        path: "prefectures_337.csv".into(),
        file_name: "prefectures_337.csv".into(),
        header,
        header_row: 1,
        rows: rows.collect(),
    };
    units_from_table(&table).expect("the embedded unit list is valid")
}

/// Reads a unit list from CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 with BOM) or from
/// the first sheet of a workbook.
///
/// Required columns: `code` (or 代码/单位代码) and `name` (or 名称/单位名称). Optional: `name_en`
/// (英文名称; defaults to `name`), `province` (省份), `region` or `region4` (区域). Every other
/// column is kept verbatim as an attribute; empty cells are left out so that a missing
/// population reads as missing, not as text. All problems are reported at once.
pub fn read_units(path: &Path) -> Result<UnitSet, ImportError> {
    units_from_table(&read_table(path, None)?)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Field {
    Code,
    Name,
    NameEn,
    Province,
    Region,
}

const FIELDS: [(Field, &str, &[&str]); 5] = [
    (Field::Code, "code", &["code", "代码", "单位代码"]),
    (Field::Name, "name", &["name", "名称", "单位名称"]),
    (Field::NameEn, "name_en", &["name_en", "英文名称"]),
    (Field::Province, "province", &["province", "省份"]),
    (Field::Region, "region", &["region", "region4", "区域"]),
];

fn field_of(header: &str) -> Option<Field> {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
    FIELDS
        .iter()
        .find(|(_, _, aliases)| aliases.contains(&h.as_str()))
        .map(|(f, _, _)| *f)
}

fn units_from_table(t: &Table) -> Result<UnitSet, ImportError> {
    let mut problems = Vec::new();
    let mut cols: HashMap<Field, usize> = HashMap::new();
    let mut attr_cols: Vec<(usize, String)> = Vec::new();
    for (i, h) in t.header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match field_of(h) {
            // A second region-like column (both `region` and `region4`) stays an attribute.
            Some(Field::Region) if cols.contains_key(&Field::Region) => {
                attr_cols.push((i, h.clone()))
            }
            Some(f) => {
                if let Some(&first) = cols.get(&f) {
                    problems.push(Problem::new(
                        t.header_row,
                        Some(h),
                        format!("column repeats column {:?}", t.header[first]),
                    ));
                } else {
                    cols.insert(f, i);
                }
            }
            None => {
                if let Some((_, first)) = attr_cols.iter().find(|(_, n)| n == h) {
                    problems.push(Problem::new(
                        t.header_row,
                        Some(h),
                        format!("column repeats column {first:?}"),
                    ));
                } else {
                    attr_cols.push((i, h.clone()));
                }
            }
        }
    }
    // Only missing required columns stop the row checks; a repeated column is reported
    // along with every row problem.
    let mut fatal = false;
    for (f, name, aliases) in FIELDS.iter().take(2) {
        if !cols.contains_key(f) {
            fatal = true;
            problems.push(Problem::new(
                t.header_row,
                Some(name),
                format!(
                    "missing required column (also accepted: {})",
                    aliases[1..].join(", ")
                ),
            ));
        }
    }
    problems.extend(t.unnamed_cells());
    if fatal {
        return Err(ImportError::Invalid {
            file: t.path.clone(),
            problems,
        });
    }

    let mut units = Vec::with_capacity(t.rows.len());
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &t.rows {
        let get = |f: Field| cols.get(&f).and_then(|&c| Table::cell(cells, c).trimmed());
        let mut required = |f: Field| {
            let col = cols[&f];
            match Table::cell(cells, col) {
                Cell::Error(e) => {
                    problems.push(Problem::new(
                        *row,
                        Some(&t.header[col]),
                        format!("the cell holds a spreadsheet error ({e})"),
                    ));
                    None
                }
                c => {
                    let v = c.trimmed();
                    if v.is_none() {
                        problems.push(Problem::new(
                            *row,
                            Some(&t.header[col]),
                            "empty required cell",
                        ));
                    }
                    v
                }
            }
        };
        let code = required(Field::Code);
        let name = required(Field::Name);
        let (Some(code), Some(name)) = (code, name) else {
            continue;
        };
        if let Some(first) = first_row_of.get(&code) {
            problems.push(Problem::new(
                *row,
                Some(&t.header[cols[&Field::Code]]),
                format!(
                    "duplicate unit code {:?} (first on row {first})",
                    govcap_core::engine::score::short(&code)
                ),
            ));
            continue;
        }
        first_row_of.insert(code.clone(), *row);
        let attrs: BTreeMap<String, String> = attr_cols
            .iter()
            .filter_map(|(c, h)| {
                Table::cell(cells, *c)
                    .text()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| (h.clone(), s.trim().to_string()))
            })
            .collect();
        units.push(Unit {
            name_en: get(Field::NameEn).unwrap_or_else(|| name.clone()),
            province: get(Field::Province),
            region: get(Field::Region),
            code,
            name,
            attrs,
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid {
            file: t.path.clone(),
            problems,
        });
    }
    // Duplicates and empty codes were rejected above with their rows, so this cannot fail;
    // map it anyway rather than panic on a future rule of UnitSet.
    UnitSet::new(units).map_err(|e| ImportError::Invalid {
        file: t.path.clone(),
        problems: vec![Problem::new(0, None, e.to_string())],
    })
}
