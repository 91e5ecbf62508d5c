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

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{govcap, text, tmp};

const LEAD_PASSWORD: &str = "lead-password-e2e-123";
const ADMIN_PASSWORD: &str = "admin-password-e2e-123";

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

fn add_user(dir: &Path, name: &str, role: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["users", "add", name, "--role", role, "--password-stdin"])
        .args(["--db", "e2e.db"])
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

/// The demo's two runs (published by `govcap demo`), a lead and an admin, and the server on
/// port 0; its log goes to a file, so no pipe can fill up and stall it.
fn demo_server(dir: &Path) -> Server {
    let t = Instant::now();
    let o = govcap(
        &["demo", "--out", "demo", "--db", "e2e.db", "--no-audit"],
        dir,
    );
    assert!(o.status.success(), "govcap demo: {}", text(&o));
    add_user(dir, "lead", "lead", LEAD_PASSWORD);
    add_user(dir, "admin", "admin", ADMIN_PASSWORD);
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["serve", "--db", "e2e.db", "--listen", "127.0.0.1:0"])
        .arg("--plain-logs")
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
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
        "serve_e2e: demo, accounts and server ready at {} in {:.1} s",
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
fn dashboard_in_a_real_browser() {
    const TEST: &str = "serve_e2e::dashboard_in_a_real_browser";
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
