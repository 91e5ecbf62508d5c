//! Writing results out: `results.json`, `analyses.json`, `rankings.csv`, per-level score
//! CSVs, `results.xlsx`, and observation / unit CSVs (for synthetic data sets).
//!
//! Exports only format what the core computed; they never compute a figure of their own.
//! Every file is written to a temporary name and renamed into place, so a reader never sees
//! half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use govcap_core::analyse::figures::Analyses;
use govcap_core::evaluate::{Evaluation, UnitResult};
use govcap_core::framework::Scale;
use govcap_core::observation::{Observation, Value};
use govcap_core::unit::UnitSet;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;

/// Language of human-facing headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
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

fn csv_text(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in-memory write");
    for r in rows {
        w.write_record(r).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory write")).expect("utf-8 input")
}

/// Slots of the nodes at one depth, in tree order.
fn slots_at(e: &Evaluation, depth: usize) -> Vec<usize> {
    (0..e.nodes.len())
        .filter(|&s| e.nodes[s].depth == depth)
        .collect()
}

fn max_depth(e: &Evaluation) -> usize {
    e.nodes.iter().map(|n| n.depth).max().unwrap_or(0)
}

fn rank_change(previous: Option<&Evaluation>, u: &UnitResult) -> Option<i64> {
    let p = previous?.units.iter().find(|x| x.code == u.code)?;
    Some(p.rank? as i64 - u.rank? as i64)
}

/// Units sorted by rank (unranked last, then list order).
fn by_rank(e: &Evaluation) -> Vec<&UnitResult> {
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

/// Everything `results.xlsx` needs besides the evaluation itself.
pub struct WorkbookContext<'a> {
    pub analyses: &'a Analyses,
    pub previous: Option<&'a Evaluation>,
    pub framework_sha256: &'a str,
    pub inputs: &'a [(String, String)],
    pub software_version: &'a str,
    pub lang: Lang,
}

struct Sheet<'a> {
    ws: &'a mut Worksheet,
    row: u32,
    bold: Format,
}

impl<'a> Sheet<'a> {
    /// A new named worksheet; its first line is `note` when given (the synthetic-data note).
    fn new(
        wb: &'a mut Workbook,
        name: impl Into<String>,
        note: Option<&str>,
    ) -> Result<Self, XlsxError> {
        let ws = wb.add_worksheet().set_name(name)?;
        let mut sh = Sheet {
            ws,
            row: 0,
            bold: Format::new().set_bold(),
        };
        if let Some(note) = note {
            sh.line(&[s(note)])?;
        }
        Ok(sh)
    }

    fn header(&mut self, cols: &[&str]) -> Result<(), XlsxError> {
        for (c, h) in cols.iter().enumerate() {
            self.ws
                .write_string_with_format(self.row, c as u16, *h, &self.bold)?;
        }
        self.ws.set_freeze_panes(self.row + 1, 0)?;
        self.row += 1;
        Ok(())
    }

    fn line(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::S(s) => {
                    self.ws.write_string(self.row, c, s)?;
                }
                Cell::N(Some(x)) if x.is_finite() => {
                    self.ws.write_number(self.row, c, *x)?;
                }
                Cell::N(_) => {}
            }
        }
        self.row += 1;
        Ok(())
    }
}

enum Cell {
    S(String),
    N(Option<f64>),
}

fn s(x: impl Into<String>) -> Cell {
    Cell::S(x.into())
}

fn n(x: Option<f64>) -> Cell {
    Cell::N(x)
}

fn nu(x: Option<usize>) -> Cell {
    Cell::N(x.map(|v| v as f64))
}

/// `results.xlsx`: ranking, per-level scores, tiers, regional and provincial disparity,
/// channel coverage and method notes, with Chinese (default) or English headers.
pub fn results_xlsx(e: &Evaluation, cx: &WorkbookContext) -> Result<Vec<u8>, ExportError> {
    let l = cx.lang;
    let a = cx.analyses;
    let mut wb = Workbook::new();
    let synthetic_note = l.pick(
        "注意：本结果基于合成（模拟）数据，仅供演示，不代表任何地方政府的真实水平。",
        "Note: these results come from SYNTHETIC data, for demonstration only; they do not describe any real government.",
    );
    // Every sheet of a synthetic result opens with the note, so no sheet can be shown alone
    // without it.
    let note = e.synthetic.then_some(synthetic_note);
    let name_of = |u: &UnitResult| {
        if l == Lang::Zh {
            u.name.clone()
        } else {
            u.name_en.clone()
        }
    };

    // Ranking.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("排名", "Ranking"), note)?;
        let firsts = slots_at(e, 1);
        let mut cols: Vec<String> = [
            l.pick("单位代码", "Code"),
            l.pick("单位名称", "Unit"),
            l.pick("省份", "Province"),
            l.pick("区域", "Region"),
            l.pick("总分", "Total"),
            l.pick("全国排名", "Rank"),
            l.pick("省内排名", "Rank in province"),
            l.pick("发展类型", "Tier"),
            l.pick("等级", "Sub-level"),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        cols.extend(firsts.iter().map(|&sl| node_name(e, sl, l)));
        cols.push(l.pick("排名变化", "Rank change").into());
        sh.header(&cols.iter().map(String::as_str).collect::<Vec<_>>())?;
        for u in by_rank(e) {
            let mut cells = vec![
                s(&u.code),
                s(name_of(u)),
                s(u.province.clone().unwrap_or_default()),
                s(u.region.clone().unwrap_or_default()),
                n(u.total),
                nu(u.rank),
                nu(u.province_rank),
                s(tier_label(e, u.tier.as_deref(), l)),
                s(u.sublevel.clone().unwrap_or_default()),
            ];
            cells.extend(
                firsts
                    .iter()
                    .map(|&sl| n(u.scores[sl].points.or(u.scores[sl].value))),
            );
            cells.push(Cell::N(rank_change(cx.previous, u).map(|c| c as f64)));
            sh.line(&cells)?;
        }
        sh.ws.set_column_width(1, 16)?;
        sh.ws.set_column_width(2, 14)?;
    }
    // Per-level scores.
    let level_names = [
        ("一级指标得分", "Level 1 scores"),
        ("二级指标得分", "Level 2 scores"),
        ("三级指标得分", "Level 3 scores"),
    ];
    for depth in 1..=max_depth(e) {
        let title = level_names
            .get(depth - 1)
            .map(|(zh, en)| l.pick(zh, en).to_string())
            .unwrap_or_else(|| format!("{} {depth}", l.pick("第几级", "Level")));
        let mut sh = Sheet::new(&mut wb, title, note)?;
        let slots = slots_at(e, depth);
        let mut cols: Vec<String> = vec![
            l.pick("单位代码", "Code").into(),
            l.pick("单位名称", "Unit").into(),
        ];
        cols.extend(
            slots
                .iter()
                .map(|&sl| format!("{} {}", e.nodes[sl].id, node_name(e, sl, l))),
        );
        sh.header(&cols.iter().map(String::as_str).collect::<Vec<_>>())?;
        for u in by_rank(e) {
            let mut cells = vec![s(&u.code), s(name_of(u))];
            cells.extend(
                slots
                    .iter()
                    .map(|&sl| n(u.scores[sl].points.or(u.scores[sl].value))),
            );
            sh.line(&cells)?;
        }
    }
    // Tiers.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("发展类型", "Tiers"), note)?;
        sh.header(&[
            l.pick("类型", "Tier"),
            l.pick("名称", "Name"),
            l.pick("分数线", "Cut line"),
            l.pick("平均分", "Mean"),
            l.pick("数量", "Count"),
            l.pick("占比", "Share"),
            l.pick("上年分数线", "Previous cut line"),
            l.pick("上年平均分", "Previous mean"),
            l.pick("上年数量", "Previous count"),
            l.pick("数量增幅(%)", "Count growth (%)"),
        ])?;
        for t in &a.tiers {
            sh.line(&[
                s(&t.code),
                s(l.pick(&t.name_zh, &t.name_en)),
                n(t.cut_line),
                n(t.mean),
                nu(Some(t.count)),
                n(Some(t.share)),
                n(t.previous_cut_line),
                n(t.previous_mean),
                nu(t.previous_count),
                n(t.count_growth_pct),
            ])?;
        }
        sh.row += 1;
        sh.header(&[
            l.pick("等级", "Sub-level"),
            l.pick("数量", "Count"),
            l.pick("占比", "Share"),
        ])?;
        for lv in &a.sublevels {
            sh.line(&[s(&lv.label), nu(Some(lv.count)), n(Some(lv.share))])?;
        }
    }
    // Regional disparity.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("区域差异", "Regions"), note)?;
        sh.header(&[
            l.pick("区域", "Region"),
            l.pick("单位数", "Units"),
            l.pick("平均分", "Mean"),
            l.pick("标准差", "SD"),
            l.pick("与东部之比", "Ratio to 东部"),
            l.pick("上年平均分", "Previous mean"),
            l.pick("变化", "Change"),
        ])?;
        for g in &a.regions.groups {
            let ratio = a
                .regions
                .ratio_to_reference
                .iter()
                .find(|r| r.0 == g.group)
                .map(|r| r.1);
            sh.line(&[
                s(&g.group),
                nu(Some(g.n)),
                n(Some(g.mean)),
                n(g.sd),
                n(ratio),
                n(g.previous_mean),
                n(g.change),
            ])?;
        }
        sh.row += 1;
        sh.line(&[
            s(format!(
                "{}/{}",
                a.regions.headline.numerator, a.regions.headline.denominator
            )),
            n(a.regions.headline.ratio),
            n(a.regions.headline.previous_ratio),
        ])?;
        if let Some(d) = &a.disparity.by_region {
            sh.row += 1;
            sh.header(&[
                l.pick("指标", "Measure"),
                l.pick("总体", "Total"),
                l.pick("区域间", "Between regions"),
                l.pick("区域内", "Within regions"),
            ])?;
            sh.line(&[s("CV"), n(Some(d.cv))])?;
            sh.line(&[
                s("Gini (Dagum)"),
                n(Some(d.gini)),
                n(Some(d.gini_decomposition.between_net)),
                n(Some(d.gini_decomposition.within)),
            ])?;
            sh.line(&[
                s("Theil T"),
                n(Some(d.theil.total)),
                n(Some(d.theil.between)),
                n(Some(d.theil.within)),
            ])?;
            sh.line(&[
                s("MLD"),
                n(Some(d.mld.total)),
                n(Some(d.mld.between)),
                n(Some(d.mld.within)),
            ])?;
        }
    }
    // Provincial disparity.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("省域差异", "Provinces"), note)?;
        sh.line(&[
            s(l.pick("省均值标准差", "SD of province means")),
            n(a.provinces.sd_of_means),
            n(a.provinces.previous_sd_of_means),
        ])?;
        sh.line(&[
            s(l.pick("省内标准差下降的省份", "Provinces whose within SD fell")),
            nu(Some(a.provinces.within_sd_fell)),
            nu(Some(a.provinces.within_sd_compared)),
        ])?;
        sh.row += 1;
        sh.header(&[
            l.pick("省份", "Province"),
            l.pick("单位数", "Units"),
            l.pick("平均分", "Mean"),
            l.pick("省内标准差", "Within SD"),
            l.pick("上年平均分", "Previous mean"),
            l.pick("变化", "Change"),
            l.pick("上年省内标准差", "Previous within SD"),
        ])?;
        for g in &a.provinces.groups {
            sh.line(&[
                s(&g.group),
                nu(Some(g.n)),
                n(Some(g.mean)),
                n(g.sd),
                n(g.previous_mean),
                n(g.change),
                n(g.previous_sd),
            ])?;
        }
    }
    // Channel coverage and capability rates.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("渠道覆盖", "Channels"), note)?;
        sh.header(&[
            l.pick("渠道", "Channel"),
            l.pick("指标", "Indicator"),
            l.pick("覆盖率", "Share"),
            l.pick("上年", "Previous"),
        ])?;
        for c in &a.channels {
            sh.line(&[
                s(&c.channel),
                s(&c.indicator),
                n(Some(c.share)),
                n(c.previous_share),
            ])?;
        }
        sh.row += 1;
        sh.header(&[
            l.pick("能力", "Capability"),
            l.pick("名称", "Name"),
            l.pick("平均得分率", "Mean score rate"),
            l.pick("得分率高于阈值的单位占比", "Share above threshold"),
            l.pick("上年平均得分率", "Previous mean rate"),
            l.pick("上年占比", "Previous share"),
        ])?;
        for c in &a.capabilities {
            sh.line(&[
                s(&c.id),
                s(l.pick(&c.name_zh, &c.name_en)),
                n(c.mean_rate),
                n(c.share_above),
                n(c.previous_mean_rate),
                n(c.previous_share_above),
            ])?;
        }
    }
    // Method notes.
    {
        let mut sh = Sheet::new(&mut wb, l.pick("方法说明", "Method"), note)?;
        let params = serde_json::to_string(&e.params)?;
        let rows: Vec<(&str, String)> = vec![
            (l.pick("评价年份", "Year"), e.year.to_string()),
            (
                l.pick("指标体系", "Framework"),
                format!("{} {}", e.framework.id, e.framework.version),
            ),
            (
                l.pick("指标体系 SHA-256", "Framework SHA-256"),
                cx.framework_sha256.to_string(),
            ),
            (
                l.pick("计分方式", "Scale"),
                format!("{:?}", e.framework.scale),
            ),
            (l.pick("参数", "Parameters"), params),
            (
                l.pick("软件版本", "Software"),
                format!("govcap {}", cx.software_version),
            ),
            (
                l.pick("数据性质", "Data"),
                if e.synthetic {
                    l.pick("合成数据（演示）", "synthetic (demo)").into()
                } else {
                    l.pick("观测数据", "observed").into()
                },
            ),
        ];
        for (k, v) in rows {
            sh.line(&[s(k), s(v)])?;
        }
        for (name, sha) in cx.inputs {
            sh.line(&[s(l.pick("输入文件", "Input file")), s(name), s(sha)])?;
        }
        sh.row += 1;
        sh.header(&[
            "id",
            l.pick("上级", "Parent"),
            l.pick("名称", "Name"),
            l.pick("分值/权重", "Points / weight"),
            l.pick("计分规则", "Rule"),
            l.pick("采集方式", "Collection"),
        ])?;
        for nd in &e.nodes {
            sh.line(&[
                s(&nd.id),
                s(nd.parent.clone().unwrap_or_default()),
                s(l.pick(&nd.name_zh, &nd.name_en)),
                n(Some(nd.points)),
                s(nd.rule.clone().unwrap_or_default()),
                s(nd.collection.map(|c| c.as_str()).unwrap_or_default()),
            ])?;
        }
        sh.ws.set_column_width(0, 24)?;
        sh.ws.set_column_width(1, 40)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn node_name(e: &Evaluation, slot: usize, l: Lang) -> String {
    l.pick(&e.nodes[slot].name_zh, &e.nodes[slot].name_en)
        .to_string()
}

fn tier_label(e: &Evaluation, code: Option<&str>, l: Lang) -> String {
    let Some(code) = code else {
        return String::new();
    };
    e.tiers
        .as_ref()
        .and_then(|t| t.tiers.iter().find(|x| x.code == code))
        .map(|t| format!("{} {}", code, l.pick(&t.name_zh, &t.name_en)))
        .unwrap_or_else(|| code.to_string())
}
