//! `govcap-bench evaluate`: the full evaluation (score → aggregate → rank → tiers → analyses)
//! of the built-in 337 units, and of 3,000 synthetic units over two years.
//!
//! Inputs are generated in memory by the synthetic model, so the figure measures the core
//! engine, not file parsing; a separate line times the CSV import of one year for 337 units.

use std::time::Instant;

use govcap_core::analyse::figures::analyse;
use govcap_core::evaluate::{evaluate, Params};
use govcap_core::framework::Framework;
use govcap_core::observation::Observation;

/// Median wall time in milliseconds of `f` over `reps` runs (after one warm-up).
fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn year(obs: &[Observation], y: i32) -> Vec<Observation> {
    obs.iter().filter(|o| o.year == y).cloned().collect()
}

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("evaluate takes no options, got {a:?}"));
    }
    let fw = Framework::default_framework();
    let units = govcap_io::default_units();
    let obs = govcap_synth::observations(&fw, &units, &[2020, 2021], govcap_synth::DEMO_SEED);
    let o21 = year(&obs, 2021);
    let p21 = Params::new(2021);
    let t337 = median_ms(200, || {
        let e = evaluate(&fw, &units, &o21, &p21).expect("evaluates");
        std::hint::black_box(analyse(&e, None));
    });

    if std::env::var("GOVCAP_BENCH_SPLIT").is_ok() {
        let e = evaluate(&fw, &units, &o21, &p21).expect("evaluates");
        let te = median_ms(200, || {
            std::hint::black_box(evaluate(&fw, &units, &o21, &p21).expect("evaluates"));
        });
        let ta = median_ms(200, || {
            std::hint::black_box(analyse(&e, None));
        });
        let tt = median_ms(200, || {
            let totals: Vec<f64> = e.units.iter().filter_map(|u| u.total).collect();
            std::hint::black_box(govcap_core::tiers::assign(&totals, &p21.tiers).unwrap());
        });
        eprintln!("split: evaluate {te:.2} ms, analyse {ta:.2} ms, tiers {tt:.2} ms");
    }
    let big_units = govcap_synth::units(3000, &units);
    let big = govcap_synth::observations(&fw, &big_units, &[2020, 2021], govcap_synth::DEMO_SEED);
    let (b20, b21) = (year(&big, 2020), year(&big, 2021));
    let p20 = Params::new(2020);
    // GOVCAP_BENCH_PROFILE=evaluate|analyse: loop one part on the 3,000-unit data for a
    // profiler (`perf record`), print nothing.
    if let Ok(what) = std::env::var("GOVCAP_BENCH_PROFILE") {
        let e20 = evaluate(&fw, &big_units, &b20, &p20).expect("evaluates");
        let e21 = evaluate(&fw, &big_units, &b21, &p21).expect("evaluates");
        for _ in 0..100 {
            if what == "analyse" {
                std::hint::black_box(analyse(&e21, Some(&e20)));
            } else {
                std::hint::black_box(evaluate(&fw, &big_units, &b21, &p21).expect("evaluates"));
            }
        }
        return Ok(());
    }
    if std::env::var("GOVCAP_BENCH_SPLIT").is_ok() {
        let e20 = evaluate(&fw, &big_units, &b20, &p20).expect("evaluates");
        let e21 = evaluate(&fw, &big_units, &b21, &p21).expect("evaluates");
        let te = median_ms(10, || {
            std::hint::black_box(evaluate(&fw, &big_units, &b21, &p21).expect("evaluates"));
        });
        let ta = median_ms(10, || {
            std::hint::black_box(analyse(&e21, Some(&e20)));
        });
        eprintln!("split 3000: evaluate {te:.2} ms, analyse {ta:.2} ms");
    }
    let t3000 = median_ms(30, || {
        let e20 = evaluate(&fw, &big_units, &b20, &p20).expect("evaluates");
        let e21 = evaluate(&fw, &big_units, &b21, &p21).expect("evaluates");
        std::hint::black_box(analyse(&e21, Some(&e20)));
    });

    // CSV import of one year for 337 units (parsing and validation).
    let dir = std::env::temp_dir().join(format!("govcap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv_path = dir.join("observations-2021-synthetic.csv");
    std::fs::write(&csv_path, govcap_io::export::observations_csv(&o21)).expect("write csv");
    let opts = govcap_io::ImportOptions::default();
    let t_import = median_ms(50, || {
        std::hint::black_box(
            govcap_io::read_observations(&csv_path, &fw, &units, &opts).expect("imports"),
        );
    });
    let _ = std::fs::remove_dir_all(&dir);

    println!("| evaluation | observations | median | target |");
    println!("|---|---:|---:|---:|");
    println!(
        "| 337 units × 31 indicators, one year (evaluate + analyse) | {} | {t337:.2} ms | < 5 ms |",
        o21.len()
    );
    println!(
        "| 3,000 units × 31 indicators × 2 years (2 evaluations + year-over-year analyses) | {} | {t3000:.2} ms | < 50 ms |",
        b20.len() + b21.len()
    );
    println!(
        "| CSV import and validation, 337 units, one year | {} | {t_import:.2} ms | – |",
        o21.len()
    );
    Ok(())
}
