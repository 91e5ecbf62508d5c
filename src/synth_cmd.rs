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
    let obs = govcap_synth::observations(&fw, &units, &years, a.seed);
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
