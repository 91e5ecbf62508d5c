//! Every check's value against the fixture's known truth, on fixture pages rendered without a
//! network (`Portals::offline_crawl`), over enough seeded sites that every feature variant
//! occurs.

mod checks_support;

use checks_support::*;
use govcap_fixture::spec::{BoardLayout, Charset, GuideLayout, SearchKind, Viewport};
use govcap_fixture::truth::site_truth;
use govcap_monitor::checks::{run_all, CheckConfig, CHECKS};

#[test]
fn checks_agree_with_the_fixture_truth_on_80_sites() {
    let (p, cfg) = portals(80, 2026);
    let mut problems = Vec::new();
    for s in &p.sites {
        let (visit, probed) = offline_visit(&p, &s.code, &cfg.as_of);
        let findings = run_all(&visit, &CheckConfig::default());
        assert_eq!(
            findings
                .iter()
                .map(|f| f.check.as_str())
                .collect::<Vec<_>>(),
            CHECKS.to_vec()
        );
        let truth = site_truth(&p, s, visit.home_url.clone());
        assert!(
            truth.max_depth <= 2,
            "{}: the fixture graph must close at depth 2",
            s.code
        );
        problems.extend(mismatches(
            &truth,
            &findings,
            probed,
            s.viewport == Viewport::All,
        ));
        // I1.2 and S3.4 as `to_observations` grades these findings.
        problems.extend(level_mismatches(&truth, &findings));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The 80 sites above exercise every variant the fixture can draw (so the agreement is not
/// vacuous): each assertion names a variant that must occur at least once.
#[test]
fn the_80_sites_cover_every_variant() {
    let (p, _) = portals(80, 2026);
    let s = &p.sites;
    let any = |f: &dyn Fn(&govcap_fixture::SiteSpec) -> bool| s.iter().any(f);
    assert!(any(&|x| x.charset == Charset::GbkBare) && any(&|x| x.charset == Charset::GbkMeta));
    for v in [Viewport::All, Viewport::HomeOnly, Viewport::None] {
        assert!(any(&|x| x.viewport == v), "{v:?}");
    }
    for k in [
        SearchKind::Working,
        SearchKind::Broken,
        SearchKind::ScriptBox,
        SearchKind::None,
    ] {
        assert!(any(&|x| x.search == k), "{k:?}");
    }
    for l in [BoardLayout::Table, BoardLayout::List] {
        assert!(
            any(&|x| x.board.as_ref().is_some_and(|b| b.layout == l)),
            "{l:?}"
        );
    }
    assert!(any(&|x| x.board.as_ref().is_some_and(|b| b
        .msgs
        .iter()
        .any(|m| m.reply_delay.is_some_and(|d| d > 90)))));
    assert!(any(&|x| x.board.is_none()));
    for l in [GuideLayout::Table, GuideLayout::Para, GuideLayout::Dl] {
        assert!(any(&|x| x.guides.iter().any(|g| g.layout == l)), "{l:?}");
    }
    assert!(any(&|x| x.guides.iter().any(|g| g
        .fields
        .contains(&govcap_fixture::spec::Field::Empty))));
    assert!(any(&|x| x.columns.iter().any(|c| c.ages.is_empty())));
    assert!(any(&|x| !x.broken_home.is_empty()) && any(&|x| !x.broken_inner.is_empty()));
    assert!(any(&|x| x.today_banner) && any(&|x| x.list_table));
    for d in 0..4 {
        assert!(any(&|x| x.date_style == d), "date style {d}");
    }
    assert!(any(&|x| x
        .qa
        .as_deref()
        .is_some_and(|q| q.ends_with("助手"))));
    let truths: Vec<_> = s.iter().map(|x| site_truth(&p, x, String::new())).collect();
    let vetoed = |rule: &str| {
        truths.iter().any(|t| {
            t.values["veto"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == rule)
        })
    };
    assert!(
        vetoed("home_not_updated") && vetoed("columns_not_updated") && vetoed("poor_interaction")
    );
    assert!(truths
        .iter()
        .any(|t| t.values["veto"].as_array().unwrap().is_empty()));
}

/// One site by hand: the numbers the truth promises, recomputed here from the spec.
#[test]
fn message_board_numbers_by_hand() {
    let (p, cfg) = portals(80, 2026);
    let s = p
        .sites
        .iter()
        .find(|s| {
            s.board.as_ref().is_some_and(|b| {
                b.msgs.len() >= 6 && b.msgs.iter().any(|m| m.reply_delay.is_none())
            })
        })
        .unwrap();
    let b = s.board.as_ref().unwrap();
    let (visit, _) = offline_visit(&p, &s.code, &cfg.as_of);
    let f = run_all(&visit, &CheckConfig::default())
        .into_iter()
        .find(|f| f.check == "message_board")
        .unwrap();
    let answered = b.msgs.iter().filter(|m| m.reply_delay.is_some()).count();
    assert_eq!(f.details["messages"], b.msgs.len());
    assert_eq!(
        f.value.as_f64().unwrap(),
        answered as f64 / b.msgs.len() as f64
    );
    let oldest = b
        .msgs
        .iter()
        .filter(|m| m.reply_delay.is_none())
        .map(|m| m.age)
        .max()
        .unwrap();
    assert_eq!(f.details["oldest_unanswered_days"], oldest);
    // Evidence: the board page's record, which is a page of this visit.
    let board_page = visit
        .pages
        .iter()
        .find(|pg| pg.url.ends_with("/board/"))
        .unwrap();
    assert_eq!(f.url, board_page.url);
    assert!(f
        .evidence
        .contains(board_page.warc_record.as_ref().unwrap()));
}

/// Every level of I1.2 and S3.4 (and every accessibility defect and feed variant) occurs
/// among the 80 sites above, so their agreement on the levels is not vacuous.
#[test]
fn the_80_sites_cover_every_graded_level() {
    use govcap_fixture::spec::{Labels, Platform};
    use std::collections::BTreeMap;
    let (p, _) = portals(80, 2026);
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in &p.sites {
        let truth = site_truth(&p, s, String::new());
        for (leaf, level) in &truth.levels() {
            *seen
                .entry((leaf.clone(), level.as_str().unwrap().to_string()))
                .or_default() += 1;
        }
    }
    for (leaf, levels) in [
        ("I1.2", ["none", "one", "both", "checked"]),
        ("S3.4", ["none", "one", "both", "active"]),
    ] {
        for l in levels {
            assert!(
                seen.contains_key(&(leaf.to_string(), l.to_string())),
                "{leaf} {l} never occurs: {seen:?}"
            );
        }
    }
    let s = &p.sites;
    let any = |f: &dyn Fn(&govcap_fixture::SiteSpec) -> bool| s.iter().any(f);
    assert!(any(&|x| x.a11y_basics.pass()) && any(&|x| !x.a11y_basics.pass()));
    assert!(any(&|x| !x.a11y_basics.lang) && any(&|x| !x.a11y_basics.alt));
    assert!(any(&|x| x.a11y_basics.refresh));
    for l in [Labels::Aria, Labels::LabelFor, Labels::Missing] {
        assert!(any(&|x| x.a11y_basics.labels == l), "{l:?}");
    }
    for pl in [Platform::Weibo, Platform::Wechat] {
        assert!(any(&|x| x
            .feeds
            .iter()
            .any(|f| f.platform == pl && f.dated && f.ages[0] <= 30)));
        assert!(any(&|x| x
            .feeds
            .iter()
            .any(|f| f.platform == pl && f.dated && f.ages[0] > 30)));
    }
    assert!(any(&|x| x.feeds.iter().any(|f| !f.dated)));
    // "both" although a feed is shown: stale or undated posts never make an account active.
    let both_with_feed = s.iter().any(|x| {
        let t = site_truth(&p, x, String::new());
        t.levels()["S3.4"] == "both" && !x.feeds.is_empty()
    });
    assert!(both_with_feed);
    let count = |f: &dyn Fn(&govcap_fixture::SiteSpec) -> bool| s.iter().filter(|x| f(x)).count();
    let feeds = |f: &dyn Fn(&govcap_fixture::spec::Feed) -> bool| {
        s.iter().flat_map(|x| &x.feeds).filter(|x| f(x)).count()
    };
    eprintln!(
        "levels over 80 sites: {seen:?}; accessibility_basics true on {}; feeds recent {}, stale {}, undated {}",
        count(&|x| x.a11y_basics.pass()),
        feeds(&|f| f.dated && f.ages[0] <= 30),
        feeds(&|f| f.dated && f.ages[0] > 30),
        feeds(&|f| !f.dated),
    );
}
