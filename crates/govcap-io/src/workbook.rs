//! `results.xlsx`: the workbook an analyst hands on. Every figure has a label; numbers are
//! stored to the 15 significant digits Excel shows and displayed with a fixed format (scores
//! 0.00, shares 0.00 %, counts 0, indices 0.0000); the main table of each sheet has filters
//! and a frozen header; the Chinese workbook shows no internal key (`govcap_core::vocab`).

use govcap_core::analyse::figures::Analyses;
use govcap_core::evaluate::{Evaluation, UnitResult};
use govcap_core::framework::Scale;
use govcap_core::vocab::{self, Tongue};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::export::{by_rank, max_depth, rank_change, slots_at, ExportError, Lang};

/// Everything `results.xlsx` needs besides the evaluation itself.
pub struct WorkbookContext<'a> {
    pub analyses: &'a Analyses,
    pub previous: Option<&'a Evaluation>,
    pub framework_sha256: &'a str,
    pub inputs: &'a [(String, String)],
    pub software_version: &'a str,
    pub lang: Lang,
}

/// One worksheet being written: a cursor, the cell formats, and the sheet's main table (the
/// first header written), which gets the autofilter and the frozen header.
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    row: u32,
    bold: Format,
    score: Format,
    share: Format,
    count: Format,
    index: Format,
    /// Columns frozen at the left of the main table (code and name on wide sheets).
    freeze_cols: u16,
    /// Main table: header row, columns, last data row so far; closed by [`Sheet::gap`].
    table: Option<(u32, u16, u32)>,
    table_open: bool,
    /// Widest text per column, in display cells (CJK characters count twice).
    widths: Vec<usize>,
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
            score: Format::new().set_num_format("0.00"),
            share: Format::new().set_num_format("0.00%"),
            count: Format::new().set_num_format("0"),
            index: Format::new().set_num_format("0.0000"),
            freeze_cols: 0,
            table: None,
            table_open: false,
            widths: Vec::new(),
        };
        if let Some(note) = note {
            // The note is one long line: it must not widen the first column.
            sh.ws.write_string(sh.row, 0, note)?;
            sh.row += 1;
        }
        Ok(sh)
    }

    /// Freezes the first `n` columns of the main table too (set before its header).
    fn freeze_columns(mut self, n: u16) -> Self {
        self.freeze_cols = n;
        self
    }

    fn header(&mut self, cols: &[&str]) -> Result<(), XlsxError> {
        for (c, h) in cols.iter().enumerate() {
            self.ws
                .write_string_with_format(self.row, c as u16, *h, &self.bold)?;
            self.widen(c, h);
        }
        if self.table.is_none() {
            self.ws.set_freeze_panes(self.row + 1, self.freeze_cols)?;
            self.table = Some((self.row, cols.len() as u16, self.row));
            self.table_open = true;
        }
        self.row += 1;
        Ok(())
    }

    /// An empty row; it ends the main table.
    fn gap(&mut self) {
        self.table_open = false;
        self.row += 1;
    }

    fn widen(&mut self, c: usize, text: &str) {
        let w: usize = text
            .chars()
            .map(|ch| if ch.is_ascii() { 1 } else { 2 })
            .sum();
        if self.widths.len() <= c {
            self.widths.resize(c + 1, 0);
        }
        self.widths[c] = self.widths[c].max(w);
    }

    fn line(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let (x, format) = match cell {
                Cell::S(s) => {
                    self.ws.write_string(self.row, col, s)?;
                    self.widen(c, s);
                    continue;
                }
                Cell::N(x) => (x, &self.score),
                Cell::P(x) => (x, &self.share),
                Cell::I(x) => (x, &self.count),
                Cell::X(x) => (x, &self.index),
            };
            if let Some(x) = x.filter(|x| x.is_finite()) {
                self.ws
                    .write_number_with_format(self.row, col, clean(x), format)?;
                self.widen(c, "0000.00");
            }
        }
        if self.table_open {
            if let Some(t) = &mut self.table {
                t.2 = self.row;
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Filters on the main table and column widths that fit the text.
    fn finish(self) -> Result<(), XlsxError> {
        if let Some((first, cols, last)) = self.table {
            if last > first && cols > 0 {
                self.ws.autofilter(first, 0, last, cols - 1)?;
            }
        }
        for (c, w) in self.widths.iter().enumerate() {
            self.ws
                .set_column_width(c as u16, (*w as f64 + 2.0).clamp(8.0, 48.0))?;
        }
        Ok(())
    }
}

/// A number as Excel shows it anyway (15 significant digits): `2.0999999999999996` is
/// stored as 2.1, so a cell's value and its formula-bar text agree.
fn clean(x: f64) -> f64 {
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// A cell: text, or a number with its display format.
enum Cell {
    S(String),
    /// A score or mean: 0.00.
    N(Option<f64>),
    /// A share 0–1 shown as a percentage: 0.00 %.
    P(Option<f64>),
    /// A count or rank: 0.
    I(Option<f64>),
    /// An inequality index: 0.0000.
    X(Option<f64>),
}

fn s(x: impl Into<String>) -> Cell {
    Cell::S(x.into())
}

fn n(x: Option<f64>) -> Cell {
    Cell::N(x)
}

fn p(x: Option<f64>) -> Cell {
    Cell::P(x)
}

fn x4(x: Option<f64>) -> Cell {
    Cell::X(x)
}

fn nu(x: Option<usize>) -> Cell {
    Cell::I(x.map(|v| v as f64))
}

fn ni(x: Option<i64>) -> Cell {
    Cell::I(x.map(|v| v as f64))
}

/// `results.xlsx`: ranking, per-level scores, tiers, regional and provincial disparity,
/// channel coverage and method notes, with Chinese (default) or English headers.
pub fn results_xlsx(e: &Evaluation, cx: &WorkbookContext) -> Result<Vec<u8>, ExportError> {
    let l = cx.lang;
    let book = Book {
        e,
        cx,
        l,
        t: l.tongue(),
        a: cx.analyses,
        // Every sheet of a synthetic result opens with the note, so no sheet can be shown
        // alone without it.
        note: e.synthetic.then_some(l.pick(
            "注意：本结果基于合成（模拟）数据，仅供演示，不代表任何地方政府的真实水平。",
            "Note: these results come from SYNTHETIC data, for demonstration only; they do not describe any real government.",
        )),
    };
    let mut wb = Workbook::new();
    book.ranking_sheet(&mut wb)?;
    book.level_sheets(&mut wb)?;
    book.tiers_sheet(&mut wb)?;
    book.regions_sheet(&mut wb)?;
    book.provinces_sheet(&mut wb)?;
    book.channels_sheet(&mut wb)?;
    book.method_sheet(&mut wb)?;
    Ok(wb.save_to_buffer()?)
}

/// What every sheet of `results.xlsx` is written from.
struct Book<'a> {
    e: &'a Evaluation,
    cx: &'a WorkbookContext<'a>,
    l: Lang,
    t: Tongue,
    a: &'a Analyses,
    note: Option<&'static str>,
}

impl Book<'_> {
    fn name_of(&self, u: &UnitResult) -> String {
        if self.l == Lang::Zh || u.name_en.is_empty() {
            u.name.clone()
        } else {
            u.name_en.clone()
        }
    }

    fn node_of(&self, id: &str) -> Option<usize> {
        self.e.nodes.iter().position(|nd| nd.id == id)
    }

    /// Ranking: one row per unit, best first.
    fn ranking_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book {
            e, cx, l, t, note, ..
        } = *self;
        let mut sh = Sheet::new(wb, l.pick("排名", "Ranking"), note)?.freeze_columns(2);
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
                s(self.name_of(u)),
                s(vocab::province(
                    u.province.as_deref().unwrap_or_default(),
                    t,
                )),
                s(vocab::region(u.region.as_deref().unwrap_or_default(), t)),
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
            cells.push(ni(rank_change(cx.previous, u)));
            sh.line(&cells)?;
        }
        sh.finish()?;
        Ok(())
    }

    /// Per-level scores: one sheet per depth of the tree.
    fn level_sheets(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let (e, l, note) = (self.e, self.l, self.note);
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
            let mut sh = Sheet::new(wb, title, note)?.freeze_columns(2);
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
                let mut cells = vec![s(&u.code), s(self.name_of(u))];
                cells.extend(
                    slots
                        .iter()
                        .map(|&sl| n(u.scores[sl].points.or(u.scores[sl].value))),
                );
                sh.line(&cells)?;
            }
            sh.finish()?;
        }
        Ok(())
    }

    /// Tiers and sub-levels, with the rule that made them.
    fn tiers_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book { e, l, a, note, .. } = *self;
        let mut sh = Sheet::new(wb, l.pick("发展类型", "Tiers"), note)?;
        sh.header(&[
            l.pick("类型", "Tier"),
            l.pick("名称", "Name"),
            l.pick("分数线（类内最低分）", "Cut line (lowest in tier)"),
            l.pick("平均分", "Mean"),
            l.pick("数量", "Count"),
            l.pick("占比", "Share"),
            l.pick("上年分数线", "Previous cut line"),
            l.pick("上年平均分", "Previous mean"),
            l.pick("上年数量", "Previous count"),
            l.pick("数量增幅", "Count growth"),
        ])?;
        for ti in &a.tiers {
            sh.line(&[
                s(&ti.code),
                s(l.pick(&ti.name_zh, &ti.name_en)),
                n(ti.cut_line),
                n(ti.mean),
                nu(Some(ti.count)),
                p(Some(ti.share)),
                n(ti.previous_cut_line),
                n(ti.previous_mean),
                nu(ti.previous_count),
                p(ti.count_growth_pct.map(|g| g / 100.0)),
            ])?;
        }
        sh.gap();
        sh.line(&[s(vocab::tier_rule(&e.params.tiers, l.tongue()))])?;
        sh.gap();
        sh.header(&[
            l.pick("等级", "Sub-level"),
            l.pick("数量", "Count"),
            l.pick("占比", "Share"),
        ])?;
        for lv in &a.sublevels {
            sh.line(&[s(&lv.label), nu(Some(lv.count)), p(Some(lv.share))])?;
        }
        sh.finish()?;
        Ok(())
    }

    /// Regional disparity: group figures, the headline ratio, inequality measures.
    fn regions_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book { l, t, a, note, .. } = *self;
        let mut sh = Sheet::new(wb, l.pick("区域差异", "Regions"), note)?;
        // `ratio_to_reference` is against the 东部 mean (see `govcap_core::analyse`).
        let reference = "东部";
        let ratio_head = match l {
            Lang::Zh => format!("与{reference}之比"),
            Lang::En => format!("Ratio to {}", vocab::region(reference, t)),
        };
        sh.header(&[
            l.pick("区域", "Region"),
            l.pick("单位数", "Units"),
            l.pick("平均分", "Mean"),
            l.pick("标准差", "SD"),
            &ratio_head,
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
                s(vocab::region(&g.group, t)),
                nu(Some(g.n)),
                n(Some(g.mean)),
                n(g.sd),
                p(ratio),
                n(g.previous_mean),
                n(g.change),
            ])?;
        }
        sh.gap();
        sh.header(&[
            l.pick("指标", "Measure"),
            l.pick("本年", "This year"),
            l.pick("上年", "Previous year"),
        ])?;
        let h = &a.regions.headline;
        let headline = match l {
            Lang::Zh => format!("{}与{}平均分之比", h.numerator, h.denominator),
            Lang::En => format!(
                "Mean of {} over mean of {}",
                vocab::region(&h.numerator, t),
                vocab::region(&h.denominator, t)
            ),
        };
        sh.line(&[s(headline), p(h.ratio), p(h.previous_ratio)])?;
        if let Some(d) = &a.disparity.by_region {
            sh.gap();
            sh.header(&[
                l.pick("不平等指标", "Inequality measure"),
                l.pick("总体", "Total"),
                l.pick("区域间（净）", "Between regions (net)"),
                l.pick("区域内", "Within regions"),
                l.pick("重叠（超变密度）", "Overlap (transvariation)"),
            ])?;
            sh.line(&[
                s(l.pick("变异系数", "Coefficient of variation")),
                x4(Some(d.cv)),
            ])?;
            let g = &d.gini_decomposition;
            sh.line(&[
                s(l.pick("基尼系数（Dagum 分解）", "Gini (Dagum decomposition)")),
                x4(Some(d.gini)),
                x4(Some(g.between_net)),
                x4(Some(g.within)),
                x4(Some(g.transvariation)),
            ])?;
            sh.line(&[
                s(l.pick("泰尔指数 T", "Theil T")),
                x4(Some(d.theil.total)),
                x4(Some(d.theil.between)),
                x4(Some(d.theil.within)),
            ])?;
            sh.line(&[
                s(l.pick("平均对数偏差（MLD）", "Mean log deviation (MLD)")),
                x4(Some(d.mld.total)),
                x4(Some(d.mld.between)),
                x4(Some(d.mld.within)),
            ])?;
            sh.line(&[s(l.pick(
                "基尼系数 = 区域间（净）+ 区域内 + 重叠；泰尔指数与平均对数偏差 = 区域间 + 区域内。",
                "Gini = between (net) + within + overlap; Theil T and MLD = between + within.",
            ))])?;
        }
        sh.finish()?;
        Ok(())
    }

    /// Provincial disparity.
    fn provinces_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book { l, t, a, note, .. } = *self;
        let mut sh = Sheet::new(wb, l.pick("省域差异", "Provinces"), note)?;
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
                s(vocab::province(&g.group, t)),
                nu(Some(g.n)),
                n(Some(g.mean)),
                n(g.sd),
                n(g.previous_mean),
                n(g.change),
                n(g.previous_sd),
            ])?;
        }
        sh.gap();
        sh.header(&[
            l.pick("指标", "Measure"),
            l.pick("本年", "This year"),
            l.pick("上年", "Previous year"),
        ])?;
        sh.line(&[
            s(l.pick("各省平均分的标准差", "SD of the province means")),
            n(a.provinces.sd_of_means),
            n(a.provinces.previous_sd_of_means),
        ])?;
        sh.line(&[
            s(l.pick(
                "省内标准差下降的省份数",
                "Provinces whose within-province SD fell",
            )),
            nu(Some(a.provinces.within_sd_fell)),
        ])?;
        sh.line(&[
            s(l.pick("两年均可比较的省份数", "Provinces comparable in both years")),
            nu(Some(a.provinces.within_sd_compared)),
        ])?;
        sh.finish()?;
        Ok(())
    }

    /// Channel coverage and capability rates.
    fn channels_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book {
            e, l, t, a, note, ..
        } = *self;
        let mut sh = Sheet::new(wb, l.pick("渠道覆盖", "Channels"), note)?;
        sh.header(&[
            l.pick("渠道", "Channel"),
            l.pick("指标", "Indicator"),
            l.pick("覆盖率", "Share of units"),
            l.pick("上年覆盖率", "Previous share"),
        ])?;
        for c in &a.channels {
            let indicator = match self.node_of(&c.indicator) {
                Some(sl) => format!("{} {}", c.indicator, node_name(e, sl, l)),
                None => c.indicator.clone(),
            };
            sh.line(&[
                s(vocab::channel_or_tag(&c.channel, t)),
                s(indicator),
                p(Some(c.share)),
                p(c.previous_share),
            ])?;
        }
        sh.gap();
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
                p(c.mean_rate),
                p(c.share_above),
                p(c.previous_mean_rate),
                p(c.previous_share_above),
            ])?;
        }
        sh.finish()?;
        Ok(())
    }

    /// Method notes: the run's framework, rules, parameters and inputs.
    fn method_sheet(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let Book {
            e, cx, l, t, note, ..
        } = *self;
        let mut sh = Sheet::new(wb, l.pick("方法说明", "Method"), note)?;
        let rows: Vec<(&str, String)> = vec![
            (l.pick("评价年份", "Year"), e.year.to_string()),
            (
                l.pick("指标体系", "Framework"),
                format!(
                    "{} {}（{}）",
                    e.framework.id,
                    e.framework.version,
                    l.pick(&e.framework.name_zh, &e.framework.name_en)
                ),
            ),
            (
                l.pick("指标体系 SHA-256", "Framework SHA-256"),
                cx.framework_sha256.to_string(),
            ),
            (
                l.pick("计分方式", "Scale"),
                vocab::scale(e.framework.scale, t).to_string(),
            ),
            (
                l.pick("发展类型划分", "Tiers"),
                vocab::tier_rule(&e.params.tiers, l.tongue()),
            ),
            (
                l.pick("得分率阈值", "Score-rate threshold"),
                format!("{:.0}%", e.params.rate_threshold * 100.0),
            ),
            (
                l.pick(
                    "每个单位优先改进的指标数",
                    "Indicators to fix first per unit",
                ),
                e.params.fix_first.to_string(),
            ),
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
        sh.gap();
        let weight_head = match e.framework.scale {
            Scale::Points => l.pick("分值", "Points"),
            Scale::Weights => l.pick("权重", "Weight"),
        };
        sh.header(&[
            l.pick("指标编号", "Id"),
            l.pick("上级", "Parent"),
            l.pick("名称", "Name"),
            weight_head,
            l.pick("计分规则", "Rule"),
            l.pick("采集方式", "Collection"),
        ])?;
        for nd in &e.nodes {
            sh.line(&[
                s(&nd.id),
                s(nd.parent.clone().unwrap_or_default()),
                s(l.pick(&nd.name_zh, &nd.name_en)),
                n(Some(nd.points)),
                s(nd.rule
                    .as_deref()
                    .map(|r| vocab::rule(r, t))
                    .unwrap_or_default()),
                s(nd.collection
                    .map(|c| vocab::collection(c, t))
                    .unwrap_or_default()),
            ])?;
        }
        sh.finish()?;
        Ok(())
    }
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
