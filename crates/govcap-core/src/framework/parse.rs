//! Reading and validating a framework file.
//!
//! Syntax and type errors stop parsing at the first one (the TOML reader cannot go on), but
//! every structural problem — duplicate ids, unknown parents, cycles, points that do not add
//! up, unknown rules, graded levels out of order — is collected, so an editor fixes the file
//! in one pass rather than one error at a time.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{AggregationPlan, Collection, Framework, Leaf, Level, Method, Node, Rule, Scale};
use crate::engine::aggregate::Aggregation;
use crate::engine::impute::Imputation;
use crate::engine::normalise::{output_range, Normalisation};
use crate::engine::treat::Treatment;

/// One thing wrong with a framework file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// The node the problem is about, when it is about one.
    pub node: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(n) = &self.node {
            write!(f, "node {n}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a framework file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameworkError {
    #[error("framework file is not valid TOML or has a wrong field: {0}")]
    Syntax(Problem),
    #[error("framework has {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

impl FrameworkError {
    /// All problems, one per line, for printing.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            FrameworkError::Syntax(p) => vec![p.clone()],
            FrameworkError::Invalid(ps) => ps.clone(),
        }
    }
}

fn list(ps: &[Problem]) -> String {
    ps.iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    framework: RawHeader,
    #[serde(default)]
    method: Option<RawMethod>,
    #[serde(default)]
    node: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    version: String,
    name_zh: String,
    name_en: String,
    scale: Scale,
    total: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    normalisation: Option<Normalisation>,
    missing: Option<Imputation>,
    treatment: Option<Treatment>,
    aggregation: Option<RawAggregation>,
    denominator_scale: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAggregation {
    default: Option<Aggregation>,
    #[serde(default)]
    by_depth: std::collections::BTreeMap<String, Aggregation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<String>,
    parent: Option<String>,
    name_zh: Option<String>,
    name_en: Option<String>,
    points: Option<f64>,
    weight: Option<f64>,
    rule: Option<String>,
    collection: Option<String>,
    direction: Option<f64>,
    denominator: Option<String>,
    levels: Option<Vec<Level>>,
    cap: Option<f64>,
    normalisation: Option<Normalisation>,
    missing: Option<Imputation>,
    treatment: Option<Treatment>,
    channel: Option<String>,
    unit_label: Option<String>,
    scoring: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

const EPS: f64 = 1e-9;

pub(super) fn parse(text: &str) -> Result<Framework, FrameworkError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        FrameworkError::Syntax(Problem {
            line: e.span().map(|s| line_of(text, s.start)),
            node: None,
            message: e.message().trim().to_string(),
        })
    })?;
    let mut problems = Vec::new();
    let scale = raw.framework.scale;
    let method = build_method(scale, raw.method, &mut problems);

    // Ids: unique and non-empty.
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for n in &raw.node {
        let line = line_of(text, n.id.span().start);
        let id = n.id.get_ref().as_str();
        if id.trim().is_empty() {
            problems.push(problem(line, None, "empty id".into()));
        } else if let Some(first) = first_line.insert(id, line) {
            problems.push(problem(
                line,
                Some(id),
                format!("duplicate id (first defined on line {first})"),
            ));
            first_line.insert(id, first);
        }
    }
    // Parents exist; no cycles.
    let parent_of: HashMap<&str, Option<&str>> = raw
        .node
        .iter()
        .map(|n| (n.id.get_ref().as_str(), n.parent.as_deref()))
        .collect();
    let mut structurally_ok = true;
    for n in &raw.node {
        let line = line_of(text, n.id.span().start);
        let id = n.id.get_ref().as_str();
        if let Some(p) = n.parent.as_deref() {
            if !parent_of.contains_key(p) {
                problems.push(problem(line, Some(id), format!("unknown parent {p:?}")));
                structurally_ok = false;
            } else if p == id {
                problems.push(problem(line, Some(id), "is its own parent".into()));
                structurally_ok = false;
            }
        }
    }
    if structurally_ok {
        let mut reported: HashSet<&str> = HashSet::new();
        for n in &raw.node {
            let start = n.id.get_ref().as_str();
            let mut seen = vec![start];
            let mut cur = start;
            while let Some(Some(p)) = parent_of.get(cur) {
                if let Some(pos) = seen.iter().position(|s| s == p) {
                    let cycle = &seen[pos..];
                    if cycle.iter().all(|c| !reported.contains(c)) {
                        reported.extend(cycle.iter().copied());
                        let mut path: Vec<&str> = cycle.to_vec();
                        path.push(p);
                        problems.push(problem(
                            line_of(text, n.id.span().start),
                            Some(start),
                            format!("parent links form a cycle: {}", path.join(" → ")),
                        ));
                    }
                    structurally_ok = false;
                    break;
                }
                seen.push(p);
                cur = p;
            }
        }
    }
    let has_children: HashSet<&str> = raw
        .node
        .iter()
        .filter_map(|n| n.parent.as_deref())
        .collect();

    let mut nodes = Vec::with_capacity(raw.node.len());
    for n in &raw.node {
        let line = line_of(text, n.id.span().start);
        let id = n.id.get_ref().clone();
        let is_leaf = !has_children.contains(id.as_str());
        let weight = match (scale, n.points, n.weight) {
            (Scale::Points, Some(p), None) => p,
            (Scale::Weights, None, Some(w)) => w,
            (Scale::Weights, None, None) => 1.0,
            (Scale::Points, None, _) => {
                problems.push(problem(
                    line,
                    Some(&id),
                    "needs `points` (points scale)".into(),
                ));
                0.0
            }
            (Scale::Points, Some(p), Some(_)) | (Scale::Weights, Some(p), _) => {
                problems.push(problem(
                    line,
                    Some(&id),
                    format!(
                        "use `{}` only: this framework's scale is {:?}",
                        if scale == Scale::Points {
                            "points"
                        } else {
                            "weight"
                        },
                        scale
                    ),
                ));
                p
            }
        };
        if !weight.is_finite() || weight < 0.0 {
            problems.push(problem(
                line,
                Some(&id),
                format!("points/weight {weight} must be a non-negative number"),
            ));
        }
        let leaf = if is_leaf {
            build_leaf(n, scale, &method, line, &id, &mut problems)
        } else {
            for (field, set) in [
                ("rule", n.rule.is_some()),
                ("levels", n.levels.is_some()),
                ("collection", n.collection.is_some()),
                ("direction", n.direction.is_some()),
                ("denominator", n.denominator.is_some()),
                ("normalisation", n.normalisation.is_some()),
            ] {
                if set {
                    problems.push(problem(
                        line,
                        Some(&id),
                        format!(
                            "`{field}` is only for leaf indicators, but this node has children"
                        ),
                    ));
                }
            }
            None
        };
        nodes.push(Node {
            name_zh: n
                .name_zh
                .clone()
                .or_else(|| n.name_en.clone())
                .unwrap_or_else(|| id.clone()),
            name_en: n
                .name_en
                .clone()
                .or_else(|| n.name_zh.clone())
                .unwrap_or_else(|| id.clone()),
            id,
            parent: n.parent.clone(),
            weight,
            leaf,
            line,
        });
    }
    if nodes.is_empty() {
        problems.push(problem(1, None, "the framework has no [[node]]".into()));
    }

    // Points add up.
    let mut total = 1.0;
    if scale == Scale::Points && structurally_ok {
        let mut sums: HashMap<&str, f64> = HashMap::new();
        let mut top = 0.0;
        for n in &nodes {
            match n.parent.as_deref() {
                Some(p) => *sums.entry(p).or_default() += n.weight,
                None => top += n.weight,
            }
        }
        for n in &nodes {
            if let Some(&s) = sums.get(n.id.as_str()) {
                if (s - n.weight).abs() > EPS {
                    problems.push(problem(
                        n.line,
                        Some(&n.id),
                        format!(
                            "has {} points but its children add up to {}",
                            fmt_num(n.weight),
                            fmt_num(s)
                        ),
                    ));
                }
            }
        }
        total = raw.framework.total.unwrap_or(top);
        if (top - total).abs() > EPS {
            problems.push(problem(
                1,
                None,
                format!(
                    "total is {} but the top-level points add up to {}",
                    fmt_num(total),
                    fmt_num(top)
                ),
            ));
        }
    } else if scale == Scale::Weights && raw.framework.total.is_some() {
        problems.push(problem(
            1,
            None,
            "`total` is only for the points scale".into(),
        ));
    }
    if scale == Scale::Weights && structurally_ok {
        // A parent whose children all weigh 0 cannot be aggregated.
        let mut sums: HashMap<&str, f64> = HashMap::new();
        for n in &nodes {
            if let Some(p) = n.parent.as_deref() {
                *sums.entry(p).or_default() += n.weight;
            }
        }
        for n in &nodes {
            if sums.get(n.id.as_str()) == Some(&0.0) {
                problems.push(problem(
                    n.line,
                    Some(&n.id),
                    "all children have weight 0".into(),
                ));
            }
        }
    }

    // Geometric / harmonic aggregation must never see non-positive inputs: check at
    // configuration time against the normalisation's guaranteed range.
    if structurally_ok && problems.is_empty() {
        let fw = Framework::assemble(
            (
                raw.framework.id.clone(),
                raw.framework.version.clone(),
                raw.framework.name_zh.clone(),
                raw.framework.name_en.clone(),
                scale,
                total,
            ),
            method,
            nodes,
        );
        check_aggregation_inputs(&fw, &mut problems);
        if problems.is_empty() {
            return Ok(fw);
        }
    }
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    Err(FrameworkError::Invalid(problems))
}

fn problem(line: usize, node: Option<&str>, message: String) -> Problem {
    Problem {
        line: Some(line),
        node: node.map(str::to_string),
        message,
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn build_method(scale: Scale, raw: Option<RawMethod>, problems: &mut Vec<Problem>) -> Method {
    let (norm, missing) = match scale {
        // Points: a leaf earns a fraction of its points; a missing value earns nothing, as
        // in the blue book (a feature not found scores zero).
        Scale::Points => (
            Normalisation::MinMax {
                low: 0.0,
                high: 1.0,
            },
            Imputation::Zero,
        ),
        Scale::Weights => (
            Normalisation::MinMax {
                low: 0.0,
                high: 100.0,
            },
            Imputation::Exclude,
        ),
    };
    let mut m = Method {
        normalisation: norm,
        missing,
        treatment: Treatment::None,
        aggregation: AggregationPlan {
            default: Aggregation::Arithmetic,
            by_depth: Default::default(),
        },
        denominator_scale: 1.0,
    };
    if let Some(r) = raw {
        if let Some(n) = r.normalisation {
            m.normalisation = n;
        }
        if let Some(x) = r.missing {
            m.missing = x;
        }
        if let Some(t) = r.treatment {
            m.treatment = t;
        }
        if let Some(s) = r.denominator_scale {
            m.denominator_scale = s;
        }
        if let Some(a) = r.aggregation {
            if let Some(d) = a.default {
                m.aggregation.default = d;
            }
            for (k, v) in a.by_depth {
                match k.parse::<usize>() {
                    Ok(d) => {
                        m.aggregation.by_depth.insert(d, v);
                    }
                    Err(_) => problems.push(Problem {
                        line: None,
                        node: None,
                        message: format!(
                            "[method.aggregation.by_depth] key {k:?} is not a depth (0, 1, 2 …)"
                        ),
                    }),
                }
            }
        }
    }
    if scale == Scale::Points
        && m.aggregation
            != (AggregationPlan {
                default: Aggregation::Arithmetic,
                by_depth: Default::default(),
            })
    {
        problems.push(Problem {
            line: None,
            node: None,
            message:
                "the points scale adds points up; use scale = \"weights\" for other aggregations"
                    .into(),
        });
    }
    m
}

fn build_leaf(
    n: &RawNode,
    scale: Scale,
    method: &Method,
    line: usize,
    id: &str,
    problems: &mut Vec<Problem>,
) -> Option<Leaf> {
    let mut say = |msg: String| problems.push(problem(line, Some(id), msg));
    let rule = match n.rule.as_deref() {
        None => {
            say(
                "leaf indicator needs a `rule` (binary, ratio, count, graded or continuous)".into(),
            );
            return None;
        }
        Some("binary") => Rule::Binary,
        Some("ratio") => Rule::Ratio,
        Some("continuous") => Rule::Continuous,
        Some("count") => match n.cap {
            Some(c) if c > 0.0 && c.is_finite() => Rule::Count { cap: c },
            _ => {
                say("rule \"count\" needs a positive `cap`".into());
                return None;
            }
        },
        Some("graded") => {
            let levels = n.levels.clone().unwrap_or_default();
            if levels.len() < 2 {
                say("rule \"graded\" needs at least two `levels`".into());
            }
            let mut words: HashMap<String, usize> = HashMap::new();
            for (i, l) in levels.iter().enumerate() {
                let mine: HashSet<String> = [&l.key, &l.zh, &l.en]
                    .iter()
                    .map(|w| w.trim().to_lowercase())
                    .collect();
                for w in mine {
                    if let Some(j) = words.insert(w.clone(), i) {
                        say(format!(
                            "levels {:?} and {:?} share the word {w:?}, so a cell saying it would be ambiguous",
                            levels[j].key, l.key
                        ));
                    }
                }
                if !(0.0..=1.0).contains(&l.fraction) {
                    say(format!(
                        "level {:?} has fraction {} outside 0–1",
                        l.key, l.fraction
                    ));
                }
                if i > 0 && l.fraction <= levels[i - 1].fraction {
                    say(format!(
                        "graded levels out of order: {:?} ({}) must earn more than {:?} ({})",
                        l.key,
                        l.fraction,
                        levels[i - 1].key,
                        levels[i - 1].fraction
                    ));
                }
            }
            Rule::Graded { levels }
        }
        Some(other) => {
            say(format!(
                "unknown scoring rule {other:?} (expected binary, ratio, count, graded or continuous)"
            ));
            return None;
        }
    };
    if n.levels.is_some() && !matches!(rule, Rule::Graded { .. }) {
        say("`levels` is only for rule \"graded\"".into());
    }
    if n.cap.is_some() && !matches!(rule, Rule::Count { .. }) {
        say("`cap` is only for rule \"count\"".into());
    }
    let collection = match n.collection.as_deref() {
        None | Some("manual") => Collection::Manual,
        Some("auto") => Collection::Auto,
        Some("hybrid") => Collection::Hybrid,
        Some(other) => {
            say(format!(
                "unknown collection method {other:?} (expected auto, manual or hybrid)"
            ));
            Collection::Manual
        }
    };
    let direction = n.direction.unwrap_or(1.0);
    if direction != 1.0 && direction != -1.0 {
        say(format!("direction must be 1 or -1, not {direction}"));
    }
    if !matches!(rule, Rule::Continuous) {
        for (field, set) in [
            ("normalisation", n.normalisation.is_some()),
            ("treatment", n.treatment.is_some()),
            ("denominator", n.denominator.is_some()),
        ] {
            if set {
                say(format!("`{field}` applies to continuous indicators only"));
            }
        }
        if direction != 1.0 {
            say("direction applies to continuous indicators only".into());
        }
    }
    let leaf = Leaf {
        rule,
        collection,
        direction,
        denominator: n.denominator.clone(),
        normalisation: n.normalisation.clone(),
        missing: n.missing.clone(),
        treatment: n.treatment.clone(),
        channel: n.channel.clone(),
        unit_label: n.unit_label.clone(),
        scoring: n.scoring.clone(),
    };
    if scale == Scale::Points && matches!(leaf.rule, Rule::Continuous) {
        let norm = leaf.normalisation.as_ref().unwrap_or(&method.normalisation);
        match output_range(norm) {
            Some((lo, hi)) if lo >= -EPS && hi <= 1.0 + EPS => {}
            _ => say(format!(
                "in the points scale a continuous indicator must be normalised into 0–1 \
                 (e.g. min-max 0..1 or truncated goalposts with scale 1); {norm:?} is not"
            )),
        }
    }
    Some(leaf)
}

fn check_aggregation_inputs(fw: &Framework, problems: &mut Vec<Problem>) {
    for i in fw.bottom_up().iter().copied() {
        if fw.is_leaf(i) {
            continue;
        }
        let agg = fw.method.aggregation.at(fw.depth(i));
        if !agg.requires_positive() {
            continue;
        }
        for &c in fw.children(i) {
            let Some(leaf) = &fw.nodes[c].leaf else {
                continue;
            };
            let norm = fw.normalisation(leaf);
            let positive = matches!(leaf.rule, Rule::Continuous)
                && matches!(output_range(&norm), Some((lo, _)) if lo > 0.0);
            if !positive {
                problems.push(problem(
                    fw.nodes[c].line,
                    Some(&fw.nodes[c].id),
                    format!(
                        "{agg:?} aggregation at depth {} needs strictly positive inputs, but this \
                         indicator can be 0 or less under {norm:?}; normalise into a positive range \
                         (e.g. min-max 1..100)",
                        fw.depth(i)
                    ),
                ));
            }
        }
    }
}
