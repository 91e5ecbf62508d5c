//! Helpers shared by the end-to-end tests of the `govcap` binary.
#![allow(dead_code)] // each test file uses its own subset

#[cfg(unix)]
pub mod e2e;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `govcap` binary in `dir` (never with a `GOVCAP_DB` from the environment).
pub fn govcap(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(args)
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
        .env_remove("GOVCAP_CHROMIUM")
        .output()
        .expect("run govcap")
}

/// A fresh, empty temporary directory unique to this test process and `name`, removed when
/// the test process exits (tests share some of them through statics, so a guard dropped at
/// the end of one test would be too early). `GOVCAP_KEEP_TEST_DIRS=1` keeps them to look at.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    remove_at_exit(&d);
    d
}

static AT_EXIT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Removes `dir` when the process exits: the test harness ends with `exit`, which runs the
/// C `atexit` handlers.
pub fn remove_at_exit(dir: &Path) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    extern "C" fn clean() {
        if std::env::var_os("GOVCAP_KEEP_TEST_DIRS").is_some() {
            return;
        }
        if let Ok(dirs) = AT_EXIT.lock() {
            for d in dirs.iter() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    #[cfg(unix)]
    HOOK.call_once(|| {
        // SAFETY: registers a plain function with no captured state.
        unsafe {
            libc::atexit(clean);
        }
    });
    AT_EXIT.lock().unwrap().push(dir.to_path_buf());
}

/// Standard output and standard error together, for messages in assertions.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
