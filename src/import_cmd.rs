//! `govcap import`: validate an observations file and store it, all rows or none.

use std::path::PathBuf;

use clap::Args;
use govcap_core::observation::Value;
use govcap_io::{read_observations, ImportOptions};
use govcap_store::{NewBatch, ObservationRow};

use crate::evaluation::{builtin_framework, builtin_units, load_framework, sha256_hex, Input};
use crate::DbArgs;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Observations file (CSV or XLSX, long or wide).
    pub file: PathBuf,
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
    let obs = read_observations(&a.file, &fw, &units, &opts)?;
    let mut years: Vec<i32> = obs.iter().map(|o| o.year).collect();
    years.sort();
    years.dedup();
    println!(
        "{}: valid — {} observations, {} units, years {:?}",
        a.file.display(),
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
    let bytes = std::fs::read(&a.file)?;
    let batch = NewBatch {
        file_name: a
            .file
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
    println!("stored as batch {id} in {}", a.db.db);
    Ok(())
}
