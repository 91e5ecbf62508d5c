//! Writing results out: `results.json`, `analyses.json`, `rankings.csv`, per-level score
//! CSVs, `results.xlsx`, and observation / unit CSVs (for synthetic data sets).
//!
//! Exports only format what the core computed; they never compute a figure of their own.
//! Every file is written to a temporary name and renamed into place, so a reader never sees
//! half a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use govcap_core::evaluate::{Evaluation, UnitResult};
use govcap_core::framework::Scale;
use govcap_core::observation::{Observation, Value};
use govcap_core::unit::UnitSet;
use rust_xlsxwriter::XlsxError;
use serde::Serialize;

/// Language of human-facing headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub(crate) fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The shared vocabulary's language (`govcap_core::vocab`).
    pub fn tongue(self) -> govcap_core::vocab::Tongue {
        match self {
            Lang::Zh => govcap_core::vocab::Tongue::Zh,
            Lang::En => govcap_core::vocab::Tongue::En,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the spreadsheet: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let err = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension(format!(
        "{}.partial-{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

/// Canonical JSON text: pretty, stable field order (struct order), trailing newline. The
/// same value always gives the same bytes, which is what run hashes rely on.
pub fn json_text<T: Serialize>(value: &T) -> Result<String, ExportError> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

fn num(x: Option<f64>, decimals: usize) -> String {
    x.map(|v| format!("{v:.decimals$}")).unwrap_or_default()
}

/// Whether CSV files start with a UTF-8 byte-order mark. On by default: Excel on Chinese
/// Windows reads a CSV without one as GBK and shows the Chinese garbled; every CSV reader of
/// govcap (and pandas' `utf-8-sig`, R's `readr`) skips it. `--no-bom` turns it off for tools
/// that do not.
static CSV_BOM: AtomicBool = AtomicBool::new(true);

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

/// Sets whether CSV output starts with a BOM (see [`csv_bom`]); called once by the binary.
pub fn set_csv_bom(on: bool) {
    CSV_BOM.store(on, Ordering::Relaxed);
}

/// What every CSV file govcap writes starts with: [`BOM`], or nothing after
/// `set_csv_bom(false)`.
pub fn csv_bom() -> &'static str {
    if CSV_BOM.load(Ordering::Relaxed) {
        BOM
    } else {
        ""
    }
}

fn csv_text(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(csv_bom().as_bytes().to_vec());
    w.write_record(header).expect("in-memory write");
    for r in rows {
        w.write_record(r).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory write")).expect("utf-8 input")
}

/// Slots of the nodes at one depth, in tree order.
pub(crate) fn slots_at(e: &Evaluation, depth: usize) -> Vec<usize> {
    (0..e.nodes.len())
        .filter(|&s| e.nodes[s].depth == depth)
        .collect()
}

pub(crate) fn max_depth(e: &Evaluation) -> usize {
    e.nodes.iter().map(|n| n.depth).max().unwrap_or(0)
}

pub(crate) fn rank_change(previous: Option<&Evaluation>, u: &UnitResult) -> Option<i64> {
    let p = previous?.units.iter().find(|x| x.code == u.code)?;
    Some(p.rank? as i64 - u.rank? as i64)
}

/// Units sorted by rank (unranked last, then list order).
pub(crate) fn by_rank(e: &Evaluation) -> Vec<&UnitResult> {
    let mut us: Vec<&UnitResult> = e.units.iter().collect();
    us.sort_by_key(|u| u.rank.unwrap_or(usize::MAX));
    us
}

/// `rankings.csv`: one row per evaluated unit, best first. Column keys are stable English
/// identifiers so that scripts can read the file whatever the report language.
pub fn rankings_csv(e: &Evaluation, previous: Option<&Evaluation>) -> String {
    let firsts = slots_at(e, 1);
    let mut header: Vec<String> = [
        "unit_code",
        "unit_name",
        "unit_name_en",
        "province",
        "region",
        "total",
        "rank",
        "province_rank",
        "tier",
        "sublevel",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(firsts.iter().map(|&s| e.nodes[s].id.clone()));
    header.push("rank_change".into());
    header.push("data".into());
    let rows: Vec<Vec<String>> = by_rank(e)
        .into_iter()
        .map(|u| {
            let mut r = vec![
                u.code.clone(),
                u.name.clone(),
                u.name_en.clone(),
                u.province.clone().unwrap_or_default(),
                u.region.clone().unwrap_or_default(),
                num(u.total, 4),
                u.rank.map(|x| x.to_string()).unwrap_or_default(),
                u.province_rank.map(|x| x.to_string()).unwrap_or_default(),
                u.tier.clone().unwrap_or_default(),
                u.sublevel.clone().unwrap_or_default(),
            ];
            r.extend(
                firsts
                    .iter()
                    .map(|&s| num(u.scores[s].points.or(u.scores[s].value), 4)),
            );
            r.push(
                rank_change(previous, u)
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            );
            r.push(if e.synthetic { "synthetic" } else { "" }.into());
            r
        })
        .collect();
    csv_text(&header, &rows)
}

/// Scores of every node at one depth: points and score rate (points scale) or value.
pub fn level_scores_csv(e: &Evaluation, depth: usize) -> String {
    let slots = slots_at(e, depth);
    let points = e.framework.scale == Scale::Points;
    let mut header = vec!["unit_code".to_string(), "unit_name".to_string()];
    for &s in &slots {
        let id = &e.nodes[s].id;
        if points {
            header.push(format!("{id}_points"));
            header.push(format!("{id}_rate"));
        } else {
            header.push(id.clone());
        }
    }
    header.push("data".into());
    let rows: Vec<Vec<String>> = by_rank(e)
        .into_iter()
        .map(|u| {
            let mut r = vec![u.code.clone(), u.name.clone()];
            for &s in &slots {
                if points {
                    r.push(num(u.scores[s].points, 4));
                    r.push(num(u.scores[s].value, 4));
                } else {
                    r.push(num(u.scores[s].value, 6));
                }
            }
            r.push(if e.synthetic { "synthetic" } else { "" }.into());
            r
        })
        .collect();
    csv_text(&header, &rows)
}

/// Long-format observation CSV, the same format `read_observations` reads.
pub fn observations_csv(obs: &[Observation]) -> String {
    let header: Vec<String> = [
        "unit",
        "indicator",
        "year",
        "value",
        "source",
        "evaluator",
        "evidence_url",
        "observed_at",
        "note",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = obs
        .iter()
        .map(|o| {
            vec![
                o.unit.clone(),
                o.indicator.clone(),
                o.year.to_string(),
                match &o.value {
                    Value::Number(n) => n.to_string(),
                    Value::Text(t) => t.to_string(),
                },
                o.source.as_str().to_string(),
                o.evaluator.as_deref().unwrap_or_default().to_string(),
                o.evidence_url.as_deref().unwrap_or_default().to_string(),
                o.observed_at.clone().unwrap_or_default(),
                o.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    csv_text(&header, &rows)
}

/// A unit list as CSV (named columns first, then every attribute column).
pub fn units_csv(units: &UnitSet) -> String {
    let mut attr_keys: Vec<&String> = units.units().iter().flat_map(|u| u.attrs.keys()).collect();
    attr_keys.sort();
    attr_keys.dedup();
    let mut header: Vec<String> = ["code", "name", "name_en", "province", "region"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(
        attr_keys
            .iter()
            .filter(|k| {
                !["code", "name", "name_en", "province", "region", "region4"].contains(&k.as_str())
            })
            .map(|k| k.to_string()),
    );
    let rows: Vec<Vec<String>> = units
        .units()
        .iter()
        .map(|u| {
            header
                .iter()
                .map(|h| u.attr(h).unwrap_or_default().to_string())
                .collect()
        })
        .collect();
    csv_text(&header, &rows)
}

pub use crate::workbook::{results_xlsx, WorkbookContext};
