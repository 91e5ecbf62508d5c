//! Synthetic data: observations for the demo and for benchmarks, generated deterministically
//! from a documented model so that anyone can regenerate them bit for bit.
//!
//! **Everything here is synthetic.** Observations carry [`Source::Synthetic`], and every
//! output that shows them says so.
//!
//! # The model
//!
//! Each unit has a latent capability θ (0–1 scale) in a base year:
//!
//! θ = 0.72 + region effect (东部 +0.06, 中部 0, 东北 −0.02, 西部 −0.04)
//!       + province effect N(0, 0.03²) + 0.05 if 副省级 + 0.03 if 省会 + 0.04 if 直辖市
//!       + unit effect N(0, 0.07²)
//!
//! and improves by δ = 0.035 + 0.015 if 西部 + N(0, 0.02²) each later year (so the west
//! catches up, as the 2021 report observed). Each leaf indicator has a difficulty
//! b ~ N(0, 0.10²), and each unit a lasting strength or weakness on it, e ~ N(0, 0.10²).
//! A unit's lasting propensity on a leaf in a year is q = clamp(θ + b + e, 0.02, 0.99), and its
//! measured propensity p = clamp(q + N(0, 0.03²), 0.02, 0.99). Features follow q through draws
//! fixed per unit and leaf, so a site keeps what it has built and gains features as q grows
//! rather than flipping at random from one year to the next: binary = [U < q] with
//! U ~ U(0, 1) fixed; count = the number of `cap` fixed uniforms below q; graded =
//! round(q·(L−1) + 0.35·Z) clamped to the L
//! levels, Z ~ N(0, 1) fixed; ratio = p + N(0, 0.02²) clamped to 0–1, two decimals;
//! continuous = p + N(0, 0.02²) mapped onto the leaf's goalposts (respecting direction) or left
//! on 0–1. About 0.3 % of manually collected cells are left empty each year, so that
//! missing-data handling is exercised.
//!
//! Random numbers come from SplitMix64 seeded per (seed, unit, leaf, year) so that adding a
//! unit or a year never changes the values of the others.

use std::collections::BTreeMap;
use std::sync::Arc;

use govcap_core::engine::normalise::Normalisation;
use govcap_core::framework::{Collection, Framework, Rule};
use govcap_core::intern::Interned;
use govcap_core::observation::{Observation, Origin, Source, Value};
use govcap_core::unit::{Unit, UnitSet};

/// The default seed of the built-in demo data.
pub const DEMO_SEED: u64 = 2021;

/// SplitMix64: tiny, fast, and stable across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one cell, independent of every other cell.
    pub fn for_key(seed: u64, parts: &[u64]) -> Self {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        for &p in parts {
            r.0 ^= p.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            r.next_u64();
        }
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn hash_str(s: &str) -> u64 {
    // FNV-1a: stable across runs and platforms (std's hasher is not).
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Latent capability of every unit in `base_year`, and its yearly improvement.
fn latent(units: &UnitSet, seed: u64) -> Vec<(f64, f64)> {
    let mut province_effect: BTreeMap<String, f64> = BTreeMap::new();
    units
        .units()
        .iter()
        .map(|u| {
            let prov = u.province.clone().unwrap_or_default();
            let pe = *province_effect
                .entry(prov.clone())
                .or_insert_with(|| 0.03 * Rng::for_key(seed, &[1, hash_str(&prov)]).normal());
            let region = u.region.as_deref().unwrap_or("");
            let re = match region {
                "东部" => 0.06,
                "东北" => -0.02,
                "西部" => -0.04,
                _ => 0.0,
            };
            let mut r = Rng::for_key(seed, &[2, hash_str(&u.code)]);
            let theta = 0.72
                + re
                + pe
                + if u.flag("sub_provincial") { 0.05 } else { 0.0 }
                + if u.flag("provincial_capital") {
                    0.03
                } else {
                    0.0
                }
                + if u.attr("type") == Some("直辖市") {
                    0.04
                } else {
                    0.0
                }
                + 0.07 * r.normal();
            let delta = 0.035 + if region == "西部" { 0.015 } else { 0.0 } + 0.02 * r.normal();
            (theta, delta)
        })
        .collect()
}

/// Synthetic observations of every leaf of `fw` for every unit in each of `years`
/// (the first year is the base year).
pub fn observations(fw: &Framework, units: &UnitSet, years: &[i32], seed: u64) -> Vec<Observation> {
    let lat = latent(units, seed);
    let leaves = fw.leaves();
    let difficulty: Vec<f64> = leaves
        .iter()
        .map(|&i| 0.10 * Rng::for_key(seed, &[3, hash_str(&fw.node(i).id)]).normal())
        .collect();
    let base = years.iter().copied().min().unwrap_or(0);
    let mut out = Vec::with_capacity(units.len() * leaves.len() * years.len());
    // Names are interned and each text value is its own string, as an importer makes them.
    let evaluator = Interned::new("govcap-synth");
    for &year in years {
        let file = Interned::new(&format!("synthetic-{year}"));
        let mut row = 1;
        for (u, unit) in units.units().iter().enumerate() {
            let (theta, delta) = lat[u];
            let theta = theta + delta * (year - base) as f64;
            for (l, &i) in leaves.iter().enumerate() {
                let node = fw.node(i);
                let leaf = node.leaf.as_ref().expect("leaf");
                let mut fixed = Rng::for_key(seed, &[5, hash_str(&unit.code), hash_str(&node.id)]);
                let mut r = Rng::for_key(
                    seed,
                    &[4, hash_str(&unit.code), hash_str(&node.id), year as u64],
                );
                let lasting = 0.10 * fixed.normal();
                // Features (binary, count, graded) follow the lasting propensity only, so a site
                // does not lose a feature at random; measured shares also get yearly noise.
                let p_lasting = (theta + difficulty[l] + lasting).clamp(0.02, 0.99);
                let p = (p_lasting + 0.03 * r.normal()).clamp(0.02, 0.99);
                if leaf.collection == Collection::Manual && r.uniform() < 0.003 {
                    continue;
                }
                let value = match &leaf.rule {
                    Rule::Binary => Value::Number(if fixed.uniform() < p_lasting {
                        1.0
                    } else {
                        0.0
                    }),
                    Rule::Ratio => Value::Number(round2((p + 0.02 * r.normal()).clamp(0.0, 1.0))),
                    Rule::Count { cap } => {
                        let trials = cap.round().max(1.0) as usize;
                        Value::Number(
                            (0..trials).filter(|_| fixed.uniform() < p_lasting).count() as f64
                        )
                    }
                    Rule::Graded { levels } => {
                        let top = (levels.len() - 1) as f64;
                        let k = (p_lasting * top + 0.35 * fixed.normal())
                            .round()
                            .clamp(0.0, top) as usize;
                        Value::Text(Arc::from(levels[k].key.as_str()))
                    }
                    Rule::Continuous => {
                        let q = (p + 0.02 * r.normal()).clamp(0.0, 1.0);
                        let v = match fw.normalisation(leaf) {
                            Normalisation::Goalposts { lower, upper, .. } => {
                                if leaf.direction < 0.0 {
                                    upper - q * (upper - lower)
                                } else {
                                    lower + q * (upper - lower)
                                }
                            }
                            _ if leaf.direction < 0.0 => 1.0 - q,
                            _ => q,
                        };
                        Value::Number(round4(v))
                    }
                };
                row += 1;
                out.push(Observation {
                    unit: unit.code.clone(),
                    indicator: node.id.clone(),
                    year,
                    value,
                    source: Source::Synthetic,
                    evaluator: Some(evaluator),
                    evidence_url: None,
                    observed_at: Some(format!("{year}-09-30")),
                    note: Some("synthetic value from govcap's demo model".into()),
                    origin: Origin {
                        file,
                        row,
                        column: None,
                    },
                });
            }
        }
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `n` synthetic units for benchmarks, borrowing province, region and flags from `template`
/// in turn so that grouping analyses have realistic group sizes. Codes are `S` + 6 digits.
pub fn units(n: usize, template: &UnitSet) -> UnitSet {
    let t = template.units();
    let list = (0..n)
        .map(|i| {
            let src = &t[i % t.len()];
            let mut attrs = src.attrs.clone();
            attrs.insert("synthetic".into(), "1".into());
            Unit {
                code: format!("S{:06}", i + 1),
                name: format!("合成单位{:06}", i + 1),
                name_en: format!("Synthetic unit {:06}", i + 1),
                province: src.province.clone(),
                region: src.region.clone(),
                attrs,
            }
        })
        .collect();
    UnitSet::new(list).expect("synthetic codes are unique")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_unit(code: &str, region: &str) -> Unit {
        Unit {
            code: code.into(),
            name: code.into(),
            name_en: code.into(),
            province: Some("P".into()),
            region: Some(region.into()),
            attrs: Default::default(),
        }
    }

    #[test]
    fn same_seed_same_values_and_cells_are_independent() {
        let fw = Framework::default_framework();
        let us = UnitSet::new(vec![one_unit("1", "东部"), one_unit("2", "西部")]).unwrap();
        let a = observations(&fw, &us, &[2020, 2021], 7);
        let b = observations(&fw, &us, &[2020, 2021], 7);
        assert_eq!(a, b);
        let c = observations(&fw, &us, &[2020, 2021], 8);
        assert_ne!(a, c);
        // Adding a unit does not change the first unit's values.
        let us3 = UnitSet::new(vec![
            one_unit("1", "东部"),
            one_unit("2", "西部"),
            one_unit("3", "中部"),
        ])
        .unwrap();
        let d = observations(&fw, &us3, &[2020, 2021], 7);
        let first = |v: &[Observation]| -> Vec<Observation> {
            v.iter().filter(|o| o.unit == "1").cloned().collect()
        };
        let (fa, fd) = (first(&a), first(&d));
        assert_eq!(fa.len(), fd.len());
        assert!(fa.iter().zip(&fd).all(|(x, y)| x.value == y.value));
        assert!(a.iter().all(|o| o.source == Source::Synthetic));
    }

    #[test]
    fn every_value_is_valid_for_its_rule() {
        let fw = Framework::default_framework();
        let us = UnitSet::new((0..50).map(|i| one_unit(&i.to_string(), "中部")).collect()).unwrap();
        for o in observations(&fw, &us, &[2020], 1) {
            let leaf = fw
                .node(fw.position(&o.indicator).unwrap())
                .leaf
                .clone()
                .unwrap();
            govcap_core::engine::score::read_value(&leaf.rule, &o.value)
                .expect("valid synthetic value");
        }
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = Rng::new(42);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(m.abs() < 0.03, "mean {m}");
        assert!((v - 1.0).abs() < 0.05, "variance {v}");
    }
}
