//! `govcap-bench classify`: our natural breaks against jenkspy 0.4.1 on the same inputs.
//!
//! Inputs are deterministic pseudo-random total scores (bell-shaped around 70, rounded to two
//! decimals like published totals, so they hold many ties). Each input is written to a temp
//! directory, one value per line in shortest round-trip form, so Python reads back the very
//! same doubles; `bench/jenkspy_bench.py` times jenkspy on them and prints its breaks, which
//! must equal ours bit for bit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use govcap_core::classify::jenks_breaks;

use crate::prng::SplitMix64;

const HELP: &str = "usage: govcap-bench classify [OPTIONS]

Times govcap's natural breaks and jenkspy 0.4.1 on the same inputs and checks the breaks agree.

options:
  --sizes N,N,...     input sizes (default 337,3000,100000)
  --k K               number of classes (default 4)
  --repeats R         timed runs of ours per size; the median is reported (default 21)
  --py-repeats R      timed runs of jenkspy per size up to 20000 values; larger sizes run once (default 5)
  --seed S            seed of the score generator (default 20211)
  --python PATH       Python interpreter (default python3)
  --script PATH       jenkspy timing script (default bench/jenkspy_bench.py of this workspace)
  --no-jenkspy        time ours only";

struct Opts {
    sizes: Vec<usize>,
    k: usize,
    repeats: usize,
    py_repeats: usize,
    seed: u64,
    python: String,
    script: PathBuf,
    jenkspy: bool,
}

fn parse(args: &[String]) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        sizes: vec![337, 3000, 100_000],
        k: 4,
        repeats: 21,
        py_repeats: 5,
        seed: 20211,
        python: "python3".into(),
        script: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/jenkspy_bench.py"),
        jenkspy: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        let num = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{a}: {v:?} is not a whole number"))
        };
        match a.as_str() {
            "-h" | "--help" => {
                println!("{HELP}");
                return Ok(None);
            }
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| num(s.trim().to_string()).map(|n| n as usize))
                    .collect::<Result<_, _>>()?
            }
            "--k" => o.k = num(value()?)? as usize,
            "--repeats" => o.repeats = (num(value()?)? as usize).max(1),
            "--py-repeats" => o.py_repeats = (num(value()?)? as usize).max(1),
            "--seed" => o.seed = num(value()?)?,
            "--python" => o.python = value()?,
            "--script" => o.script = PathBuf::from(value()?),
            "--no-jenkspy" => o.jenkspy = false,
            _ => return Err(format!("unknown option {a:?}\n\n{HELP}")),
        }
    }
    Ok(Some(o))
}

/// Bell-shaped scores in [0, 100]: mean of four uniforms around 70, two decimals.
pub fn scores(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed ^ (n as u64).wrapping_mul(0x9e37_79b9));
    (0..n)
        .map(|_| {
            let u: f64 = (0..4).map(|_| rng.next_f64()).sum::<f64>() / 4.0;
            let x = (70.0 + (u - 0.5) * 60.0).clamp(0.0, 100.0);
            (x * 100.0).round() / 100.0
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len();
    if m % 2 == 1 {
        xs[m / 2]
    } else {
        (xs[m / 2 - 1] + xs[m / 2]) / 2.0
    }
}

struct PyResult {
    ms: f64,
    breaks: Vec<f64>,
}

/// Runs the jenkspy script on the input files; one result per file, in order.
fn run_jenkspy(o: &Opts, files: &[PathBuf]) -> Result<Vec<PyResult>, String> {
    let out = Command::new(&o.python)
        .arg(&o.script)
        .args(["--k", &o.k.to_string()])
        .args(["--repeats", &o.py_repeats.to_string()])
        .args(["--single-above", "20000"])
        .args(files)
        .output()
        .map_err(|e| format!("cannot run {} {}: {e}", o.python, o.script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            o.script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut results = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split('\t');
        let _file = cols.next();
        let bad = || format!("unexpected line from the jenkspy script: {line:?}");
        let ms: f64 = cols.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let breaks = cols
            .next()
            .ok_or_else(bad)?
            .split(' ')
            .map(|s| s.parse::<f64>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        results.push(PyResult { ms, breaks });
    }
    if results.len() != files.len() {
        return Err(format!(
            "the jenkspy script gave {} results for {} inputs",
            results.len(),
            files.len()
        ));
    }
    Ok(results)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(o) = parse(args)? else {
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("govcap-bench-classify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = bench(&o, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(o: &Opts, dir: &Path) -> Result<(), String> {
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for &n in &o.sizes {
        let v = scores(n, o.seed);
        let mut times = Vec::with_capacity(o.repeats);
        let mut breaks = Vec::new();
        for _ in 0..o.repeats {
            let t = Instant::now();
            breaks = jenks_breaks(&v, o.k).map_err(|e| format!("n = {n}: {e}"))?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let file = dir.join(format!("scores-{n}.txt"));
        let text: String = v.iter().map(|x| format!("{x}\n")).collect();
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        files.push(file);
        rows.push((n, median(times), breaks));
    }
    let py = if o.jenkspy {
        eprintln!("running jenkspy 0.4.1 (the largest size can take a minute) …");
        Some(run_jenkspy(o, &files)?)
    } else {
        None
    };
    println!(
        "Natural breaks, k = {}: govcap (median of {} runs) vs jenkspy 0.4.1 (median of {} runs up to n = 20000, else 1)\n",
        o.k, o.repeats, o.py_repeats
    );
    println!("| n | ours ms | jenkspy ms | speed-up | identical breaks? |");
    println!("|---:|---:|---:|---:|:---:|");
    let mut all_same = true;
    for (i, (n, ms, breaks)) in rows.iter().enumerate() {
        match &py {
            Some(py) => {
                let p = &py[i];
                let same = p.breaks.len() == breaks.len()
                    && p.breaks
                        .iter()
                        .zip(breaks)
                        .all(|(a, b)| (a + 0.0).to_bits() == (b + 0.0).to_bits());
                all_same &= same;
                println!(
                    "| {n} | {ms:.3} | {:.1} | {:.0}× | {} |",
                    p.ms,
                    p.ms / ms,
                    if same { "yes" } else { "NO" }
                );
                if !same {
                    eprintln!("n = {n}: ours {breaks:?}\n        jenkspy {:?}", p.breaks);
                }
            }
            None => println!("| {n} | {ms:.3} | – | – | – |"),
        }
    }
    if all_same {
        Ok(())
    } else {
        Err("the breaks differ from jenkspy's".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_deterministic_bell_shaped_two_decimal_values() {
        let a = scores(5000, 1);
        assert_eq!(a, scores(5000, 1));
        assert_ne!(a, scores(5000, 2));
        assert!(a.iter().all(|&x| (40.0..=100.0).contains(&x)));
        assert!(a
            .iter()
            .all(|&x| ((x * 100.0).round() - x * 100.0).abs() < 1e-6));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 70.0).abs() < 0.5, "{mean}");
        // Mean of four uniforms: far fewer values in the outer tenths than in the middle.
        let tail = a.iter().filter(|&&x| x < 46.0).count();
        let mid = a.iter().filter(|&&x| (67.0..73.0).contains(&x)).count();
        assert!(tail * 10 < mid, "{tail} {mid}");
    }

    #[test]
    fn options_parse() {
        let args: Vec<String> = ["--sizes", "10,20", "--k", "3", "--no-jenkspy"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse(&args).unwrap().unwrap();
        assert_eq!(o.sizes, vec![10, 20]);
        assert_eq!(o.k, 3);
        assert!(!o.jenkspy);
        assert!(parse(&["--bogus".to_string()]).is_err());
    }
}
