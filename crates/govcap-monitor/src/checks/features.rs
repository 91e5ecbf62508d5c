//! Feature checks read from the pages: `mobile`, `search`, `qa_assistant`, `accessibility`,
//! `elderly_mode`, `new_media`, `identity`.
//!
//! Words are matched on short clickable texts only (menu entries, buttons, image alts, QR
//! captions; see [`super::doc::MAX_CONTROL_CHARS`]) so that a headline such as
//! "关怀困难群众" or "微博热议" cannot switch a feature on.

use super::dates::Date;
use super::doc::{url_key, PageDoc, SEARCH_PARAMS};
use super::{Analysis, CheckConfig};
use crate::model::{Finding, Page};
use serde_json::{json, Value};

/// Text markers of an intelligent Q&A / online assistant entry.
pub const QA_MARKERS: &[&str] = &[
    "智能问答",
    "智能客服",
    "在线客服",
    "智能咨询",
    "智能助手",
    "政务助手",
    "问答机器人",
    "机器人客服",
    "AI助手",
];
/// Text markers of an accessibility (无障碍) mode or toolbar entry.
pub const ACCESSIBILITY_TEXT_MARKERS: &[&str] = &["无障碍", "辅助浏览", "读屏"];
/// Script-URL fingerprints of accessibility toolbars seen on government portals
/// (cniil.com 信息无障碍 toolbar, `wza` scripts, `jdw`, the `aria.js` toolbar, `assist.js`).
/// A fingerprint list to grow from observed sites.
pub const ACCESSIBILITY_SCRIPT_MARKERS: &[&str] = &[
    "cniil",
    "/wza/",
    "wza.js",
    "wza.min.js",
    "jdw",
    "aria.js",
    "ariascripts",
    "assist.js",
    "barrierfree",
];
/// Element-id fingerprints of accessibility toolbars.
pub const ACCESSIBILITY_ID_MARKERS: &[&str] = &["ariascripts", "cniil", "wza", "barrierfree"];
/// Text markers of an elderly-friendly (适老化) mode.
pub const ELDERLY_MARKERS: &[&str] = &[
    "适老",
    "长者",
    "关怀模式",
    "关怀版",
    "老年模式",
    "老年版",
    "敬老版",
    "大字版",
];
/// The platforms `new_media` reports, in this order.
pub const PLATFORMS: &[&str] = &["weibo", "wechat", "douyin", "app", "mini_program"];

fn pages_of<'d>(docs: impl Iterator<Item = &'d PageDoc>) -> Vec<usize> {
    docs.map(|d| d.page).collect()
}

/// True when the sampled pages declare a device-width viewport: at least
/// `cfg.mobile_min_share` of the fetched HTML pages (soft 404s excluded) do.
pub fn mobile(a: &Analysis, cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "mobile";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let docs: Vec<&PageDoc> = a.content_docs().collect();
    let with: Vec<&PageDoc> = docs
        .iter()
        .copied()
        .filter(|d| {
            d.meta("viewport").is_some_and(|v| {
                v.to_ascii_lowercase()
                    .replace(' ', "")
                    .contains("width=device-width")
            })
        })
        .collect();
    let share = with.len() as f64 / docs.len() as f64;
    let home_has = a
        .home_doc()
        .is_some_and(|h| with.iter().any(|d| d.page == h.page));
    a.finding(
        CHECK,
        a.home_url(),
        json!(share >= cfg.mobile_min_share),
        json!({
            "share": share,
            "pages": docs.len(),
            "pages_with_viewport": with.len(),
            "home_has_viewport": home_has,
        }),
        a.evidence(pages_of(docs.into_iter())),
    )
}

/// The functional search test: the query the monitor submits and what it expects back.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchProbe {
    /// The GET URL to fetch (the form's action with its hidden fields and the query).
    pub url: String,
    pub query: String,
    /// The newest dated article on the home page, which the results should list.
    pub expect_url: String,
    pub expect_title: String,
}

/// Characters of the newest title submitted as the test query (monitoring.md §4.6: 8–12).
const QUERY_CHARS: usize = 10;

fn probe_from_doc(home: &PageDoc) -> Option<SearchProbe> {
    let form = home
        .forms
        .iter()
        .find(|f| f.search_like && f.method == "get" && f.action.is_some())?;
    let query_input = form
        .inputs
        .iter()
        .find(|i| SEARCH_PARAMS.contains(&i.name.as_str()))
        .or_else(|| form.inputs.iter().find(|i| i.kind == "search"))
        .or_else(|| form.inputs.iter().find(|i| i.kind == "text"))?;
    // The newest dated item; the first in page order on ties.
    let mut newest: Option<(&super::doc::Link, super::dates::Date)> = None;
    for (l, d) in home.dated_links() {
        let usable = l.target.is_some() && l.text.chars().count() >= 4;
        if usable && newest.is_none_or(|(_, nd)| d > nd) {
            newest = Some((l, d));
        }
    }
    let (article, _) = newest?;
    let title = article.text.trim_end_matches(['.', '…']).trim().to_string();
    let query: String = title.chars().take(QUERY_CHARS).collect();
    let mut url = url::Url::parse(form.action.as_deref()?).ok()?;
    {
        let mut q = url.query_pairs_mut();
        for i in &form.inputs {
            if i.name == query_input.name {
                q.append_pair(&i.name, &query);
            } else if i.kind == "hidden" {
                q.append_pair(&i.name, &i.value);
            }
        }
    }
    Some(SearchProbe {
        url: url.to_string(),
        query,
        expect_url: article.target.clone()?,
        expect_title: title,
    })
}

/// The URL key of the search probe of a home page, so other checks can skip the results page.
pub(crate) fn probe_url_key(home: &PageDoc) -> Option<String> {
    probe_from_doc(home).and_then(|p| url_key(&p.url))
}

/// The search test the crawler should run on a home page: fetch `probe.url` and include the
/// page in the visit, and the `search` check will judge it. `None` when the home page has no
/// GET search form or no dated item to look for.
pub fn search_probe(home: &Page) -> Option<SearchProbe> {
    PageDoc::parse(0, home).and_then(|d| probe_from_doc(&d))
}

/// True when a site-search form (or a search box) is present. `details.test_query` tells
/// whether searching for the newest home-page title returned that article (null when the
/// crawler did not run the probe).
pub fn search(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "search";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let with_form: Vec<&PageDoc> = a
        .content_docs()
        .filter(|d| d.forms.iter().any(|f| f.search_like) || d.search_box_outside_form)
        .collect();
    let home = a.home_doc();
    let probe = home.and_then(probe_from_doc);
    let mut evidence = a.evidence(a.home);
    let test = match &probe {
        None => json!(null),
        Some(p) => {
            let key = url_key(&p.url);
            let fetched = a
                .visit
                .pages
                .iter()
                .position(|pg| url_key(&pg.url) == key && key.is_some());
            match fetched {
                None => json!(null),
                Some(i) => {
                    evidence.extend(a.evidence([i]));
                    let expect = url_key(&p.expect_url);
                    let ok = a.docs.iter().find(|d| d.page == i).is_some_and(|d| {
                        d.links.iter().any(|l| {
                            l.target.as_deref().and_then(url_key) == expect
                                || l.text.contains(&p.expect_title)
                        })
                    });
                    json!({
                        "query": p.query, "url": p.url, "expected_url": p.expect_url,
                        "expected_title": p.expect_title, "ok": ok,
                    })
                }
            }
        }
    };
    let mut details = json!({
        "pages_with_form": with_form.iter().map(|d| d.url.clone()).collect::<Vec<_>>(),
        "home_has_form": home.is_some_and(|h| with_form.iter().any(|d| d.page == h.page)),
        "test_query": test,
    });
    if test.is_null() {
        details["test_query_reason"] = json!(match &probe {
            None if with_form.is_empty() => "no search form",
            None => "no GET search form with a dated home-page item to search for",
            Some(_) => "the crawler did not run the search probe",
        });
    }
    if with_form.is_empty() {
        evidence = a.evidence(pages_of(a.content_docs()));
    }
    a.finding(
        CHECK,
        a.home_url(),
        json!(!with_form.is_empty()),
        details,
        evidence,
    )
}

/// Pages and the short texts (menu entries, button labels, image alts, QR captions) on them
/// that contain one of `markers`.
fn text_hits<'d>(a: &'d Analysis, markers: &[&str]) -> Vec<(&'d PageDoc, String)> {
    let mut hits = Vec::new();
    for d in a.content_docs() {
        let captions = d.imgs.iter().map(|i| &i.caption);
        for t in d.controls.iter().chain(captions) {
            if markers.iter().any(|m| t.contains(m)) && !hits.iter().any(|(_, h)| h == t) {
                hits.push((d, t.clone()));
            }
        }
    }
    hits
}

/// A presence finding: true with the pages where markers were found, or false with every
/// page searched as evidence.
fn presence(a: &Analysis, check: &str, found: Vec<(usize, Value)>) -> Finding {
    let value = !found.is_empty();
    let pages: Vec<usize> = if value {
        found.iter().map(|(p, _)| *p).collect()
    } else {
        pages_of(a.content_docs())
    };
    let url = found
        .first()
        .map(|(p, _)| a.page(*p).final_url.clone())
        .unwrap_or_else(|| a.home_url());
    let markers: Vec<Value> = found.into_iter().map(|(_, m)| m).collect();
    a.finding(
        check,
        url,
        json!(value),
        json!({ "markers": markers, "pages_searched": a.content_docs().count() }),
        a.evidence(pages),
    )
}

/// True when an intelligent Q&A / online-assistant entry is offered ([`QA_MARKERS`], or a
/// "小X助手" style name).
pub fn qa_assistant(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "qa_assistant";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let mut found = Vec::new();
    for d in a.content_docs() {
        for t in &d.controls {
            let named_helper =
                t.find('小')
                    .map(|i| &t[i + '小'.len_utf8()..])
                    .is_some_and(|rest| {
                        rest.char_indices()
                            .skip(1)
                            .take(2)
                            .any(|(j, _)| rest[j..].starts_with("助手"))
                    });
            if QA_MARKERS.iter().any(|m| t.contains(m)) || named_helper {
                found.push((
                    d.page,
                    json!({ "kind": "text", "marker": t, "page": d.url }),
                ));
            }
        }
    }
    found.dedup_by(|x, y| x.1["marker"] == y.1["marker"]);
    presence(a, CHECK, found)
}

/// True when an accessibility mode or toolbar is offered: an entry whose text says 无障碍
/// ([`ACCESSIBILITY_TEXT_MARKERS`]) or a known toolbar script or container
/// ([`ACCESSIBILITY_SCRIPT_MARKERS`], [`ACCESSIBILITY_ID_MARKERS`]).
pub fn accessibility(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "accessibility";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let mut found: Vec<(usize, Value)> = text_hits(a, ACCESSIBILITY_TEXT_MARKERS)
        .into_iter()
        .map(|(d, t)| {
            (
                d.page,
                json!({ "kind": "text", "marker": t, "page": d.url }),
            )
        })
        .collect();
    for d in a.content_docs() {
        for s in &d.scripts {
            let l = s.to_ascii_lowercase();
            if let Some(m) = ACCESSIBILITY_SCRIPT_MARKERS.iter().find(|m| l.contains(*m)) {
                found.push((
                    d.page,
                    json!({ "kind": "script", "marker": m, "src": s, "page": d.url }),
                ));
            }
        }
        for id in &d.ids {
            let l = id.to_ascii_lowercase();
            if let Some(m) = ACCESSIBILITY_ID_MARKERS.iter().find(|m| l.contains(*m)) {
                found.push((
                    d.page,
                    json!({ "kind": "id", "marker": m, "id": id, "page": d.url }),
                ));
            }
        }
    }
    presence(a, CHECK, found)
}

/// True when an elderly-friendly mode is offered ([`ELDERLY_MARKERS`]).
pub fn elderly_mode(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "elderly_mode";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let found = text_hits(a, ELDERLY_MARKERS)
        .into_iter()
        .map(|(d, t)| {
            (
                d.page,
                json!({ "kind": "text", "marker": t, "page": d.url }),
            )
        })
        .collect();
    presence(a, CHECK, found)
}

/// The platform a link host belongs to.
fn platform_of_host(host: &str) -> Option<&'static str> {
    let is = |d: &str| host == d || host.ends_with(&format!(".{d}"));
    if is("weibo.com") || is("weibo.cn") || is("t.sina.com.cn") {
        Some("weibo")
    } else if is("mp.weixin.qq.com") || is("weixin.qq.com") {
        Some("wechat")
    } else if is("douyin.com") || is("iesdouyin.com") {
        Some("douyin")
    } else if is("apps.apple.com")
        || is("itunes.apple.com")
        || is("app.mi.com")
        || is("sj.qq.com")
        || is("appgallery.huawei.com")
    {
        Some("app")
    } else {
        None
    }
}

/// The platform a short text names (小程序 before 微信, so 微信小程序 is a mini-program).
fn platform_of_text(t: &str) -> Option<&'static str> {
    let l = t.to_ascii_lowercase();
    if t.contains("小程序") {
        Some("mini_program")
    } else if t.contains("微博") {
        Some("weibo")
    } else if t.contains("微信") || t.contains("公众号") {
        Some("wechat")
    } else if t.contains("抖音") {
        Some("douyin")
    } else if t.contains("客户端") || (l.contains("app") && !l.contains("apple")) {
        Some("app")
    } else {
        None
    }
}

/// The platform a block heading names, when it names exactly one: a tabbed
/// "政务微博 | 政务微信" block says nothing about which list belongs to which.
fn platform_of_heading(h: &str) -> Option<&'static str> {
    let weibo = h.contains("微博");
    let wechat = h.contains("微信") || h.contains("公众号");
    if weibo && wechat {
        return None;
    }
    platform_of_text(h)
}

/// Dated posts of one platform shown on the site.
#[derive(Debug, Clone, Default)]
struct Posts {
    count: usize,
    /// Newest post date on or before `as_of`, with its page.
    newest: Option<(Date, usize)>,
    /// Posts dated after `as_of` (ignored, as in `freshness`).
    future: usize,
}

/// Dated posts per platform: dated list links whose target is on the platform (a
/// weibo.com / mp.weixin.qq.com post), or that sit in a block whose heading names it (a
/// 政务微博 / 政务微信 column; see [`super::doc::section_heading`]). The link host wins when
/// both say something.
fn platform_posts(a: &Analysis) -> Vec<(&'static str, Posts)> {
    let mut out: Vec<(&'static str, Posts)> = Vec::new();
    // A column in the site template shows the same posts on every page: count each once.
    let mut seen: std::collections::HashSet<(&'static str, Option<&str>, Date)> =
        std::collections::HashSet::new();
    for d in a.content_docs() {
        for (l, date) in d.dated_links() {
            let host = l
                .target
                .as_deref()
                .and_then(|t| url::Url::parse(t).ok())
                .and_then(|u| u.host_str().and_then(platform_of_host));
            let Some(p) = host.or_else(|| l.section.as_deref().and_then(platform_of_heading))
            else {
                continue;
            };
            if !seen.insert((p, l.target.as_deref(), date)) {
                continue;
            }
            let i = match out.iter().position(|(q, _)| *q == p) {
                Some(i) => i,
                None => {
                    out.push((p, Posts::default()));
                    out.len() - 1
                }
            };
            let e = &mut out[i].1;
            if a.as_of.is_some_and(|as_of| date > as_of) {
                e.future += 1;
                continue;
            }
            e.count += 1;
            if e.newest.is_none_or(|(n, _)| date > n) {
                e.newest = Some((date, d.page));
            }
        }
    }
    out
}

/// The platforms linked from the site, from `weibo`, `wechat`, `douyin`, `app`,
/// `mini_program`: by link host (weibo.com, mp.weixin.qq.com, douyin.com, app stores), by
/// short link texts and by QR-code alts and captions.
///
/// `details.activity` has, per platform linked or with posts, the dated posts the site shows
/// for it (dated list links to the platform's host, or under a block heading naming it):
/// `posts`, `latest_post`, `latest_post_days` from `as_of`, `url` of the page showing the
/// newest, and `active`: true when the newest post is at most `cfg.new_media_active_days`
/// old, false when older, null when no dated post was found (a platform is never called
/// active or inactive without a date).
pub fn new_media(a: &Analysis, cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "new_media";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let mut found: Vec<(&'static str, usize, Value)> = Vec::new();
    for d in a.content_docs() {
        for l in &d.links {
            let host = l
                .target
                .as_deref()
                .and_then(|t| url::Url::parse(t).ok())
                .and_then(|u| u.host_str().map(str::to_string));
            if let Some(p) = host.as_deref().and_then(platform_of_host) {
                found.push((
                    p,
                    d.page,
                    json!({ "platform": p, "kind": "link", "href": l.target, "page": d.url }),
                ));
            }
        }
        for t in &d.controls {
            if let Some(p) = platform_of_text(t) {
                found.push((
                    p,
                    d.page,
                    json!({ "platform": p, "kind": "text", "marker": t, "page": d.url }),
                ));
            }
        }
        for img in &d.imgs {
            if let Some(p) = platform_of_text(&img.caption) {
                found.push((p, d.page, json!({ "platform": p, "kind": "qr_caption", "marker": img.caption, "page": d.url })));
            }
        }
    }
    let platforms: Vec<&str> = PLATFORMS
        .iter()
        .copied()
        .filter(|p| found.iter().any(|(q, _, _)| q == p))
        .collect();
    let mut sources: Vec<Value> = Vec::new();
    for (_, _, v) in &found {
        if !sources.contains(v) {
            sources.push(v.clone());
        }
    }
    let posts = platform_posts(a);
    let mut activity = serde_json::Map::new();
    for p in PLATFORMS {
        let e = posts.iter().find(|(q, _)| q == p).map(|(_, e)| e);
        if !platforms.contains(p) && e.is_none() {
            continue;
        }
        let e = e.cloned().unwrap_or_default();
        let days = e
            .newest
            .and_then(|(d, _)| a.as_of.map(|as_of| d.days_until(as_of)));
        activity.insert(
            p.to_string(),
            json!({
                "posts": e.count,
                "future_posts": e.future,
                "latest_post": e.newest.map(|(d, _)| d.to_string()),
                "latest_post_days": days,
                "active": days.map(|n| n <= cfg.new_media_active_days),
                "url": e.newest.map(|(_, pg)| a.page(pg).final_url.clone()),
            }),
        );
    }
    let mut pages: Vec<usize> = if found.is_empty() {
        pages_of(a.content_docs())
    } else {
        found.iter().map(|(_, p, _)| *p).collect()
    };
    pages.extend(posts.iter().filter_map(|(_, e)| e.newest.map(|(_, p)| p)));
    let mut details = json!({
        "sources": sources,
        "activity": activity,
        "active_days": cfg.new_media_active_days,
    });
    if a.as_of.is_none() && posts.iter().any(|(_, e)| e.newest.is_some()) {
        details["activity_reason"] = json!("as_of is not a YYYY-MM-DD date: post ages unknown");
    }
    a.finding(
        CHECK,
        a.home_url(),
        json!(platforms),
        details,
        a.evidence(pages),
    )
}

/// `京ICP备05060933号-5` style record numbers: a province character, `ICP备`, digits, `号`,
/// and an optional `-n` suffix.
pub fn find_icp(text: &str) -> Option<String> {
    for (i, _) in text.match_indices("ICP备") {
        let prefix = text[..i].chars().next_back().filter(|c| !c.is_ascii());
        let rest = &text[i + "ICP备".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() < 4 {
            continue;
        }
        let after = &rest[digits.len()..];
        if !after.starts_with('号') {
            continue;
        }
        let after = &after['号'.len_utf8()..];
        let suffix: String = after
            .strip_prefix('-')
            .map(|s| s.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default();
        let mut out = String::new();
        if let Some(p) = prefix {
            out.push(p);
        }
        out.push_str("ICP备");
        out.push_str(&digits);
        out.push('号');
        if !suffix.is_empty() {
            out.push('-');
            out.push_str(&suffix);
        }
        return Some(out);
    }
    None
}

/// `京公网安备 11010502030143号` style public-security record numbers.
pub fn find_gongan(text: &str) -> Option<String> {
    for (i, _) in text.match_indices("公网安备") {
        let rest = text[i + "公网安备".len()..].trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() >= 10 && rest[digits.len()..].starts_with('号') {
            let prefix: String = text[..i]
                .chars()
                .next_back()
                .filter(|c| !c.is_ascii())
                .into_iter()
                .collect();
            return Some(format!("{prefix}公网安备{digits}号"));
        }
    }
    None
}

/// The 网站标识码 printed in a footer (`网站标识码：1100000088` or `bm01000001`).
pub fn find_site_code(text: &str) -> Option<String> {
    for (i, _) in text.match_indices("网站标识码") {
        let rest = text[i + "网站标识码".len()..].trim_start_matches([':', '：', ' ']);
        let code: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let digits = code.chars().filter(char::is_ascii_digit).count();
        if code.len() >= 10 && digits >= 8 {
            return Some(code);
        }
    }
    None
}

/// True when an ICP record number is shown. Details: the ICP, 公安备案 and 网站标识码 numbers
/// found in the text, the `SiteIDCode` meta tag, and whether the host is a .gov.cn domain.
pub fn identity(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "identity";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    // Home first: footers repeat on every page, so the first hit is the home page's.
    let mut docs: Vec<&PageDoc> = a.content_docs().collect();
    docs.sort_by_key(|d| Some(d.page) != a.home);
    let first = |f: &dyn Fn(&PageDoc) -> Option<String>| -> Option<(usize, String)> {
        docs.iter().find_map(|d| f(d).map(|v| (d.page, v)))
    };
    let icp = first(&|d| find_icp(&d.text));
    let gongan = first(&|d| find_gongan(&d.text));
    let site_code = first(&|d| find_site_code(&d.text));
    let meta = first(&|d| {
        d.meta("SiteIDCode")
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    });
    let host = url::Url::parse(&a.home_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let gov_cn =
        host.ends_with(".gov.cn") || host.ends_with(".政务") || host.ends_with(".xn--zfr164b");
    let mut pages: Vec<usize> = [&icp, &gongan, &site_code, &meta]
        .iter()
        .filter_map(|x| x.as_ref().map(|(p, _)| *p))
        .collect();
    if icp.is_none() {
        pages.extend(docs.iter().map(|d| d.page));
    }
    pages.sort_unstable();
    let v = |x: &Option<(usize, String)>| x.as_ref().map(|(_, s)| s.clone());
    a.finding(
        CHECK,
        a.home_url(),
        json!(icp.is_some()),
        json!({
            "icp": v(&icp),
            "gongan": v(&gongan),
            "site_code": v(&site_code),
            "site_id_code_meta": v(&meta),
            "gov_cn_domain": gov_cn,
            "host": host,
        }),
        a.evidence(pages),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_numbers() {
        let t = "主办单位：某市人民政府 网站标识码：1100000088 京ICP备05060933号-5 京公网安备 11010502030143号";
        assert_eq!(find_icp(t).as_deref(), Some("京ICP备05060933号-5"));
        assert_eq!(
            find_gongan(t).as_deref(),
            Some("京公网安备11010502030143号")
        );
        assert_eq!(find_site_code(t).as_deref(), Some("1100000088"));
        assert_eq!(
            find_site_code("网站标识码:bm01000001 "),
            Some("bm01000001".into())
        );
        assert_eq!(find_icp("ICP备案查询"), None);
    }

    #[test]
    fn platforms_by_host_and_text() {
        assert_eq!(platform_of_host("www.weibo.com"), Some("weibo"));
        assert_eq!(platform_of_host("mp.weixin.qq.com"), Some("wechat"));
        assert_eq!(platform_of_host("evil-weibo.com"), None);
        assert_eq!(platform_of_text("微信小程序"), Some("mini_program"));
        assert_eq!(platform_of_text("政务微信"), Some("wechat"));
        assert_eq!(platform_of_text("爱山东APP"), Some("app"));
        assert_eq!(platform_of_text("Apple"), None);
    }
}
