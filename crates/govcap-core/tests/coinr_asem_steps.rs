//! Conformance test of the numeric engine steps against COINr's ASEM example.
//!
//! Reads `examples/coinr-asem/` (framework, units, observations), runs denominate → impute
//! (group mean by EurAsia_group) → treat (winsorise, log fallback) → normalise (min-max 0..100
//! after direction) → weighted arithmetic mean up the 4-level tree, and compares the Index with
//! COINr's saved nominal scores (`expected_nominal.csv`, from COINr's SA vignette results).
//! The tree walk is deliberately minimal: the full framework pipeline is tested elsewhere.

use std::collections::HashMap;
use std::path::PathBuf;

use govcap_core::engine::aggregate::{aggregate, Aggregation};
use govcap_core::engine::denominate::denominate;
use govcap_core::engine::impute::{impute, Imputation};
use govcap_core::engine::normalise::{normalise, Normalisation};
use govcap_core::engine::treat::{treat, Treatment};
use serde::Deserialize;

#[derive(Deserialize)]
struct Framework {
    method: Method,
    node: Vec<Node>,
}

#[derive(Deserialize)]
struct Method {
    normalisation: Normalisation,
    missing: Imputation,
    treatment: Treatment,
    aggregation: AggregationPlan,
    denominator_scale: f64,
}

#[derive(Deserialize)]
struct AggregationPlan {
    default: Aggregation,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    parent: Option<String>,
    weight: f64,
    direction: Option<f64>,
    denominator: Option<String>,
}

fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/coinr-asem")
}

/// Plain comma-separated file without quoting (asserted), as a header → column map per row.
fn read_csv(name: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(example_dir().join(name)).unwrap();
    assert!(
        !text.contains('"'),
        "{name} uses quoting; this reader does not"
    );
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{name}: {l}");
            header
                .iter()
                .zip(cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

fn num(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap())
}

/// Competition ranks, highest score = 1, ties share the best rank.
fn ranks_desc(x: &[f64]) -> Vec<usize> {
    x.iter()
        .map(|v| 1 + x.iter().filter(|w| *w > v).count())
        .collect()
}

#[test]
fn coinr_asem_index_matches_coinr_nominal_scores() {
    let fw: Framework =
        toml::from_str(&std::fs::read_to_string(example_dir().join("framework.toml")).unwrap())
            .unwrap();
    assert_eq!(
        fw.method.normalisation,
        Normalisation::MinMax {
            low: 0.0,
            high: 100.0
        }
    );
    assert_eq!(fw.method.treatment, Treatment::coinr_default());
    assert_eq!(fw.method.aggregation.default, Aggregation::Arithmetic);

    let units = read_csv("units.csv");
    let codes: Vec<&str> = units.iter().map(|u| u["code"].as_str()).collect();
    let pos: HashMap<&str, usize> = codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut raw: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for o in read_csv("observations.csv") {
        let col = raw
            .entry(o["indicator"].clone())
            .or_insert_with(|| vec![None; codes.len()]);
        col[pos[o["unit"].as_str()]] = num(&o["value"]);
    }
    let group_col = fw.method.missing.group().expect("group imputation");
    let groups: Vec<Option<&str>> = units
        .iter()
        .map(|u| Some(u[group_col].as_str()).filter(|g| !g.is_empty()))
        .collect();

    let children = |id: &str| -> Vec<&Node> {
        fw.node
            .iter()
            .filter(|n| n.parent.as_deref() == Some(id))
            .collect()
    };

    // Indicators: denominate → impute → treat → normalise.
    let mut scores: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
    let (mut n_imputed, mut n_winsorised, mut n_logged) = (0, 0, 0);
    for leaf in fw.node.iter().filter(|n| children(&n.id).is_empty()) {
        let x = &raw[&leaf.id];
        let x = match &leaf.denominator {
            Some(d) => {
                let den: Vec<Option<f64>> = units.iter().map(|u| num(&u[d])).collect();
                denominate(x, &den, fw.method.denominator_scale).unwrap()
            }
            None => x.clone(),
        };
        let imp = impute(&x, Some(&groups), &fw.method.missing);
        n_imputed += imp.imputed.len();
        assert!(
            imp.values.iter().all(Option::is_some),
            "{} still has gaps",
            leaf.id
        );
        let t = treat(&imp.values, &fw.method.treatment);
        n_winsorised += usize::from(!t.winsorised.is_empty());
        n_logged += usize::from(t.log_applied);
        let direction = leaf.direction.expect("leaf direction");
        let y = normalise(&t.values, direction, &fw.method.normalisation, None).unwrap();
        scores.insert(&leaf.id, y);
    }
    assert_eq!(scores.len(), 49);
    // 63 missing raw values + LAO's Elec and Gas (no Energy denominator).
    assert_eq!(n_imputed, 65);

    // Aggregate bottom-up with weights renormalised per unit.
    fn score<'a>(
        id: &'a str,
        fw: &'a Framework,
        scores: &mut HashMap<&'a str, Vec<Option<f64>>>,
    ) -> Vec<Option<f64>> {
        if let Some(s) = scores.get(id) {
            return s.clone();
        }
        let kids: Vec<&Node> = fw
            .node
            .iter()
            .filter(|n| n.parent.as_deref() == Some(id))
            .collect();
        let cols: Vec<Vec<Option<f64>>> = kids.iter().map(|k| score(&k.id, fw, scores)).collect();
        let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
        let w: Vec<f64> = kids.iter().map(|k| k.weight).collect();
        let out = aggregate(&refs, &w, &fw.method.aggregation.default).unwrap();
        scores.insert(id, out.clone());
        out
    }
    let index: Vec<f64> = score("Index", &fw, &mut scores)
        .into_iter()
        .map(|v| v.expect("every unit has an Index score"))
        .collect();
    assert_eq!(scores.len(), 49 + 8 + 2 + 1);

    let expected = read_csv("expected_nominal.csv");
    assert_eq!(expected.len(), codes.len());
    let our_rank = ranks_desc(&index);
    let mut max_diff: f64 = 0.0;
    let mut rank_mismatch = Vec::new();
    for e in &expected {
        let u = pos[e["uCode"].as_str()];
        let want: f64 = e["Score"].parse().unwrap();
        max_diff = max_diff.max((index[u] - want).abs());
        let want_rank: usize = e["Rank"].parse().unwrap();
        if our_rank[u] != want_rank {
            rank_mismatch.push((codes[u], our_rank[u], want_rank));
        }
    }
    println!(
        "COINr ASEM: max |Index - COINr| = {max_diff:e} over {} units; \
         {n_imputed} values imputed, {n_winsorised} indicators winsorised, {n_logged} log-treated",
        codes.len()
    );
    assert!(max_diff < 1e-9, "max abs difference {max_diff}");
    assert!(
        rank_mismatch.is_empty(),
        "rank mismatches: {rank_mismatch:?}"
    );
}
