//! The report's uncertainty chapter, end to end on the real binary: `govcap demo` audits its
//! last run by default and the report shows it (one interval bar per unit, the tier-stability
//! table, the sensitivity table, each unit's interval); `govcap report` finds a run directory's
//! `audit/audit.json` or takes `--audit FILE`; an audit of other results is refused or left out;
//! `govcap evaluate --audit` writes `OUT/audit/`; and without an audit the pages are unchanged.
//! Every number is checked against `audit.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

use common::{govcap, text, tmp};

use govcap_core::audit::{Audit, FactorKind};

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

/// One demo run (audit on by default) shared by the tests.
fn demo() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp("demo");
        let o = govcap(&["demo", "--out", "out"], &dir);
        assert!(o.status.success(), "{}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("运行 2 的统计审计"), "{stdout}");
        assert!(stdout.contains("with the uncertainty chapter"), "{stdout}");
        dir.join("out")
    })
}

fn audit_of(path: &Path) -> Audit {
    serde_json::from_str(&read(path)).unwrap()
}

fn demo_audit() -> Audit {
    audit_of(&demo().join("2021/audit/audit.json"))
}

/// A rank as the report prints it: at most two decimals, trailing zeros dropped.
/// Readers see whole places: the interval's ends rounded outwards, a median rounded.
fn lo(x: f64) -> String {
    format!("{}", x.floor() as i64)
}

fn hi(x: f64) -> String {
    format!("{}", x.ceil() as i64)
}

fn whole(x: f64) -> String {
    format!("{}", x.round() as i64)
}

fn prob(p: f64) -> String {
    format!("{:.1} %", p * 100.0)
}

/// A sensitivity index as printed: three decimals, a true minus sign, no "−0.000".
fn idx(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    if r < 0.0 {
        format!("\u{2212}{:.3}", -r)
    } else {
        format!("{:.3}", r.abs())
    }
}

fn zh_factor(k: &FactorKind) -> String {
    match k {
        FactorKind::Weights { depth } => {
            format!("{}级指标权重", ["一", "二", "三", "四"][depth - 1])
        }
        FactorKind::Normalisation => "标准化方法".into(),
        FactorKind::Aggregation => "加总方法".into(),
        FactorKind::Missing => "缺失值处理".into(),
        FactorKind::Treatment => "异常值处理".into(),
        FactorKind::Tiers => "分类方法".into(),
    }
}

/// The text between `start` and the next `end` after it.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let j = s[i..].find(end).unwrap() + i;
    &s[i..j]
}

#[test]
fn demo_report_shows_every_units_interval_from_the_audit() {
    let out = demo();
    let a = demo_audit();
    assert!(a.synthetic);
    assert_eq!(a.year, 2021);
    assert_eq!(a.settings.draws, 10_000, "the demo's default draws");
    assert_eq!(a.units.len(), 337);
    let report = out.join("report");
    let page = read(&report.join("uncertainty.html"));
    assert!(page.contains("class=\"synthetic-banner\""));
    assert!(page.contains("合成数据"));
    assert!(page.contains(&format!(
        "{} 次模型运行 · 随机种子 {}",
        a.draws, a.settings.seed
    )));
    assert!(page.contains("href=\"uncertainty.html\" aria-current=\"page\""));

    // One interval bar per unit, in nominal rank order, each titled with the audit's numbers.
    let bars: Vec<&str> = page
        .split("<g class=\"rank-interval\" data-code=\"")
        .skip(1)
        .collect();
    assert_eq!(bars.len(), 337);
    let codes: Vec<&str> = bars.iter().map(|b| &b[..b.find('"').unwrap()]).collect();
    let mut by_rank: Vec<_> = a.units.iter().collect();
    by_rank.sort_by_key(|u| u.nominal_rank);
    assert_eq!(
        codes,
        by_rank.iter().map(|u| u.code.as_str()).collect::<Vec<_>>()
    );
    for (bar, u) in bars.iter().zip(&by_rank) {
        let title = between(bar, "<title>", "</title>");
        let want = format!(
            "名义排名 {} · 90 % 区间 {}–{} · 中位 {}",
            u.nominal_rank.unwrap(),
            lo(u.q05_rank.unwrap()),
            hi(u.q95_rank.unwrap()),
            whole(u.median_rank.unwrap())
        );
        assert!(title.contains(&want), "{title} lacks {want}");
    }

    // The tier-stability table lists exactly the units below 90 %, with their probabilities.
    let table = between(&page, "<table id=\"tier-stability\">", "</table>");
    let unstable: Vec<_> = by_rank
        .iter()
        .filter(|u| u.nominal_tier_probability.unwrap() < 0.9)
        .collect();
    assert!(!unstable.is_empty());
    let rows: Vec<&str> = table.split("<tr data-code=\"").skip(1).collect();
    assert_eq!(rows.len(), unstable.len());
    for (row, u) in rows.iter().zip(&unstable) {
        assert!(row.starts_with(&format!("{}\"", u.code)));
        assert!(row.contains(&prob(u.nominal_tier_probability.unwrap())));
        for p in &u.tier_probability {
            assert!(row.contains(&prob(*p)), "{row}");
        }
    }

    // Sensitivity: a row per factor with the audit's indices; the dominant factor named.
    let table = between(&page, "<table id=\"sensitivity\">", "</table>");
    assert_eq!(
        table.matches("<tr><td class=\"name\">").count(),
        a.factors.len()
    );
    for f in &a.factors {
        let s = f.rank_shift.as_ref().unwrap();
        assert!(
            table.contains(&format!(
                "{} [{}, {}]",
                idx(s.sti),
                idx(s.sti_q05),
                idx(s.sti_q95)
            )),
            "{} STi",
            f.name
        );
    }
    let top = a
        .factors
        .iter()
        .max_by(|x, y| {
            let k = |f: &govcap_core::audit::FactorAudit| f.rank_shift.as_ref().unwrap().sti;
            k(x).total_cmp(&k(y))
        })
        .unwrap();
    assert!(
        page.contains(&format!("排名不确定性主要来自{}", zh_factor(&top.kind))),
        "dominant factor {}",
        top.name
    );

    // The summary links the chapter and counts robust units from the audit.
    let index = read(&report.join("index.html"));
    assert!(index.contains("<a href=\"uncertainty.html\">不确定性</a>"));
    let robust = a.units.iter().filter(|u| u.robust).count();
    assert!(index.contains(&format!("{robust} 个单位（共 337 个）的排名稳健")));

    // Each unit page: its interval and nominal-tier probability.
    let mut checked = BTreeSet::new();
    let widest = a
        .units
        .iter()
        .max_by(|x, y| {
            x.interval_width
                .unwrap()
                .total_cmp(&y.interval_width.unwrap())
        })
        .unwrap();
    for u in a.units.iter().take(5).chain([widest]) {
        let page = read(&report.join(format!("units/{}.html", u.code)));
        let sentence = format!(
            "全国排名 {}（90 % 区间 {}–{}）",
            u.nominal_rank.unwrap(),
            lo(u.q05_rank.unwrap()),
            hi(u.q95_rank.unwrap())
        );
        assert!(page.contains(&sentence), "{}: {sentence}", u.code);
        assert!(page.contains(&format!(
            "保持原类型 {}",
            prob(u.nominal_tier_probability.unwrap())
        )));
        assert!(page.contains("<a href=\"../uncertainty.html\">"));
        checked.insert(u.code.clone());
    }
    assert_eq!(checked.len(), 6);
}

#[test]
fn report_finds_the_directory_audit_or_takes_audit_for_a_run_id() {
    let out = demo();
    let dir = tmp("find");
    let a = demo_audit();
    let o = govcap(
        &[
            "report",
            out.join("2021").to_str().unwrap(),
            "--out",
            "bydir",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.join("bydir/uncertainty.html").is_file());

    // A run id finds the audit recorded with the run; --no-audit leaves it out.
    let db = out.join("govcap.db");
    let o = govcap(
        &[
            "report",
            "2",
            "--db",
            db.to_str().unwrap(),
            "--out",
            "recorded",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("from the audit recorded with run 2"),
        "{}",
        text(&o)
    );
    assert!(dir.join("recorded/uncertainty.html").is_file());
    let o = govcap(
        &[
            "report",
            "2",
            "--db",
            db.to_str().unwrap(),
            "--no-audit",
            "--out",
            "byid",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dir.join("byid/uncertainty.html").exists());
    let audit_json = out.join("2021/audit/audit.json");
    let o = govcap(
        &[
            "report",
            "2",
            "--db",
            db.to_str().unwrap(),
            "--audit",
            audit_json.to_str().unwrap(),
            "--lang",
            "en",
            "--out",
            "en",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let page = read(&dir.join("en/uncertainty.html"));
    assert!(page.contains("Rank uncertainty and sensitivity analysis"));
    assert!(page.contains("SYNTHETIC DATA"));
    assert_eq!(page.matches("<g class=\"rank-interval\"").count(), 337);
    let u = &a.units[0];
    let unit = read(&dir.join(format!("en/units/{}.html", u.code)));
    assert!(unit.contains(&format!(
        "National rank {} (90 % interval {}–{})",
        u.nominal_rank.unwrap(),
        lo(u.q05_rank.unwrap()),
        hi(u.q95_rank.unwrap())
    )));
    assert!(unit.contains(&format!(
        "tier kept {}",
        prob(u.nominal_tier_probability.unwrap())
    )));
}

/// Removes every occurrence of `piece` (which must occur at least once).
fn cut(s: &str, piece: &str) -> String {
    assert!(s.contains(piece), "{piece}");
    s.replace(piece, "")
}

/// Removes the element starting with `start` up to its `n`-th following `end`.
fn cut_element(s: &str, start: &str, end: &str, n: usize) -> String {
    let i = s.find(start).unwrap_or_else(|| panic!("no {start}"));
    let mut j = i;
    for _ in 0..n {
        j += s[j..].find(end).unwrap() + end.len();
    }
    format!("{}{}", &s[..i], &s[j..])
}

#[test]
fn without_an_audit_the_pages_are_unchanged() {
    let out = demo();
    let dir = tmp("plain");
    // The same run directory without its audit/ folder.
    std::fs::create_dir_all(dir.join("plain")).unwrap();
    for f in ["results.json", "run.json"] {
        std::fs::copy(out.join("2021").join(f), dir.join("plain").join(f)).unwrap();
    }
    let o = govcap(&["report", "plain", "--no-audit", "--out", "rep0"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("uncertainty"));
    let o = govcap(
        &[
            "report",
            out.join("2021").to_str().unwrap(),
            "--out",
            "rep1",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let rep0 = dir.join("rep0");
    let rep1 = dir.join("rep1");
    let plain = files(&rep0);
    assert_eq!(plain.len(), 3 + 337);
    assert_eq!(files(&rep1).len(), 4 + 337);
    for f in &plain {
        let html = read(f);
        for marker in [
            "uncertainty",
            "不确定性",
            "rank-interval",
            "audit-note",
            "90 % 区间",
        ] {
            assert!(!html.contains(marker), "{}: {marker}", f.display());
        }
        // With the audit the page differs only by the chapter's link and its own additions.
        let rel = f.strip_prefix(&rep0).unwrap();
        let mut with = read(&rep1.join(rel));
        if rel.starts_with("units") {
            with = cut(&with, "<a href=\"../uncertainty.html\">不确定性</a>");
            with = cut_element(&with, "<div class=\"kpi rank-interval-kpi\">", "</div>", 4);
            with = cut_element(&with, "<p class=\"audit-note\">", "</p>", 1);
        } else {
            with = cut(&with, "<a href=\"uncertainty.html\">不确定性</a>");
        }
        if rel == Path::new("index.html") {
            with = cut_element(&with, "<p class=\"note audit-note\">", "</p>", 1);
        }
        assert!(with == html, "{}: differs beyond the audit", rel.display());
    }

    // The demo without its audit: no audit directory, no chapter.
    let o = govcap(&["demo", "--out", "noaudit", "--no-audit"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dir.join("noaudit/2021/audit").exists());
    assert!(!dir.join("noaudit/report/uncertainty.html").exists());
    assert!(!text(&o).contains("的统计审计"));
}

#[test]
fn an_audit_of_other_results_is_refused_or_left_out() {
    let out = demo();
    let dir = tmp("stale");
    let stale = dir.join("stale");
    std::fs::create_dir_all(stale.join("audit")).unwrap();
    for f in ["results.json", "run.json"] {
        std::fs::copy(out.join("2021").join(f), stale.join(f)).unwrap();
    }
    let mut a = demo_audit();
    let (r0, r1) = (a.units[0].nominal_rank, a.units[1].nominal_rank);
    a.units[0].nominal_rank = r1;
    a.units[1].nominal_rank = r0;
    std::fs::write(
        stale.join("audit/audit.json"),
        serde_json::to_string(&a).unwrap(),
    )
    .unwrap();
    // Found beside the run: a warning, and not used; the audit recorded with the run (of
    // these very results) is used instead.
    let o = govcap(&["report", "stale", "--out", "rep"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("does not belong to these results"), "{t}");
    assert!(t.contains(&format!("unit {}", a.units[0].code)), "{t}");
    assert!(t.contains("from the audit recorded with run 2"), "{t}");
    // With --db elsewhere there is no recorded audit to fall back on: no chapter.
    let o = govcap(
        &["report", "stale", "--db", "elsewhere.db", "--out", "rep2"],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("left out: the uncertainty chapter"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("rep2/uncertainty.html").exists());
    assert!(!dir.join("elsewhere.db").exists());
    // Named with --audit: refused (exit 2), naming the reason.
    let o = govcap(
        &[
            "report",
            out.join("2020").to_str().unwrap(),
            "--audit",
            out.join("2021/audit/audit.json").to_str().unwrap(),
            "--out",
            "rep2",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the audit is of 2021, the results of 2020"),
        "{}",
        text(&o)
    );
    // Not an audit at all.
    std::fs::write(dir.join("x.json"), "{}").unwrap();
    let o = govcap(
        &["report", "stale", "--audit", "x.json", "--out", "rep3"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a govcap audit.json"));
}

#[test]
fn evaluate_with_audit_writes_out_audit_for_the_report() {
    let out = demo();
    let dir = tmp("evaluate");
    let obs = out.join("input/observations-2021-synthetic.csv");
    let obs = obs.to_str().unwrap();
    let o = govcap(
        &[
            "evaluate",
            "-o",
            obs,
            "--year",
            "2021",
            "--db",
            "ev.db",
            "--out",
            "ev",
            "--audit",
            "--audit-draws",
            "400",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("运行 1 的统计审计"), "{stdout}");
    let a = audit_of(&dir.join("ev/audit/audit.json"));
    assert_eq!(a.settings.draws, 400);
    assert_eq!(a.draws, a.base_samples * (a.factors.len() + 2));
    for f in [
        "audit_units.csv",
        "audit_factors.csv",
        "audit_draws.csv",
        "audit.xlsx",
        "factors.toml",
    ] {
        assert!(dir.join("ev/audit").join(f).is_file(), "{f}");
    }
    let o = govcap(&["report", "ev", "--out", "rep"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let page = read(&dir.join("rep/uncertainty.html"));
    assert!(page.contains(&format!("{} 次模型运行", a.draws)));

    // The audit needs a recorded run; the audit options need --audit.
    for args in [
        vec!["--audit", "--no-record"],
        vec!["--audit-draws", "400"],
        vec!["--audit-factors", "f.toml"],
    ] {
        let mut all = vec![
            "evaluate", "-o", obs, "--year", "2021", "--db", "x.db", "--out", "bad",
        ];
        all.extend(args.iter());
        let o = govcap(&all, &dir);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!dir.join("bad").exists(), "{args:?}");
    }
}

#[test]
fn the_book_holds_the_chapter_once() {
    let out = demo();
    let dir = tmp("book");
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
    assert!(!o.status.success(), "no Chromium, no PDF");
    let book = read(&dir.join("rep/book.html"));
    assert_eq!(book.matches("<section id=\"rank-uncertainty\"").count(), 1);
    assert_eq!(book.matches("<g class=\"rank-interval\"").count(), 337);
    assert_eq!(
        book.matches("<section id=\"u").count(),
        337,
        "unit anchors only"
    );
    assert!(book.contains("<a href=\"#rank-uncertainty\">不确定性</a>"));
    assert!(
        !book.contains("uncertainty.html"),
        "links are anchors in the book"
    );
}
