//! Evaluation campaigns: the evaluators' workflow for manual verification (人工核验), as pure
//! rules over plain data.
//!
//! A campaign turns a framework and a unit list into tasks (one per unit and manual or hybrid
//! leaf), draws a reproducible double-coding sample, balances the tasks across evaluators, and
//! derives each task's state from its events (never stored as an editable field, so a state can
//! always be explained). Agreement statistics for the double-coded sample are in [`agreement`].
//! The store keeps the events; the web layer calls these functions to decide what a request may
//! do.

pub mod agreement;
pub mod assign;
pub mod state;

use crate::framework::{Collection, Framework};
use crate::unit::UnitSet;

/// One task: a unit and a leaf indicator to verify, coded by `coder` (1, or 2 for the second,
/// independent coding of a double-coded task).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    pub unit: String,
    pub indicator: String,
}

/// The tasks of a campaign: every unit of the list × every leaf collected by hand (`manual`) or
/// proposed by the monitor and confirmed by hand (`hybrid`), units in list order, leaves in
/// tree order. Automated leaves come from a monitor run, not from tasks.
pub fn task_keys(fw: &Framework, units: &UnitSet) -> Vec<TaskKey> {
    let leaves: Vec<&str> = fw
        .leaves()
        .into_iter()
        .filter_map(|i| {
            let n = &fw.nodes[i];
            let l = n.leaf.as_ref()?;
            matches!(l.collection, Collection::Manual | Collection::Hybrid).then_some(n.id.as_str())
        })
        .collect();
    units
        .units()
        .iter()
        .flat_map(|u| {
            leaves.iter().map(|l| TaskKey {
                unit: u.code.clone(),
                indicator: (*l).to_string(),
            })
        })
        .collect()
}

/// A 64-bit FNV-1a hash mixed with SplitMix64: stable across platforms and versions, so a
/// sample drawn today is drawn the same next year from the same seed.
fn stable_hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Which tasks are coded twice: exactly `round(share × n)` of them, those with the smallest
/// hash of (seed, unit, indicator). The choice of a task depends only on the seed and the task
/// itself plus the count, not on the order of the list, so it is reproducible and auditable.
pub fn double_coding_sample(keys: &[TaskKey], share: f64, seed: u64) -> Vec<bool> {
    let n = keys.len();
    let k = ((share.clamp(0.0, 1.0) * n as f64).round() as usize).min(n);
    let mut order: Vec<(u64, usize)> = keys
        .iter()
        .enumerate()
        .map(|(i, t)| (stable_hash(seed, &[&t.unit, &t.indicator]), i))
        .collect();
    order.sort_unstable();
    let mut out = vec![false; n];
    for &(_, i) in order.iter().take(k) {
        out[i] = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<TaskKey> {
        (0..n)
            .map(|i| TaskKey {
                unit: format!("{:06}", 110000 + i / 16),
                indicator: format!("I{}", i % 16),
            })
            .collect()
    }

    pub(crate) fn unit(code: &str, province: &str) -> crate::unit::Unit {
        crate::unit::Unit {
            code: code.into(),
            name: code.into(),
            name_en: code.into(),
            province: Some(province.into()),
            region: None,
            attrs: Default::default(),
        }
    }

    #[test]
    fn the_default_framework_has_sixteen_manual_or_hybrid_leaves() {
        let fw = Framework::default_framework();
        let units = UnitSet::new(vec![unit("110000", "北京市"), unit("120000", "天津市")]).unwrap();
        let k = task_keys(&fw, &units);
        assert_eq!(k.len(), 2 * 16);
        assert_eq!(k[0].unit, "110000");
        assert_eq!(k[16].unit, "120000");
        // No automated leaf becomes a task.
        for t in &k {
            let n = fw.nodes.iter().find(|n| n.id == t.indicator).unwrap();
            assert_ne!(n.leaf.as_ref().unwrap().collection, Collection::Auto);
        }
    }

    #[test]
    fn sample_is_exact_reproducible_and_order_free() {
        let k = keys(5392);
        let a = double_coding_sample(&k, 0.10, 42);
        assert_eq!(a.iter().filter(|&&x| x).count(), 539);
        assert_eq!(a, double_coding_sample(&k, 0.10, 42));
        assert_ne!(a, double_coding_sample(&k, 0.10, 43));
        let mut rev = k.clone();
        rev.reverse();
        let b = double_coding_sample(&rev, 0.10, 42);
        let chosen_a: Vec<&TaskKey> = k
            .iter()
            .zip(&a)
            .filter(|(_, &s)| s)
            .map(|(t, _)| t)
            .collect();
        let mut chosen_b: Vec<&TaskKey> = rev
            .iter()
            .zip(&b)
            .filter(|(_, &s)| s)
            .map(|(t, _)| t)
            .collect();
        chosen_b.reverse();
        assert_eq!(chosen_a, chosen_b);
        assert!(double_coding_sample(&k, 0.0, 1).iter().all(|x| !x));
        assert!(double_coding_sample(&k, 1.0, 1).iter().all(|x| *x));
    }
}
