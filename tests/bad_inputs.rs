//! Inputs that used to be accepted silently or reported badly (issue 13, part 1): rows of
//! another year, a decimal comma, a huge cell, a file with a header only. Each is refused
//! with the file, row and reason, exit code 2, and nothing written; and the console says how
//! many cells were missing and what the framework's rule did with them.

mod common;

use common::{govcap, text, tmp};

/// The demo's 2021 observations as text, with `edit` applied to data row `row` (1-based).
fn edited(dir: &std::path::Path, row: usize, edit: impl Fn(&mut Vec<String>)) -> String {
    let src = std::fs::read_to_string(dir.join("d/input/observations-2021-synthetic.csv")).unwrap();
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    edit(&mut cells);
    lines[row] = cells.join(",");
    lines.join("\n")
}

#[test]
fn bad_inputs_are_refused_with_their_place() {
    let dir = tmp("bad-inputs");
    let o = govcap(&["demo", "--out", "d", "--no-audit"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    // The demo's own missing cells are said, with the rule that filled them.
    assert!(text(&o).contains("缺失值："), "{}", text(&o));
    assert!(text(&o).contains("按零分计"), "{}", text(&o));

    let evaluate = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "evaluate",
            "--observations",
            file,
            "--year",
            "2021",
            "--no-record",
            "--out",
        ];
        args.push("out");
        args.extend_from_slice(extra);
        govcap(&args, &dir)
    };

    // One row's year changed: refused, naming the row (data row 5 is spreadsheet row 6).
    std::fs::write(
        dir.join("year.csv"),
        edited(&dir, 5, |c| c[2] = "2020".into()),
    )
    .unwrap();
    let o = evaluate("year.csv", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("year.csv: 1 row not of 2021 (1 of 2020): row 6: year 2020"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("out").exists(), "nothing written");
    // Set aside on request, and said.
    let o = evaluate("year.csv", &["--other-years", "skip"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("year.csv: 1 row of other years set aside (1 of 2020)"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(dir.join("out")).unwrap();

    // A decimal comma: refused with the cell's place and a hint.
    std::fs::write(
        dir.join("comma.csv"),
        edited(&dir, 5, |c| c[3] = "\"0,5\"".into()),
    )
    .unwrap();
    let o = evaluate("comma.csv", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("row 6") && t.contains("write 0.5, not 0,5"),
        "{t}"
    );

    // A cell of a million characters is quoted short.
    let huge = "9".repeat(1_000_000);
    std::fs::write(
        dir.join("huge.csv"),
        edited(&dir, 5, |c| c[3] = format!("x{huge}")),
    )
    .unwrap();
    let o = evaluate("huge.csv", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).len() < 4_000, "{} bytes of error", text(&o).len());
    assert!(
        text(&o).contains("1000001 characters"),
        "{}",
        &text(&o)[..text(&o).len().min(500)]
    );

    // A site list with an address the monitor cannot visit: refused before anything runs.
    std::fs::write(
        dir.join("sites.csv"),
        "code,portal_url\n1,127.0.0.1:1/\n2,ftp://x/\n",
    )
    .unwrap();
    let o = govcap(
        &["monitor", "run", "--sites", "sites.csv", "--out", "mon"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("row 2:") && t.contains("row 3: \"ftp://x/\""),
        "{t}"
    );
    assert!(!dir.join("mon").exists(), "nothing run");

    // A header and no rows.
    std::fs::write(dir.join("empty.csv"), "unit,indicator,year,value\n").unwrap();
    let o = evaluate("empty.csv", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("empty.csv holds no observations"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("out").exists(), "nothing written");
    let o = govcap(&["import", "empty.csv", "--db", "i.db"], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("empty.csv holds no observations"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("i.db").exists(), "nothing stored");
}
