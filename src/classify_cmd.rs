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
    let mut bad = 0usize;
    let mut first_bad: Option<(usize, String)> = None;
    let mut rows = 0usize;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| crate::UserError(format!("{file} row {}: {e}", i + 2)))?;
        let cell = rec.get(col).unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        rows += 1;
        match cell.parse::<f64>() {
            Ok(x) if x.is_finite() => values.push(x),
            _ => {
                bad += 1;
                first_bad.get_or_insert((i + 2, cell.to_string()));
                if problems.len() < MAX_LISTED {
                    problems.push(format!(
                        "{file} row {} column {column}: {cell:?} is not a number",
                        i + 2
                    ));
                }
            }
        }
    }
    if let (Some((row, cell)), true) = (&first_bad, values.is_empty()) {
        return user_error(format!(
            "{file}: column {column} holds text, not numbers (none of its {rows} filled cells is a number; row {row} is {cell:?}); pick a numeric column"
        ));
    }
    if bad > 0 {
        if bad > problems.len() {
            problems.push(format!(
                "… and {} more cells that are not numbers",
                bad - problems.len()
            ));
        }
        return user_error(problems.join("\n"));
    }
    Ok(values)
}

/// Bad cells listed one by one before the rest are counted.
const MAX_LISTED: usize = 10;

/// What the method is called in plain words.
fn method_name(m: TierMethodArg) -> &'static str {
    match m {
        TierMethodArg::NaturalBreaks => "natural-breaks (Fisher-Jenks, as jenkspy)",
        TierMethodArg::Difference => "difference (the difference-trend rule, 差分趋势)",
        TierMethodArg::Thresholds => "thresholds (fixed cut lines)",
        TierMethodArg::Quantile => "quantile (equal counts)",
    }
}

pub fn run(a: ClassifyArgs) -> anyhow::Result<()> {
    let values = read_column(&a.input)?;
    let mut method = a.method.method(&a.cuts, "--method")?;
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
        let k = c.counts.len();
        println!(
            "{} values, {k} classes by {}; class {k} is the highest",
            values.len(),
            method_name(a.method)
        );
        for (i, n) in c.counts.iter().enumerate().rev() {
            let interval = method
                .closure(i, k)
                .interval(c.breaks[i], c.breaks[i + 1], 2);
            println!("  class {}: {interval:<20} {n} values", i + 1);
        }
        println!(
            "  {}",
            match method {
                Method::Thresholds { .. } =>
                    "a value equal to a cut line is in the class above it ([ lower bound included, ) upper excluded)",
                _ =>
                    "a value equal to a break is in the class below it (( lower bound excluded, ] upper included; the lowest class includes its minimum)",
            }
        );
    }
    Ok(())
}
