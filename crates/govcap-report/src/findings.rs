//! The summary page's findings: short sentences generated from the numbers.
//!
//! Each sentence is built from the figures it reports: the direction words (提升 / 下降 /
//! 持平, rose / fell / unchanged), the comparisons (which region leads, which capability or
//! channel moved most, which unit rose most) and whole clauses appear or disappear with the
//! data, so no sentence claims a rise that did not happen or mentions a year that is absent.

use govcap_core::analyse::figures::TierFigure;

use crate::i18n::{num, pct, signed, signed_pp, Lang};
use crate::Ctx;

/// Differences smaller than this (after rounding to two decimals) count as no change.
const EPS: f64 = 0.005;

/// Direction of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Same,
}

pub fn dir(from: f64, to: f64) -> Dir {
    if to - from >= EPS {
        Dir::Up
    } else if from - to >= EPS {
        Dir::Down
    } else {
        Dir::Same
    }
}

/// "由 80.26 提升为 83.59" / "rose from 80.26 to 83.59", with `unit` after each number.
pub fn change(l: Lang, from: f64, to: f64, unit_zh: &str, unit_en: &str) -> String {
    let (a, b) = (num(from), num(to));
    match (l, dir(from, to)) {
        (Lang::Zh, Dir::Up) => format!("由{a}{unit_zh}提升至{b}{unit_zh}"),
        (Lang::Zh, Dir::Down) => format!("由{a}{unit_zh}下降至{b}{unit_zh}"),
        (Lang::Zh, Dir::Same) => format!("保持在{b}{unit_zh}"),
        (Lang::En, Dir::Up) => format!("rose from {a}{unit_en} to {b}{unit_en}"),
        (Lang::En, Dir::Down) => format!("fell from {a}{unit_en} to {b}{unit_en}"),
        (Lang::En, Dir::Same) => format!("stayed at {b}{unit_en}"),
    }
}

/// Like [`change`] for shares shown as percentages.
fn change_pct(l: Lang, from: f64, to: f64) -> String {
    let (a, b) = (pct(from), pct(to));
    let d = dir(from * 100.0, to * 100.0);
    let pp = signed_pp(to - from);
    match (l, d) {
        (Lang::Zh, Dir::Up) => format!("从{a}上升到{b}，提高{}个百分点", &pp[1..]),
        (Lang::Zh, Dir::Down) => format!("从{a}下降到{b}，降低{}个百分点", &pp[3..]),
        (Lang::Zh, Dir::Same) => format!("保持在{b}"),
        (Lang::En, Dir::Up) => format!("rose from {a} to {b} ({pp} percentage points)"),
        (Lang::En, Dir::Down) => format!("fell from {a} to {b} ({pp} percentage points)"),
        (Lang::En, Dir::Same) => format!("stayed at {b}"),
    }
}

fn count_change(l: Lang, from: usize, to: usize, growth: Option<f64>) -> String {
    let g = growth.map(|g| g.abs().round() as i64);
    match (l, to.cmp(&from)) {
        (Lang::Zh, std::cmp::Ordering::Greater) => format!(
            "单位数量由{from}个升为{to}个{}",
            g.map(|g| format!("，增幅约为{g}%")).unwrap_or_default()
        ),
        (Lang::Zh, std::cmp::Ordering::Less) => format!(
            "单位数量由{from}个降为{to}个{}",
            g.map(|g| format!("，降幅约为{g}%")).unwrap_or_default()
        ),
        (Lang::Zh, std::cmp::Ordering::Equal) => format!("单位数量保持{to}个"),
        (Lang::En, std::cmp::Ordering::Greater) => format!(
            "its units rose from {from} to {to}{}",
            g.map(|g| format!(" (+{g}%)")).unwrap_or_default()
        ),
        (Lang::En, std::cmp::Ordering::Less) => format!(
            "its units fell from {from} to {to}{}",
            g.map(|g| format!(" (\u{2212}{g}%)")).unwrap_or_default()
        ),
        (Lang::En, std::cmp::Ordering::Equal) => format!("it kept {to} units"),
    }
}

/// All findings, in reading order.
pub fn findings(c: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(overall(c));
    for t in &c.a.tiers {
        out.push(tier(c, t));
    }
    out.extend(tier_shift(c));
    out.extend(regions(c));
    out.extend(provinces(c));
    out.extend(within_provinces(c));
    out.extend(capabilities(c));
    out.extend(channels(c));
    out.extend(movers(c));
    out
}

fn overall(c: &Ctx) -> Option<String> {
    let s = &c.a.summary;
    let mean = s.mean?;
    let l = c.l;
    let name_of = |code: &str| c.unit(code).map(|u| l.unit_name(u).to_string());
    let best = c.p.curve.points.first();
    let worst = c.p.curve.points.last();
    let extremes = match (best, worst) {
        (Some(b), Some(w)) if c.p.curve.points.len() > 1 => Some((
            num(b.total),
            name_of(&b.code).unwrap_or_default(),
            num(w.total),
            name_of(&w.code).unwrap_or_default(),
        )),
        _ => None,
    };
    let year = c.year();
    Some(match l {
        Lang::Zh => {
            let mut t = format!(
                "{year}年共评价{}个地方政府，平均得分{}分",
                s.units,
                num(mean)
            );
            if let (Some(p), Some(d), Some(py)) = (s.previous_mean, s.mean_change, c.prev_year()) {
                t.push_str(&match dir(p, mean) {
                    Dir::Up => format!("，较{py}年提升{}分（{py}年为{}分）", num(d), num(p)),
                    Dir::Down => format!("，较{py}年下降{}分（{py}年为{}分）", num(-d), num(p)),
                    Dir::Same => format!("，与{py}年持平"),
                });
            }
            if let Some((b, bn, w, wn)) = extremes {
                t.push_str(&format!("；最高分{b}分（{bn}），最低分{w}分（{wn}）"));
            }
            if s.not_evaluated > 0 {
                t.push_str(&format!(
                    "；另有{}个单位本年度无数据，未参评",
                    s.not_evaluated
                ));
            }
            t.push('。');
            t
        }
        Lang::En => {
            let mut t = format!(
                "In {year}, {} local governments were evaluated; the mean score",
                s.units
            );
            match (s.previous_mean, s.mean_change, c.prev_year()) {
                (Some(p), Some(d), Some(py)) => t.push_str(&match dir(p, mean) {
                    Dir::Up => format!(
                        " rose by {} points to {} ({py}: {})",
                        num(d),
                        num(mean),
                        num(p)
                    ),
                    Dir::Down => format!(
                        " fell by {} points to {} ({py}: {})",
                        num(-d),
                        num(mean),
                        num(p)
                    ),
                    Dir::Same => format!(" stayed at {} as in {py}", num(mean)),
                }),
                _ => t.push_str(&format!(" was {}", num(mean))),
            }
            if let Some((b, bn, w, wn)) = extremes {
                t.push_str(&format!(
                    "; the highest was {b} ({bn}) and the lowest {w} ({wn})"
                ));
            }
            if s.not_evaluated > 0 {
                t.push_str(&format!(
                    "; {} listed units had no data this year and were not evaluated",
                    s.not_evaluated
                ));
            }
            t.push('.');
            t
        }
    })
}

fn tier(c: &Ctx, t: &TierFigure) -> String {
    let l = c.l;
    let name = c.tier_name(&t.code);
    let mut parts: Vec<String> = Vec::new();
    match (t.cut_line, t.previous_cut_line) {
        (Some(now), Some(before)) => parts.push(match l {
            Lang::Zh => format!("分数线{}", change(l, before, now, "", "")),
            Lang::En => format!("the cut line {}", change(l, before, now, "", "")),
        }),
        (Some(now), None) => parts.push(match l {
            Lang::Zh => format!("分数线为{}", num(now)),
            Lang::En => format!("the cut line is {}", num(now)),
        }),
        _ => {}
    }
    match (t.mean, t.previous_mean) {
        (Some(now), Some(before)) => parts.push(match l {
            Lang::Zh => format!("平均得分{}", change(l, before, now, "", "")),
            Lang::En => format!("the mean {}", change(l, before, now, "", "")),
        }),
        (Some(now), None) => parts.push(match l {
            Lang::Zh => format!("平均得分{}", num(now)),
            Lang::En => format!("the mean is {}", num(now)),
        }),
        _ => {}
    }
    match t.previous_count {
        Some(before) => parts.push(count_change(l, before, t.count, t.count_growth_pct)),
        None => parts.push(match l {
            Lang::Zh => format!("共{}个单位（占{}）", t.count, pct(t.share)),
            Lang::En => format!("it holds {} units ({})", t.count, pct(t.share)),
        }),
    }
    match l {
        Lang::Zh => format!("{name}类（{}）{}。", t.code, parts.join("，")),
        Lang::En => {
            let mut s = format!("{name} ({}): {}.", t.code, parts.join(", "));
            // Capitalise the first word after the colon.
            if let Some(i) = s.find(": ") {
                let rest = s[i + 2..].to_string();
                let mut ch = rest.chars();
                if let Some(first) = ch.next() {
                    s = format!("{}: {}{}", &s[..i], first.to_uppercase(), ch.as_str());
                }
            }
            s
        }
    }
}

fn tier_shift(c: &Ctx) -> Option<String> {
    let s = c.p.tier_shift?;
    let py = c.prev_year()?;
    Some(match c.l {
        Lang::Zh => format!(
            "与{py}年相比，{}个单位升入更高类型，{}个单位降入更低类型，{}个单位类型不变。",
            s.up, s.down, s.same
        ),
        Lang::En => format!(
            "Compared with {py}, {} units moved up a tier, {} moved down and {} stayed in the same tier.",
            s.up, s.down, s.same
        ),
    })
}

fn regions(c: &Ctx) -> Option<String> {
    let r = &c.a.regions;
    let l = c.l;
    let h = &r.headline;
    let ratio = h.ratio?;
    let (num_r, den_r) = (l.region(&h.numerator), l.region(&h.denominator));
    let mut t = match (l, h.previous_ratio) {
        (Lang::Zh, Some(p)) => format!(
            "{num_r}地区平均得分占{den_r}的比重{}",
            change_pct(l, p, ratio)
        ),
        (Lang::Zh, None) => format!("{num_r}地区平均得分为{den_r}的{}", pct(ratio)),
        (Lang::En, Some(p)) => format!(
            "The {num_r}'s mean score as a share of the {den_r}'s {}",
            change_pct(l, p, ratio)
        ),
        (Lang::En, None) => format!(
            "The {num_r}'s mean score is {} of the {den_r}'s",
            pct(ratio)
        ),
    };
    let best = r.groups.iter().max_by(|a, b| a.mean.total_cmp(&b.mean));
    let worst = r.groups.iter().min_by(|a, b| a.mean.total_cmp(&b.mean));
    if let (Some(b), Some(w)) = (best, worst) {
        if r.groups.len() > 2 && b.group != w.group {
            t.push_str(&match l {
                Lang::Zh => format!(
                    "；{}个区域中{}平均分最高（{}分），{}最低（{}分）",
                    r.groups.len(),
                    l.region(&b.group),
                    num(b.mean),
                    l.region(&w.group),
                    num(w.mean)
                ),
                Lang::En => format!(
                    "; of the {} regions the {} scores highest ({}) and the {} lowest ({})",
                    r.groups.len(),
                    l.region(&b.group),
                    num(b.mean),
                    l.region(&w.group),
                    num(w.mean)
                ),
            });
        }
    }
    t.push_str(l.t("。", "."));
    Some(t)
}

fn provinces(c: &Ctx) -> Option<String> {
    let p = &c.a.provinces;
    let l = c.l;
    let sd = p.sd_of_means?;
    let mut t = match (l, p.previous_sd_of_means) {
        (Lang::Zh, Some(before)) => {
            let verdict = match dir(before, sd) {
                Dir::Up => "，省际差距扩大",
                Dir::Down => "，省际差距缩小",
                Dir::Same => "",
            };
            format!(
                "各省平均得分的标准差{}{verdict}",
                change(l, before, sd, "分", "")
            )
        }
        (Lang::Zh, None) => format!("各省平均得分的标准差为{}分", num(sd)),
        (Lang::En, Some(before)) => {
            let verdict = match dir(before, sd) {
                Dir::Up => ": provinces drew apart",
                Dir::Down => ": provinces drew closer",
                Dir::Same => "",
            };
            format!(
                "The standard deviation of province means {}{verdict}",
                change(l, before, sd, "", "")
            )
        }
        (Lang::En, None) => format!("The standard deviation of province means is {}", num(sd)),
    };
    let risers: Vec<&(String, f64)> = p
        .fastest_improving
        .iter()
        .filter(|x| x.1 > 0.0)
        .take(3)
        .collect();
    if !risers.is_empty() {
        let names: Vec<&str> = risers.iter().map(|x| l.province(&x.0)).collect();
        let gains: Vec<String> = risers.iter().map(|x| num(x.1)).collect();
        t.push_str(&match l {
            Lang::Zh if risers.len() == 1 => {
                format!("；{}提升最快，平均分提升{}分", names[0], gains[0])
            }
            Lang::Zh => format!(
                "；{}提升最快，平均分分别提升{}分",
                names.join("、"),
                gains.join("、")
            ),
            Lang::En => format!(
                "; the fastest improving were {} (+{} points)",
                names.join(", "),
                gains.join(", +")
            ),
        });
    }
    t.push_str(l.t("。", "."));
    Some(t)
}

fn within_provinces(c: &Ctx) -> Option<String> {
    let p = &c.a.provinces;
    if p.within_sd_compared == 0 {
        return None;
    }
    Some(match c.l {
        Lang::Zh => format!(
            "在两年均可比较的{}个省级行政区中，有{}个省内各单位得分的标准差下降，省内差距{}。",
            p.within_sd_compared,
            p.within_sd_fell,
            if p.within_sd_fell * 2 > p.within_sd_compared {
                "总体缩小"
            } else if p.within_sd_fell * 2 == p.within_sd_compared {
                "有增有减"
            } else {
                "多数扩大"
            }
        ),
        Lang::En => format!(
            "Inside provinces, the standard deviation of unit scores fell in {} of the {} provinces comparable in both years{}.",
            p.within_sd_fell,
            p.within_sd_compared,
            if p.within_sd_fell * 2 > p.within_sd_compared {
                ": gaps within provinces mostly narrowed"
            } else if p.within_sd_fell * 2 == p.within_sd_compared {
                ""
            } else {
                ": gaps within provinces mostly widened"
            }
        ),
    })
}

fn capabilities(c: &Ctx) -> Vec<String> {
    let l = c.l;
    let th = crate::i18n::pct_short(c.a.rate_threshold);
    let firsts: Vec<_> = c.a.capabilities.iter().filter(|x| x.depth == 1).collect();
    let mut out = Vec::new();
    for cap in &firsts {
        let name = c.node_name(&cap.id);
        let (Some(rate), Some(share)) = (cap.mean_rate, cap.share_above) else {
            continue;
        };
        let rate_part = match cap.previous_mean_rate {
            Some(p) => match l {
                Lang::Zh => format!("平均得分率{}", change_pct(l, p, rate)),
                Lang::En => format!("mean score rate {}", change_pct(l, p, rate)),
            },
            None => match l {
                Lang::Zh => format!("平均得分率为{}", pct(rate)),
                Lang::En => format!("mean score rate is {}", pct(rate)),
            },
        };
        let share_part = match cap.previous_share_above {
            Some(p) => match l {
                Lang::Zh => format!("得分率超过{th}的单位占比{}", change_pct(l, p, share)),
                Lang::En => format!(
                    "the share of units scoring above {th} {}",
                    change_pct(l, p, share)
                ),
            },
            None => match l {
                Lang::Zh => format!("得分率超过{th}的单位占比{}", pct(share)),
                Lang::En => format!("{} of units score above {th}", pct(share)),
            },
        };
        out.push(match l {
            Lang::Zh => format!("{name}：{rate_part}；{share_part}。"),
            Lang::En => format!("{name}: {rate_part}; {share_part}."),
        });
    }
    // The capability that moved most.
    let moved: Vec<(String, f64)> = firsts
        .iter()
        .filter_map(|x| Some((c.node_name(&x.id), x.mean_rate? - x.previous_mean_rate?)))
        .collect();
    if moved.len() > 1 {
        let top = moved
            .iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .expect("non-empty");
        if dir(0.0, top.1.abs() * 100.0) != Dir::Same {
            out.push(match (l, top.1 > 0.0) {
                (Lang::Zh, true) => format!(
                    "{}项一级能力中，{}的平均得分率变化最大，提高{}个百分点。",
                    moved.len(),
                    top.0,
                    &signed_pp(top.1)[1..]
                ),
                (Lang::Zh, false) => format!(
                    "{}项一级能力中，{}的平均得分率变化最大，降低{}个百分点。",
                    moved.len(),
                    top.0,
                    &signed_pp(top.1)[3..]
                ),
                (Lang::En, _) => format!(
                    "Of the {} first-level capabilities, {} moved most ({} percentage points in mean score rate).",
                    moved.len(),
                    top.0,
                    signed_pp(top.1)
                ),
            });
        }
    }
    out
}

fn channels(c: &Ctx) -> Option<String> {
    let l = c.l;
    let chs = &c.a.channels;
    if chs.is_empty() {
        return None;
    }
    let label = |ch: &govcap_core::analyse::figures::ChannelFigure| {
        l.channel(&ch.channel)
            .map(str::to_string)
            .unwrap_or_else(|| c.node_name(&ch.indicator))
    };
    let list: Vec<String> = chs
        .iter()
        .map(|ch| match l {
            Lang::Zh => format!("{}{}", label(ch), pct(ch.share)),
            Lang::En => format!("{} {}", label(ch), pct(ch.share)),
        })
        .collect();
    let mut t = match l {
        Lang::Zh => format!(
            "渠道覆盖：开通或具备{}的单位占比分别为{}",
            chs.iter().map(&label).collect::<Vec<_>>().join("、"),
            chs.iter()
                .map(|x| pct(x.share))
                .collect::<Vec<_>>()
                .join("、")
        ),
        Lang::En => format!("Channel coverage (share of units): {}", list.join("; ")),
    };
    let best = chs
        .iter()
        .filter_map(|x| Some((x, x.share - x.previous_share?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((ch, d)) = best {
        if dir(0.0, d * 100.0) == Dir::Up {
            t.push_str(&match l {
                Lang::Zh => format!(
                    "；其中{}覆盖率提升最多（{}个百分点）",
                    label(ch),
                    signed_pp(d)
                ),
                Lang::En => format!(
                    "; {} grew most ({} percentage points)",
                    label(ch),
                    signed_pp(d)
                ),
            });
        }
    }
    t.push_str(l.t("。", "."));
    Some(t)
}

fn movers(c: &Ctx) -> Option<String> {
    let l = c.l;
    let up = c.p.risers.first();
    let down = c.p.fallers.first();
    if up.is_none() && down.is_none() {
        return None;
    }
    let name = |code: &str| {
        c.unit(code)
            .map(|u| l.unit_name(u).to_string())
            .unwrap_or_default()
    };
    let rank = |r: Option<i64>| match (l, r) {
        (Lang::Zh, Some(r)) if r > 0 => format!("，排名上升{r}位"),
        (Lang::Zh, Some(r)) if r < 0 => format!("，排名下降{}位", -r),
        (Lang::En, Some(r)) if r > 0 => format!(", up {r} places"),
        (Lang::En, Some(r)) if r < 0 => format!(", down {} places", -r),
        _ => String::new(),
    };
    let mut parts = Vec::new();
    if let Some(m) = up {
        parts.push(match l {
            Lang::Zh => format!(
                "得分提升最多的是{}（{}分{}）",
                name(&m.code),
                signed(m.total_change),
                rank(m.rank_change)
            ),
            Lang::En => format!(
                "the largest gain was {}'s ({} points{})",
                name(&m.code),
                signed(m.total_change),
                rank(m.rank_change)
            ),
        });
    }
    if let Some(m) = down {
        parts.push(match l {
            Lang::Zh => format!(
                "下降最多的是{}（{}分{}）",
                name(&m.code),
                signed(m.total_change),
                rank(m.rank_change)
            ),
            Lang::En => format!(
                "the largest fall was {}'s ({} points{})",
                name(&m.code),
                signed(m.total_change),
                rank(m.rank_change)
            ),
        });
    }
    Some(match l {
        Lang::Zh => format!("{}。", parts.join("；")),
        Lang::En => {
            let s = parts.join("; ");
            let mut ch = s.chars();
            let first = ch
                .next()
                .map(|f| f.to_uppercase().to_string())
                .unwrap_or_default();
            format!("{first}{}.", ch.as_str())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_words_follow_the_numbers() {
        assert_eq!(change(Lang::Zh, 80.26, 83.59, "", ""), "由80.26提升至83.59");
        assert_eq!(
            change(Lang::Zh, 6.58, 5.05, "分", ""),
            "由6.58分下降至5.05分"
        );
        assert_eq!(change(Lang::Zh, 5.051, 5.049, "分", ""), "保持在5.05分");
        assert_eq!(
            change(Lang::En, 6.58, 5.05, "", ""),
            "fell from 6.58 to 5.05"
        );
        assert_eq!(
            change_pct(Lang::Zh, 0.8583, 0.9285),
            "从85.83%上升到92.85%，提高7.02个百分点"
        );
        assert_eq!(
            change_pct(Lang::Zh, 0.9285, 0.8583),
            "从92.85%下降到85.83%，降低7.02个百分点"
        );
        assert_eq!(
            change_pct(Lang::En, 0.6, 0.94),
            "rose from 60.00% to 94.00% (+34.00 percentage points)"
        );
    }

    #[test]
    fn counts_say_growth_like_the_blue_book() {
        assert_eq!(
            count_change(Lang::Zh, 23, 32, Some(39.13)),
            "单位数量由23个升为32个，增幅约为39%"
        );
        assert_eq!(
            count_change(Lang::Zh, 196, 179, Some(-8.67)),
            "单位数量由196个降为179个，降幅约为9%"
        );
        assert_eq!(count_change(Lang::Zh, 5, 5, Some(0.0)), "单位数量保持5个");
        assert_eq!(
            count_change(Lang::En, 196, 179, Some(-8.67)),
            "its units fell from 196 to 179 (\u{2212}9%)"
        );
    }
}
