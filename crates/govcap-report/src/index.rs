//! `index.html`: the summary page — headline figures, generated findings, every chart of the
//! summary and the map.

use std::fmt::Write as _;

use crate::charts::{self, tier_fill};
use crate::findings::{dir, findings, Dir};
use crate::html::{esc, Links};
use crate::i18n::{num, opt, opt_pct, pct, signed, signed_pp, Lang};
use crate::map::{render_map, MapLegendItem, MapOptions, MapUnit};
use crate::Ctx;

/// Map switch (tier / total score). Without scripts both maps show one after the other.
pub const MAP_SCRIPT: &str = r#"(function(){var ms=document.querySelectorAll('.maps');for(var i=0;i<ms.length;i++){(function(m){var sel=m.querySelector('.map-prov');if(sel){sel.addEventListener('change',function(){var v=sel.value;var ps=m.querySelectorAll('path[data-code]');for(var q=0;q<ps.length;q++){ps[q].classList.toggle('dim',v!==''&&ps[q].getAttribute('data-prov')!==v);}});}var bs=m.querySelectorAll('.map-switch button');for(var j=0;j<bs.length;j++){bs[j].addEventListener('click',function(){var s=this.getAttribute('data-map')==='score';m.classList.toggle('show-score',s);for(var k=0;k<bs.length;k++){bs[k].setAttribute('aria-pressed',String(bs[k]===this));}});}})(ms[i]);}})();"#;

pub fn page(c: &Ctx) -> String {
    let links = Links::Site { depth: 0 };
    c.page(links, &c.title(), Some(0), &body(c, links), MAP_SCRIPT)
}

/// A KPI card: label, value, and a delta line (coloured by whether it is good news).
fn kpi(label: &str, value: &str, delta: Option<(String, Option<bool>)>) -> String {
    let mut s = format!(
        "<div class=\"kpi\"><div class=\"label\">{}</div><div class=\"value\">{}</div>",
        esc(label),
        esc(value)
    );
    if let Some((d, good)) = delta {
        let class = match good {
            Some(true) => " up",
            Some(false) => " down",
            None => "",
        };
        let _ = write!(s, "<div class=\"delta{class}\">{}</div>", esc(&d));
    }
    s.push_str("</div>");
    s
}

fn vs(c: &Ctx) -> String {
    c.prev_year()
        .map(|y| match c.l {
            Lang::Zh => format!("较{y}年 "),
            Lang::En => format!("vs {y}: "),
        })
        .unwrap_or_default()
}

/// Delta text and whether the change is good news (`higher_is_better`).
fn delta(
    c: &Ctx,
    now: Option<f64>,
    before: Option<f64>,
    higher_is_better: bool,
) -> Option<(String, Option<bool>)> {
    let (n, b) = (now?, before?);
    let good = match dir(b, n) {
        Dir::Up => Some(higher_is_better),
        Dir::Down => Some(!higher_is_better),
        Dir::Same => None,
    };
    Some((format!("{}{}", vs(c), signed(n - b)), good))
}

pub fn body(c: &Ctx, links: Links) -> String {
    let l = c.l;
    let a = &c.a;
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(out, "<h1>{}</h1>", esc(&c.title()));
    let sub = match (l, c.prev_year()) {
        (Lang::Zh, Some(py)) => format!(
            "评价单位{}个 · 指标体系 {} {} · 与{py}年比较",
            a.summary.units, c.e.framework.name_zh, c.e.framework.version
        ),
        (Lang::Zh, None) => format!(
            "评价单位{}个 · 指标体系 {} {}",
            a.summary.units, c.e.framework.name_zh, c.e.framework.version
        ),
        (Lang::En, Some(py)) => format!(
            "{} units evaluated · framework {} {} · compared with {py}",
            a.summary.units, c.e.framework.name_en, c.e.framework.version
        ),
        (Lang::En, None) => format!(
            "{} units evaluated · framework {} {}",
            a.summary.units, c.e.framework.name_en, c.e.framework.version
        ),
    };
    let _ = write!(out, "<p class=\"sub\">{}</p>", esc(&sub));

    // Headline figures.
    out.push_str("<div class=\"kpis\">");
    out.push_str(&kpi(
        l.t("平均得分", "Mean score"),
        &opt(a.summary.mean),
        delta(c, a.summary.mean, a.summary.previous_mean, true),
    ));
    out.push_str(&kpi(
        l.t("最高分 / 最低分", "Highest / lowest"),
        &format!("{} / {}", opt(a.summary.max), opt(a.summary.min)),
        Some((
            format!("{} {}", l.t("中位数", "median"), opt(a.summary.median)),
            None,
        )),
    ));
    if let Some(top) = a.tiers.first() {
        out.push_str(&kpi(
            &format!("{}{}", c.tier_name(&top.code), l.t("类分数线", " cut line")),
            &opt(top.cut_line),
            delta(c, top.cut_line, top.previous_cut_line, true),
        ));
        out.push_str(&kpi(
            &format!("{}{}", c.tier_name(&top.code), l.t("类单位数", " units")),
            &top.count.to_string(),
            top.previous_count.map(|p| {
                let d = top.count as i64 - p as i64;
                (
                    format!(
                        "{}{}{}",
                        vs(c),
                        crate::i18n::signed_int(d),
                        top.count_growth_pct
                            .map(|g| format!(" ({}{:.0}%)", if g >= 0.0 { "+" } else { "" }, g))
                            .unwrap_or_default()
                    ),
                    (d != 0).then_some(d > 0),
                )
            }),
        ));
    }
    let h = &a.regions.headline;
    out.push_str(&kpi(
        &format!(
            "{} / {}{}",
            l.region(&h.numerator),
            l.region(&h.denominator),
            l.t("均值之比", " mean ratio")
        ),
        &opt_pct(h.ratio),
        h.ratio.zip(h.previous_ratio).map(|(n, b)| {
            (
                format!("{}{} pp", vs(c), signed_pp(n - b)),
                match dir(b * 100.0, n * 100.0) {
                    Dir::Up => Some(true),
                    Dir::Down => Some(false),
                    Dir::Same => None,
                },
            )
        }),
    ));
    out.push_str(&kpi(
        l.t("省均值标准差", "SD of province means"),
        &opt(a.provinces.sd_of_means),
        delta(
            c,
            a.provinces.sd_of_means,
            a.provinces.previous_sd_of_means,
            false,
        ),
    ));
    out.push_str("</div>");

    // Findings.
    let _ = write!(
        out,
        "<h2>{}</h2><ul class=\"findings\">",
        l.t("主要发现", "Key findings")
    );
    for s in findings(c) {
        let _ = write!(out, "<li>{}</li>", esc(&s));
    }
    out.push_str("</ul>");
    if let Some(p) = crate::uncertainty::summary_note(c, links) {
        out.push_str(&p);
    }

    crate::tiers_section::tiers_section(c, &mut out);
    map_section(c, &mut out, links);
    regions_section(c, &mut out);
    provinces_section(c, &mut out);
    capabilities_section(c, &mut out);
    channels_section(c, &mut out);
    disparity_section(c, &mut out);
    units_section(c, &mut out, links);
    out
}

/// The visible title of a chart: its `aria-label` (already escaped by `charts`).
fn chart_title(svg: &str) -> &str {
    svg.split_once("aria-label=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(t, _)| t)
        .unwrap_or("")
}

fn figure_with(out: &mut String, class: &str, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure class=\"chart{class}\"><div class=\"chart-title\">{}</div>{svg}<figcaption>{}</figcaption></figure>",
        chart_title(svg),
        esc(caption)
    );
}

/// A chart in a grid cell.
pub(crate) fn figure(out: &mut String, svg: &str, caption: &str) {
    figure_with(out, "", svg, caption)
}

/// A chart alone on its row, kept to a readable width.
fn figure_solo(out: &mut String, svg: &str, caption: &str) {
    figure_with(out, " solo", svg, caption)
}

/// A wide chart (drawn on a wider canvas) spanning the page.
pub(crate) fn figure_wide(out: &mut String, svg: &str, caption: &str) {
    figure_with(out, " wide", svg, caption)
}

pub(crate) fn year_names(c: &Ctx) -> (String, String) {
    let y = c.year().to_string();
    let p = c
        .prev_year()
        .map(|p| p.to_string())
        .unwrap_or_else(|| c.l.t("上年", "previous").to_string());
    match c.l {
        Lang::Zh => (format!("{p}年"), format!("{y}年")),
        Lang::En => (p, y),
    }
}

/// Sequential palette for the score map (light to dark).
const SCORE_PALETTE: [&str; 7] = [
    "#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84",
];

fn map_section(c: &Ctx, out: &mut String, links: Links) {
    let l = c.l;
    let a = &c.a;
    let scored: Vec<_> = c.e.units.iter().filter(|u| u.total.is_some()).collect();
    let (lo, hi) = (a.summary.min.unwrap_or(0.0), a.summary.max.unwrap_or(100.0));
    let (start, end, step) = crate::charts::nice_range(lo, hi, 6);
    let nbins = (((end - start) / step).round() as usize).max(1);
    let colour = |k: usize| {
        let idx = if nbins == 1 {
            SCORE_PALETTE.len() - 1
        } else {
            k * (SCORE_PALETTE.len() - 1) / (nbins - 1)
        };
        SCORE_PALETTE[idx.min(SCORE_PALETTE.len() - 1)]
    };
    let bin = |t: f64| ((((t - start) / step).floor()).max(0.0) as usize).min(nbins - 1);
    let tip = |u: &govcap_core::evaluate::UnitResult| {
        let mut s = format!("{} · {}", l.unit_name(u), opt(u.total));
        if let Some(t) = &u.tier {
            let _ = write!(
                s,
                " · {} {}",
                u.sublevel.as_deref().unwrap_or(t),
                c.tier_name(t)
            );
        }
        if let Some(r) = u.rank {
            let _ = write!(s, " · {}{r}", l.t("第", "rank "));
            if l == Lang::Zh {
                s.push('名');
            }
        }
        s
    };
    let tier_units: Vec<MapUnit> = scored
        .iter()
        .map(|u| {
            let t = u.tier.as_deref().unwrap_or("none");
            MapUnit {
                code: u.code.clone(),
                name: l.unit_name(u).to_string(),
                class: format!("tier-{t}"),
                fill: tier_fill(t).to_string(),
                tooltip: tip(u),
                href: Some(links.unit(&u.code)),
                group: u.province.clone(),
            }
        })
        .collect();
    let score_units: Vec<MapUnit> = scored
        .iter()
        .map(|u| {
            let k = bin(u.total.unwrap_or(start));
            MapUnit {
                code: u.code.clone(),
                name: l.unit_name(u).to_string(),
                class: format!("score-{k}"),
                fill: colour(k).to_string(),
                tooltip: tip(u),
                href: Some(links.unit(&u.code)),
                group: u.province.clone(),
            }
        })
        .collect();
    let note = match l {
        Lang::Zh => format!("{}年评价结果", c.year()),
        Lang::En => format!("{} evaluation", c.year()),
    };
    let not_eval = l.t("未参评", "Not evaluated").to_string();
    let tier_legend: Vec<MapLegendItem> = a
        .tiers
        .iter()
        .map(|t| MapLegendItem {
            label: format!("{} {}（{}）", t.code, c.tier_name(&t.code), t.count)
                .replace('（', if l == Lang::En { " (" } else { "（" })
                .replace('）', if l == Lang::En { ")" } else { "）" }),
            fill: tier_fill(&t.code).to_string(),
        })
        .collect();
    let score_legend: Vec<MapLegendItem> = (0..nbins)
        .rev()
        .map(|k| MapLegendItem {
            label: format!(
                "{}–{}",
                start + step * k as f64,
                start + step * (k + 1) as f64
            ),
            fill: colour(k).to_string(),
        })
        .collect();
    let tier_map = render_map(
        &tier_units,
        &MapOptions {
            title: l.t("发展类型分布", "Development tiers").into(),
            legend: tier_legend,
            not_evaluated_label: not_eval.clone(),
            source_note: note.clone(),
            width: 960.0,
        },
    );
    let score_map = render_map(
        &score_units,
        &MapOptions {
            title: l.t("总分分布", "Total score").into(),
            legend: score_legend,
            not_evaluated_label: not_eval,
            source_note: note,
            width: 960.0,
        },
    );
    let mut provinces: Vec<&str> = scored
        .iter()
        .filter_map(|u| u.province.as_deref())
        .collect();
    provinces.sort_unstable();
    provinces.dedup();
    let prov_options: String = provinces
        .iter()
        .map(|p| format!("<option value=\"{0}\">{0}</option>", esc(p)))
        .collect();
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"maps\"><div class=\"map-switch jsonly\" role=\"group\"><label>{} <select class=\"map-prov\"><option value=\"\">{}</option>{prov_options}</select></label> <button type=\"button\" data-map=\"tier\" aria-pressed=\"true\">{}</button> <button type=\"button\" data-map=\"score\" aria-pressed=\"false\">{}</button></div><div class=\"map map-tier\">{tier_map}</div><div class=\"map map-score\">{score_map}</div></div><p class=\"note\">{}</p>",
        l.t("地图", "Map"),
        l.t("省份", "Province"),
        l.t("全部省份", "All provinces"),
        l.t("按发展类型", "By tier"),
        l.t("按总分", "By total score"),
        esc(l.t(
            "鼠标悬停可查看单位名称、得分与类型，点击打开单位页面。灰色为未参评地区（含省直辖县级行政单位及港澳台地区）。边界数据未经审图，仅用于示意。",
            "Hover a unit for its name, score and tier; click it to open its page. Grey areas were not evaluated (including province-administered counties, Hong Kong, Macau and Taiwan). Boundaries are illustrative and have no map approval number.",
        ))
    );
}

fn regions_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    let r = &c.a.regions;
    if r.groups.is_empty() {
        return;
    }
    let _ = write!(out, "<h2>{}</h2>", l.t("区域比较", "The four regions"));
    let (pn, cn) = year_names(c);
    let mut series = Vec::new();
    if c.prev.is_some() {
        series.push(charts::Series {
            name: pn,
            colour: charts::PREVIOUS.into(),
            values: r.groups.iter().map(|g| g.previous_mean).collect(),
        });
    }
    series.push(charts::Series {
        name: cn,
        colour: charts::CURRENT.into(),
        values: r.groups.iter().map(|g| Some(g.mean)).collect(),
    });
    let mut grid = String::from("<div class=\"grid2\">");
    figure(
        &mut grid,
        &charts::grouped(
            l.t("四大区域平均得分", "Mean score by region"),
            &[charts::Panel {
                title: l.t("平均得分", "Mean score").into(),
                categories: r
                    .groups
                    .iter()
                    .map(|g| l.region(&g.group).to_string())
                    .collect(),
                series,
                decimals: 2,
            }],
        ),
        l.t(
            "区域按国家统计局四大区域划分。",
            "Regions are the NBS four regions.",
        ),
    );
    let _ = write!(
        grid,
        "<div class=\"tablewrap\"><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("区域", "Region"),
        l.t("单位数", "Units"),
        l.t("平均得分", "Mean"),
        l.t("标准差", "SD"),
        l.t("较上年", "Change"),
        format_args!("{} {}", l.t("占", "share of"), l.region(&r.headline.denominator)),
    );
    for g in &r.groups {
        let ratio = r
            .ratio_to_reference
            .iter()
            .find(|x| x.0 == g.group)
            .map(|x| pct(x.1))
            .unwrap_or_else(|| "–".into());
        let _ = write!(
            grid,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{ratio}</td></tr>",
            esc(l.region(&g.group)),
            g.n,
            num(g.mean),
            opt(g.sd),
            g.change.map(signed).unwrap_or_else(|| "–".into()),
        );
    }
    grid.push_str("</tbody></table></div></div>");
    out.push_str(&grid);
}

fn provinces_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    let p = &c.a.provinces;
    if p.groups.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h2>{}</h2>",
        l.t("省际与省内差距", "Gaps between and within provinces")
    );
    let mut groups: Vec<_> = p.groups.iter().collect();
    groups.sort_by(|a, b| b.mean.total_cmp(&a.mean).then(a.group.cmp(&b.group)));
    let (pn, cn) = year_names(c);
    let rows: Vec<charts::RangeRow> = groups
        .iter()
        .map(|g| charts::RangeRow {
            label: l.province(&g.group).to_string(),
            mid: g.mean,
            lo: g.sd.map(|s| g.mean - s),
            hi: g.sd.map(|s| g.mean + s),
            previous: g.previous_mean,
            tip: format!(
                "{} · {} {} · SD {} · n = {}{}",
                l.province(&g.group),
                l.t("平均", "mean"),
                num(g.mean),
                opt(g.sd),
                g.n,
                g.change
                    .map(|d| format!(" · {}{}", vs(c), signed(d)))
                    .unwrap_or_default()
            ),
        })
        .collect();
    let mut grid = String::new();
    figure_solo(
        &mut grid,
        &charts::ranges(
            l.t("各省平均得分（按高低排列）及省内离散程度", "Province means, ranked, with their spread"),
            l.t("平均得分", "mean score"),
            &rows,
            (&cn, l.t("±1 标准差", "± 1 SD"), &pn),
        ),
        &match (l, p.sd_of_means) {
            (Lang::Zh, Some(sd)) => format!(
                "实心点为{cn}平均分，虚线为 ±1 个省内标准差，空心点为{pn}平均分。各省平均分的标准差：{}{}。",
                num(sd),
                p.previous_sd_of_means
                    .map(|x| format!("（{pn}为 {}）", num(x)))
                    .unwrap_or_default()
            ),
            (Lang::En, Some(sd)) => format!(
                "Filled dots: {cn} means; dashed: ± 1 within-province SD; hollow dots: {pn} means. SD of the province means: {}{}.",
                num(sd),
                p.previous_sd_of_means
                    .map(|x| format!(" ({pn}: {})", num(x)))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        },
    );
    let mut sd_groups: Vec<_> = p.groups.iter().filter(|g| g.sd.is_some()).collect();
    sd_groups.sort_by(|a, b| {
        b.sd.unwrap_or(0.0)
            .total_cmp(&a.sd.unwrap_or(0.0))
            .then(a.group.cmp(&b.group))
    });
    let rows: Vec<charts::ChangeRow> = sd_groups
        .iter()
        .map(|g| charts::ChangeRow {
            label: l.province(&g.group).to_string(),
            from: g.previous_sd,
            to: g.sd.unwrap_or(0.0),
            tip: format!(
                "{} · SD {}{}",
                l.province(&g.group),
                opt(g.sd),
                g.previous_sd
                    .map(|x| format!(" ({pn}: {})", num(x)))
                    .unwrap_or_default()
            ),
        })
        .collect();
    figure_solo(
        &mut grid,
        &charts::changes(
            l.t("省内各单位得分的标准差及其变化", "Within-province SD of scores and its change"),
            l.t("省内标准差（分）", "within-province SD (points)"),
            &rows,
            (&pn, &cn),
        ),
        &match l {
            Lang::Zh => format!(
                "绿色连线表示标准差下降（省内差距缩小），红色表示上升。只有一个参评单位的省级行政区（直辖市）无省内标准差。{}",
                if p.within_sd_compared > 0 {
                    format!("{}个可比省份中{}个下降。", p.within_sd_compared, p.within_sd_fell)
                } else {
                    String::new()
                }
            ),
            Lang::En => format!(
                "Green: the SD fell (gaps narrowed); red: it rose. Provinces with one evaluated unit (municipalities) have no within-province SD.{}",
                if p.within_sd_compared > 0 {
                    format!(" It fell in {} of {} comparable provinces.", p.within_sd_fell, p.within_sd_compared)
                } else {
                    String::new()
                }
            ),
        },
    );
    out.push_str(&grid);
}

fn capabilities_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    let a = &c.a;
    let _ = write!(
        out,
        "<h2>{}</h2>",
        l.t("能力得分率", "Capability score rates")
    );
    let (pn, cn) = year_names(c);
    let panels: Vec<charts::Hist> =
        c.p.distributions
            .iter()
            .map(|d| charts::Hist {
                title: c.node_name(&d.id),
                counts: d.counts.clone(),
                previous: d.previous_counts.clone(),
            })
            .collect();
    let th = crate::i18n::pct_short(a.rate_threshold);
    let mut grid = String::new();
    if !panels.is_empty() {
        figure_wide(
            &mut grid,
            &charts::histograms(
                l.t("一级能力得分率分布", "Score-rate distribution per first-level capability"),
                &panels,
                a.rate_threshold,
                (&pn, &cn),
            ),
            &match l {
                Lang::Zh => format!(
                    "每根柱为5个百分点区间内的单位数；灰色折线为{pn}分布；红色虚线为 {} 得分率。",
                    th
                ),
                Lang::En => format!(
                    "Each bar counts the units in a 5-point band of score rate; grey outline: {pn}; red dashed line: the {} threshold.",
                    th
                ),
            },
        );
    }
    let _ = write!(
        grid,
        "<div class=\"tablewrap\"><table><thead><tr><th class=\"name\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("能力", "Capability"),
        l.t("平均得分率", "Mean rate"),
        l.t("较上年", "Change"),
        match l {
            Lang::Zh => format!("得分率>{th}占比"),
            Lang::En => format!("Share > {th}"),
        },
        l.t("较上年", "Change"),
    );
    for cap in &a.capabilities {
        let d = |now: Option<f64>, before: Option<f64>| {
            now.zip(before)
                .map(|(n, b)| format!("{} pp", signed_pp(n - b)))
                .unwrap_or_else(|| "–".into())
        };
        let _ = write!(
            grid,
            "<tr class=\"l{}\"><td class=\"name\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            cap.depth,
            esc(&c.node_name(&cap.id)),
            opt_pct(cap.mean_rate),
            d(cap.mean_rate, cap.previous_mean_rate),
            opt_pct(cap.share_above),
            d(cap.share_above, cap.previous_share_above),
        );
    }
    grid.push_str("</tbody></table></div>");
    out.push_str(&grid);
}

fn channels_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    if c.a.channels.is_empty() {
        return;
    }
    let _ = write!(out, "<h2>{}</h2>", l.t("渠道覆盖", "Channel coverage"));
    let (pn, cn) = year_names(c);
    let rows: Vec<charts::ShareRow> =
        c.a.channels
            .iter()
            .map(|ch| charts::ShareRow {
                label: l
                    .channel(&ch.channel)
                    .map(str::to_string)
                    .unwrap_or_else(|| c.node_name(&ch.indicator)),
                value: ch.share,
                previous: ch.previous_share,
            })
            .collect();
    figure_solo(
        out,
        &charts::shares(
            l.t("开通各渠道的单位占比", "Share of units with each channel"),
            &rows,
            (&pn, &cn),
        ),
        &match l {
            Lang::Zh => format!("蓝色条为{cn}占比，深灰竖线为{pn}占比。单位在该指标上有非零的观测值即计为开通（补缺值不计）。"),
            Lang::En => format!("Blue bars: {cn}; dark ticks: {pn}. A unit counts when its observed (not imputed) value on the indicator is above zero."),
        },
    );
}

fn disparity_section(c: &Ctx, out: &mut String) {
    let l = c.l;
    let d = &c.a.disparity;
    let Some(region) = &d.by_region else {
        return;
    };
    let _ = write!(out, "<h2>{}</h2>", l.t("差距指数", "Disparity indices"));
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">Gini</th><th class=\"n\">Theil T</th><th class=\"n\">{}</th><th class=\"n\">MLD</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("分组", "Grouping"),
        l.t("变异系数", "CV"),
        l.t("Theil 组间占比", "Theil between share"),
        l.t("MLD 组间占比", "MLD between share"),
    );
    let share = |a: f64, b: f64| if b > 0.0 { pct(a / b) } else { "–".into() };
    let mut row = |label: String, x: &govcap_core::analyse::disparity::Disparity| {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.5}</td><td class=\"n\">{}</td><td class=\"n\">{:.5}</td><td class=\"n\">{}</td></tr>",
            esc(&label),
            x.cv,
            x.gini,
            x.theil.total,
            share(x.theil.between, x.theil.total),
            x.mld.total,
            share(x.mld.between, x.mld.total),
        );
    };
    let (pn, cn) = year_names(c);
    row(format!("{} · {cn}", l.t("按区域", "by region")), region);
    if let Some(x) = &d.previous_by_region {
        row(format!("{} · {pn}", l.t("按区域", "by region")), x);
    }
    if let Some(x) = &d.by_province {
        row(format!("{} · {cn}", l.t("按省份", "by province")), x);
    }
    if let Some(x) = &d.previous_by_province {
        row(format!("{} · {pn}", l.t("按省份", "by province")), x);
    }
    out.push_str("</tbody></table></div>");
    let _ = write!(
        out,
        "<p class=\"note\">{}</p>",
        esc(l.t(
            "变异系数=样本标准差/均值；Gini、Theil T（GE(1)）与平均对数偏差 MLD（GE(0)）越小越均衡；组间占比为总差距中由组间均值差异解释的部分。",
            "CV = sample SD / mean; Gini, Theil T (GE(1)) and the mean log deviation (GE(0)) are lower when scores are more even; the between share is the part of the total explained by differences between group means.",
        ))
    );
    if !c.a.tier_moves.is_empty() {
        let codes: Vec<&str> = c.a.tiers.iter().map(|t| t.code.as_str()).collect();
        let (pn, cn) = year_names(c);
        let _ = write!(
            out,
            "<h3>{}</h3><div class=\"tablewrap\"><table class=\"compact\"><thead><tr><th>{} \\ {}</th>",
            l.t("类型变动", "Tier moves"),
            esc(&pn),
            esc(&cn)
        );
        for code in &codes {
            let _ = write!(out, "<th class=\"n\">{}</th>", esc(code));
        }
        out.push_str("</tr></thead><tbody>");
        for from in &codes {
            let _ = write!(out, "<tr><th>{}</th>", esc(from));
            for to in &codes {
                let n =
                    c.a.tier_moves
                        .iter()
                        .find(|m| m.from == *from && m.to == *to)
                        .map(|m| m.count)
                        .unwrap_or(0);
                let _ = write!(out, "<td class=\"n\">{n}</td>");
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
    }
}

fn units_section(c: &Ctx, out: &mut String, links: Links) {
    let l = c.l;
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"grid2\"><div><h3>{}</h3><div class=\"tablewrap\"><table><thead><tr><th class=\"n\">{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
        l.t("单位", "Units"),
        l.t("前十名", "Top ten"),
        l.t("名次", "Rank"),
        l.t("单位", "Unit"),
        l.t("省份", "Province"),
        l.t("总分", "Total"),
        l.t("类型", "Tier"),
    );
    for p in c.p.curve.points.iter().take(10) {
        let Some(u) = c.unit(&p.code) else { continue };
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            u.rank.map(|r| r.to_string()).unwrap_or_default(),
            links.unit(&u.code),
            esc(l.unit_name(u)),
            esc(l.province(u.province.as_deref().unwrap_or(""))),
            num(p.total),
            tier_badge(u),
        );
    }
    out.push_str("</tbody></table></div></div>");
    if !c.p.risers.is_empty() {
        let _ = write!(
            out,
            "<div><h3>{}</h3><div class=\"tablewrap\"><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
            l.t("进步最大", "Largest gains"),
            l.t("单位", "Unit"),
            l.t("总分", "Total"),
            l.t("得分变化", "Change"),
            l.t("名次变化", "Places"),
        );
        for m in &c.p.risers {
            let Some(u) = c.unit(&m.code) else { continue };
            let _ = write!(
                out,
                "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n up\">{}</td><td class=\"n\">{}</td></tr>",
                links.unit(&u.code),
                esc(l.unit_name(u)),
                opt(u.total),
                signed(m.total_change),
                m.rank_change.map(crate::i18n::signed_int).unwrap_or_else(|| "–".into()),
            );
        }
        out.push_str("</tbody></table></div></div>");
    }
    out.push_str("</div>");
    let _ = write!(
        out,
        "<p><a href=\"{}\">{}</a></p>",
        links.ranking(),
        l.t("查看全部单位排名 →", "See the ranking of all units →")
    );
}

/// The tier badge of a unit: sub-level label on the tier colour.
pub fn tier_badge(u: &govcap_core::evaluate::UnitResult) -> String {
    match &u.tier {
        Some(t) => format!(
            "<span class=\"tier tier-{}\">{}</span>",
            esc(t),
            esc(u.sublevel.as_deref().unwrap_or(t))
        ),
        None => "<span class=\"tier tier-none\">–</span>".into(),
    }
}
