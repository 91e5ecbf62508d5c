//! `govcap-bench audit`: the statistical audit (rank uncertainty and sensitivity analysis) on
//! synthetic units, and its Sobol'-index estimation side by side with SALib 1.6.
//!
//! Inputs are generated in memory by the synthetic model (the built-in 3/9/31 framework, the
//! default audit factors), so the figures measure the audit, not file parsing. The estimation
//! step is timed on the model outputs of the audit itself: they are written in SALib's row
//! order to a temporary file, and `bench/salib_bench.py` times `SALib.analyze.sobol.analyze`
//! on them and recomputes COINr's estimator with numpy as a cross-check.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use govcap_core::audit::{self, Factors, Model, Settings};
use govcap_core::evaluate::Params;
use govcap_core::framework::Framework;

struct Options {
    units: usize,
    draws: usize,
    reps: usize,
    seed: u64,
    bootstrap: usize,
    salib: bool,
    factors: Option<PathBuf>,
}

const HELP: &str = "usage: govcap-bench audit [--units N] [--draws N] [--reps N] [--seed S] [--bootstrap N] [--factors FILE] [--no-salib]

  --units N      synthetic units (default 3000)
  --draws N      model runs per audit (default 10000)
  --reps N       timed repetitions, median reported (default 3)
  --seed S       Sobol' and bootstrap seed (default 2021)
  --bootstrap N  bootstrap replicates for the estimation comparison (default 100, SALib's default)
  --factors FILE audit factor file (default: the documented default factors)
  --no-salib     skip the SALib comparison (no Python needed)";

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        units: 3000,
        draws: 10_000,
        reps: 3,
        seed: 2021,
        bootstrap: 100,
        salib: true,
        factors: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse()
                .map_err(|_| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--units" => o.units = value("--units")? as usize,
            "--draws" => o.draws = value("--draws")? as usize,
            "--reps" => o.reps = (value("--reps")? as usize).max(1),
            "--seed" => o.seed = value("--seed")?,
            "--bootstrap" => o.bootstrap = value("--bootstrap")? as usize,
            "--no-salib" => o.salib = false,
            "--factors" => {
                o.factors = Some(PathBuf::from(it.next().ok_or("--factors needs a file")?))
            }
            other => return Err(format!("unknown option {other:?}\n\n{HELP}")),
        }
    }
    Ok(Some(o))
}

/// CPU time of the whole process (all threads) in milliseconds, from /proc (Linux); NaN
/// elsewhere. Reported next to wall time because other processes may share the cores.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // After the command name (in parentheses) come the state and then, 12th and 13th,
    // utime and stime in clock ticks.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) * 10.0 // USER_HZ = 100 on Linux
}

/// Median of `reps` timed runs: wall milliseconds, CPU milliseconds, and the last result.
fn timed<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        let (t, c) = (Instant::now(), cpu_ms());
        last = Some(f());
        times.push((t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c));
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, cpu) = times[times.len() / 2];
    (wall, cpu, last.expect("at least one repetition"))
}

/// Entry point of the subcommand (wired into `main.rs`'s `SUBCOMMANDS`).
pub fn run(args: &[String]) -> Result<(), String> {
    let Some(o) = parse(args)? else {
        println!("{HELP}");
        return Ok(());
    };
    let fw = Framework::default_framework();
    let units = govcap_synth::units(o.units, &govcap_io::default_units());
    let obs = govcap_synth::observations(&fw, &units, &[2021], govcap_synth::DEMO_SEED);
    let params = Params::new(2021);
    let factors = match &o.factors {
        None => Factors::default_for(&fw),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Factors::from_toml(&text).map_err(|e| e.to_string())?
        }
    };
    let settings = Settings {
        draws: o.draws,
        seed: o.seed,
        ..Settings::default()
    };

    let (t_prepare, _, model) = timed(o.reps, || {
        Model::prepare(&fw, &units, &obs, &params, &factors).map_err(|e| e.to_string())
    });
    let model = model?;
    audit::run(&model, &settings).map_err(|e| e.to_string())?; // warm-up
    let (t_run, cpu_run, run) = timed(o.reps, || audit::run(&model, &settings));
    let run = run.map_err(|e| e.to_string())?;
    let a = &run.audit;
    let d = a.factors.len();
    let n = a.base_samples;
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());

    println!(
        "audit of {} synthetic units × {} indicators, {} ({} varying: {}), {} threads",
        o.units,
        fw.leaves().len(),
        o.factors
            .as_ref()
            .map_or("default factors".to_string(), |p| format!(
                "factors {}",
                p.display()
            )),
        d,
        a.factors
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        threads
    );
    println!();
    println!("| step | runs | median wall time | target |");
    println!("|---|---:|---:|---:|");
    println!(
        "| prepare (nominal evaluation, leaf combinations, nominal check) | – | {t_prepare:.1} ms | – |"
    );
    println!(
        "| audit: {} draws (N = {n}, d = {d}), ranks, tiers, statistics, indices (1000 bootstrap) | {} | {t_run:.1} ms (CPU {cpu_run:.0} ms) | < 2000 ms |",
        a.draws, a.draws
    );
    println!(
        "| per draw ({} units aggregated, ranked and classified) | – | {:.1} µs | – |",
        o.units,
        t_run * 1e3 / a.draws as f64
    );

    // The estimation step alone, on the audit's own outputs.
    let y: Vec<f64> = run.draws.iter().map(|dr| dr.rank_shift).collect();
    let (t_est, _, ours) = timed(o.reps.max(5), || {
        audit::sobol_indices(&y, n, d, o.bootstrap, o.seed)
    });
    let ours = ours.ok_or("the rank shift does not vary: nothing to estimate")?;
    println!(
        "| Sobol' indices, govcap (Si Saltelli 2010, STi Jansen, {} bootstrap) | {} | {t_est:.3} ms | – |",
        o.bootstrap,
        y.len()
    );
    if !o.salib {
        return Ok(());
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/salib_bench.py");
    let file = std::env::temp_dir().join(format!("govcap-audit-y-{}.txt", std::process::id()));
    // SALib's order: for each base row j, A_j, AB_1j … AB_dj, B_j.
    let mut text = String::with_capacity(y.len() * 20);
    for j in 0..n {
        text.push_str(&format!("{:?}\n", y[j]));
        for i in 0..d {
            text.push_str(&format!("{:?}\n", y[(2 + i) * n + j]));
        }
        text.push_str(&format!("{:?}\n", y[n + j]));
    }
    std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let out = Command::new("python3")
        .arg(&script)
        .args(["--d", &d.to_string(), "--n", &n.to_string()])
        .args(["--resamples", &o.bootstrap.to_string(), "--reps"])
        .arg(o.reps.max(5).to_string())
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run python3 {}: {e}", script.display()))?;
    let _ = std::fs::remove_file(&file);
    if !out.status.success() {
        return Err(format!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Lines: "time <ms>", then per factor "salib <S1> <ST>" and "numpy <Si> <STi>".
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut t_salib = f64::NAN;
    let (mut salib, mut numpy) = (Vec::new(), Vec::new());
    for line in stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |k: usize| {
            f.get(k)
                .and_then(|x| x.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        match f.first().copied() {
            Some("time") => t_salib = num(1),
            Some("salib") => salib.push((num(1), num(2))),
            Some("numpy") => numpy.push((num(1), num(2))),
            _ => {}
        }
    }
    println!(
        "| Sobol' indices, SALib 1.6 `sobol.analyze` (first and total order, {} resamples) | {} | {t_salib:.3} ms | – |",
        o.bootstrap,
        y.len()
    );
    println!();
    println!("| factor | Si (govcap) | STi (govcap) | Si, STi (numpy, COINr formulas) | S1, ST (SALib) |");
    println!("|---|---:|---:|---:|---:|");
    let mut max_numpy = 0.0f64;
    for (k, f) in a.factors.iter().enumerate() {
        let (s, st) = (ours[k].si, ours[k].sti);
        let (ns, nst) = numpy.get(k).copied().unwrap_or((f64::NAN, f64::NAN));
        let (ss, sst) = salib.get(k).copied().unwrap_or((f64::NAN, f64::NAN));
        max_numpy = max_numpy.max((s - ns).abs()).max((st - nst).abs());
        println!(
            "| {} | {s:.4} | {st:.4} | {ns:.4}, {nst:.4} | {ss:.4}, {sst:.4} |",
            f.name
        );
    }
    println!();
    println!(
        "govcap vs numpy (same formulas): largest difference {max_numpy:.1e}. SALib centres the outputs and divides by the population variance, so its first-order values differ slightly by definition."
    );
    Ok(())
}
