//! `govcap import`: validate an observations file and store it, all rows or none.

use std::path::{Path, PathBuf};

use clap::Args;
use govcap_core::observation::{Observation, Origin, Source, Value};
use govcap_io::export::observations_csv;
use govcap_io::{read_observations, ImportOptions};
use govcap_store::{NewBatch, ObservationRow};

use crate::evaluation::{builtin_framework, builtin_units, load_framework, sha256_hex, Input};
use crate::DbArgs;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Observations file (CSV or XLSX, long or wide).
    #[arg(required_unless_present = "list")]
    pub file: Option<PathBuf>,
    /// List the stored batches instead (use one with `govcap evaluate --batch ID`).
    #[arg(long, conflicts_with_all = ["dry_run", "sheet", "year"])]
    pub list: bool,
    /// Framework the indicators belong to (default: built-in).
    #[arg(long)]
    pub framework: Option<PathBuf>,
    /// Unit list (default: built-in 337 units).
    #[arg(long)]
    pub units: Option<PathBuf>,
    /// Year for rows without one.
    #[arg(long)]
    pub year: Option<i32>,
    /// Sheet of an XLSX workbook (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Only validate; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    if a.list {
        return list(&a.db.db);
    }
    let file = a.file.clone().expect("clap requires FILE without --list");
    let fw_input = match &a.framework {
        Some(p) => Input::read("framework", p)?,
        None => builtin_framework(),
    };
    let fw = load_framework(&fw_input)?;
    let units = match &a.units {
        Some(p) => govcap_io::read_units(p)?,
        None => {
            let _ = builtin_units();
            govcap_io::default_units()
        }
    };
    let opts = ImportOptions {
        year: a.year,
        sheet: a.sheet.clone(),
        ..ImportOptions::default()
    };
    let obs = read_observations(&file, &fw, &units, &opts)?;
    if obs.is_empty() {
        return crate::user_error(format!(
            "{} holds no observations (a header and no rows?); nothing stored",
            file.display()
        ));
    }
    let mut years: Vec<i32> = obs.iter().map(|o| o.year).collect();
    years.sort();
    years.dedup();
    println!(
        "{}: valid — {} observations, {} units, years {:?}",
        file.display(),
        obs.len(),
        {
            let mut u: Vec<&str> = obs.iter().map(|o| o.unit.as_str()).collect();
            u.sort();
            u.dedup();
            u.len()
        },
        years
    );
    if a.dry_run {
        println!("dry run: nothing written");
        return Ok(());
    }
    let bytes = std::fs::read(&file)?;
    let batch = NewBatch {
        file_name: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: sha256_hex(&bytes),
        imported_at: crate::clock::now_rfc3339(),
        rows: obs
            .iter()
            .map(|o| ObservationRow {
                unit: o.unit.clone(),
                indicator: o.indicator.clone(),
                year: o.year,
                value: match &o.value {
                    Value::Number(n) => n.to_string(),
                    Value::Text(t) => t.to_string(),
                },
                source: o.source.as_str().into(),
                evaluator: o.evaluator.as_deref().map(str::to_string),
                evidence_url: o.evidence_url.as_deref().map(str::to_string),
                observed_at: o.observed_at.clone(),
                note: o.note.clone(),
                file_row: o.origin.row as i64,
            })
            .collect(),
    };
    let mut store = govcap_store::open(&a.db.db)?;
    let id = store.save_batch(&batch)?;
    println!(
        "stored as batch {id} in {}; evaluate it with `govcap evaluate --batch {id} --year Y --out DIR --db {}`",
        a.db.db, a.db.db
    );
    Ok(())
}

/// `govcap import --list`: the stored batches, newest last.
fn list(db: &str) -> anyhow::Result<()> {
    let mut store = govcap_store::open_existing(db)?;
    let batches = store.list_batches()?;
    if batches.is_empty() {
        println!("no batches stored in {db} (store one with `govcap import FILE`)");
        return Ok(());
    }
    println!(
        "{:>4}  {:<24} {:>7}  {:<14} file",
        "id", "imported", "rows", "sha256"
    );
    for b in batches {
        println!(
            "{:>4}  {:<24} {:>7}  {:<14} {}",
            b.id,
            b.imported_at,
            b.rows,
            &b.sha256[..12],
            b.file_name
        );
    }
    Ok(())
}

/// Writes stored batches back as long-format observation files in `dir`, one per id, named
/// `batch-ID-FILE.csv` so a run's inputs say where they came from.
pub fn batch_files(ids: &[i64], db: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut store = govcap_store::open_existing(db)?;
    let known = store.list_batches()?;
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    for &id in ids {
        let Some(b) = known.iter().find(|b| b.id == id) else {
            return crate::user_error(format!(
                "no batch {id} in {db} (see `govcap import --list --db {db}`)"
            ));
        };
        let rows = store.batch_rows(id)?;
        let obs: Vec<Observation> = rows.iter().map(row_observation).collect();
        let stem = Path::new(&b.file_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!("batch-{id}-{stem}.csv"));
        govcap_io::export::write_atomic(&path, observations_csv(&obs).as_bytes())?;
        files.push(path);
    }
    Ok(files)
}

/// A stored row as an observation, for writing it out again.
fn row_observation(r: &ObservationRow) -> Observation {
    Observation {
        unit: r.unit.clone(),
        indicator: r.indicator.clone(),
        year: r.year,
        value: Value::from_cell(&r.value),
        source: Source::parse(&r.source).unwrap_or(Source::Manual),
        evaluator: r.evaluator.as_deref().map(Into::into),
        evidence_url: r.evidence_url.as_deref().map(Into::into),
        observed_at: r.observed_at.clone(),
        note: r.note.clone(),
        origin: Origin {
            file: "batch".into(),
            row: r.file_row.max(0) as usize,
            column: None,
        },
    }
}
