//! `govcap synth`: larger synthetic data sets (clearly named as such) for benchmarks.

use std::path::PathBuf;

use clap::Args;
use govcap_core::framework::Framework;
use govcap_io::export::{observations_csv, units_csv, write_atomic};

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Number of synthetic units.
    #[arg(long)]
    pub units: usize,
    /// Number of years (from 2020 on).
    #[arg(long, default_value_t = 2)]
    pub years: usize,
    #[arg(long, default_value_t = govcap_synth::DEMO_SEED)]
    pub seed: u64,
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: SynthArgs) -> anyhow::Result<()> {
    if a.units == 0 || a.years == 0 {
        return crate::user_error("--units and --years must be at least 1");
    }
    let fw = Framework::default_framework();
    let units = govcap_synth::units(a.units, &govcap_io::default_units());
    let years: Vec<i32> = (0..a.years as i32).map(|y| 2020 + y).collect();
    // Generated in chunks of units for the progress bar; every cell has its own seed, so the
    // values do not depend on the chunking.
    let bar = indicatif::ProgressBar::new(units.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} units ({eta})")
            .expect("valid template"),
    );
    bar.set_message("generating synthetic observations");
    let mut obs = Vec::new();
    for chunk in units.units().chunks(1000) {
        let part = govcap_core::unit::UnitSet::new(chunk.to_vec()).expect("unique codes");
        obs.extend(govcap_synth::observations(&fw, &part, &years, a.seed));
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    obs.sort_by_key(|o| o.year);
    std::fs::create_dir_all(&a.out)?;
    write_atomic(
        &a.out.join("units-synthetic.csv"),
        units_csv(&units).as_bytes(),
    )?;
    for &y in &years {
        let year_obs: Vec<_> = obs.iter().filter(|o| o.year == y).cloned().collect();
        write_atomic(
            &a.out.join(format!("observations-{y}-synthetic.csv")),
            observations_csv(&year_obs).as_bytes(),
        )?;
    }
    println!(
        "wrote {} SYNTHETIC units and {} observations over {} year(s) to {}",
        units.len(),
        obs.len(),
        years.len(),
        a.out.display()
    );
    Ok(())
}
