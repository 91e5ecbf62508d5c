//! `govcap evaluate`, and the recorded-run machinery `demo` and `runs rerun` share:
//! inputs (with their hashes) → core evaluation → output files → run record.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use govcap_core::analyse::figures::{analyse, Analyses};
use govcap_core::evaluate::{evaluate, Evaluation, Params};
use govcap_core::framework::{Framework, DEFAULT_FRAMEWORK_TOML};
use govcap_core::observation::Observation;
use govcap_core::unit::UnitSet;
use govcap_io::export::{self, write_atomic, Lang, WorkbookContext};
use govcap_io::{read_observations, ImportOptions};
use govcap_store::{NewRun, RunInput};
use sha2::{Digest, Sha256};

use crate::{user_error, DbArgs, LangArg, TierArgs};

pub use govcap_io::{BUILTIN_FRAMEWORK, BUILTIN_UNITS};

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Framework TOML (default: the built-in 3/9/31 framework).
    #[arg(long)]
    pub framework: Option<PathBuf>,
    /// Unit list CSV/XLSX (default: the built-in 337 units).
    #[arg(long)]
    pub units: Option<PathBuf>,
    /// Observation files (CSV/XLSX, long or wide); repeat for several (e.g. auto + manual).
    #[arg(long = "observations", short = 'o', num_args = 1.., required_unless_present = "batch")]
    pub observations: Vec<PathBuf>,
    /// Observation batches stored by `govcap import` (see `govcap import --list`), by id;
    /// repeat for several. Each becomes an input file of the run (`batch-ID-FILE.csv`).
    #[arg(long)]
    pub batch: Vec<i64>,
    /// Evaluation year.
    #[arg(long)]
    pub year: i32,
    /// Rows of other years: refused with their rows (default), or set aside and counted.
    #[arg(long, value_enum, default_value_t = OtherYears::Refuse)]
    pub other_years: OtherYears,
    /// Previous year's run: a run id in the database, or a results.json file.
    #[arg(long)]
    pub previous: Option<String>,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Do not record the run in the database.
    #[arg(long)]
    pub no_record: bool,
    /// Label for the recorded run (default: the year).
    #[arg(long)]
    pub label: Option<String>,
    /// Language of spreadsheet headers and the console summary.
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub lang: LangArg,
    /// Score-rate threshold for "share of units above" figures.
    #[arg(long, default_value_t = 0.6)]
    pub rate_threshold: f64,
    #[command(flatten)]
    pub tiers: TierArgs,
    /// Also audit the recorded run (rank uncertainty and sensitivity, as `govcap audit`) and
    /// write the audit into OUT/audit/, where `govcap report OUT` finds it.
    #[arg(long, conflicts_with = "no_record")]
    pub audit: bool,
    /// Model runs of the audit.
    #[arg(long, default_value_t = 2000, requires = "audit")]
    pub audit_draws: usize,
    /// Factor file of the audit (TOML, see `govcap audit`); default: the documented default
    /// factors.
    #[arg(long, requires = "audit")]
    pub audit_factors: Option<PathBuf>,
}

/// One input file as recorded: role, display name, bytes, and the path it was read from.
pub struct Input {
    pub role: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
    pub path: Option<PathBuf>,
}

impl Input {
    pub fn read(role: &'static str, path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| crate::UserError(format!("cannot read {}: {e}", path.display())))?;
        Ok(Input {
            role,
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            bytes,
            path: Some(path.to_path_buf()),
        })
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything one evaluation needs.
pub struct Job {
    pub framework: Input,
    pub units: Input,
    pub observations: Vec<Input>,
    pub params: Params,
    pub label: String,
    pub lang: Lang,
    pub other_years: OtherYears,
}

/// What one evaluation produced.
pub struct Outcome {
    pub evaluation: Evaluation,
    pub analyses: Analyses,
    pub results_json: String,
    pub results_sha256: String,
    pub run_id: Option<i64>,
    /// The run was already recorded with the same results (see [`Recording::reuse_identical`]).
    pub reused: bool,
}

pub fn load_framework(input: &Input) -> anyhow::Result<Framework> {
    let text = std::str::from_utf8(&input.bytes)
        .map_err(|_| crate::UserError(format!("{} is not UTF-8 text", input.name)))?;
    Framework::from_toml(text).with_context(|| format!("framework {}", input.name))
}

pub fn builtin_framework() -> Input {
    Input {
        role: "framework",
        name: BUILTIN_FRAMEWORK.into(),
        bytes: DEFAULT_FRAMEWORK_TOML.as_bytes().to_vec(),
        path: None,
    }
}

pub fn builtin_units() -> Input {
    Input {
        role: "units",
        name: BUILTIN_UNITS.into(),
        bytes: govcap_io::units::DEFAULT_UNITS_CSV.as_bytes().to_vec(),
        path: None,
    }
}

fn load_units(input: &Input) -> anyhow::Result<UnitSet> {
    match &input.path {
        None if input.name == BUILTIN_UNITS => Ok(govcap_io::default_units()),
        Some(p) => Ok(govcap_io::read_units(p)?),
        None => unreachable!("non-built-in inputs always have a path"),
    }
}

/// Reads inputs, evaluates, analyses. Pure apart from reading the given files.
pub fn compute(
    job: &Job,
    previous: Option<&Evaluation>,
) -> anyhow::Result<(Framework, Evaluation, Analyses)> {
    let fw = load_framework(&job.framework)?;
    let units = load_units(&job.units)?;
    let opts = ImportOptions {
        year: Some(job.params.year),
        ..ImportOptions::default()
    };
    let mut obs: Vec<Observation> = Vec::new();
    for input in &job.observations {
        let path = input.path.as_ref().expect("observation inputs are files");
        let read = read_observations(path, &fw, &units, &opts)?;
        obs.extend(of_the_year(read, &input.name, job)?);
    }
    let evaluation = evaluate(&fw, &units, &obs, &job.params)?;
    let analyses = analyse(&evaluation, previous);
    Ok((fw, evaluation, analyses))
}

/// What to do with rows of other years than the evaluated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OtherYears {
    /// Refuse the file, naming the rows: a mistyped year would otherwise drop a value and
    /// let the missing-data rule fill it, moving the unit's rank without a word.
    #[default]
    Refuse,
    /// Set them aside and say how many of which year (files that hold several years).
    Skip,
}

/// The observations of the evaluated year; the others refused or set aside (and said).
fn of_the_year(read: Vec<Observation>, file: &str, job: &Job) -> anyhow::Result<Vec<Observation>> {
    let year = job.params.year;
    if read.is_empty() {
        return user_error(format!(
            "{file} holds no observations (a header and no rows?); fill it or leave it out"
        ));
    }
    let (keep, other): (Vec<_>, Vec<_>) = read.into_iter().partition(|o| o.year == year);
    if other.is_empty() {
        return Ok(keep);
    }
    let rows = |n: usize| {
        if n == 1 {
            "1 row".to_string()
        } else {
            format!("{n} rows")
        }
    };
    let mut years: std::collections::BTreeMap<i32, usize> = Default::default();
    for o in &other {
        *years.entry(o.year).or_default() += 1;
    }
    let counts: Vec<String> = years.iter().map(|(y, n)| format!("{n} of {y}")).collect();
    match job.other_years {
        OtherYears::Skip => {
            eprintln!(
                "{file}: {} of other years set aside ({}); evaluating {year}",
                rows(other.len()),
                counts.join(", ")
            );
            if keep.is_empty() {
                return user_error(format!("{file} holds no rows of {year}"));
            }
            Ok(keep)
        }
        OtherYears::Refuse => {
            let mut listed: Vec<String> = other
                .iter()
                .take(10)
                .map(|o| format!("row {}: year {}", o.origin.row, o.year))
                .collect();
            if other.len() > listed.len() {
                listed.push(format!("… and {} more", other.len() - listed.len()));
            }
            user_error(format!(
                "{file}: {} not of {year} ({}): {}; correct the years, or pass --other-years skip if the file holds several years on purpose",
                rows(other.len()),
                counts.join(", "),
                listed.join("; ")
            ))
        }
    }
}

/// Where and how [`execute`] records its run.
pub struct Recording<'a> {
    pub store: &'a mut Box<dyn govcap_store::Store>,
    /// The `--db` as given; a SQLite file is named in `run.json` (absolute) so that commands
    /// given the output folder later find the run's database from any folder.
    pub database: &'a str,
    /// Reuse a run already recorded with the same label, year, previous run and results
    /// instead of adding a copy (the demo run twice).
    pub reuse_identical: bool,
}

/// The SQLite file a run was recorded in, as an absolute path for `run.json`. PostgreSQL URLs
/// are left out: they may hold a password.
fn database_for_manifest(db: &str) -> Option<String> {
    if govcap_store::is_postgres_url(db) {
        return None;
    }
    std::path::absolute(db)
        .ok()
        .map(|p| p.display().to_string())
}

/// Evaluates, writes every output file into `out`, and records the run when a store is given.
pub fn execute(
    job: &Job,
    previous: Option<(&Evaluation, Option<i64>)>,
    out: &Path,
    recording: Option<Recording<'_>>,
) -> anyhow::Result<Outcome> {
    let (_fw, evaluation, analyses) = compute(job, previous.map(|p| p.0))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let results_json = export::json_text(&evaluation)?;
    let results_sha256 = sha256_hex(results_json.as_bytes());
    let framework_sha256 = job.framework.sha256();
    let inputs: Vec<(String, String)> = std::iter::once(&job.framework)
        .chain(std::iter::once(&job.units))
        .chain(job.observations.iter())
        .map(|i| (i.name.clone(), i.sha256()))
        .collect();

    let prev_eval = previous.map(|p| p.0);
    write_atomic(
        &out.join("analyses.json"),
        export::json_text(&analyses)?.as_bytes(),
    )?;
    write_atomic(
        &out.join("rankings.csv"),
        export::rankings_csv(&evaluation, prev_eval).as_bytes(),
    )?;
    let depth = evaluation.nodes.iter().map(|n| n.depth).max().unwrap_or(0);
    for d in 1..=depth {
        write_atomic(
            &out.join(format!("scores_level{d}.csv")),
            export::level_scores_csv(&evaluation, d).as_bytes(),
        )?;
    }
    let version = env!("CARGO_PKG_VERSION");
    let xlsx = export::results_xlsx(
        &evaluation,
        &WorkbookContext {
            analyses: &analyses,
            previous: prev_eval,
            framework_sha256: &framework_sha256,
            inputs: &inputs,
            software_version: version,
            lang: job.lang,
        },
    )?;
    write_atomic(&out.join("results.xlsx"), &xlsx)?;
    // results.json last: its presence means the set is complete.
    write_atomic(&out.join("results.json"), results_json.as_bytes())?;

    let mut run_id = None;
    let mut reused = false;
    let database = recording
        .as_ref()
        .and_then(|r| database_for_manifest(r.database));
    if let Some(Recording {
        store,
        reuse_identical,
        ..
    }) = recording
    {
        let previous_run = previous.and_then(|p| p.1);
        if reuse_identical {
            run_id = store
                .list_runs()?
                .into_iter()
                .find(|r| {
                    r.label == job.label
                        && r.year == job.params.year
                        && r.previous_run == previous_run
                        && r.results_sha256 == results_sha256
                })
                .map(|r| r.id);
            reused = run_id.is_some();
        }
        if !reused {
            let params_json = serde_json::to_string(&job.params)?;
            let run = NewRun {
                label: job.label.clone(),
                year: job.params.year,
                created_at: crate::clock::now_rfc3339(),
                software_version: version.into(),
                framework_id: evaluation.framework.id.clone(),
                framework_version: evaluation.framework.version.clone(),
                framework_sha256: framework_sha256.clone(),
                framework_toml: String::from_utf8_lossy(&job.framework.bytes).into_owned(),
                params_json,
                synthetic: evaluation.synthetic,
                previous_run,
                results_sha256: results_sha256.clone(),
                results_json: results_json.clone(),
                inputs: std::iter::once(&job.units)
                    .chain(job.observations.iter())
                    .map(|i| RunInput {
                        role: i.role.into(),
                        name: i.name.clone(),
                        sha256: i.sha256(),
                        bytes: i.bytes.clone(),
                    })
                    .collect(),
            };
            run_id = Some(store.save_run(&run)?);
        }
    }
    let manifest = serde_json::json!({
        "run_id": run_id,
        "database": database,
        "software": format!("govcap {version}"),
        "year": evaluation.year,
        "synthetic": evaluation.synthetic,
        "framework": {"id": evaluation.framework.id, "version": evaluation.framework.version, "sha256": framework_sha256},
        "inputs": inputs.iter().map(|(n, h)| serde_json::json!({"name": n, "sha256": h})).collect::<Vec<_>>(),
        "params": job.params,
        "results_sha256": results_sha256,
    });
    write_atomic(
        &out.join("run.json"),
        export::json_text(&manifest)?.as_bytes(),
    )?;
    Ok(Outcome {
        evaluation,
        analyses,
        results_json,
        results_sha256,
        run_id,
        reused,
    })
}

/// Loads a previous evaluation from a run id or a results.json path.
pub fn load_previous(spec: &str, db: &str) -> anyhow::Result<(Evaluation, Option<i64>)> {
    if let Ok(id) = spec.parse::<i64>() {
        let mut store = govcap_store::open(db)?;
        let Some(run) = store.get_run(id)? else {
            return user_error(format!("no run {id} in {db}"));
        };
        let e: Evaluation = serde_json::from_str(&run.results_json).context("stored results")?;
        return Ok((e, Some(id)));
    }
    let text = std::fs::read_to_string(spec)
        .map_err(|e| crate::UserError(format!("cannot read {spec}: {e}")))?;
    let e: Evaluation = serde_json::from_str(&text)
        .map_err(|e| crate::UserError(format!("{spec} is not a govcap results.json: {e}")))?;
    Ok((e, None))
}

pub fn run(a: EvaluateArgs) -> anyhow::Result<()> {
    if a.observations.is_empty() && a.batch.is_empty() {
        return user_error("give at least one --observations file or --batch ID");
    }
    // Stored batches are written back as long-format files in a scratch folder, read like
    // any other file and recorded with the run; the folder goes when the run is done.
    let scratch = std::env::temp_dir().join(format!("govcap-batches-{}", std::process::id()));
    let batch_files = crate::import_cmd::batch_files(&a.batch, &a.db.db, &scratch);
    let result = batch_files.and_then(|files| evaluate_files(&a, files));
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn evaluate_files(a: &EvaluateArgs, batch_files: Vec<PathBuf>) -> anyhow::Result<()> {
    let mut params = Params::new(a.year);
    params.tiers = a.tiers.params()?;
    params.rate_threshold = a.rate_threshold;
    let job = Job {
        framework: match &a.framework {
            Some(p) => Input::read("framework", p)?,
            None => builtin_framework(),
        },
        units: match &a.units {
            Some(p) => Input::read("units", p)?,
            None => builtin_units(),
        },
        observations: a
            .observations
            .iter()
            .chain(&batch_files)
            .map(|p| Input::read("observations", p))
            .collect::<anyhow::Result<_>>()?,
        params,
        label: a.label.clone().unwrap_or_else(|| a.year.to_string()),
        lang: a.lang.into(),
        other_years: a.other_years,
    };
    let previous = a
        .previous
        .as_deref()
        .map(|s| load_previous(s, &a.db.db))
        .transpose()?;
    let mut store = if a.no_record {
        None
    } else {
        Some(govcap_store::open(&a.db.db)?)
    };
    let outcome = execute(
        &job,
        previous.as_ref().map(|(e, id)| (e, *id)),
        &a.out,
        store.as_mut().map(|store| Recording {
            store,
            database: &a.db.db,
            reuse_identical: false,
        }),
    )?;
    crate::summary::print(&outcome, previous.as_ref().map(|p| &p.0), a.lang);
    println!();
    println!("outputs: {}", a.out.display());
    if let Some(id) = outcome.run_id {
        println!("recorded as run {id} in {}", a.db.db);
    }
    if a.audit {
        let Some(id) = outcome.run_id else {
            return user_error("--audit needs the run recorded: leave out --no-record");
        };
        let dir = a.out.join("audit");
        let start = std::time::Instant::now();
        let settings = govcap_core::audit::Settings {
            draws: a.audit_draws,
            ..Default::default()
        };
        let audit = crate::audit_cmd::audit_recorded(
            id,
            &a.db.db,
            a.audit_factors.as_deref(),
            &settings,
            &dir,
            a.lang.into(),
        )
        .with_context(|| {
            format!(
                "run {id} is recorded and its outputs are written, but its audit failed; fix the cause, then run `govcap audit {id} --db {} --out {}`",
                a.db.db,
                dir.display()
            )
        })?;
        println!();
        crate::audit_out::print_summary(
            &audit,
            id,
            &dir,
            start.elapsed().as_secs_f64(),
            a.lang.into(),
        );
    }
    Ok(())
}
