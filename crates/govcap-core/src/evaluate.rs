//! One evaluation: a framework, a unit list and a year of observations in; scores at every
//! level, ranks, tiers and a record of every pipeline step out.
//!
//! [`evaluate`] is a pure function. Its output, [`Evaluation`], is what `results.json` holds
//! (schema in `docs/results-schema.md`); every figure shown anywhere later is read from it or
//! from the analyses computed from it, never recomputed differently.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: codes and ids are short strings looked up once per observation, where SipHash's
/// DoS resistance buys nothing (the keys are the framework's and unit list's own).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<'a> = HashMap<&'a str, usize, BuildHasherDefault<Fnv>>;

use serde::{Deserialize, Serialize};

use crate::analyse::stats;
use crate::engine::aggregate::{aggregate, Aggregation};
use crate::engine::denominate::denominate;
use crate::engine::impute::{impute, Imputation};
use crate::engine::normalise::{normalise, output_range, Normalisation};
use crate::engine::score::read_value;
use crate::engine::treat::{treat, Treatment};
use crate::framework::{Collection, Framework, Rule, Scale};
use crate::intern::{Interned, NodeId};
use crate::observation::{Observation, Source, Value};
use crate::tiers::{self, TierInfo, TierParams};
use crate::unit::UnitSet;

/// Version tag of the results format; bump when a field changes meaning.
pub const RESULTS_SCHEMA: &str = "govcap.results/1";

/// Everything that shapes an evaluation besides its inputs. Stored with every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub year: i32,
    pub tiers: TierParams,
    /// Score-rate threshold for "share of units above" figures (the blue book uses 60 %).
    pub rate_threshold: f64,
    /// How many indicators the per-unit "fix first" list names.
    pub fix_first: usize,
}

impl Params {
    pub fn new(year: i32) -> Self {
        Params {
            year,
            tiers: TierParams::default(),
            rate_threshold: 0.6,
            fix_first: 5,
        }
    }
}

/// The framework as recorded in a result, so a result explains itself without the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    pub id: String,
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub scale: Scale,
    pub total: f64,
    /// What a full score rate is on the value scale: 1 for points, the normalisation's upper
    /// bound (100) for weights; value / value_scale is a score rate.
    pub value_scale: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    pub parent: Option<String>,
    pub depth: usize,
    pub name_zh: String,
    pub name_en: String,
    /// Points (points scale) or effective weight × 100 (weights scale).
    pub points: f64,
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub collection: Option<Collection>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel: Option<String>,
    /// A graded leaf's levels, so outputs can name an observed level (`documents` → 仅有文件)
    /// without the framework file.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub levels: Vec<crate::framework::Level>,
}

impl NodeInfo {
    /// The level an observed text names (by key or either label), for a graded leaf.
    pub fn level(&self, text: &str) -> Option<&crate::framework::Level> {
        let t = text.trim();
        self.levels
            .iter()
            .find(|lv| lv.key == t || lv.zh == t || lv.en.eq_ignore_ascii_case(t))
    }
}

/// A unit's score on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeScore {
    /// Interned: naming the node in every unit's cell costs a pointer copy.
    pub id: NodeId,
    /// Score rate 0–1 (points scale) or the aggregated / normalised value (weights scale).
    pub value: Option<f64>,
    /// Points earned (points scale only).
    pub points: Option<f64>,
}

/// What went into one leaf for one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafInput {
    pub id: NodeId,
    /// The value as observed (before any step).
    pub observed: Option<Value>,
    /// The number the rule read from it (fraction, or raw number for continuous rules).
    pub read: Option<f64>,
    /// True when the value was filled in by the missing-data policy.
    pub imputed: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<Source>,
    /// Evidence strings are shared with the observation (one allocation per input value,
    /// not one more per result cell: this is most of the memory traffic of a large run).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evidence_url: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evaluator: Option<Interned>,
    /// `file:row` the observation came from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub origin: Option<CellOrigin>,
}

/// Where the value of a result cell was read: the observation's file and row. Kept as its two
/// parts (the file name shared, not copied per cell) and written as the text `file:row`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellOrigin {
    pub file: Interned,
    pub row: usize,
}

impl std::fmt::Display for CellOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.row)
    }
}

impl Serialize for CellOrigin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CellOrigin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (file, row) = text
            .rsplit_once(':')
            .and_then(|(f, r)| Some((f, r.parse::<usize>().ok()?)))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("origin {text:?} is not `file:row`"))
            })?;
        Ok(CellOrigin {
            file: file.into(),
            row,
        })
    }
}

/// An indicator where the unit is furthest behind the tier-A mean: what to fix first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub id: NodeId,
    pub score: f64,
    pub tier_a_mean: f64,
    pub gap: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub province: Option<String>,
    pub region: Option<String>,
    pub total: Option<f64>,
    pub rank: Option<usize>,
    pub province_rank: Option<usize>,
    pub tier: Option<String>,
    pub sublevel: Option<String>,
    /// One entry per framework node, in `Evaluation::nodes` order.
    pub scores: Vec<NodeScore>,
    pub leaves: Vec<LeafInput>,
    pub fix_first: Vec<Gap>,
}

/// What one step did to one indicator (COINr-style log, so a result can be explained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafStep {
    pub id: String,
    pub observed: usize,
    pub missing: usize,
    pub imputed: usize,
    pub missing_policy: Imputation,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub denominator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub treatment: Option<Treatment>,
    /// Unit codes whose values winsorisation changed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub winsorised: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub log_transformed: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub normalisation: Option<Normalisation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierTable {
    pub tiers: Vec<TierInfo>,
    pub breaks: Vec<f64>,
}

/// The complete result of one evaluation: `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub schema: String,
    pub year: i32,
    /// True when any observation is synthetic: every output that shows this result says so.
    pub synthetic: bool,
    pub framework: FrameworkInfo,
    pub params: Params,
    /// Nodes in tree order (depth first).
    pub nodes: Vec<NodeInfo>,
    pub aggregation: Vec<(usize, Aggregation)>,
    /// Evaluated units (those with at least one observation in the year), in unit-list order.
    pub units: Vec<UnitResult>,
    /// Units of the list with no observation in the year: not evaluated.
    pub not_evaluated: Vec<String>,
    pub tiers: Option<TierTable>,
    pub steps: Vec<LeafStep>,
    /// Observation counts by source.
    pub sources: Vec<(Source, usize)>,
}

/// Why an evaluation cannot run; each message names the input at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    #[error("{} observation problem(s):\n{}", .0.len(), .0.iter().take(50).map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Observations(Vec<String>),
    #[error("no observations for year {0}")]
    NoObservations(i32),
    #[error("indicator {indicator}: {message}")]
    Step { indicator: String, message: String },
    #[error("tiers: {0}")]
    Tiers(String),
}

/// One observation looked up: its unit, leaf slot and the number read, or what is wrong.
enum Resolved {
    UnknownUnit,
    /// The unit (known) and the problem with the rest.
    Problem(usize, String),
    /// Unit index, leaf slot, value read.
    Cell(usize, usize, f64),
}

fn origin(o: &Observation) -> String {
    match &o.origin.column {
        Some(c) => format!("{} row {} column {}", o.origin.file, o.origin.row, c),
        None => format!("{} row {}", o.origin.file, o.origin.row),
    }
}

/// Runs the whole pipeline for one year.
pub fn evaluate(
    fw: &Framework,
    units: &UnitSet,
    observations: &[Observation],
    params: &Params,
) -> Result<Evaluation, EvaluateError> {
    let year = params.year;
    let tree = fw.tree_order();
    // Dense position tables (node index → slot) instead of hash maps: this runs per cell.
    let mut node_slot = vec![usize::MAX; fw.nodes.len()];
    for (s, &i) in tree.iter().enumerate() {
        node_slot[i] = s;
    }
    let leaves: Vec<usize> = tree.iter().copied().filter(|&i| fw.is_leaf(i)).collect();
    let mut leaf_slot = vec![usize::MAX; fw.nodes.len()];
    for (s, &i) in leaves.iter().enumerate() {
        leaf_slot[i] = s;
    }
    let unit_index: FastMap = units
        .units()
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i))
        .collect();
    let node_index: FastMap = fw
        .nodes
        .iter()
        .enumerate()
        .map(|(i, nd)| (nd.id.as_str(), i))
        .collect();

    // 1. Which units are evaluated, and the observation of each (unit, leaf).
    let mut problems = Vec::new();
    let mut has_obs = vec![false; units.len()];
    // Looking up each observation's unit and indicator and reading its value is independent
    // per observation and, for large inputs, bound by memory reads: it runs in parallel.
    // Rayon's collect keeps the input order, so problems are reported in file order.
    let year_obs: Vec<&Observation> = observations.par_iter().filter(|o| o.year == year).collect();
    if year_obs.is_empty() {
        return Err(EvaluateError::NoObservations(year));
    }
    let resolved: Vec<Resolved> = year_obs
        .par_iter()
        .map(|o| {
            let Some(&u) = unit_index.get(o.unit.as_str()) else {
                return Resolved::UnknownUnit;
            };
            let Some(&i) = node_index.get(o.indicator.as_str()) else {
                return Resolved::Problem(u, format!("unknown indicator {:?}", o.indicator));
            };
            let Some(leaf) = &fw.node(i).leaf else {
                return Resolved::Problem(
                    u,
                    format!(
                        "{} is not a leaf indicator; give values for its sub-indicators",
                        o.indicator
                    ),
                );
            };
            match read_value(&leaf.rule, &o.value) {
                Ok(x) => Resolved::Cell(u, leaf_slot[i], x),
                Err(e) => Resolved::Problem(u, format!("{}: {e}", o.indicator)),
            }
        })
        .collect();
    for (o, r) in year_obs.iter().zip(&resolved) {
        match r {
            Resolved::UnknownUnit => {
                problems.push(format!("{}: unknown unit {:?}", origin(o), o.unit))
            }
            Resolved::Cell(u, ..) | Resolved::Problem(u, _) => has_obs[*u] = true,
        }
    }
    let evaluated: Vec<usize> = (0..units.len()).filter(|&u| has_obs[u]).collect();
    let mut eval_slot = vec![usize::MAX; units.len()];
    for (s, &u) in evaluated.iter().enumerate() {
        eval_slot[u] = s;
    }
    let n = evaluated.len();
    let mut cell: Vec<Vec<Option<(&Observation, f64)>>> = vec![vec![None; n]; leaves.len()];
    for (o, r) in year_obs.iter().zip(resolved) {
        match r {
            Resolved::UnknownUnit => {}
            Resolved::Problem(_, message) => problems.push(format!("{}: {message}", origin(o))),
            Resolved::Cell(u, ls, x) => {
                let slot = &mut cell[ls][eval_slot[u]];
                if let Some((first, _)) = slot {
                    problems.push(format!(
                        "{}: duplicate value for {} / {} / {} (first at {})",
                        origin(o),
                        o.unit,
                        o.indicator,
                        year,
                        origin(first)
                    ));
                } else {
                    *slot = Some((o, x));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(EvaluateError::Observations(problems));
    }
    let eval_units: Vec<&crate::unit::Unit> =
        evaluated.iter().map(|&u| &units.units()[u]).collect();

    // 2. Leaf columns: denominate → impute → treat → normalise.
    let weights_top = match fw.scale {
        Scale::Points => 1.0,
        Scale::Weights => output_range(&fw.method.normalisation).map_or(1.0, |(_, hi)| hi),
    };
    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); tree.len()];
    let mut steps = Vec::with_capacity(leaves.len());
    let mut imputed_flags: Vec<Vec<bool>> = Vec::with_capacity(leaves.len());
    for (ls, &i) in leaves.iter().enumerate() {
        let node = fw.node(i);
        let leaf = node.leaf.as_ref().expect("leaf");
        let step_err = |message: String| EvaluateError::Step {
            indicator: node.id.clone(),
            message,
        };
        let mut col: Vec<Option<f64>> = cell[ls].iter().map(|c| c.map(|(_, x)| x)).collect();
        let observed = col.iter().filter(|v| v.is_some()).count();
        let continuous = matches!(leaf.rule, Rule::Continuous);
        if let (true, Some(attr)) = (continuous, &leaf.denominator) {
            let denom: Vec<Option<f64>> = eval_units.iter().map(|u| u.number(attr)).collect();
            if denom.iter().all(Option::is_none) {
                return Err(step_err(format!(
                    "denominator column {attr:?} is not in the unit list"
                )));
            }
            col = denominate(&col, &denom, fw.method.denominator_scale)
                .map_err(|e| step_err(e.to_string()))?;
        }
        let policy = fw.missing(leaf);
        let group_col: Option<Vec<Option<&str>>> =
            group_of(&policy).map(|g| eval_units.iter().map(|u| u.attr(g)).collect());
        if let (Some(g), Some(gc)) = (group_of(&policy), &group_col) {
            if gc.iter().all(Option::is_none) {
                return Err(step_err(format!(
                    "missing-data group column {g:?} is not in the unit list"
                )));
            }
        }
        let imp = impute(&col, group_col.as_deref(), &policy);
        let mut flags = vec![false; n];
        for &u in &imp.imputed {
            flags[u] = true;
        }
        col = imp.values;
        let mut step = LeafStep {
            id: node.id.clone(),
            observed,
            missing: n - observed,
            imputed: imp.imputed.len(),
            missing_policy: policy,
            denominator: leaf.denominator.clone().filter(|_| continuous),
            treatment: None,
            winsorised: Vec::new(),
            log_transformed: false,
            normalisation: None,
        };
        if continuous {
            let t = fw.treatment(leaf);
            if t != Treatment::None {
                let out = treat(&col, &t);
                step.winsorised = out
                    .winsorised
                    .iter()
                    .map(|&u| eval_units[u].code.clone())
                    .collect();
                step.log_transformed = out.log_applied;
                col = out.values;
                step.treatment = Some(t);
            }
            let norm = fw.normalisation(leaf);
            let reference = match &norm {
                Normalisation::DistToReference { reference, .. } => {
                    let pos = evaluated
                        .iter()
                        .position(|&u| units.units()[u].code == *reference)
                        .ok_or_else(|| {
                            step_err(format!("reference unit {reference:?} is not evaluated"))
                        })?;
                    col[pos]
                }
                _ => None,
            };
            col = normalise(&col, leaf.direction, &norm, reference)
                .map_err(|e| step_err(e.to_string()))?;
            if fw.scale == Scale::Points {
                // Guard against rounding just outside 0–1.
                for v in col.iter_mut().flatten() {
                    *v = v.clamp(0.0, 1.0);
                }
            }
            step.normalisation = Some(norm);
        } else if weights_top != 1.0 {
            for v in col.iter_mut().flatten() {
                *v *= weights_top;
            }
        }
        values[node_slot[i]] = col;
        steps.push(step);
        imputed_flags.push(flags);
    }

    // 3. Aggregate bottom-up, then the index over the top-level nodes.
    for &i in fw.bottom_up() {
        if fw.is_leaf(i) {
            continue;
        }
        let kids = fw.children(i);
        let cols: Vec<&[Option<f64>]> = kids
            .iter()
            .map(|c| values[node_slot[*c]].as_slice())
            .collect();
        let w: Vec<f64> = kids.iter().map(|&c| fw.node(c).weight).collect();
        let agg = fw.method.aggregation.at(fw.depth(i));
        let out = aggregate(&cols, &w, agg).map_err(|e| EvaluateError::Step {
            indicator: fw.node(i).id.clone(),
            message: e.to_string(),
        })?;
        values[node_slot[i]] = out;
    }
    let root_cols: Vec<&[Option<f64>]> = fw
        .roots()
        .iter()
        .map(|c| values[node_slot[*c]].as_slice())
        .collect();
    let root_w: Vec<f64> = fw.roots().iter().map(|&c| fw.node(c).weight).collect();
    let index = aggregate(&root_cols, &root_w, fw.method.aggregation.at(0)).map_err(|e| {
        EvaluateError::Step {
            indicator: "index".into(),
            message: e.to_string(),
        }
    })?;
    let totals: Vec<Option<f64>> = index
        .iter()
        .map(|v| {
            v.map(|x| {
                if fw.scale == Scale::Points {
                    x * fw.total
                } else {
                    x
                }
            })
        })
        .collect();

    // 4. Ranks and tiers over units with a total.
    let scored: Vec<usize> = (0..n).filter(|&u| totals[u].is_some()).collect();
    let scored_totals: Vec<f64> = scored.iter().map(|&u| totals[u].unwrap()).collect();
    let ranks = stats::rank_competition_desc(&scored_totals);
    let provinces: Vec<&str> = scored
        .iter()
        .map(|&u| eval_units[u].province.as_deref().unwrap_or(""))
        .collect();
    let province_ranks = stats::rank_within_groups(&scored_totals, &provinces);
    let tier_outcome = if scored.len() >= params.tiers.k.max(1) {
        Some(
            tiers::assign(&scored_totals, &params.tiers)
                .map_err(|e| EvaluateError::Tiers(e.to_string()))?,
        )
    } else {
        None
    };

    // 5. Per-unit results.
    let node_points = |slot: usize, v: Option<f64>| match fw.scale {
        Scale::Points => v.map(|x| x * fw.node(tree[slot]).weight),
        Scale::Weights => None,
    };
    let slot_ids: Vec<NodeId> = tree.iter().map(|&i| NodeId::new(&fw.node(i).id)).collect();
    // Building the per-unit records (every node's score and every leaf's evidence) is most of
    // the work for large unit lists; it is independent per unit, so it runs in parallel.
    // Rayon's indexed collect keeps the order, so the output does not depend on threads.
    let mut results: Vec<UnitResult> = eval_units
        .par_iter()
        .enumerate()
        .map(|(u, unit)| UnitResult {
            code: unit.code.clone(),
            name: unit.name.clone(),
            name_en: unit.name_en.clone(),
            province: unit.province.clone(),
            region: unit.region.clone(),
            total: totals[u],
            rank: None,
            province_rank: None,
            tier: None,
            sublevel: None,
            scores: (0..tree.len())
                .map(|s| NodeScore {
                    id: slot_ids[s],
                    value: values[s][u],
                    points: node_points(s, values[s][u]),
                })
                .collect(),
            leaves: leaves
                .iter()
                .enumerate()
                .map(|(ls, &i)| {
                    let c = cell[ls][u];
                    LeafInput {
                        id: slot_ids[node_slot[i]],
                        observed: c.map(|(o, _)| o.value.clone()),
                        read: c.map(|(_, x)| x),
                        imputed: imputed_flags[ls][u],
                        source: c.map(|(o, _)| o.source),
                        evidence_url: c.and_then(|(o, _)| o.evidence_url.clone()),
                        evaluator: c.and_then(|(o, _)| o.evaluator),
                        origin: c.map(|(o, _)| CellOrigin {
                            file: o.origin.file,
                            row: o.origin.row,
                        }),
                    }
                })
                .collect(),
            fix_first: Vec::new(),
        })
        .collect();
    for (k, &u) in scored.iter().enumerate() {
        results[u].rank = Some(ranks[k]);
        results[u].province_rank = Some(province_ranks[k]);
        if let Some(t) = &tier_outcome {
            results[u].tier = Some(t.tier_of[k].clone());
            results[u].sublevel = t.sublevel_of[k].clone();
        }
    }
    fill_fix_first(&mut results, &leaves, &node_slot, params.fix_first);

    let mut sources: Vec<(Source, usize)> = Vec::new();
    for o in &year_obs {
        match sources.iter_mut().find(|(s, _)| *s == o.source) {
            Some((_, c)) => *c += 1,
            None => sources.push((o.source, 1)),
        }
    }
    sources.sort();
    Ok(Evaluation {
        schema: RESULTS_SCHEMA.into(),
        year,
        synthetic: year_obs.iter().any(|o| o.source == Source::Synthetic),
        framework: FrameworkInfo {
            id: fw.id.clone(),
            version: fw.version.clone(),
            name_zh: fw.name_zh.clone(),
            name_en: fw.name_en.clone(),
            scale: fw.scale,
            total: if fw.scale == Scale::Points {
                fw.total
            } else {
                1.0
            },
            value_scale: weights_top,
        },
        params: params.clone(),
        nodes: tree
            .iter()
            .map(|&i| {
                let nd = fw.node(i);
                NodeInfo {
                    id: nd.id.clone(),
                    parent: nd.parent.clone(),
                    depth: fw.depth(i),
                    name_zh: nd.name_zh.clone(),
                    name_en: nd.name_en.clone(),
                    points: fw.points(i),
                    weight: nd.weight,
                    rule: nd.leaf.as_ref().map(|l| l.rule.name().to_string()),
                    collection: nd.leaf.as_ref().map(|l| l.collection),
                    channel: nd.leaf.as_ref().and_then(|l| l.channel.clone()),
                    levels: match nd.leaf.as_ref().map(|l| &l.rule) {
                        Some(crate::framework::Rule::Graded { levels }) => levels.clone(),
                        _ => Vec::new(),
                    },
                }
            })
            .collect(),
        aggregation: (0..fw.max_depth())
            .map(|d| (d, fw.method.aggregation.at(d).clone()))
            .collect(),
        units: results,
        not_evaluated: (0..units.len())
            .filter(|&u| !has_obs[u])
            .map(|u| units.units()[u].code.clone())
            .collect(),
        tiers: tier_outcome.map(|t| TierTable {
            tiers: t.tiers,
            breaks: t.breaks,
        }),
        steps,
        sources,
    })
}

fn group_of(policy: &Imputation) -> Option<&str> {
    match policy {
        Imputation::GroupMean { group } | Imputation::GroupMedian { group } => Some(group),
        _ => None,
    }
}

/// The leaves where each unit trails the tier-A mean the most (points scale: points; weights
/// scale: normalised value), largest gap first, ties by framework order.
fn fill_fix_first(results: &mut [UnitResult], leaves: &[usize], node_slot: &[usize], count: usize) {
    let score = |r: &UnitResult, slot: usize| {
        let s = &r.scores[slot];
        s.points.or(s.value)
    };
    let slots: Vec<usize> = leaves.iter().map(|&i| node_slot[i]).collect();
    let tier_a: Vec<usize> = (0..results.len())
        .filter(|&u| results[u].tier.as_deref() == Some("A"))
        .collect();
    if tier_a.is_empty() || count == 0 {
        return;
    }
    let means: Vec<Option<f64>> = slots
        .iter()
        .map(|&s| {
            let xs: Vec<f64> = tier_a
                .iter()
                .filter_map(|&u| score(&results[u], s))
                .collect();
            stats::mean(&xs)
        })
        .collect();
    // Independent per unit, and nothing shared is written: in parallel.
    results.par_iter_mut().for_each(|r| {
        if r.total.is_none() {
            return;
        }
        let mut gaps: Vec<Gap> = slots
            .iter()
            .zip(&means)
            .filter_map(|(&s, m)| {
                let (x, m) = (score(r, s)?, (*m)?);
                (m - x > 1e-12).then(|| Gap {
                    id: r.scores[s].id,
                    score: x,
                    tier_a_mean: m,
                    gap: m - x,
                })
            })
            .collect();
        gaps.sort_by(|a, b| b.gap.total_cmp(&a.gap));
        gaps.truncate(count);
        r.fix_first = gaps;
    });
}
