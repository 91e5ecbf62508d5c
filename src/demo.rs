//! `govcap demo`: the main job end to end on built-in data — the 337 real units with
//! synthetic (clearly labelled) observations for 2020 and 2021, two recorded runs, the
//! year-over-year analyses and every output file.

use std::path::PathBuf;

use clap::Args;
use govcap_core::evaluate::Params;
use govcap_core::framework::Framework;

use crate::evaluation::{builtin_framework, builtin_units, execute, Input, Job, Recording};
use crate::{LangArg, TierArgs};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(long, default_value = "govcap-demo")]
    pub out: PathBuf,
    /// Database for the recorded runs (default: OUT/govcap.db).
    #[arg(long)]
    pub db: Option<String>,
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub lang: LangArg,
    /// Seed of the synthetic data model.
    #[arg(long, default_value_t = govcap_synth::DEMO_SEED)]
    pub seed: u64,
    #[command(flatten)]
    pub tiers: TierArgs,
    /// Skip the statistical audit of the last year's run (rank intervals and sensitivity, in
    /// OUT/2021/audit/ and the report's uncertainty chapter; on by default, it takes well under
    /// a second).
    #[arg(long)]
    pub no_audit: bool,
    /// Model runs of the audit. The default is `govcap audit`'s: with fewer, the sensitivity
    /// indices' bootstrap intervals are wider than 0.5 on the demo and the audit says so.
    #[arg(long, default_value_t = 10_000, conflicts_with = "no_audit")]
    pub audit_draws: usize,
    /// Factor file of the audit (TOML, see `govcap audit`); default: the documented default
    /// factors.
    #[arg(long, conflicts_with = "no_audit")]
    pub audit_factors: Option<PathBuf>,
}

pub const YEARS: [i32; 2] = [2020, 2021];

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let input_dir = a.out.join("input");
    std::fs::create_dir_all(&input_dir)?;
    let fw = Framework::default_framework();
    let units = govcap_io::default_units();
    let obs = govcap_synth::observations(&fw, &units, &YEARS, a.seed);
    let db =
        a.db.clone()
            .unwrap_or_else(|| a.out.join("govcap.db").display().to_string());
    let mut store = govcap_store::open(&db)?;
    let mut previous = None;
    for year in YEARS {
        let year_obs: Vec<_> = obs.iter().filter(|o| o.year == year).cloned().collect();
        let path = input_dir.join(format!("observations-{year}-synthetic.csv"));
        govcap_io::export::write_atomic(
            &path,
            govcap_io::export::observations_csv(&year_obs).as_bytes(),
        )?;
        let mut params = Params::new(year);
        params.tiers = a.tiers.params()?;
        let job = Job {
            framework: builtin_framework(),
            units: builtin_units(),
            observations: vec![Input::read("observations", &path)?],
            params,
            label: format!("demo {year} (synthetic)"),
            lang: a.lang.into(),
            other_years: crate::evaluation::OtherYears::Refuse,
        };
        let out = a.out.join(year.to_string());
        let outcome = execute(
            &job,
            previous.as_ref().map(|(e, id)| (e, Some(*id))),
            &out,
            Some(Recording {
                store: &mut store,
                database: &db,
                reuse_identical: true,
            }),
        )?;
        if year == YEARS[1] {
            crate::summary::print(&outcome, previous.as_ref().map(|p| &p.0), a.lang);
        }
        let run_id = outcome.run_id.expect("recorded");
        if outcome.reused {
            println!("{year}: the same results are already recorded as run {run_id} in {db}; not added again");
        } else {
            publish_demo_run(store.as_mut(), run_id)?;
        }
        previous = Some((outcome.evaluation, run_id));
    }
    // The blue-book report of the last year, compared with its recorded previous run.
    let (_, last_run) = previous.as_ref().expect("the demo records every year");
    // The statistical audit of the last year's run, shown in the report's uncertainty chapter.
    let audit = if a.no_audit {
        None
    } else {
        let dir = a.out.join(YEARS[1].to_string()).join("audit");
        let start = std::time::Instant::now();
        let settings = govcap_core::audit::Settings {
            draws: a.audit_draws,
            ..Default::default()
        };
        let audit = crate::audit_cmd::audit_recorded(
            *last_run,
            &db,
            a.audit_factors.as_deref(),
            &settings,
            &dir,
            a.lang.into(),
        )?;
        println!();
        crate::audit_out::print_summary(
            &audit,
            *last_run,
            &dir,
            start.elapsed().as_secs_f64(),
            a.lang.into(),
        );
        Some(audit)
    };
    let mut report = crate::report_cmd::load_stored(store.as_mut(), *last_run, &db)?;
    report.audit = audit;
    let report_previous = match report.previous_run {
        Some(id) => Some((
            crate::report_cmd::load_stored(store.as_mut(), id, &db)?.evaluation,
            format!("run {id}"),
        )),
        None => None,
    };
    crate::report_cmd::write(
        &report,
        report_previous.as_ref().map(|(e, s)| (e, s.clone())),
        a.lang.into(),
        false,
        &a.out.join("report"),
    )?;
    println!();
    println!("demo outputs (SYNTHETIC data): {}", a.out.display());
    for year in YEARS {
        println!("  {}/{year}/  results.json analyses.json rankings.csv scores_level*.csv results.xlsx run.json", a.out.display());
    }
    println!(
        "  {}/input/   the synthetic observation files",
        a.out.display()
    );
    println!("  runs recorded in {db}: `govcap runs list --db {db}`");
    println!("  dashboard: `govcap serve --db {db}`, then open http://127.0.0.1:8080/");
    Ok(())
}

/// The demo's runs are published in its own database, so `govcap serve` shows them at once
/// (labelled synthetic like everything made from them); the audit trail says who did it.
fn publish_demo_run(store: &mut dyn govcap_store::Store, run_id: i64) -> anyhow::Result<()> {
    use govcap_store::workspace::{self, NewAuditEntry};
    govcap_store::transact(store, true, |tx| {
        let now = crate::clock::now_rfc3339();
        workspace::set_published(tx, run_id, true, &now, "govcap demo")?;
        workspace::append_audit(
            tx,
            &NewAuditEntry {
                at: now.clone(),
                actor: "govcap demo".into(),
                role: "-".into(),
                action: "run.publish".into(),
                object: format!("run/{run_id}"),
                before: Some("{\"published\":false}".into()),
                after: Some("{\"published\":true}".into()),
                request_id: "cli".into(),
            },
        )?;
        Ok(())
    })?;
    Ok(())
}
