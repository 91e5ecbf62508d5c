//! The blue book's published figures for one year, and their change against a previous year
//! (method.md §1): tier cut lines, means and counts; sub-level distribution; capability score
//! rates and shares above a threshold; regional and provincial disparity; channel coverage.
//!
//! Everything here is computed from [`Evaluation`]s only, so the report, the spreadsheet and
//! the console summary all show the same numbers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::disparity::{self, Disparity};
use super::stats;
use crate::evaluate::{Evaluation, UnitResult};

/// Version tag of `analyses.json`.
pub const ANALYSES_SCHEMA: &str = "govcap.analyses/1";

/// The region pair of the blue book's headline ratio (西部 mean as a share of 东部 mean).
pub const REGION_RATIO: (&str, &str) = ("西部", "东部");

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub units: usize,
    pub not_evaluated: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub previous_mean: Option<f64>,
    pub mean_change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierFigure {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub cut_line: Option<f64>,
    pub mean: Option<f64>,
    pub count: usize,
    pub share: f64,
    pub previous_cut_line: Option<f64>,
    pub previous_mean: Option<f64>,
    pub previous_count: Option<usize>,
    /// Growth of the count in per cent ("增幅约为39%").
    pub count_growth_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelCount {
    pub label: String,
    pub count: usize,
    pub share: f64,
}

/// Score rate of one first- or second-level capability across units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapabilityFigure {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub depth: usize,
    pub mean_rate: Option<f64>,
    /// Share of units whose score rate is above the threshold.
    pub share_above: Option<f64>,
    pub previous_mean_rate: Option<f64>,
    pub previous_share_above: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigure {
    pub group: String,
    pub n: usize,
    pub mean: f64,
    /// Within-group sample standard deviation (None for one unit).
    pub sd: Option<f64>,
    pub previous_mean: Option<f64>,
    pub change: Option<f64>,
    pub previous_sd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionRatio {
    pub numerator: String,
    pub denominator: String,
    pub ratio: Option<f64>,
    pub previous_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regions {
    pub groups: Vec<GroupFigure>,
    /// Every region's mean as a share of the reference (东部) mean.
    pub ratio_to_reference: Vec<(String, f64)>,
    pub headline: RegionRatio,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provinces {
    pub groups: Vec<GroupFigure>,
    /// Sample SD of the province means (each province counted once, whatever its size).
    pub sd_of_means: Option<f64>,
    pub previous_sd_of_means: Option<f64>,
    /// Provinces by mean improvement, largest first (at most five).
    pub fastest_improving: Vec<(String, f64)>,
    /// Provinces whose within-province SD fell, of those comparable in both years.
    pub within_sd_fell: usize,
    pub within_sd_compared: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelFigure {
    pub channel: String,
    pub indicator: String,
    /// Share of evaluated units with an observed, non-zero value.
    pub share: f64,
    pub previous_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disparities {
    pub by_region: Option<Disparity>,
    pub by_province: Option<Disparity>,
    pub previous_by_region: Option<Disparity>,
    pub previous_by_province: Option<Disparity>,
}

/// A tier move between the previous and this year, counted over units in both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierMove {
    pub from: String,
    pub to: String,
    pub count: usize,
}

/// `analyses.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analyses {
    pub schema: String,
    pub year: i32,
    pub previous_year: Option<i32>,
    pub synthetic: bool,
    pub rate_threshold: f64,
    pub summary: Summary,
    pub tiers: Vec<TierFigure>,
    pub sublevels: Vec<LevelCount>,
    pub capabilities: Vec<CapabilityFigure>,
    pub regions: Regions,
    pub provinces: Provinces,
    pub channels: Vec<ChannelFigure>,
    pub disparity: Disparities,
    pub tier_moves: Vec<TierMove>,
}

fn totals(e: &Evaluation) -> Vec<(&UnitResult, f64)> {
    e.units
        .iter()
        .filter_map(|u| u.total.map(|t| (u, t)))
        .collect()
}

/// Score rate (0–1) of a unit on node slot `s`.
fn rate(e: &Evaluation, u: &UnitResult, s: usize) -> Option<f64> {
    u.scores[s].value.map(|v| v / e.framework.value_scale)
}

fn group_figures<'a>(
    cur: &[(&'a UnitResult, f64)],
    prev: Option<&[(&'a UnitResult, f64)]>,
    key: fn(&UnitResult) -> Option<&str>,
) -> Vec<GroupFigure> {
    let by_group = |xs: &[(&'a UnitResult, f64)]| {
        let mut m: BTreeMap<&'a str, Vec<f64>> = BTreeMap::new();
        for (u, t) in xs {
            if let Some(g) = key(u) {
                m.entry(g).or_default().push(*t);
            }
        }
        m
    };
    let now = by_group(cur);
    let before = prev.map(by_group).unwrap_or_default();
    now.into_iter()
        .map(|(g, xs)| {
            let mean = stats::mean(&xs).unwrap_or(f64::NAN);
            let pm = before.get(g).and_then(|p| stats::mean(p));
            GroupFigure {
                n: xs.len(),
                mean,
                sd: stats::sd_sample(&xs),
                previous_mean: pm,
                change: pm.map(|p| mean - p),
                previous_sd: before.get(g).and_then(|p| stats::sd_sample(p)),
                group: g.to_string(),
            }
        })
        .collect()
}

fn disparity_of(
    xs: &[(&UnitResult, f64)],
    key: fn(&UnitResult) -> Option<&str>,
) -> Option<Disparity> {
    let pairs: Vec<(f64, &str)> = xs
        .iter()
        .filter_map(|(u, t)| key(u).map(|g| (*t, g)))
        .collect();
    let v: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let g: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    disparity::disparity(&v, &g).ok()
}

fn region(u: &UnitResult) -> Option<&str> {
    u.region.as_deref()
}

fn province(u: &UnitResult) -> Option<&str> {
    u.province.as_deref()
}

/// Computes every published figure for `current`, compared with `previous` when given.
pub fn analyse(current: &Evaluation, previous: Option<&Evaluation>) -> Analyses {
    let cur = totals(current);
    let prev = previous.map(totals);
    let xs: Vec<f64> = cur.iter().map(|p| p.1).collect();
    let n = xs.len();
    let prev_mean = prev
        .as_ref()
        .and_then(|p| stats::mean(&p.iter().map(|x| x.1).collect::<Vec<_>>()));
    let mean = stats::mean(&xs);
    let summary = Summary {
        units: n,
        not_evaluated: current.not_evaluated.len(),
        mean,
        median: stats::median(&xs),
        sd: stats::sd_sample(&xs),
        min: stats::min_max(&xs).map(|m| m.0),
        max: stats::min_max(&xs).map(|m| m.1),
        previous_mean: prev_mean,
        mean_change: mean.zip(prev_mean).map(|(a, b)| a - b),
    };

    // Tiers and their change.
    let prev_tiers = previous.and_then(|p| p.tiers.as_ref());
    let tiers = current
        .tiers
        .as_ref()
        .map(|t| {
            t.tiers
                .iter()
                .map(|ti| {
                    let pt = prev_tiers.and_then(|p| p.tiers.iter().find(|x| x.code == ti.code));
                    TierFigure {
                        code: ti.code.clone(),
                        name_zh: ti.name_zh.clone(),
                        name_en: ti.name_en.clone(),
                        cut_line: ti.cut_line,
                        mean: ti.mean,
                        count: ti.count,
                        share: share(ti.count, n),
                        previous_cut_line: pt.and_then(|p| p.cut_line),
                        previous_mean: pt.and_then(|p| p.mean),
                        previous_count: pt.map(|p| p.count),
                        count_growth_pct: pt
                            .filter(|p| p.count > 0)
                            .map(|p| (ti.count as f64 - p.count as f64) / p.count as f64 * 100.0),
                    }
                })
                .collect()
        })
        .unwrap_or_default();

    // Sub-levels in tier order (A+, A, A-, B+, …, D).
    let mut sub_counts: BTreeMap<(String, u8), usize> = BTreeMap::new();
    for (u, _) in &cur {
        if let Some(t) = &u.tier {
            let label = u.sublevel.clone().unwrap_or_else(|| t.clone());
            let order = match label.chars().last() {
                Some('+') => 0,
                Some('-') => 2,
                _ => 1,
            };
            *sub_counts.entry((label, order)).or_default() += 1;
        }
    }
    let mut sublevels: Vec<(String, u8, usize)> = sub_counts
        .into_iter()
        .map(|((l, o), c)| (l, o, c))
        .collect();
    sublevels.sort_by(|a, b| a.0[..1].cmp(&b.0[..1]).then(a.1.cmp(&b.1)));
    let sublevels = sublevels
        .into_iter()
        .map(|(label, _, count)| LevelCount {
            label,
            count,
            share: share(count, n),
        })
        .collect();

    // Capability score rates (first and second level).
    let threshold = current.params.rate_threshold;
    let capability_rates = |e: &Evaluation, id: &str| -> Option<Vec<f64>> {
        let s = e.nodes.iter().position(|nd| nd.id == id)?;
        Some(
            e.units
                .iter()
                .filter(|u| u.total.is_some())
                .filter_map(|u| rate(e, u, s))
                .collect(),
        )
    };
    let capabilities = current
        .nodes
        .iter()
        .filter(|nd| nd.depth <= 2 && nd.rule.is_none())
        .map(|nd| {
            let r = capability_rates(current, &nd.id).unwrap_or_default();
            let pr = previous.and_then(|p| capability_rates(p, &nd.id));
            CapabilityFigure {
                id: nd.id.clone(),
                name_zh: nd.name_zh.clone(),
                name_en: nd.name_en.clone(),
                depth: nd.depth,
                mean_rate: stats::mean(&r),
                share_above: stats::share_above(&r, threshold),
                previous_mean_rate: pr.as_deref().and_then(stats::mean),
                previous_share_above: pr.as_deref().and_then(|p| stats::share_above(p, threshold)),
            }
        })
        .collect();

    // Regions.
    let region_groups = group_figures(&cur, prev.as_deref(), region);
    let mean_of = |gs: &[GroupFigure], g: &str| gs.iter().find(|x| x.group == g).map(|x| x.mean);
    let prev_region_mean = |g: &str| {
        mean_of(&region_groups, g).and(region_groups.iter().find(|x| x.group == g)?.previous_mean)
    };
    let reference = mean_of(&region_groups, REGION_RATIO.1);
    let regions = Regions {
        ratio_to_reference: region_groups
            .iter()
            .filter_map(|g| reference.map(|r| (g.group.clone(), g.mean / r)))
            .collect(),
        headline: RegionRatio {
            numerator: REGION_RATIO.0.into(),
            denominator: REGION_RATIO.1.into(),
            ratio: mean_of(&region_groups, REGION_RATIO.0)
                .zip(reference)
                .map(|(a, b)| a / b),
            previous_ratio: prev_region_mean(REGION_RATIO.0)
                .zip(prev_region_mean(REGION_RATIO.1))
                .map(|(a, b)| a / b),
        },
        groups: region_groups,
    };

    // Provinces.
    let province_groups = group_figures(&cur, prev.as_deref(), province);
    let means: Vec<f64> = province_groups.iter().map(|g| g.mean).collect();
    let prev_means: Vec<f64> = province_groups
        .iter()
        .filter_map(|g| g.previous_mean)
        .collect();
    let mut improving: Vec<(String, f64)> = province_groups
        .iter()
        .filter_map(|g| g.change.map(|c| (g.group.clone(), c)))
        .collect();
    improving.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    improving.truncate(5);
    let comparable: Vec<&GroupFigure> = province_groups
        .iter()
        .filter(|g| g.sd.is_some() && g.previous_sd.is_some())
        .collect();
    let provinces = Provinces {
        sd_of_means: stats::sd_sample(&means),
        previous_sd_of_means: if prev.is_some() {
            stats::sd_sample(&prev_means)
        } else {
            None
        },
        fastest_improving: improving,
        within_sd_fell: comparable.iter().filter(|g| g.sd < g.previous_sd).count(),
        within_sd_compared: comparable.len(),
        groups: province_groups,
    };

    // Channel coverage: leaves tagged with a channel.
    let channel_share = |e: &Evaluation, id: &str| -> Option<f64> {
        let scored: Vec<&UnitResult> = e.units.iter().filter(|u| u.total.is_some()).collect();
        let li = scored.first()?.leaves.iter().position(|l| &*l.id == id)?;
        let with = scored
            .iter()
            .filter(|u| !u.leaves[li].imputed && u.leaves[li].read.is_some_and(|x| x > 0.0))
            .count();
        Some(share(with, scored.len()))
    };
    let channels = current
        .nodes
        .iter()
        .filter_map(|nd| {
            let ch = nd.channel.clone()?;
            Some(ChannelFigure {
                share: channel_share(current, &nd.id).unwrap_or(0.0),
                previous_share: previous.and_then(|p| channel_share(p, &nd.id)),
                indicator: nd.id.clone(),
                channel: ch,
            })
        })
        .collect();

    // The four decompositions are independent and the costliest figures here: in parallel.
    let by = |xs: Option<&[(&UnitResult, f64)]>, key: fn(&UnitResult) -> Option<&str>| {
        xs.and_then(|xs| disparity_of(xs, key))
    };
    let ((by_region, by_province), (previous_by_region, previous_by_province)) = rayon::join(
        || rayon::join(|| by(Some(&cur), region), || by(Some(&cur), province)),
        || {
            rayon::join(
                || by(prev.as_deref(), region),
                || by(prev.as_deref(), province),
            )
        },
    );
    let disparity = Disparities {
        by_region,
        by_province,
        previous_by_region,
        previous_by_province,
    };

    let tier_moves = previous.map(|p| tier_moves(p, current)).unwrap_or_default();
    Analyses {
        schema: ANALYSES_SCHEMA.into(),
        year: current.year,
        previous_year: previous.map(|p| p.year),
        synthetic: current.synthetic || previous.is_some_and(|p| p.synthetic),
        rate_threshold: threshold,
        summary,
        tiers,
        sublevels,
        capabilities,
        regions,
        provinces,
        channels,
        disparity,
        tier_moves,
    }
}

fn share(count: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        count as f64 / n as f64
    }
}

/// Counts of units by (previous tier, current tier), for units tiered in both years.
pub fn tier_moves(previous: &Evaluation, current: &Evaluation) -> Vec<TierMove> {
    // Looked up once per unit; the output's order comes from `counts`.
    let before: std::collections::HashMap<&str, &str> = previous
        .units
        .iter()
        .filter_map(|u| u.tier.as_deref().map(|t| (u.code.as_str(), t)))
        .collect();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for u in &current.units {
        if let (Some(t), Some(&b)) = (&u.tier, before.get(u.code.as_str())) {
            *counts.entry((b.to_string(), t.clone())).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((from, to), count)| TierMove { from, to, count })
        .collect()
}
