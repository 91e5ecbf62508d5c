//! The pipeline on small hand-computed cases: points add up, ranks tie, missing data follows
//! the declared policy, bad observations are refused with their origin, and analyses match
//! arithmetic done by hand.

use govcap_core::analyse::figures::analyse;
use govcap_core::classify::Method;
use govcap_core::evaluate::{evaluate, EvaluateError, Params};
use govcap_core::framework::Framework;
use govcap_core::observation::{Observation, Origin, Source, Value};
use govcap_core::unit::{Unit, UnitSet};

const FW: &str = r#"
[framework]
id = "tiny"
version = "1"
name_zh = "小"
name_en = "tiny"
scale = "points"
total = 20

[[node]]
id = "A"
points = 12

[[node]]
id = "A1"
parent = "A"
points = 4
rule = "binary"

[[node]]
id = "A2"
parent = "A"
points = 8
rule = "graded"
levels = [
  { key = "none", zh = "无", en = "none", fraction = 0.0 },
  { key = "some", zh = "部分", en = "some", fraction = 0.5 },
  { key = "full", zh = "完整", en = "full", fraction = 1.0 },
]

[[node]]
id = "B"
points = 8

[[node]]
id = "B1"
parent = "B"
points = 4
rule = "ratio"

[[node]]
id = "B2"
parent = "B"
points = 4
rule = "continuous"
normalisation = { method = "min-max", low = 0.0, high = 1.0 }
"#;

fn unit(code: &str, province: &str, region: &str) -> Unit {
    Unit {
        code: code.into(),
        name: format!("单位{code}"),
        name_en: format!("Unit {code}"),
        province: Some(province.into()),
        region: Some(region.into()),
        attrs: Default::default(),
    }
}

fn units() -> UnitSet {
    UnitSet::new(vec![
        unit("u1", "甲省", "东部"),
        unit("u2", "甲省", "东部"),
        unit("u3", "乙省", "西部"),
        unit("u4", "乙省", "西部"),
        unit("u5", "丙省", "西部"),
    ])
    .unwrap()
}

fn obs(unit: &str, ind: &str, v: Value, row: usize) -> Observation {
    Observation {
        unit: unit.into(),
        indicator: ind.into(),
        year: 2021,
        value: v,
        source: Source::Manual,
        evaluator: Some("张三".into()),
        evidence_url: Some(format!("https://example.gov.cn/{unit}/{ind}").into()),
        observed_at: None,
        note: None,
        origin: Origin {
            file: "obs.csv".into(),
            row,
            column: None,
        },
    }
}

fn n(x: f64) -> Value {
    Value::Number(x)
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// u1: A1 1, A2 full, B1 1.0, B2 10 → 4 + 8 + 4 + 4 = 20
/// u2: A1 0, A2 some, B1 0.5, B2 5  → 0 + 4 + 2 + 2 = 8
/// u3: A1 1, A2 none, B1 0.25, B2 0 → 4 + 0 + 1 + 0 = 5
/// u4: A1 1, A2 some, B1 (missing → 0), B2 5 → 4 + 4 + 0 + 2 = 10
/// u5: no observations → not evaluated
fn observations() -> Vec<Observation> {
    let mut v = Vec::new();
    let mut row = 1;
    let mut add = |u: &str, i: &str, x: Value| {
        row += 1;
        v.push(obs(u, i, x, row));
    };
    add("u1", "A1", t("是"));
    add("u1", "A2", t("full"));
    add("u1", "B1", n(1.0));
    add("u1", "B2", n(10.0));
    add("u2", "A1", n(0.0));
    add("u2", "A2", t("部分"));
    add("u2", "B1", t("50%"));
    add("u2", "B2", n(5.0));
    add("u3", "A1", n(1.0));
    add("u3", "A2", n(0.0));
    add("u3", "B1", n(0.25));
    add("u3", "B2", n(0.0));
    add("u4", "A1", n(1.0));
    add("u4", "A2", t("some"));
    add("u4", "B2", n(5.0));
    v
}

fn params() -> Params {
    let mut p = Params::new(2021);
    p.tiers.k = 2;
    p.tiers.method = Method::Thresholds { cuts: vec![9.0] };
    p
}

#[test]
fn points_add_up_by_hand() {
    let fw = Framework::from_toml(FW).unwrap();
    let e = evaluate(&fw, &units(), &observations(), &params()).unwrap();
    let totals: Vec<(String, f64)> = e
        .units
        .iter()
        .map(|u| (u.code.clone(), u.total.unwrap()))
        .collect();
    let expect = [("u1", 20.0), ("u2", 8.0), ("u3", 5.0), ("u4", 10.0)];
    for ((c, got), (ec, want)) in totals.iter().zip(expect) {
        assert_eq!(c, ec);
        assert!((got - want).abs() < 1e-12, "{c}: {got} vs {want}");
    }
    assert_eq!(e.not_evaluated, vec!["u5".to_string()]);
    let ranks: Vec<Option<usize>> = e.units.iter().map(|u| u.rank).collect();
    assert_eq!(ranks, vec![Some(1), Some(3), Some(4), Some(2)]);
    let prov_ranks: Vec<Option<usize>> = e.units.iter().map(|u| u.province_rank).collect();
    assert_eq!(prov_ranks, vec![Some(1), Some(2), Some(2), Some(1)]);
    // Node scores: u2's B = 2 + 2 = 4 points, rate 0.5.
    let u2 = &e.units[1];
    let b = u2.scores.iter().find(|s| &*s.id == "B").unwrap();
    assert_eq!(b.points, Some(4.0));
    assert_eq!(b.value, Some(0.5));
    // u4's missing B1 was filled with zero and says so, with no source.
    let u4 = &e.units[3];
    let b1 = u4.leaves.iter().find(|l| &*l.id == "B1").unwrap();
    assert!(b1.imputed && b1.observed.is_none() && b1.source.is_none());
    let a2 = u4.leaves.iter().find(|l| &*l.id == "A2").unwrap();
    assert_eq!(a2.read, Some(0.5));
    assert_eq!(
        a2.origin.as_ref().map(ToString::to_string).as_deref(),
        Some("obs.csv:15")
    );
    // Tiers by threshold 9: u1, u4 in A; u2, u3 in B.
    let tiers: Vec<Option<&str>> = e.units.iter().map(|u| u.tier.as_deref()).collect();
    assert_eq!(tiers, vec![Some("A"), Some("B"), Some("B"), Some("A")]);
    // Fix first for u2: gaps to the A mean of (u1, u4): A2 (8+4)/2 − 4 = 2, A1 4 − 0 = 4,
    // B1 (4+0)/2 − 2 = 0 (no gap), B2 (4+2)/2 − 2 = 1.
    let gaps: Vec<(String, f64)> = u2
        .fix_first
        .iter()
        .map(|g| (g.id.to_string(), g.gap))
        .collect();
    assert_eq!(
        gaps,
        vec![("A1".into(), 4.0), ("A2".into(), 2.0), ("B2".into(), 1.0)]
    );
    assert!(!e.synthetic);
}

#[test]
fn exclude_policy_reweights_instead_of_scoring_zero() {
    let text = FW.replace(
        "rule = \"ratio\"",
        "rule = \"ratio\"\nmissing = { method = \"exclude\" }",
    );
    let fw = Framework::from_toml(&text).unwrap();
    let e = evaluate(&fw, &units(), &observations(), &params()).unwrap();
    // u4: B has only B2 (rate 0.5) → B rate 0.5 → 4 points; total 4 + 4 + 4 = 12.
    let u4 = &e.units[3];
    assert!((u4.total.unwrap() - 12.0).abs() < 1e-12, "{:?}", u4.total);
}

#[test]
fn group_mean_imputation_fills_from_the_province_only() {
    let text = FW.replace(
        "rule = \"ratio\"",
        "rule = \"ratio\"\nmissing = { method = \"group-mean\", group = \"province\" }",
    );
    let fw = Framework::from_toml(&text).unwrap();
    let e = evaluate(&fw, &units(), &observations(), &params()).unwrap();
    // u4 (乙省) gets u3's B1 = 0.25 → 1 point; total 10 + 1 = 11. u3 keeps its own value.
    assert!((e.units[3].total.unwrap() - 11.0).abs() < 1e-12);
    assert!((e.units[2].total.unwrap() - 5.0).abs() < 1e-12);
    assert_eq!(e.steps.iter().find(|s| s.id == "B1").unwrap().imputed, 1);
}

#[test]
fn bad_observations_are_refused_with_their_origin() {
    let fw = Framework::from_toml(FW).unwrap();
    let mut o = observations();
    o.push(obs("u1", "A1", n(1.0), 90));
    o.push(obs("zz", "A1", n(1.0), 91));
    o.push(obs("u2", "A", n(1.0), 92));
    o.push(obs("u3", "B1", n(3.0), 93));
    let err = evaluate(&fw, &units(), &o, &params()).unwrap_err();
    let EvaluateError::Observations(ps) = err else {
        panic!("{err:?}")
    };
    assert_eq!(ps.len(), 4, "{ps:#?}");
    assert!(ps[0].contains("obs.csv row 91") && ps[0].contains("unknown unit"));
    let all = ps.join("\n");
    assert!(
        all.contains("obs.csv row 90: duplicate value for u1 / A1 / 2021 (first at obs.csv row 2)"),
        "{all}"
    );
    assert!(
        all.contains("obs.csv row 92: A is not a leaf indicator"),
        "{all}"
    );
    assert!(
        all.contains("obs.csv row 93: B1: 3 is out of range"),
        "{all}"
    );
}

#[test]
fn same_inputs_same_bytes() {
    let fw = Framework::from_toml(FW).unwrap();
    let a = serde_json::to_string(&evaluate(&fw, &units(), &observations(), &params()).unwrap())
        .unwrap();
    let mut shuffled = observations();
    shuffled.reverse();
    let b = serde_json::to_string(&evaluate(&fw, &units(), &observations(), &params()).unwrap())
        .unwrap();
    assert_eq!(a, b);
    // Observation order does not change scores (origins differ, so compare totals only).
    let c = evaluate(&fw, &units(), &shuffled, &params()).unwrap();
    let d = evaluate(&fw, &units(), &observations(), &params()).unwrap();
    let tot =
        |e: &govcap_core::evaluate::Evaluation| e.units.iter().map(|u| u.total).collect::<Vec<_>>();
    assert_eq!(tot(&c), tot(&d));
}

#[test]
fn analyses_by_hand() {
    let fw = Framework::from_toml(FW).unwrap();
    let cur = evaluate(&fw, &units(), &observations(), &params()).unwrap();
    // A previous year where everyone scored 2 points less on B2 (continuous min-max keeps
    // rates, so instead drop u1's A1 to 0: u1 = 16).
    let mut prev_obs = observations();
    for o in &mut prev_obs {
        o.year = 2020;
        if o.unit == "u1" && o.indicator == "A1" {
            o.value = n(0.0);
        }
    }
    let mut pp = params();
    pp.year = 2020;
    let prev = evaluate(&fw, &units(), &prev_obs, &pp).unwrap();
    let a = analyse(&cur, Some(&prev));
    // Mean of 20, 8, 5, 10 = 10.75; previous 16, 8, 5, 10 = 9.75.
    assert_eq!(a.summary.mean, Some(10.75));
    assert_eq!(a.summary.mean_change, Some(1.0));
    // 东部 mean (20 + 8)/2 = 14; 西部 (5 + 10)/2 = 7.5 → ratio 0.535714…
    assert!((a.regions.headline.ratio.unwrap() - 7.5 / 14.0).abs() < 1e-12);
    assert!((a.regions.headline.previous_ratio.unwrap() - 7.5 / 12.0).abs() < 1e-12);
    // Province means 甲 14, 乙 7.5: sample SD = |14 − 7.5| / √2.
    assert!((a.provinces.sd_of_means.unwrap() - 6.5 / 2f64.sqrt()).abs() < 1e-12);
    // 甲省 improved by 2 (12 → 14), 乙省 by 0.
    assert_eq!(a.provinces.fastest_improving[0], ("甲省".to_string(), 2.0));
    // Within-province SD of 甲 rose (|16−8|/√2 → |20−8|/√2); 乙 unchanged: none fell.
    assert_eq!(a.provinces.within_sd_compared, 2);
    assert_eq!(a.provinces.within_sd_fell, 0);
    // Tier A = {u1, u4} both years: count growth 0 %, cut line 10.
    assert_eq!(a.tiers[0].count, 2);
    assert_eq!(a.tiers[0].cut_line, Some(10.0));
    assert_eq!(a.tiers[0].count_growth_pct, Some(0.0));
    // Capability A rates: u1 12/12, u2 4/12, u3 4/12, u4 8/12 → mean 0.5833…, above 0.6: 2 of 4.
    let cap_a = a.capabilities.iter().find(|c| c.id == "A").unwrap();
    assert!((cap_a.mean_rate.unwrap() - 28.0 / 48.0).abs() < 1e-12);
    assert_eq!(cap_a.share_above, Some(0.5));
    assert_eq!(a.tier_moves.iter().map(|m| m.count).sum::<usize>(), 4);
}
