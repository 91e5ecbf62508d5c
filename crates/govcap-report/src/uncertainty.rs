//! `uncertainty.html`: the run's statistical audit as a chapter of the report — what the Monte
//! Carlo varied, every unit's rank with its 90 % interval, the units whose tier is not stable,
//! and which modelling choice drives the uncertainty — plus the lines the summary and the unit
//! pages show about it.
//!
//! Every number comes from the [`Audit`] (`audit.json`) as the core estimated it; this module
//! only counts flags, sorts and formats. Nothing here is drawn when the run has no audit.

use std::fmt::Write as _;

use govcap_core::audit::{Audit, FactorAudit, FactorKind, SobolIndices, UnitAudit};
use govcap_core::evaluate::UnitResult;

use crate::charts::{
    self, circle, f, legend, line, nice_range, open, text, text_width, tier_fill, AXIS, CURRENT,
    GRID, SMALL, TEXT, W, W_WIDE,
};
use crate::html::{esc, Links};
use crate::i18n::Lang;
use crate::index::tier_badge;
use crate::Ctx;

/// A unit whose nominal tier holds in fewer draws than this is listed as unstable.
const STABLE: f64 = 0.9;
/// Colour of the nominal-rank line on the interval chart.
const NOMINAL: &str = "#b42318";
/// Colour of the first-order index bars (the total effect uses [`CURRENT`]).
const FIRST_ORDER: &str = "#9cc9e6";

pub fn page(c: &Ctx) -> String {
    let links = Links::Site { depth: 0 };
    let title = format!(
        "{} · {}",
        c.l.t("排名不确定性", "Rank uncertainty"),
        c.title()
    );
    c.page(links, &title, Some(3), &body(c, links), "")
}

/// A rank or rank quantile with at most two decimals, trailing zeros dropped ("12", "92.5",
/// "190.95"). Why two: with 2N draws the R type-7 percentiles are multiples of 1/20 for the
/// usual N, so two decimals show them exactly, while one decimal would round on every ".x5"
/// and could print the same interval differently after a round trip through audit.json.
fn rank(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// An interval of ranks, "9–15".
/// A rank interval for readers: whole places, widened outwards (the 5th percentile down, the
/// 95th up) so the shown interval still holds 90 % of the draws. `audit_units.csv` and
/// `audit.json` keep the exact quantiles.
fn interval(lo: f64, hi: f64) -> String {
    format!("{}–{}", whole(lo.floor()), whole(hi.ceil()))
}

/// A median rank or an interval width as a whole number of places.
fn whole(x: f64) -> String {
    format!("{}", x.round() as i64)
}

/// A probability as a percentage with one decimal and a space, "83.6 %".
fn prob(p: f64) -> String {
    format!("{:.1} %", p * 100.0)
}

/// A share without needless decimals, "25 %".
fn share(p: f64) -> String {
    let s = format!("{:.1}", p * 100.0);
    format!("{} %", s.trim_end_matches('0').trim_end_matches('.'))
}

/// A sensitivity index with three decimals; a true minus sign, and no "−0.000".
fn idx(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    if r < 0.0 {
        format!("\u{2212}{:.3}", -r)
    } else {
        format!("{:.3}", r.abs())
    }
}

/// An index with its 90 % bootstrap interval, "0.965 [0.709, 1.228]".
fn idx_interval(x: f64, lo: f64, hi: f64) -> String {
    format!("{} [{}, {}]", idx(x), idx(lo), idx(hi))
}

/// What a factor varies, in the report language.
pub fn factor_name(l: Lang, k: &FactorKind) -> String {
    govcap_core::vocab::audit_factor(k, l.tongue())
}

/// The alternatives of a factor: weights described from the perturbed nodes, other choices by
/// the audit's own labels.
fn alternatives(l: Lang, a: &Audit, fa: &FactorAudit) -> String {
    match fa.kind {
        FactorKind::Weights { depth } => {
            let nodes: Vec<_> = a.weight_nodes.iter().filter(|w| w.depth == depth).collect();
            let noise = share(nodes.first().map_or(0.0, |w| w.noise));
            match l {
                Lang::Zh => format!("{}个权重各在名义值的 ±{noise} 内均匀随机变动", nodes.len()),
                Lang::En => format!(
                    "each of {} weights varied uniformly within ±{noise} of its nominal value",
                    nodes.len()
                ),
            }
        }
        _ => fa
            .alternatives
            .iter()
            .map(|x| govcap_core::vocab::method_label(x, l.tongue()))
            .collect::<Vec<_>>()
            .join(l.t("、", ", ")),
    }
}

/// The factors by total effect on `pick`'s output, largest first (those whose output varies).
fn dominant(
    a: &Audit,
    pick: fn(&FactorAudit) -> Option<&SobolIndices>,
) -> Vec<(&FactorAudit, &SobolIndices)> {
    let mut v: Vec<_> = a
        .factors
        .iter()
        .filter_map(|fa| pick(fa).map(|s| (fa, s)))
        .collect();
    v.sort_by(|x, y| y.1.sti.total_cmp(&x.1.sti));
    v
}

fn rank_shift(fa: &FactorAudit) -> Option<&SobolIndices> {
    fa.rank_shift.as_ref()
}

fn tier_change(fa: &FactorAudit) -> Option<&SobolIndices> {
    fa.tier_change.as_ref()
}

/// Units counted in the chapter's headline: (ranked, robust, keeping their tier in ≥ 90 %).
fn counts(a: &Audit) -> (usize, usize, usize) {
    let ranked = a.units.iter().filter(|u| u.nominal_rank.is_some()).count();
    let robust = a.units.iter().filter(|u| u.robust).count();
    let stable = a
        .units
        .iter()
        .filter(|u| u.nominal_tier_probability.is_some_and(|p| p >= STABLE))
        .count();
    (ranked, robust, stable)
}

/// The sentence naming the factor that drives rank uncertainty, or saying nothing varies.
fn dominant_sentence(l: Lang, a: &Audit) -> String {
    let order = dominant(a, rank_shift);
    let Some((top, s)) = order.first() else {
        return l
            .t(
                "各次模拟的平均排名变动没有差异，无法估计敏感性指数。",
                "The mean rank shift did not vary between draws, so no sensitivity index can be estimated.",
            )
            .into();
    };
    let name = factor_name(l, &top.kind);
    let mut out = if s.si >= 0.5 * s.sti {
        match l {
            Lang::Zh => format!(
                "排名不确定性主要来自{name}：它单独即可解释平均排名变动方差的约 {}（一阶指数 Si = {}，90 % 区间 {}–{}），计入与其他因素的交互作用为 STi = {}。",
                share(s.si.clamp(0.0, 1.0)),
                idx(s.si),
                idx(s.si_q05),
                idx(s.si_q95),
                idx(s.sti)
            ),
            Lang::En => format!(
                "Rank uncertainty comes mainly from the {name}: on its own it explains about {} of the variance of the mean rank shift (first-order index Si = {}, 90 % interval {} to {}), and {} with its interactions (total effect STi).",
                share(s.si.clamp(0.0, 1.0)),
                idx(s.si),
                idx(s.si_q05),
                idx(s.si_q95),
                idx(s.sti)
            ),
        }
    } else {
        match l {
            Lang::Zh => format!(
                "排名不确定性主要来自{name}（总效应指数 STi = {}），它主要通过与其他因素的交互作用起作用（一阶指数 Si = {}）。",
                idx(s.sti),
                idx(s.si)
            ),
            Lang::En => format!(
                "Rank uncertainty comes mainly from the {name} (total effect STi = {}), acting mostly through interactions with other factors (first-order Si = {}).",
                idx(s.sti),
                idx(s.si)
            ),
        }
    };
    if let Some((next, s2)) = order.get(1) {
        let _ = write!(
            out,
            "{}",
            match l {
                Lang::Zh => format!(
                    "其次是{}（STi = {}）。",
                    factor_name(l, &next.kind),
                    idx(s2.sti)
                ),
                Lang::En => format!(
                    " Next: the {} (STi = {}).",
                    factor_name(l, &next.kind),
                    idx(s2.sti)
                ),
            }
        );
    }
    if let Some((t, st)) = dominant(a, tier_change).first() {
        let _ = write!(
            out,
            "{}",
            match l {
                Lang::Zh => format!(
                    "对发展类型的变动（改变类型的单位占比），影响最大的是{}（STi = {}）。",
                    factor_name(l, &t.kind),
                    idx(st.sti)
                ),
                Lang::En => format!(
                    " For tier changes (the share of units changing tier) the largest total effect is the {}'s (STi = {}).",
                    factor_name(l, &t.kind),
                    idx(st.sti)
                ),
            }
        );
    }
    out
}

/// The summary page's short pointer to the chapter (only with an audit).
pub fn summary_note(c: &Ctx, links: Links) -> Option<String> {
    let a = c.audit?;
    let l = c.l;
    let (ranked, robust, stable) = counts(a);
    let main = dominant(a, rank_shift)
        .first()
        .map(|(fa, _)| factor_name(l, &fa.kind));
    let text = match l {
        Lang::Zh => format!(
            "方法不确定性（{} 次改变权重和评价方法的独立模拟）：{robust} 个单位（共 {ranked} 个）的排名稳健，{stable} 个单位在至少 90 % 的模拟中保持原发展类型{}。",
            2 * a.base_samples,
            main.map(|m| format!("；排名不确定性主要来自{m}"))
                .unwrap_or_default()
        ),
        Lang::En => format!(
            "Method uncertainty ({} independent draws of other weights and methods): {robust} of {ranked} units have a robust rank and {stable} keep their tier in at least 90 % of draws{}.",
            2 * a.base_samples,
            main.map(|m| format!("; rank uncertainty comes mainly from the {m}"))
                .unwrap_or_default()
        ),
    };
    Some(format!(
        "<p class=\"note audit-note\">{} <a href=\"{}\">{}</a></p>",
        esc(&text),
        links.uncertainty(),
        l.t("查看不确定性分析 →", "See the uncertainty analysis →")
    ))
}

/// The unit page's rank-interval card (only with an audit and a ranked unit).
pub fn unit_kpi(c: &Ctx, u: &UnitResult) -> Option<String> {
    let ua = c.unit_audit(&u.code)?;
    let (lo, hi) = (ua.q05_rank?, ua.q95_rank?);
    let l = c.l;
    let delta = match (ua.median_rank, ua.nominal_tier_probability) {
        (Some(m), Some(p)) => match l {
            Lang::Zh => format!("中位 {} · 保持原类型 {}", whole(m), prob(p)),
            Lang::En => format!("median {} · tier kept {}", whole(m), prob(p)),
        },
        (Some(m), None) => format!("{} {}", l.t("中位", "median"), whole(m)),
        _ => String::new(),
    };
    Some(format!(
        "<div class=\"kpi rank-interval-kpi\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"delta\">{}</div></div>",
        esc(l.t("排名区间（90 %）", "Rank interval (90 %)")),
        esc(&interval(lo, hi)),
        esc(&delta)
    ))
}

/// The unit page's sentence on its rank interval and tier stability.
pub fn unit_note(c: &Ctx, u: &UnitResult, links: Links) -> Option<String> {
    let a = c.audit?;
    let ua = c.unit_audit(&u.code)?;
    let l = c.l;
    let (r, lo, hi) = (ua.nominal_rank?, ua.q05_rank?, ua.q95_rank?);
    let mut s = match l {
        Lang::Zh => format!("全国排名 {r}（90 % 区间 {}）。", interval(lo, hi)),
        Lang::En => format!("National rank {r} (90 % interval {}).", interval(lo, hi)),
    };
    if let Some(m) = ua.median_rank {
        let _ = write!(
            s,
            "{}",
            match l {
                Lang::Zh => format!(
                    "在改变权重和评价方法的 {} 次独立模拟中，本单位的中位排名为 {}",
                    2 * a.base_samples,
                    whole(m)
                ),
                Lang::En => format!(
                    " Across {} independent draws of other weights and methods its median rank is {}",
                    2 * a.base_samples,
                    whole(m)
                ),
            }
        );
    }
    if let (Some(t), Some(p)) = (&ua.nominal_tier, ua.nominal_tier_probability) {
        let dist: Vec<String> = a
            .tiers
            .iter()
            .zip(&ua.tier_probability)
            .filter(|(_, &q)| q > 0.0)
            .map(|(code, &q)| format!("{code} {}", prob(q)))
            .collect();
        let _ = write!(
            s,
            "{}",
            match l {
                Lang::Zh => format!(
                    "，保持名义发展类型（{}）的概率为 {}（{}）。",
                    c.tier_name(t),
                    prob(p),
                    dist.join(" · ")
                ),
                Lang::En => format!(
                    "; it keeps its nominal tier ({}) in {} of draws ({}).",
                    c.tier_name(t),
                    prob(p),
                    dist.join(" · ")
                ),
            }
        );
    } else if ua.median_rank.is_some() {
        s.push_str(l.t("。", "."));
    }
    let verdict = match (ua.robust, ua.nominal_in_interval, ua.interval_width) {
        (true, _, Some(w)) => match l {
            Lang::Zh => format!(
                "排名稳健：名义排名位于区间之内，区间宽 {} 位，不超过 {} 位。",
                whole(w),
                rank(a.robust_max_width)
            ),
            Lang::En => format!(
                " The rank is robust: the nominal rank lies inside the interval, which is {} places wide (at most {}).",
                whole(w),
                rank(a.robust_max_width)
            ),
        },
        (false, false, _) => l
            .t(
                "名义排名落在 90 % 区间之外：它对方法选择较为敏感。",
                " The nominal rank lies outside the 90 % interval: it is sensitive to the choice of method.",
            )
            .into(),
        (false, true, Some(w)) => match l {
            Lang::Zh => format!(
                "区间宽 {} 位，超过稳健标准（{} 位），排名对方法选择较为敏感。",
                whole(w),
                rank(a.robust_max_width)
            ),
            Lang::En => format!(
                " The interval is {} places wide, more than the {} that count as robust: the rank depends on the choice of method.",
                whole(w),
                rank(a.robust_max_width)
            ),
        },
        _ => String::new(),
    };
    s.push_str(&verdict);
    Some(format!(
        "<p class=\"audit-note\">{} <a href=\"{}\">{}</a></p>",
        esc(&s),
        links.uncertainty(),
        l.t("不确定性分析 →", "Uncertainty analysis →")
    ))
}

/// The chapter's text and figures.
pub fn body(c: &Ctx, links: Links) -> String {
    let Some(a) = c.audit else {
        return String::new();
    };
    let l = c.l;
    let (ranked, robust, stable) = counts(a);
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<h1>{}</h1><p class=\"sub\">{}</p>",
        l.t(
            "排名不确定性与敏感性分析",
            "Rank uncertainty and sensitivity analysis"
        ),
        esc(&match l {
            Lang::Zh => format!(
                "{}年 · {}个单位 · {} 次模型运行 · 随机种子 {}{}",
                a.year,
                a.units.len(),
                a.draws,
                a.settings.seed,
                if a.synthetic { " · 合成数据" } else { "" }
            ),
            Lang::En => format!(
                "{} · {} units · {} model runs · seed {}{}",
                a.year,
                a.units.len(),
                a.draws,
                a.settings.seed,
                if a.synthetic {
                    " · synthetic data"
                } else {
                    ""
                }
            ),
        })
    );

    // Headline cards.
    out.push_str("<div class=\"kpis\">");
    let card = |label: &str, value: String, note: String| {
        format!(
            "<div class=\"kpi\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"delta\">{}</div></div>",
            esc(label),
            esc(&value),
            esc(&note)
        )
    };
    out.push_str(&card(
        l.t("模拟次数", "Draws"),
        a.draws.to_string(),
        format!(
            "N = {} · {}",
            a.base_samples,
            l.t("Sobol′ 序列", "Sobol′ sequence")
        ),
    ));
    if let Some(s) = &a.rank_shift {
        out.push_str(&card(
            l.t("平均排名变动", "Mean rank shift"),
            format!("{:.2}", s.mean),
            match l {
                Lang::Zh => format!("各次模拟 {:.2}–{:.2} 位", s.min, s.max),
                Lang::En => format!("{:.2}–{:.2} places per draw", s.min, s.max),
            },
        ));
    }
    out.push_str(&card(
        l.t("排名稳健的单位", "Units with a robust rank"),
        format!("{robust} / {ranked}"),
        match l {
            Lang::Zh => format!("区间宽度不超过 {} 位", rank(a.robust_max_width)),
            Lang::En => format!("interval at most {} places", rank(a.robust_max_width)),
        },
    ));
    out.push_str(&card(
        l.t("类型稳定的单位", "Units with a stable tier"),
        format!("{stable} / {ranked}"),
        l.t("至少 90 % 的模拟保持原类型", "tier kept in ≥ 90 % of draws")
            .into(),
    ));
    if let Some((fa, s)) = dominant(a, rank_shift).first() {
        out.push_str(&card(
            l.t("排名的主要影响因素", "Main driver of rank changes"),
            factor_name(l, &fa.kind),
            format!("STi = {}", idx(s.sti)),
        ));
    }
    out.push_str("</div>");

    // What was done, generated from the audit's settings.
    let varied: Vec<String> = a
        .factors
        .iter()
        .map(|fa| {
            format!(
                "{}{}{}{}",
                factor_name(l, &fa.kind),
                l.t("（", " ("),
                alternatives(l, a, fa),
                l.t("）", ")")
            )
        })
        .collect();
    let fixed: Vec<String> = a
        .fixed
        .iter()
        .map(|x| {
            format!(
                "{}{}{}{}",
                factor_name(l, &x.kind),
                l.t("（", " ("),
                govcap_core::vocab::method_label(&x.alternative, l.tongue()),
                l.t("）", ")")
            )
        })
        .collect();
    let _ = write!(out, "<h2>{}</h2>", l.t("方法", "How it was done"));
    let mut how = match l {
        Lang::Zh => format!(
            "本章检验排名对评价方法选择的敏感程度。govcap 以 Sobol′ 准随机序列（基础样本 N = {}，随机种子 {}）抽取 {} 组方法设定（模型运行），每组同时改变：{}，并据此重新计算全部单位的得分、排名和发展类型。",
            a.base_samples,
            a.settings.seed,
            a.draws,
            varied.join("；")
        ),
        Lang::En => format!(
            "This chapter tests how much the ranking depends on the choice of method. govcap drew {} method settings (model runs) from a Sobol′ quasi-random sequence (base sample N = {}, seed {}); each varies at once: {}; and every unit's score, rank and tier is computed again under it.",
            a.draws,
            a.base_samples,
            a.settings.seed,
            varied.join("; ")
        ),
    };
    if !fixed.is_empty() {
        let _ = write!(
            how,
            "{}",
            match l {
                Lang::Zh => format!("保持不变的选择：{}。", fixed.join("；")),
                Lang::En => format!(" Held fixed: {}.", fixed.join("; ")),
            }
        );
    }
    let _ = write!(
        how,
        "{}",
        match l {
            Lang::Zh => format!(
                "每个单位的 90 % 区间是它在 A、B 两组共 {} 次独立模拟中排名的第 5 至第 95 百分位数；敏感性指数衡量每个因素对平均绝对排名变动方差的贡献：一阶指数 Si（Saltelli 2010）为该因素单独的贡献，总效应指数 STi（Jansen）还包括它与其他因素的交互作用，括号内为 {} 次 bootstrap 的 90 % 区间。",
                2 * a.base_samples,
                a.settings.bootstrap
            ),
            Lang::En => format!(
                " A unit's 90 % interval runs from the 5th to the 95th percentile of its ranks in the {} independent draws of matrices A and B. The sensitivity indices measure each factor's share of the variance of the mean absolute rank shift: the first-order index Si (Saltelli 2010) on its own, the total effect STi (Jansen) with all its interactions; brackets give the 90 % interval over {} bootstrap replicates.",
                2 * a.base_samples,
                a.settings.bootstrap
            ),
        }
    );
    let _ = write!(out, "<p>{}</p>", esc(&how));

    let mut found = String::new();
    if let Some(s) = &a.rank_shift {
        let _ = write!(
            found,
            "{}",
            match l {
                Lang::Zh => format!(
                    "每次模拟中单位排名平均变动 {:.2} 位（各次模拟 {:.2}–{:.2} 位）。",
                    s.mean, s.min, s.max
                ),
                Lang::En => format!(
                    "In a draw, units move {:.2} places on average ({:.2} to {:.2} across draws). ",
                    s.mean, s.min, s.max
                ),
            }
        );
    }
    let _ = write!(
        found,
        "{}",
        match l {
            Lang::Zh => format!(
                "{robust} 个单位（共 {ranked} 个）的排名稳健，即名义排名位于 90 % 区间之内且区间宽度不超过 {} 位；{stable} 个单位在至少 90 % 的模拟中保持名义发展类型。",
                rank(a.robust_max_width)
            ),
            Lang::En => format!(
                "{robust} of {ranked} units have a robust rank (the nominal rank inside the 90 % interval, the interval at most {} places wide); {stable} keep their nominal tier in at least 90 % of draws.",
                rank(a.robust_max_width)
            ),
        }
    );
    if a.tier_failures > 0 {
        let _ = write!(
            found,
            "{}",
            match l {
                Lang::Zh => format!(
                    "另有 {} 次模拟的分类方法未能得到有效分类，未计入类型概率。",
                    a.tier_failures
                ),
                Lang::En => format!(
                    " In {} draws the tier method found no valid classification; they do not count towards tier probabilities.",
                    a.tier_failures
                ),
            }
        );
    }
    let _ = write!(out, "<p>{}</p>", esc(&found));
    if a.synthetic {
        let _ = write!(
            out,
            "<p class=\"note\">{}</p>",
            esc(l.t(
                "本章基于合成数据，结果只演示分析方法，不反映任何地方政府的真实排名。",
                "This chapter is computed from synthetic data: it demonstrates the analysis and says nothing about any real local government.",
            ))
        );
    }

    // Every unit's interval.
    let labels: Vec<String> = a
        .units
        .iter()
        .map(|ua| {
            c.unit(&ua.code)
                .map(|u| l.unit_name(u).to_string())
                .unwrap_or_else(|| ua.name.clone())
        })
        .collect();
    let _ = write!(
        out,
        "<h2>{}</h2>",
        l.t("各单位的排名区间", "Every unit's rank interval")
    );
    let svg = rank_chart(l, a, &labels);
    let _ = write!(
        out,
        "<figure class=\"chart wide\">{svg}<figcaption>{}</figcaption></figure>",
        esc(l.t(
            "横轴为按名义排名排列的单位；竖线为模拟排名的 90 % 区间（第 5 至第 95 百分位数，颜色为名义发展类型），黑点为中位排名，红线为名义排名。竖线越长，排名越依赖方法选择。",
            "Units along the x axis in order of nominal rank; each bar is the 90 % interval of its ranks over the draws (5th to 95th percentile, coloured by nominal tier), the dot its median rank, the red line the nominal rank. The longer the bar, the more the rank depends on the choice of method.",
        ))
    );

    tier_table(c, a, links, &mut out);
    sensitivity_section(c, a, &mut out);
    out
}

/// Units whose nominal tier holds in fewer than 90 % of draws, in nominal rank order.
fn tier_table(c: &Ctx, a: &Audit, links: Links, out: &mut String) {
    let l = c.l;
    let mut rows: Vec<&UnitAudit> = a
        .units
        .iter()
        .filter(|u| u.nominal_tier_probability.is_some_and(|p| p < STABLE))
        .collect();
    rows.sort_by_key(|u| u.nominal_rank.unwrap_or(usize::MAX));
    let _ = write!(
        out,
        "<h2>{}</h2>",
        l.t("发展类型的稳定性", "Tier stability")
    );
    if rows.is_empty() {
        let _ = write!(
            out,
            "<p>{}</p>",
            esc(l.t(
                "所有单位都在至少 90 % 的模拟中保持名义发展类型。",
                "Every unit keeps its nominal tier in at least 90 % of draws.",
            ))
        );
        return;
    }
    let _ = write!(
        out,
        "<p>{}</p>",
        esc(&match l {
            Lang::Zh => format!(
                "下表列出保持名义发展类型的概率低于 90 % 的 {} 个单位（按名义排名排列），以及它们落入各发展类型的概率。",
                rows.len()
            ),
            Lang::En => format!(
                "The {} units that keep their nominal tier in fewer than 90 % of draws (in nominal rank order), with the probability of each tier.",
                rows.len()
            ),
        })
    );
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table id=\"tier-stability\"><thead><tr><th class=\"n\">{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th>",
        l.t("名次", "Rank"),
        l.t("单位", "Unit"),
        l.t("名义类型", "Nominal tier"),
        l.t("保持概率", "Kept"),
    );
    for t in &a.tiers {
        let _ = write!(out, "<th class=\"n\">{}</th>", esc(&c.tier_name(t)));
    }
    let _ = write!(
        out,
        "<th>{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("类型概率", "Tier probabilities"),
        l.t("90 % 排名区间", "90 % rank interval"),
    );
    for ua in rows {
        let u = c.unit(&ua.code);
        let name = u
            .map(|u| l.unit_name(u).to_string())
            .unwrap_or_else(|| ua.name.clone());
        let _ = write!(
            out,
            "<tr data-code=\"{}\"><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>",
            esc(&ua.code),
            ua.nominal_rank.map(|r| r.to_string()).unwrap_or_default(),
            if u.is_some_and(|u| u.total.is_some()) {
                format!("<a href=\"{}\">{}</a>", links.unit(&ua.code), esc(&name))
            } else {
                esc(&name)
            },
            u.map(tier_badge).unwrap_or_default(),
            ua.nominal_tier_probability.map(prob).unwrap_or_default(),
        );
        for k in 0..a.tiers.len() {
            let _ = write!(
                out,
                "<td class=\"n\">{}</td>",
                ua.tier_probability
                    .get(k)
                    .map(|&p| prob(p))
                    .unwrap_or_default()
            );
        }
        let _ = write!(
            out,
            "<td>{}</td><td class=\"n\">{}</td></tr>",
            tier_strip(l, a, ua),
            match (ua.q05_rank, ua.q95_rank) {
                (Some(lo), Some(hi)) => interval(lo, hi),
                _ => "–".into(),
            }
        );
    }
    out.push_str("</tbody></table></div>");
}

/// A small stacked bar of a unit's tier probabilities, in tier colours.
fn tier_strip(l: Lang, a: &Audit, ua: &UnitAudit) -> String {
    let label: Vec<String> = a
        .tiers
        .iter()
        .zip(&ua.tier_probability)
        .map(|(t, &p)| format!("{t} {}", prob(p)))
        .collect();
    let mut s = format!(
        "<svg viewBox=\"0 0 100 10\" width=\"100\" height=\"10\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        esc(&format!("{}: {}", l.t("类型概率", "tier probabilities"), label.join(", "))),
        esc(&label.join(" · "))
    );
    let mut x = 0.0;
    for (t, &p) in a.tiers.iter().zip(&ua.tier_probability) {
        if p > 0.0 {
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"0\" width=\"{}\" height=\"10\" fill=\"{}\"/>",
                f(x),
                f(p * 100.0),
                tier_fill(t)
            );
        }
        x += p * 100.0;
    }
    s.push_str("</svg>");
    s
}

/// Ranks against nominal rank order: one interval bar (`class="rank-interval"`) per ranked unit,
/// its median as a dot, the nominal rank as a line, tier boundaries dashed.
fn rank_chart(l: Lang, a: &Audit, labels: &[String]) -> String {
    let mut order: Vec<usize> = (0..a.units.len())
        .filter(|&i| {
            let u = &a.units[i];
            u.nominal_rank.is_some() && u.q05_rank.is_some() && u.q95_rank.is_some()
        })
        .collect();
    order.sort_by_key(|&i| a.units[i].nominal_rank);
    let n = order.len();
    let max_rank = order
        .iter()
        .flat_map(|&i| {
            let u = &a.units[i];
            [u.q95_rank, u.nominal_rank.map(|r| r as f64)]
        })
        .flatten()
        .fold(1.0, f64::max);
    let h = 380.0;
    let (left, right, top, bottom) = (50.0, 12.0, 44.0, 40.0);
    let pw = W_WIDE - left - right;
    let ph = h - top - bottom;
    let x = |k: usize| left + pw * (k as f64 + 0.5) / n.max(1) as f64;
    // Rank 1 at the top: better is higher.
    let y = |r: f64| top + ph * (r - 1.0) / (max_rank - 1.0).max(1.0);
    let title = l.t(
        "各单位排名的 90 % 区间（按名义排名排列）",
        "90 % rank interval of every unit, in nominal rank order",
    );
    let mut out = open(W_WIDE, h, title);
    legend(
        &mut out,
        left,
        14.0,
        &[
            (l.t("90 % 区间", "90 % interval"), tier_fill("B"), false),
            (l.t("名义排名", "nominal rank"), NOMINAL, true),
        ],
    );
    let lx = left
        + 70.0
        + text_width(l.t("90 % 区间", "90 % interval"), SMALL)
        + text_width(l.t("名义排名", "nominal rank"), SMALL);
    circle(&mut out, lx, 10.0, 2.5, TEXT, "");
    text(
        &mut out,
        lx + 7.0,
        14.0,
        "start",
        SMALL,
        TEXT,
        l.t("中位排名", "median rank"),
    );
    // Rank grid on both axes.
    let (_, end, step) = nice_range(0.0, max_rank, 6);
    let mut ticks = vec![1.0];
    let mut v = step;
    while v <= end + 1e-9 {
        if v <= max_rank + 1e-9 && v > 1.0 {
            ticks.push(v);
        }
        v += step;
    }
    for &t in &ticks {
        line(&mut out, left, y(t), left + pw, y(t), GRID, "");
        text(
            &mut out,
            left - 5.0,
            y(t) + 4.0,
            "end",
            SMALL,
            AXIS,
            &rank(t),
        );
        // The x position of nominal rank t (units are spaced evenly in rank order).
        let k = ((t - 1.0).round() as usize).min(n.saturating_sub(1));
        text(
            &mut out,
            x(k),
            top + ph + 14.0,
            "middle",
            SMALL,
            AXIS,
            &rank(t),
        );
    }
    line(&mut out, left, top, left, top + ph, AXIS, "");
    charts::y_title(
        &mut out,
        12.0,
        top + ph / 2.0,
        l.t("模拟排名", "rank in the draws"),
    );
    text(
        &mut out,
        left + pw / 2.0,
        h - 6.0,
        "middle",
        SMALL,
        AXIS,
        l.t("单位（按名义排名）", "units by nominal rank"),
    );
    // Tier boundaries and names.
    let mut start = 0;
    for k in 1..=n {
        let tier = |j: usize| a.units[order[j]].nominal_tier.as_deref();
        if k == n || tier(k) != tier(start) {
            if k < n {
                let bx = (x(k - 1) + x(k)) / 2.0;
                line(
                    &mut out,
                    bx,
                    top,
                    bx,
                    top + ph,
                    AXIS,
                    " stroke-dasharray=\"3 3\"",
                );
            }
            if let Some(t) = tier(start) {
                text(
                    &mut out,
                    (x(start) + x(k - 1)) / 2.0,
                    top - 6.0,
                    "middle",
                    SMALL,
                    TEXT,
                    t,
                );
            }
            start = k;
        }
    }
    // Intervals and medians.
    let per = l.t("名义排名", "nominal rank");
    for (k, &i) in order.iter().enumerate() {
        let u = &a.units[i];
        let (lo, hi) = (u.q05_rank.unwrap_or(1.0), u.q95_rank.unwrap_or(1.0));
        let (y0, y1) = (y(lo), y(hi));
        // A zero-width interval still shows as a short bar.
        let (y0, y1) = if y1 - y0 < 1.5 {
            ((y0 + y1) / 2.0 - 0.75, (y0 + y1) / 2.0 + 0.75)
        } else {
            (y0, y1)
        };
        let mut tip = format!(
            "{} · {per} {} · {} {}",
            labels.get(i).map(String::as_str).unwrap_or(&u.code),
            u.nominal_rank.map(|r| r.to_string()).unwrap_or_default(),
            l.t("90 % 区间", "90 % interval"),
            interval(lo, hi)
        );
        if let Some(m) = u.median_rank {
            let _ = write!(tip, " · {} {}", l.t("中位", "median"), whole(m));
        }
        if let (Some(t), Some(p)) = (&u.nominal_tier, u.nominal_tier_probability) {
            let _ = write!(tip, " · {t} {}", prob(p));
        }
        let _ = write!(
            out,
            "<g class=\"rank-interval\" data-code=\"{}\"><title>{}</title>",
            esc(&u.code),
            esc(&tip)
        );
        line(
            &mut out,
            x(k),
            y0,
            x(k),
            y1,
            tier_fill(u.nominal_tier.as_deref().unwrap_or("")),
            " stroke-width=\"1.6\"",
        );
        if let Some(m) = u.median_rank {
            circle(&mut out, x(k), y(m), 1.3, TEXT, "");
        }
        out.push_str("</g>");
    }
    // The nominal ranks as one line.
    let mut pts = String::new();
    for (k, &i) in order.iter().enumerate() {
        if let Some(r) = a.units[i].nominal_rank {
            let _ = write!(pts, "{},{} ", f(x(k)), f(y(r as f64)));
        }
    }
    let _ = write!(
        out,
        "<polyline class=\"nominal-rank\" points=\"{}\" fill=\"none\" stroke=\"{NOMINAL}\" stroke-width=\"1\" stroke-dasharray=\"4 2\"/>",
        pts.trim_end()
    );
    out.push_str("</svg>");
    out
}

/// The sensitivity chart and table, and the sentence naming the dominant factor.
fn sensitivity_section(c: &Ctx, a: &Audit, out: &mut String) {
    let l = c.l;
    let _ = write!(
        out,
        "<h2>{}</h2><p>{}</p>",
        l.t(
            "哪个方法选择最影响排名",
            "Which choice drives the uncertainty"
        ),
        esc(&dominant_sentence(l, a))
    );
    let order = dominant(a, rank_shift);
    if !order.is_empty() {
        let svg = sensitivity_chart(l, &order);
        let _ = write!(
            out,
            "<figure class=\"chart solo\">{svg}<figcaption>{}</figcaption></figure>",
            esc(l.t(
                "各因素对平均绝对排名变动方差的贡献：浅色为一阶指数 Si（单独作用），深色为总效应指数 STi（含交互作用），细线为 90 % bootstrap 区间。一阶指数的估计值可能因抽样误差略低于 0。",
                "Each factor's share of the variance of the mean absolute rank shift: light bars the first-order index Si (alone), dark bars the total effect STi (with interactions), thin lines the 90 % bootstrap intervals. First-order estimates can fall slightly below 0 by sampling error.",
            ))
        );
    }
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table id=\"sensitivity\"><thead><tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("因素", "Factor"),
        l.t("备选方案", "Alternatives"),
        l.t("排名变动 Si", "Rank shift Si"),
        l.t("排名变动 STi", "Rank shift STi"),
        l.t("类型变动 Si", "Tier change Si"),
        l.t("类型变动 STi", "Tier change STi"),
    );
    let cells = |s: Option<&SobolIndices>| -> (String, String) {
        match s {
            Some(s) => (
                idx_interval(s.si, s.si_q05, s.si_q95),
                idx_interval(s.sti, s.sti_q05, s.sti_q95),
            ),
            None => ("–".into(), "–".into()),
        }
    };
    for fa in &a.factors {
        let (r1, r2) = cells(fa.rank_shift.as_ref());
        let (t1, t2) = cells(fa.tier_change.as_ref());
        let _ = write!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&factor_name(l, &fa.kind)),
            esc(&alternatives(l, a, fa)),
            esc(&r1),
            esc(&r2),
            esc(&t1),
            esc(&t2),
        );
    }
    out.push_str("</tbody></table></div>");
    let _ = write!(
        out,
        "<p class=\"note\">{}</p>",
        esc(&match l {
            Lang::Zh => format!(
                "排名变动：每次模拟中各单位排名与名义排名之差的绝对值的平均；类型变动：每次模拟中发展类型与名义类型不同的单位占比。方括号内为 {} 次 bootstrap 的 90 % 区间；“–”表示该输出在各次模拟中没有变化。完整结果见 audit.json、audit_units.csv、audit_factors.csv 和 audit.xlsx。",
                a.settings.bootstrap
            ),
            Lang::En => format!(
                "Rank shift: the mean over units of the absolute difference between a draw's rank and the nominal rank. Tier change: the share of units whose tier in a draw differs from the nominal tier. Brackets give the 90 % interval over {} bootstrap replicates; “–” means the output does not vary. The full results are in audit.json, audit_units.csv, audit_factors.csv and audit.xlsx.",
                a.settings.bootstrap
            ),
        })
    );
}

/// Horizontal bars of Si and STi per factor (largest total effect first), with whiskers.
fn sensitivity_chart(l: Lang, order: &[(&FactorAudit, &SobolIndices)]) -> String {
    let names: Vec<String> = order
        .iter()
        .map(|(fa, _)| factor_name(l, &fa.kind))
        .collect();
    let label_w = names
        .iter()
        .map(|s| text_width(s, SMALL))
        .fold(40.0, f64::max)
        + 10.0;
    let row_h = 34.0;
    let (top, bottom) = (34.0, 40.0);
    let h = top + bottom + row_h * order.len() as f64;
    let left = label_w;
    let pw = W - left - 14.0;
    let lo = order
        .iter()
        .map(|(_, s)| s.si_q05.min(s.si).min(s.sti_q05))
        .fold(0.0, f64::min);
    let hi = order
        .iter()
        .map(|(_, s)| s.si_q95.max(s.sti_q95).max(s.sti))
        .fold(0.1, f64::max);
    let (start, end, step) = nice_range(lo, hi, 5);
    let x = |v: f64| left + pw * (v - start) / (end - start);
    let title = l.t(
        "敏感性指数：平均绝对排名变动",
        "Sensitivity indices: mean absolute rank shift",
    );
    let mut out = open(W, h, title);
    legend(
        &mut out,
        left,
        14.0,
        &[
            (l.t("一阶指数 Si", "first order Si"), FIRST_ORDER, false),
            (l.t("总效应指数 STi", "total effect STi"), CURRENT, false),
        ],
    );
    let y0 = top;
    let y1 = top + row_h * order.len() as f64;
    charts::axis_x(&mut out, y0, y1, start, end, step, &x, false);
    line(&mut out, x(0.0), y0, x(0.0), y1, AXIS, "");
    for (i, ((_, s), name)) in order.iter().zip(&names).enumerate() {
        let cy = top + row_h * i as f64;
        text(
            &mut out,
            left - 6.0,
            cy + row_h / 2.0 + 4.0,
            "end",
            SMALL,
            TEXT,
            name,
        );
        for (j, (v, q05, q95, colour, what)) in [
            (s.si, s.si_q05, s.si_q95, FIRST_ORDER, "Si"),
            (s.sti, s.sti_q05, s.sti_q95, CURRENT, "STi"),
        ]
        .into_iter()
        .enumerate()
        {
            let by = cy + 5.0 + 12.0 * j as f64;
            let (a0, a1) = if v >= 0.0 {
                (x(0.0), x(v))
            } else {
                (x(v), x(0.0))
            };
            charts::rect(
                &mut out,
                a0,
                by,
                a1 - a0,
                11.0,
                colour,
                &format!("{name} · {what} {}", idx_interval(v, q05, q95)),
            );
            line(
                &mut out,
                x(q05),
                by + 5.5,
                x(q95),
                by + 5.5,
                TEXT,
                " stroke-width=\"1\"",
            );
        }
    }
    text(
        &mut out,
        left + pw / 2.0,
        h - 6.0,
        "middle",
        SMALL,
        AXIS,
        l.t("方差份额", "share of variance"),
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use govcap_core::audit::{AuditFramework, OutputSummary, Settings};

    fn unit(code: &str, r: usize, q: (f64, f64), tier: &str, p: [f64; 2]) -> UnitAudit {
        UnitAudit {
            code: code.into(),
            name: format!("单位{code}"),
            nominal_rank: Some(r),
            nominal_tier: Some(tier.into()),
            nominal_sublevel: Some(tier.into()),
            ranked_draws: 100,
            mean_rank: Some(r as f64),
            median_rank: Some(r as f64 + 0.5),
            q05_rank: Some(q.0),
            q95_rank: Some(q.1),
            interval_width: Some(q.1 - q.0),
            nominal_in_interval: q.0 <= r as f64 && r as f64 <= q.1,
            robust: false,
            tier_probability: p.to_vec(),
            sublevel_probability: Vec::new(),
            nominal_tier_probability: Some(if tier == "A" { p[0] } else { p[1] }),
        }
    }

    fn sobol(si: f64, sti: f64) -> SobolIndices {
        SobolIndices {
            si,
            sti,
            si_q05: si - 0.1,
            si_q95: si + 0.1,
            sti_q05: sti - 0.05,
            sti_q95: sti + 0.05,
        }
    }

    fn audit() -> Audit {
        Audit {
            schema: "govcap.audit/1".into(),
            year: 2021,
            synthetic: true,
            framework: AuditFramework {
                id: "t".into(),
                version: "1".into(),
            },
            settings: Settings::default(),
            draws: 40,
            base_samples: 10,
            factors: vec![
                FactorAudit {
                    kind: FactorKind::Weights { depth: 2 },
                    name: "weights (depth 2)".into(),
                    alternatives: vec!["…".into()],
                    coordinates: 2,
                    rank_shift: Some(sobol(0.1, 0.2)),
                    tier_change: Some(sobol(0.3, 0.7)),
                },
                FactorAudit {
                    kind: FactorKind::Aggregation,
                    name: "aggregation".into(),
                    alternatives: vec!["arithmetic".into(), "geometric".into()],
                    coordinates: 1,
                    rank_shift: Some(sobol(0.7, 0.8)),
                    tier_change: Some(sobol(0.1, 0.2)),
                },
            ],
            fixed: Vec::new(),
            weight_nodes: Vec::new(),
            tiers: vec!["A".into(), "B".into()],
            sublevels: Vec::new(),
            rank_shift: Some(OutputSummary {
                mean: 1.0,
                variance: 0.5,
                min: 0.0,
                max: 2.0,
            }),
            tier_change: None,
            tier_failures: 0,
            robust_max_width: 0.3,
            units: vec![
                unit("3", 3, (2.0, 3.0), "B", [0.25, 0.75]),
                unit("1", 1, (1.0, 2.5), "A", [0.95, 0.05]),
                unit("2", 2, (1.0, 3.0), "A", [0.6, 0.4]),
            ],
        }
    }

    #[test]
    fn formats_ranks_probabilities_and_indices() {
        assert_eq!(rank(12.0), "12");
        assert_eq!(rank(92.5), "92.5");
        assert_eq!(rank(190.95), "190.95");
        assert_eq!(rank(276.05), "276.05");
        assert_eq!(rank(140.999), "141");
        assert_eq!(rank(100.0), "100");
        assert_eq!(interval(9.0, 15.0), "9–15");
        assert_eq!(interval(196.95, 272.05), "196–273");
        assert_eq!(whole(201.5), "202");
        assert_eq!(prob(0.836), "83.6 %");
        assert_eq!(share(0.25), "25 %");
        assert_eq!(share(0.125), "12.5 %");
        assert_eq!(idx(-0.00004), "0.000");
        assert_eq!(idx(-0.0461), "\u{2212}0.046");
        assert_eq!(idx_interval(0.9651, 0.7094, 1.2277), "0.965 [0.709, 1.228]");
        assert_eq!(
            factor_name(Lang::Zh, &FactorKind::Weights { depth: 2 }),
            "二级指标权重"
        );
        assert_eq!(
            factor_name(Lang::En, &FactorKind::Weights { depth: 2 }),
            "level-2 weights"
        );
    }

    #[test]
    fn dominant_factor_is_the_largest_total_effect_per_output() {
        let a = audit();
        assert_eq!(dominant(&a, rank_shift)[0].0.kind, FactorKind::Aggregation);
        assert_eq!(
            dominant(&a, tier_change)[0].0.kind,
            FactorKind::Weights { depth: 2 }
        );
        let s = dominant_sentence(Lang::Zh, &a);
        assert!(s.starts_with("排名不确定性主要来自加总方法"), "{s}");
        assert!(s.contains("约 70 %") && s.contains("STi = 0.800"), "{s}");
        assert!(s.contains("其次是二级指标权重（STi = 0.200）"), "{s}");
        assert!(s.contains("影响最大的是二级指标权重（STi = 0.700）"), "{s}");
        assert_eq!(counts(&a), (3, 0, 1));
    }

    #[test]
    fn rank_chart_draws_one_bar_per_unit_in_nominal_order() {
        let a = audit();
        let labels: Vec<String> = a.units.iter().map(|u| u.name.clone()).collect();
        let svg = rank_chart(Lang::En, &a, &labels);
        assert_eq!(svg.matches("<g class=\"rank-interval\"").count(), 3);
        let pos = |code: &str| svg.find(&format!("data-code=\"{code}\"")).unwrap();
        assert!(pos("1") < pos("2") && pos("2") < pos("3"));
        // Whole places for readers: the interval widened outwards, the median rounded.
        assert!(svg.contains("90 % interval 1–3 · median 2 · A 95.0 %"));
        // One tier boundary between the A units and the B unit.
        assert_eq!(svg.matches("stroke-dasharray=\"3 3\"").count(), 1);
        // Rank 1 sits at the top of the plot, the worst rank (3) at the bottom: the bar of unit
        // 3 spans y(2)..y(3) = 44 + 296 · (1..2) / 2.
        assert!(
            svg.contains("y1=\"192\" x2=\"") && svg.contains("y2=\"340\""),
            "{svg}"
        );
    }

    #[test]
    fn tier_strip_stacks_probabilities() {
        let a = audit();
        let s = tier_strip(Lang::Zh, &a, &a.units[0]);
        assert!(s.contains("width=\"25\" height=\"10\" fill=\"#1b5e9e\""));
        assert!(s.contains("x=\"25\" y=\"0\" width=\"75\""));
    }
}
