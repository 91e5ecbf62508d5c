//! Helpers of the real-browser tests (`serve_e2e`, `campaign_e2e`): the server as a process
//! killed on drop, skipping visibly unless required, scripts run with a time limit.
#![allow(dead_code)] // each test file uses its own subset

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::text;

pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

pub fn required(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("1")
}

/// Says why the test is skipped, or fails it when `var` is 1.
pub fn skip(test: &str, var: &str, what: &str) {
    if required(var) {
        panic!("{var}=1 but {what}");
    }
    // Straight to stderr, past the test harness's capture: a skip must show in `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {what}; set {var}=1 to make this a failure"
    );
}

pub fn on_path(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A running `govcap serve`; killed when dropped, also when the test panics.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

pub fn add_user(dir: &Path, db: &str, name: &str, role: &str, units: Option<&str>, password: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govcap"));
    cmd.args(["users", "add", name, "--role", role, "--password-stdin"])
        .args(["--db", db]);
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

/// Runs a command to the end or for `limit` at most (then kills it), collecting its output.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (Output, Duration) {
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

/// `govcap serve` on `db` in `dir`, on port 0, once it listens; its log goes to a file, so no
/// pipe can fill up and stall it.
pub fn start_serve(dir: &Path, db: &str) -> Server {
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
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
    server
}

/// Node.js, the e2e packages and Chromium, or a visible skip (a failure when `var` is 1).
pub fn browser_ready(test: &str, var: &str) -> Option<PathBuf> {
    let e2e = e2e_dir();
    if !on_path("node", "--version") {
        skip(test, var, "Node.js is not installed");
        return None;
    }
    let packages = e2e
        .join("node_modules/playwright-core/package.json")
        .is_file()
        && e2e.join("node_modules/axe-core/axe.min.js").is_file();
    if !packages {
        skip(
            test,
            var,
            "e2e/node_modules is missing (run `npm ci --prefix e2e`)",
        );
        return None;
    }
    let browser = chromium();
    if browser.is_none() {
        skip(
            test,
            var,
            "Chromium is not installed (apt-get install chromium)",
        );
    }
    browser
}
