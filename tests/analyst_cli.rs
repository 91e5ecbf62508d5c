//! What a new analyst trips over at the console (issue 14): a closed pipe, read-only commands
//! on a missing database, a demo folder used from elsewhere, the demo run twice, `classify`'s
//! wording, too few audit draws, and temporary folders left behind.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{govcap, text, tmp};

fn govcap_in_tmp(args: &[&str], dir: &Path, tmpdir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(args)
        .current_dir(dir)
        .env_remove("GOVCAP_DB")
        .env("TMPDIR", tmpdir)
        .output()
        .expect("run govcap")
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let dir = tmp("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["framework", "show"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Hang up at once, like a `head` that has had enough before the first line.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "no panic exit: {status:?} {err}");
    assert!(!err.contains("panicked"), "no panic message: {err}");
    assert!(
        !err.contains("Broken pipe"),
        "no broken-pipe message: {err}"
    );
}

#[test]
fn read_only_commands_do_not_create_a_database() {
    let dir = tmp("readonly");
    for args in [
        &["runs", "list"][..],
        &["runs", "show", "1"],
        &["audit", "1", "--out", "a"],
        &["report", "1", "--out", "r"],
        &["alerts"],
    ] {
        let o = govcap(args, &dir);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("there is no database at govcap.db"),
            "{args:?} says why: {}",
            text(&o)
        );
        assert!(
            !dir.join("govcap.db").exists(),
            "{args:?} created govcap.db"
        );
    }
}

#[test]
fn classify_says_what_it_did_in_plain_words() {
    let dir = tmp("classify");
    std::fs::write(
        dir.join("s.csv"),
        "name,score\n甲,50\n乙,55\n丙,60\n丁,70\n戊,71\n己,80\n庚,90\n辛,91\n",
    )
    .unwrap();
    let o = govcap(
        &["classify", "--method", "natural-breaks", "s.csv:score"],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("natural-breaks (Fisher-Jenks"), "{out}");
    assert!(
        !out.contains("NaturalBreaks") && !out.contains("top ="),
        "{out}"
    );
    // The lowest class is closed below, the others open below.
    assert!(out.contains("class 1: [50.00,"), "{out}");
    assert!(out.contains("class 4: ("), "{out}");
    let o = govcap(
        &[
            "classify",
            "--method",
            "thresholds",
            "--cuts",
            "60,80",
            "s.csv:score",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("class 2: [60.00, 80.00)"), "{out}");
    assert!(out.contains("class 3: [80.00, 91.00]"), "{out}");
    let o = govcap(&["classify", "--method", "thresholds", "s.csv:score"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--method thresholds needs --cuts"),
        "{}",
        text(&o)
    );
    let o = govcap(&["classify", "--method", "quantile", "s.csv:name"], &dir);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o);
    assert_eq!(err.lines().count(), 1, "said once: {err}");
    assert!(
        err.contains("holds text, not numbers") && err.contains("row 2 is \"甲\""),
        "{err}"
    );
}

#[test]
fn schedule_help_shows_db_as_required() {
    let dir = tmp("schedule-help");
    let o = govcap(&["monitor", "schedule", "--help"], &dir);
    let help = text(&o);
    assert!(help.contains("--out <OUT> --db <DB>"), "{help}");
    let o = govcap(&["monitor", "schedule", "--out", "x"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--db <DB>"), "{}", text(&o));
}

/// The demo run twice keeps two runs; its folder works from elsewhere for `audit` and
/// `report`; too few audit draws are explained; `runs rerun` leaves no temporary folder.
#[test]
fn the_demo_folder_is_a_handle_on_its_runs() {
    let dir = tmp("demo-folder");
    let scratch = dir.join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    for round in 0..2 {
        let o = govcap_in_tmp(
            &["demo", "--out", "d", "--audit-draws", "160"],
            &dir,
            &scratch,
        );
        assert!(o.status.success(), "{}", text(&o));
        if round == 1 {
            assert!(
                text(&o).contains("already recorded as run 2"),
                "{}",
                text(&o)
            );
        }
    }
    let list = govcap(&["runs", "list", "--db", "d/govcap.db"], &dir);
    let runs = text(&list)
        .lines()
        .filter(|l| l.contains("demo 20"))
        .count();
    assert_eq!(runs, 2, "{}", text(&list));

    let other = dir.join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    let o = govcap_in_tmp(
        &["audit", "../d/2021", "--out", "a", "--draws", "100"],
        &other,
        &scratch,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("要求 100 次，实际运行 96 次"), "{out}");
    assert!(out.contains("敏感性指数不稳定"), "{out}");
    assert!(!other.join("govcap.db").exists());

    // The folder finds its previous year and its recorded audit by itself.
    let o = govcap_in_tmp(&["report", "../d/2021", "--out", "r"], &other, &scratch);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("left out"), "{}", text(&o));
    assert!(other.join("r/uncertainty.html").is_file());
    let o = govcap_in_tmp(&["report", "../d/2020", "--out", "r0"], &other, &scratch);
    assert!(
        text(&o).contains("left out: the year-over-year comparison"),
        "{}",
        text(&o)
    );

    // A stored batch is listed and evaluated like its file.
    let obs = "d/input/observations-2021-synthetic.csv";
    let o = govcap(&["import", obs, "--db", "b.db"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let o = govcap(&["import", "--list", "--db", "b.db"], &dir);
    assert!(
        text(&o).contains("observations-2021-synthetic.csv") && text(&o).contains("10443"),
        "{}",
        text(&o)
    );
    let o = govcap_in_tmp(
        &[
            "evaluate", "--batch", "1", "--year", "2021", "--out", "eb", "--db", "b.db",
        ],
        &dir,
        &scratch,
    );
    assert!(o.status.success(), "{}", text(&o));
    let totals = |p: &str| -> Vec<serde_json::Value> {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(p)).unwrap()).unwrap();
        r["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["total"].clone())
            .collect()
    };
    assert_eq!(totals("eb/results.json"), totals("d/2021/results.json"));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eb/run.json")).unwrap()).unwrap();
    assert_eq!(
        run["inputs"][2]["name"], "batch-1-observations-2021-synthetic.csv",
        "the run names the batch it read"
    );
    let o = govcap(
        &[
            "evaluate", "--batch", "9", "--year", "2021", "--out", "x", "--db", "b.db",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no batch 9 in b.db"), "{}", text(&o));

    // CSV files carry a BOM for Excel unless --no-bom.
    let bom = std::fs::read(dir.join("d/2021/rankings.csv")).unwrap();
    assert!(bom.starts_with("\u{feff}".as_bytes()));
    let o = govcap_in_tmp(
        &[
            "evaluate",
            "--observations",
            "d/input/observations-2021-synthetic.csv",
            "--year",
            "2021",
            "--no-record",
            "--no-bom",
            "--out",
            "plain",
        ],
        &dir,
        &scratch,
    );
    assert!(o.status.success(), "{}", text(&o));
    let plain = std::fs::read(dir.join("plain/rankings.csv")).unwrap();
    assert!(plain.starts_with(b"unit_code,"));

    let o = govcap_in_tmp(
        &["runs", "rerun", "2", "--db", "d/govcap.db"],
        &dir,
        &scratch,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("pass --out DIR to keep"), "{}", text(&o));
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "temporary folders left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
