//! The framework: the indicator tree, as data.
//!
//! Evaluation teams edit names, points, scoring rules and collection methods in a TOML file
//! (see `docs/framework-format.md`); nothing about the default 3 → 9 → 31 tree is in code.
//! A [`Framework`] is only ever built by [`Framework::from_toml`], which validates the whole
//! file and reports every problem with its line, so the rest of the engine can trust it:
//! ids are unique, parents exist, there are no cycles, points add up, rules are well formed.

mod parse;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::engine::aggregate::Aggregation;
use crate::engine::impute::Imputation;
use crate::engine::normalise::Normalisation;
use crate::engine::treat::Treatment;

pub use parse::{FrameworkError, Problem};

/// The default framework shipped with govcap (method.md §2): 3 → 9 → 31 indicators, 100 points.
pub const DEFAULT_FRAMEWORK_TOML: &str = include_str!("../../frameworks/govcap-default.toml");

/// How node values combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Every node is worth points; a leaf earns a fraction of its points and a parent the sum
    /// of its children's points (the blue book's 100-point design).
    Points,
    /// Every node has a relative weight; values are normalised and aggregated as weighted
    /// means (COINr / OECD-JRC style).
    Weights,
}

/// Who collects a leaf's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// Measurable by the monitor from public pages.
    Auto,
    /// Recorded by an evaluator, with evidence.
    Manual,
    /// Proposed by the monitor, confirmed by an evaluator.
    Hybrid,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Auto => "auto",
            Collection::Manual => "manual",
            Collection::Hybrid => "hybrid",
        }
    }
}

/// One named level of a graded indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// What evaluators write in a spreadsheet cell (the Chinese or English label works too).
    pub key: String,
    pub zh: String,
    pub en: String,
    /// Share of the indicator's points this level earns, 0–1, strictly ascending.
    pub fraction: f64,
}

/// How a leaf turns an observed value into a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Yes / no: full points or none.
    Binary,
    /// A share 0–1 (e.g. items found over reference items).
    Ratio,
    /// A count of things found, capped: `min(x, cap) / cap`.
    Count { cap: f64 },
    /// Named levels, each worth a fixed fraction.
    Graded { levels: Vec<Level> },
    /// Any number, normalised across units by the leaf's normalisation.
    Continuous,
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Binary => "binary",
            Rule::Ratio => "ratio",
            Rule::Count { .. } => "count",
            Rule::Graded { .. } => "graded",
            Rule::Continuous => "continuous",
        }
    }
}

/// What only leaves have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaf {
    pub rule: Rule,
    pub collection: Collection,
    /// +1 when more is better, −1 when less is better.
    pub direction: f64,
    /// Unit attribute to divide raw values by (per capita, per area …).
    pub denominator: Option<String>,
    /// Overrides of the framework's method defaults.
    pub normalisation: Option<Normalisation>,
    pub missing: Option<Imputation>,
    pub treatment: Option<Treatment>,
    /// Channel tag (e.g. `weibo`, `app`) for the channel-coverage analysis.
    pub channel: Option<String>,
    /// Free-text unit of measurement, shown in reports.
    pub unit_label: Option<String>,
    /// How the indicator is scored, in the evaluators' words.
    pub scoring: Option<String>,
}

/// One node of the indicator tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub parent: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    /// Points (points scale) or relative weight (weights scale).
    pub weight: f64,
    pub leaf: Option<Leaf>,
    /// Line in the framework file, for messages.
    pub line: usize,
}

/// Per-depth aggregation: depth 0 is the overall index, 1 the first level (一级指标), …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregationPlan {
    pub default: Aggregation,
    #[serde(default)]
    pub by_depth: BTreeMap<usize, Aggregation>,
}

impl AggregationPlan {
    pub fn at(&self, depth: usize) -> &Aggregation {
        self.by_depth.get(&depth).unwrap_or(&self.default)
    }
}

/// Pipeline defaults that apply to every leaf unless the leaf overrides them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    pub normalisation: Normalisation,
    pub missing: Imputation,
    pub treatment: Treatment,
    pub aggregation: AggregationPlan,
    pub denominator_scale: f64,
}

/// A validated indicator tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    pub id: String,
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub scale: Scale,
    /// Full score in the points scale (sum of the top-level points); 1 in the weights scale.
    pub total: f64,
    pub method: Method,
    /// Nodes in file order.
    pub nodes: Vec<Node>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    depth: Vec<usize>,
    index: HashMap<String, usize>,
    /// Nodes ordered so that every child comes before its parent.
    bottom_up: Vec<usize>,
}

impl Framework {
    /// The default framework of method.md §2.
    pub fn default_framework() -> Self {
        Self::from_toml(DEFAULT_FRAMEWORK_TOML).expect("the embedded default framework is valid")
    }

    /// Parses and validates a framework file; every problem is reported, each with its line.
    pub fn from_toml(text: &str) -> Result<Self, FrameworkError> {
        parse::parse(text)
    }

    pub(crate) fn assemble(
        header: (String, String, String, String, Scale, f64),
        method: Method,
        nodes: Vec<Node>,
    ) -> Self {
        let (id, version, name_zh, name_en, scale, total) = header;
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut children = vec![Vec::new(); nodes.len()];
        let mut roots = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            match &n.parent {
                Some(p) => children[index[p]].push(i),
                None => roots.push(i),
            }
        }
        let mut depth = vec![0; nodes.len()];
        let mut order = Vec::with_capacity(nodes.len());
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        for &r in &roots {
            depth[r] = 1;
        }
        while let Some(i) = stack.pop() {
            order.push(i);
            for &c in children[i].iter().rev() {
                depth[c] = depth[i] + 1;
                stack.push(c);
            }
        }
        order.reverse();
        Framework {
            id,
            version,
            name_zh,
            name_en,
            scale,
            total,
            method,
            nodes,
            children,
            roots,
            depth,
            index,
            bottom_up: order,
        }
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// Top-level nodes (一级指标), in file order.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// 1 for top-level nodes, 2 for their children, …
    pub fn depth(&self, i: usize) -> usize {
        self.depth[i]
    }

    pub fn max_depth(&self) -> usize {
        self.depth.iter().copied().max().unwrap_or(0)
    }

    pub fn is_leaf(&self, i: usize) -> bool {
        self.children[i].is_empty()
    }

    /// Leaf positions in tree order (depth first, file order among siblings).
    pub fn leaves(&self) -> Vec<usize> {
        self.tree_order()
            .into_iter()
            .filter(|&i| self.is_leaf(i))
            .collect()
    }

    /// Nodes at one depth in tree order.
    pub fn at_depth(&self, d: usize) -> Vec<usize> {
        self.tree_order()
            .into_iter()
            .filter(|&i| self.depth[i] == d)
            .collect()
    }

    /// Every child before its parent: the order aggregation walks.
    pub fn bottom_up(&self) -> &[usize] {
        &self.bottom_up
    }

    /// Depth-first order from the roots: the order trees are printed and exported in.
    pub fn tree_order(&self) -> Vec<usize> {
        let mut out = self.bottom_up.clone();
        out.reverse();
        out
    }

    /// A node's weight as a share of the whole index (the product of normalised weights down
    /// the tree): in the points scale, points / total.
    pub fn effective_weight(&self, i: usize) -> f64 {
        let mut w = 1.0;
        let mut cur = i;
        loop {
            let siblings: &[usize] = match &self.nodes[cur].parent {
                Some(p) => &self.children[self.index[p]],
                None => &self.roots,
            };
            let sum: f64 = siblings.iter().map(|&s| self.nodes[s].weight).sum();
            w *= self.nodes[cur].weight / sum;
            match &self.nodes[cur].parent {
                Some(p) => cur = self.index[p],
                None => return w,
            }
        }
    }

    /// Points a node is worth (points scale); in the weights scale, its effective weight × 100.
    pub fn points(&self, i: usize) -> f64 {
        match self.scale {
            Scale::Points => self.nodes[i].weight,
            Scale::Weights => self.effective_weight(i) * 100.0,
        }
    }

    /// The normalisation a leaf uses (its own or the framework default).
    pub fn normalisation(&self, leaf: &Leaf) -> Normalisation {
        leaf.normalisation
            .clone()
            .unwrap_or_else(|| self.method.normalisation.clone())
    }

    pub fn missing(&self, leaf: &Leaf) -> Imputation {
        leaf.missing
            .clone()
            .unwrap_or_else(|| self.method.missing.clone())
    }

    pub fn treatment(&self, leaf: &Leaf) -> Treatment {
        leaf.treatment
            .clone()
            .unwrap_or_else(|| self.method.treatment.clone())
    }
}
