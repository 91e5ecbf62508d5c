//! Shared by the checks tests: fixture pages as `Page` values (no network), and comparing
//! findings with the fixture's truth.

#![allow(dead_code)]

use govcap_fixture::{FixtureConfig, Portals, SiteTruth};
use govcap_monitor::checks::search_probe;
use govcap_monitor::model::{FetchState, Finding, Page, SiteVisit};
use serde_json::{Map, Value};

pub const HOST: &str = "127.0.0.1:8000";

pub fn page(
    url: String,
    status: u16,
    content_type: &str,
    text: String,
    depth: u32,
    record: String,
) -> Page {
    Page {
        final_url: url.clone(),
        url,
        state: match status {
            200 => FetchState::Ok,
            400..=499 => FetchState::Http4xx,
            _ => FetchState::Http5xx,
        },
        status: Some(status),
        headers: vec![("content-type".into(), content_type.into())],
        text,
        charset: None,
        charset_source: None,
        redirects: vec![],
        depth,
        elapsed_ms: 3,
        fetched_at: "2026-11-27T08:00:00Z".into(),
        warc_record: Some(record),
        legacy_tls: false,
    }
}

/// A complete crawl of one fixture site, rendered offline, plus the search probe the crawler
/// would run. Returns the visit and whether the probe page was added.
pub fn offline_visit(portals: &Portals, code: &str, as_of: &str) -> (SiteVisit, bool) {
    let crawl = portals.offline_crawl(code).expect("a normal site");
    let mut pages: Vec<Page> = crawl
        .iter()
        .enumerate()
        .map(|(i, (c, r))| {
            page(
                format!("http://{HOST}{}", c.path),
                r.status,
                &r.content_type,
                r.html.clone(),
                c.depth,
                format!("<urn:uuid:{code}-{i}>"),
            )
        })
        .collect();
    let mut probed = false;
    if let Some(p) = search_probe(&pages[0]) {
        let u = url::Url::parse(&p.url).unwrap();
        let rest = u.path().strip_prefix(&format!("/site/{code}/")).unwrap();
        let site = portals.site(code).unwrap();
        let r = portals
            .render(site, rest, u.query().unwrap_or(""))
            .expect("the probe URL exists");
        let n = pages.len();
        pages.push(page(
            p.url.clone(),
            r.status,
            &r.content_type,
            r.html,
            1,
            format!("<urn:uuid:{code}-{n}>"),
        ));
        probed = true;
    }
    let visit = SiteVisit {
        code: code.into(),
        home_url: format!("http://{HOST}/site/{code}/"),
        as_of: as_of.into(),
        pages,
        attempts: vec![],
        facts: Map::new(),
    };
    (visit, probed)
}

pub fn portals(sites: usize, seed: u64) -> (Portals, FixtureConfig) {
    let cfg = FixtureConfig {
        sites,
        seed,
        ..FixtureConfig::default()
    };
    (Portals::from_config(&cfg).unwrap(), cfg)
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Object(x), Value::Object(y)) => {
            x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// Every mismatch between the findings and the truth, in words (empty when all agree).
/// `probed`: the crawl included the search probe page (one more page for `mobile`).
pub fn mismatches(
    t: &SiteTruth,
    findings: &[Finding],
    probed: bool,
    viewport_all: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (check, want) in &t.values {
        let Some(f) = findings.iter().find(|f| &f.check == check) else {
            out.push(format!("{}: no {check} finding", t.code));
            continue;
        };
        if !close(want, &f.value) {
            out.push(format!(
                "{} {check}: value {} ≠ truth {want}; details {}",
                t.code, f.value, f.details
            ));
        }
        if f.evidence.is_empty() {
            out.push(format!("{} {check}: no evidence", t.code));
        }
    }
    for (check, want) in &t.details {
        let Some(f) = findings.iter().find(|f| &f.check == check) else {
            continue;
        };
        let mut want = want.clone();
        let got = match check.as_str() {
            "search" => {
                serde_json::json!({ "test_query_ok": f.details["test_query"].get("ok").cloned().unwrap_or(Value::Null) })
            }
            "mobile" if probed => {
                want["pages"] = (want["pages"].as_u64().unwrap() + 1).into();
                if viewport_all {
                    want["pages_with_viewport"] =
                        (want["pages_with_viewport"].as_u64().unwrap() + 1).into();
                }
                f.details.clone()
            }
            _ => f.details.clone(),
        };
        if !close(&want, &got) {
            out.push(format!(
                "{} {check}: details {got} do not contain truth {want}",
                t.code
            ));
        }
    }
    out
}

/// Every mismatch between the observations' graded levels (I1.2, S3.4) made from `findings`
/// and the levels the truth promises.
pub fn level_mismatches(t: &SiteTruth, findings: &[Finding]) -> Vec<String> {
    let obs = govcap_monitor::observations::to_observations(findings, 2026, "2026-11-27");
    let mut out = Vec::new();
    for (leaf, want) in &t.levels() {
        let got = obs
            .iter()
            .find(|o| o.unit == t.code && &o.indicator == leaf)
            .map(|o| match &o.value {
                govcap_core::observation::Value::Text(s) => Value::String(s.to_string()),
                govcap_core::observation::Value::Number(n) => serde_json::json!(n),
            });
        if got.as_ref() != Some(want) {
            out.push(format!("{} {leaf}: level {got:?} ≠ truth {want}", t.code));
        }
    }
    out
}
