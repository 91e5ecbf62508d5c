//! The sampling design: which settings each draw uses.
//!
//! Every varying factor owns one or more coordinates of the unit cube: a discrete factor (a
//! list of alternatives) one coordinate, mapped to alternative `⌊u · n⌋`; a weight depth one
//! coordinate per node, mapped to the multiplier `1 + (2u − 1) · noise`. With `D` coordinates,
//! point `j` of a `2D`-dimensional Sobol' sequence gives row `j` of matrix A (its first `D`
//! coordinates) and of matrix B (the last `D`), as in Saltelli (2002) and SALib. The draws are,
//! in COINr's order, the `N` rows of A, the `N` rows of B, then for each factor `i` the `N` rows
//! of `AB_i` — A with factor `i`'s coordinates taken from B — so `N·(d + 2)` draws in all. A
//! factor that spans several coordinates (the weights of one depth) is switched as a group,
//! which gives the sensitivity indices of the group.

use serde::{Deserialize, Serialize};

use super::factors::Factors;
use super::model::{DrawChoice, WeightNode};
use super::sobol::{Sobol, SobolError};

/// What a factor varies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FactorKind {
    /// The weights of every node at this depth (1 = top level).
    Weights {
        depth: usize,
    },
    Normalisation,
    Aggregation,
    Missing,
    Treatment,
    Tiers,
}

impl FactorKind {
    /// Display name, e.g. `weights (depth 2)`.
    pub fn name(&self) -> String {
        match self {
            FactorKind::Weights { depth } => format!("weights (depth {depth})"),
            FactorKind::Normalisation => "normalisation".into(),
            FactorKind::Aggregation => "aggregation".into(),
            FactorKind::Missing => "missing data".into(),
            FactorKind::Treatment => "outlier treatment".into(),
            FactorKind::Tiers => "tier method".into(),
        }
    }
}

/// Which matrix of the design a draw belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    A,
    B,
    /// A with the coordinates of factor `i` (0-based) from B.
    Ab(usize),
}

impl Block {
    pub fn label(self) -> String {
        match self {
            Block::A => "A".into(),
            Block::B => "B".into(),
            Block::Ab(i) => format!("AB{}", i + 1),
        }
    }
}

/// One varying factor and the coordinates it owns.
#[derive(Debug, Clone)]
pub(crate) struct DesignFactor {
    pub kind: FactorKind,
    /// Coordinate indices (into the D coordinates).
    pub coords: Vec<usize>,
    /// Number of alternatives (discrete factors) or 0 (weights).
    pub alternatives: usize,
}

/// The Saltelli design over the varying factors.
#[derive(Debug, Clone)]
pub(crate) struct Design {
    pub factors: Vec<DesignFactor>,
    /// Coordinates in all (D).
    pub coords: usize,
    /// Base sample size N.
    pub base: usize,
    sobol: Sobol,
    /// For weights: coordinate → (weight node index, noise); `usize::MAX` for discrete ones.
    weight_coord: Vec<(usize, f64)>,
    /// Factor owning each coordinate.
    coord_factor: Vec<usize>,
    /// Discrete factor of each kind (index into `factors`), if it varies.
    discrete: [Option<usize>; 5],
    n_weights: usize,
}

const KINDS: [FactorKind; 5] = [
    FactorKind::Normalisation,
    FactorKind::Aggregation,
    FactorKind::Missing,
    FactorKind::Treatment,
    FactorKind::Tiers,
];

impl Design {
    /// Lays out the coordinates of the varying factors; `None` when nothing varies.
    pub fn new(
        factors: &Factors,
        weight_nodes: &[WeightNode],
        base: usize,
        seed: u64,
    ) -> Result<Option<Design>, SobolError> {
        let mut out: Vec<DesignFactor> = Vec::new();
        let mut weight_coord = Vec::new();
        let mut depths: Vec<usize> = weight_nodes.iter().map(|w| w.depth).collect();
        depths.dedup();
        for depth in depths {
            let mut coords = Vec::new();
            for (wi, w) in weight_nodes
                .iter()
                .enumerate()
                .filter(|(_, w)| w.depth == depth)
            {
                coords.push(weight_coord.len());
                weight_coord.push((wi, w.noise));
            }
            out.push(DesignFactor {
                kind: FactorKind::Weights { depth },
                coords,
                alternatives: 0,
            });
        }
        let counts = [
            factors.normalisation.len(),
            factors.aggregation.len(),
            factors.missing.len(),
            factors.treatment.len(),
            factors.tiers.len(),
        ];
        let mut discrete = [None; 5];
        for (k, &count) in counts.iter().enumerate() {
            if count > 1 {
                discrete[k] = Some(out.len());
                out.push(DesignFactor {
                    kind: KINDS[k].clone(),
                    coords: vec![weight_coord.len()],
                    alternatives: count,
                });
                weight_coord.push((usize::MAX, 0.0));
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        let coords = weight_coord.len();
        let mut coord_factor = vec![0; coords];
        for (f, fac) in out.iter().enumerate() {
            for &c in &fac.coords {
                coord_factor[c] = f;
            }
        }
        Ok(Some(Design {
            coord_factor,
            factors: out,
            coords,
            base,
            sobol: Sobol::with_digital_shift(2 * coords, seed)?,
            weight_coord,
            discrete,
            n_weights: weight_nodes.len(),
        }))
    }

    pub fn draws(&self) -> usize {
        self.base * (self.factors.len() + 2)
    }

    pub fn block_of(&self, draw: usize) -> (Block, usize) {
        let (b, j) = (draw / self.base, draw % self.base);
        let block = match b {
            0 => Block::A,
            1 => Block::B,
            i => Block::Ab(i - 2),
        };
        (block, j)
    }

    /// The settings of draw `draw`; `point` is scratch of length 2D.
    pub fn choice(&self, draw: usize, point: &mut [f64], out: &mut DrawChoice) {
        let (block, j) = self.block_of(draw);
        self.sobol.point(j as u32, point);
        let d = self.coords;
        let from_b = |c: usize| -> bool {
            match block {
                Block::A => false,
                Block::B => true,
                Block::Ab(i) => self.coord_factor[c] == i,
            }
        };
        out.weight_multipliers.resize(self.n_weights, 1.0);
        for (c, &(wi, noise)) in self.weight_coord.iter().enumerate() {
            if wi == usize::MAX {
                continue;
            }
            let u = if from_b(c) { point[d + c] } else { point[c] };
            out.weight_multipliers[wi] = 1.0 + (2.0 * u - 1.0) * noise;
        }
        let pick = |k: usize| -> usize {
            match self.discrete[k] {
                None => 0,
                Some(f) => {
                    let fac = &self.factors[f];
                    let c = fac.coords[0];
                    let u = if from_b(c) { point[d + c] } else { point[c] };
                    ((u * fac.alternatives as f64) as usize).min(fac.alternatives - 1)
                }
            }
        };
        out.normalisation = pick(0);
        out.aggregation = pick(1);
        out.missing = pick(2);
        out.treatment = pick(3);
        out.tiers = pick(4);
    }
}
