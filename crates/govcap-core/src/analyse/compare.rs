//! Comparing two evaluations (two years, or two method variants of one year): who moved,
//! by how much, and across which tier lines. Used by `govcap runs diff` and the ranking's
//! "change from last year" column.

use std::collections::HashMap;

use serde::Serialize;

use super::figures::{tier_moves, TierMove};
use crate::evaluate::Evaluation;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitChange {
    pub code: String,
    pub name: String,
    pub total_a: Option<f64>,
    pub total_b: Option<f64>,
    pub total_change: Option<f64>,
    pub rank_a: Option<usize>,
    pub rank_b: Option<usize>,
    /// Positive = moved up (rank number fell).
    pub rank_change: Option<i64>,
    pub tier_a: Option<String>,
    pub tier_b: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    pub year_a: i32,
    pub year_b: i32,
    /// Units in B, in B's order, with their A figures when A has them.
    pub units: Vec<UnitChange>,
    pub tier_moves: Vec<TierMove>,
    pub moved_up: usize,
    pub moved_down: usize,
    pub unchanged: usize,
    /// Units only in B, only in A.
    pub only_in_b: Vec<String>,
    pub only_in_a: Vec<String>,
    /// Largest absolute rank change.
    pub max_rank_change: i64,
}

/// Differences from `a` to `b`.
pub fn diff(a: &Evaluation, b: &Evaluation) -> RunDiff {
    let in_a: HashMap<&str, usize> = a
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i))
        .collect();
    let in_b: HashMap<&str, usize> = b
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i))
        .collect();
    let units: Vec<UnitChange> = b
        .units
        .iter()
        .filter_map(|ub| {
            let ua = &a.units[*in_a.get(ub.code.as_str())?];
            Some(UnitChange {
                code: ub.code.clone(),
                name: ub.name.clone(),
                total_a: ua.total,
                total_b: ub.total,
                total_change: ua.total.zip(ub.total).map(|(x, y)| y - x),
                rank_a: ua.rank,
                rank_b: ub.rank,
                rank_change: ua.rank.zip(ub.rank).map(|(x, y)| x as i64 - y as i64),
                tier_a: ua.tier.clone(),
                tier_b: ub.tier.clone(),
            })
        })
        .collect();
    let changes: Vec<i64> = units.iter().filter_map(|u| u.rank_change).collect();
    RunDiff {
        year_a: a.year,
        year_b: b.year,
        tier_moves: tier_moves(a, b),
        moved_up: changes.iter().filter(|&&c| c > 0).count(),
        moved_down: changes.iter().filter(|&&c| c < 0).count(),
        unchanged: changes.iter().filter(|&&c| c == 0).count(),
        max_rank_change: changes.iter().map(|c| c.abs()).max().unwrap_or(0),
        only_in_b: b
            .units
            .iter()
            .filter(|u| !in_a.contains_key(u.code.as_str()))
            .map(|u| u.code.clone())
            .collect(),
        only_in_a: a
            .units
            .iter()
            .filter(|u| !in_b.contains_key(u.code.as_str()))
            .map(|u| u.code.clone())
            .collect(),
        units,
    }
}
