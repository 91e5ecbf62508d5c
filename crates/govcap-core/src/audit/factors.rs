//! The uncertain factors of an audit, as typed configuration.
//!
//! Each modelling choice the audit varies is a list of alternatives; `"nominal"` always means
//! "what the evaluated run did". A list with a single entry holds that choice fixed. Weights are
//! perturbed per depth: every nominal weight at the depth is multiplied by `1 + U(−noise, noise)`,
//! independently per node (COINr's `get_noisy_weights`), and each depth is one factor of the
//! sensitivity analysis. A node without siblings is left alone: its weight cancels when its
//! parent renormalises.
//!
//! # File format (`govcap audit --factors FILE`)
//!
//! ```toml
//! normalisation = ["nominal", { method = "min-max", low = 1.0, high = 100.0 }]
//! aggregation = ["arithmetic", "geometric"]
//! missing = ["nominal", "exclude", "mean"]
//! treatment = ["nominal"]
//! tiers = ["nominal", "natural-breaks", { method = "quantile", sublevels = "quantile" }]
//! weights = [{ depth = 2, noise = 0.25 }, { depth = 3, noise = 0.25 }]
//! ```
//!
//! Keys may be left out (a missing list = `["nominal"]`, no `weights` = weights fixed). The
//! alternatives use the framework file's own tables (`docs/framework-format.md`); a bare string
//! is shorthand for `{ method = "…" }`. Put `weights` last or write it inline as above: in TOML
//! a key written after a `[[weights]]` header belongs to that table.
//!
//! * `normalisation`: `"nominal"` (each leaf as the framework scores it); `{ method = "nominal",
//!   low = 1, high = 100 }` (the same, but wherever an aggregation needs strictly positive values
//!   — geometric, harmonic — each leaf's score is first mapped linearly from its fixed range, a
//!   score rate's [0, 1] or the normalisation's bounds, onto [low, high]; arithmetic means use
//!   the scores unchanged, so the nominal ranking is reproduced exactly); or any normalisation
//!   table, which then normalises EVERY leaf across units (rule-scored leaves from their score
//!   rate), replacing the framework's per-leaf choice.
//! * `aggregation`: `"nominal"` (the framework's per-depth plan) or one method for every depth:
//!   arithmetic, geometric, harmonic, `{ method = "generalised", p = … }`. Copeland is not
//!   supported (it compares all pairs of units at every node, too slow to repeat thousands of
//!   times). Geometric and harmonic means need positive inputs: pair them with a normalisation
//!   whose values are positive (min-max 1–100, or the nominal-onto form above); this is checked
//!   against the data before any draw runs.
//! * `missing`: `"nominal"` or an imputation table, applied to every leaf.
//! * `treatment`: `"nominal"` or a treatment table, applied to every continuous leaf.
//! * `tiers`: `"nominal"` or a classification method (`difference`, `natural-breaks`,
//!   `quantile`, `{ method = "thresholds", cuts = [...] }`), optionally with
//!   `sublevels = "equal-width" | "quantile"`. The number of tiers and sub-levels is the run's.
//!   Cut lines are points on the nominal score scale, so thresholds may only be combined with
//!   the two nominal normalisation forms.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::classify::{Method as TierMethod, SublevelMethod};
use crate::engine::aggregate::Aggregation;
use crate::engine::impute::Imputation;
use crate::engine::normalise::{output_range, Normalisation};
use crate::engine::treat::Treatment;
use crate::evaluate::Params;
use crate::framework::{Framework, Rule, Scale};

/// The default factors, used when no file is given; see [`Factors::default_for`].
pub const DEFAULT_FACTORS_TOML: &str = r#"# govcap's default audit factors.
# Weights: every nominal weight is perturbed by ±25 %, one factor per depth of the tree.
# Aggregation: the compensatory arithmetic mean against the geometric mean, which needs positive
# inputs, so leaf scores are mapped from their fixed range onto 1-100 where it is used.
# Missing data: the framework's policy against leaving values out and filling in the mean.
# Tiers: the run's method against natural breaks and equal-count classes (an alternative equal
# to the run's own setting is dropped).
normalisation = [{ method = "nominal", low = 1.0, high = 100.0 }]
aggregation = ["arithmetic", "geometric"]
missing = ["nominal", "exclude", "mean"]
treatment = ["nominal"]
tiers = ["nominal", "natural-breaks", "quantile"]
weights = [{ noise = 0.25 }]
"#;

/// An alternative that is either the run's own setting or a replacement for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice<T> {
    /// What the evaluated run did.
    Nominal,
    /// A replacement applied everywhere the choice applies.
    Alt(T),
}

/// A normalisation alternative (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormChoice {
    /// Each leaf as the framework scores it.
    Nominal,
    /// As nominal, but mapped onto [low, high] wherever an aggregation needs positive values.
    NominalOnto { low: f64, high: f64 },
    /// This normalisation for every leaf.
    Method(Normalisation),
}

/// A tier-classification alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierChoice {
    #[serde(flatten)]
    pub method: TierMethod,
    /// Sub-level method; `None` keeps the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sublevels: Option<SublevelMethod>,
}

/// Weight noise at one depth of the tree (1 = top-level nodes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightNoise {
    pub depth: usize,
    /// Half-width of the uniform multiplier: 0.25 means ±25 %.
    pub noise: f64,
}

/// The typed factor configuration. An empty list means "nominal only".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    pub normalisation: Vec<NormChoice>,
    pub aggregation: Vec<Choice<Aggregation>>,
    pub missing: Vec<Choice<Imputation>>,
    pub treatment: Vec<Choice<Treatment>>,
    pub tiers: Vec<Choice<TierChoice>>,
    pub weights: Vec<WeightNoise>,
}

/// Why a factor file or configuration cannot be used; lists every problem.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FactorsError {
    #[error("the factor file is not valid TOML or has an unknown key: {0}")]
    Syntax(String),
    #[error("the audit factors have {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFactors {
    normalisation: Option<Vec<toml::Value>>,
    aggregation: Option<Vec<toml::Value>>,
    missing: Option<Vec<toml::Value>>,
    treatment: Option<Vec<toml::Value>>,
    tiers: Option<Vec<toml::Value>>,
    weights: Option<Vec<RawWeight>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeight {
    depth: Option<usize>,
    noise: f64,
}

/// A bare string `"x"` is shorthand for `{ method = "x" }`.
fn as_table(v: &toml::Value) -> Option<toml::Table> {
    match v {
        toml::Value::String(s) => {
            let mut t = toml::Table::new();
            t.insert("method".into(), toml::Value::String(s.clone()));
            Some(t)
        }
        toml::Value::Table(t) => Some(t.clone()),
        _ => None,
    }
}

fn is_nominal(t: &toml::Table) -> bool {
    t.get("method").and_then(|m| m.as_str()) == Some("nominal")
}

fn parse_list<T>(
    key: &str,
    values: Option<Vec<toml::Value>>,
    problems: &mut Vec<String>,
    mut one: impl FnMut(toml::Table) -> Result<T, String>,
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, v) in values.unwrap_or_default().iter().enumerate() {
        let Some(t) = as_table(v) else {
            problems.push(format!(
                "{key} alternative {}: write a name in quotes or a table {{ method = \"…\" }}, not {v}",
                i + 1
            ));
            continue;
        };
        match one(t) {
            Ok(x) => out.push(x),
            Err(e) => problems.push(format!("{key} alternative {} ({v}): {e}", i + 1)),
        }
    }
    out
}

fn typed<T: for<'de> Deserialize<'de>>(t: toml::Table) -> Result<T, String> {
    T::deserialize(toml::Value::Table(t)).map_err(|e| e.message().to_string())
}

fn choice<T: for<'de> Deserialize<'de>>(t: toml::Table) -> Result<Choice<T>, String> {
    if is_nominal(&t) {
        if t.len() > 1 {
            return Err("\"nominal\" takes no parameters here".into());
        }
        return Ok(Choice::Nominal);
    }
    typed(t).map(Choice::Alt)
}

impl Factors {
    /// Parses a factor file; every problem is reported.
    pub fn from_toml(text: &str) -> Result<Self, FactorsError> {
        let raw: RawFactors =
            toml::from_str(text).map_err(|e| FactorsError::Syntax(e.message().to_string()))?;
        let mut problems = Vec::new();
        let normalisation = parse_list("normalisation", raw.normalisation, &mut problems, |t| {
            if is_nominal(&t) {
                match (t.get("low"), t.get("high"), t.len()) {
                    (None, None, 1) => Ok(NormChoice::Nominal),
                    (Some(l), Some(h), 3) => match (num(l), num(h)) {
                        (Some(low), Some(high)) => Ok(NormChoice::NominalOnto { low, high }),
                        _ => Err("low and high must be numbers".into()),
                    },
                    _ => Err(
                        "write \"nominal\" or { method = \"nominal\", low = 1.0, high = 100.0 }"
                            .into(),
                    ),
                }
            } else {
                typed(t).map(NormChoice::Method)
            }
        });
        let aggregation = parse_list("aggregation", raw.aggregation, &mut problems, choice);
        let missing = parse_list("missing", raw.missing, &mut problems, choice);
        let treatment = parse_list("treatment", raw.treatment, &mut problems, choice);
        let tiers = parse_list("tiers", raw.tiers, &mut problems, choice);
        let weights = raw
            .weights
            .unwrap_or_default()
            .into_iter()
            .map(|w| WeightNoise {
                depth: w.depth.unwrap_or(0),
                noise: w.noise,
            })
            .collect();
        if !problems.is_empty() {
            return Err(FactorsError::Invalid(problems));
        }
        let mut f = Factors {
            normalisation,
            aggregation,
            missing,
            treatment,
            tiers,
            weights,
        };
        f.dedup();
        Ok(f)
    }

    /// The documented default ([`DEFAULT_FACTORS_TOML`]) fitted to a framework: weight noise at
    /// every depth; and where a leaf's normalisation has no fixed range (z-scores …) the
    /// nominal-onto form is impossible, so normalisation stays nominal and the aggregation stays
    /// arithmetic.
    pub fn default_for(fw: &Framework) -> Self {
        let mut f = Factors::from_toml(DEFAULT_FACTORS_TOML).expect("the default factors parse");
        f.weights = expand_depths(&f.weights, fw.max_depth());
        if leaf_ranges(fw).is_err() {
            f.normalisation = vec![NormChoice::Nominal];
            f.aggregation = vec![Choice::Alt(Aggregation::Arithmetic)];
        }
        f
    }

    /// Replaces a weight entry without a depth (depth 0) by one entry per depth 1..=max_depth.
    pub(crate) fn with_expanded_weights(&self, max_depth: usize) -> Self {
        let mut f = self.clone();
        f.weights = expand_depths(&self.weights, max_depth);
        f
    }

    fn dedup(&mut self) {
        fn dd<T: PartialEq + Clone>(v: &mut Vec<T>) {
            let mut out: Vec<T> = Vec::with_capacity(v.len());
            for x in v.drain(..) {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            *v = out;
        }
        dd(&mut self.normalisation);
        dd(&mut self.aggregation);
        dd(&mut self.missing);
        dd(&mut self.treatment);
        dd(&mut self.tiers);
    }

    /// Checks the factors against the framework and the run's parameters; every problem is
    /// listed. (Data-dependent conditions, such as positive values for a geometric mean, are
    /// checked when the audit model is prepared.)
    pub fn check(&self, fw: &Framework, params: &Params) -> Result<(), FactorsError> {
        let mut problems = Vec::new();
        let max_depth = fw.max_depth();
        let mut seen = Vec::new();
        for w in &self.weights {
            if w.depth == 0 || w.depth > max_depth {
                problems.push(format!(
                    "weights: depth {} does not exist; the framework has depths 1 to {max_depth}",
                    w.depth
                ));
            }
            if seen.contains(&w.depth) {
                problems.push(format!("weights: depth {} is listed twice", w.depth));
            }
            seen.push(w.depth);
            if !(w.noise.is_finite() && (0.0..1.0).contains(&w.noise)) {
                problems.push(format!(
                    "weights at depth {}: noise must be at least 0 and below 1 (a share such as 0.25), not {}",
                    w.depth, w.noise
                ));
            }
        }
        let ranges = leaf_ranges(fw);
        for n in &self.normalisation {
            match n {
                NormChoice::NominalOnto { low, high } => {
                    if !(low.is_finite() && high.is_finite() && *low > 0.0 && high > low) {
                        problems.push(format!(
                            "normalisation nominal onto [{low}, {high}]: need 0 < low < high"
                        ));
                    }
                    if let Err(leaf) = &ranges {
                        problems.push(format!(
                            "normalisation nominal onto [{low}, {high}]: indicator {leaf} has no fixed score range to map from (its normalisation is not bounded)"
                        ));
                    }
                }
                NormChoice::Method(Normalisation::DistToReference { reference, .. })
                    if reference.is_empty() =>
                {
                    problems.push("normalisation distance-to-reference: no reference unit".into());
                }
                _ => {}
            }
        }
        let mut nominal_plan_used = self.aggregation.is_empty();
        for a in &self.aggregation {
            match a {
                Choice::Nominal => nominal_plan_used = true,
                Choice::Alt(m) => check_aggregation(m, "aggregation", &mut problems),
            }
        }
        if nominal_plan_used {
            for d in 0..max_depth {
                check_aggregation(
                    fw.method.aggregation.at(d),
                    &format!("the framework's aggregation at depth {d}"),
                    &mut problems,
                );
            }
        }
        let k = params.tiers.k;
        let nominal_scale_only = self
            .normalisation
            .iter()
            .all(|n| !matches!(n, NormChoice::Method(_)));
        let mut tier_methods: Vec<(&TierMethod, String)> = Vec::new();
        for t in &self.tiers {
            match t {
                Choice::Nominal => {
                    tier_methods.push((&params.tiers.method, "the run's tier method".into()))
                }
                Choice::Alt(c) => {
                    tier_methods.push((&c.method, format!("tiers {}", label_of(&c.method))))
                }
            }
        }
        if self.tiers.is_empty() {
            tier_methods.push((&params.tiers.method, "the run's tier method".into()));
        }
        for (m, what) in tier_methods {
            if let TierMethod::Thresholds { cuts } = m {
                if cuts.len() + 1 != k {
                    problems.push(format!(
                        "{what}: {} cut lines make {} tiers, but the run has {k}",
                        cuts.len(),
                        cuts.len() + 1
                    ));
                }
                if !nominal_scale_only {
                    problems.push(format!(
                        "{what}: cut lines are points on the nominal score scale, but a normalisation alternative changes the scale; use difference, natural-breaks or quantile tiers, or only nominal normalisations"
                    ));
                }
            }
        }
        for m in &self.missing {
            if let Choice::Alt(imp) = m {
                if let Some(g) = imp.group() {
                    if g.is_empty() {
                        problems.push("missing: a group method needs a group column".into());
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FactorsError::Invalid(problems))
        }
    }
}

fn num(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

fn expand_depths(w: &[WeightNoise], max_depth: usize) -> Vec<WeightNoise> {
    let mut out: Vec<WeightNoise> = Vec::new();
    for x in w {
        if x.depth == 0 {
            for d in 1..=max_depth {
                if !w.iter().any(|y| y.depth == d) && !out.iter().any(|y| y.depth == d) {
                    out.push(WeightNoise {
                        depth: d,
                        noise: x.noise,
                    });
                }
            }
        } else {
            out.push(x.clone());
        }
    }
    out.sort_by_key(|x| x.depth);
    out
}

fn check_aggregation(m: &Aggregation, what: &str, problems: &mut Vec<String>) {
    match m {
        Aggregation::Copeland => problems.push(format!(
            "{what}: Copeland aggregation compares every pair of units at every node and cannot be repeated over thousands of draws; use arithmetic, geometric, harmonic or generalised"
        )),
        Aggregation::Generalised { p } if *p == 0.0 || !p.is_finite() => problems.push(format!(
            "{what}: the generalised mean needs a finite p other than 0 (use geometric for p = 0), not {p}"
        )),
        _ => {}
    }
}

/// Each leaf's fixed nominal score range (in tree leaf order), or the first leaf without one.
pub(crate) fn leaf_ranges(fw: &Framework) -> Result<Vec<(f64, f64)>, String> {
    let top = match fw.scale {
        Scale::Points => 1.0,
        Scale::Weights => output_range(&fw.method.normalisation).map_or(1.0, |(_, hi)| hi),
    };
    fw.leaves()
        .into_iter()
        .map(|i| {
            let node = fw.node(i);
            let leaf = node.leaf.as_ref().expect("leaf");
            match (&leaf.rule, fw.scale) {
                (_, Scale::Points) => Ok((0.0, 1.0)),
                (Rule::Continuous, Scale::Weights) => {
                    output_range(&fw.normalisation(leaf)).ok_or_else(|| node.id.clone())
                }
                (_, Scale::Weights) => Ok((0.0, top)),
            }
        })
        .collect()
}

/// A short human-readable label of any method table: `min-max(high=100, low=1)`.
pub fn label_of<T: Serialize>(v: &T) -> String {
    match toml::Value::try_from(v) {
        Ok(toml::Value::Table(t)) => {
            let name = t
                .get("method")
                .and_then(|m| m.as_str())
                .unwrap_or("?")
                .to_string();
            let params: Vec<String> = t
                .iter()
                .filter(|(k, _)| k.as_str() != "method")
                .map(|(k, v)| format!("{k}={}", value_text(v)))
                .collect();
            if params.is_empty() {
                name
            } else {
                format!("{name}({})", params.join(", "))
            }
        }
        Ok(other) => value_text(&other),
        Err(_) => "?".into(),
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        toml::Value::Integer(i) => format!("{i}"),
        toml::Value::Boolean(b) => format!("{b}"),
        toml::Value::Array(a) => format!(
            "[{}]",
            a.iter().map(value_text).collect::<Vec<_>>().join(" ")
        ),
        toml::Value::Table(_) => label_of(v),
        toml::Value::Datetime(d) => d.to_string(),
    }
}

impl NormChoice {
    pub fn label(&self) -> String {
        match self {
            NormChoice::Nominal => "nominal".into(),
            NormChoice::NominalOnto { low, high } => {
                format!("nominal (onto {low}–{high} where positive values are needed)")
            }
            NormChoice::Method(m) => label_of(m),
        }
    }
}

impl<T: Serialize> Choice<T> {
    pub fn label(&self) -> String {
        match self {
            Choice::Nominal => "nominal".into(),
            Choice::Alt(x) => label_of(x),
        }
    }
}
