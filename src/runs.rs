//! `govcap runs list|show|diff|rerun`: the recorded runs.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use govcap_core::analyse::compare::diff;
use govcap_core::evaluate::{Evaluation, Params};
use govcap_store::{Store, StoredRun};

use crate::evaluation::{execute, sha256_hex, Input, Job, BUILTIN_UNITS};
use crate::{user_error, DbArgs};

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// List recorded runs.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show one run's manifest: framework, inputs with hashes, parameters, results hash.
    Show {
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Compare two runs: rank changes and tier moves.
    Diff {
        a: i64,
        b: i64,
        /// How many of the largest movers to list.
        #[arg(long, default_value_t = 15)]
        top: usize,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Re-run a recorded run from its stored inputs and check the results are byte-identical.
    Rerun {
        id: i64,
        /// Where to write the re-run's outputs (default: a temporary folder).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn get(store: &mut dyn Store, id: i64, db: &str) -> anyhow::Result<StoredRun> {
    match store.get_run(id)? {
        Some(r) => Ok(r),
        None => user_error(format!(
            "no run {id} in {db} (see `govcap runs list --db {db}`)"
        )),
    }
}

fn evaluation_of(run: &StoredRun) -> anyhow::Result<Evaluation> {
    serde_json::from_str(&run.results_json).with_context(|| format!("results of run {}", run.id))
}

pub fn run(c: RunsCommand) -> anyhow::Result<()> {
    match c {
        RunsCommand::List { db } => {
            let mut store = govcap_store::open_existing(&db.db)?;
            let runs = store.list_runs()?;
            if runs.is_empty() {
                println!("no runs recorded in {}", db.db);
            }
            println!(
                "{:>4}  {:<20} {:>4}  {:<22} {:<24} results",
                "id", "created", "year", "label", "framework"
            );
            for r in runs {
                println!(
                    "{:>4}  {:<20} {:>4}  {:<22} {:<24} {}{}",
                    r.id,
                    r.created_at,
                    r.year,
                    r.label,
                    format!("{} {}", r.framework_id, r.framework_version),
                    &r.results_sha256[..12],
                    if r.synthetic { "  SYNTHETIC" } else { "" }
                );
            }
            Ok(())
        }
        RunsCommand::Show { id, db } => {
            let mut store = govcap_store::open_existing(&db.db)?;
            let r = get(store.as_mut(), id, &db.db)?;
            let e = evaluation_of(&r)?;
            println!("run {}  {}", r.id, r.label);
            println!("  created      {}", r.created_at);
            println!("  software     govcap {}", r.software_version);
            println!("  year         {}", r.year);
            println!(
                "  data         {}",
                if r.synthetic { "SYNTHETIC" } else { "observed" }
            );
            println!(
                "  framework    {} {}  sha256 {}",
                r.framework_id, r.framework_version, r.framework_sha256
            );
            for i in &r.inputs {
                println!(
                    "  input        {:<13} {:<40} sha256 {}  {} bytes",
                    i.role,
                    i.name,
                    i.sha256,
                    i.bytes.len()
                );
            }
            println!("  parameters   {}", r.params_json);
            if let Some(p) = r.previous_run {
                println!("  previous     run {p}");
            }
            println!("  results      sha256 {}", r.results_sha256);
            println!(
                "  units        {} evaluated, {} not evaluated",
                e.units.len(),
                e.not_evaluated.len()
            );
            if let Some(t) = &e.tiers {
                let counts: Vec<String> = t
                    .tiers
                    .iter()
                    .map(|x| format!("{} {}", x.code, x.count))
                    .collect();
                println!("  tiers        {}", counts.join(" · "));
            }
            Ok(())
        }
        RunsCommand::Diff { a, b, top, db } => {
            let mut store = govcap_store::open_existing(&db.db)?;
            let ea = evaluation_of(&get(store.as_mut(), a, &db.db)?)?;
            let eb = evaluation_of(&get(store.as_mut(), b, &db.db)?)?;
            let d = diff(&ea, &eb);
            println!(
                "run {a} ({}) → run {b} ({}): {} units compared; {} up, {} down, {} unchanged; largest move {}",
                d.year_a,
                d.year_b,
                d.units.len(),
                d.moved_up,
                d.moved_down,
                d.unchanged,
                d.max_rank_change
            );
            if !d.only_in_a.is_empty() || !d.only_in_b.is_empty() {
                println!(
                    "only in {a}: {} units; only in {b}: {} units",
                    d.only_in_a.len(),
                    d.only_in_b.len()
                );
            }
            println!("tier moves:");
            for m in &d.tier_moves {
                let arrow = if m.from == m.to { "stayed" } else { "moved" };
                println!("  {} → {}  {:>4}  ({arrow})", m.from, m.to, m.count);
            }
            let mut movers: Vec<_> = d.units.iter().filter(|u| u.rank_change.is_some()).collect();
            movers.sort_by_key(|u| std::cmp::Reverse(u.rank_change.unwrap_or(0).abs()));
            println!("largest rank changes:");
            for u in movers.iter().take(top) {
                println!(
                    "  {} {:<12} rank {:>3} → {:>3} ({:+})  total {:.2} → {:.2}  tier {} → {}",
                    u.code,
                    u.name,
                    u.rank_a.unwrap_or(0),
                    u.rank_b.unwrap_or(0),
                    u.rank_change.unwrap_or(0),
                    u.total_a.unwrap_or(f64::NAN),
                    u.total_b.unwrap_or(f64::NAN),
                    u.tier_a.as_deref().unwrap_or("-"),
                    u.tier_b.as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
        RunsCommand::Rerun { id, out, db } => {
            let mut store = govcap_store::open_existing(&db.db)?;
            let r = get(store.as_mut(), id, &db.db)?;
            let tmp =
                std::env::temp_dir().join(format!("govcap-rerun-{}-{id}", std::process::id()));
            // Without --out the outputs are only a means to compare: they are removed on
            // success and kept (and named) on a mismatch, where they are the evidence.
            let keep = out.is_some();
            let out = out.unwrap_or_else(|| tmp.join("out"));
            let outcome = (|| {
                let job = job_from_record(&r, &tmp)?;
                let previous = match r.previous_run {
                    Some(p) => Some((evaluation_of(&get(store.as_mut(), p, &db.db)?)?, Some(p))),
                    None => None,
                };
                execute(&job, previous.as_ref().map(|(e, i)| (e, *i)), &out, None)
            })();
            let _ = std::fs::remove_dir_all(tmp.join("inputs"));
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            };
            if outcome.results_json == r.results_json {
                if keep {
                    // The outputs are in --out; the scratch folder held only the inputs.
                    let _ = std::fs::remove_dir_all(&tmp);
                    println!(
                        "run {id} reproduced: results.json byte-identical (sha256 {}), written to {}",
                        outcome.results_sha256,
                        out.display()
                    );
                } else {
                    let _ = std::fs::remove_dir_all(&tmp);
                    println!(
                        "run {id} reproduced: results.json byte-identical (sha256 {}); pass --out DIR to keep the outputs",
                        outcome.results_sha256
                    );
                }
                Ok(())
            } else {
                anyhow::bail!(
                    "run {id} did NOT reproduce: stored sha256 {}, re-run sha256 {} (outputs in {})",
                    r.results_sha256,
                    sha256_hex(outcome.results_json.as_bytes()),
                    out.display()
                )
            }
        }
    }
}

/// Rebuilds a job from a stored run: the framework text, the parameters and every input file
/// (written back under its original name so that observation origins are the same).
pub fn job_from_record(r: &StoredRun, dir: &std::path::Path) -> anyhow::Result<Job> {
    let params: Params = serde_json::from_str(&r.params_json).context("stored parameters")?;
    let framework = Input {
        role: "framework",
        name: "framework.toml".into(),
        bytes: r.framework_toml.as_bytes().to_vec(),
        path: None,
    };
    let mut units = None;
    let mut observations = Vec::new();
    for (k, i) in r.inputs.iter().enumerate() {
        if i.role == "units" && i.name == BUILTIN_UNITS {
            units = Some(Input {
                role: "units",
                name: i.name.clone(),
                bytes: i.bytes.clone(),
                path: None,
            });
            continue;
        }
        let sub = dir.join("inputs").join(k.to_string());
        std::fs::create_dir_all(&sub)?;
        let path = sub.join(&i.name);
        std::fs::write(&path, &i.bytes)?;
        let input = Input::read(
            if i.role == "units" {
                "units"
            } else {
                "observations"
            },
            &path,
        )?;
        if i.role == "units" {
            units = Some(input);
        } else {
            observations.push(input);
        }
    }
    Ok(Job {
        framework,
        units: units.context("stored run has no units input")?,
        observations,
        params,
        label: r.label.clone(),
        lang: govcap_io::export::Lang::Zh,
        // A recorded run is re-run as it was made: rows of other years were set aside then.
        other_years: crate::evaluation::OtherYears::Skip,
    })
}
