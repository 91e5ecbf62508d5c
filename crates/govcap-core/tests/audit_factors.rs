//! The audit factor file: the documented default, shorthand forms, and every problem reported
//! in plain words.

use govcap_core::audit::{
    Choice, Factors, FactorsError, NormChoice, TierChoice, WeightNoise, DEFAULT_FACTORS_TOML,
};
use govcap_core::classify::{Method, SublevelMethod};
use govcap_core::engine::aggregate::Aggregation;
use govcap_core::engine::impute::Imputation;
use govcap_core::engine::normalise::Normalisation;
use govcap_core::evaluate::Params;
use govcap_core::framework::Framework;

fn problems(e: FactorsError) -> Vec<String> {
    match e {
        FactorsError::Invalid(p) => p,
        other => panic!("expected a list of problems, got {other}"),
    }
}

#[test]
fn the_default_parses_and_covers_every_depth() {
    let f = Factors::from_toml(DEFAULT_FACTORS_TOML).unwrap();
    assert_eq!(
        f.normalisation,
        [NormChoice::NominalOnto {
            low: 1.0,
            high: 100.0
        }]
    );
    assert_eq!(
        f.aggregation,
        [
            Choice::Alt(Aggregation::Arithmetic),
            Choice::Alt(Aggregation::Geometric)
        ]
    );
    assert_eq!(
        f.missing,
        [
            Choice::Nominal,
            Choice::Alt(Imputation::Exclude),
            Choice::Alt(Imputation::Mean)
        ]
    );
    let fw = Framework::default_framework();
    let d = Factors::default_for(&fw);
    assert_eq!(
        d.weights,
        (1..=3)
            .map(|depth| WeightNoise { depth, noise: 0.25 })
            .collect::<Vec<_>>()
    );
    d.check(&fw, &Params::new(2021)).unwrap();
}

#[test]
fn without_fixed_score_ranges_the_default_stays_arithmetic() {
    let fw = Framework::from_toml(
        r#"
[framework]
id = "z"
version = "1"
name_zh = "z"
name_en = "z"
scale = "weights"

[method]
normalisation = { method = "z-score" }

[[node]]
id = "A"
weight = 1.0

[[node]]
id = "A1"
parent = "A"
weight = 1.0
rule = "continuous"
"#,
    )
    .unwrap();
    let d = Factors::default_for(&fw);
    assert_eq!(d.normalisation, [NormChoice::Nominal]);
    assert_eq!(d.aggregation, [Choice::Alt(Aggregation::Arithmetic)]);
    // Asking for the nominal-onto form anyway names the indicator.
    let f =
        Factors::from_toml("normalisation = [{ method = \"nominal\", low = 1.0, high = 100.0 }]")
            .unwrap();
    let p = problems(f.check(&fw, &Params::new(2021)).unwrap_err());
    assert_eq!(p.len(), 1);
    assert!(
        p[0].contains("indicator A1 has no fixed score range"),
        "{p:?}"
    );
}

#[test]
fn shorthand_tables_and_duplicates() {
    let f = Factors::from_toml(
        r#"
normalisation = ["nominal", { method = "min-max", low = 1, high = 100 }, "rank", "rank"]
aggregation = ["nominal", { method = "generalised", p = 0.5 }]
missing = [{ method = "group-mean", group = "province" }]
treatment = ["nominal", { method = "winsorise", max_points = 3 }]
tiers = ["nominal", "natural-breaks", { method = "thresholds", cuts = [55.0, 70.0, 83.59] }, { method = "quantile", sublevels = "quantile" }]
weights = [{ depth = 2, noise = 0.1 }]
"#,
    )
    .unwrap();
    assert_eq!(
        f.normalisation,
        [
            NormChoice::Nominal,
            NormChoice::Method(Normalisation::MinMax {
                low: 1.0,
                high: 100.0
            }),
            NormChoice::Method(Normalisation::Rank)
        ],
        "the duplicate rank is dropped"
    );
    assert_eq!(f.normalisation[1].label(), "min-max(high=100, low=1)");
    assert_eq!(
        f.missing,
        [Choice::Alt(Imputation::GroupMean {
            group: "province".into()
        })]
    );
    assert_eq!(f.missing[0].label(), "group-mean(group=province)");
    assert_eq!(
        f.tiers[3],
        Choice::Alt(TierChoice {
            method: Method::Quantile,
            sublevels: Some(SublevelMethod::Quantile)
        })
    );
    assert_eq!(f.tiers[3].label(), "quantile(sublevels=quantile)");
    assert_eq!(f.tiers[2].label(), "thresholds(cuts=[55 70 83.59])");
    assert_eq!(
        f.weights,
        [WeightNoise {
            depth: 2,
            noise: 0.1
        }]
    );
}

#[test]
fn every_problem_is_listed() {
    // Syntax: an unknown key stops parsing and is named.
    match Factors::from_toml("aggregations = [\"geometric\"]") {
        Err(FactorsError::Syntax(m)) => assert!(m.contains("aggregations"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Parsing: every bad alternative, with its position.
    let e = Factors::from_toml(
        r#"
normalisation = [{ method = "nominal", low = 1.0 }, { method = "min-maxx" }, 3]
aggregation = ["mean"]
missing = ["exclude", { method = "nominal", x = 1 }]
"#,
    )
    .unwrap_err();
    let p = problems(e);
    assert_eq!(p.len(), 5, "{p:#?}");
    assert!(p[0].starts_with("normalisation alternative 1"), "{}", p[0]);
    assert!(p[1].starts_with("normalisation alternative 2") && p[1].contains("min-maxx"));
    assert!(p[2].starts_with("normalisation alternative 3") && p[2].contains("not 3"));
    assert!(p[3].starts_with("aggregation alternative 1") && p[3].contains("mean"));
    assert!(p[4].starts_with("missing alternative 2") && p[4].contains("no parameters"));

    // Checking against the framework and the run.
    let fw = Framework::default_framework();
    let mut params = Params::new(2021);
    params.tiers.k = 4;
    let f = Factors::from_toml(
        r#"
normalisation = ["nominal", { method = "z-score" }, { method = "nominal", low = 0.0, high = 100.0 }]
aggregation = ["arithmetic", "copeland", { method = "generalised", p = 0.0 }]
tiers = [{ method = "thresholds", cuts = [60.0, 80.0] }]
weights = [{ depth = 4, noise = 0.2 }, { depth = 2, noise = 1.0 }, { depth = 2, noise = 0.1 }]
"#,
    )
    .unwrap();
    let p = problems(f.check(&fw, &params).unwrap_err());
    let has = |s: &str| p.iter().any(|x| x.contains(s));
    assert!(
        has("depth 4 does not exist; the framework has depths 1 to 3"),
        "{p:#?}"
    );
    assert!(has("noise must be at least 0 and below 1"), "{p:#?}");
    assert!(has("depth 2 is listed twice"), "{p:#?}");
    assert!(has("need 0 < low < high"), "{p:#?}");
    assert!(has("Copeland aggregation"), "{p:#?}");
    assert!(has("finite p other than 0"), "{p:#?}");
    assert!(has("2 cut lines make 3 tiers, but the run has 4"), "{p:#?}");
    assert!(
        has("cut lines are points on the nominal score scale"),
        "{p:#?}"
    );
    assert_eq!(p.len(), 8, "{p:#?}");
}
