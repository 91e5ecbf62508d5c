//! The evaluation-campaign workflow of `govcap serve` in a real browser: a fresh database with
//! a lead, two evaluators, a reviewer and the representative of unit 110000, the server on a
//! free loopback port, then `e2e/campaign.mjs` (Node, Playwright over the system Chromium,
//! axe-core): the lead creates the campaign and generates the tasks on the pages, ev1 fills
//! units by keyboard, two sessions of ev1 conflict on a task (409 and an alert naming it), ev1
//! round-trips the XLSX task sheet (valid and invalid uploads), rev confirms and rejects, the
//! lead opens appeals and the unit sees its own provisional scores and appeals on its page with
//! a counter-evidence file, the lead rejects on the desk, the lead freezes, computes the run
//! and opens its draft report; the campaign pages have no serious or critical WCAG 2 A/AA
//! violation and log no error or CSP violation.
//!
//! Skipped with a message when a tool is missing (Node, `npm ci --prefix e2e`, Chromium,
//! Python 3 for filling the downloaded sheet), unless `GOVCAP_REQUIRE_BROWSER=1` (CI), where a
//! missing tool fails it.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::e2e::{
    add_user, browser_ready, e2e_dir, on_path, run_bounded, skip, start_serve, Server,
};
use common::{text, tmp};

const LEAD_PASSWORD: &str = "lead-password-campaign-e2e";
const EV_PASSWORD: &str = "evaluator-password-campaign-e2e";
const REV_PASSWORD: &str = "reviewer-password-campaign-e2e";
const UNIT_PASSWORD: &str = "unit-password-campaign-e2e";

/// A fresh database with the team's accounts (campaigns need no other data: the built-in
/// framework and 337 units), and the server on port 0; its log goes to a file, so no pipe can
/// fill up and stall it.
fn campaign_server(dir: &Path) -> Server {
    let t = Instant::now();
    add_user(dir, "campaign.db", "lead", "lead", None, LEAD_PASSWORD);
    add_user(dir, "campaign.db", "ev1", "evaluator", None, EV_PASSWORD);
    add_user(dir, "campaign.db", "ev2", "evaluator", None, EV_PASSWORD);
    add_user(dir, "campaign.db", "rev", "reviewer", None, REV_PASSWORD);
    add_user(
        dir,
        "campaign.db",
        "bj",
        "unit",
        Some("110000"),
        UNIT_PASSWORD,
    );
    let server = start_serve(dir, "campaign.db");
    eprintln!(
        "campaign_e2e: accounts and server ready at {} in {:.1} s",
        server.base,
        t.elapsed().as_secs_f64()
    );
    server
}

#[test]
fn campaign_workflow_in_a_real_browser() {
    const TEST: &str = "campaign_e2e::campaign_workflow_in_a_real_browser";
    const VAR: &str = "GOVCAP_REQUIRE_BROWSER";
    let e2e = e2e_dir();
    let Some(browser) = browser_ready(TEST, VAR) else {
        return;
    };
    // The downloaded task sheet is filled with Python's zipfile (no XLSX writer in e2e/).
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if !on_path(&python, "--version") {
        skip(TEST, VAR, "python3 is not installed (it fills the XLSX)");
        return;
    }

    let dir = tmp("campaign-e2e-browser");
    let server = campaign_server(&dir);
    let out = dir.join("out");
    let mut cmd = Command::new("node");
    cmd.arg(e2e.join("campaign.mjs"))
        .current_dir(&e2e)
        .env("BASE_URL", &server.base)
        .env("LEAD_PASSWORD", LEAD_PASSWORD)
        .env("EV_PASSWORD", EV_PASSWORD)
        .env("REV_PASSWORD", REV_PASSWORD)
        .env("UNIT_PASSWORD", UNIT_PASSWORD)
        .env("E2E_OUT", &out)
        .env("CHROMIUM", &browser)
        .env("PYTHON", &python);
    let (o, took) = run_bounded(cmd, Duration::from_secs(180));
    println!("{}", text(&o));
    eprintln!(
        "campaign_e2e: campaign.mjs took {:.1} s; screenshots, sheets and summary.json in {}",
        took.as_secs_f64(),
        out.display()
    );
    assert!(
        o.status.success(),
        "e2e/campaign.mjs failed ({}); output above, screenshots and summary.json in {}; server log tail:\n{}",
        o.status,
        out.display(),
        server.log_tail()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
