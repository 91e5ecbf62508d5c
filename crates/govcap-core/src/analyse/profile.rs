//! Per-unit profiles and the few distributions the report draws, computed from
//! [`Evaluation`]s only.
//!
//! Why a module of its own: the blue book's page about one city compares it with the nation
//! and with the top tier at every node, and the summary charts need the sorted scores, their
//! gaps and binned score rates. Computing these here, once, keeps the rule that every figure
//! is computed in the core and the report only formats (ARCHITECTURE.md, "Invariants").
//!
//! Pure: no I/O. Everything is a function of the current evaluation and, optionally, the
//! previous year's (matched by unit code and node id).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::stats;
use crate::evaluate::{Evaluation, UnitResult};

/// How one node stands across the nation and in the top tier, in score rate (0–1) and points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeBenchmark {
    pub id: String,
    pub depth: usize,
    /// Points possible on the node (points scale) or its effective weight × 100 (weights).
    pub points: f64,
    /// Mean score rate over the units with a total.
    pub national_mean_rate: Option<f64>,
    /// Mean score rate over the units of the top tier (tier A).
    pub top_tier_mean_rate: Option<f64>,
    /// Previous year's national mean score rate on the same node id.
    pub previous_national_mean_rate: Option<f64>,
}

/// One unit's standing on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeProfile {
    pub id: String,
    /// Points earned (points scale only).
    pub points: Option<f64>,
    /// Score rate 0–1 (value / value_scale).
    pub rate: Option<f64>,
    /// National percentile 0–1 of the node score ([`stats::percentile_rank`] over the units
    /// with a total and a value on the node).
    pub percentile: Option<f64>,
    /// Previous year's score rate on the same node.
    pub previous_rate: Option<f64>,
}

/// Where a unit stood the year before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousStanding {
    pub total: Option<f64>,
    pub rank: Option<usize>,
    pub province_rank: Option<usize>,
    pub tier: Option<String>,
    pub sublevel: Option<String>,
}

/// Everything the report says about one unit besides what `UnitResult` already holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitProfile {
    pub code: String,
    /// Number of units ranked nationally (units with a total).
    pub ranked: usize,
    /// Number of units ranked in the unit's province.
    pub province_size: usize,
    /// National percentile of the total score.
    pub total_percentile: Option<f64>,
    /// One per node, in `Evaluation::nodes` order.
    pub nodes: Vec<NodeProfile>,
    pub previous: Option<PreviousStanding>,
    /// Total minus the previous year's total.
    pub total_change: Option<f64>,
    /// Places gained nationally since the previous year (positive = moved up).
    pub rank_change: Option<i64>,
}

/// One point of the sorted-score curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub code: String,
    pub total: f64,
    pub tier: Option<String>,
}

/// Totals sorted from highest to lowest and the gaps between neighbours: the picture behind
/// the difference-trend tier rule (breaks fall where the gaps jump).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreCurve {
    pub points: Vec<CurvePoint>,
    /// `gaps[i] = points[i].total − points[i + 1].total` (n − 1 entries).
    pub gaps: Vec<f64>,
}

/// Histogram of the units' score rates on one first-level capability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateDistribution {
    pub id: String,
    /// Counts in `bins` equal-width bins over 0–1; bin i holds [i/bins, (i+1)/bins), the last
    /// also holds 1.
    pub counts: Vec<usize>,
    pub previous_counts: Option<Vec<usize>>,
}

/// A unit whose total moved the most since the previous year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mover {
    pub code: String,
    pub total_change: f64,
    pub rank_change: Option<i64>,
}

/// Every per-unit profile plus the shared benchmarks and distributions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profiles {
    /// Code of the top tier (the first tier of the tier table, "A").
    pub top_tier: Option<String>,
    /// One per node, in `Evaluation::nodes` order.
    pub benchmarks: Vec<NodeBenchmark>,
    /// One per evaluated unit, in `Evaluation::units` order.
    pub units: Vec<UnitProfile>,
    pub curve: ScoreCurve,
    /// One per first-level node.
    pub distributions: Vec<RateDistribution>,
    /// Largest total increases, largest first (at most five; ties in unit order).
    pub risers: Vec<Mover>,
    /// Largest total decreases, largest fall first (at most five; only actual falls).
    pub fallers: Vec<Mover>,
    /// How many units moved up or down a tier since the previous year.
    pub tier_shift: Option<TierShift>,
}

/// Units tiered in both years, by direction of their tier move. The order of tiers is the
/// current tier table's (highest first); a unit whose previous tier code is not in it is not
/// counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TierShift {
    pub up: usize,
    pub down: usize,
    pub same: usize,
}

/// Number of bins of [`RateDistribution`] (5 percentage points each).
pub const RATE_BINS: usize = 20;

fn rate_of(e: &Evaluation, u: &UnitResult, s: usize) -> Option<f64> {
    u.scores
        .get(s)
        .and_then(|x| x.value)
        .map(|v| v / e.framework.value_scale)
}

fn node_rates(e: &Evaluation, s: usize) -> Vec<f64> {
    e.units
        .iter()
        .filter(|u| u.total.is_some())
        .filter_map(|u| rate_of(e, u, s))
        .collect()
}

fn bins_of(rates: &[f64], bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    for &r in rates {
        if !r.is_finite() {
            continue;
        }
        let i = ((r.clamp(0.0, 1.0) * bins as f64).floor() as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
}

/// Computes the profile of every evaluated unit and the report's distributions.
pub fn profiles(current: &Evaluation, previous: Option<&Evaluation>) -> Profiles {
    let e = current;
    let top_tier = e
        .tiers
        .as_ref()
        .and_then(|t| t.tiers.first())
        .map(|t| t.code.clone());
    let scored: Vec<usize> = (0..e.units.len())
        .filter(|&u| e.units[u].total.is_some())
        .collect();
    let prev_slot: HashMap<&str, usize> = previous
        .map(|p| {
            p.nodes
                .iter()
                .enumerate()
                .map(|(s, n)| (n.id.as_str(), s))
                .collect()
        })
        .unwrap_or_default();
    let prev_unit: HashMap<&str, &UnitResult> = previous
        .map(|p| p.units.iter().map(|u| (u.code.as_str(), u)).collect())
        .unwrap_or_default();

    // Benchmarks per node.
    let benchmarks: Vec<NodeBenchmark> = e
        .nodes
        .iter()
        .enumerate()
        .map(|(s, nd)| {
            let top: Vec<f64> = scored
                .iter()
                .map(|&u| &e.units[u])
                .filter(|u| top_tier.is_some() && u.tier == top_tier)
                .filter_map(|u| rate_of(e, u, s))
                .collect();
            NodeBenchmark {
                id: nd.id.clone(),
                depth: nd.depth,
                points: nd.points,
                national_mean_rate: stats::mean(&node_rates(e, s)),
                top_tier_mean_rate: stats::mean(&top),
                previous_national_mean_rate: previous.and_then(|p| {
                    let ps = *prev_slot.get(nd.id.as_str())?;
                    stats::mean(&node_rates(p, ps))
                }),
            }
        })
        .collect();

    // Percentiles per node (and of the total), over units with a total and a value.
    let mut percentiles: Vec<Vec<Option<f64>>> = vec![vec![None; e.units.len()]; e.nodes.len()];
    for (s, col) in percentiles.iter_mut().enumerate() {
        let (who, xs): (Vec<usize>, Vec<f64>) = scored
            .iter()
            .filter_map(|&u| e.units[u].scores.get(s)?.value.map(|v| (u, v)))
            .unzip();
        if let Some(p) = stats::percentile_rank(&xs) {
            for (k, &u) in who.iter().enumerate() {
                col[u] = Some(p[k]);
            }
        }
    }
    let totals: Vec<f64> = scored.iter().filter_map(|&u| e.units[u].total).collect();
    let mut total_pct = vec![None; e.units.len()];
    if let Some(p) = stats::percentile_rank(&totals) {
        for (k, &u) in scored.iter().enumerate() {
            total_pct[u] = Some(p[k]);
        }
    }
    let mut province_sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for &u in &scored {
        *province_sizes
            .entry(e.units[u].province.as_deref().unwrap_or(""))
            .or_default() += 1;
    }

    let units: Vec<UnitProfile> = e
        .units
        .iter()
        .enumerate()
        .map(|(ui, u)| {
            let pu = prev_unit.get(u.code.as_str()).copied();
            let prev_total = pu.and_then(|p| p.total);
            UnitProfile {
                code: u.code.clone(),
                ranked: scored.len(),
                province_size: if u.total.is_some() {
                    province_sizes[u.province.as_deref().unwrap_or("")]
                } else {
                    0
                },
                total_percentile: total_pct[ui],
                nodes: e
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(s, nd)| NodeProfile {
                        id: nd.id.clone(),
                        points: u.scores.get(s).and_then(|x| x.points),
                        rate: rate_of(e, u, s),
                        percentile: percentiles[s][ui],
                        previous_rate: previous
                            .zip(pu)
                            .and_then(|(p, pu)| rate_of(p, pu, *prev_slot.get(nd.id.as_str())?)),
                    })
                    .collect(),
                previous: pu.map(|p| PreviousStanding {
                    total: p.total,
                    rank: p.rank,
                    province_rank: p.province_rank,
                    tier: p.tier.clone(),
                    sublevel: p.sublevel.clone(),
                }),
                total_change: u.total.zip(prev_total).map(|(a, b)| a - b),
                rank_change: u
                    .rank
                    .zip(pu.and_then(|p| p.rank))
                    .map(|(now, before)| before as i64 - now as i64),
            }
        })
        .collect();

    // The sorted-score curve: descending totals, ties in rank then unit order.
    let mut order = scored.clone();
    order.sort_by(|&a, &b| {
        let (ta, tb) = (e.units[a].total.unwrap(), e.units[b].total.unwrap());
        tb.total_cmp(&ta).then(a.cmp(&b))
    });
    let points: Vec<CurvePoint> = order
        .iter()
        .map(|&u| CurvePoint {
            code: e.units[u].code.clone(),
            total: e.units[u].total.unwrap(),
            tier: e.units[u].tier.clone(),
        })
        .collect();
    let gaps = points.windows(2).map(|w| w[0].total - w[1].total).collect();

    let distributions = e
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, nd)| nd.depth == 1)
        .map(|(s, nd)| RateDistribution {
            id: nd.id.clone(),
            counts: bins_of(&node_rates(e, s), RATE_BINS),
            previous_counts: previous.and_then(|p| {
                let ps = *prev_slot.get(nd.id.as_str())?;
                Some(bins_of(&node_rates(p, ps), RATE_BINS))
            }),
        })
        .collect();

    let mut movers: Vec<Mover> = units
        .iter()
        .filter_map(|p| {
            Some(Mover {
                code: p.code.clone(),
                total_change: p.total_change?,
                rank_change: p.rank_change,
            })
        })
        .collect();
    // Stable sorts keep unit order among ties.
    movers.sort_by(|a, b| b.total_change.total_cmp(&a.total_change));
    let risers: Vec<Mover> = movers
        .iter()
        .filter(|m| m.total_change > 0.0)
        .take(5)
        .cloned()
        .collect();
    movers.sort_by(|a, b| a.total_change.total_cmp(&b.total_change));
    let fallers: Vec<Mover> = movers
        .into_iter()
        .filter(|m| m.total_change < 0.0)
        .take(5)
        .collect();

    let tier_shift = previous.and_then(|_| {
        let order: Vec<&str> = e
            .tiers
            .as_ref()?
            .tiers
            .iter()
            .map(|t| t.code.as_str())
            .collect();
        let pos = |t: &Option<String>| order.iter().position(|c| Some(*c) == t.as_deref());
        let mut shift = TierShift {
            up: 0,
            down: 0,
            same: 0,
        };
        for (u, p) in e.units.iter().zip(&units) {
            let before = p.previous.as_ref().and_then(|s| pos(&s.tier));
            if let (Some(now), Some(before)) = (pos(&u.tier), before) {
                match now.cmp(&before) {
                    std::cmp::Ordering::Less => shift.up += 1,
                    std::cmp::Ordering::Greater => shift.down += 1,
                    std::cmp::Ordering::Equal => shift.same += 1,
                }
            }
        }
        Some(shift)
    });

    Profiles {
        top_tier,
        tier_shift,
        benchmarks,
        units,
        curve: ScoreCurve { points, gaps },
        distributions,
        risers,
        fallers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{FrameworkInfo, NodeInfo, NodeScore, Params, TierTable};
    use crate::framework::Scale;
    use crate::tiers::TierInfo;

    fn node(id: &str, parent: Option<&str>, depth: usize, points: f64) -> NodeInfo {
        NodeInfo {
            id: id.into(),
            parent: parent.map(Into::into),
            depth,
            name_zh: id.into(),
            name_en: id.into(),
            points,
            weight: points,
            rule: (depth == 2).then(|| "ratio".into()),
            collection: None,
            channel: None,
            levels: Vec::new(),
        }
    }

    /// A unit with leaf rates `a` (4 points) and `b` (6 points) under one first-level node.
    fn unit(code: &str, prov: &str, a: f64, b: f64, rank: usize, tier: &str) -> UnitResult {
        let (pa, pb) = (a * 4.0, b * 6.0);
        let total = pa + pb;
        UnitResult {
            code: code.into(),
            name: code.into(),
            name_en: code.into(),
            province: Some(prov.into()),
            region: None,
            total: Some(total),
            rank: Some(rank),
            province_rank: None,
            tier: Some(tier.into()),
            sublevel: None,
            scores: vec![
                NodeScore {
                    id: "X".into(),
                    value: Some(total / 10.0),
                    points: Some(total),
                },
                NodeScore {
                    id: "X.a".into(),
                    value: Some(a),
                    points: Some(pa),
                },
                NodeScore {
                    id: "X.b".into(),
                    value: Some(b),
                    points: Some(pb),
                },
            ],
            leaves: Vec::new(),
            fix_first: Vec::new(),
        }
    }

    fn eval(year: i32, units: Vec<UnitResult>) -> Evaluation {
        let tier = |code: &str, count| TierInfo {
            code: code.into(),
            name_zh: code.into(),
            name_en: code.into(),
            cut_line: None,
            lower_break: 0.0,
            upper_break: 0.0,
            count,
            mean: None,
        };
        Evaluation {
            schema: "govcap.results/1".into(),
            year,
            synthetic: false,
            framework: FrameworkInfo {
                id: "t".into(),
                version: "1".into(),
                name_zh: "t".into(),
                name_en: "t".into(),
                scale: Scale::Points,
                total: 10.0,
                value_scale: 1.0,
            },
            params: Params::new(year),
            nodes: vec![
                node("X", None, 1, 10.0),
                node("X.a", Some("X"), 2, 4.0),
                node("X.b", Some("X"), 2, 6.0),
            ],
            aggregation: Vec::new(),
            units,
            not_evaluated: Vec::new(),
            tiers: Some(TierTable {
                tiers: vec![tier("A", 2), tier("B", 2)],
                breaks: Vec::new(),
            }),
            steps: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn current() -> Evaluation {
        // totals: u1 = 4 + 6 = 10, u2 = 2 + 6 = 8, u3 = 2 + 3 = 5, u4 = 0 + 3 = 3
        eval(
            2021,
            vec![
                unit("u1", "P", 1.0, 1.0, 1, "A"),
                unit("u2", "P", 0.5, 1.0, 2, "A"),
                unit("u3", "Q", 0.5, 0.5, 3, "B"),
                unit("u4", "P", 0.0, 0.5, 4, "B"),
            ],
        )
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn benchmarks_are_national_and_top_tier_means_of_rates() {
        let p = profiles(&current(), None);
        assert_eq!(p.top_tier.as_deref(), Some("A"));
        // X.a rates 1, .5, .5, 0 → national .5; tier A (u1, u2) → .75
        let a = &p.benchmarks[1];
        assert!(close(a.national_mean_rate, 0.5));
        assert!(close(a.top_tier_mean_rate, 0.75));
        // X: rates 1, .8, .5, .3 → .65; tier A .9
        assert!(close(p.benchmarks[0].national_mean_rate, 0.65));
        assert!(close(p.benchmarks[0].top_tier_mean_rate, 0.9));
        assert_eq!(p.benchmarks[0].previous_national_mean_rate, None);
    }

    #[test]
    fn percentiles_follow_percentile_rank_with_ties_counted_half() {
        let p = profiles(&current(), None);
        // X.a values 1, .5, .5, 0: u1 beats 3 others → 1; u2, u3 beat one and tie one → 1.5/3
        let pa: Vec<Option<f64>> = p.units.iter().map(|u| u.nodes[1].percentile).collect();
        assert!(close(pa[0], 1.0));
        assert!(close(pa[1], 0.5));
        assert!(close(pa[2], 0.5));
        assert!(close(pa[3], 0.0));
        assert!(close(p.units[1].total_percentile, 2.0 / 3.0));
        assert_eq!(p.units[0].ranked, 4);
        assert_eq!(p.units[0].province_size, 3);
        assert_eq!(p.units[2].province_size, 1);
        assert!(close(p.units[3].nodes[2].points, 3.0));
        assert!(close(p.units[3].nodes[2].rate, 0.5));
    }

    #[test]
    fn curve_is_sorted_descending_with_gaps() {
        let p = profiles(&current(), None);
        let totals: Vec<f64> = p.curve.points.iter().map(|c| c.total).collect();
        assert_eq!(totals, vec![10.0, 8.0, 5.0, 3.0]);
        assert_eq!(p.curve.gaps, vec![2.0, 3.0, 2.0]);
        assert_eq!(p.curve.points[2].tier.as_deref(), Some("B"));
    }

    #[test]
    fn distributions_bin_rates_in_five_point_steps() {
        let p = profiles(&current(), None);
        let d = &p.distributions[0];
        assert_eq!(d.id, "X");
        assert_eq!(d.counts.len(), RATE_BINS);
        // rates 1.0 (last bin), .8 → bin 16, .5 → bin 10, .3 → bin 6
        let mut want = vec![0; RATE_BINS];
        want[19] = 1;
        want[16] = 1;
        want[10] = 1;
        want[6] = 1;
        assert_eq!(d.counts, want);
        assert_eq!(d.previous_counts, None);
    }

    #[test]
    fn year_over_year_changes_and_movers() {
        // previous: u1 9 (rank 1), u2 5 (rank 3), u3 6 (rank 2); u4 not evaluated then.
        let prev = eval(
            2020,
            vec![
                unit("u1", "P", 0.75, 1.0, 1, "A"),
                unit("u2", "P", 0.5, 0.5, 3, "B"),
                unit("u3", "Q", 0.0, 1.0, 2, "A"),
            ],
        );
        let p = profiles(&current(), Some(&prev));
        let u2 = &p.units[1];
        assert!(close(u2.total_change, 3.0));
        assert_eq!(u2.rank_change, Some(1));
        assert_eq!(u2.previous.as_ref().unwrap().tier.as_deref(), Some("B"));
        assert!(close(u2.nodes[2].previous_rate, 0.5));
        assert_eq!(p.units[3].previous, None);
        assert_eq!(p.units[3].total_change, None);
        assert_eq!(p.units[2].rank_change, Some(-1));
        // previous X.a rates .75, .5, 0 → mean 1.25/3
        assert!(close(
            p.benchmarks[1].previous_national_mean_rate,
            1.25 / 3.0
        ));
        let risers: Vec<(&str, f64)> = p
            .risers
            .iter()
            .map(|m| (m.code.as_str(), m.total_change))
            .collect();
        assert_eq!(risers, vec![("u2", 3.0), ("u1", 1.0)]);
        assert_eq!(p.fallers.len(), 1);
        assert_eq!(p.fallers[0].code, "u3");
        assert!((p.fallers[0].total_change + 1.0).abs() < 1e-12);
        let prev_counts = p.distributions[0].previous_counts.as_ref().unwrap();
        assert_eq!(prev_counts.iter().sum::<usize>(), 3);
        assert_eq!(prev_counts[18], 1); // .9
                                        // u1 A→A, u2 B→A (up), u3 A→B (down); u4 new.
        assert_eq!(
            p.tier_shift,
            Some(TierShift {
                up: 1,
                down: 1,
                same: 1
            })
        );
        assert_eq!(profiles(&current(), None).tier_shift, None);
    }
}
