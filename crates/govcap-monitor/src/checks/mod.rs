//! Named checks: pure functions from a [`SiteVisit`] to [`Finding`]s.
//!
//! The check names and the meaning of their values are the contract with `findings.jsonl`
//! readers (issue 4): `availability`, `https`, `ipv6`, `mobile`, `search`, `qa_assistant`,
//! `accessibility`, `accessibility_basics`, `elderly_mode`, `new_media`, `message_board`,
//! `intake_channels`, `service_guide`, `freshness`, `links`, `identity`, `veto`.
//! `accessibility` says whether an accessibility mode is offered; `accessibility_basics`
//! (true / false) whether the pages pass the basic HTML checks of [`a11y`] (`lang`, `title`,
//! image `alt`, form labels, link text, no auto-refresh). A check that cannot run sets
//! `value: null` and says why in `details.reason`; it never guesses. Every finding lists the
//! WARC record ids of the pages it read in `evidence`, and `url` is the page that best
//! supports the value (the home page when nothing more specific applies).
//!
//! Each page is parsed once ([`Analysis::new`]) into owned facts ([`doc::PageDoc`]), so the
//! checks share one parse and no `!Send` parser state escapes.
//!
//! # Facts the fetcher supplies (`SiteVisit::facts`)
//! Keys are in [`facts`]; any may be missing, and checks that need a missing one say so.

pub mod a11y;
pub mod board;
pub mod dates;
pub mod doc;
pub mod features;
pub mod freshness;
pub mod guide;
pub mod links;
pub mod network;
pub mod veto;

use crate::model::{Finding, Page, SiteVisit};
use dates::Date;
use doc::PageDoc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use a11y::accessibility_basics;
pub use board::{intake_channels, message_board};
pub use features::{
    accessibility, elderly_mode, identity, mobile, new_media, qa_assistant, search, search_probe,
    SearchProbe,
};
pub use freshness::freshness;
pub use guide::service_guide;
pub use links::links;
pub use network::{availability, https, ipv6};
pub use veto::veto;

/// Keys of `SiteVisit::facts` the checks read; the fetcher writes them when it knows them.
pub mod facts {
    /// bool: an AAAA address answered with the same site (status and title as over IPv4).
    pub const IPV6_SAME_SITE: &str = "ipv6_same_site";
    /// [string]: the AAAA addresses found.
    pub const IPV6_ADDRESSES: &str = "ipv6_addresses";
    /// bool: the certificate verified (chain, name, dates) on the HTTPS home page.
    pub const TLS_CERT_VALID: &str = "tls_cert_valid";
    /// string: the certificate's notAfter, RFC 3339 or `YYYY-MM-DD`.
    pub const TLS_CERT_NOT_AFTER: &str = "tls_cert_not_after";
    /// bool: `http://host/` redirects to `https://` on the same host.
    pub const HTTP_REDIRECTS_TO_HTTPS: &str = "http_redirects_to_https";
    /// bool: only the legacy-TLS client could connect.
    pub const TLS_LEGACY_ONLY: &str = "tls_legacy_only";
    /// {dns, connect, tls, ttfb, total}: the home page's phase timings in ms, measured by a
    /// probe of its own (`null` for a phase that did not happen: no lookup, no TLS).
    pub const HOME_TIMINGS_MS: &str = "home_timings_ms";
    /// {rendered: [{page, record, …}], …}: pages whose `text` is Chromium's rendered DOM,
    /// each archived as a `conversion` record (see `crate::browser`).
    pub const BROWSER: &str = "browser";
    /// {confirmed, record, …}: Chromium's visit of a challenged home page (see `crate::browser`).
    pub const BROWSER_WAF: &str = "browser_waf";
}

/// Every check name, in the order [`run_all`] emits them.
pub const CHECKS: &[&str] = &[
    "availability",
    "https",
    "ipv6",
    "mobile",
    "search",
    "qa_assistant",
    "accessibility",
    "accessibility_basics",
    "elderly_mode",
    "new_media",
    "message_board",
    "intake_channels",
    "service_guide",
    "freshness",
    "links",
    "identity",
    "veto",
];

/// Thresholds of the checks and of the 2019 inspection veto rules (国办秘函〔2019〕19号),
/// configurable because several were only found second-hand (monitoring.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckConfig {
    /// Veto when the share of successful visits is below this (rule: failures ≥ 5 %).
    pub availability_min: f64,
    /// Veto when the newest home-page item is older than this many days (rule: 2 weeks).
    pub home_stale_days: i64,
    /// A news / 动态 / 要闻 column is stale after this many days (rule: 2 weeks).
    pub dynamic_column_days: i64,
    /// A 通知公告 / 政策文件 column is stale after this many days (rule: 6 months).
    pub notice_column_days: i64,
    /// Any column is "long not updated" after this many days.
    pub long_stale_days: i64,
    /// Veto at this many stale columns (rule: 5).
    pub stale_columns_veto: usize,
    /// Veto at this many long-not-updated columns (rule: 10).
    pub long_stale_columns_veto: usize,
    /// Veto at this many empty columns (rule: 5).
    pub empty_columns_veto: usize,
    /// A message unanswered (or answered) after more than this many days is a veto (rule: 3 months).
    pub unanswered_days: i64,
    /// Only messages submitted within this many days before `as_of` count for the veto (rule: 1 year).
    pub unanswered_window_days: i64,
    /// `mobile` is true when at least this share of sampled pages declares a device-width viewport.
    pub mobile_min_share: f64,
    /// Veto when the mean 办事指南 completeness is below this; `None` (the default) because
    /// the 2019 threshold was not found in the sources.
    pub guide_min_share: Option<f64>,
    /// `accessibility_basics`: share of pages that must have `<html lang>`, a `<title>` and
    /// no timed auto-refresh (each sub-check separately).
    pub a11y_min_page_share: f64,
    /// `accessibility_basics`: share of images that must have a text alternative.
    pub a11y_min_img_alt_share: f64,
    /// `accessibility_basics`: share of form controls that must be labelled.
    pub a11y_min_labelled_share: f64,
    /// `accessibility_basics`: share of links that must have discernible text.
    pub a11y_min_link_text_share: f64,
    /// `new_media`: a platform is active when its newest dated post is at most this many
    /// days old (S3.4 `active` needs Weibo and WeChat both active).
    pub new_media_active_days: i64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            availability_min: 0.95,
            home_stale_days: 14,
            dynamic_column_days: 14,
            notice_column_days: 183,
            long_stale_days: 365,
            stale_columns_veto: 5,
            long_stale_columns_veto: 10,
            empty_columns_veto: 5,
            unanswered_days: 90,
            unanswered_window_days: 365,
            mobile_min_share: 0.5,
            guide_min_share: None,
            a11y_min_page_share: 0.9,
            a11y_min_img_alt_share: 0.9,
            a11y_min_labelled_share: 0.9,
            a11y_min_link_text_share: 0.9,
            new_media_active_days: 30,
        }
    }
}

/// A site's pages parsed once, shared by all checks.
#[derive(Debug, Clone)]
pub struct Analysis<'a> {
    pub visit: &'a SiteVisit,
    /// `visit.as_of`, when it is a valid `YYYY-MM-DD` date.
    pub as_of: Option<Date>,
    /// One entry per fetched HTML page, in page order.
    pub docs: Vec<PageDoc>,
    /// Index in `visit.pages` of the home page (the first page at depth 0).
    pub home: Option<usize>,
}

impl<'a> Analysis<'a> {
    pub fn new(visit: &'a SiteVisit) -> Self {
        let docs = visit
            .pages
            .iter()
            .enumerate()
            .filter_map(|(i, p)| PageDoc::parse(i, p))
            .collect();
        let home = visit
            .pages
            .iter()
            .position(|p| p.depth == 0)
            .or(if visit.pages.is_empty() {
                None
            } else {
                Some(0)
            });
        Analysis {
            visit,
            as_of: Date::parse_iso(&visit.as_of),
            docs,
            home,
        }
    }

    pub fn page(&self, i: usize) -> &Page {
        &self.visit.pages[i]
    }

    pub fn home_page(&self) -> Option<&Page> {
        self.home.map(|i| self.page(i))
    }

    pub fn home_doc(&self) -> Option<&PageDoc> {
        let h = self.home?;
        self.docs.iter().find(|d| d.page == h)
    }

    /// The docs of usable pages: HTML, fetched, not a soft 404.
    pub fn content_docs(&self) -> impl Iterator<Item = &PageDoc> {
        self.docs.iter().filter(|d| !d.soft_404)
    }

    /// WARC record ids of the given pages, de-duplicated, in order.
    pub fn evidence(&self, pages: impl IntoIterator<Item = usize>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for i in pages {
            if let Some(r) = self.visit.pages.get(i).and_then(|p| p.warc_record.clone()) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            if let Some(r) = self.rendered_record(i) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The `conversion` record of page `i` when its text is the browser-rendered DOM.
    pub fn rendered_record(&self, i: usize) -> Option<String> {
        self.visit.facts.get(facts::BROWSER)?["rendered"]
            .as_array()?
            .iter()
            .find(|r| r["page"].as_u64() == Some(i as u64))
            .and_then(|r| r["record"].as_str().map(str::to_string))
    }

    /// The home page's final URL, or the site's home URL when it was not fetched.
    pub fn home_url(&self) -> String {
        self.home_page()
            .map(|p| p.final_url.clone())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.visit.home_url.clone())
    }

    /// A finding of this site.
    pub fn finding(
        &self,
        check: &str,
        url: String,
        value: Value,
        details: Value,
        evidence: Vec<String>,
    ) -> Finding {
        Finding {
            code: self.visit.code.clone(),
            url,
            check: check.to_string(),
            value,
            details,
            evidence,
        }
    }

    /// A finding that could not be measured: `value: null` and the reason.
    pub fn cannot(&self, check: &str, reason: &str) -> Finding {
        self.finding(
            check,
            self.home_url(),
            Value::Null,
            json!({ "reason": reason }),
            self.evidence(self.home),
        )
    }

    /// Why content checks cannot run, when the home page gave no HTML.
    pub fn no_content_reason(&self) -> Option<String> {
        match self.home_page() {
            None => Some("no page was fetched".into()),
            Some(p) if !p.is_ok() => Some(format!(
                "the home page was not fetched ({})",
                serde_json::to_value(p.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )),
            Some(_) if self.home_doc().is_none() => Some("the home page is not HTML".into()),
            Some(_) => None,
        }
    }
}

/// Runs every check on one site visit, in [`CHECKS`] order.
pub fn run_all(visit: &SiteVisit, cfg: &CheckConfig) -> Vec<Finding> {
    let a = Analysis::new(visit);
    let mut out = vec![
        availability(&a, cfg),
        https(&a, cfg),
        ipv6(&a, cfg),
        mobile(&a, cfg),
        search(&a, cfg),
        qa_assistant(&a, cfg),
        accessibility(&a, cfg),
        accessibility_basics(&a, cfg),
        elderly_mode(&a, cfg),
        new_media(&a, cfg),
        message_board(&a, cfg),
        intake_channels(&a, cfg),
        service_guide(&a, cfg),
        freshness(&a, cfg),
        links(&a, cfg),
        identity(&a, cfg),
    ];
    let avail = out.iter_mut().find(|f| f.check == "availability");
    if let (Some(b), Some(f)) = (visit.facts.get(facts::BROWSER_WAF), avail) {
        // What Chromium met on the challenged home page; the state is unchanged by it.
        f.details["browser"] = b.clone();
        if let Some(r) = b["record"]
            .as_str()
            .filter(|r| !f.evidence.iter().any(|e| e == r))
        {
            f.evidence.push(r.to_string());
        }
    }
    let v = veto(&a, cfg, &out);
    out.push(v);
    out
}
