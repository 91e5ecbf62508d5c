//! Balanced assignment of tasks to evaluators.
//!
//! Tasks are grouped (by province, so one evaluator knows a province's portals; or by
//! indicator, so one evaluator applies one rule consistently) and whole groups go to the
//! evaluator with the least work so far, largest group first (the LPT rule: within 4/3 of the
//! best possible balance). The second coding of each double-coded task then goes to the least
//! loaded evaluator other than its first coder, so the two codings are independent.

use std::collections::BTreeMap;

use super::TaskKey;
use crate::unit::UnitSet;

/// How tasks are grouped before they are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignBy {
    Province,
    Indicator,
}

/// Who codes a task, and who codes it a second time when it is in the double-coding sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub first: String,
    pub second: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    #[error("no evaluator to assign tasks to")]
    NoEvaluators,
    #[error("double coding needs at least two evaluators")]
    TooFewForDoubleCoding,
    #[error("the double-coding flags ({flags}) do not match the tasks ({tasks})")]
    Mismatch { flags: usize, tasks: usize },
}

/// Assigns every task (in `keys` order) to evaluators; `double[i]` marks the double-coded ones.
pub fn assign(
    keys: &[TaskKey],
    units: &UnitSet,
    evaluators: &[String],
    by: AssignBy,
    double: &[bool],
) -> Result<Vec<Assignment>, AssignError> {
    if evaluators.is_empty() {
        return Err(AssignError::NoEvaluators);
    }
    if double.len() != keys.len() {
        return Err(AssignError::Mismatch {
            flags: double.len(),
            tasks: keys.len(),
        });
    }
    if evaluators.len() < 2 && double.iter().any(|&d| d) {
        return Err(AssignError::TooFewForDoubleCoding);
    }
    let group_of = |t: &TaskKey| -> String {
        match by {
            AssignBy::Province => units
                .get(&t.unit)
                .and_then(|u| u.province.clone())
                .unwrap_or_else(|| t.unit.clone()),
            AssignBy::Indicator => t.indicator.clone(),
        }
    };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, t) in keys.iter().enumerate() {
        groups.entry(group_of(t)).or_default().push(i);
    }
    let mut groups: Vec<(String, Vec<usize>)> = groups.into_iter().collect();
    // Largest first; equal sizes by name, so the result does not depend on hash order.
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let mut load = vec![0usize; evaluators.len()];
    let least = |load: &[usize], except: Option<usize>| -> usize {
        (0..load.len())
            .filter(|&e| Some(e) != except)
            .min_by_key(|&e| (load[e], e))
            .unwrap_or(0)
    };
    let mut first = vec![0usize; keys.len()];
    for (_, tasks) in &groups {
        let e = least(&load, None);
        for &i in tasks {
            first[i] = e;
        }
        load[e] += tasks.len();
    }
    let mut out = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let second = if double[i] {
            let e = least(&load, Some(first[i]));
            load[e] += 1;
            Some(evaluators[e].clone())
        } else {
            None
        };
        out.push(Assignment {
            first: evaluators[first[i]].clone(),
            second,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::tests::unit;
    use crate::campaign::{double_coding_sample, task_keys};
    use crate::framework::Framework;

    #[test]
    fn balanced_within_the_lpt_bound_and_second_coders_differ() {
        // 31 provinces of uneven size, like the real list.
        let mut units = Vec::new();
        for p in 0..31 {
            for k in 0..(3 + (p * 7) % 19) {
                units.push(unit(&format!("{:02}{:04}", 10 + p, k), &format!("省{p}")));
            }
        }
        let units = UnitSet::new(units).unwrap();
        let fw = Framework::default_framework();
        let keys = task_keys(&fw, &units);
        let double = double_coding_sample(&keys, 0.1, 7);
        let evs: Vec<String> = (1..=4).map(|i| format!("ev{i}")).collect();
        let a = assign(&keys, &units, &evs, AssignBy::Province, &double).unwrap();
        let mut load = std::collections::HashMap::new();
        for x in &a {
            *load.entry(x.first.clone()).or_insert(0usize) += 1;
            if let Some(s) = &x.second {
                assert_ne!(s, &x.first, "the second coder is someone else");
                *load.entry(s.clone()).or_insert(0) += 1;
            }
        }
        let total: usize = load.values().sum();
        let max = *load.values().max().unwrap();
        let min = *load.values().min().unwrap();
        assert_eq!(total, keys.len() + double.iter().filter(|&&d| d).count());
        assert!(
            max as f64 <= total as f64 / 4.0 * 4.0 / 3.0 + 16.0 * 21.0,
            "{load:?}"
        );
        assert!(max - min <= 16 * 21, "{load:?}");
        // One province, one first coder.
        let mut by_prov: std::collections::HashMap<String, String> = Default::default();
        for (t, x) in keys.iter().zip(&a) {
            let p = units.get(&t.unit).unwrap().province.clone().unwrap();
            assert_eq!(by_prov.entry(p).or_insert(x.first.clone()), &x.first);
        }
        // Reproducible.
        assert_eq!(
            a,
            assign(&keys, &units, &evs, AssignBy::Province, &double).unwrap()
        );
        // By indicator: 16 groups over 4 evaluators, perfectly even here.
        let b = assign(
            &keys,
            &units,
            &evs,
            AssignBy::Indicator,
            &vec![false; keys.len()],
        )
        .unwrap();
        let n_first = |e: &str| b.iter().filter(|x| x.first == e).count();
        assert_eq!(n_first("ev1"), keys.len() / 4);
        assert_eq!(n_first("ev4"), keys.len() / 4);
    }

    #[test]
    fn refusals() {
        let units = UnitSet::new(vec![unit("110000", "北京")]).unwrap();
        let keys = task_keys(&Framework::default_framework(), &units);
        let one = vec!["a".to_string()];
        assert_eq!(
            assign(
                &keys,
                &units,
                &[],
                AssignBy::Province,
                &vec![false; keys.len()]
            ),
            Err(AssignError::NoEvaluators)
        );
        let mut d = vec![false; keys.len()];
        d[0] = true;
        assert_eq!(
            assign(&keys, &units, &one, AssignBy::Province, &d),
            Err(AssignError::TooFewForDoubleCoding)
        );
    }
}
