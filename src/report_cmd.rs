//! `govcap report` (being written).

use clap::Args;

#[derive(Args, Debug)]
pub struct ReportArgs {}

pub fn run(_a: ReportArgs) -> anyhow::Result<()> {
    crate::user_error("govcap report is not available yet")
}
