//! Structural tests of the blue-book report, on the real binary and the demo's recorded runs:
//! every unit has a page and a map shape with its tier's class, the ranking table is complete,
//! every page carries the synthetic banner, nothing points outside the report, text is
//! escaped, and the figures shown are the recorded ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

use common::{govcap, text, tmp};

/// One demo run shared by the tests (it takes a few seconds).
fn demo() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp("demo");
        let o = govcap(&["demo", "--out", "out"], &dir);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("report: "),
            "demo prints the report path: {}",
            text(&o)
        );
        dir.join("out")
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The value of attribute `name` inside one tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(&tag[i..j])
}

/// Every opening tag `<name …>` of a page, as text.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let end = rest[i..].find('>').map(|j| i + j + 1).unwrap_or(rest.len());
        out.push(&rest[i..end]);
        rest = &rest[end..];
    }
    out
}

/// The two maps of the summary page: `(tier map, score map)` as code → class.
fn map_shapes(index: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let tier_start = index.find("class=\"map map-tier\"").expect("tier map");
    let score_start = index.find("class=\"map map-score\"").expect("score map");
    let shapes = |part: &str| -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for t in tags(part, "path") {
            if let Some(code) = attr(t, "data-code") {
                let class = attr(t, "class").unwrap_or("").to_string();
                assert!(
                    m.insert(code.to_string(), class).is_none(),
                    "code {code} has two shapes in one map"
                );
            }
        }
        m
    };
    (
        shapes(&index[tier_start..score_start]),
        shapes(&index[score_start..]),
    )
}

#[test]
fn demo_report_has_every_page_map_shape_and_row() {
    let out = demo();
    let report = out.join("report");
    let results = json(&out.join("2021/results.json"));
    let units = results["units"].as_array().unwrap();
    assert_eq!(units.len(), 337);

    // A page per unit, and nothing else in units/.
    let pages: BTreeSet<String> = std::fs::read_dir(report.join("units"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want: BTreeSet<String> = units
        .iter()
        .map(|u| format!("{}.html", u["code"].as_str().unwrap()))
        .collect();
    assert_eq!(pages, want);

    // 337 shapes in the tier map, each with its unit's tier class; the score map too.
    let index = read(&report.join("index.html"));
    let (tier_map, score_map) = map_shapes(&index);
    for u in units {
        let code = u["code"].as_str().unwrap();
        let tier = u["tier"].as_str().unwrap();
        assert_eq!(
            tier_map.get(code).map(String::as_str),
            Some(format!("tier-{tier}").as_str()),
            "tier map shape of {code}"
        );
        assert!(
            score_map.get(code).is_some_and(|c| c.starts_with("score-")),
            "score map shape of {code}"
        );
    }
    let tiered = tier_map.values().filter(|c| c.starts_with("tier-")).count();
    assert_eq!(tiered, 337);
    // Taiwan, Hong Kong and Macau are drawn (grey, not evaluated).
    for code in ["710000", "810000", "820000"] {
        assert_eq!(
            tier_map.get(code).map(String::as_str),
            Some("not-evaluated")
        );
    }

    // The sortable table holds all 337 units, in rank order, each linking to its page.
    let ranking = read(&report.join("ranking.html"));
    let rows = tags(&ranking, "tr")
        .into_iter()
        .filter(|t| attr(t, "data-tier").is_some())
        .count();
    assert_eq!(rows, 337);
    assert!(ranking.contains("id=\"ranking-table\""));
    let mut by_rank: Vec<&serde_json::Value> = units.iter().collect();
    by_rank.sort_by_key(|u| u["rank"].as_u64().unwrap());
    let first = by_rank[0]["code"].as_str().unwrap();
    let last = by_rank[336]["code"].as_str().unwrap();
    let pos = |code: &str| {
        ranking
            .find(&format!("href=\"units/{code}.html\""))
            .unwrap_or_else(|| panic!("no link to {code}"))
    };
    assert!(pos(first) < pos(last), "rows are in rank order");
}

#[test]
fn every_page_is_self_contained_labelled_and_links_resolve() {
    let report = demo().join("report");
    let all = files(&report);
    // index, ranking, method, uncertainty (the demo audits its last run) and the unit pages.
    assert_eq!(all.len(), 4 + 337, "{all:?}");
    for f in &all {
        let html = read(f);
        let name = f.strip_prefix(&report).unwrap().display().to_string();
        // Synthetic data: the banner on every page.
        assert!(
            html.contains("class=\"synthetic-banner\""),
            "{name}: no synthetic banner"
        );
        // No URL outside the file, apart from the SVG namespace name (never fetched).
        let stripped = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in ["http://", "https://", "@import", "url("] {
            assert!(!stripped.contains(bad), "{name}: contains {bad}");
        }
        for tag in [
            "a", "link", "script", "img", "iframe", "source", "use", "image",
        ] {
            for t in tags(&html, tag) {
                for a in ["src", "href", "xlink:href"] {
                    if let Some(v) = attr(t, a) {
                        assert!(!v.contains("//"), "{name}: {t}");
                        assert!(!v.contains(':'), "{name}: scheme in {t}");
                        // Relative links resolve to a generated file.
                        let target = v.split('#').next().unwrap();
                        if !target.is_empty() {
                            let p = f.parent().unwrap().join(target);
                            assert!(p.is_file(), "{name}: broken link {v}");
                        }
                    }
                }
            }
        }
        assert!(html.contains("Content-Security-Policy"), "{name}: no CSP");
    }
}

#[test]
fn pages_show_the_recorded_figures() {
    let out = demo();
    let report = out.join("report");
    let a = json(&out.join("2021/analyses.json"));
    let index = read(&report.join("index.html"));
    let mean = a["summary"]["mean"].as_f64().unwrap();
    let change = a["summary"]["mean_change"].as_f64().unwrap();
    assert!(
        index.contains(&format!("平均得分{:.2}分", mean)),
        "mean sentence"
    );
    let word = if change > 0.0 { "提升" } else { "下降" };
    assert!(
        index.contains(&format!("较2020年{word}{:.2}分", change.abs())),
        "direction word for {change}"
    );
    let top = &a["tiers"][0];
    let cut = top["cut_line"].as_f64().unwrap();
    let prev_cut = top["previous_cut_line"].as_f64().unwrap();
    let verb = if cut > prev_cut {
        "提升至"
    } else {
        "下降至"
    };
    assert!(
        index.contains(&format!("分数线由{:.2}{verb}{:.2}", prev_cut, cut)),
        "tier sentence"
    );
    let ratio = a["regions"]["headline"]["ratio"].as_f64().unwrap();
    assert!(index.contains(&format!("{:.2}%", ratio * 100.0)));
    assert!(index.contains("与2020年比较"));

    // One unit page: total, rank out of 337, fix-first actions, 31 indicators + 12 groups.
    let results = json(&out.join("2021/results.json"));
    let u = &results["units"][0];
    let code = u["code"].as_str().unwrap();
    let page = read(&report.join(format!("units/{code}.html")));
    assert!(page.contains(&format!("{:.2}", u["total"].as_f64().unwrap())));
    assert!(page.contains(&format!(
        "{}<small> / 337</small>",
        u["rank"].as_u64().unwrap()
    )));
    let rows = tags(&page, "tr")
        .into_iter()
        .filter(|t| attr(t, "class").is_some_and(|c| c.starts_with('l')))
        .count();
    // Capability table (3 + 9) + indicator table (3 + 9 + 31).
    assert_eq!(rows, 12 + 43);
    let fixes = u["fix_first"].as_array().unwrap();
    assert!(!fixes.is_empty());
    let ol = &page[page.find("<ol class=\"fix\">").unwrap()..];
    let ol = &ol[..ol.find("</ol>").unwrap()];
    assert_eq!(ol.matches("<li>").count(), fixes.len());
    let gap = fixes[0]["gap"].as_f64().unwrap();
    assert!(ol.contains(&format!("差距{:.2}分", gap)));
    assert!(page.contains("<svg class=\"chart-svg\""), "radar");

    // Method appendix: the manifest's hashes.
    let method = read(&report.join("method.html"));
    let run = json(&out.join("2021/run.json"));
    assert!(method.contains(run["results_sha256"].as_str().unwrap()));
    assert!(method.contains(run["framework"]["sha256"].as_str().unwrap()));
    for i in run["inputs"].as_array().unwrap().iter().skip(1) {
        assert!(method.contains(i["sha256"].as_str().unwrap()));
    }
}

#[test]
fn report_from_a_directory_in_english_with_previous_from_files() {
    let out = demo();
    let dir = tmp("en");
    let o = govcap(
        &[
            "report",
            out.join("2021").to_str().unwrap(),
            "--previous",
            out.join("2020/results.json").to_str().unwrap(),
            "--lang",
            "en",
            "--out",
            "rep",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let index = read(&dir.join("rep/index.html"));
    assert!(index.contains("<html lang=\"en\""));
    assert!(index.contains("Key findings"));
    assert!(index.contains("compared with 2020"));
    assert!(index.contains("SYNTHETIC DATA"));
    let a = json(&out.join("2021/analyses.json"));
    let mean = a["summary"]["mean"].as_f64().unwrap();
    assert!(index.contains(&format!("points to {:.2} (2020:", mean)));
    assert_eq!(
        std::fs::read_dir(dir.join("rep/units")).unwrap().count(),
        337
    );

    // Without a previous run: no year-over-year clause anywhere on the summary.
    let o = govcap(
        &[
            "report",
            out.join("2021/results.json").to_str().unwrap(),
            "--no-previous",
            "--out",
            "single",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let index = read(&dir.join("single/index.html"));
    for clause in ["较2020年", "与2020年", "2020年为"] {
        assert!(
            !index.contains(clause),
            "no comparison without a previous run"
        );
    }
    assert!(index.contains("平均得分"));
}

#[test]
fn report_by_run_id_uses_the_recorded_previous_run() {
    let out = demo();
    let db = out.join("govcap.db");
    let dir = tmp("byid");
    let o = govcap(
        &["report", "2", "--db", db.to_str().unwrap(), "--out", "rep"],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let method = read(&dir.join("rep/method.html"));
    assert!(method.contains("run 1 (2020)"), "previous run named");
    let o = govcap(
        &["report", "99", "--db", db.to_str().unwrap(), "--out", "x"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no run 99"));
}

#[test]
fn text_from_the_data_is_escaped() {
    let out = demo();
    let dir = tmp("escape");
    let mut r = json(&out.join("2021/results.json"));
    let evil = "<script>alert(\"x\")</script>&";
    r["units"][0]["name"] = serde_json::Value::String(evil.into());
    r["units"][0]["leaves"][0]["evidence_url"] =
        serde_json::Value::String("javascript:alert(1)".into());
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string(&r).unwrap()).unwrap();
    let o = govcap(&["report", "results.json", "--out", "rep"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let code = r["units"][0]["code"].as_str().unwrap();
    for page in [
        "index.html".to_string(),
        "ranking.html".to_string(),
        format!("units/{code}.html"),
    ] {
        let html = read(&dir.join("rep").join(&page));
        assert!(!html.contains(evil), "{page}: raw text");
        assert!(!html.contains("<script>alert"), "{page}: raw script");
        assert!(!html.contains("href=\"javascript:"), "{page}: script link");
    }
    let unit = read(&dir.join("rep").join(format!("units/{code}.html")));
    assert!(unit.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"));
}

#[test]
fn pdf_without_chromium_says_how_to_install_it_after_writing_the_html() {
    let out = demo();
    let dir = tmp("nopdf");
    let o = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args([
            "report",
            out.join("2021").to_str().unwrap(),
            "--pdf",
            "--out",
            "rep",
        ])
        .current_dir(&dir)
        .env_remove("GOVCAP_DB")
        .env("GOVCAP_CHROMIUM", dir.join("no-such-chromium"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("apt-get install chromium"), "{t}");
    assert!(dir.join("rep/index.html").is_file());
    assert!(dir.join("rep/book.html").is_file());
    assert!(!dir.join("rep/report.pdf").exists());
    // The book holds every unit as an anchor, with links turned into anchors.
    let book = read(&dir.join("rep/book.html"));
    assert_eq!(book.matches("<section id=\"u").count(), 337);
    assert!(!book.contains("href=\"units/"));
}

#[test]
fn real_data_gets_no_synthetic_banner() {
    let out = demo();
    let dir = tmp("real");
    let mut r = json(&out.join("2021/results.json"));
    r["synthetic"] = serde_json::Value::Bool(false);
    std::fs::write(dir.join("results.json"), serde_json::to_string(&r).unwrap()).unwrap();
    let o = govcap(&["report", "results.json", "--out", "rep"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("SYNTHETIC"));
    for f in files(&dir.join("rep")) {
        assert!(
            !read(&f).contains("class=\"synthetic-banner\""),
            "{}: banner on real data",
            f.display()
        );
    }
}
