//! `govcap audit` end to end on the demo: outputs, the run-directory form, determinism, and
//! plain-words errors with exit code 2.

mod common;

use common::{govcap, text, tmp};

use govcap_core::audit::{Audit, FactorKind};

#[test]
fn audit_of_the_demo_run() {
    let dir = tmp("demo");
    let o = govcap(&["demo", "--out", "demo"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let db = "demo/govcap.db";
    let o = govcap(
        &[
            "audit",
            "2",
            "--db",
            db,
            "--out",
            "a1",
            "--draws",
            "800",
            "--bootstrap",
            "50",
            "--lang",
            "en",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("SYNTHETIC"), "{stdout}");
    assert!(stdout.contains("aggregation"), "{stdout}");
    let out = dir.join("a1");
    for f in [
        "audit.json",
        "audit_units.csv",
        "audit_factors.csv",
        "audit_draws.csv",
        "audit.xlsx",
        "factors.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let audit: Audit =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(audit.schema, "govcap.audit/1");
    assert!(audit.synthetic);
    assert_eq!(audit.year, 2021);
    assert_eq!(audit.units.len(), 337);
    assert_eq!(audit.tiers, ["A", "B", "C", "D"]);
    let d = audit.factors.len();
    assert_eq!(audit.base_samples, 800 / (d + 2));
    assert!(audit
        .factors
        .iter()
        .any(|f| f.kind == FactorKind::Aggregation));
    // Per unit: a 90 % interval around a median, tier probabilities that add up to 1.
    for u in &audit.units {
        let (q05, med, q95) = (
            u.q05_rank.unwrap(),
            u.median_rank.unwrap(),
            u.q95_rank.unwrap(),
        );
        assert!(
            1.0 <= q05 && q05 <= med && med <= q95 && q95 <= 337.0,
            "{}",
            u.code
        );
        assert_eq!(u.ranked_draws, 2 * audit.base_samples);
        let p: f64 = u.tier_probability.iter().sum();
        assert!((p - 1.0).abs() < 1e-9, "{}", u.code);
        assert_eq!(
            u.robust,
            u.nominal_in_interval && u.interval_width.unwrap() <= audit.robust_max_width
        );
    }
    // The nominal ranks are the recorded run's.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo/2021/results.json")).unwrap())
            .unwrap();
    for (u, r) in audit.units.iter().zip(results["units"].as_array().unwrap()) {
        assert_eq!(u.code, r["code"].as_str().unwrap());
        assert_eq!(u.nominal_rank, r["rank"].as_u64().map(|x| x as usize));
        assert_eq!(u.nominal_tier.as_deref(), r["tier"].as_str());
    }
    // CSV files: one row per unit, per factor and output, per draw.
    let units_csv = std::fs::read_to_string(out.join("audit_units.csv")).unwrap();
    assert_eq!(units_csv.lines().count(), 338);
    // UTF-8 with a BOM, so Excel on Chinese Windows reads it as UTF-8.
    assert!(units_csv.starts_with("\u{feff}code,name,nominal_rank,nominal_tier,nominal_sublevel,mean_rank,median_rank,q05_rank,q95_rank,interval_width"));
    let factors_csv = std::fs::read_to_string(out.join("audit_factors.csv")).unwrap();
    assert_eq!(factors_csv.lines().count(), 1 + 2 * d);
    let draws_csv = std::fs::read_to_string(out.join("audit_draws.csv")).unwrap();
    assert_eq!(draws_csv.lines().count(), 1 + audit.draws);
    let header = draws_csv.lines().next().unwrap();
    assert!(header
        .starts_with("draw,block,base_row,normalisation,aggregation,missing,treatment,tiers,w_S,"));
    assert!(header.ends_with(",rank_shift,tier_change"));
    // The workbook: three sheets, one row per unit under a header.
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("audit.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["units", "factors", "about"]);
    let units = wb.worksheet_range("units").unwrap();
    assert_eq!(units.height(), 338);
    assert_eq!(
        units.get((1, 0)).map(|c| c.to_string()),
        Some(audit.units[0].code.clone())
    );

    // The run directory names the same run: the same audit, byte for byte.
    let o = govcap(
        &[
            "audit",
            "demo/2021",
            "--db",
            db,
            "--out",
            "a2",
            "--draws",
            "800",
            "--bootstrap",
            "50",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(out.join("audit.json")).unwrap(),
        std::fs::read(dir.join("a2/audit.json")).unwrap()
    );

    // Errors in plain words, exit code 2.
    let o = govcap(&["audit", "99", "--db", db, "--out", "x"], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no run 99"), "{}", text(&o));

    std::fs::write(
        dir.join("copeland.toml"),
        "aggregation = [\"arithmetic\", \"copeland\"]\n",
    )
    .unwrap();
    let o = govcap(
        &[
            "audit",
            "2",
            "--db",
            db,
            "--out",
            "x",
            "--factors",
            "copeland.toml",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Copeland"), "{}", text(&o));

    // Rates of 0 (a feature not found) cannot enter a geometric mean unmapped.
    std::fs::write(
        dir.join("geo.toml"),
        "normalisation = [\"nominal\"]\naggregation = [\"arithmetic\", \"geometric\"]\n",
    )
    .unwrap();
    let o = govcap(
        &[
            "audit",
            "2",
            "--db",
            db,
            "--out",
            "x",
            "--factors",
            "geo.toml",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("needs positive values"), "{}", text(&o));

    std::fs::write(dir.join("typo.toml"), "aggregations = [\"geometric\"]\n").unwrap();
    let o = govcap(
        &[
            "audit",
            "2",
            "--db",
            db,
            "--out",
            "x",
            "--factors",
            "typo.toml",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("aggregations"), "{}", text(&o));
    assert!(!dir.join("x/audit.json").exists());

    // A run made without recording keeps no inputs.
    let o = govcap(
        &[
            "evaluate",
            "-o",
            "demo/input/observations-2021-synthetic.csv",
            "--year",
            "2021",
            "--out",
            "unrecorded",
            "--no-record",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = govcap(&["audit", "unrecorded", "--db", db, "--out", "x"], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no run id"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
