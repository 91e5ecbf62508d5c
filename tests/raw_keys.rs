//! One language per output: the Chinese outputs of the demo (the report's pages, the
//! workbooks, the console) must not show an internal key where a reader expects words —
//! a graded level's key (`documents`), a rule, a way of collection, a channel tag, a method
//! name of the engine or the audit, a Rust type name (`NaturalBreaks`, `Points`) or raw JSON.
//!
//! The keys come from the built-in framework and `govcap_core::vocab`, not from a list kept
//! here, so a new level or method is covered the day it is added. Text is split into tokens of
//! letters, digits and `_ - . / :`, so a file name such as `observations-2021-synthetic.csv`
//! or a web address stays one token and is not mistaken for the key `synthetic`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{govcap, text, tmp};
use govcap_core::framework::{Collection, Framework, Rule};

/// Every key that must not reach a Chinese reader.
fn keys() -> BTreeSet<String> {
    let mut k = BTreeSet::new();
    let fw = Framework::default_framework();
    for nd in &fw.nodes {
        if let Some(leaf) = &nd.leaf {
            k.insert(leaf.rule.name().to_string());
            if let Rule::Graded { levels } = &leaf.rule {
                k.extend(levels.iter().map(|l| l.key.clone()));
            }
            if let Some(c) = &leaf.channel {
                k.insert(c.clone());
            }
        }
    }
    for c in [Collection::Auto, Collection::Manual, Collection::Hybrid] {
        k.insert(c.as_str().to_string());
    }
    k.extend(govcap_core::vocab::method_keys().map(str::to_string));
    k.extend(govcap_core::vocab::channel_tags().map(str::to_string));
    for debug_name in [
        "Points",
        "Weights",
        "NaturalBreaks",
        "Difference",
        "Thresholds",
        "Quantile",
        "EqualWidth",
        "Arithmetic",
        "Geometric",
        "Edition2021",
        "Edition2019",
        "Auto",
        "Manual",
        "Hybrid",
    ] {
        k.insert(debug_name.to_string());
    }
    k
}

/// The visible text of an HTML page: scripts, styles and tags (with their attributes) removed.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tag = &rest[i..];
        let skip_to = if tag.starts_with("<script") {
            tag.find("</script>").map(|j| j + 9)
        } else if tag.starts_with("<style") {
            tag.find("</style>").map(|j| j + 8)
        } else {
            tag.find('>').map(|j| j + 1)
        };
        match skip_to {
            Some(j) => rest = &tag[j..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Raw keys and JSON found in `text`, with a little context each.
fn leaks(text: &str, keys: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(i) = text.find("{\"") {
        found.push(format!("raw JSON: …{}…", snippet(text, i)));
    }
    let is_tok = |c: char| c.is_ascii_alphanumeric() || "_-./:".contains(c);
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (is_tok(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let tok = text[s..i].trim_matches(|c: char| ".:/-".contains(c));
                if keys.contains(tok) {
                    found.push(format!("{tok}: …{}…", snippet(text, s)));
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

fn snippet(text: &str, at: usize) -> String {
    let lo = (0..=at.saturating_sub(40))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let hi = (at + 40..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[lo..hi]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every string cell of every sheet of a workbook.
fn workbook_text(path: &Path) -> String {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let mut out = String::new();
    for name in wb.sheet_names().to_vec() {
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for cell in row {
                if let calamine::Data::String(s) = cell {
                    out.push_str(s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[test]
fn the_chinese_outputs_show_no_internal_keys() {
    let dir = tmp("raw-keys");
    let o = govcap(&["demo", "--out", "d", "--audit-draws", "400"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let keys = keys();
    assert!(keys.contains("documents") && keys.contains("geometric") && keys.contains("e_licence"));

    let mut problems = Vec::new();
    let mut check = |what: String, body: &str| {
        for l in leaks(body, &keys) {
            problems.push(format!("{what}: {l}"));
        }
    };
    check("demo console".into(), &text(&o));
    let report = dir.join("d/report");
    let mut pages = vec![
        report.join("index.html"),
        report.join("ranking.html"),
        report.join("method.html"),
        report.join("uncertainty.html"),
    ];
    let mut units: Vec<_> = std::fs::read_dir(report.join("units"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    units.sort();
    pages.extend(units);
    for p in &pages {
        let html = std::fs::read_to_string(p).unwrap();
        check(
            p.strip_prefix(&report).unwrap().display().to_string(),
            &visible_text(&html),
        );
    }
    for wb in ["d/2021/results.xlsx", "d/2021/audit/audit.xlsx"] {
        check(wb.to_string(), &workbook_text(&dir.join(wb)));
    }
    let o = govcap(&["audit", "d/2021", "--draws", "400", "--out", "a"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    check("audit console".into(), &text(&o));

    // A control: the check does see a key when one is there.
    assert!(!leaks("观测值 documents", &keys).is_empty());
    assert!(leaks("observations-2021-synthetic.csv 第3行", &keys).is_empty());

    problems.sort();
    problems.dedup_by(|a, b| a.split(": ").nth(1) == b.split(": ").nth(1));
    assert!(
        problems.is_empty(),
        "{} raw keys in Chinese outputs:\n{}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
