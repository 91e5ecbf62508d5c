//! `links`: broken links, soft 404s included, among the links whose targets the crawler fetched.

use super::doc::url_key;
use super::{Analysis, CheckConfig};
use crate::model::{FetchState, Finding};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why a fetched link target is broken, or `None` when it works. `Some(None)`: not judged
/// (a bot challenge, a robots.txt refusal or our own size cap say nothing about the link).
fn verdict(a: &Analysis, page: usize) -> Option<Option<String>> {
    let p = a.page(page);
    match p.state {
        FetchState::Ok => {
            let soft = a.docs.iter().any(|d| d.page == page && d.soft_404);
            Some(soft.then(|| "soft_404".to_string()))
        }
        FetchState::WafChallenge
        | FetchState::RateLimited
        | FetchState::RobotsDisallowed
        | FetchState::TooLarge => None,
        other => Some(Some(
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        )),
    }
}

/// Share (0–1) of checked links that are broken. A link is checked when the crawler fetched
/// its target (`<a href>` targets only; images and scripts are not links here); it is broken
/// when the fetch failed (404, 5xx, timeout, too many redirects …) or gave a soft 404 (status
/// 200 with a "页面不存在" page). Details split links found on the home page from links found
/// on inner pages (a target linked from both counts in both) and count unchecked links.
pub fn links(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "links";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let mut fetched: HashMap<String, usize> = HashMap::new();
    for (i, p) in a.visit.pages.iter().enumerate() {
        for u in [&p.url, &p.final_url] {
            if let Some(k) = url_key(u) {
                fetched.entry(k).or_insert(i);
            }
        }
    }
    // target key → (page index, broken reason), per bucket.
    let mut all: BTreeMap<String, (usize, Option<String>)> = BTreeMap::new();
    let mut home_set: BTreeSet<String> = BTreeSet::new();
    let mut inner_set: BTreeSet<String> = BTreeSet::new();
    let mut unchecked: BTreeSet<String> = BTreeSet::new();
    let mut found_on: HashMap<String, String> = HashMap::new();
    let mut sources = Vec::new();
    for d in a.content_docs() {
        sources.push(d.page);
        for l in &d.links {
            let Some(key) = l.target.as_deref().and_then(url_key) else {
                continue;
            };
            match fetched
                .get(&key)
                .and_then(|&i| verdict(a, i).map(|v| (i, v)))
            {
                Some((i, v)) => {
                    all.insert(key.clone(), (i, v));
                    found_on.entry(key.clone()).or_insert_with(|| d.url.clone());
                    if Some(d.page) == a.home {
                        home_set.insert(key);
                    } else {
                        inner_set.insert(key);
                    }
                }
                None => {
                    unchecked.insert(key);
                }
            }
        }
    }
    if all.is_empty() {
        return a.cannot(
            CHECK,
            "no linked page was fetched, so no link could be checked",
        );
    }
    let is_broken = |k: &String| all.get(k).is_some_and(|(_, v)| v.is_some());
    let broken: Vec<(&String, &(usize, Option<String>))> =
        all.iter().filter(|(_, (_, v))| v.is_some()).collect();
    let bucket = |s: &BTreeSet<String>| json!({ "checked": s.len(), "broken": s.iter().filter(|k| is_broken(k)).count() });
    let list: Vec<_> = broken
        .iter()
        .take(50)
        .map(|(k, (i, v))| {
            json!({ "url": k, "reason": v, "status": a.page(*i).status, "found_on": found_on.get(*k) })
        })
        .collect();
    let mut pages: Vec<usize> = sources;
    pages.extend(all.values().map(|(i, _)| *i));
    a.finding(
        CHECK,
        a.home_url(),
        json!(broken.len() as f64 / all.len() as f64),
        json!({
            "checked": all.len(),
            "broken": broken.len(),
            "unchecked": unchecked.len(),
            "home": bucket(&home_set),
            "inner": bucket(&inner_set),
            "broken_links": list,
        }),
        a.evidence(pages),
    )
}
