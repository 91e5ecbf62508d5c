//! The audit model: everything that does not change between draws is computed once, so a draw
//! only re-runs what its factors change.
//!
//! * Reading, denominating, imputing, treating and normalising the leaves depend only on the
//!   missing-data, treatment and normalisation alternatives, which are few and discrete. Every
//!   combination is computed once up front with the engine's own column functions
//!   ([`impute`], [`treat`], [`normalise`]) into a unit-major matrix (`NaN` = missing), plus
//!   the positive-mapped values and their logarithms where a geometric mean may need them.
//! * A draw then only aggregates: one pass per unit over the tree with the draw's weights and
//!   means, in preallocated scratch buffers (no per-draw copy of the data set), followed by
//!   ranking and tier classification of one column of totals.
//!
//! Arithmetic aggregation repeats the engine's arithmetic operation for operation, so a draw
//! with the nominal settings reproduces `evaluate()` bit for bit ([`Model::prepare`] checks
//! this). Geometric means are chained in the log domain (a geometric parent of geometric
//! children needs no `exp`/`ln` round trip), which agrees with the engine to rounding.

use std::collections::HashMap;

use crate::classify;
use crate::engine::aggregate::Aggregation;
use crate::engine::denominate::denominate;
use crate::engine::impute::impute;
use crate::engine::normalise::{normalise, output_range, Normalisation};
use crate::engine::score::read_value;
use crate::engine::treat::{treat, Treatment};
use crate::evaluate::{evaluate, Evaluation, Params};
use crate::framework::{Framework, Rule, Scale};
use crate::observation::Observation;
use crate::tiers::{self, TierParams};
use crate::unit::{Unit, UnitSet};

use super::factors::{leaf_ranges, Choice, Factors, NormChoice};
use super::AuditError;

/// Units aggregated together: 13 node columns of 256 values stay in the first-level cache.
const BLOCK: usize = 256;

/// Tier cell of a unit in a draw whose classification failed.
pub(crate) const NO_TIER: u8 = u8::MAX;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mean {
    Arith,
    Geo,
    Harm,
    Gen(f64),
}

impl Mean {
    fn of(a: &Aggregation) -> Mean {
        match a {
            Aggregation::Arithmetic => Mean::Arith,
            Aggregation::Geometric => Mean::Geo,
            Aggregation::Harmonic => Mean::Harm,
            Aggregation::Generalised { p } => Mean::Gen(*p),
            Aggregation::Copeland => unreachable!("rejected by Factors::check"),
        }
    }

    fn needs_positive(self) -> bool {
        match self {
            Mean::Geo | Mean::Harm => true,
            Mean::Gen(p) => p < 0.0,
            Mean::Arith => false,
        }
    }

    fn needs_non_negative(self) -> bool {
        self.needs_positive() || matches!(self, Mean::Gen(_))
    }
}

/// How one internal node is computed under one aggregation alternative.
#[derive(Debug, Clone, Copy)]
struct OpPlan {
    mean: Mean,
    /// Read the positive-mapped leaf values (this node or an ancestor needs positive inputs).
    pos: bool,
    /// Store the node's value as its logarithm (its parent is a geometric mean).
    out_log: bool,
}

/// One combination of the pre-aggregation alternatives: leaf values, one column per leaf
/// (leaf-major, so aggregation streams over contiguous columns).
#[derive(Debug)]
struct Combo {
    vals: Vec<f64>,
    /// Whether each leaf column has a missing value (`NaN`).
    has_nan: Vec<bool>,
    /// Values mapped onto a positive range (nominal-onto normalisation); `None` = use `vals`.
    pos: Option<Vec<f64>>,
    /// `ln` of the positive values, when a geometric mean may read them.
    ln_pos: Option<Vec<f64>>,
}

/// How a normalisation alternative turns the aggregated index into a total.
#[derive(Debug, Clone, Copy)]
enum TotalScale {
    /// Multiply by this (the framework total on the points scale, else 1).
    Factor(f64),
    /// Nominal-onto: plain values are multiplied by `factor`; positive-mapped ones are first
    /// mapped back from [low, high] onto [0, top].
    Onto {
        factor: f64,
        low: f64,
        high: f64,
        top: f64,
    },
}

/// The factors of one draw, as indices into the alternatives and weight multipliers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrawChoice {
    pub normalisation: usize,
    pub aggregation: usize,
    pub missing: usize,
    pub treatment: usize,
    pub tiers: usize,
    /// One multiplier per perturbed weight, aligned with [`Model::weight_nodes`].
    pub weight_multipliers: Vec<f64>,
}

/// The outcome of one draw for every evaluated unit (unit-list order).
#[derive(Debug, Clone, PartialEq)]
pub struct DrawResult {
    pub totals: Vec<Option<f64>>,
    pub ranks: Vec<Option<usize>>,
    /// Tier codes; all `None` when the classification failed for this draw.
    pub tiers: Vec<Option<String>>,
    pub sublevels: Vec<Option<String>>,
}

/// A node whose weight the audit perturbs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeightNode {
    pub id: String,
    pub depth: usize,
    /// The framework's weight (points on the points scale).
    pub nominal: f64,
    /// Half-width of its uniform multiplier.
    pub noise: f64,
}

/// Scratch buffers of one worker, reused across its draws.
#[derive(Debug)]
pub(crate) struct Scratch {
    weights: Vec<f64>,
    /// One column per internal node (op-major), and whether it has a missing value.
    buf: Vec<f64>,
    buf_nan: Vec<bool>,
    sum: Vec<f64>,
    sw: Vec<f64>,
    pub(crate) totals: Vec<f64>,
    keys: Vec<(u64, u32)>,
    keys_tmp: Vec<(u64, u32)>,
    /// Scored totals ascending, and the unit at each position.
    scored: Vec<f64>,
    scored_unit: Vec<u32>,
    /// Competition rank per unit, 0 = not ranked.
    pub(crate) ranks: Vec<u32>,
    /// Tier cell per unit ([`NO_TIER`] = none).
    pub(crate) cells: Vec<u8>,
}

/// The prepared audit model of one evaluation.
#[derive(Debug)]
pub struct Model {
    pub(crate) factors: Factors,
    /// Codes and names of the evaluated units (unit-list order).
    pub(crate) codes: Vec<String>,
    pub(crate) names: Vec<String>,
    n_leaves: usize,
    /// Combination index = (missing · n_treatment + treatment) · n_normalisation + normalisation.
    combos: Vec<Combo>,
    n_treat: usize,
    n_norm: usize,
    /// Internal nodes bottom-up; the last one is the index over the top-level nodes.
    ops: Vec<(u32, u32)>,
    /// Child of each slot: `< n_leaves` a leaf column, else `n_leaves + op`.
    child_src: Vec<u32>,
    child_weight: Vec<f64>,
    /// Weight coordinate perturbing the slot's weight (`u32::MAX` = none).
    child_coord: Vec<u32>,
    pub(crate) weight_nodes: Vec<WeightNode>,
    /// Per aggregation alternative, the plan of every op.
    plans: Vec<Vec<OpPlan>>,
    totals_scale: Vec<TotalScale>,
    tier_params: Vec<TierParams>,
    pub(crate) sublevels: usize,
    pub(crate) tier_codes: Vec<String>,
    pub(crate) sublevel_labels: Vec<String>,
    /// Nominal rank per unit (0 = unranked) and tier cell, from the evaluation.
    pub(crate) nominal_rank: Vec<u32>,
    pub(crate) nominal_cell: Vec<u8>,
    labels: [Vec<String>; 5],
    pub(crate) year: i32,
    pub(crate) synthetic: bool,
    pub(crate) framework_id: String,
    pub(crate) framework_version: String,
}

fn step_err(alternative: String, indicator: &str, message: String) -> AuditError {
    AuditError::Step {
        alternative,
        indicator: indicator.to_string(),
        message,
    }
}

impl Model {
    /// Evaluates the nominal run, precomputes every leaf-level combination of the factors, and
    /// checks that the fast path reproduces the nominal evaluation.
    pub fn prepare(
        fw: &Framework,
        units: &UnitSet,
        observations: &[Observation],
        params: &Params,
        factors: &Factors,
    ) -> Result<Model, AuditError> {
        let factors = factors.with_expanded_weights(fw.max_depth());
        factors.check(fw, params)?;
        let nominal = evaluate(fw, units, observations, params)?;
        let mut f = factors;
        if f.normalisation.is_empty() {
            f.normalisation.push(NormChoice::Nominal);
        }
        for v in [&mut f.aggregation] {
            if v.is_empty() {
                v.push(Choice::Nominal);
            }
        }
        if f.missing.is_empty() {
            f.missing.push(Choice::Nominal);
        }
        if f.treatment.is_empty() {
            f.treatment.push(Choice::Nominal);
        }
        if f.tiers.is_empty() {
            f.tiers.push(Choice::Nominal);
        }
        drop_nominal_twins(&mut f, fw, params);
        let labels = labels(&f, fw, params);
        let mut model = build(fw, units, observations, params, f, &nominal)?;
        model.labels = labels;
        model.check_nominal(fw, units, observations, params, &nominal)?;
        Ok(model)
    }

    /// Labels of the alternatives of each discrete choice, in the order normalisation,
    /// aggregation, missing, treatment, tiers; "nominal" says what the run did where it is one
    /// setting, e.g. `nominal (natural-breaks)`.
    pub fn labels(&self) -> &[Vec<String>; 5] {
        &self.labels
    }

    /// Perturbed nodes, aligned with [`DrawChoice::weight_multipliers`].
    pub fn weight_nodes(&self) -> &[WeightNode] {
        &self.weight_nodes
    }

    /// The factors as applied (weights expanded per depth, empty lists filled with nominal).
    pub fn factors(&self) -> &Factors {
        &self.factors
    }

    /// Evaluated unit codes, in the order of every per-unit vector.
    pub fn unit_codes(&self) -> &[String] {
        &self.codes
    }

    pub(crate) fn scratch(&self) -> Scratch {
        let n = self.codes.len();
        let b = n.min(BLOCK);
        Scratch {
            weights: vec![0.0; self.child_src.len()],
            buf: vec![0.0; self.ops.len() * b],
            buf_nan: vec![false; self.ops.len()],
            sum: vec![0.0; b],
            sw: vec![0.0; b],
            totals: vec![0.0; n],
            keys: Vec::with_capacity(n),
            keys_tmp: Vec::with_capacity(n),
            scored: Vec::with_capacity(n),
            scored_unit: Vec::with_capacity(n),
            ranks: vec![0; n],
            cells: vec![NO_TIER; n],
        }
    }

    /// Runs one draw (a convenience that allocates its buffers; the audit loop reuses them).
    ///
    /// # Panics
    /// If an index is out of range or the multipliers do not match [`Self::weight_nodes`].
    pub fn evaluate(&self, c: &DrawChoice) -> DrawResult {
        let mut s = self.scratch();
        self.run_into(c, &mut s);
        let tiers_ok = s.cells.iter().any(|&c| c != NO_TIER);
        DrawResult {
            totals: s
                .totals
                .iter()
                .map(|t| (!t.is_nan()).then_some(*t))
                .collect(),
            ranks: s
                .ranks
                .iter()
                .map(|&r| (r > 0).then_some(r as usize))
                .collect(),
            tiers: s
                .cells
                .iter()
                .map(|&c| (tiers_ok && c != NO_TIER).then(|| self.tier_of_cell(c).0))
                .collect(),
            sublevels: s
                .cells
                .iter()
                .map(|&c| {
                    if tiers_ok && c != NO_TIER {
                        self.tier_of_cell(c).1
                    } else {
                        None
                    }
                })
                .collect(),
        }
    }

    /// Tier code and sub-level label of a cell (the label as `tiers::assign` writes it).
    pub(crate) fn tier_of_cell(&self, cell: u8) -> (String, Option<String>) {
        let per = self.sublevels as u8 + 1;
        let t = (cell / per) as usize;
        let sub = cell % per;
        let code = tiers::tier_code(t);
        let label = (sub > 0).then(|| sublevel_label(&code, self.sublevels, (sub - 1) as usize));
        (code, label)
    }

    /// Index of a cell in [`Self::sublevel_labels`].
    pub(crate) fn sublevel_index(&self, cell: u8) -> usize {
        let per = self.sublevels + 1;
        let t = cell as usize / per;
        let sub = cell as usize % per;
        // Tiers above the lowest list S labels (best first), the lowest one label.
        let s = self.sublevels;
        let before = if s == 0 { t } else { t * s };
        if sub == 0 {
            before
        } else {
            before + (s - sub)
        }
    }

    /// Computes totals, ranks and tier cells of one draw into `s`.
    pub(crate) fn run_into(&self, c: &DrawChoice, s: &mut Scratch) {
        let combo =
            &self.combos[(c.missing * self.n_treat + c.treatment) * self.n_norm + c.normalisation];
        let plan = &self.plans[c.aggregation];
        for (slot, w) in s.weights.iter_mut().enumerate() {
            let coord = self.child_coord[slot];
            *w = if coord == u32::MAX {
                self.child_weight[slot]
            } else {
                self.child_weight[slot] * c.weight_multipliers[coord as usize]
            };
        }
        let n = self.codes.len();
        let l = self.n_leaves;
        let vals = combo.vals.as_slice();
        let pos = combo.pos.as_deref().unwrap_or(vals);
        let ln_pos = combo.ln_pos.as_deref().unwrap_or(&[]);
        let Scratch {
            weights,
            buf,
            buf_nan,
            sum,
            sw,
            totals,
            ..
        } = s;
        let last = self.ops.len() - 1;
        // Units in blocks, so that a block's node columns stay in the first-level cache while
        // the leaf columns stream through once.
        for b0 in (0..n).step_by(BLOCK) {
            let bn = BLOCK.min(n - b0);
            let sum = &mut sum[..bn];
            let sw = &mut sw[..bn];
            for (o, &(first, len)) in self.ops.iter().enumerate() {
                let p = plan[o];
                let leaf_src: &[f64] = match p.mean {
                    Mean::Geo => ln_pos,
                    _ if p.pos => pos,
                    _ => vals,
                };
                let range = first as usize..(first + len) as usize;
                let srcs = &self.child_src[range.clone()];
                let ws = &weights[range];
                let (done, rest) = buf.split_at_mut(o * bn);
                let out = &mut rest[..bn];
                let col_of = |src: usize| -> (&[f64], bool) {
                    if src < l {
                        let c = src * n + b0;
                        (&leaf_src[c..c + bn], combo.has_nan[src])
                    } else {
                        let k = src - l;
                        (&done[k * bn..(k + 1) * bn], buf_nan[k])
                    }
                };
                // Same operations, in the same child order, as engine::aggregate: Σ w·x, then
                // Σ w over the children present, one division at the end.
                let any_nan = srcs.iter().any(|&src| col_of(src as usize).1);
                sum.fill(0.0);
                let mut sw_all = 0.0f64;
                if any_nan {
                    sw.fill(0.0);
                }
                for (&src, &w) in srcs.iter().zip(ws) {
                    let (col, col_nan) = col_of(src as usize);
                    match (p.mean, col_nan) {
                        (Mean::Arith | Mean::Geo, false) => {
                            for (a, &x) in sum.iter_mut().zip(col) {
                                *a += w * x;
                            }
                        }
                        (Mean::Arith | Mean::Geo, true) => {
                            // Branch-free: a missing child adds exactly 0 to both sums.
                            for ((a, b), &x) in sum.iter_mut().zip(sw.iter_mut()).zip(col) {
                                let present = !x.is_nan();
                                *a += if present { w * x } else { 0.0 };
                                *b += if present { w } else { 0.0 };
                            }
                        }
                        (Mean::Harm, _) => {
                            for (a, &x) in sum.iter_mut().zip(col) {
                                if !x.is_nan() {
                                    *a += w / x;
                                }
                            }
                        }
                        (Mean::Gen(q), _) => {
                            for (a, &x) in sum.iter_mut().zip(col) {
                                if !x.is_nan() {
                                    *a += w * x.powf(q);
                                }
                            }
                        }
                    }
                    if any_nan {
                        if !col_nan || matches!(p.mean, Mean::Harm | Mean::Gen(_)) {
                            for (b, &x) in sw.iter_mut().zip(col) {
                                *b += if x.is_nan() { 0.0 } else { w };
                            }
                        }
                    } else {
                        sw_all += w;
                    }
                }
                // A unit without any child has both sums 0, and 0/0 is the NaN of "missing".
                let sws: &[f64] = if any_nan { sw } else { &[] };
                match (p.mean, any_nan) {
                    (Mean::Arith | Mean::Geo, false) => {
                        for (o_, &a) in out.iter_mut().zip(sum.iter()) {
                            *o_ = a / sw_all;
                        }
                    }
                    (Mean::Arith | Mean::Geo, true) => {
                        for ((o_, &a), &b) in out.iter_mut().zip(sum.iter()).zip(sws) {
                            *o_ = a / b;
                        }
                    }
                    (Mean::Harm, _) => {
                        for (k, (o_, &a)) in out.iter_mut().zip(sum.iter()).enumerate() {
                            *o_ = sws.get(k).copied().unwrap_or(sw_all) / a;
                        }
                    }
                    (Mean::Gen(q), _) => {
                        for (k, (o_, &a)) in out.iter_mut().zip(sum.iter()).enumerate() {
                            *o_ = (a / sws.get(k).copied().unwrap_or(sw_all)).powf(1.0 / q);
                        }
                    }
                }
                match (p.mean == Mean::Geo, p.out_log) {
                    (true, false) => out.iter_mut().for_each(|v| *v = v.exp()),
                    (false, true) => out.iter_mut().for_each(|v| *v = v.ln()),
                    _ => {}
                }
                let nan = any_nan && sws.contains(&0.0);
                buf_nan[o] = nan;
            }
            let root = &buf[last * bn..(last + 1) * bn];
            let scale = self.totals_scale[c.normalisation];
            for (t, &v) in totals[b0..b0 + bn].iter_mut().zip(root) {
                *t = match scale {
                    TotalScale::Factor(f) => v * f,
                    TotalScale::Onto {
                        factor,
                        low,
                        high,
                        top,
                    } => {
                        if plan[last].pos {
                            (v - low) / (high - low) * top
                        } else {
                            v * factor
                        }
                    }
                };
            }
        }
        self.rank_and_classify(c.tiers, s);
    }

    /// Competition ranks (1 = highest, ties share the smallest rank) and tier cells.
    fn rank_and_classify(&self, tier_alt: usize, s: &mut Scratch) {
        s.keys.clear();
        for (u, &t) in s.totals.iter().enumerate() {
            s.ranks[u] = 0;
            s.cells[u] = NO_TIER;
            if !t.is_nan() {
                s.keys.push((!order_key(t), u as u32));
            }
        }
        radix_sort(&mut s.keys, &mut s.keys_tmp);
        let mut prev = None;
        let mut prev_rank = 0u32;
        for (pos, &(key, u)) in s.keys.iter().enumerate() {
            let r = if prev == Some(key) {
                prev_rank
            } else {
                pos as u32 + 1
            };
            s.ranks[u as usize] = r;
            prev = Some(key);
            prev_rank = r;
        }
        // Classify the totals in ascending order: the classifier's own sort then finds them
        // already sorted (a linear pass), and classes do not depend on the input order.
        s.scored.clear();
        s.scored_unit.clear();
        for &(_, u) in s.keys.iter().rev() {
            s.scored.push(s.totals[u as usize]);
            s.scored_unit.push(u);
        }
        let p = &self.tier_params[tier_alt];
        if s.scored.len() < p.k.max(1) {
            return;
        }
        let Ok(classes) = classify::classify(&s.scored, p.k, &p.method) else {
            return;
        };
        let k = classes.counts.len();
        let with_sub: Vec<usize> = if p.sublevels > 0 {
            (1..k).collect()
        } else {
            Vec::new()
        };
        let subs = classify::sublevels(
            &s.scored,
            &classes,
            &with_sub,
            p.sublevels.max(1),
            p.sublevel_method,
        );
        let per = p.sublevels as u8 + 1;
        for (i, &u) in s.scored_unit.iter().enumerate() {
            let t = (k - 1 - classes.class_of[i]) as u8;
            let sub = subs[i].map_or(0, |l| l as u8 + 1);
            s.cells[u as usize] = t * per + sub;
        }
    }

    fn check_nominal(
        &mut self,
        fw: &Framework,
        units: &UnitSet,
        observations: &[Observation],
        params: &Params,
        nominal: &Evaluation,
    ) -> Result<(), AuditError> {
        // The nominal configuration may not be among the alternatives: build it on its own.
        let mut f = self.factors.clone();
        f.normalisation = vec![NormChoice::Nominal];
        f.aggregation = vec![Choice::Nominal];
        f.missing = vec![Choice::Nominal];
        f.treatment = vec![Choice::Nominal];
        f.tiers = vec![Choice::Nominal];
        let m = build(fw, units, observations, params, f, nominal)?;
        let choice = DrawChoice {
            normalisation: 0,
            aggregation: 0,
            missing: 0,
            treatment: 0,
            tiers: 0,
            weight_multipliers: vec![1.0; m.weight_nodes.len()],
        };
        let r = m.evaluate(&choice);
        for (u, res) in nominal.units.iter().enumerate() {
            let same_total = match (res.total, r.totals[u]) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                (None, None) => true,
                _ => false,
            };
            if !same_total || res.rank != r.ranks[u] || res.tier != r.tiers[u] {
                return Err(AuditError::NominalMismatch {
                    unit: res.code.clone(),
                    published: format!("{:?} rank {:?} tier {:?}", res.total, res.rank, res.tier),
                    audit: format!(
                        "{:?} rank {:?} tier {:?}",
                        r.totals[u], r.ranks[u], r.tiers[u]
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The run's setting of a choice when it is one setting everywhere.
fn uniform<T: PartialEq + Clone>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

fn nominal_aggregation(fw: &Framework) -> Option<Aggregation> {
    uniform((0..fw.max_depth()).map(|d| fw.method.aggregation.at(d).clone()))
}

fn continuous_leaves(fw: &Framework) -> Vec<&crate::framework::Leaf> {
    fw.leaves()
        .into_iter()
        .filter_map(|i| fw.node(i).leaf.as_ref())
        .filter(|l| matches!(l.rule, Rule::Continuous))
        .collect()
}

fn resolved_tiers(c: &super::factors::TierChoice, params: &Params) -> TierParams {
    TierParams {
        method: c.method.clone(),
        sublevel_method: c.sublevels.unwrap_or(params.tiers.sublevel_method),
        ..params.tiers.clone()
    }
}

/// Removes alternatives that are the nominal setting under another name (e.g. "natural-breaks"
/// when the run used natural breaks), so a factor never varies between equal settings.
fn drop_nominal_twins(f: &mut Factors, fw: &Framework, params: &Params) {
    fn drop<T>(v: &mut Vec<Choice<T>>, twin: impl Fn(&T) -> bool) {
        if v.iter().any(|c| matches!(c, Choice::Nominal)) {
            v.retain(|c| !matches!(c, Choice::Alt(x) if twin(x)));
        }
    }
    let agg = nominal_aggregation(fw);
    drop(&mut f.aggregation, |a| agg.as_ref() == Some(a));
    let leaves: Vec<&crate::framework::Leaf> = fw
        .leaves()
        .into_iter()
        .filter_map(|i| fw.node(i).leaf.as_ref())
        .collect();
    drop(&mut f.missing, |m| {
        leaves.iter().all(|l| fw.missing(l) == *m)
    });
    let cont = continuous_leaves(fw);
    drop(&mut f.treatment, |t| {
        cont.iter().all(|l| fw.treatment(l) == *t)
    });
    drop(&mut f.tiers, |t| resolved_tiers(t, params) == params.tiers);
}

fn labels(f: &Factors, fw: &Framework, params: &Params) -> [Vec<String>; 5] {
    use super::factors::label_of;
    let nominal = |what: Option<String>| match what {
        Some(w) => format!("nominal ({w})"),
        None => "nominal".to_string(),
    };
    let leaves: Vec<&crate::framework::Leaf> = fw
        .leaves()
        .into_iter()
        .filter_map(|i| fw.node(i).leaf.as_ref())
        .collect();
    let cont = continuous_leaves(fw);
    let agg = nominal(nominal_aggregation(fw).map(|a| label_of(&a)));
    let miss = nominal(uniform(leaves.iter().map(|l| fw.missing(l))).map(|m| label_of(&m)));
    let treat_ = nominal(uniform(cont.iter().map(|l| fw.treatment(l))).map(|t| label_of(&t)));
    let tiers_ = nominal(Some(label_of(&params.tiers.method)));
    let pick = |c_label: String, is_nominal: bool, nominal_label: &str| {
        if is_nominal {
            nominal_label.to_string()
        } else {
            c_label
        }
    };
    [
        f.normalisation.iter().map(NormChoice::label).collect(),
        f.aggregation
            .iter()
            .map(|c| pick(c.label(), matches!(c, Choice::Nominal), &agg))
            .collect(),
        f.missing
            .iter()
            .map(|c| pick(c.label(), matches!(c, Choice::Nominal), &miss))
            .collect(),
        f.treatment
            .iter()
            .map(|c| pick(c.label(), matches!(c, Choice::Nominal), &treat_))
            .collect(),
        f.tiers
            .iter()
            .map(|c| pick(c.label(), matches!(c, Choice::Nominal), &tiers_))
            .collect(),
    ]
}

/// Sub-level label as `tiers::assign` writes it: with 3 sub-levels `A+`, `A`, `A-`; otherwise
/// numbered from the top.
fn sublevel_label(code: &str, n: usize, level: usize) -> String {
    if n == 3 {
        format!("{code}{}", ["-", "", "+"][level])
    } else {
        format!("{code}{}", n - level)
    }
}

/// LSD radix sort of (key, index) pairs by key, 8 bits per pass; passes where every key has
/// the same byte are skipped (totals share their sign and exponent bytes).
fn radix_sort(keys: &mut Vec<(u64, u32)>, tmp: &mut Vec<(u64, u32)>) {
    let n = keys.len();
    tmp.clear();
    tmp.resize(n, (0, 0));
    let mut counts = [0usize; 256];
    for shift in (0..64).step_by(8) {
        counts.fill(0);
        for &(k, _) in keys.iter() {
            counts[((k >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&n) {
            continue;
        }
        let mut total = 0;
        for c in counts.iter_mut() {
            let x = *c;
            *c = total;
            total += x;
        }
        for &e in keys.iter() {
            let b = ((e.0 >> shift) & 0xff) as usize;
            tmp[counts[b]] = e;
            counts[b] += 1;
        }
        std::mem::swap(keys, tmp);
    }
}

/// Order-preserving map of a finite f64 onto u64 (−0 and +0 are one value, as in
/// `stats::rank_competition_desc`).
fn order_key(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// One column per leaf, `None` = missing.
type Columns = Vec<Vec<Option<f64>>>;

/// Which units are evaluated and every leaf's column after reading and denominating, as
/// `evaluate()` computes them (the inputs have already passed `evaluate()`'s checks).
fn raw_columns(
    fw: &Framework,
    units: &UnitSet,
    observations: &[Observation],
    year: i32,
) -> Result<(Vec<usize>, Columns), AuditError> {
    let leaves = fw.leaves();
    let leaf_slot: HashMap<usize, usize> =
        leaves.iter().enumerate().map(|(s, &i)| (i, s)).collect();
    let mut has = vec![false; units.len()];
    for o in observations.iter().filter(|o| o.year == year) {
        if let Some(u) = units.position(&o.unit) {
            has[u] = true;
        }
    }
    let evaluated: Vec<usize> = (0..units.len()).filter(|&u| has[u]).collect();
    let slot_of: HashMap<usize, usize> =
        evaluated.iter().enumerate().map(|(s, &u)| (u, s)).collect();
    let n = evaluated.len();
    let mut cols = vec![vec![None; n]; leaves.len()];
    for o in observations.iter().filter(|o| o.year == year) {
        let (Some(u), Some(i)) = (units.position(&o.unit), fw.position(&o.indicator)) else {
            continue;
        };
        let (Some(leaf), Some(&ls)) = (&fw.node(i).leaf, leaf_slot.get(&i)) else {
            continue;
        };
        if let Ok(x) = read_value(&leaf.rule, &o.value) {
            cols[ls][slot_of[&u]] = Some(x);
        }
    }
    let eval_units: Vec<&Unit> = evaluated.iter().map(|&u| &units.units()[u]).collect();
    for (ls, &i) in leaves.iter().enumerate() {
        let node = fw.node(i);
        let leaf = node.leaf.as_ref().expect("leaf");
        if let (Rule::Continuous, Some(attr)) = (&leaf.rule, &leaf.denominator) {
            let denom: Vec<Option<f64>> = eval_units.iter().map(|u| u.number(attr)).collect();
            cols[ls] = denominate(&cols[ls], &denom, fw.method.denominator_scale)
                .map_err(|e| step_err("nominal".into(), &node.id, e.to_string()))?;
        }
    }
    Ok((evaluated, cols))
}

fn build(
    fw: &Framework,
    units: &UnitSet,
    observations: &[Observation],
    params: &Params,
    f: Factors,
    nominal: &Evaluation,
) -> Result<Model, AuditError> {
    let (evaluated, raw) = raw_columns(fw, units, observations, params.year)?;
    let eval_units: Vec<&Unit> = evaluated.iter().map(|&u| &units.units()[u]).collect();
    let n = evaluated.len();
    let leaves = fw.leaves();
    let l = leaves.len();
    let weights_top = match fw.scale {
        Scale::Points => 1.0,
        Scale::Weights => output_range(&fw.method.normalisation).map_or(1.0, |(_, hi)| hi),
    };
    let ranges = leaf_ranges(fw);

    // Aggregation plans.
    let tree = fw.tree_order();
    let internal_bottom_up: Vec<usize> = fw
        .bottom_up()
        .iter()
        .copied()
        .filter(|&i| !fw.is_leaf(i))
        .collect();
    let leaf_index: HashMap<usize, usize> =
        leaves.iter().enumerate().map(|(s, &i)| (i, s)).collect();
    let op_index: HashMap<usize, usize> = internal_bottom_up
        .iter()
        .enumerate()
        .map(|(o, &i)| (i, o))
        .collect();
    let n_ops = internal_bottom_up.len() + 1;
    let mut ops = Vec::with_capacity(n_ops);
    let mut child_src = Vec::new();
    let mut child_weight = Vec::new();
    let mut child_node = Vec::new();
    let mut op_depth = Vec::with_capacity(n_ops);
    let mut parent_op = vec![usize::MAX; n_ops];
    let mut push_children = |kids: &[usize], o: usize, ops: &mut Vec<(u32, u32)>| {
        ops.push((child_src.len() as u32, kids.len() as u32));
        for &c in kids {
            let src = match leaf_index.get(&c) {
                Some(&ls) => ls,
                None => {
                    let co = op_index[&c];
                    parent_op[co] = o;
                    l + co
                }
            };
            child_src.push(src as u32);
            child_weight.push(fw.node(c).weight);
            child_node.push(c);
        }
    };
    for (o, &i) in internal_bottom_up.iter().enumerate() {
        push_children(fw.children(i), o, &mut ops);
        op_depth.push(fw.depth(i));
    }
    push_children(fw.roots(), n_ops - 1, &mut ops);
    op_depth.push(0);

    let mut plans = Vec::new();
    for a in &f.aggregation {
        let means: Vec<Mean> = op_depth
            .iter()
            .map(|&d| match a {
                Choice::Nominal => Mean::of(fw.method.aggregation.at(d)),
                Choice::Alt(m) => Mean::of(m),
            })
            .collect();
        let mut plan: Vec<OpPlan> = means
            .iter()
            .map(|&mean| OpPlan {
                mean,
                pos: mean.needs_non_negative(),
                out_log: false,
            })
            .collect();
        // Top-down: a node reads positive values if it or any ancestor needs them.
        for o in (0..n_ops).rev() {
            let p = parent_op[o];
            if p != usize::MAX {
                plan[o].pos |= plan[p].pos;
                plan[o].out_log = means[p] == Mean::Geo;
            }
        }
        plans.push(plan);
    }
    let any_geo = plans.iter().flatten().any(|p| p.mean == Mean::Geo);
    let need_pos = plans.iter().flatten().any(|p| p.mean.needs_positive());
    let need_nonneg = plans.iter().flatten().any(|p| p.mean.needs_non_negative());

    // Weight coordinates.
    let mut weight_nodes = Vec::new();
    let mut coord_of_node: HashMap<usize, u32> = HashMap::new();
    for w in &f.weights {
        if w.noise == 0.0 {
            continue;
        }
        for &i in tree.iter().filter(|&&i| fw.depth(i) == w.depth) {
            // An only child's weight cancels when the parent renormalises: nothing to vary.
            let siblings = match &fw.node(i).parent {
                Some(p) => fw.children(fw.position(p).expect("validated parent")).len(),
                None => fw.roots().len(),
            };
            if siblings < 2 {
                continue;
            }
            coord_of_node.insert(i, weight_nodes.len() as u32);
            weight_nodes.push(WeightNode {
                id: fw.node(i).id.clone(),
                depth: w.depth,
                nominal: fw.node(i).weight,
                noise: w.noise,
            });
        }
    }
    let child_coord: Vec<u32> = child_node
        .iter()
        .map(|c| coord_of_node.get(c).copied().unwrap_or(u32::MAX))
        .collect();

    // Leaf combinations.
    let reference_pos = |code: &str| {
        evaluated
            .iter()
            .position(|&u| units.units()[u].code == code)
    };
    let mut combos = Vec::new();
    for m in &f.missing {
        for t in &f.treatment {
            // Impute and treat once per (missing, treatment).
            let mut cols: Vec<Vec<Option<f64>>> = Vec::with_capacity(l);
            for (ls, &i) in leaves.iter().enumerate() {
                let node = fw.node(i);
                let leaf = node.leaf.as_ref().expect("leaf");
                let policy = match m {
                    Choice::Nominal => fw.missing(leaf),
                    Choice::Alt(p) => p.clone(),
                };
                let group_col: Option<Vec<Option<&str>>> = policy
                    .group()
                    .map(|g| eval_units.iter().map(|u| u.attr(g)).collect());
                if let (Some(g), Some(gc)) = (policy.group(), &group_col) {
                    if gc.iter().all(Option::is_none) {
                        return Err(step_err(
                            format!("missing {}", m.label()),
                            &node.id,
                            format!("the group column {g:?} is not in the unit list"),
                        ));
                    }
                }
                let mut col = impute(&raw[ls], group_col.as_deref(), &policy).values;
                if matches!(leaf.rule, Rule::Continuous) {
                    let tr = match t {
                        Choice::Nominal => fw.treatment(leaf),
                        Choice::Alt(x) => x.clone(),
                    };
                    if tr != Treatment::None {
                        col = treat(&col, &tr).values;
                    }
                }
                cols.push(col);
            }
            for nc in &f.normalisation {
                let what = || {
                    format!(
                        "missing {} / treatment {} / normalisation {}",
                        m.label(),
                        t.label(),
                        nc.label()
                    )
                };
                let mut vals = vec![f64::NAN; n * l];
                let mut pos_m: Option<Vec<f64>> = match nc {
                    NormChoice::NominalOnto { .. } if need_nonneg => Some(vec![f64::NAN; n * l]),
                    _ => None,
                };
                for (ls, &i) in leaves.iter().enumerate() {
                    let node = fw.node(i);
                    let leaf = node.leaf.as_ref().expect("leaf");
                    let continuous = matches!(leaf.rule, Rule::Continuous);
                    let col = &cols[ls];
                    let norm_with = |norm: &Normalisation, direction: f64| {
                        let reference = match norm {
                            Normalisation::DistToReference { reference, .. } => {
                                let p = reference_pos(reference).ok_or_else(|| {
                                    step_err(
                                        what(),
                                        &node.id,
                                        format!("reference unit {reference:?} is not evaluated"),
                                    )
                                })?;
                                col[p]
                            }
                            _ => None,
                        };
                        normalise(col, direction, norm, reference)
                            .map_err(|e| step_err(what(), &node.id, e.to_string()))
                    };
                    let out: Vec<Option<f64>> = match nc {
                        NormChoice::Nominal | NormChoice::NominalOnto { .. } => {
                            if continuous {
                                let mut v = norm_with(&fw.normalisation(leaf), leaf.direction)?;
                                if fw.scale == Scale::Points {
                                    for x in v.iter_mut().flatten() {
                                        *x = x.clamp(0.0, 1.0);
                                    }
                                }
                                v
                            } else if weights_top != 1.0 {
                                col.iter().map(|v| v.map(|x| x * weights_top)).collect()
                            } else {
                                col.clone()
                            }
                        }
                        NormChoice::Method(norm) => norm_with(norm, leaf.direction)?,
                    };
                    for (u, v) in out.iter().enumerate() {
                        if let Some(x) = v {
                            vals[ls * n + u] = *x;
                        }
                    }
                    if let (Some(pm), NormChoice::NominalOnto { low, high }) = (&mut pos_m, nc) {
                        let (r0, r1) = ranges.as_ref().expect("checked by Factors::check")[ls];
                        for (u, v) in out.iter().enumerate() {
                            if let Some(x) = v {
                                pm[ls * n + u] = low + (x - r0) / (r1 - r0) * (high - low);
                            }
                        }
                    }
                }
                // Domain of the values a positive-needing mean will read.
                let src = pos_m.as_deref().unwrap_or(&vals);
                if need_nonneg {
                    for (k, &x) in src.iter().enumerate() {
                        if x.is_nan() {
                            continue;
                        }
                        let bad = (need_pos && x <= 0.0) || x < 0.0;
                        if bad {
                            let (ls, u) = (k / n, k % n);
                            return Err(AuditError::Domain {
                                alternative: what(),
                                indicator: fw.node(leaves[ls]).id.clone(),
                                unit: eval_units[u].code.clone(),
                                value: x,
                            });
                        }
                    }
                }
                let ln_pos = any_geo.then(|| src.iter().map(|x| x.ln()).collect());
                let has_nan = (0..l)
                    .map(|ls| vals[ls * n..(ls + 1) * n].iter().any(|x| x.is_nan()))
                    .collect();
                combos.push(Combo {
                    has_nan,
                    vals,
                    pos: pos_m,
                    ln_pos,
                });
            }
        }
    }

    let points_factor = if fw.scale == Scale::Points {
        fw.total
    } else {
        1.0
    };
    let totals_scale = f
        .normalisation
        .iter()
        .map(|nc| match nc {
            NormChoice::Nominal => TotalScale::Factor(points_factor),
            NormChoice::NominalOnto { low, high } => TotalScale::Onto {
                factor: points_factor,
                low: *low,
                high: *high,
                top: if fw.scale == Scale::Points {
                    fw.total
                } else {
                    weights_top
                },
            },
            NormChoice::Method(_) => TotalScale::Factor(1.0),
        })
        .collect();

    let tier_params: Vec<TierParams> = f
        .tiers
        .iter()
        .map(|t| match t {
            Choice::Nominal => params.tiers.clone(),
            Choice::Alt(c) => resolved_tiers(c, params),
        })
        .collect();
    let k = params.tiers.k.max(1);
    let s = params.tiers.sublevels;
    if k * (s + 1) >= NO_TIER as usize {
        return Err(AuditError::TooManyTiers {
            tiers: k,
            sublevels: s,
        });
    }
    let tier_codes: Vec<String> = (0..k).map(tiers::tier_code).collect();
    let mut sublevel_labels = Vec::new();
    for (t, code) in tier_codes.iter().enumerate() {
        if s > 0 && t + 1 < k {
            for level in (0..s).rev() {
                sublevel_labels.push(sublevel_label(code, s, level));
            }
        } else {
            sublevel_labels.push(code.clone());
        }
    }

    // Nominal ranks and tier cells, as published.
    let per = s as u8 + 1;
    let mut nominal_rank = vec![0u32; n];
    let mut nominal_cell = vec![NO_TIER; n];
    for (u, r) in nominal.units.iter().enumerate() {
        nominal_rank[u] = r.rank.map_or(0, |x| x as u32);
        if let Some(code) = &r.tier {
            if let Some(t) = tier_codes.iter().position(|c| c == code) {
                let sub = match &r.sublevel {
                    None => 0,
                    Some(lab) => (0..s)
                        .find(|&lv| sublevel_label(code, s, lv) == *lab)
                        .map_or(0, |lv| lv as u8 + 1),
                };
                nominal_cell[u] = t as u8 * per + sub;
            }
        }
    }
    debug_assert_eq!(nominal.units.len(), n);

    Ok(Model {
        codes: eval_units.iter().map(|u| u.code.clone()).collect(),
        names: eval_units.iter().map(|u| u.name.clone()).collect(),
        n_leaves: l,
        n_treat: f.treatment.len(),
        n_norm: f.normalisation.len(),
        combos,
        ops,
        child_src,
        child_weight,
        child_coord,
        weight_nodes,
        plans,
        totals_scale,
        tier_params,
        sublevels: s,
        tier_codes,
        sublevel_labels,
        nominal_rank,
        nominal_cell,
        labels: Default::default(),
        year: params.year,
        synthetic: nominal.synthetic,
        framework_id: fw.id.clone(),
        framework_version: fw.version.clone(),
        factors: f,
    })
}
