//! `govcap audit` (being written).

use clap::Args;

#[derive(Args, Debug)]
pub struct AuditArgs {}

pub fn run(_a: AuditArgs) -> anyhow::Result<()> {
    crate::user_error("govcap audit is not available yet")
}
