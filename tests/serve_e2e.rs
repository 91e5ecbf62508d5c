//! `govcap serve` end to end, from outside: a demo database with two runs and two accounts, the
//! server on a free loopback port, then
//!
//! * `e2e/dashboard.mjs` (Node, Playwright over the system Chromium, axe-core): the lead
//!   publishes the newest run on the staff pages, a visitor finds it, the map, ranking, English
//!   and large-text views work, the public pages have no serious or critical WCAG 2 A/AA
//!   violation, nothing overflows a phone screen, and no page logs an error or a CSP violation;
//! * `e2e/contract.sh` (schemathesis): generated requests, anonymous and with an admin's API
//!   token, get no 5xx and only responses that match the OpenAPI document.
//!
//! Each test is skipped with a message when its tools are missing (Node, `npm ci --prefix e2e`,
//! Chromium; schemathesis), unless `GOVCAP_REQUIRE_BROWSER=1` or `GOVCAP_REQUIRE_SCHEMATHESIS=1`
//! (CI), where a missing tool fails it.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::e2e::{
    add_user, browser_ready, e2e_dir, on_path, run_bounded, skip, start_serve, Server,
};
use common::{govcap, text, tmp};

const LEAD_PASSWORD: &str = "lead-password-e2e-123";
const ADMIN_PASSWORD: &str = "admin-password-e2e-123";

/// The demo's two runs (published by `govcap demo`), a lead and an admin, and the server on
/// port 0; its log goes to a file, so no pipe can fill up and stall it.
fn demo_server(dir: &Path) -> Server {
    let t = Instant::now();
    let o = govcap(
        &["demo", "--out", "demo", "--db", "e2e.db", "--no-audit"],
        dir,
    );
    assert!(o.status.success(), "govcap demo: {}", text(&o));
    add_user(dir, "e2e.db", "lead", "lead", None, LEAD_PASSWORD);
    add_user(dir, "e2e.db", "admin", "admin", None, ADMIN_PASSWORD);
    let server = start_serve(dir, "e2e.db");
    eprintln!(
        "serve_e2e: demo, accounts and server ready at {} in {:.1} s",
        server.base,
        t.elapsed().as_secs_f64()
    );
    server
}

#[test]
fn dashboard_in_a_real_browser() {
    const TEST: &str = "serve_e2e::dashboard_in_a_real_browser";
    const VAR: &str = "GOVCAP_REQUIRE_BROWSER";
    let e2e = e2e_dir();
    let Some(browser) = browser_ready(TEST, VAR) else {
        return;
    };

    let dir = tmp("serve-e2e-browser");
    let server = demo_server(&dir);
    let shots = dir.join("shots");
    let mut cmd = Command::new("node");
    cmd.arg(e2e.join("dashboard.mjs"))
        .current_dir(&e2e)
        .env("BASE_URL", &server.base)
        .env("E2E_USER", "lead")
        .env("E2E_PASSWORD", LEAD_PASSWORD)
        .env("E2E_OUT", &shots)
        .env("CHROMIUM", &browser);
    let (o, took) = run_bounded(cmd, Duration::from_secs(300));
    println!("{}", text(&o));
    eprintln!(
        "serve_e2e: dashboard.mjs took {:.1} s; screenshots in {}",
        took.as_secs_f64(),
        shots.display()
    );
    assert!(
        o.status.success(),
        "e2e/dashboard.mjs failed ({}); output above, screenshots and summary.json in {}; server log tail:\n{}",
        o.status,
        shots.display(),
        server.log_tail()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn api_matches_its_openapi_document() {
    const TEST: &str = "serve_e2e::api_matches_its_openapi_document";
    const VAR: &str = "GOVCAP_REQUIRE_SCHEMATHESIS";
    let st = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    if !on_path(&st, "--version") {
        skip(
            TEST,
            VAR,
            "schemathesis is not installed (pip install schemathesis)",
        );
        return;
    }
    if !on_path("curl", "--version") || !on_path("python3", "--version") {
        skip(TEST, VAR, "curl or python3 is not installed");
        return;
    }

    let dir = tmp("serve-e2e-contract");
    let server = demo_server(&dir);
    let mut cmd = Command::new("bash");
    cmd.arg(e2e_dir().join("contract.sh"))
        .current_dir(&dir)
        .env("BASE_URL", &server.base)
        .env("CONTRACT_USER", "admin")
        .env("CONTRACT_PASSWORD", ADMIN_PASSWORD)
        .env("CONTRACT_OUT", dir.join("contract"))
        .env("SCHEMATHESIS", &st);
    let (o, took) = run_bounded(cmd, Duration::from_secs(240));
    println!("{}", text(&o));
    eprintln!("serve_e2e: contract.sh took {:.1} s", took.as_secs_f64());
    assert!(
        o.status.success(),
        "e2e/contract.sh failed ({}); output above, JUnit reports in {}; server log tail:\n{}",
        o.status,
        dir.join("contract").display(),
        server.log_tail()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
