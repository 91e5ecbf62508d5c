//! `govcap report`: the blue-book report of a recorded run — HTML pages, and a PDF through
//! headless Chromium with `--pdf`.
//!
//! A run is a run id in the database (its recorded previous run is compared unless
//! `--previous` says otherwise), a directory holding `results.json` and `run.json`, or a
//! `results.json` path. The pages are built by `govcap-report` from the recorded results; this
//! file only finds the inputs, writes the files and reports what it did.
//!
//! When the run has a statistical audit (`govcap audit`, or `--audit` of `evaluate` and `demo`),
//! the report gains its uncertainty chapter: `--audit FILE` names the `audit.json`, else a
//! directory RUN's own `RUN/audit/audit.json`, else the audit recorded with the run, each used
//! when it is of the same results. A directory's `run.json` names its run and database, so
//! the folder finds its previous year and recorded audit as a run id does; whatever is still
//! missing is named on the console with the way to add it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use govcap_core::audit::{Audit, AUDIT_SCHEMA};
use govcap_core::evaluate::Evaluation;
use govcap_report::{Lang, Manifest, Options, ReportError};
use govcap_store::{Store, StoredRun};

use crate::evaluation::sha256_hex;
use crate::run_folder::RunFolder;
use crate::{user_error, DbArgs, LangArg};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run: a run id in --db, a directory with results.json (and run.json), or a
    /// results.json file.
    pub run: String,
    /// Previous year's run to compare with (run id, directory or results.json). Default: the
    /// run's recorded previous run, when RUN is a run id.
    #[arg(long)]
    pub previous: Option<String>,
    /// Language of the report.
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub lang: LangArg,
    /// Also print summary.pdf (the summary page) and report.pdf (every page) with headless
    /// Chromium.
    #[arg(long)]
    pub pdf: bool,
    /// The run's audit.json (from `govcap audit`), shown as the uncertainty chapter. Default:
    /// RUN/audit/audit.json when RUN is a directory (or a results.json beside an audit/).
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// Leave the year-over-year comparison out, even when the run has a previous run.
    #[arg(long, conflicts_with = "previous")]
    pub no_previous: bool,
    /// Leave the uncertainty chapter out, even when the run has an audit.
    #[arg(long, conflicts_with = "audit")]
    pub no_audit: bool,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

/// A run ready to report: its results, how it was made, and its recorded previous run.
pub struct Loaded {
    pub evaluation: Evaluation,
    pub manifest: Manifest,
    pub previous_run: Option<i64>,
    /// The run's statistical audit, when one is shown.
    pub audit: Option<Audit>,
}

fn parse_results(text: &str, what: &str) -> anyhow::Result<Evaluation> {
    serde_json::from_str(text)
        .map_err(|e| crate::UserError(format!("{what} is not a govcap results.json: {e}")).into())
}

/// Loads run `id` from an open store.
pub fn load_stored(store: &mut dyn Store, id: i64, db: &str) -> anyhow::Result<Loaded> {
    let Some(r): Option<StoredRun> = store.get_run(id)? else {
        return user_error(format!(
            "no run {id} in {db} ({})",
            crate::run_folder::where_runs_are(db)
        ));
    };
    let evaluation = parse_results(&r.results_json, &format!("run {id}"))?;
    let mut inputs = vec![(
        format!("framework {} {}", r.framework_id, r.framework_version),
        r.framework_sha256.clone(),
    )];
    inputs.extend(r.inputs.iter().map(|i| (i.name.clone(), i.sha256.clone())));
    Ok(Loaded {
        manifest: Manifest {
            run_id: Some(r.id),
            label: Some(r.label.clone()),
            created_at: Some(r.created_at.clone()),
            software: format!("govcap {}", r.software_version),
            framework_sha256: Some(r.framework_sha256.clone()),
            inputs,
            results_sha256: Some(r.results_sha256.clone()),
            previous: None,
        },
        previous_run: r.previous_run,
        evaluation,
        audit: None,
    })
}

/// Loads a run from a directory (results.json + run.json) or a results.json path.
fn load_files(spec: &str) -> anyhow::Result<Loaded> {
    let p = Path::new(spec);
    let results = if p.is_dir() {
        p.join("results.json")
    } else {
        p.to_path_buf()
    };
    let bytes = std::fs::read(&results)
        .map_err(|e| crate::UserError(format!("cannot read {}: {e}", results.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| crate::UserError(format!("{} is not UTF-8 text", results.display())))?;
    let evaluation = parse_results(&text, &results.display().to_string())?;
    let actual_sha = sha256_hex(text.as_bytes());
    let run_json = results.with_file_name("run.json");
    let mut manifest = Manifest {
        software: format!("govcap {}", env!("CARGO_PKG_VERSION")),
        results_sha256: Some(actual_sha.clone()),
        ..Manifest::default()
    };
    if let Ok(t) = std::fs::read_to_string(&run_json) {
        let v: serde_json::Value = serde_json::from_str(&t)
            .map_err(|e| crate::UserError(format!("{} is not JSON: {e}", run_json.display())))?;
        manifest.run_id = v["run_id"].as_i64();
        if let Some(s) = v["software"].as_str() {
            manifest.software = s.to_string();
        }
        manifest.framework_sha256 = v["framework"]["sha256"].as_str().map(str::to_string);
        manifest.inputs = v["inputs"]
            .as_array()
            .map(|xs| {
                xs.iter()
                    .filter_map(|x| {
                        Some((
                            x["name"].as_str()?.to_string(),
                            x["sha256"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(recorded) = v["results_sha256"].as_str() {
            if recorded != actual_sha {
                eprintln!(
                    "warning: {} has SHA-256 {actual_sha}, but run.json records {recorded}; the results were changed after the run",
                    results.display()
                );
            }
        }
    }
    Ok(Loaded {
        evaluation,
        manifest,
        previous_run: None,
        audit: None,
    })
}

/// Reads an `audit.json` written by `govcap audit`.
pub fn read_audit(path: &Path) -> anyhow::Result<Audit> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::UserError(format!("cannot read {}: {e}", path.display())))?;
    parse_audit(&text, &path.display().to_string())
}

/// An `audit.json` text (a file's, or one stored with a run) of this govcap's schema.
fn parse_audit(text: &str, what: &str) -> anyhow::Result<Audit> {
    let audit: Audit = serde_json::from_str(text)
        .map_err(|e| crate::UserError(format!("{what} is not a govcap audit.json: {e}")))?;
    if audit.schema != AUDIT_SCHEMA {
        return user_error(format!(
            "{what} has schema {}, but this govcap reads {AUDIT_SCHEMA}; run `govcap audit` again",
            audit.schema
        ));
    }
    Ok(audit)
}

/// The audit that belongs next to a run given as a directory or a results.json path.
fn audit_beside(spec: &str) -> Option<PathBuf> {
    let p = Path::new(spec);
    let dir = if p.is_dir() {
        p.to_path_buf()
    } else if p.is_file() {
        p.parent()?.to_path_buf()
    } else {
        return None;
    };
    Some(dir.join("audit").join("audit.json")).filter(|a| a.is_file())
}

/// Attaches the audit at `path` to `run`. An audit named with `--audit` must be of these
/// results; one merely found beside the run is left out, with a warning, when it is not.
fn attach_audit(run: &mut Loaded, path: &Path, explicit: bool) -> anyhow::Result<()> {
    let checked = read_audit(path).and_then(|a| check_audit(run, a, &path.display().to_string()));
    match checked {
        Ok(a) => run.audit = Some(a),
        Err(e) if !explicit => {
            eprintln!("warning: {e:#}; it is not used");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// `audit` when it describes exactly `run`'s results.
fn check_audit(run: &Loaded, audit: Audit, what: &str) -> anyhow::Result<Audit> {
    govcap_report::audit_matches(&run.evaluation, &audit)
        .map(|()| audit)
        .map_err(|why| {
            crate::UserError(format!(
                "{what} does not belong to these results: {why}; audit the run again (`govcap audit RUN --out DIR`)"
            ))
            .into()
        })
}

/// The newest audit stored with run `id` (by `govcap audit`, `evaluate --audit`, `demo`),
/// when it is of these results; otherwise a warning says why it is not used.
fn attach_stored_audit(run: &mut Loaded, store: &mut dyn Store, id: i64) -> anyhow::Result<()> {
    let json = govcap_store::transact(store, false, |tx| {
        govcap_store::workspace::run_audit(tx, id)
    })?;
    let Some(json) = json else { return Ok(()) };
    let what = format!("the stored audit of run {id}");
    match parse_audit(&json, &what).and_then(|a| check_audit(run, a, &what)) {
        Ok(a) => {
            println!("uncertainty chapter: from the audit recorded with run {id}");
            run.audit = Some(a);
        }
        Err(e) => eprintln!("warning: {e:#}; it is not used"),
    }
    Ok(())
}

/// The database holding run `current` when it is recorded there: always for a run id, and for
/// a folder only when the database its run.json names (or `--db`) exists.
fn recorded_store(
    current: &Loaded,
    from_folder: bool,
    db: &str,
) -> anyhow::Result<Option<Box<dyn Store>>> {
    let present = !from_folder || govcap_store::is_postgres_url(db) || Path::new(db).is_file();
    if current.manifest.run_id.is_none() || !present {
        return Ok(None);
    }
    Ok(Some(govcap_store::open_existing(db)?))
}

fn load(spec: &str, db: &str) -> anyhow::Result<Loaded> {
    match spec.parse::<i64>() {
        Ok(id) if !Path::new(spec).exists() => {
            let mut store = govcap_store::open_existing(db)?;
            load_stored(store.as_mut(), id, db)
        }
        _ => load_files(spec),
    }
}

/// Builds and writes the report; prints PDFs when asked. Returns the report directory's
/// index page.
pub fn write(
    current: &Loaded,
    previous: Option<(&Evaluation, String)>,
    lang: Lang,
    pdf: bool,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let start = Instant::now();
    let mut manifest = current.manifest.clone();
    manifest.previous = previous.as_ref().map(|p| p.1.clone());
    let report = govcap_report::render(
        &current.evaluation,
        previous.as_ref().map(|p| p.0),
        &manifest,
        current.audit.as_ref(),
        Options { lang, book: pdf },
    )?;
    govcap_report::write_report(&report, out)?;
    let index = out.join("index.html");
    println!(
        "report: {} ({} files, {:.1} MB, {} ms){}{}",
        index.display(),
        report.files.len(),
        report.size() as f64 / 1e6,
        start.elapsed().as_millis(),
        if current.audit.is_some() {
            ", with the uncertainty chapter (uncertainty.html)"
        } else {
            ""
        },
        if current.evaluation.synthetic {
            " — SYNTHETIC data, labelled on every page"
        } else {
            ""
        }
    );
    if pdf {
        let Some(chromium) = govcap_report::pdf::find_chromium() else {
            return Err(ReportError::NoChromium.into());
        };
        for (page, name, secs) in [
            ("index.html", "summary.pdf", 120),
            ("book.html", "report.pdf", 900),
        ] {
            let t = Instant::now();
            let target = out.join(name);
            govcap_report::pdf::print_pdf(
                &chromium,
                &out.join(page),
                &target,
                Duration::from_secs(secs),
            )?;
            println!(
                "pdf: {} ({:.1} MB, {:.1} s)",
                target.display(),
                std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(index)
}

pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    // A folder's run.json names its recorded run and database: from there the report finds
    // the previous year and the stored audit as it does for a run id.
    let folder = RunFolder::read(&a.run).ok().flatten();
    let db = folder
        .as_ref()
        .map_or_else(|| a.db.db.clone(), |f| f.database_or(&a.db.db));
    let mut current = load(&a.run, &db).with_context(|| format!("run {}", a.run))?;
    match (&a.audit, audit_beside(&a.run)) {
        _ if a.no_audit => {}
        (Some(p), _) => attach_audit(&mut current, p, true)?,
        (None, Some(p)) => attach_audit(&mut current, &p, false)?,
        (None, None) => {}
    }
    let mut store = recorded_store(&current, folder.is_some(), &db)?;
    if let (Some(s), Some(id)) = (store.as_mut(), current.manifest.run_id) {
        // A folder's history applies only when its results are the recorded ones.
        if folder.is_some() {
            if let Some(r) = s.get_run(id)? {
                if Some(&r.results_sha256) == current.manifest.results_sha256.as_ref() {
                    current.previous_run = r.previous_run;
                }
            }
        }
        if current.audit.is_none() && a.audit.is_none() && !a.no_audit {
            attach_stored_audit(&mut current, s.as_mut(), id)?;
        }
    }
    let previous: Option<(Evaluation, String)> = match (&a.previous, current.previous_run) {
        _ if a.no_previous => None,
        (Some(spec), _) => {
            let p = load(spec, &db).with_context(|| format!("previous run {spec}"))?;
            let what = p
                .manifest
                .run_id
                .filter(|_| spec.parse::<i64>().is_ok())
                .map(|id| format!("run {id}"))
                .unwrap_or_else(|| spec.clone());
            Some((p.evaluation, what))
        }
        (None, Some(id)) => {
            let s = match store.as_mut() {
                Some(s) => s,
                None => store.insert(govcap_store::open_existing(&db)?),
            };
            let p = load_stored(s.as_mut(), id, &db)
                .with_context(|| format!("recorded previous run {id}"))?;
            Some((p.evaluation, format!("run {id}")))
        }
        (None, None) => None,
    };
    if previous.is_none() && !a.no_previous {
        println!(
            "left out: the year-over-year comparison (no recorded previous run{}); add it with --previous RUN (a run id, folder or results.json)",
            current
                .manifest
                .run_id
                .map(|id| format!(" for run {id}"))
                .unwrap_or_default()
        );
    }
    if current.audit.is_none() && !a.no_audit {
        println!(
            "left out: the uncertainty chapter (no audit of these results); add it with `govcap audit {} --out DIR` and report again (the recorded audit is found by itself, or give --audit DIR/audit.json)",
            current
                .manifest
                .run_id
                .map(|id| id.to_string())
                .unwrap_or_else(|| "RUN".into())
        );
    }
    if let Some((p, _)) = &previous {
        if p.year >= current.evaluation.year {
            eprintln!(
                "warning: the previous run is of {}, not before {}",
                p.year, current.evaluation.year
            );
        }
    }
    write(
        &current,
        previous.as_ref().map(|(e, s)| (e, s.clone())),
        a.lang.into(),
        a.pdf,
        &a.out,
    )?;
    Ok(())
}
