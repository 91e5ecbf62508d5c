//! `govcap audit`: rank uncertainty and sensitivity analysis of a recorded run.
//!
//! The audit needs the run's inputs, so RUN is a run id in the database (the framework text,
//! parameters and every input file are stored with it) or an output directory whose `run.json`
//! names the run id. The Monte Carlo itself is `govcap_core::audit`; this file finds the
//! inputs, writes `audit.json` (last), `audit_units.csv`, `audit_factors.csv`,
//! `audit_draws.csv`, `audit.xlsx` and the factor file used, and prints a summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use govcap_core::audit::{self, Audit, AuditError, AuditRun, Factors, Settings};
use govcap_core::framework::Framework;
use govcap_core::observation::Observation;
use govcap_core::unit::UnitSet;
use govcap_io::export::{json_text, write_atomic};
use govcap_io::{read_observations, ImportOptions};

use crate::evaluation::{load_framework, Job, BUILTIN_UNITS};
use crate::run_folder::{where_runs_are, RunFolder};
use crate::{user_error, DbArgs, LangArg, UserError};
use govcap_io::export::Lang;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The run: a run id in --db, or an output directory of `govcap evaluate` / `govcap demo`
    /// (its run.json names the run id; the run's inputs are read from the database).
    pub run: String,
    /// Model runs in all (N·(d + 2) for d varying factors).
    #[arg(long, default_value_t = 10_000)]
    pub draws: usize,
    /// Seed of the Sobol' sequence's digital shift and of the bootstrap.
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Factor file (TOML); default: govcap's documented default factors.
    #[arg(long)]
    pub factors: Option<PathBuf>,
    /// Bootstrap replicates for the intervals of the sensitivity indices.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// A unit is robust when its nominal rank is inside its 90 % interval and the interval is
    /// at most this share of the ranked units wide.
    #[arg(long, default_value_t = 0.1)]
    pub robust_width: f64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Language of the console summary and of audit.xlsx (the CSV files keep machine
    /// column names for scripts).
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub lang: LangArg,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The run id RUN names (a number, or the `run_id` of `RUN/run.json`) and the database to
/// read it from (`--db`, or the one `run.json` names when `--db` was left at its default).
fn run_id(spec: &str, db: &str) -> anyhow::Result<(i64, String)> {
    if !Path::new(spec).exists() {
        if let Ok(id) = spec.parse::<i64>() {
            return Ok((id, db.to_string()));
        }
        return user_error(format!(
            "{spec} is neither a run id nor an output directory"
        ));
    }
    let Some(folder) = RunFolder::read(spec)? else {
        return user_error(format!(
            "{spec} has no run.json; the audit needs the run's inputs, so give a run id or a directory written by `govcap evaluate` or `govcap demo`"
        ));
    };
    match folder.run_id {
        Some(id) => Ok((id, folder.database_or(db))),
        None => user_error(format!(
            "{} records no run id (the run was made with --no-record); the audit needs the run's inputs, which only a recorded run keeps: evaluate again without --no-record",
            folder.manifest.display()
        )),
    }
}

/// The inputs of a recorded run, read back as the run read them.
struct Inputs {
    framework: Framework,
    units: UnitSet,
    observations: Vec<Observation>,
    job: Job,
    stored: govcap_core::evaluate::Evaluation,
}

fn load_inputs(id: i64, db: &str) -> anyhow::Result<Inputs> {
    let mut store = govcap_store::open_existing(db)?;
    let Some(r) = store.get_run(id)? else {
        return user_error(format!("no run {id} in {db} ({})", where_runs_are(db)));
    };
    let stored =
        serde_json::from_str(&r.results_json).with_context(|| format!("results of run {id}"))?;
    let tmp = std::env::temp_dir().join(format!("govcap-audit-{}-{id}", std::process::id()));
    let job = crate::runs::job_from_record(&r, &tmp)?;
    let read = || -> anyhow::Result<(Framework, UnitSet, Vec<Observation>)> {
        let framework = load_framework(&job.framework)?;
        let units = match &job.units.path {
            None if job.units.name == BUILTIN_UNITS => govcap_io::default_units(),
            Some(p) => govcap_io::read_units(p)?,
            None => anyhow::bail!("run {id}: the units input has no file"),
        };
        let opts = ImportOptions {
            year: Some(job.params.year),
            ..ImportOptions::default()
        };
        let mut observations = Vec::new();
        for input in &job.observations {
            let path = input
                .path
                .as_ref()
                .context("observation inputs are files")?;
            observations.extend(read_observations(path, &framework, &units, &opts)?);
        }
        Ok((framework, units, observations))
    };
    let loaded = read();
    let _ = std::fs::remove_dir_all(&tmp);
    let (framework, units, observations) = loaded?;
    Ok(Inputs {
        framework,
        units,
        observations,
        job,
        stored,
    })
}

fn user_facing(e: AuditError) -> anyhow::Error {
    match e {
        AuditError::NominalMismatch { .. } => anyhow::Error::new(e),
        AuditError::Evaluate(inner) => anyhow::Error::new(inner),
        other => UserError(other.to_string()).into(),
    }
}

pub fn run(a: AuditArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let (id, db) = run_id(&a.run, &a.db.db)?;
    if !(a.robust_width.is_finite() && a.robust_width >= 0.0) {
        return user_error("--robust-width must be a share of at least 0, such as 0.1");
    }
    let settings = Settings {
        draws: a.draws,
        seed: a.seed,
        bootstrap: a.bootstrap,
        robust_width: a.robust_width,
    };
    let lang = a.lang.into();
    let audit = audit_recorded(id, &db, a.factors.as_deref(), &settings, &a.out, lang)?;
    crate::audit_out::print_summary(&audit, id, &a.out, start.elapsed().as_secs_f64(), lang);
    Ok(())
}

/// Audits recorded run `id` of `db` and writes every audit file into `out`: what
/// `govcap audit` does, callable by `demo` and `evaluate` right after they record a run.
/// `factors` is a factor file (default: the documented default factors).
pub fn audit_recorded(
    id: i64,
    db: &str,
    factors: Option<&Path>,
    settings: &Settings,
    out: &Path,
    lang: Lang,
) -> anyhow::Result<Audit> {
    let inputs = load_inputs(id, db)?;
    let (factors, factors_text) = match factors {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| UserError(format!("cannot read {}: {e}", p.display())))?;
            let f = Factors::from_toml(&text)
                .map_err(|e| UserError(format!("{}: {e}", p.display())))?;
            (f, text)
        }
        None => (
            Factors::default_for(&inputs.framework),
            audit::DEFAULT_FACTORS_TOML.to_string(),
        ),
    };
    let run = audit::audit(
        &inputs.framework,
        &inputs.units,
        &inputs.observations,
        &inputs.job.params,
        &factors,
        settings,
    )
    .map_err(user_facing)?;
    let changed = run
        .audit
        .units
        .iter()
        .zip(&inputs.stored.units)
        .filter(|(x, y)| x.code != y.code || x.nominal_rank != y.rank)
        .count();
    if changed > 0 || run.audit.units.len() != inputs.stored.units.len() {
        eprintln!(
            "warning: run {id} was recorded with other results ({changed} ranks differ from today's evaluation of its inputs); the audit starts from today's evaluation"
        );
    }
    write_outputs(&run, &factors_text, out, lang)?;
    // Kept with the run when it describes exactly the recorded results, so the dashboard can
    // show rank intervals and the uncertainty chapter.
    if changed == 0 && run.audit.units.len() == inputs.stored.units.len() {
        let mut store = govcap_store::open_existing(db)?;
        let json = json_text(&run.audit)?;
        govcap_store::transact(store.as_mut(), true, |tx| {
            govcap_store::workspace::save_run_audit(
                tx,
                id,
                &crate::clock::now_rfc3339(),
                &factors_text,
                &json,
            )
        })?;
    }
    Ok(run.audit)
}

fn write_outputs(run: &AuditRun, factors_text: &str, out: &Path, lang: Lang) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let a = &run.audit;
    write_atomic(&out.join("audit_units.csv"), &units_csv(a)?)?;
    write_atomic(&out.join("audit_factors.csv"), &factors_csv(a)?)?;
    write_atomic(&out.join("audit_draws.csv"), &draws_csv(run)?)?;
    write_atomic(
        &out.join("audit.xlsx"),
        &crate::audit_out::audit_xlsx(a, lang)?,
    )?;
    write_atomic(&out.join("factors.toml"), factors_text.as_bytes())?;
    // audit.json last: its presence means the set is complete.
    write_atomic(&out.join("audit.json"), json_text(a)?.as_bytes())?;
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// One row per unit: nominal rank and tier, rank statistics, robustness, tier probabilities.
pub(crate) fn unit_rows(a: &Audit) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut header: Vec<String> = [
        "code",
        "name",
        "nominal_rank",
        "nominal_tier",
        "nominal_sublevel",
        "mean_rank",
        "median_rank",
        "q05_rank",
        "q95_rank",
        "interval_width",
        "nominal_in_interval",
        "robust",
        "p_nominal_tier",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(a.tiers.iter().map(|t| format!("p_tier_{t}")));
    header.extend(a.sublevels.iter().map(|t| format!("p_sublevel_{t}")));
    let rows = a
        .units
        .iter()
        .map(|u| {
            let mut r = vec![
                Cell::Text(u.code.clone()),
                Cell::Text(u.name.clone()),
                Cell::opt(u.nominal_rank.map(|x| x as f64)),
                Cell::Text(u.nominal_tier.clone().unwrap_or_default()),
                Cell::Text(u.nominal_sublevel.clone().unwrap_or_default()),
                Cell::opt(u.mean_rank),
                Cell::opt(u.median_rank),
                Cell::opt(u.q05_rank),
                Cell::opt(u.q95_rank),
                Cell::opt(u.interval_width),
                Cell::Text(u.nominal_in_interval.to_string()),
                Cell::Text(u.robust.to_string()),
                Cell::opt(u.nominal_tier_probability),
            ];
            for k in 0..a.tiers.len() {
                r.push(Cell::opt(u.tier_probability.get(k).copied()));
            }
            for k in 0..a.sublevels.len() {
                r.push(Cell::opt(u.sublevel_probability.get(k).copied()));
            }
            r
        })
        .collect();
    (header, rows)
}

/// One row per factor and output.
pub(crate) fn factor_rows(a: &Audit) -> (Vec<String>, Vec<Vec<Cell>>) {
    let header = [
        "factor",
        "output",
        "alternatives",
        "coordinates",
        "si",
        "sti",
        "si_q05",
        "si_q95",
        "sti_q05",
        "sti_q95",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for f in &a.factors {
        for (output, idx) in [
            ("mean absolute rank shift", &f.rank_shift),
            ("share of units changing tier", &f.tier_change),
        ] {
            let v = |g: fn(&audit::SobolIndices) -> f64| Cell::opt(idx.as_ref().map(g));
            rows.push(vec![
                Cell::Text(f.name.clone()),
                Cell::Text(output.into()),
                Cell::Text(f.alternatives.join(" | ")),
                Cell::Num(f.coordinates as f64),
                v(|s| s.si),
                v(|s| s.sti),
                v(|s| s.si_q05),
                v(|s| s.si_q95),
                v(|s| s.sti_q05),
                v(|s| s.sti_q95),
            ]);
        }
    }
    (header, rows)
}

fn csv_bytes(header: &[String], rows: &[Vec<Cell>]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(govcap_io::export::csv_bom().as_bytes().to_vec());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r.iter().map(Cell::text))?;
    }
    w.into_inner().context("CSV buffer")
}

fn units_csv(a: &Audit) -> anyhow::Result<Vec<u8>> {
    let (h, r) = unit_rows(a);
    csv_bytes(&h, &r)
}

fn factors_csv(a: &Audit) -> anyhow::Result<Vec<u8>> {
    let (h, r) = factor_rows(a);
    csv_bytes(&h, &r)
}

/// Every draw's settings (by label) and outputs; weight columns are the multipliers of the
/// perturbed nodes' nominal weights.
fn draws_csv(run: &AuditRun) -> anyhow::Result<Vec<u8>> {
    let a = &run.audit;
    let label = |kind: &audit::FactorKind, i: usize| -> String {
        a.factors
            .iter()
            .find(|f| &f.kind == kind)
            .and_then(|f| f.alternatives.get(i).cloned())
            .or_else(|| {
                a.fixed
                    .iter()
                    .find(|f| &f.kind == kind)
                    .map(|f| f.alternative.clone())
            })
            .unwrap_or_default()
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "draw",
        "block",
        "base_row",
        "normalisation",
        "aggregation",
        "missing",
        "treatment",
        "tiers",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(a.weight_nodes.iter().map(|n| format!("w_{}", n.id)));
    header.push("rank_shift".into());
    header.push("tier_change".into());
    w.write_record(&header)?;
    use audit::FactorKind as K;
    for d in &run.draws {
        let c = &d.choice;
        let mut r = vec![
            d.index.to_string(),
            d.block.label(),
            d.base.to_string(),
            label(&K::Normalisation, c.normalisation),
            label(&K::Aggregation, c.aggregation),
            label(&K::Missing, c.missing),
            label(&K::Treatment, c.treatment),
            label(&K::Tiers, c.tiers),
        ];
        r.extend(c.weight_multipliers.iter().map(|m| m.to_string()));
        r.push(d.rank_shift.to_string());
        r.push(opt(d.tier_change));
        w.write_record(&r)?;
    }
    w.into_inner().context("CSV buffer")
}

pub(crate) enum Cell {
    Text(String),
    Num(f64),
    Empty,
}

impl Cell {
    pub(crate) fn opt(x: Option<f64>) -> Cell {
        match x {
            Some(v) if v.is_finite() => Cell::Num(v),
            _ => Cell::Empty,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v) => v.to_string(),
            Cell::Empty => String::new(),
        }
    }
}
