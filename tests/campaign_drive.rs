//! A campaign driven through the HTTP API by `bench/campaign/drive.py` (the scale benchmark's
//! script), on a few units: its recorded run must equal `govcap evaluate` on the campaign's
//! exported observations, and `govcap runs rerun` must reproduce it byte for byte.

use std::process::Command;

#[test]
fn campaign_run_equals_the_cli_on_the_same_values() {
    let python = Command::new("python3")
        .args(["-c", "import tomllib"])
        .status();
    if !python.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED campaign_run_equals_the_cli_on_the_same_values: needs python3 ≥ 3.11");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/campaign/drive.py");
    let o = Command::new("python3")
        .args([
            script,
            "--bin",
            env!("CARGO_BIN_EXE_govcap"),
            "--units",
            "6",
        ])
        .env_remove("GOVCAP_DB")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cli_equal"], true, "{v}");
    assert_eq!(v["rerun_ok"], true, "{v}");
    assert_eq!(v["tasks"], 337 * 16 + 539);
    assert!(v["entered"].as_u64().unwrap() >= 6 * 16);
}
