//! Headless Chromium in the monitor, when it is installed: pages that only render with
//! scripts, and WAF challenges confirmed the way a visitor meets them.
//!
//! After a site's crawl (and before its checks) [`enhance`] does two things:
//!
//! 1. **Script-rendered pages.** Each fetched HTML page is tested by the pure
//!    [`script_rendered`] heuristic (scripts and next to no visible text, an empty SPA root
//!    such as `<div id="app"></div>`, a `<noscript>` asking for JavaScript). Up to
//!    [`BrowserConfig::max_pages_per_site`] of them (home page first) are loaded in Chromium
//!    and their DOM after the scripts ran is archived in the site's WARC as a `conversion`
//!    record whose `WARC-Refers-To` is the page's response record. The page's `text` is then
//!    replaced by that DOM, so every check reads what a visitor sees, and findings list the
//!    conversion record in their evidence next to the response (facts key `browser`). Links
//!    that exist only in the rendered DOM are not crawled: the crawl is over by then.
//! 2. **WAF confirmation.** A home page whose state is `waf_challenge` is loaded once in
//!    Chromium, which runs the challenge's script as any browser would; the outcome
//!    (`up_behind_challenge`, `challenge_persists` or `error`) goes into the `availability`
//!    finding's `details.browser` (facts key `browser_waf`). The state stays `waf_challenge`:
//!    the browser confirms, it does not change the measurement, and nothing it obtained
//!    (cookies, tokens) is ever given to the crawler. Chromium sends the monitor's own
//!    User-Agent: the browser is not a disguise.
//!
//! Without Chromium (or with `--browser off`) nothing is rendered and the run says what it
//! skipped (`summary.json` → `browser`). Chromium runs are blocking and heavy, so they run on
//! the blocking pool ([`tokio::task::spawn_blocking`]) behind a process-wide cap of
//! [`MAX_BROWSERS`] at once, each bounded in time and output by `govcap-browser`.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use scraper::{ElementRef, Html, Node};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::checks::{doc::is_html, facts};
use crate::clock;
use crate::crawl::Cancel;
use crate::model::{FetchState, Page, SiteVisit};
use crate::warc::WarcWriter;
use govcap_browser::BrowserError;

/// Chromium processes running at once in this process, whatever the number of sites.
pub const MAX_BROWSERS: usize = 2;
static SLOTS: Semaphore = Semaphore::const_new(MAX_BROWSERS);

/// `--browser`: use Chromium when installed (`auto`), never (`off`), or refuse to run
/// without it (`require`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserMode {
    #[default]
    Auto,
    Off,
    Require,
}

impl BrowserMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserMode::Auto => "auto",
            BrowserMode::Off => "off",
            BrowserMode::Require => "require",
        }
    }
}

impl FromStr for BrowserMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(BrowserMode::Auto),
            "off" => Ok(BrowserMode::Off),
            "require" => Ok(BrowserMode::Require),
            other => Err(format!(
                "--browser must be auto, off or require, not {other:?}"
            )),
        }
    }
}

/// How the monitor uses Chromium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserConfig {
    pub mode: BrowserMode,
    /// Script-rendered pages rendered per site (home page first).
    pub max_pages_per_site: usize,
    /// Wall time of one Chromium run.
    pub timeout: Duration,
    /// Virtual time the page's scripts and timers get (ms).
    pub virtual_time_budget_ms: u64,
    /// Largest DOM kept (bytes).
    pub max_dom_bytes: usize,
    /// Main-frame navigations (load, redirects, reloads) allowed per page; a challenge that
    /// keeps reloading is stopped there instead of hitting the site until the timeout.
    pub max_navigations: u32,
    /// The Chromium binary (only this one is tried); `None`: found by
    /// `govcap_browser::find_chromium` (`GOVCAP_CHROMIUM`, then `PATH`).
    pub chromium: Option<PathBuf>,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            mode: BrowserMode::Auto,
            max_pages_per_site: 3,
            timeout: Duration::from_secs(30),
            virtual_time_budget_ms: 5_000,
            max_dom_bytes: 8 * 1024 * 1024,
            max_navigations: 5,
            chromium: None,
        }
    }
}

/// `--browser require` without Chromium.
#[derive(Debug, Clone, thiserror::Error)]
#[error("--browser require: Chromium was not found (install Debian's `chromium`, or set GOVCAP_CHROMIUM to the browser's path)")]
pub struct BrowserMissing;

/// The browser a run uses: its configuration and the binary, when there is one to use.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cfg: BrowserConfig,
    pub chromium: Option<PathBuf>,
    /// Sent as the User-Agent (the monitor's own).
    pub user_agent: String,
}

impl Browser {
    /// Finds Chromium unless the mode is `off`; `require` without one is an error.
    pub fn resolve(cfg: &BrowserConfig, user_agent: &str) -> Result<Browser, BrowserMissing> {
        let chromium = match cfg.mode {
            BrowserMode::Off => None,
            // A binary named in the configuration is the only one tried.
            _ => match &cfg.chromium {
                Some(p) => p.is_file().then(|| p.clone()),
                None => govcap_browser::find_chromium(),
            },
        };
        if cfg.mode == BrowserMode::Require && chromium.is_none() {
            return Err(BrowserMissing);
        }
        Ok(Browser {
            cfg: cfg.clone(),
            chromium,
            user_agent: user_agent.to_string(),
        })
    }

    pub fn available(&self) -> bool {
        self.chromium.is_some()
    }

    /// Why nothing is rendered, when nothing is.
    fn unavailable_reason(&self) -> &'static str {
        if self.cfg.mode == BrowserMode::Off {
            "browser disabled (--browser off)"
        } else {
            "chromium not installed"
        }
    }

    /// Loads `url` in Chromium off the async workers, waiting for a slot first; neither the
    /// wait nor the run goes past `deadline` (the site's time budget).
    async fn dump(&self, url: &str, deadline: Instant) -> (Result<String, BrowserError>, u64) {
        let Some(bin) = self.chromium.clone() else {
            return (
                Err(BrowserError::Stopped(self.unavailable_reason().into())),
                0,
            );
        };
        let spent = || BrowserError::Stopped("the site's time budget is spent".into());
        let Ok(_slot) = tokio::time::timeout_at(deadline.into(), SLOTS.acquire()).await else {
            return (Err(spent()), 0);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_secs(1) {
            return (Err(spent()), 0);
        }
        let opts = govcap_browser::DomOptions {
            timeout: self.cfg.timeout.min(left),
            user_agent: Some(self.user_agent.clone()),
            virtual_time_budget_ms: self.cfg.virtual_time_budget_ms,
            max_bytes: self.cfg.max_dom_bytes,
            max_navigations: Some(self.cfg.max_navigations),
            ..govcap_browser::DomOptions::default()
        };
        let url = url.to_string();
        let start = Instant::now();
        let r =
            tokio::task::spawn_blocking(move || govcap_browser::dump_dom(&bin, &url, &opts)).await;
        let ms = start.elapsed().as_millis() as u64;
        let r = match r {
            Ok(r) => r,
            Err(e) => Err(BrowserError::Stopped(format!("browser task failed: {e}"))),
        };
        (r, ms)
    }
}

// ---------------------------------------------------------------------------------------
// The heuristic (pure).

/// What the static HTML says about needing scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptSignals {
    /// `<script>` elements with a `src` or inline code.
    pub scripts: usize,
    /// Non-whitespace characters of text outside scripts, styles, `<noscript>` and
    /// `<template>`.
    pub visible_chars: usize,
    /// `<a href>` links to somewhere (not `#`, not `javascript:`).
    pub links: usize,
    /// An empty element that SPA frameworks mount into, e.g. `div#app`.
    pub empty_root: Option<String>,
    /// A `<noscript>` asking the visitor to turn JavaScript on.
    pub noscript_asks_js: bool,
}

/// Ids frameworks mount into (Vue, React, Nuxt, Next, Quasar and home-grown ones).
const ROOT_IDS: &[&str] = &[
    "app",
    "root",
    "__nuxt",
    "__next",
    "__layout",
    "q-app",
    "main-app",
    "vue-app",
    "react-root",
    "application",
];
/// Attributes that mark a framework root.
const ROOT_ATTRS: &[&str] = &["ng-app", "data-reactroot", "data-v-app", "ng-version"];
/// Below this much visible text an empty root or a JavaScript `<noscript>` means the page
/// is a shell (a real page with a mounted widget has far more).
const SHELL_MAX_CHARS: usize = 200;
/// Below this much visible text (a "加载中…" at most) and without a link, scripts alone mean
/// a shell. Kept this low because short pages with a toolbar script are common: a
/// "页面不存在" page with a link home must not count.
const BARE_MAX_CHARS: usize = 12;
const BARE_MAX_LINKS: usize = 1;
/// Links that show a challenged page got through to content.
const CONTENT_MIN_LINKS: usize = 3;

fn is_hidden_container(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template" | "head")
}

fn count_visible(el: ElementRef, out: &mut usize) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => *out += t.chars().filter(|c| !c.is_whitespace()).count(),
            Node::Element(e) if !is_hidden_container(e.name()) => {
                if let Some(c) = ElementRef::wrap(child) {
                    count_visible(c, out);
                }
            }
            _ => {}
        }
    }
}

fn asks_for_js(text: &str) -> bool {
    let t = text.to_lowercase();
    let names_js = t.contains("javascript") || t.contains("脚本") || t.contains(" js");
    let asks = [
        "enable", "turn on", "activate", "开启", "启用", "打开", "允许", "支持",
    ]
    .iter()
    .any(|w| t.contains(w));
    names_js && asks
}

/// Measures a page's [`ScriptSignals`].
pub fn script_signals(html: &str) -> ScriptSignals {
    let doc = Html::parse_document(html);
    let mut s = ScriptSignals::default();
    let root = doc.root_element();
    count_visible(root, &mut s.visible_chars);
    for el in root.descendent_elements() {
        let v = el.value();
        match v.name() {
            "script" => {
                let ty = v.attr("type").unwrap_or("").to_ascii_lowercase();
                let code = ty.is_empty()
                    || ty.contains("javascript")
                    || ty == "module"
                    || ty.contains("ecmascript");
                if code && (v.attr("src").is_some() || el.text().any(|t| !t.trim().is_empty())) {
                    s.scripts += 1;
                }
            }
            "a" => {
                let href = v.attr("href").unwrap_or("").trim().to_ascii_lowercase();
                if !href.is_empty() && !href.starts_with('#') && !href.starts_with("javascript:") {
                    s.links += 1;
                }
            }
            "noscript" => {
                let text: String = el.text().collect();
                // Parsed with scripting on, the content is one text node of markup.
                if asks_for_js(&text) {
                    s.noscript_asks_js = true;
                }
            }
            name => {
                if s.empty_root.is_none() && matches!(name, "div" | "main" | "section" | "body") {
                    let id = v.attr("id").unwrap_or("");
                    let marked = ROOT_IDS.iter().any(|r| id.eq_ignore_ascii_case(r))
                        || ROOT_ATTRS.iter().any(|a| v.attr(a).is_some());
                    let empty = el.children().all(|c| match c.value() {
                        Node::Text(t) => t.trim().is_empty(),
                        Node::Comment(_) => true,
                        _ => false,
                    });
                    if marked && empty && name != "body" {
                        s.empty_root = Some(if id.is_empty() {
                            name.to_string()
                        } else {
                            format!("{name}#{id}")
                        });
                    }
                }
            }
        }
    }
    s
}

/// Why a fetched HTML page looks built by scripts (`None`: it does not): an empty SPA root
/// or a `<noscript>` asking for JavaScript on a page with little visible text, or scripts on
/// a page with next to no text and links. A page without scripts is never script-rendered.
pub fn script_rendered(html: &str) -> Option<&'static str> {
    let s = script_signals(html);
    if s.scripts == 0 {
        return None;
    }
    if s.empty_root.is_some() && s.visible_chars < SHELL_MAX_CHARS {
        return Some("empty_app_root");
    }
    if s.noscript_asks_js && s.visible_chars < SHELL_MAX_CHARS {
        return Some("noscript_asks_for_javascript");
    }
    if s.visible_chars < BARE_MAX_CHARS && s.links < BARE_MAX_LINKS {
        return Some("scripts_without_content");
    }
    None
}

/// What the browser reached on a challenged home page: real content (visible text or links,
/// and no challenge marker), or still the challenge.
pub fn waf_outcome(dom: &str) -> &'static str {
    let s = script_signals(dom);
    let marker = crate::fetch::waf_challenge(200, &[], dom.as_bytes()).is_some();
    if !marker && (s.visible_chars >= 30 || s.links >= CONTENT_MIN_LINKS) {
        "up_behind_challenge"
    } else {
        "challenge_persists"
    }
}

/// Cheap pre-filter before parsing: only pages with a script can be script-rendered.
fn has_script_tag(text: &str) -> bool {
    text.as_bytes()
        .windows(7)
        .any(|w| w.eq_ignore_ascii_case(b"<script"))
}

// ---------------------------------------------------------------------------------------
// The step after the crawl.

/// What the browser did on one site (summed into [`BrowserSummary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteBrowser {
    pub rendered: usize,
    pub failed: usize,
    pub skipped_script_pages: usize,
    pub over_cap: usize,
    pub render_ms: Vec<u64>,
    /// The WAF confirmation's outcome, when one ran.
    pub waf: Option<&'static str>,
    pub waf_ms: Option<u64>,
    pub skipped_waf: bool,
}

/// `summary.json` → `browser`: what Chromium did in the run, and what was skipped without it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BrowserSummary {
    pub mode: String,
    pub available: bool,
    pub chromium: Option<String>,
    pub rendered_pages: usize,
    pub render_failures: usize,
    /// Script-rendered pages left unrendered because there was no browser.
    pub skipped_script_pages: usize,
    /// Script-rendered pages beyond the per-site cap.
    pub pages_over_cap: usize,
    pub render_ms_total: u64,
    pub render_ms_max: u64,
    /// WAF confirmations by outcome.
    pub waf_confirmations: BTreeMap<String, usize>,
    /// Challenged home pages left unconfirmed because there was no browser.
    pub skipped_waf_confirmations: usize,
}

impl BrowserSummary {
    pub fn new(b: &Browser) -> Self {
        BrowserSummary {
            mode: b.cfg.mode.as_str().to_string(),
            available: b.available(),
            chromium: b.chromium.as_ref().map(|p| p.display().to_string()),
            ..BrowserSummary::default()
        }
    }

    pub fn add(&mut self, s: &SiteBrowser) {
        self.rendered_pages += s.rendered;
        self.render_failures += s.failed;
        self.skipped_script_pages += s.skipped_script_pages;
        self.pages_over_cap += s.over_cap;
        let ms = s.render_ms.iter().chain(s.waf_ms.iter());
        for &m in ms {
            self.render_ms_total += m;
            self.render_ms_max = self.render_ms_max.max(m);
        }
        if let Some(w) = s.waf {
            *self.waf_confirmations.entry(w.to_string()).or_default() += 1;
        }
        if s.skipped_waf {
            self.skipped_waf_confirmations += 1;
        }
    }

    /// One line for the console, or `None` when the browser had nothing to do.
    pub fn console_line(&self) -> Option<String> {
        let confirmed: usize = self.waf_confirmations.values().sum();
        if self.available {
            if self.rendered_pages + self.render_failures + confirmed == 0 {
                return None;
            }
            let runs = self.rendered_pages + self.render_failures + confirmed;
            let waf: Vec<String> = self
                .waf_confirmations
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            Some(format!(
                "browser: rendered {} script-built pages ({} failed{}), WAF challenges confirmed: {}; mean {} ms a run",
                self.rendered_pages,
                self.render_failures,
                if self.pages_over_cap > 0 {
                    format!(", {} over the per-site cap", self.pages_over_cap)
                } else {
                    String::new()
                },
                if waf.is_empty() { "none".into() } else { waf.join(", ") },
                self.render_ms_total / runs.max(1) as u64
            ))
        } else if self.skipped_script_pages + self.skipped_waf_confirmations > 0 {
            Some(format!(
                "browser: {} — skipped {} script-rendered pages and {} WAF challenge confirmations",
                if self.mode == "off" {
                    "off (--browser off)"
                } else {
                    "chromium not installed"
                },
                self.skipped_script_pages,
                self.skipped_waf_confirmations
            ))
        } else {
            None
        }
    }
}

/// Indices of the script-rendered pages of a visit, home first, with the reason.
pub fn script_rendered_pages(visit: &SiteVisit) -> Vec<(usize, &'static str)> {
    let mut out: Vec<(usize, &'static str)> = visit
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.state == FetchState::Ok && is_html(p) && has_script_tag(&p.text))
        .filter_map(|(i, p)| script_rendered(&p.text).map(|r| (i, r)))
        .collect();
    out.sort_by_key(|(i, _)| (visit.pages[*i].depth, *i));
    out
}

/// Renders the script-built pages of a finished visit and confirms a challenged home page
/// (see the module note), archiving what the browser saw. Only an archive write failure is
/// an error.
pub async fn enhance(
    browser: &Browser,
    visit: SiteVisit,
    warc: &mut WarcWriter,
    cancel: &Cancel,
    deadline: Instant,
) -> io::Result<(SiteVisit, SiteBrowser)> {
    let mut out = SiteBrowser::default();
    // Parsing is CPU work: off the async workers, like the checks.
    let (mut visit, candidates) = tokio::task::spawn_blocking(move || {
        let c = script_rendered_pages(&visit);
        (visit, c)
    })
    .await
    .map_err(io::Error::other)?;
    let home = visit.pages.iter().position(|p| p.depth == 0);
    let challenged = home.filter(|&h| visit.pages[h].state == FetchState::WafChallenge);
    let mut info = json!({
        "available": browser.available(),
        "mode": browser.cfg.mode.as_str(),
        "candidates": candidates.len(),
        "rendered": [],
        "failed": [],
    });
    if !browser.available() {
        out.skipped_script_pages = candidates.len();
        info["skipped"] = json!(browser.unavailable_reason());
        if let Some(h) = challenged {
            out.skipped_waf = true;
            visit.facts.insert(
                facts::BROWSER_WAF.into(),
                json!({ "skipped": browser.unavailable_reason(), "url": visit.pages[h].final_url }),
            );
        }
        if !candidates.is_empty() {
            info["skipped_script_pages"] = json!(candidates.len());
            visit.facts.insert(facts::BROWSER.into(), info);
        }
        return Ok((visit, out));
    }

    // A host that asked us to slow down (429, or 503 with Retry-After) gets no browser load,
    // with all its subresources, on top.
    if visit.facts.contains_key("rate_limited") {
        info["skipped"] = json!("the site asked us to slow down (rate limited)");
        if !candidates.is_empty() || challenged.is_some() {
            visit.facts.insert(facts::BROWSER.into(), info);
        }
        return Ok((visit, out));
    }
    let cap = browser.cfg.max_pages_per_site;
    out.over_cap = candidates.len().saturating_sub(cap);
    for &(i, reason) in candidates.iter().take(cap) {
        if cancel.is_cancelled() {
            break;
        }
        let page = &visit.pages[i];
        let url = load_url(page);
        let (r, ms) = browser.dump(&url, deadline).await;
        out.render_ms.push(ms);
        match r {
            Ok(dom) => {
                let id = warc.write_conversion(
                    &url,
                    page.warc_record.as_deref(),
                    &clock::rfc3339_millis(clock::now_millis()),
                    dom.as_bytes(),
                )?;
                out.rendered += 1;
                push(
                    &mut info["rendered"],
                    json!({
                        "page": i, "url": url, "reason": reason, "record": id, "ms": ms,
                        "static_bytes": page.text.len(), "rendered_bytes": dom.len(),
                    }),
                );
                visit.pages[i].text = dom;
            }
            Err(e) => {
                out.failed += 1;
                push(
                    &mut info["failed"],
                    json!({"page": i, "url": url, "reason": reason, "error": e.to_string(), "ms": ms}),
                );
            }
        }
    }
    if out.over_cap > 0 {
        info["over_cap"] = json!(out.over_cap);
    }

    if let Some(h) = challenged.filter(|_| !cancel.is_cancelled()) {
        let page = &visit.pages[h];
        let url = load_url(page);
        let (r, ms) = browser.dump(&url, deadline).await;
        out.waf_ms = Some(ms);
        let fact = match r {
            Ok(dom) => {
                let outcome = waf_outcome(&dom);
                let id = warc.write_conversion(
                    &url,
                    page.warc_record.as_deref(),
                    &clock::rfc3339_millis(clock::now_millis()),
                    dom.as_bytes(),
                )?;
                out.waf = Some(outcome);
                let s = script_signals(&dom);
                json!({
                    "confirmed": outcome, "url": url, "record": id, "ms": ms,
                    "visible_chars": s.visible_chars, "links": s.links,
                })
            }
            Err(BrowserError::TooManyNavigations(n)) => {
                // The page kept reloading itself without reaching content.
                out.waf = Some("challenge_persists");
                json!({
                    "confirmed": "challenge_persists", "url": url, "ms": ms,
                    "navigations": n,
                    "note": "the challenge kept reloading; the browser was stopped",
                })
            }
            Err(e) => {
                out.waf = Some("error");
                json!({ "confirmed": "error", "url": url, "error": e.to_string(), "ms": ms })
            }
        };
        visit.facts.insert(facts::BROWSER_WAF.into(), fact);
    }
    warc.flush()?;
    if !candidates.is_empty() {
        visit.facts.insert(facts::BROWSER.into(), info);
    }
    Ok((visit, out))
}

/// Where the browser goes for a fetched page: its final URL, so redirect hops are not loaded
/// again (they would count against the navigation cap).
fn load_url(page: &Page) -> String {
    if page.final_url.is_empty() {
        page.url.clone()
    } else {
        page.final_url.clone()
    }
}

fn push(arr: &mut Value, v: Value) {
    if let Some(a) = arr.as_array_mut() {
        a.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHELL: &str = r#"<!DOCTYPE html><html><head><title></title>
        <script src="/js/chunk-vendors.js"></script></head>
        <body><div id="app"></div><script src="/js/app.js"></script></body></html>"#;

    #[test]
    fn an_empty_spa_root_is_script_rendered() {
        let s = script_signals(SHELL);
        assert_eq!(s.scripts, 2);
        assert_eq!(s.visible_chars, 0);
        assert_eq!(s.empty_root.as_deref(), Some("div#app"));
        assert_eq!(script_rendered(SHELL), Some("empty_app_root"));
        // React's root, an Angular app attribute.
        let react = r#"<html><body><div id="root"><!-- ssr off --></div><script>render()</script></body></html>"#;
        assert_eq!(script_rendered(react), Some("empty_app_root"));
        let ng = r#"<html><body><main ng-app="portal"> </main><script src="a.js"></script></body></html>"#;
        assert_eq!(script_signals(ng).empty_root.as_deref(), Some("main"));
    }

    #[test]
    fn a_noscript_asking_for_javascript_is_script_rendered() {
        let zh = r#"<html><body><div class="wrap">政府门户网站</div>
            <noscript>您的浏览器未启用JavaScript，请开启后访问。</noscript>
            <script>build()</script></body></html>"#;
        let s = script_signals(zh);
        assert!(s.noscript_asks_js);
        assert_eq!(s.visible_chars, "政府门户网站".chars().count());
        assert_eq!(script_rendered(zh), Some("noscript_asks_for_javascript"));
        let en = r#"<html><body><noscript>Please enable JavaScript to view this site.</noscript><script>x()</script></body></html>"#;
        assert_eq!(script_rendered(en), Some("noscript_asks_for_javascript"));
        // A noscript that is only a tracking pixel asks for nothing.
        let pixel = r#"<html><body><noscript><img src="/p.gif"></noscript><script>t()</script><p>x</p></body></html>"#;
        assert!(!script_signals(pixel).noscript_asks_js);
    }

    #[test]
    fn scripts_and_next_to_nothing_else_is_script_rendered() {
        let bare = r#"<html><head><title>首页</title></head><body><script>document.write('<h1>x</h1>')</script></body></html>"#;
        assert_eq!(script_rendered(bare), Some("scripts_without_content"));
        let loading = r#"<html><body><div class="loading">加载中...</div><script src="/js/app.js"></script></body></html>"#;
        assert_eq!(script_rendered(loading), Some("scripts_without_content"));
    }

    #[test]
    fn ordinary_pages_are_not_script_rendered() {
        // A soft 404 with a toolbar script: short, but content.
        let gone = r#"<html><head><title>提示信息</title><script src="/wza/wza.js"></script></head>
            <body><div class="err"><p>对不起，您访问的页面不存在或已被删除！</p><p><a href="/">返回首页</a></p></div></body></html>"#;
        assert_eq!(script_rendered(gone), None);
        // Plenty of text and links, scripts for a toolbar and an empty widget mount.
        let mut page = String::from(
            r#"<html><head><script src="/wza/wza.js"></script></head><body><div id="app"></div><ul>"#,
        );
        for i in 0..20 {
            page.push_str(&format!(
                "<li><a href=\"/art/{i}.html\">关于做好安全生产工作的通知（第{i}号）</a><span>2026-11-{:02}</span></li>",
                i + 1
            ));
        }
        page.push_str(
            "</ul><noscript>请开启JavaScript</noscript><script>stats()</script></body></html>",
        );
        assert_eq!(script_rendered(&page), None);
        // No scripts: never, however empty.
        assert_eq!(
            script_rendered(r#"<html><body><div id="app"></div></body></html>"#),
            None
        );
        // A short page without scripts (a redirect notice).
        assert_eq!(
            script_rendered(
                r#"<html><head><meta http-equiv="refresh" content="0;url=/a"></head><body></body></html>"#
            ),
            None
        );
        // JSON data blocks are not scripts.
        let ld = r#"<html><body><script type="application/ld+json">{"a":1}</script></body></html>"#;
        assert_eq!(script_signals(ld).scripts, 0);
        assert_eq!(script_rendered(ld), None);
        // Text inside scripts and styles is not visible text.
        let hidden = r#"<html><head><style>body{color:red}</style></head><body><script>var t="很多很多文字很多很多文字很多很多文字很多很多文字很多很多文字很多很多文字";</script></body></html>"#;
        assert_eq!(script_signals(hidden).visible_chars, 0);
    }

    #[test]
    fn waf_outcomes() {
        let challenge = r#"<html><head></head><body><script>document.cookie='a=1';setTimeout(function(){location.reload()},120)</script></body></html>"#;
        assert_eq!(waf_outcome(challenge), "challenge_persists");
        let marker =
            r#"<html><body><script>var $_ts=window['$_ts'];</script><p>请稍候</p></body></html>"#;
        assert_eq!(waf_outcome(marker), "challenge_persists");
        let real = r#"<html><body><h1>某市人民政府门户网站</h1><p>政务公开 政务服务 互动交流 走进本市 政策文件 通知公告</p></body></html>"#;
        assert_eq!(waf_outcome(real), "up_behind_challenge");
    }

    #[test]
    fn modes_parse() {
        assert_eq!("auto".parse::<BrowserMode>(), Ok(BrowserMode::Auto));
        assert_eq!("OFF".parse::<BrowserMode>(), Ok(BrowserMode::Off));
        assert_eq!("require".parse::<BrowserMode>(), Ok(BrowserMode::Require));
        assert!("sometimes".parse::<BrowserMode>().is_err());
    }

    #[test]
    fn off_and_require_resolve() {
        let off = Browser::resolve(
            &BrowserConfig {
                mode: BrowserMode::Off,
                ..BrowserConfig::default()
            },
            "ua",
        )
        .unwrap();
        assert!(!off.available());
        assert_eq!(off.unavailable_reason(), "browser disabled (--browser off)");
        let missing = BrowserConfig {
            mode: BrowserMode::Require,
            chromium: Some(PathBuf::from("/nonexistent/chromium")),
            ..BrowserConfig::default()
        };
        // A binary named and absent is missing, whatever is on PATH.
        assert!(Browser::resolve(&missing, "ua").is_err());
        let auto = BrowserConfig {
            mode: BrowserMode::Auto,
            ..missing
        };
        assert!(!Browser::resolve(&auto, "ua").unwrap().available());
    }

    #[test]
    fn summary_lines_say_what_was_skipped() {
        let mut s = BrowserSummary {
            mode: "auto".into(),
            ..BrowserSummary::default()
        };
        assert_eq!(s.console_line(), None);
        s.add(&SiteBrowser {
            skipped_script_pages: 2,
            skipped_waf: true,
            ..SiteBrowser::default()
        });
        assert_eq!(
            s.console_line().unwrap(),
            "browser: chromium not installed — skipped 2 script-rendered pages and 1 WAF challenge confirmations"
        );
        let mut s = BrowserSummary {
            mode: "auto".into(),
            available: true,
            ..BrowserSummary::default()
        };
        s.add(&SiteBrowser {
            rendered: 1,
            render_ms: vec![1500],
            waf: Some("up_behind_challenge"),
            waf_ms: Some(2500),
            ..SiteBrowser::default()
        });
        assert_eq!(s.render_ms_max, 2500);
        assert!(s
            .console_line()
            .unwrap()
            .contains("rendered 1 script-built pages (0 failed), WAF challenges confirmed: up_behind_challenge 1; mean 2000 ms"));
    }
}
