//! Conformance with COINr's sensitivity analysis (composite-indicators.md §8, tests T2 and T3):
//! from the replicate ranks COINr saved for its ASEM vignette (`tests/data/coinr-sensitivity/`),
//! our estimators must reproduce COINr's `RankStats` and `Sensitivity` tables.

use std::path::PathBuf;

use govcap_core::audit::{rank_stats, sobol_indices};

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/coinr-sensitivity")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `uCode,Nominal,r_1,…` → (codes, nominal ranks, replicate ranks per unit).
fn ranks(name: &str) -> (Vec<String>, Vec<f64>, Vec<Vec<f64>>) {
    let text = data(name);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..2], ["uCode", "Nominal"]);
    for (k, h) in header[2..].iter().enumerate() {
        assert_eq!(*h, format!("r_{}", k + 1), "replicate columns in order");
    }
    let (mut codes, mut nominal, mut reps) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        codes.push(f[0].to_string());
        nominal.push(f[1].parse().unwrap());
        reps.push(f[2..].iter().map(|x| x.parse::<f64>().unwrap()).collect());
    }
    (codes, nominal, reps)
}

fn table(name: &str) -> Vec<Vec<String>> {
    data(name)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// T3: Mean, Median, Q5 and Q95 of every unit's ranks equal COINr's, bit for bit.
fn check_rank_stats(ranks_file: &str, stats_file: &str, runs: usize) {
    let (codes, nominal, reps) = ranks(ranks_file);
    let expected = table(stats_file);
    assert_eq!(expected.len(), 51);
    assert_eq!(codes.len(), 51);
    for (u, row) in expected.iter().enumerate() {
        assert_eq!(row[0], codes[u]);
        assert_eq!(row[1].parse::<f64>().unwrap(), nominal[u]);
        let s = rank_stats(&reps[u][..runs]).unwrap();
        let want: Vec<f64> = row[2..6].iter().map(|x| x.parse().unwrap()).collect();
        assert_eq!(
            [s.mean, s.median, s.q05, s.q95],
            [want[0], want[1], want[2], want[3]],
            "{} ({stats_file})",
            codes[u]
        );
    }
}

#[test]
fn sa_rank_stats_use_the_first_2n_runs_and_match_coinr_exactly() {
    let (_, _, reps) = ranks("SA_results_Ranks.csv");
    assert_eq!(reps[0].len(), 600, "N(d + 2) = 100 · 6 replications");
    check_rank_stats("SA_results_Ranks.csv", "SA_results_RankStats.csv", 200);
    // Using all 600 runs would not reproduce COINr: the AB rows are not independent samples.
    let (codes, _, reps) = ranks("SA_results_Ranks.csv");
    let expected = table("SA_results_RankStats.csv");
    let differs = (0..51)
        .filter(|&u| {
            let s = rank_stats(&reps[u]).unwrap();
            s.mean != expected[u][2].parse::<f64>().unwrap()
        })
        .count();
    assert!(differs > 40, "{differs} of {} means differ", codes.len());
}

#[test]
fn ua_rank_stats_use_all_runs_and_match_coinr_exactly() {
    let (_, _, reps) = ranks("UA_results_Ranks.csv");
    assert_eq!(reps[0].len(), 100);
    check_rank_stats("UA_results_Ranks.csv", "UA_results_RankStats.csv", 100);
}

/// Per-run mean absolute rank shift, COINr's target output.
fn rank_shift(nominal: &[f64], reps: &[Vec<f64>]) -> Vec<f64> {
    let runs = reps[0].len();
    (0..runs)
        .map(|r| {
            let s: f64 = (0..nominal.len())
                .map(|u| (reps[u][r] - nominal[u]).abs())
                .sum();
            s / nominal.len() as f64
        })
        .collect()
}

#[test]
fn sobol_indices_match_coinr_exactly_and_intervals_are_sane() {
    let (_, nominal, reps) = ranks("SA_results_Ranks.csv");
    let y = rank_shift(&nominal, &reps);
    let expected = table("SA_results_Sensitivity.csv");
    let names: Vec<&str> = expected.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["Winmax", "Normalisation", "Weights", "Aggregation"]);
    let ours = sobol_indices(&y, 100, 4, 2000, 7).unwrap();
    for (i, row) in expected.iter().enumerate() {
        let v: Vec<f64> = row[1..].iter().map(|x| x.parse().unwrap()).collect();
        let (si, sti, si_q5, si_q95, sti_q5, sti_q95) = (v[0], v[1], v[2], v[3], v[4], v[5]);
        let o = &ours[i];
        // Point estimates: identical to the last bit.
        assert_eq!(o.si, si, "{} Si", row[0]);
        assert_eq!(o.sti, sti, "{} STi", row[0]);
        // Bootstrap intervals depend on the random resampling (R's generator is not
        // reproduced): ours must bracket the estimate, and each end must lie within a quarter
        // of COINr's interval width of COINr's end.
        assert!(
            o.si_q05 <= o.si && o.si <= o.si_q95,
            "{} Si interval",
            row[0]
        );
        assert!(
            o.sti_q05 <= o.sti && o.sti <= o.sti_q95,
            "{} STi interval",
            row[0]
        );
        let (wsi, wst) = (si_q95 - si_q5, sti_q95 - sti_q5);
        for (ours_end, theirs, w, what) in [
            (o.si_q05, si_q5, wsi, "Si q5"),
            (o.si_q95, si_q95, wsi, "Si q95"),
            (o.sti_q05, sti_q5, wst, "STi q5"),
            (o.sti_q95, sti_q95, wst, "STi q95"),
        ] {
            assert!(
                (ours_end - theirs).abs() <= 0.25 * w,
                "{} {what}: ours {ours_end}, COINr {theirs}",
                row[0]
            );
        }
    }
    // The headline figures of composite-indicators.md §8 T2.
    assert_eq!(format!("{:.6}", ours[3].si), "0.368017");
    assert_eq!(format!("{:.6}", ours[3].sti), "0.617860");
    assert_eq!(format!("{:.6}", ours[1].si), "0.252415");
}
