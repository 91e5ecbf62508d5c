//! Statistical audit: rank uncertainty and sensitivity analysis (JRC style, as COINr's
//! `get_sensitivity`).
//!
//! A city that moves from one tier to another will ask whether the move is real or an artefact
//! of the weights and cut lines. The audit answers with a Monte Carlo over the modelling
//! choices: every draw re-scores all units under other weights, normalisation, aggregation,
//! missing-data policy, outlier treatment and tier method ([`Factors`]), sampled by a seeded
//! Sobol' sequence in a Saltelli design ([`design`]). Per unit it reports the nominal rank, the
//! mean and median rank with a 90 % interval (5th–95th percentile, R type 7), how often the unit
//! lands in each tier and sub-level, and a robustness flag; per factor, the first-order and
//! total-effect Sobol' indices of the mean absolute rank shift (Saltelli 2010 / Jansen, with
//! bootstrap intervals) and of the share of units that change tier.
//!
//! The work is split so that it can run with every evaluation: [`Model::prepare`] computes
//! everything that does not depend on the draw once; draws run in parallel (rayon), each
//! aggregating, ranking and classifying one column of totals in reused buffers.
//!
//! Pure: no I/O, no clock; the seed fixes every random number, so the same inputs, factors and
//! settings always give the same [`Audit`].

pub mod design;
pub mod estimate;
pub mod factors;
pub mod model;
pub mod sobol;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::evaluate::{EvaluateError, Params};
use crate::framework::Framework;
use crate::observation::Observation;
use crate::unit::UnitSet;

pub use design::{Block, FactorKind};
pub use estimate::{rank_stats, sobol_indices, RankStats, SobolIndices};
pub use factors::{
    Choice, Factors, FactorsError, NormChoice, TierChoice, WeightNoise, DEFAULT_FACTORS_TOML,
};
pub use model::{DrawChoice, DrawResult, Model, WeightNode};

use design::Design;
use model::NO_TIER;

/// Version tag of [`Audit`] (`audit.json`); bump when a field changes meaning.
pub const AUDIT_SCHEMA: &str = "govcap.audit/1";

/// How big the Monte Carlo is and how results are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Model runs in all. With `d` varying factors the base sample is `N = ⌊draws / (d + 2)⌋`
    /// and `N·(d + 2)` runs are made (the Sobol' sequence is most even when N is a power of 2).
    /// The ranks and tiers of the 2N A/B draws are kept for the per-unit statistics: 5 bytes
    /// per unit and A/B draw (38 MB for 3,000 units and 10,000 draws with d = 6).
    pub draws: usize,
    /// Seed of the Sobol' digital shift and of the bootstrap.
    pub seed: u64,
    /// Bootstrap replicates for the intervals of the sensitivity indices.
    pub bootstrap: usize,
    /// A unit is robust when its nominal rank lies in its 90 % interval and the interval is at
    /// most this share of the number of ranked units wide.
    pub robust_width: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            draws: 10_000,
            seed: 2021,
            bootstrap: 1000,
            robust_width: 0.1,
        }
    }
}

/// Why an audit cannot run; each message names what to change.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AuditError {
    #[error("the evaluation itself fails: {0}")]
    Evaluate(#[from] EvaluateError),
    #[error(transparent)]
    Factors(#[from] FactorsError),
    #[error("{alternative}: indicator {indicator}: {message}")]
    Step {
        alternative: String,
        indicator: String,
        message: String,
    },
    #[error("{alternative}: indicator {indicator} has the value {value} for unit {unit}, but a geometric, harmonic or generalised mean needs positive values; use a normalisation with a positive range, such as {{ method = \"nominal\", low = 1.0, high = 100.0 }} or {{ method = \"min-max\", low = 1.0, high = 100.0 }}")]
    Domain {
        alternative: String,
        indicator: String,
        unit: String,
        value: f64,
    },
    #[error(
        "no factor varies: give at least one list with two alternatives or a weight noise above 0"
    )]
    NothingVaries,
    #[error("{draws} draws are too few for {factors} varying factors: the design needs at least {needed} (2 per matrix A, B and one per factor)")]
    TooFewDraws {
        draws: usize,
        factors: usize,
        needed: usize,
    },
    #[error("the design needs {0} Sobol dimensions (two per perturbed weight and per varying choice), more than the 1024 available; perturb fewer depths")]
    TooManyCoordinates(usize),
    #[error("{tiers} tiers with {sublevels} sub-levels each are more than the audit can count")]
    TooManyTiers { tiers: usize, sublevels: usize },
    #[error("internal check failed: with the nominal settings the audit gives unit {unit} {audit}, but the evaluation gives {published}; please report this")]
    NominalMismatch {
        unit: String,
        published: String,
        audit: String,
    },
}

/// The audit of one evaluation: what `audit.json` holds.
///
/// Schema `govcap.audit/1` (field: meaning):
///
/// * `schema`, `year`, `synthetic` (true when the evaluated data are synthetic),
///   `framework` `{ id, version }`;
/// * `settings` ([`Settings`] as given), `draws` (runs made), `base_samples` (N);
/// * `factors`: the varying factors, in design order, each [`FactorAudit`]: `kind`
///   (`{"kind": "weights", "depth": 2}`, `{"kind": "normalisation"}`, … see [`FactorKind`]),
///   `name`, `alternatives` (labels; draw records refer to them by 0-based index),
///   `coordinates`, and the indices for the two outputs, `rank_shift` and `tier_change`
///   ([`SobolIndices`]: `si`, `sti`, `si_q05`, `si_q95`, `sti_q05`, `sti_q95`; `null` when the
///   output does not vary);
/// * `fixed`: the choices held fixed, `{ kind, alternative }`;
/// * `weight_nodes`: the perturbed nodes `{ id, depth, nominal, noise }`;
/// * `tiers` (codes, best first) and `sublevels` (labels, best first: `A+`, `A`, `A-`, …, `D`);
/// * `rank_shift`, `tier_change`: [`OutputSummary`] of the two model outputs over all draws
///   (mean absolute rank change against the nominal rank; share of units whose tier differs
///   from the nominal tier); `tier_failures` counts draws whose tier method found no valid
///   classification;
/// * `robust_max_width`: the interval width (in ranks) up to which a unit counts as robust;
/// * `units`: one [`UnitAudit`] per evaluated unit, in the evaluation's order.
///
/// Rank statistics and tier probabilities use the `2N` independent draws of matrices A and B
/// (as COINr does); the `AB_i` draws only serve the sensitivity indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub schema: String,
    pub year: i32,
    pub synthetic: bool,
    pub framework: AuditFramework,
    pub settings: Settings,
    pub draws: usize,
    pub base_samples: usize,
    pub factors: Vec<FactorAudit>,
    pub fixed: Vec<FixedChoice>,
    pub weight_nodes: Vec<WeightNode>,
    pub tiers: Vec<String>,
    pub sublevels: Vec<String>,
    pub rank_shift: Option<OutputSummary>,
    pub tier_change: Option<OutputSummary>,
    pub tier_failures: usize,
    pub robust_max_width: f64,
    pub units: Vec<UnitAudit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditFramework {
    pub id: String,
    pub version: String,
}

/// A varying factor and how much of the output variance it drives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorAudit {
    pub kind: FactorKind,
    pub name: String,
    pub alternatives: Vec<String>,
    /// Sobol' coordinates the factor owns (1, or the number of perturbed weights).
    pub coordinates: usize,
    pub rank_shift: Option<SobolIndices>,
    pub tier_change: Option<SobolIndices>,
}

/// A choice the audit holds at one alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedChoice {
    pub kind: FactorKind,
    pub alternative: String,
}

/// Distribution of one model output over all draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSummary {
    pub mean: f64,
    /// Sample variance over the A and B draws (the V of the sensitivity indices).
    pub variance: f64,
    pub min: f64,
    pub max: f64,
}

/// One unit's rank interval and tier stability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitAudit {
    pub code: String,
    pub name: String,
    pub nominal_rank: Option<usize>,
    pub nominal_tier: Option<String>,
    pub nominal_sublevel: Option<String>,
    /// A/B draws in which the unit was ranked.
    pub ranked_draws: usize,
    pub mean_rank: Option<f64>,
    pub median_rank: Option<f64>,
    /// 5th and 95th percentile rank (R type 7): the 90 % interval.
    pub q05_rank: Option<f64>,
    pub q95_rank: Option<f64>,
    pub interval_width: Option<f64>,
    pub nominal_in_interval: bool,
    /// Nominal rank inside the interval and the interval at most `robust_max_width` wide.
    pub robust: bool,
    /// Share of classified A/B draws per tier, aligned with [`Audit::tiers`] (empty when no
    /// draw could classify the unit).
    pub tier_probability: Vec<f64>,
    /// Share per sub-level, aligned with [`Audit::sublevels`].
    pub sublevel_probability: Vec<f64>,
    /// Share of draws that keep the nominal tier.
    pub nominal_tier_probability: Option<f64>,
}

/// The recorded settings and outputs of one draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    pub index: usize,
    pub block: Block,
    /// Row of the A/B matrices (0-based).
    pub base: usize,
    pub choice: DrawChoice,
    pub rank_shift: f64,
    /// `None` when the tier method failed in this draw.
    pub tier_change: Option<f64>,
}

/// An audit and the record of every draw (kept apart because the draws are large).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRun {
    pub audit: Audit,
    pub draws: Vec<Draw>,
}

/// Prepares the model and runs the audit (see [`Model::prepare`] and [`run`]).
pub fn audit(
    fw: &Framework,
    units: &UnitSet,
    observations: &[Observation],
    params: &Params,
    factors: &Factors,
    settings: &Settings,
) -> Result<AuditRun, AuditError> {
    let model = Model::prepare(fw, units, observations, params, factors)?;
    run(&model, settings)
}

/// Mean absolute rank shift and tier-change share of the draw in `s`.
fn outputs(model: &Model, s: &model::Scratch) -> (f64, f64) {
    let per = model.sublevels as u8 + 1;
    let (mut shift, mut ranked, mut moved, mut classed) = (0u64, 0u64, 0u64, 0u64);
    for u in 0..s.ranks.len() {
        let (r0, r) = (model.nominal_rank[u], s.ranks[u]);
        if r0 > 0 && r > 0 {
            shift += u64::from(r0.abs_diff(r));
            ranked += 1;
        }
        let (c0, c) = (model.nominal_cell[u], s.cells[u]);
        if c0 != NO_TIER && c != NO_TIER {
            classed += 1;
            if c0 / per != c / per {
                moved += 1;
            }
        }
    }
    let y_rank = if ranked == 0 {
        f64::NAN
    } else {
        shift as f64 / ranked as f64
    };
    let y_tier = if classed == 0 {
        f64::NAN
    } else {
        moved as f64 / classed as f64
    };
    (y_rank, y_tier)
}

fn summary(y: &[f64], n: usize) -> Option<OutputSummary> {
    if y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(OutputSummary {
        mean: estimate::r_mean(y),
        variance: estimate::r_var(&y[..2 * n]),
        min: y.iter().copied().fold(f64::INFINITY, f64::min),
        max: y.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Runs the draws of a prepared model in parallel and estimates everything.
pub fn run(model: &Model, settings: &Settings) -> Result<AuditRun, AuditError> {
    let f = model.factors();
    let d_probe = Design::new(f, model.weight_nodes(), 1, settings.seed)
        .map_err(|_| AuditError::TooManyCoordinates(2 * design_coords(model)))?
        .ok_or(AuditError::NothingVaries)?;
    let d = d_probe.factors.len();
    let base = settings.draws / (d + 2);
    if base < 2 {
        return Err(AuditError::TooFewDraws {
            draws: settings.draws,
            factors: d,
            needed: 2 * (d + 2),
        });
    }
    let design = Design::new(f, model.weight_nodes(), base, settings.seed)
        .map_err(|_| AuditError::TooManyCoordinates(2 * design_coords(model)))?
        .ok_or(AuditError::NothingVaries)?;
    let n = model.codes.len();
    let total = design.draws();
    let init = || {
        (
            model.scratch(),
            vec![0.0; 2 * design.coords],
            DrawChoice {
                normalisation: 0,
                aggregation: 0,
                missing: 0,
                treatment: 0,
                tiers: 0,
                weight_multipliers: Vec::new(),
            },
        )
    };

    // A and B draws keep every unit's rank and tier; the AB draws only their outputs.
    let mut ranks_ab = vec![0u32; 2 * base * n];
    let mut cells_ab = vec![NO_TIER; 2 * base * n];
    let mut y: Vec<(f64, f64)> = ranks_ab
        .par_chunks_mut(n.max(1))
        .zip(cells_ab.par_chunks_mut(n.max(1)))
        .enumerate()
        .map_init(init, |(s, point, choice), (r, (rk, cl))| {
            design.choice(r, point, choice);
            model.run_into(choice, s);
            rk.copy_from_slice(&s.ranks);
            cl.copy_from_slice(&s.cells);
            outputs(model, s)
        })
        .collect();
    y.par_extend(
        (2 * base..total)
            .into_par_iter()
            .map_init(init, |(s, point, choice), r| {
                design.choice(r, point, choice);
                model.run_into(choice, s);
                outputs(model, s)
            }),
    );
    let y_rank: Vec<f64> = y.iter().map(|p| p.0).collect();
    let y_tier: Vec<f64> = y.iter().map(|p| p.1).collect();
    let tier_failures = y_tier.iter().filter(|v| v.is_nan()).count();

    let rank_idx = sobol_indices(&y_rank, base, d, settings.bootstrap, settings.seed);
    let tier_idx = sobol_indices(&y_tier, base, d, settings.bootstrap, settings.seed ^ 1);

    // Per-unit statistics over the 2N A/B draws.
    let rows = 2 * base;
    let ranked_units = model.nominal_rank.iter().filter(|&&r| r > 0).count();
    let robust_max_width = settings.robust_width * ranked_units as f64;
    let per = model.sublevels + 1;
    let units: Vec<UnitAudit> = (0..n)
        .into_par_iter()
        .map_init(
            || vec![0u32; n + 1],
            |counts, u| {
                counts.iter_mut().for_each(|c| *c = 0);
                let mut tier_counts = vec![0usize; model.tier_codes.len()];
                let mut sub_counts = vec![0usize; model.sublevel_labels.len()];
                let mut classed = 0usize;
                for r in 0..rows {
                    let rank = ranks_ab[r * n + u];
                    if rank > 0 {
                        counts[rank as usize] += 1;
                    }
                    let cell = cells_ab[r * n + u];
                    if cell != NO_TIER {
                        classed += 1;
                        tier_counts[cell as usize / per] += 1;
                        sub_counts[model.sublevel_index(cell)] += 1;
                    }
                }
                let stats = estimate::rank_stats_from_counts(counts);
                let nominal_rank =
                    (model.nominal_rank[u] > 0).then_some(model.nominal_rank[u] as usize);
                let (nominal_tier, nominal_sublevel) = if model.nominal_cell[u] == NO_TIER {
                    (None, None)
                } else {
                    let (t, s) = model.tier_of_cell(model.nominal_cell[u]);
                    (Some(t), s)
                };
                let inside = match (stats, nominal_rank) {
                    (Some(s), Some(r)) => s.q05 <= r as f64 && r as f64 <= s.q95,
                    _ => false,
                };
                let width = stats.map(|s| s.q95 - s.q05);
                let share = |c: usize| c as f64 / classed as f64;
                UnitAudit {
                    code: model.codes[u].clone(),
                    name: model.names[u].clone(),
                    nominal_rank,
                    nominal_tier_probability: (model.nominal_cell[u] != NO_TIER && classed > 0)
                        .then(|| share(tier_counts[model.nominal_cell[u] as usize / per])),
                    nominal_tier,
                    nominal_sublevel,
                    ranked_draws: counts.iter().map(|&c| c as usize).sum(),
                    mean_rank: stats.map(|s| s.mean),
                    median_rank: stats.map(|s| s.median),
                    q05_rank: stats.map(|s| s.q05),
                    q95_rank: stats.map(|s| s.q95),
                    interval_width: width,
                    nominal_in_interval: inside,
                    robust: inside && width.is_some_and(|w| w <= robust_max_width),
                    tier_probability: if classed == 0 {
                        Vec::new()
                    } else {
                        tier_counts.iter().map(|&c| share(c)).collect()
                    },
                    sublevel_probability: if classed == 0 {
                        Vec::new()
                    } else {
                        sub_counts.iter().map(|&c| share(c)).collect()
                    },
                }
            },
        )
        .collect();

    let alternatives = |kind: &FactorKind| -> Vec<String> {
        let labels = model.labels();
        match kind {
            FactorKind::Weights { depth } => {
                let nodes: Vec<&WeightNode> = model
                    .weight_nodes()
                    .iter()
                    .filter(|w| w.depth == *depth)
                    .collect();
                vec![format!(
                    "each of {} weights × U(1 − {n}, 1 + {n})",
                    nodes.len(),
                    n = nodes.first().map_or(0.0, |w| w.noise)
                )]
            }
            FactorKind::Normalisation => labels[0].clone(),
            FactorKind::Aggregation => labels[1].clone(),
            FactorKind::Missing => labels[2].clone(),
            FactorKind::Treatment => labels[3].clone(),
            FactorKind::Tiers => labels[4].clone(),
        }
    };
    let factors_out: Vec<FactorAudit> = design
        .factors
        .iter()
        .enumerate()
        .map(|(i, fac)| FactorAudit {
            name: fac.kind.name(),
            alternatives: alternatives(&fac.kind),
            coordinates: fac.coords.len(),
            rank_shift: rank_idx.as_ref().map(|v| v[i].clone()),
            tier_change: tier_idx.as_ref().map(|v| v[i].clone()),
            kind: fac.kind.clone(),
        })
        .collect();
    let mut fixed = Vec::new();
    for kind in [
        FactorKind::Normalisation,
        FactorKind::Aggregation,
        FactorKind::Missing,
        FactorKind::Treatment,
        FactorKind::Tiers,
    ] {
        if !design.factors.iter().any(|x| x.kind == kind) {
            fixed.push(FixedChoice {
                alternative: alternatives(&kind).into_iter().next().unwrap_or_default(),
                kind,
            });
        }
    }

    let mut point = vec![0.0; 2 * design.coords];
    let draws: Vec<Draw> = (0..total)
        .map(|r| {
            let mut choice = DrawChoice {
                normalisation: 0,
                aggregation: 0,
                missing: 0,
                treatment: 0,
                tiers: 0,
                weight_multipliers: Vec::new(),
            };
            design.choice(r, &mut point, &mut choice);
            let (block, j) = design.block_of(r);
            Draw {
                index: r,
                block,
                base: j,
                choice,
                rank_shift: y_rank[r],
                tier_change: (!y_tier[r].is_nan()).then_some(y_tier[r]),
            }
        })
        .collect();

    Ok(AuditRun {
        audit: Audit {
            schema: AUDIT_SCHEMA.into(),
            year: model.year,
            synthetic: model.synthetic,
            framework: AuditFramework {
                id: model.framework_id.clone(),
                version: model.framework_version.clone(),
            },
            settings: settings.clone(),
            draws: total,
            base_samples: base,
            factors: factors_out,
            fixed,
            weight_nodes: model.weight_nodes().to_vec(),
            tiers: model.tier_codes.clone(),
            sublevels: model.sublevel_labels.clone(),
            rank_shift: summary(&y_rank, base),
            tier_change: summary(&y_tier, base),
            tier_failures,
            robust_max_width,
            units,
        },
        draws,
    })
}

fn design_coords(model: &Model) -> usize {
    let f = model.factors();
    model.weight_nodes().len()
        + [
            f.normalisation.len(),
            f.aggregation.len(),
            f.missing.len(),
            f.treatment.len(),
            f.tiers.len(),
        ]
        .iter()
        .filter(|&&c| c > 1)
        .count()
}
