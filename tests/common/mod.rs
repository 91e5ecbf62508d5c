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

/// A fresh, empty temporary directory unique to this test process and `name`.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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
