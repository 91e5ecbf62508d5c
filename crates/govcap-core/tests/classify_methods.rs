//! Thresholds, quantiles, the difference-trend rule, sub-levels, configuration and the
//! invariants every method shares.

use govcap_core::classify::{
    classify, cut_lines, gvf, sublevels, Classes, ClassifyError, DifferenceParams, Method,
    SublevelMethod,
};

fn diff(window: usize, share: f64) -> Method {
    Method::Difference(DifferenceParams {
        window,
        min_class_share: share,
    })
}

#[test]
fn thresholds_put_a_value_on_a_cut_line_in_the_higher_class() {
    let v = [50.0, 60.0, 70.0, 83.59, 83.58, 90.0, 59.99];
    let m = Method::Thresholds {
        cuts: vec![60.0, 70.0, 83.59],
    };
    let c = classify(&v, 4, &m).unwrap();
    assert_eq!(c.class_of, vec![0, 1, 2, 3, 2, 3, 0]);
    assert_eq!(c.counts, vec![2, 1, 2, 2]);
    assert_eq!(c.breaks, vec![50.0, 60.0, 70.0, 83.59, 90.0]);
    assert_eq!(
        cut_lines(&v, &c),
        vec![Some(50.0), Some(60.0), Some(70.0), Some(83.59)]
    );
    // Fixed cut lines may leave a class empty; the breaks stay ascending.
    let c = classify(
        &[95.0, 99.0],
        3,
        &Method::Thresholds {
            cuts: vec![60.0, 90.0],
        },
    )
    .unwrap();
    assert_eq!(c.counts, vec![0, 0, 2]);
    assert_eq!(c.breaks, vec![60.0, 60.0, 90.0, 99.0]);
    assert_eq!(cut_lines(&[95.0, 99.0], &c), vec![None, None, Some(95.0)]);
}

#[test]
fn thresholds_are_checked() {
    let v = [1.0, 2.0];
    let t = |cuts: Vec<f64>| Method::Thresholds { cuts };
    assert_eq!(
        classify(&v, 3, &t(vec![1.5])),
        Err(ClassifyError::ThresholdCount { k: 3, cuts: 1 })
    );
    assert_eq!(
        classify(&v, 3, &t(vec![2.0, 2.0])),
        Err(ClassifyError::ThresholdsNotAscending {
            index: 1,
            value: 2.0,
            previous: 2.0
        })
    );
    assert!(matches!(
        classify(&v, 2, &t(vec![f64::NAN])),
        Err(ClassifyError::NonFiniteThreshold { index: 0, .. })
    ));
}

#[test]
fn quantile_gives_equal_counts_and_moves_cuts_off_ties() {
    let v: Vec<f64> = (1..=12).map(f64::from).collect();
    let c = classify(&v, 4, &Method::Quantile).unwrap();
    assert_eq!(c.counts, vec![3, 3, 3, 3]);
    assert_eq!(c.breaks, vec![1.0, 3.0, 6.0, 9.0, 12.0]);
    // The ideal cut (after 3 values) falls inside the run of 3s: the nearest boundary between
    // distinct values is after 2 values.
    let v = [3.0, 1.0, 3.0, 2.0, 4.0, 3.0];
    let c = classify(&v, 2, &Method::Quantile).unwrap();
    assert_eq!(c.breaks, vec![1.0, 2.0, 4.0]);
    assert_eq!(c.class_of, vec![1, 0, 1, 0, 1, 1]);
    // Ideal cut after 4 values lands exactly on a boundary: kept.
    let c = classify(
        &[1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        2,
        &Method::Quantile,
    )
    .unwrap();
    assert_eq!(c.counts, vec![4, 4]);
}

/// Descending clusters separated by obvious jumps: 5 around 89, 20 around 75, 15 around 60,
/// 5 around 45, each cluster spaced by 0.5.
fn clusters() -> Vec<f64> {
    let mut v = Vec::new();
    for (top, count) in [(91.0, 5), (80.0, 20), (65.0, 15), (50.0, 5)] {
        for i in 0..count {
            v.push(top - 0.5 * f64::from(i));
        }
    }
    v
}

#[test]
fn difference_rule_cuts_at_obvious_jumps() {
    let v = clusters();
    let c = classify(&v, 4, &Method::Difference(DifferenceParams::default())).unwrap();
    assert_eq!(c.counts, vec![5, 15, 20, 5]);
    assert_eq!(c.breaks, vec![48.0, 50.0, 65.0, 80.0, 91.0]);
    assert_eq!(
        cut_lines(&v, &c),
        vec![Some(48.0), Some(58.0), Some(70.5), Some(89.0)]
    );
    // Two classes: the jumps are 9 (89 → 80), 5.5 (70.5 → 65) and 8 (58 → 50); relative to
    // the 0.5 trend the top one is the largest.
    let c = classify(&v, 2, &Method::Difference(DifferenceParams::default())).unwrap();
    assert_eq!(c.counts, vec![40, 5]);
}

#[test]
fn difference_rule_prefers_a_local_jump_to_a_sparse_tail() {
    // Bell-like: tails with large gaps, a dense middle (gaps 0.1) with one 0.8 jump.
    let mut desc = vec![100.0];
    let mut gaps = vec![3.0, 2.5, 2.0, 1.5, 1.0];
    gaps.extend(std::iter::repeat_n(0.1, 20));
    gaps.push(0.8);
    gaps.extend(std::iter::repeat_n(0.1, 20));
    gaps.extend([1.0, 1.5, 2.0, 2.5, 3.0]);
    for g in &gaps {
        let last = *desc.last().unwrap();
        desc.push(last - g);
    }
    let n = desc.len();
    let c = classify(&desc, 2, &diff(9, 0.0)).unwrap();
    // The largest raw gap (3.0) would cut off one unit at either end; the rule cuts at the
    // 0.8 jump, after 5 + 20 + 1 = 26 units from the top.
    assert_eq!(c.counts, vec![n - 26, 26]);
}

#[test]
fn difference_rule_respects_the_minimum_class_share() {
    let v = clusters();
    // 5 / 45 = 0.111 ≥ 0.1: all three jumps remain admissible.
    let c = classify(&v, 4, &diff(9, 0.1)).unwrap();
    assert_eq!(c.counts, vec![5, 15, 20, 5]);
    // A 12 % floor (6 units) forbids cutting off the 5-unit clusters: after the 70.5 → 65
    // jump, all other gaps have ratio 1 and the highest admissible one is taken (6 units on top).
    let c = classify(&v, 3, &diff(9, 0.12)).unwrap();
    assert_eq!(c.counts, vec![20, 19, 6]);
    assert_eq!(
        classify(&[1.0, 1.0, 1.0, 1.0, 2.0], 2, &diff(9, 0.3)),
        Err(ClassifyError::NotEnoughCuts {
            k: 2,
            found: 0,
            min_size: 2
        })
    );
    assert_eq!(
        classify(&v, 2, &diff(0, 0.03)),
        Err(ClassifyError::ZeroWindow)
    );
    assert_eq!(
        classify(&v, 2, &diff(9, 1.0)),
        Err(ClassifyError::BadClassShare(1.0))
    );
    assert!(matches!(
        classify(&v, 2, &diff(9, f64::NAN)),
        Err(ClassifyError::BadClassShare(_))
    ));
}

#[test]
fn difference_rule_never_cuts_between_ties() {
    // The biggest gap relative to the trend would be inside nothing: ties have gap 0.
    let v = [
        10.0, 10.0, 10.0, 9.0, 9.0, 9.0, 5.0, 5.0, 5.0, 4.0, 4.0, 4.0,
    ];
    let c = classify(&v, 2, &diff(3, 0.0)).unwrap();
    assert_eq!(c.counts, vec![6, 6]);
    assert_eq!(c.breaks, vec![4.0, 5.0, 10.0]);
}

#[test]
fn equal_width_sublevels_follow_the_seed_rule() {
    // One class 70..=79 and a lower class: width (79 − 70)/3 = 3, edges 73 and 76.
    let v = [70.0, 71.0, 73.0, 73.0, 75.9, 76.0, 79.0, 50.0];
    let c = classify(&v, 2, &Method::Thresholds { cuts: vec![60.0] }).unwrap();
    let s = sublevels(&v, &c, &[1], 3, SublevelMethod::EqualWidth);
    assert_eq!(
        s,
        vec![
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(1),
            Some(2),
            Some(2),
            None
        ]
    );
    // All values equal inside a class: one sub-level.
    let v = [5.0, 5.0, 1.0];
    let c = classify(&v, 2, &Method::Thresholds { cuts: vec![3.0] }).unwrap();
    let s = sublevels(&v, &c, &[0, 1], 3, SublevelMethod::EqualWidth);
    assert_eq!(s, vec![Some(0), Some(0), Some(0)]);
    assert_eq!(
        sublevels(&v, &c, &[0, 1], 0, SublevelMethod::EqualWidth),
        vec![None; 3]
    );
}

#[test]
fn quantile_sublevels_are_within_class_equal_counts() {
    let v: Vec<f64> = (1..=8).map(f64::from).collect();
    let c = classify(&v, 1, &Method::Quantile).unwrap();
    let s = sublevels(&v, &c, &[0], 4, SublevelMethod::Quantile);
    let want: Vec<Option<usize>> = [0, 0, 1, 1, 2, 2, 3, 3].iter().map(|&x| Some(x)).collect();
    assert_eq!(s, want);
    // A tie run at the ideal cut moves the cut to the nearest boundary.
    let v = [1.0, 2.0, 2.0, 2.0, 3.0, 4.0];
    let c = classify(&v, 1, &Method::Quantile).unwrap();
    let s = sublevels(&v, &c, &[0], 2, SublevelMethod::Quantile);
    let want: Vec<Option<usize>> = [0, 0, 0, 0, 1, 1].iter().map(|&x| Some(x)).collect();
    assert_eq!(s, want);
    // Fewer distinct values than sub-levels: some sub-levels stay empty, ties stay together.
    let v = [7.0, 7.0, 9.0, 9.0];
    let c = classify(&v, 1, &Method::Quantile).unwrap();
    let s = sublevels(&v, &c, &[0], 4, SublevelMethod::Quantile);
    assert_eq!(s[0], s[1]);
    assert_eq!(s[2], s[3]);
    assert!(s[0] < s[2]);
}

#[test]
fn gvf_and_cut_lines_by_hand() {
    let v = [1.0, 2.0, 9.0, 10.0];
    let c = classify(&v, 2, &Method::NaturalBreaks).unwrap();
    assert_eq!(c.breaks, vec![1.0, 2.0, 10.0]);
    // SDAM = 65, SDCM = 0.5 + 0.5.
    assert!((gvf(&v, &c) - 64.0 / 65.0).abs() < 1e-15);
    assert_eq!(cut_lines(&v, &c), vec![Some(1.0), Some(9.0)]);
}

#[test]
fn common_errors() {
    for m in [Method::NaturalBreaks, Method::Quantile, diff(9, 0.03)] {
        assert_eq!(classify(&[], 2, &m), Err(ClassifyError::Empty));
        assert_eq!(classify(&[1.0, 2.0], 0, &m), Err(ClassifyError::NoClasses));
        assert_eq!(
            classify(&[1.0, 1.0, 2.0], 3, &m),
            Err(ClassifyError::TooManyClasses { k: 3, distinct: 2 })
        );
        assert!(matches!(
            classify(&[1.0, f64::INFINITY], 1, &m),
            Err(ClassifyError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            classify(&[1e200, 1.0], 1, &m),
            Err(ClassifyError::TooLarge { index: 0, .. })
        ));
    }
    let e = classify(&[1.0, 1.0, 2.0], 3, &Method::Quantile).unwrap_err();
    assert_eq!(
        e.to_string(),
        "3 classes were asked for, but the values hold only 2 distinct numbers"
    );
}

#[test]
fn methods_serialise_with_a_method_tag() {
    let json = r#"{"method":"difference","window":5,"min_class_share":0.05}"#;
    let m: Method = serde_json::from_str(json).unwrap();
    assert_eq!(m, diff(5, 0.05));
    assert_eq!(serde_json::to_string(&m).unwrap(), json);
    let m: Method = serde_json::from_str(r#"{"method":"difference"}"#).unwrap();
    assert_eq!(m, diff(9, 0.03));
    let m: Method = serde_json::from_str(r#"{"method":"natural-breaks"}"#).unwrap();
    assert_eq!(m, Method::NaturalBreaks);
    let m: Method = serde_json::from_str(r#"{"method":"quantile"}"#).unwrap();
    assert_eq!(m, Method::Quantile);
    let m: Method = toml::from_str("method = \"thresholds\"\ncuts = [60.0, 83.59]\n").unwrap();
    assert_eq!(
        m,
        Method::Thresholds {
            cuts: vec![60.0, 83.59]
        }
    );
    let m: Method = toml::from_str("method = \"difference\"\nwindow = 7\n").unwrap();
    assert_eq!(m, diff(7, 0.03));
    let s: SublevelMethod = serde_json::from_str(r#""equal-width""#).unwrap();
    assert_eq!(s, SublevelMethod::EqualWidth);
    assert_eq!(
        serde_json::to_string(&SublevelMethod::Quantile).unwrap(),
        r#""quantile""#
    );
}

/// A small seeded generator so the invariant test covers many data shapes reproducibly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn check_invariants(v: &[f64], c: &Classes, k: usize, breaks_rule: bool, what: &str) {
    assert_eq!(c.breaks.len(), k + 1, "{what}");
    assert_eq!(c.counts.len(), k, "{what}");
    assert_eq!(c.counts.iter().sum::<usize>(), v.len(), "{what}");
    assert!(
        c.breaks.windows(2).all(|w| w[0] <= w[1]),
        "{what}: {:?}",
        c.breaks
    );
    for (i, (&x, &cl)) in v.iter().zip(&c.class_of).enumerate() {
        if breaks_rule {
            let lo_ok = if cl == 0 {
                x >= c.breaks[0]
            } else {
                x > c.breaks[cl]
            };
            assert!(
                lo_ok && x <= c.breaks[cl + 1],
                "{what}: value {i} = {x} in class {cl}"
            );
        }
        for (&y, &cy) in v.iter().zip(&c.class_of) {
            assert!(x != y || cl == cy, "{what}: {x} split across classes");
            assert!(x <= y || cl >= cy, "{what}: classes out of order");
        }
    }
    for method in [SublevelMethod::EqualWidth, SublevelMethod::Quantile] {
        let all: Vec<usize> = (0..k).collect();
        let s = sublevels(v, c, &all, 3, method);
        for ((&x, &cx), sx) in v.iter().zip(&c.class_of).zip(&s) {
            assert!(sx.unwrap() < 3);
            for ((&y, &cy), sy) in v.iter().zip(&c.class_of).zip(&s) {
                assert!(
                    x != y || sx == sy,
                    "{what} {method:?}: {x} split across sub-levels"
                );
                assert!(
                    cx != cy || x <= y || sx >= sy,
                    "{what}: sub-levels out of order"
                );
            }
        }
    }
}

#[test]
fn every_method_keeps_ties_together_and_is_deterministic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut difference_ok = 0;
    for case in 0..120 {
        let n = 5 + (rng.next() * 150.0) as usize;
        let v: Vec<f64> = (0..n)
            .map(|_| match case % 3 {
                0 => (rng.next() * 12.0).floor(),
                1 => (60.0 + rng.next() * 30.0 * rng.next()).round(),
                _ => ((50.0 + rng.next() * 40.0) * 10.0).round() / 10.0,
            })
            .collect();
        let mut reversed = v.clone();
        reversed.reverse();
        for k in 1..=5 {
            let methods = [
                (Method::NaturalBreaks, true),
                (Method::Quantile, true),
                (diff(9, 0.03), true),
                (
                    Method::Thresholds {
                        cuts: (1..k).map(|i| 10.0 * i as f64 + 45.0).collect(),
                    },
                    false,
                ),
            ];
            for (m, breaks_rule) in methods {
                let what = format!("case {case} n {n} k {k} {m:?}");
                let c = match classify(&v, k, &m) {
                    Ok(c) => c,
                    Err(ClassifyError::TooManyClasses { .. }) => continue,
                    Err(ClassifyError::NotEnoughCuts { .. })
                        if matches!(m, Method::Difference(_)) =>
                    {
                        continue
                    }
                    Err(e) => panic!("{what}: {e}"),
                };
                if matches!(m, Method::Difference(_)) && k > 1 {
                    difference_ok += 1;
                }
                check_invariants(&v, &c, k, breaks_rule, &what);
                assert_eq!(classify(&v, k, &m).unwrap(), c, "{what}: not deterministic");
                let r = classify(&reversed, k, &m).unwrap();
                assert_eq!(r.breaks, c.breaks, "{what}: depends on input order");
                let back: Vec<usize> = r.class_of.iter().rev().copied().collect();
                assert_eq!(back, c.class_of, "{what}");
            }
        }
    }
    assert!(difference_ok > 100, "{difference_ok}");
}
