//! The monitor's data: what a fetch saw ([`Page`]), and what a check concluded ([`Finding`]).
//!
//! Checks are pure functions from pages (already fetched, decoded and archived) to findings,
//! so they can be tested on fixture pages without a network, and every finding can point at
//! the WARC records it was concluded from.

use serde::{Deserialize, Serialize};

/// Why a fetch did not give a usable page (GSA Site Scanning's failure taxonomy, extended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchState {
    Ok,
    Dns,
    Refused,
    Reset,
    Timeout,
    Tls,
    CertInvalid,
    #[serde(rename = "http_4xx")]
    Http4xx,
    #[serde(rename = "http_5xx")]
    Http5xx,
    Empty,
    TooManyRedirects,
    TooLarge,
    /// A bot-protection challenge (e.g. HTTP 412 with a script); never reported as "down".
    WafChallenge,
    /// Refused for our request rate (429, or 503 with Retry-After) even after waiting as
    /// asked: the site is up but would not serve us now; never reported as "down".
    RateLimited,
    RobotsDisallowed,
    Other,
}

/// One fetched URL: status, decoded text and where its evidence is archived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    pub state: FetchState,
    pub status: Option<u16>,
    /// Response headers, lower-cased names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body decoded to text (empty for non-text or failed fetches).
    pub text: String,
    /// Charset used to decode, and how it was found (`bom`, `header`, `meta`, `detected`).
    pub charset: Option<String>,
    pub charset_source: Option<String>,
    /// Redirect hops followed.
    pub redirects: Vec<String>,
    /// Crawl depth from the home page (0 = home).
    pub depth: u32,
    pub elapsed_ms: u64,
    /// RFC 3339 time of the fetch.
    pub fetched_at: String,
    /// WARC-Record-ID of the response record holding the wire bytes.
    pub warc_record: Option<String>,
    /// True when the page came through the legacy-TLS fallback client.
    pub legacy_tls: bool,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_ok(&self) -> bool {
        self.state == FetchState::Ok
    }
}

/// Everything the checks get about one site: its code, its home URL, the pages fetched
/// (home first), and availability attempts when the scheduler sampled them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteVisit {
    pub code: String,
    pub home_url: String,
    /// `--as-of` date (YYYY-MM-DD) the freshness and reply-age checks measure against.
    pub as_of: String,
    pub pages: Vec<Page>,
    /// Availability attempts: (RFC 3339 time, state), possibly many per day.
    #[serde(default)]
    pub attempts: Vec<(String, FetchState)>,
    /// Extra facts a fetcher established outside the pages (e.g. `ipv6_same_site`, TLS
    /// certificate expiry), as JSON.
    #[serde(default)]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

/// One line of `findings.jsonl`: the contract with evaluators and the evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub url: String,
    /// Check name, e.g. `availability`, `https`, `mobile` (see `checks`).
    pub check: String,
    /// The measured value; `null` when the check could not run (then `details.reason`).
    pub value: serde_json::Value,
    pub details: serde_json::Value,
    /// WARC record ids the finding was concluded from.
    pub evidence: Vec<String>,
}
