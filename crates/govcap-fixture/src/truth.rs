//! The known value of every check for every simulated portal, computed from the site's spec
//! and from the links the renderer recorded — never from parsing the HTML the checks parse.
//!
//! Assumptions (what a complete, polite crawl does): depth ≥ 2 and enough pages
//! ([`SiteTruth::pages`]); robots.txt obeyed; links off the site are not fetched; the search
//! probe, when run, adds one results page (not a link, so the `links` truth is unchanged).

use crate::render::{base, Portals};
use crate::spec::{ColumnKind, Hostile, Labels, Platform, SearchKind, SiteSpec, Viewport};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Default thresholds of the 2019 veto rules, as the checks' defaults.
const AVAILABILITY_MIN: f64 = 0.95;
const HOME_STALE_DAYS: i64 = 14;
const DYNAMIC_DAYS: i64 = 14;
const NOTICE_DAYS: i64 = 183;
const LONG_DAYS: i64 = 365;
const UNANSWERED_DAYS: i64 = 90;
/// A Weibo / WeChat account is active with a post at most this old (`new_media_active_days`).
const ACTIVE_DAYS: i64 = 30;

/// What the checks should find on one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteTruth {
    pub code: String,
    /// The portal URL (`http://127.0.0.1:PORT/site/<code>/`).
    pub url: String,
    /// The hostile case, when the site is one.
    pub hostile: Option<String>,
    /// Expected `value` per check name; checks the fixture cannot determine are absent
    /// (e.g. `ipv6`, which depends on the fetcher's probe).
    pub values: BTreeMap<String, Value>,
    /// Expected detail fields per check name (a subset of the finding's `details`).
    pub details: BTreeMap<String, Value>,
    /// URLs a complete crawl fetches (robots-disallowed ones excluded, search probe excluded).
    pub pages: usize,
    /// Deepest page of that crawl.
    pub max_depth: u32,
}

impl SiteTruth {
    /// Expected level per graded leaf the monitor fills from several checks, as
    /// `observations::to_observations` should emit it: `I1.2` (none / one / both modes,
    /// `checked` when both and `accessibility_basics` is true) and `S3.4` (none / one / both
    /// of Weibo and WeChat linked, `active` when both have a dated post within 30 days).
    /// A leaf is left out when the truth lacks the values it needs.
    pub fn levels(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let flag = |k: &str| self.values.get(k).and_then(Value::as_bool);
        if let (Some(acc), Some(eld)) = (flag("accessibility"), flag("elderly_mode")) {
            let level = match u8::from(acc) + u8::from(eld) {
                0 => "none",
                1 => "one",
                _ if flag("accessibility_basics") == Some(true) => "checked",
                _ => "both",
            };
            out.insert("I1.2".to_string(), json!(level));
        }
        if let Some(list) = self.values.get("new_media").and_then(Value::as_array) {
            let has = |p: Platform| list.iter().any(|x| x == p.key());
            let active = |p: Platform| {
                self.details
                    .get("new_media")
                    .and_then(|d| d.pointer(&format!("/activity/{}/active", p.key())))
                    .and_then(Value::as_bool)
                    == Some(true)
            };
            let level = match u8::from(has(Platform::Weibo)) + u8::from(has(Platform::Wechat)) {
                0 => "none",
                1 => "one",
                _ if active(Platform::Weibo) && active(Platform::Wechat) => "active",
                _ => "both",
            };
            out.insert("S3.4".to_string(), json!(level));
        }
        out
    }
}

/// Linear-interpolation percentile (numpy's default), as the checks report.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// One fetched URL of the simulated crawl.
#[derive(Debug, Clone)]
pub struct Crawled {
    /// Site path (`/site/<code>/…`).
    pub path: String,
    pub depth: u32,
    pub status: u16,
    pub soft_404: bool,
    pub viewport: bool,
    pub is_html: bool,
    pub links: Vec<String>,
}

/// Breadth-first walk of a normal site over the links the renderer recorded: same site
/// only, `admin/` excluded (robots.txt), every page once.
pub fn walk(portals: &Portals, s: &SiteSpec) -> Vec<Crawled> {
    let b = base(&s.code);
    let disallowed = format!("{b}admin/");
    // The redirect into a host whose robots.txt disallows its target (`robust`).
    let jump = crate::robust::robots_skipped(s);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Crawled> = Vec::new();
    let mut queue = VecDeque::from([(b.clone(), 0u32)]);
    seen.insert(b.clone(), 0);
    while let Some((path, depth)) = queue.pop_front() {
        let rest = &path[b.len()..];
        let c = match portals.render(s, rest, "") {
            Some(r) => Crawled {
                path: path.clone(),
                depth,
                status: r.status,
                soft_404: r.soft_404,
                viewport: r.viewport,
                is_html: r.is_html,
                links: r.links,
            },
            None => Crawled {
                path: path.clone(),
                depth,
                status: 404,
                soft_404: false,
                viewport: false,
                is_html: true,
                links: vec![],
            },
        };
        if c.status == 200 && c.is_html {
            for l in &c.links {
                if l.starts_with(&b)
                    && !l.starts_with(&disallowed)
                    && jump.as_deref() != Some(l.as_str())
                    && !seen.contains_key(l)
                {
                    seen.insert(l.clone(), out.len() + queue.len() + 1);
                    queue.push_back((l.clone(), depth + 1));
                }
            }
        }
        out.push(c);
    }
    out
}

fn veto_list(
    values: &BTreeMap<String, Value>,
    details: &BTreeMap<String, Value>,
    board: bool,
) -> Value {
    let mut v = Vec::new();
    if values["availability"]
        .as_f64()
        .is_some_and(|x| x < AVAILABILITY_MIN)
    {
        v.push("site_unreachable");
    }
    if values["freshness"]
        .as_i64()
        .is_some_and(|x| x > HOME_STALE_DAYS)
    {
        v.push("home_not_updated");
    }
    let f = &details["freshness"];
    let n = |k: &str| f[k].as_u64().unwrap_or(0);
    if n("stale_columns") >= 5 || n("long_stale_columns") >= 10 || n("empty_columns") >= 5 {
        v.push("columns_not_updated");
    }
    let overdue = board.then(|| {
        let m = &details["message_board"];
        m["unanswered_over_limit"].as_u64().unwrap_or(0) + m["late_replies"].as_u64().unwrap_or(0)
    });
    if values["intake_channels"] == json!(0) || overdue.is_some_and(|o| o > 0) {
        v.push("poor_interaction");
    }
    json!(v)
}

/// The truth of one site; `url` is its portal URL.
pub fn site_truth(portals: &Portals, s: &SiteSpec, url: String) -> SiteTruth {
    if let Some(k) = s.scripted {
        return crate::scripted::truth(s, k, url);
    }
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let mut details: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(h) = s.hostile {
        let (v, state) = match h {
            Hostile::Slow | Hostile::Drip => (json!(0.0), Some("timeout")),
            Hostile::RedirectLoop => (json!(0.0), Some("too_many_redirects")),
            Hostile::Waf => (Value::Null, None),
            Hostile::GzipBomb | Hostile::Huge => (json!(0.0), Some("too_large")),
            Hostile::Calendar => (json!(1.0), None),
        };
        values.insert("availability".into(), v);
        details.insert(
            "availability".into(),
            match (h, state) {
                (Hostile::Waf, _) => json!({ "challenged": 1 }),
                (_, Some(st)) => json!({ "failures": { st: 1 } }),
                _ => json!({ "successes": 1 }),
            },
        );
        return SiteTruth {
            code: s.code.clone(),
            url,
            hostile: Some(h.key().to_string()),
            values,
            details,
            pages: 0,
            max_depth: 0,
        };
    }

    let crawl = walk(portals, s);
    let ok_html: Vec<&Crawled> = crawl
        .iter()
        .filter(|c| c.status == 200 && c.is_html && !c.soft_404)
        .collect();
    values.insert("availability".into(), json!(1.0));
    if crate::robust::Robust::of(s) == Some(crate::robust::Robust::RateLimited) {
        // Its 429s were waited out: up, and neither challenged nor failed.
        details.insert(
            "availability".into(),
            json!({ "successes": 1, "challenged": 0, "failures": {} }),
        );
    }
    values.insert("https".into(), json!(false));

    let with_vp = ok_html.iter().filter(|c| c.viewport).count();
    let share = with_vp as f64 / ok_html.len() as f64;
    values.insert("mobile".into(), json!(share >= 0.5));
    details.insert(
        "mobile".into(),
        json!({ "pages": ok_html.len(), "pages_with_viewport": with_vp, "home_has_viewport": s.viewport != Viewport::None }),
    );

    let has_items = s.columns.iter().any(|c| !c.ages.is_empty());
    values.insert("search".into(), json!(s.search != SearchKind::None));
    let probe_ok = match s.search {
        SearchKind::Working if has_items => json!(true),
        SearchKind::Broken if has_items => json!(false),
        _ => Value::Null,
    };
    details.insert("search".into(), json!({ "test_query_ok": probe_ok }));

    values.insert("qa_assistant".into(), json!(s.qa.is_some()));
    values.insert("accessibility".into(), json!(s.a11y.is_some()));
    values.insert("elderly_mode".into(), json!(s.elderly.is_some()));
    // Every defect is page-wide, so it fails its sub-check; the others pass (the logo link
    // keeps a title when its image loses the alt, so `link_text` always passes).
    let ab = s.a11y_basics;
    let subs = [
        ("lang", ab.lang),
        ("title", true),
        ("no_auto_refresh", !ab.refresh),
        ("img_alt", ab.alt),
        ("form_labels", ab.labels != Labels::Missing),
        ("link_text", true),
    ];
    let mut basics = json!({
        "failed": subs.iter().filter(|(_, ok)| !ok).map(|(n, _)| *n).collect::<Vec<_>>(),
    });
    for (n, ok) in subs {
        basics[n] = json!({ "pass": ok });
    }
    values.insert("accessibility_basics".into(), json!(ab.pass()));
    details.insert("accessibility_basics".into(), basics);
    let mut platforms: Vec<_> = s.media.iter().map(|(p, _)| *p).collect();
    platforms.sort();
    values.insert(
        "new_media".into(),
        json!(platforms.iter().map(|p| p.key()).collect::<Vec<_>>()),
    );
    // Per linked platform, the newest dated post of its feed (undated feeds read as none).
    let mut activity = serde_json::Map::new();
    for p in &platforms {
        let newest = s
            .feeds
            .iter()
            .find(|f| f.platform == *p && f.dated)
            .map(|f| (f.ages[0], f.ages.len()));
        activity.insert(
            p.key().into(),
            json!({
                "posts": newest.map_or(0, |(_, n)| n),
                "latest_post_days": newest.map(|(a, _)| a),
                "active": newest.map(|(a, _)| a <= ACTIVE_DAYS),
            }),
        );
    }
    details.insert("new_media".into(), json!({ "activity": activity }));

    match &s.board {
        Some(b) => {
            let n = b.msgs.len();
            let answered = b.msgs.iter().filter(|m| m.reply_delay.is_some()).count();
            let mut days: Vec<f64> = b
                .msgs
                .iter()
                .filter_map(|m| m.reply_delay.map(|d| d as f64))
                .collect();
            days.sort_by(f64::total_cmp);
            let oldest = b
                .msgs
                .iter()
                .filter(|m| m.reply_delay.is_none())
                .map(|m| m.age)
                .max();
            let over = b
                .msgs
                .iter()
                .filter(|m| m.reply_delay.is_none() && m.age > UNANSWERED_DAYS && m.age <= 365)
                .count();
            let late = b
                .msgs
                .iter()
                .filter(|m| m.reply_delay.is_some_and(|d| d > UNANSWERED_DAYS) && m.age <= 365)
                .count();
            values.insert("message_board".into(), json!(answered as f64 / n as f64));
            details.insert(
                "message_board".into(),
                json!({
                    "messages": n, "answered": answered,
                    "median_reply_days": percentile(&days, 50.0), "p90_reply_days": percentile(&days, 90.0),
                    "max_reply_days": days.last(), "oldest_unanswered_days": oldest,
                    "unanswered_over_limit": over, "late_replies": late,
                }),
            );
        }
        None => {
            values.insert("message_board".into(), Value::Null);
        }
    }
    values.insert(
        "intake_channels".into(),
        json!(s.channels.iter().filter(|c| **c).count()),
    );

    if s.guides.is_empty() {
        values.insert("service_guide".into(), Value::Null);
    } else {
        let shares: Vec<f64> = s
            .guides
            .iter()
            .map(|g| {
                g.fields
                    .iter()
                    .filter(|f| **f == crate::spec::Field::Present)
                    .count() as f64
                    / 6.0
            })
            .collect();
        values.insert(
            "service_guide".into(),
            json!(shares.iter().sum::<f64>() / shares.len() as f64),
        );
        details.insert("service_guide".into(), json!({ "guides": s.guides.len() }));
    }

    let newest = s
        .columns
        .iter()
        .filter_map(|c| c.ages.first().copied())
        .min();
    values.insert("freshness".into(), json!(newest));
    let stale = s
        .columns
        .iter()
        .filter(|c| match (c.kind, c.ages.first()) {
            (ColumnKind::Dynamic, Some(a)) => *a > DYNAMIC_DAYS,
            (ColumnKind::Notice, Some(a)) => *a > NOTICE_DAYS,
            _ => false,
        })
        .count();
    let long = s
        .columns
        .iter()
        .filter(|c| c.ages.first().is_some_and(|a| *a > LONG_DAYS))
        .count();
    let empty = s.columns.iter().filter(|c| c.ages.is_empty()).count();
    details.insert(
        "freshness".into(),
        json!({ "stale_columns": stale, "long_stale_columns": long, "empty_columns": empty, "columns_found": s.columns.len() }),
    );

    // Links: targets of links on the fetched, working HTML pages.
    let b = base(&s.code);
    let disallowed = format!("{b}admin/");
    let by_path: HashMap<&str, &Crawled> = crawl.iter().map(|c| (c.path.as_str(), c)).collect();
    let broken = |p: &str| {
        by_path
            .get(p)
            .is_some_and(|c| c.status != 200 || c.soft_404)
    };
    let mut home_t = BTreeSet::new();
    let mut inner_t = BTreeSet::new();
    let jump = crate::robust::robots_skipped(s);
    for c in &ok_html {
        for l in c.links.iter().filter(|l| {
            l.starts_with(&b) && !l.starts_with(&disallowed) && jump.as_deref() != Some(l.as_str())
        }) {
            if c.path == b {
                home_t.insert(l.as_str());
            } else {
                inner_t.insert(l.as_str());
            }
        }
    }
    let all: BTreeSet<&str> = home_t.union(&inner_t).copied().collect();
    let nb = |set: &BTreeSet<&str>| set.iter().filter(|p| broken(p)).count();
    values.insert("links".into(), json!(nb(&all) as f64 / all.len() as f64));
    details.insert(
        "links".into(),
        json!({
            "checked": all.len(), "broken": nb(&all),
            "home": { "checked": home_t.len(), "broken": nb(&home_t) },
            "inner": { "checked": inner_t.len(), "broken": nb(&inner_t) },
        }),
    );

    values.insert("identity".into(), json!(s.icp));
    details.insert(
        "identity".into(),
        json!({
            "icp": s.icp.then(|| crate::render::icp_number(s)),
            "site_code": s.site_code.then(|| crate::render::site_code_number(s)),
            "site_id_code_meta": s.meta_site_id.then(|| crate::render::site_code_number(s)),
            "gov_cn_domain": false,
        }),
    );
    let v = veto_list(&values, &details, s.board.is_some());
    values.insert("veto".into(), v);

    SiteTruth {
        code: s.code.clone(),
        url,
        hostile: None,
        values,
        details,
        pages: crawl.len(),
        max_depth: crawl.iter().map(|c| c.depth).max().unwrap_or(0),
    }
}
