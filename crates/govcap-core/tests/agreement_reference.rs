//! Agreement coefficients against scikit-learn's `cohen_kappa_score` and the `krippendorff`
//! package, on the cases that `tests/data/agreement/make_reference.py` generated (package
//! versions are recorded in the JSON).
//!
//! Tolerance: 1e-12 relative, with an absolute floor of 1e-12 for coefficients below 1 in
//! magnitude. The floor is needed because a coefficient is `1 − D_o/D_e`: near zero it is a
//! cancellation, and the reference's own rounding (about 1e-16 absolute, e.g. sklearn's
//! 0.040000000000000036 for an exact 1/25) is then huge in relative terms.
//!
//! Every float in the JSON is a string (Python's repr) read with `str::parse`, which rounds
//! correctly: serde_json's default number parser can be an ulp off, and on the 1e9-sized alpha
//! case that alone moves alpha by 5e-13.

use govcap_core::campaign::agreement::{
    cohen_kappa, krippendorff_alpha_interval, krippendorff_alpha_nominal, weighted_cohen_kappa,
    Alpha, Kappa, Weights,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

/// A float written as a string; "NaN" parses to NaN.
fn float(v: &Value) -> f64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("float not a string: {v}"));
    s.parse().unwrap_or_else(|e| panic!("bad float {s}: {e}"))
}

fn reference() -> Value {
    let path = format!(
        "{}/tests/data/agreement/reference.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).expect("reference.json is not valid JSON")
}

/// Worst deviation seen, and every failure, so one run shows all broken cases at once.
#[derive(Default)]
struct Check {
    max_abs: f64,
    max_rel: f64,
    worst_rel: String,
    compared: usize,
    failures: Vec<String>,
}

impl Check {
    /// `want` is NaN where the reference leaves the coefficient undefined.
    fn value(&mut self, what: &str, got: f64, want: f64) {
        self.compared += 1;
        if want.is_nan() {
            if !got.is_nan() {
                self.failures.push(format!("{what}: got {got}, want NaN"));
            }
            return;
        }
        let abs = (got - want).abs();
        // Written so that a NaN result (abs NaN) fails too.
        if abs.is_nan() || abs > TOL * want.abs().max(1.0) {
            self.failures
                .push(format!("{what}: got {got:e}, want {want:e}, diff {abs:e}"));
            return;
        }
        self.max_abs = self.max_abs.max(abs);
        if want != 0.0 && abs / want.abs() > self.max_rel {
            self.max_rel = abs / want.abs();
            self.worst_rel = format!("{what} = {want:e}");
        }
    }

    fn finish(self, kind: &str) {
        eprintln!(
            "{kind}: {} values compared, max abs error {:e}, max rel error {:e} (at {})",
            self.compared, self.max_abs, self.max_rel, self.worst_rel
        );
        assert!(
            self.failures.is_empty(),
            "{} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn cases(kind: &str) -> Vec<Value> {
    let r = reference();
    for package in ["scikit-learn", "krippendorff", "numpy"] {
        assert!(
            r["versions"][package].is_string(),
            "{package} version not recorded"
        );
    }
    let all = r["cases"].as_array().expect("cases");
    let of_kind: Vec<Value> = all.iter().filter(|c| c["kind"] == kind).cloned().collect();
    assert!(of_kind.len() >= 15, "only {} {kind} cases", of_kind.len());
    of_kind
}

/// A rater's label as the JSON holds it; within one case all labels are of one kind, so the
/// derived order is numpy's sort order (numbers numerically, strings by code point).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Label {
    Int(i64),
    Str(String),
}

fn labels(v: &Value) -> Vec<Label> {
    v.as_array()
        .expect("labels")
        .iter()
        .map(|x| match x {
            Value::Number(n) => Label::Int(n.as_i64().expect("integer label")),
            Value::String(s) => Label::Str(s.clone()),
            other => panic!("unexpected label {other}"),
        })
        .collect()
}

#[test]
fn cohen_kappa_matches_scikit_learn() {
    let mut check = Check::default();
    for case in cases("kappa") {
        let name = case["name"].as_str().unwrap();
        let (y1, y2) = (labels(&case["y1"]), labels(&case["y2"]));
        let pairs: Vec<(Label, Label)> = y1.into_iter().zip(y2).collect();
        for (key, weights) in [
            ("none", None),
            ("linear", Some(Weights::Linear)),
            ("quadratic", Some(Weights::Quadratic)),
        ] {
            let want = &case["expected"][key];
            let got: Option<Kappa> = match weights {
                None => cohen_kappa(&pairs),
                Some(w) => weighted_cohen_kappa(&pairs, w),
            };
            let what = format!("{name} [{key}]");
            if want.get("error").is_some() {
                // scikit-learn refuses empty input; here that is "no kappa".
                assert!(
                    pairs.is_empty(),
                    "{what}: unexpected reference error {want}"
                );
                if got.is_some() {
                    check
                        .failures
                        .push(format!("{what}: got {got:?}, want None"));
                }
                continue;
            }
            let Some(got) = got else {
                check.failures.push(format!("{what}: got None"));
                continue;
            };
            if got.n as u64 != case["n"].as_u64().unwrap() {
                check.failures.push(format!("{what}: n {}", got.n));
            }
            check.value(&format!("{what} kappa"), got.kappa, float(&want["kappa"]));
            check.value(
                &format!("{what} observed"),
                got.observed_agreement,
                float(&want["observed_agreement"]),
            );
            check.value(
                &format!("{what} expected"),
                got.expected_agreement,
                float(&want["expected_agreement"]),
            );
        }
    }
    check.finish("kappa");
}

/// The package's coders × units, as this module's units × coders.
fn units(case: &Value) -> Vec<Vec<Option<f64>>> {
    let coders: Vec<Vec<Option<f64>>> = case["coders_by_units"]
        .as_array()
        .expect("coders_by_units")
        .iter()
        .map(|row| {
            let row = row.as_array().expect("a coder's row");
            row.iter()
                .map(|x| (!x.is_null()).then(|| float(x)))
                .collect()
        })
        .collect();
    let width = coders.first().map_or(0, Vec::len);
    (0..width)
        .map(|u| coders.iter().map(|c| c[u]).collect())
        .collect()
}

/// Nominal categories for float codes: equal values are equal categories. `+ 0.0` folds
/// −0.0 into 0.0, as numpy's equality does.
fn nominal(units: &[Vec<Option<f64>>]) -> Vec<Vec<Option<u64>>> {
    units
        .iter()
        .map(|r| r.iter().map(|x| x.map(|x| (x + 0.0).to_bits())).collect())
        .collect()
}

fn check_alpha(check: &mut Check, what: &str, got: Option<Alpha>, case: &Value, want: &Value) {
    let pairable = case["pairable_units"].as_u64().unwrap() as usize;
    if let Some(message) = want.get("error") {
        // The package raises on "no unit coded twice" (here: None) and on "one value in the
        // whole matrix" (here: NaN, as it returns when only the pairable values are equal).
        let message = message.as_str().unwrap();
        let expect_none = message.contains("at least one unit");
        assert!(
            expect_none || message.contains("more than one value in the domain"),
            "{what}: unknown reference error {message}"
        );
        match got {
            None if expect_none => {}
            Some(a) if !expect_none && a.alpha.is_nan() => {}
            _ => check
                .failures
                .push(format!("{what}: got {got:?} for {message}")),
        }
        if expect_none {
            return;
        }
    } else {
        match got {
            Some(a) => check.value(what, a.alpha, float(want)),
            None => {
                check.failures.push(format!("{what}: got None"));
                return;
            }
        }
    }
    let got = got.unwrap();
    let values = case["values"].as_u64().unwrap() as usize;
    if (got.pairable_units, got.values) != (pairable, values) {
        check.failures.push(format!(
            "{what}: counts ({}, {}), want ({pairable}, {values})",
            got.pairable_units, got.values
        ));
    }
}

#[test]
fn krippendorff_alpha_matches_the_krippendorff_package() {
    let mut check = Check::default();
    for case in cases("alpha") {
        let name = case["name"].as_str().unwrap();
        let units = units(&case);
        let interval = krippendorff_alpha_interval(&units);
        check_alpha(
            &mut check,
            &format!("{name} [interval]"),
            interval,
            &case,
            &case["interval"],
        );
        let nominal_alpha = krippendorff_alpha_nominal(&nominal(&units));
        check_alpha(
            &mut check,
            &format!("{name} [nominal]"),
            nominal_alpha,
            &case,
            &case["nominal"],
        );

        // Two complete coders: 1 − α = (1 − 1/n)(1 − π), close to Scott's pi but not equal.
        if let Some(pi) = case.get("scotts_pi").map(float) {
            let a = nominal_alpha.unwrap();
            let n = a.values as f64;
            assert!((a.alpha - pi).abs() > 1e-6, "{name}: alpha equals pi");
            check.value(
                &format!("{name} [pi]"),
                1.0 - (1.0 - a.alpha) / (1.0 - 1.0 / n),
                pi,
            );
        }
    }
    check.finish("alpha");
}
