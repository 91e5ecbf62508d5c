//! The evaluation-campaign workflow of `govcap serve` in a real browser: a fresh database with
//! a lead, two evaluators, a reviewer and the representative of unit 110000, the server on a
//! free loopback port, then `e2e/campaign.mjs` (Node, Playwright over the system Chromium,
//! axe-core): the lead creates the campaign and generates the tasks on the pages, ev1 fills
//! units by keyboard, two sessions of ev1 conflict on a task (409 and an alert naming it), ev1
//! round-trips the XLSX task sheet (valid and invalid uploads), rev confirms and rejects, the
//! unit appeals through the JSON API and the lead decides, the lead freezes, computes the run
//! and opens its draft report; the campaign pages have no serious or critical WCAG 2 A/AA
//! violation and log no error or CSP violation.
//!
//! Skipped with a message when a tool is missing (Node, `npm ci --prefix e2e`, Chromium,
//! Python 3 for filling the downloaded sheet), unless `GOVCAP_REQUIRE_BROWSER=1` (CI), where a
//! missing tool fails it.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{text, tmp};

const LEAD_PASSWORD: &str = "lead-password-campaign-e2e";
const EV_PASSWORD: &str = "evaluator-password-campaign-e2e";
const REV_PASSWORD: &str = "reviewer-password-campaign-e2e";
const UNIT_PASSWORD: &str = "unit-password-campaign-e2e";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

fn required(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("1")
}

/// Says why the test is skipped, or fails it when `var` is 1.
fn skip(test: &str, var: &str, what: &str) {
    if required(var) {
        panic!("{var}=1 but {what}");
    }
    // Straight to stderr, past the test harness's capture: a skip must show in `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {what}; set {var}=1 to make this a failure"
    );
}

fn on_path(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A running `govcap serve`; killed when dropped, also when the test panics.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

fn add_user(dir: &Path, name: &str, role: &str, units: Option<&str>, password: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govcap"));
    cmd.args(["users", "add", name, "--role", role, "--password-stdin"])
        .args(["--db", "campaign.db"]);
    if let Some(u) = units {
        cmd.args(["--units", u]);
    }
    let mut child = cmd
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "users add {name}: {}", text(&o));
}

/// A fresh database with the team's accounts (campaigns need no other data: the built-in
/// framework and 337 units), and the server on port 0; its log goes to a file, so no pipe can
/// fill up and stall it.
fn campaign_server(dir: &Path) -> Server {
    let t = Instant::now();
    add_user(dir, "lead", "lead", None, LEAD_PASSWORD);
    add_user(dir, "ev1", "evaluator", None, EV_PASSWORD);
    add_user(dir, "ev2", "evaluator", None, EV_PASSWORD);
    add_user(dir, "rev", "reviewer", None, REV_PASSWORD);
    add_user(dir, "bj", "unit", Some("110000"), UNIT_PASSWORD);
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["serve", "--db", "campaign.db", "--listen", "127.0.0.1:0"])
        .arg("--plain-logs")
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
        .env_remove("GOVCAP_CHROMIUM")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start govcap serve");
    let mut server = Server {
        child,
        base: String::new(),
        log,
    };
    let start = Instant::now();
    loop {
        let s = std::fs::read_to_string(&server.log).unwrap_or_default();
        if let Some(rest) = s.split("listening on http://").nth(1) {
            let addr = rest.split('/').next().unwrap();
            server.base = format!("http://{addr}/");
            break;
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("govcap serve exited ({status}) before listening:\n{s}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "govcap serve did not listen within 60 s:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "campaign_e2e: accounts and server ready at {} in {:.1} s",
        server.base,
        t.elapsed().as_secs_f64()
    );
    server
}

/// Runs a command to the end or for `limit` at most (then kills it), collecting its output.
fn run_bounded(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let t = Instant::now();
    // Its own process group, so a timeout also ends what it started (the browser).
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the e2e script");
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            s
        })
    };
    let out = drain(child.stdout.take().map(|x| Box::new(x) as _));
    let err = drain(child.stderr.take().map(|x| Box::new(x) as _));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let o = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (o, t.elapsed())
}

#[test]
fn campaign_workflow_in_a_real_browser() {
    const TEST: &str = "campaign_e2e::campaign_workflow_in_a_real_browser";
    const VAR: &str = "GOVCAP_REQUIRE_BROWSER";
    let e2e = e2e_dir();
    if !on_path("node", "--version") {
        skip(TEST, VAR, "Node.js is not installed");
        return;
    }
    if !e2e
        .join("node_modules/playwright-core/package.json")
        .is_file()
        || !e2e.join("node_modules/axe-core/axe.min.js").is_file()
    {
        skip(
            TEST,
            VAR,
            "e2e/node_modules is missing (run `npm ci --prefix e2e`)",
        );
        return;
    }
    let Some(browser) = chromium() else {
        skip(
            TEST,
            VAR,
            "Chromium is not installed (apt-get install chromium)",
        );
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
