//! Conformance with COINr: the ASEM example, expressed in govcap's own formats
//! (`examples/coinr-asem/`), goes through the real pipeline — framework file, unit list and
//! observation import, denominate → impute by group → winsorise/log → min-max → weighted
//! arithmetic over four levels — and must reproduce COINr's saved nominal index.

use std::path::Path;

use govcap_core::evaluate::{evaluate, Params};
use govcap_core::framework::Framework;
use govcap_io::{read_observations, read_units, ImportOptions};

#[test]
fn asem_index_matches_coinr_to_1e9_with_identical_ranks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/coinr-asem");
    let fw = Framework::from_toml(&std::fs::read_to_string(dir.join("framework.toml")).unwrap())
        .unwrap();
    let units = read_units(&dir.join("units.csv")).unwrap();
    let obs = read_observations(
        &dir.join("observations.csv"),
        &fw,
        &units,
        &ImportOptions::default(),
    )
    .unwrap();
    let e = evaluate(&fw, &units, &obs, &Params::new(2018)).unwrap();

    let expected = std::fs::read_to_string(dir.join("expected_nominal.csv")).unwrap();
    let mut compared = 0;
    let mut max_diff: f64 = 0.0;
    for line in expected.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (code, score, rank) = (
            f[0],
            f[1].parse::<f64>().unwrap(),
            f[2].parse::<usize>().unwrap(),
        );
        let u = e
            .units
            .iter()
            .find(|u| u.code == code)
            .unwrap_or_else(|| panic!("{code} missing"));
        let total = u.total.expect("scored");
        max_diff = max_diff.max((total - score).abs());
        assert!(
            (total - score).abs() < 1e-9,
            "{code}: ours {total}, COINr {score}"
        );
        assert_eq!(u.rank, Some(rank), "{code} rank");
        compared += 1;
    }
    assert_eq!(compared, 51);
    assert!(max_diff < 1e-9);
    // The step log records what COINr's log says happened.
    let imputed: usize = e.steps.iter().map(|s| s.imputed).sum();
    assert_eq!(imputed, 65, "group-mean imputations");
    assert!(e.steps.iter().filter(|s| !s.winsorised.is_empty()).count() > 0);
    assert!(!e.synthetic);
}
