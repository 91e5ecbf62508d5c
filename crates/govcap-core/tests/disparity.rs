//! Disparity measures on realistic data: an oracle cross-check against numpy, and invariants
//! on a synthetic year of 337 units in 31 provinces.

use govcap_core::analyse::disparity::{
    cv, disparity, ge_decompose, generalised_entropy, gini, gini_decompose, mld, theil_t,
};
use govcap_core::analyse::stats;

fn assert_rel(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1e-300),
        "{what}: got {a:e}, expected {b:e} (diff {:e})",
        a - b
    );
}

// Oracle: numpy 2.4.6, script kept next to the numbers:
//   x = np.array(X); g = np.array(G); n = len(x); mu = x.mean()
//   gini(v) = np.abs(v[:,None] - v[None,:]).sum() / (2*len(v)**2*v.mean())
//   ge(v, a) = np.mean(-np.log(r)) | np.mean(r*np.log(r)) | np.mean(r**a - 1)/(a*(a-1)), r = v/v.mean()
//   between = ge(np.array([x[g==k].mean() for k in g]), a)
//   within  = Σ_k (len(x[g==k])/n)**(1-a) * (x[g==k].sum()/x.sum())**a * ge(x[g==k], a)
//   Dagum: double loops over itertools.combinations(sorted(set(g)), 2) with
//   d = np.clip(diff, 0, None).mean(), p = np.clip(-diff, 0, None).mean() (diff oriented
//   richer − poorer), D = (d - p)/(d + p), weight = p_j*s_h + p_h*s_j.
const X: [f64; 12] = [
    71.5, 63.25, 88.0, 54.75, 63.25, 92.5, 47.0, 80.125, 66.0, 71.5, 59.875, 83.0,
];
const G: [&str; 12] = [
    "east",
    "central",
    "east",
    "west",
    "central",
    "east",
    "west",
    "east",
    "central",
    "west",
    "northeast",
    "northeast",
];

#[test]
fn matches_numpy_oracle() {
    // x.std(ddof=1)/x.mean()
    assert_rel(cv(&X).unwrap(), 0.1961464162660923, 1e-14, "cv");
    assert_rel(gini(&X).unwrap(), 0.10667558727326791, 1e-14, "gini");
    // (alpha, total, between, within)
    let expected = [
        (
            0.0,
            0.01810454209793073,
            0.010443059304436716,
            0.007661482793494033,
        ),
        (
            1.0,
            0.01774959628262115,
            0.010439301814866395,
            0.007310294467754738,
        ),
        (
            2.0,
            0.01763364928143099,
            0.010488156300981965,
            0.007145492980449035,
        ),
        (
            0.5,
            0.01789577689648214,
            0.01043458508878862,
            0.007461191807693802,
        ),
        (
            -1.0,
            0.01872562250352137,
            0.010499990827444414,
            0.008225631676076957,
        ),
    ];
    for (alpha, total, between, within) in expected {
        let d = ge_decompose(&X, &G, alpha).unwrap();
        assert_rel(d.total, total, 1e-12, &format!("GE({alpha}) total"));
        assert_rel(d.between, between, 1e-12, &format!("GE({alpha}) between"));
        assert_rel(d.within, within, 1e-12, &format!("GE({alpha}) within"));
    }
    let d = gini_decompose(&X, &G).unwrap();
    assert_rel(d.within, 0.01471900089206066, 1e-13, "G_w");
    assert_rel(d.between_net, 0.07988898800674, 1e-13, "G_nb");
    assert_rel(d.transvariation, 0.01206759837446724, 1e-13, "G_t");
    // GE(2) is half the squared CV with the population sd: 0.5*(x.std()/x.mean())**2
    let pop_cv = stats::sd_population(&X).unwrap() / stats::mean(&X).unwrap();
    assert_rel(
        generalised_entropy(&X, 2.0).unwrap(),
        0.5 * pop_cv * pop_cv,
        1e-14,
        "GE(2)",
    );
}

/// Deterministic synthetic year: 337 scores in [20, 95] on a 0.25 grid (so there are ties),
/// provinces of uneven size with uneven levels. Seeded LCG, no randomness at run time.
fn synthetic() -> (Vec<f64>, Vec<String>) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut values = Vec::with_capacity(337);
    let mut groups = Vec::with_capacity(337);
    for i in 0..337 {
        // 31 provinces of uneven size (35 units in the first, 7 in the last): p = ⌊31·(i/337)^1.5⌋
        let p = (31.0 * (i as f64 / 337.0).powf(1.5)) as usize;
        let level = 45.0 + p as f64; // richer provinces have higher numbers
        let raw = level + 25.0 * (next() - 0.5) + 10.0 * (next() - 0.5);
        values.push((raw.clamp(20.0, 95.0) * 4.0).round() / 4.0);
        groups.push(format!("p{p:02}"));
    }
    (values, groups)
}

/// Dagum by the definition: O(n²) double loops over every pair, for the fast merge to meet.
fn dagum_naive(x: &[f64], g: &[String]) -> (f64, f64, f64) {
    let mut names: Vec<&str> = g.iter().map(String::as_str).collect();
    names.sort();
    names.dedup();
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    let mu = total / n;
    let member = |k: &str| -> Vec<f64> {
        x.iter()
            .zip(g)
            .filter(|(_, gi)| *gi == k)
            .map(|(v, _)| *v)
            .collect()
    };
    let (mut w, mut nb, mut t) = (0.0, 0.0, 0.0);
    for (j, &kj) in names.iter().enumerate() {
        let a = member(kj);
        let (na, ma) = (a.len() as f64, a.iter().sum::<f64>() / a.len() as f64);
        let gjj: f64 = a
            .iter()
            .flat_map(|u| a.iter().map(move |v| (u - v).abs()))
            .sum::<f64>()
            / (2.0 * na * na * ma);
        w += gjj * (na / n) * (na * ma / (n * mu));
        for &kh in &names[j + 1..] {
            let b = member(kh);
            let (nb_, mb) = (b.len() as f64, b.iter().sum::<f64>() / b.len() as f64);
            let pairs = na * nb_;
            let (mut up, mut down) = (0.0, 0.0);
            for u in &a {
                for v in &b {
                    up += (u - v).max(0.0);
                    down += (v - u).max(0.0);
                }
            }
            let (rich, poor) = if ma >= mb { (up, down) } else { (down, up) };
            let gjh = (up + down) / pairs / (ma + mb);
            let dd = (rich - poor) / (rich + poor);
            let weight = (na / n) * (nb_ * mb / (n * mu)) + (nb_ / n) * (na * ma / (n * mu));
            nb += gjh * weight * dd;
            t += gjh * weight * (1.0 - dd);
        }
    }
    (w, nb, t)
}

#[test]
fn decompositions_add_up_on_a_full_year() {
    let (x, g) = synthetic();
    for alpha in [0.0, 1.0, 2.0, 0.5, -1.0, 3.0] {
        let d = ge_decompose(&x, &g, alpha).unwrap();
        assert_eq!(d.groups.len(), 31);
        assert!(d.between > 0.0 && d.within > 0.0);
        assert!(
            (d.total - (d.between + d.within)).abs() <= 1e-12 * d.total,
            "GE({alpha})"
        );
        let sum_contrib: f64 = d.groups.iter().map(|c| c.contribution).sum();
        assert!((sum_contrib - d.within).abs() <= 1e-12 * d.within);
        assert_eq!(d.groups.iter().map(|c| c.n).sum::<usize>(), 337);
    }
    // weights: score shares sum to 1 for Theil, population shares for MLD
    let theil = ge_decompose(&x, &g, 1.0).unwrap();
    assert_rel(
        theil.groups.iter().map(|c| c.weight).sum(),
        1.0,
        1e-14,
        "Σ s_g",
    );
    let gd = gini_decompose(&x, &g).unwrap();
    let parts = gd.within + gd.between_net + gd.transvariation;
    assert!(
        (gd.total - parts).abs() <= 1e-12 * gd.total,
        "Dagum parts {parts} vs {}",
        gd.total
    );
    assert!(gd.transvariation > 0.0 && gd.between_net > 0.0);
    let (w, nb, t) = dagum_naive(&x, &g);
    assert_rel(gd.within, w, 1e-12, "G_w vs naive");
    assert_rel(gd.between_net, nb, 1e-12, "G_nb vs naive");
    assert_rel(gd.transvariation, t, 1e-12, "G_t vs naive");
}

#[test]
fn scale_and_order_invariance() {
    let (x, g) = synthetic();
    let base = disparity(&x, &g).unwrap();
    let scaled: Vec<f64> = x.iter().map(|v| v * 7.3).collect();
    let s = disparity(&scaled, &g).unwrap();
    assert_rel(s.cv, base.cv, 1e-13, "cv");
    assert_rel(s.gini, base.gini, 1e-13, "gini");
    assert_rel(s.theil.total, base.theil.total, 1e-12, "theil");
    assert_rel(s.theil.between, base.theil.between, 1e-12, "theil between");
    assert_rel(s.mld.total, base.mld.total, 1e-12, "mld");
    assert_rel(
        s.gini_decomposition.transvariation,
        base.gini_decomposition.transvariation,
        1e-12,
        "G_t",
    );
    // reversing the order of the units changes nothing but the last bits
    let rx: Vec<f64> = x.iter().rev().copied().collect();
    let rg: Vec<String> = g.iter().rev().cloned().collect();
    let r = disparity(&rx, &rg).unwrap();
    assert_rel(r.gini, base.gini, 1e-14, "gini reversed");
    assert_rel(
        r.theil.between,
        base.theil.between,
        1e-13,
        "theil between reversed",
    );
    assert_rel(
        r.gini_decomposition.between_net,
        base.gini_decomposition.between_net,
        1e-13,
        "G_nb reversed",
    );
    // figures in the bundle are the standalone ones
    assert_eq!(base.gini, gini(&x).unwrap());
    assert_eq!(base.cv, cv(&x).unwrap());
    assert_eq!(base.theil.total, theil_t(&x).unwrap());
    assert_eq!(base.mld.total, mld(&x).unwrap());
    assert_eq!(base.n, 337);
}

#[test]
fn entropy_family_is_continuous_at_its_limits() {
    let (x, _) = synthetic();
    let t = theil_t(&x).unwrap();
    let l = mld(&x).unwrap();
    // GE(α) → Theil as α → 1 and → MLD as α → 0; the general formula near the limits agrees
    // to a few digits (it loses precision there, which is why the limits are special-cased).
    assert_rel(
        generalised_entropy(&x, 1.0 + 1e-6).unwrap(),
        t,
        1e-4,
        "GE(1+ε)",
    );
    assert_rel(generalised_entropy(&x, 1e-6).unwrap(), l, 1e-4, "GE(ε)");
    // more weight on the top as α grows for this right-skewed-ish data is not guaranteed, but
    // every GE is non-negative
    for alpha in [-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0] {
        assert!(generalised_entropy(&x, alpha).unwrap() > 0.0);
    }
}

#[test]
fn gini_bounds_and_transfer_principle() {
    let (x, _) = synthetic();
    let g0 = gini(&x).unwrap();
    assert!(g0 > 0.0 && g0 < 1.0 - 1.0 / x.len() as f64);
    // a transfer from a richer to a poorer unit (keeping their order) lowers every measure
    let mut y = x.clone();
    let (lo, hi) = (
        (0..y.len()).min_by(|&a, &b| y[a].total_cmp(&y[b])).unwrap(),
        (0..y.len()).max_by(|&a, &b| y[a].total_cmp(&y[b])).unwrap(),
    );
    y[lo] += 1.0;
    y[hi] -= 1.0;
    assert!(gini(&y).unwrap() < g0);
    assert!(theil_t(&y).unwrap() < theil_t(&x).unwrap());
    assert!(mld(&y).unwrap() < mld(&x).unwrap());
    assert!(cv(&y).unwrap() < cv(&x).unwrap());
}

#[test]
fn serialises_for_the_report() {
    let d = disparity(&X, &G).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    for key in ["n", "cv", "gini", "theil", "mld", "gini_decomposition"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["theil"]["groups"][0]["group"], "central");
    assert_eq!(json["mld"]["alpha"], 0.0);
    assert!(json["gini_decomposition"]["transvariation"].is_f64());
}
