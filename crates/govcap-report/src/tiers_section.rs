//! The summary page's tier section: the table of tiers (with their score intervals written
//! with the ends that belong to them), the tier charts and the sorted-score curve.

use std::fmt::Write as _;

use crate::charts::{self, tier_fill};
use crate::html::esc;
use crate::i18n::{opt, pct};
use crate::index::{figure, figure_wide, year_names};
use crate::Ctx;

pub(crate) fn tiers_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    let a = &c.a;
    if a.tiers.is_empty() {
        return;
    }
    let _ = write!(out, "<h2>{}</h2>", l.t("发展类型", "Development tiers"));
    // Table.
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table><thead><tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th>",
        l.t("类型", "Tier"),
        l.t("名称", "Name"),
        l.t("分数线", "Cut line"),
        l.t("平均得分", "Mean"),
        l.t("单位数", "Units"),
        l.t("占比", "Share"),
        l.t("分数区间", "Score range"),
    );
    if c.prev.is_some() {
        let py = c.prev_year().unwrap_or_default();
        let _ = write!(
            out,
            "<th class=\"n\">{py} {}</th><th class=\"n\">{py} {}</th><th class=\"n\">{py} {}</th><th class=\"n\">{}</th>",
            l.t("分数线", "cut line"),
            l.t("平均得分", "mean"),
            l.t("单位数", "units"),
            l.t("数量增幅", "Count growth"),
        );
    }
    out.push_str("</tr></thead><tbody>");
    let tiers = c.e.tiers.as_ref();
    let method = &c.e.params.tiers.method;
    for t in &a.tiers {
        // Tiers are listed highest first; the closure counts classes from the lowest.
        let range = tiers
            .and_then(|tt| {
                let k = tt.tiers.len();
                let pos = tt.tiers.iter().position(|x| x.code == t.code)?;
                let x = &tt.tiers[pos];
                Some(
                    method
                        .closure(k - 1 - pos, k)
                        .interval(x.lower_break, x.upper_break, 2),
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><span class=\"tier tier-{code}\">{code}</span></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&c.tier_name(&t.code)),
            opt(t.cut_line),
            opt(t.mean),
            t.count,
            pct(t.share),
            range,
            code = esc(&t.code),
        );
        if c.prev.is_some() {
            let _ = write!(
                out,
                "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                opt(t.previous_cut_line),
                opt(t.previous_mean),
                t.previous_count.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
                t.count_growth_pct
                    .map(|g| format!("{}{:.1}%", if g >= 0.0 { "+" } else { "\u{2212}" }, g.abs()))
                    .unwrap_or_else(|| "–".into()),
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    let closure_note = match method {
        govcap_core::classify::Method::Thresholds { .. } => l.t(
            "分数区间左闭右开，如 [60.00, 70.00)：得分等于分数线的单位归入较高一类，最高一类含其上端。分数线是每一类型实际的最低得分。",
            "Score ranges include their lower end, e.g. [60.00, 70.00): a score equal to a cut line goes to the higher tier; the top tier includes its upper end. The cut line is the lowest score actually in the tier.",
        ),
        _ => l.t(
            "分数区间左开右闭，如 (65.22, 73.98]：得分恰为区间下端的单位属于低一类，最低一类含其下端。分数线是每一类型实际的最低得分。",
            "Score ranges exclude their lower end, e.g. (65.22, 73.98]: a score exactly at the lower end belongs to the tier below; the lowest tier includes its lower end. The cut line is the lowest score actually in the tier.",
        ),
    };
    let _ = write!(out, "<p class=\"note\">{}</p>", esc(closure_note));
    tier_charts(c, out);
    score_curve(c, out);
}

/// The sub-level distribution and the tier means, counts and cut lines against last year.
fn tier_charts(c: &Ctx, out: &mut String) {
    let l = c.l;
    let a = &c.a;
    let mut grid = String::from("<div class=\"grid2\">");
    // Distribution over sub-levels.
    let bars: Vec<charts::Bar> = a
        .sublevels
        .iter()
        .map(|s| charts::Bar {
            label: s.label.clone(),
            value: s.count as f64,
            fill: tier_fill(&s.label[..1]).into(),
            note: s.count.to_string(),
        })
        .collect();
    figure(
        &mut grid,
        &charts::bars(
            l.t("各类型及级别的单位数", "Units per tier and sub-level"),
            l.t("单位数", "units"),
            &bars,
        ),
        l.t(
            "A、B、C 三类在类内按分数等分为三个级别（+、无符号、−）；颜色表示发展类型。",
            "Tiers A–C are each split into three sub-levels (+, plain, −); colour shows the tier.",
        ),
    );
    // Tier means, counts and cut lines against the previous year.
    let (pn, cn) = year_names(c);
    let cats: Vec<String> = a.tiers.iter().map(|t| t.code.clone()).collect();
    let series = |now: Vec<Option<f64>>, before: Vec<Option<f64>>| {
        let mut s = Vec::new();
        if c.prev.is_some() {
            s.push(charts::Series {
                name: pn.clone(),
                colour: charts::PREVIOUS.into(),
                values: before,
            });
        }
        s.push(charts::Series {
            name: cn.clone(),
            colour: charts::CURRENT.into(),
            values: now,
        });
        s
    };
    let panels = vec![
        charts::Panel {
            title: l.t("平均得分", "Mean score").into(),
            categories: cats.clone(),
            series: series(
                a.tiers.iter().map(|t| t.mean).collect(),
                a.tiers.iter().map(|t| t.previous_mean).collect(),
            ),
            decimals: 1,
        },
        charts::Panel {
            title: l.t("单位数", "Units").into(),
            categories: cats.clone(),
            series: series(
                a.tiers.iter().map(|t| Some(t.count as f64)).collect(),
                a.tiers
                    .iter()
                    .map(|t| t.previous_count.map(|x| x as f64))
                    .collect(),
            ),
            decimals: 0,
        },
        charts::Panel {
            title: l.t("分数线", "Cut line").into(),
            categories: cats,
            series: series(
                a.tiers.iter().map(|t| t.cut_line).collect(),
                a.tiers.iter().map(|t| t.previous_cut_line).collect(),
            ),
            decimals: 1,
        },
    ];
    figure(
        &mut grid,
        &charts::grouped(
            l.t(
                "各类型平均得分、单位数与分数线",
                "Tier means, counts and cut lines",
            ),
            &panels,
        ),
        l.t(
            "分数线是每一类型的最低得分。",
            "A cut line is the lowest score in its tier.",
        ),
    );
    grid.push_str("</div>");
    out.push_str(&grid);
}

/// The sorted-score curve with the tier breaks and the gaps the difference rule reads.
fn score_curve(c: &Ctx, out: &mut String) {
    let l = c.l;
    let a = &c.a;
    // Sorted-score curve.
    let totals: Vec<(f64, String)> =
        c.p.curve
            .points
            .iter()
            .map(|p| (p.total, p.tier.clone().unwrap_or_default()))
            .collect();
    let mut bands: Vec<charts::TierBand> = Vec::new();
    for (i, p) in c.p.curve.points.iter().enumerate() {
        let code = p.tier.clone().unwrap_or_default();
        match bands.last_mut() {
            Some(b) if b.code == code => b.last = i,
            _ => bands.push(charts::TierBand {
                label: format!("{} {}", code, c.tier_name(&code)),
                cut_line: a
                    .tiers
                    .iter()
                    .find(|t| t.code == code)
                    .and_then(|t| t.cut_line),
                code,
                first: i,
                last: i,
            }),
        }
    }
    figure_wide(
        out,
        &charts::score_curve(
            l.t("排序得分曲线与分档位置", "Sorted scores and where the tiers break"),
            &totals,
            &c.p.curve.gaps,
            &bands,
            (
                l.t("总分", "total score"),
                l.t("相邻单位的分差", "gap to the next unit"),
                l.t("名次", "rank"),
            ),
        ),
        l.t(
            "上图：每个点是一个单位，按总分从高到低排列；红色虚线是类型分界。下图：相邻两个单位的分差——差分趋势法在分差相对局部趋势跳升处分档。",
            "Top: each dot is a unit, from the highest total to the lowest; red dashed lines are the tier breaks. Bottom: the gap between neighbouring units — the difference-trend rule cuts where the gaps jump against their local trend.",
        ),
    );
}
