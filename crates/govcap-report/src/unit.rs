//! `units/<code>.html`: the page a city office reads about itself — scores and score rates at
//! every level against the nation and the top tier, the radar of the second-level rates, the
//! indicators with value, points, percentile and evidence, ranks, and what to fix first.

use std::fmt::Write as _;

use govcap_core::evaluate::{Gap, LeafInput, NodeInfo, UnitResult};
use govcap_core::framework::Scale;
use govcap_core::observation::{Source, Value};

use crate::charts;
use crate::html::{esc, Links};
use crate::i18n::{num, opt, opt_pct, signed, signed_int, Lang};
use crate::index::tier_badge;
use crate::ranking::num_short;
use crate::Ctx;

pub fn page(c: &Ctx, u: &UnitResult) -> String {
    let links = Links::Site { depth: 1 };
    let title = format!("{} · {}", c.l.unit_name(u), c.title());
    c.page(links, &title, None, &body(c, u, links), "")
}

fn kpi(label: &str, value_html: &str, delta: &str) -> String {
    format!(
        "<div class=\"kpi\"><div class=\"label\">{}</div><div class=\"value\">{value_html}</div><div class=\"delta\">{delta}</div></div>",
        esc(label)
    )
}

/// The observed value as a reader says it: a graded level by its label, never its key.
fn observed(l: Lang, node: &NodeInfo, v: &Option<Value>) -> String {
    match v {
        Some(Value::Number(x)) => {
            let s = format!("{x:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_string()
        }
        Some(Value::Text(t)) => match node.level(t) {
            Some(lv) => l.t(&lv.zh, &lv.en).to_string(),
            None => t.to_string(),
        },
        None => "–".into(),
    }
}

fn source_word(l: Lang, s: Source) -> &'static str {
    match s {
        Source::Auto => l.t("自动监测", "monitor"),
        Source::Manual => l.t("人工采集", "evaluator"),
        Source::Proposed => l.t("待确认", "proposed"),
        Source::Synthetic => l.t("合成", "synthetic"),
    }
}

/// Evidence cell: source, origin, and a link when the evidence is a web address.
fn evidence(l: Lang, leaf: &LeafInput) -> String {
    let mut parts = Vec::new();
    if let Some(s) = leaf.source {
        parts.push(esc(source_word(l, s)));
    }
    if leaf.imputed {
        parts.push(esc(l.t("补缺", "imputed")));
    }
    if let Some(url) = &leaf.evidence_url {
        if url.starts_with("https://") || url.starts_with("http://") {
            parts.push(format!(
                "<a href=\"{}\" rel=\"noopener noreferrer external\">{}</a>",
                esc(url),
                esc(l.t("证据", "evidence"))
            ));
        } else {
            parts.push(format!("<span class=\"mono\">{}</span>", esc(url)));
        }
    }
    let mut out = parts.join(" · ");
    if let Some(o) = &leaf.origin {
        // The file and row: useful on screen, left out of print to keep the table narrow.
        // The file name may break anywhere; the row reference never (a "7223" split over
        // two lines reads as two numbers).
        let _ = write!(
            out,
            "<span class=\"origin\">{}<span class=\"mono\">{}<span class=\"row-ref\">{}</span></span></span>",
            if out.is_empty() { "" } else { " · " },
            esc(&o.file),
            esc(&match l {
                Lang::Zh => format!(" 第{}行", o.row),
                Lang::En => format!(" row {}", o.row),
            })
        );
    }
    out
}

/// An action for the indicator `gap.id`, worded by its scoring rule.
fn action(c: &Ctx, gap: &Gap) -> String {
    let l = c.l;
    let name = c.node_name(&gap.id);
    let i = c.node_index(&gap.id);
    let node = i.map(|i| &c.e.nodes[i]);
    let rule = node.and_then(|n| n.rule.as_deref()).unwrap_or("");
    let verb = match (l, rule) {
        (Lang::Zh, "binary") => format!("补齐「{name}」"),
        (Lang::Zh, "ratio") => format!("提高「{name}」的覆盖比例"),
        (Lang::Zh, "count") => format!("增加「{name}」的数量"),
        (Lang::Zh, "graded") => format!("将「{name}」提升到更高档次"),
        (Lang::Zh, _) => format!("改进「{name}」"),
        (Lang::En, "binary") => format!("Put “{name}” in place"),
        (Lang::En, "ratio") => format!("Raise the coverage of “{name}”"),
        (Lang::En, "count") => format!("Add more of “{name}”"),
        (Lang::En, "graded") => format!("Bring “{name}” up a grade"),
        (Lang::En, _) => format!("Improve “{name}”"),
    };
    let top =
        c.p.top_tier
            .as_deref()
            .map(|t| c.tier_name(t))
            .unwrap_or_default();
    let points = c.e.framework.scale == Scale::Points;
    let max = node.map(|n| num_short(n.points)).unwrap_or_default();
    let detail = match (l, points) {
        (Lang::Zh, true) => format!(
            "：本单位得{}分（满分{max}分），{top}类平均{}分，差距{}分。",
            num(gap.score),
            num(gap.tier_a_mean),
            num(gap.gap)
        ),
        (Lang::Zh, false) => format!(
            "：本单位{}，{top}类平均{}，差距{}。",
            num(gap.score),
            num(gap.tier_a_mean),
            num(gap.gap)
        ),
        (Lang::En, true) => format!(
            ": {} of {max} points here, {} on average in the {top} tier (gap {}).",
            num(gap.score),
            num(gap.tier_a_mean),
            num(gap.gap)
        ),
        (Lang::En, false) => format!(
            ": {} here, {} on average in the {top} tier (gap {}).",
            num(gap.score),
            num(gap.tier_a_mean),
            num(gap.gap)
        ),
    };
    format!("{verb}{detail}")
}

pub fn body(c: &Ctx, u: &UnitResult, links: Links) -> String {
    let l = c.l;
    let e = c.e;
    let Some(ui) = c.unit_index(&u.code) else {
        return String::new();
    };
    let prof = &c.p.units[ui];
    let prov = u.province.as_deref().unwrap_or("");
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<p class=\"note\"><a href=\"{}\">{}</a></p><h1>{}{}</h1><p class=\"sub\">{}</p>",
        links.ranking(),
        l.t("← 全部单位排名", "← All units"),
        esc(l.unit_name(u)),
        if l == Lang::En && u.name != u.name_en {
            format!(" <span lang=\"zh-CN\">{}</span>", esc(&u.name))
        } else {
            String::new()
        },
        esc(&format!(
            "{} · {} · {} {} · {}",
            l.province(prov),
            l.region(u.region.as_deref().unwrap_or("")),
            l.t("代码", "code"),
            u.code,
            match l {
                Lang::Zh => format!("{}年评价", c.year()),
                Lang::En => format!("{} evaluation", c.year()),
            }
        ))
    );

    // Headline cards.
    let vs = c
        .prev_year()
        .map(|y| match l {
            Lang::Zh => format!("较{y}年 "),
            Lang::En => format!("vs {y}: "),
        })
        .unwrap_or_default();
    out.push_str("<div class=\"kpis\">");
    out.push_str(&kpi(
        l.t("总分", "Total score"),
        &esc(&opt(u.total)),
        &prof
            .total_change
            .map(|d| format!("{}{}", esc(&vs), esc(&signed(d))))
            .unwrap_or_else(|| {
                format!("{} {}", l.t("满分", "out of"), num_short(e.framework.total))
            }),
    ));
    out.push_str(&kpi(
        l.t("全国排名", "National rank"),
        &format!(
            "{}<small> / {}</small>",
            u.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
            prof.ranked
        ),
        &prof
            .rank_change
            .map(|d| match l {
                Lang::Zh if d > 0 => format!("{}上升{d}位", esc(&vs)),
                Lang::Zh if d < 0 => format!("{}下降{}位", esc(&vs), -d),
                Lang::Zh => format!("{}名次不变", esc(&vs)),
                Lang::En => format!("{}{} places", esc(&vs), esc(&signed_int(d))),
            })
            .unwrap_or_default(),
    ));
    out.push_str(&kpi(
        l.t("省内排名", "Rank in province"),
        &format!(
            "{}<small> / {}</small>",
            u.province_rank
                .map(|r| r.to_string())
                .unwrap_or_else(|| "–".into()),
            prof.province_size
        ),
        &esc(l.province(prov)),
    ));
    out.push_str(&kpi(
        l.t("发展类型", "Tier"),
        &format!(
            "{} <small>{}</small>",
            tier_badge(u),
            esc(&u
                .tier
                .as_deref()
                .map(|t| c.tier_name(t))
                .unwrap_or_default())
        ),
        &prof
            .previous
            .as_ref()
            .and_then(|p| p.sublevel.clone().or_else(|| p.tier.clone()))
            .map(|t| {
                format!(
                    "{} {}",
                    esc(&c.prev_year().map(|y| y.to_string()).unwrap_or_default()),
                    esc(&t)
                )
            })
            .unwrap_or_default(),
    ));
    out.push_str(&kpi(
        l.t("全国百分位", "National percentile"),
        &esc(&opt_pct(prof.total_percentile)),
        esc(l.t(
            "本单位得分高于该比例的其他单位",
            "of the other units score lower",
        ))
        .as_str(),
    ));
    if let Some(k) = crate::uncertainty::unit_kpi(c, u) {
        out.push_str(&k);
    }
    out.push_str("</div>");
    if let Some(p) = crate::uncertainty::unit_note(c, u, links) {
        out.push_str(&p);
    }

    // Radar and first-level summary.
    let seconds: Vec<usize> = e
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.depth == 2 && n.rule.is_none())
        .map(|(i, _)| i)
        .collect();
    let top_name =
        c.p.top_tier
            .as_deref()
            .map(|t| c.tier_name(t))
            .unwrap_or_default();
    let top_label = match l {
        Lang::Zh => format!("{top_name}类平均"),
        Lang::En => format!("{top_name} tier mean"),
    };
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"grid2\">",
        l.t("能力画像", "Capability profile")
    );
    if seconds.len() >= 3 {
        let axes: Vec<String> = seconds
            .iter()
            .map(|&s| l.node_name(&e.nodes[s]).to_string())
            .collect();
        let series = vec![
            charts::RadarSeries {
                name: l.t("全国平均", "National mean").into(),
                colour: charts::NATIONAL.into(),
                dashed: true,
                filled: false,
                values: seconds
                    .iter()
                    .map(|&s| c.p.benchmarks[s].national_mean_rate)
                    .collect(),
            },
            charts::RadarSeries {
                name: top_label.clone(),
                colour: charts::TOP_TIER.into(),
                dashed: true,
                filled: false,
                values: seconds
                    .iter()
                    .map(|&s| c.p.benchmarks[s].top_tier_mean_rate)
                    .collect(),
            },
            charts::RadarSeries {
                name: l.unit_name(u).to_string(),
                colour: charts::CURRENT.into(),
                dashed: false,
                filled: true,
                values: seconds.iter().map(|&s| prof.nodes[s].rate).collect(),
            },
        ];
        let _ = write!(
            out,
            "<figure class=\"chart\">{}<figcaption>{}</figcaption></figure>",
            charts::radar(
                &match l {
                    Lang::Zh => format!("{}二级能力得分率", l.unit_name(u)),
                    Lang::En => format!("{}: second-level score rates", l.unit_name(u)),
                },
                &axes,
                &series
            ),
            esc(l.t(
                "蓝色为本单位得分率，灰色虚线为全国平均，橙色虚线为最高类型平均。",
                "Blue: this unit's score rates; grey dashed: national mean; orange dashed: top-tier mean.",
            ))
        );
    }
    // First-level table.
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("能力", "Capability"),
        l.t("得分", "Points"),
        l.t("得分率", "Rate"),
        l.t("全国平均", "National"),
        esc(&top_label),
    );
    for (s, n) in e.nodes.iter().enumerate().filter(|(_, n)| n.rule.is_none()) {
        let np = &prof.nodes[s];
        let b = &c.p.benchmarks[s];
        let _ = write!(
            out,
            "<tr class=\"l{}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            n.depth,
            esc(l.node_name(n)),
            np.points
                .map(|p| format!("{}/{}", num(p), num_short(n.points)))
                .unwrap_or_else(|| "–".into()),
            opt_pct(np.rate),
            opt_pct(b.national_mean_rate),
            opt_pct(b.top_tier_mean_rate),
        );
    }
    out.push_str("</tbody></table></div></div>");

    // What to fix first.
    let _ = write!(out, "<h2>{}</h2>", l.t("优先改进", "What to fix first"));
    if u.fix_first.is_empty() {
        let _ = write!(
            out,
            "<p>{}</p>",
            esc(l.t(
                "本单位各项指标均不低于最高类型平均水平，无需优先改进的指标。",
                "No indicator trails the top-tier mean: nothing to fix first.",
            ))
        );
    } else {
        let _ = write!(
            out,
            "<p class=\"note\">{}</p><ol class=\"fix\">",
            esc(&match l {
                Lang::Zh => format!("与{top_name}类单位平均得分差距最大的指标，按差距从大到小排列："),
                Lang::En => format!(
                    "The indicators with the largest point gap to the {top_name} tier's mean, largest first:"
                ),
            })
        );
        for g in &u.fix_first {
            let _ = write!(out, "<li>{}</li>", esc(&action(c, g)));
        }
        out.push_str("</ol>");
    }

    // Indicator detail.
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"tablewrap\"><table class=\"indicators\"><thead><tr><th>ID</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
        l.t("指标明细", "All indicators"),
        l.t("指标", "Indicator"),
        l.t("观测值", "Value"),
        l.t("得分", "Points"),
        l.t("得分率", "Rate"),
        l.t("全国平均", "National"),
        esc(&top_label),
        l.t("全国百分位", "Percentile"),
        l.t("来源与证据", "Source & evidence"),
    );
    for (s, n) in e.nodes.iter().enumerate() {
        let np = &prof.nodes[s];
        let b = &c.p.benchmarks[s];
        let leaf = u.leaves.iter().find(|x| *x.id == *n.id);
        let _ = write!(
            out,
            "<tr class=\"l{}\"><td class=\"mono id\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            n.depth.min(3),
            esc(&n.id),
            esc(l.node_name(n)),
            leaf.map(|x| esc(&observed(l, n, &x.observed))).unwrap_or_default(),
            np.points
                .map(|p| format!("{}/{}", num(p), num_short(n.points)))
                .unwrap_or_else(|| "–".into()),
            opt_pct(np.rate),
            opt_pct(b.national_mean_rate),
            opt_pct(b.top_tier_mean_rate),
            np.percentile.map(|p| format!("{:.0}", p * 100.0)).unwrap_or_else(|| "–".into()),
            leaf.map(|x| evidence(l, x)).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table></div>");
    let _ = write!(
        out,
        "<p class=\"note\">{}</p>",
        esc(l.t(
            "得分率 = 得分 / 满分。全国百分位 = 得分低于本单位的其他单位所占比例（并列计一半），100 为全国最高。",
            "Rate = points / maximum. Percentile = share of the other units scoring lower (ties count half); 100 is the best in the nation.",
        ))
    );

    // Units of the same province.
    let mut peers: Vec<&UnitResult> = e
        .units
        .iter()
        .filter(|x| x.total.is_some() && x.province.as_deref() == u.province.as_deref())
        .collect();
    if peers.len() > 1 {
        peers.sort_by_key(|x| x.province_rank.unwrap_or(usize::MAX));
        let _ = write!(
            out,
            "<h2>{}</h2><div class=\"tablewrap\"><table><thead><tr><th class=\"n\">{}</th><th>{}</th><th class=\"n\">{}</th><th>{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
            esc(&match l {
                Lang::Zh => format!("{prov}各单位"),
                Lang::En => format!("Units of {}", l.province(prov)),
            }),
            l.t("省内名次", "In province"),
            l.t("单位", "Unit"),
            l.t("总分", "Total"),
            l.t("类型", "Tier"),
            l.t("全国名次", "National rank"),
        );
        for p in peers {
            let me = p.code == u.code;
            let _ = write!(
                out,
                "<tr{}><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                if me { " class=\"me\"" } else { "" },
                p.province_rank.map(|r| r.to_string()).unwrap_or_default(),
                if me {
                    esc(l.unit_name(p))
                } else {
                    format!("<a href=\"{}\">{}</a>", links.unit(&p.code), esc(l.unit_name(p)))
                },
                opt(p.total),
                tier_badge(p),
                p.rank.map(|r| r.to_string()).unwrap_or_default(),
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out
}
