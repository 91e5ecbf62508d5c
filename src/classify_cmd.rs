//! `govcap classify`: tiers for any numeric column of a CSV file.

use clap::Args;
use govcap_core::classify::{classify, DifferenceParams, Method};

use crate::{user_error, TierMethodArg};

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    #[arg(long, value_enum)]
    pub method: TierMethodArg,
    /// Number of classes.
    #[arg(long, default_value_t = 4)]
    pub classes: usize,
    /// Cut lines for `--method thresholds`, lowest first.
    #[arg(long, value_delimiter = ',')]
    pub cuts: Vec<f64>,
    /// Moving-median window of the difference-trend rule.
    #[arg(long)]
    pub window: Option<usize>,
    /// Print `{"breaks": [min, b1, …, max], "counts": [...]}` (jenkspy's convention).
    #[arg(long)]
    pub json: bool,
    /// FILE.csv:COLUMN — the column to classify (empty cells are skipped).
    pub input: String,
}

/// Reads one numeric column; every bad cell is reported with its row.
fn read_column(spec: &str) -> anyhow::Result<Vec<f64>> {
    let Some((file, column)) = spec.rsplit_once(':') else {
        return user_error(format!("{spec:?}: give FILE.csv:COLUMN"));
    };
    let bytes =
        std::fs::read(file).map_err(|e| crate::UserError(format!("cannot read {file}: {e}")))?;
    let (text, _) = govcap_io::encoding::decode_text(&bytes)
        .map_err(|e| crate::UserError(format!("cannot decode {file}: {e}")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers()?.clone();
    let Some(col) = headers.iter().position(|h| h.trim() == column) else {
        return user_error(format!(
            "{file}: no column {column:?} (columns: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        ));
    };
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let cell = rec.get(col).unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        match cell.parse::<f64>() {
            Ok(x) if x.is_finite() => values.push(x),
            _ => problems.push(format!(
                "{file} row {} column {column}: {cell:?} is not a number",
                i + 2
            )),
        }
    }
    if !problems.is_empty() {
        return user_error(problems.join("\n"));
    }
    Ok(values)
}

pub fn run(a: ClassifyArgs) -> anyhow::Result<()> {
    let values = read_column(&a.input)?;
    let mut method = a.method.method(&a.cuts)?;
    if let (Method::Difference(_), Some(w)) = (&method, a.window) {
        method = Method::Difference(DifferenceParams {
            window: w,
            ..DifferenceParams::default()
        });
    }
    let k = if a.method == TierMethodArg::Thresholds {
        a.cuts.len() + 1
    } else {
        a.classes
    };
    let c = classify(&values, k, &method)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"breaks": c.breaks, "counts": c.counts})
        );
    } else {
        println!(
            "{} values, {} classes ({:?})",
            values.len(),
            c.counts.len(),
            a.method
        );
        for (i, n) in c.counts.iter().enumerate().rev() {
            println!(
                "  class {} (top = {}): ({}, {}]  {} values",
                i + 1,
                c.counts.len(),
                c.breaks[i],
                c.breaks[i + 1],
                n
            );
        }
    }
    Ok(())
}
