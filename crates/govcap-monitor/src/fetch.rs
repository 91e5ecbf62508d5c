//! The HTTP client: bounded, polite, honest, and exact about how each fetch failed.
//!
//! Bounds: time per request (deadline on the send and on every body chunk), bytes per
//! response (streamed; stops at the cap), decompressed bytes (our own capped inflate, since
//! the client's auto-decompression would both rewrite the archived bytes and let a gzip bomb
//! exhaust memory), and redirects (followed by hand so every hop is recorded and archived).
//! Transient failures (timeouts, resets, 5xx) are retried with exponential backoff; 4xx
//! never, except a refusal for our rate (429, or 503 with `Retry-After`): its `Retry-After`
//! (delta-seconds or HTTP-date) is waited for up to [`FetchConfig::max_retry_after`], the
//! whole host is held back meanwhile and spaced wider afterwards, and a page still refused is
//! reported as rate-limited ([`RATE_LIMITED_STATE`]), not as a 4xx or an outage. A rustls handshake failure is retried through a legacy-TLS (OpenSSL) client when
//! the `legacy-tls` feature is on, and that is recorded on the page; a certificate failure
//! is retried without verification so content checks can still run, and the certificate
//! verdict is kept in [`Fetched::cert_error`]. WAF challenges are reported, never answered.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::io::Read;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, ACCEPT_LANGUAGE, USER_AGENT,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::charset;
use crate::clock;
use crate::model::{FetchState, Page};

/// The honest default user agent; `contact` (a URL or mailto:) lets site owners reach the
/// operator, and should be set for real runs.
pub fn user_agent(contact: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    match contact {
        Some(c) if !c.trim().is_empty() => format!("govcap-monitor/{version} (+{})", c.trim()),
        _ => format!("govcap-monitor/{version} (government website monitor)"),
    }
}

/// Limits and manners of the client.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    /// Whole-request deadline per attempt (the 2019 inspection rule's 15 s "opens" limit).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Wire bytes kept per response; past it the fetch is `too_large`.
    pub max_body_bytes: usize,
    /// Bytes a compressed body may inflate to; past it the fetch is `too_large`.
    pub max_decoded_bytes: usize,
    /// Bytes read from a non-text response (attachments): enough for magic bytes.
    pub max_nontext_bytes: usize,
    pub max_redirects: usize,
    /// Extra attempts after a transient failure.
    pub retries: u32,
    /// First backoff; doubled per retry.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured on a 429 / 503 (longer ones are not waited for: the page
    /// is recorded as rate-limited at once, and the host is still slowed down).
    pub max_retry_after: Duration,
    /// Requests in flight per host.
    pub per_host_inflight: usize,
    /// Minimum time between request starts on one host (raised by robots.txt Crawl-delay).
    pub min_interval: Duration,
    pub legacy_tls_fallback: bool,
    pub accept_invalid_certs_fallback: bool,
    /// Detection hint for hosts without a usable top-level domain (IP addresses).
    pub default_tld: String,
    /// Host names pinned to addresses instead of DNS (e.g. simulated `*.gov.cn` portals on
    /// loopback); the port of each address is ignored, the URL's is used.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Also fetch the home page over the host's IPv6 (AAAA) addresses and compare.
    pub ipv6_probe: bool,
    /// Also time the home page's phases (DNS, connect, TLS, first byte) on a request of its
    /// own ([`Fetcher::probe_timings`]): one more request per site, not archived.
    pub timing_probe: bool,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: user_agent(None),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 5 * 1024 * 1024,
            max_decoded_bytes: 10 * 1024 * 1024,
            max_nontext_bytes: 256 * 1024,
            max_redirects: 5,
            retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            per_host_inflight: 2,
            min_interval: Duration::from_millis(250),
            legacy_tls_fallback: true,
            accept_invalid_certs_fallback: true,
            default_tld: "cn".to_string(),
            resolve: Vec::new(),
            ipv6_probe: true,
            timing_probe: true,
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    #[error("could not set up the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("the user agent is not a valid header value: {0}")]
    UserAgent(String),
}

/// How a response's stored body was cut short (`WARC-Truncated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    Length,
    Time,
    Disconnect,
    Unspecified,
}

/// A response as received: status line, headers, raw (still content-encoded) body.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Lower-cased names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: Option<Truncation>,
}

/// One attempt on one URL: what was sent, what came back or why nothing did. Archived as
/// WARC request + response (or metadata) records.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub url: String,
    pub started_ms: i64,
    pub request_head: Vec<u8>,
    pub remote_ip: Option<IpAddr>,
    pub response: Option<RawResponse>,
    pub error: Option<(FetchState, String)>,
    pub legacy_tls: bool,
    /// The server certificate's notAfter (RFC 3339), over HTTPS.
    pub tls_not_after: Option<String>,
}

/// The outcome of [`Fetcher::fetch`]: the page and everything needed to archive and judge it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// `warc_record` and `depth` are left for the caller (the crawler archives the exchanges).
    pub page: Page,
    /// Every attempt and redirect hop, in order.
    pub exchanges: Vec<Exchange>,
    /// The final response's body after content decoding (at most the decoded cap).
    pub body: Vec<u8>,
    /// Bytes the final body inflated to before stopping (equals the cap on a bomb).
    pub decoded_bytes: usize,
    pub is_html: bool,
    /// The certificate problem, when the page was only reachable without verification.
    pub cert_error: Option<String>,
    /// The final server certificate's notAfter (RFC 3339), over HTTPS.
    pub cert_not_after: Option<String>,
    /// Why the fetch failed, in words.
    pub error: Option<String>,
    /// The bot-protection marker seen, for `waf_challenge`.
    pub waf_marker: Option<&'static str>,
    /// False when no request left (the deadline passed while waiting for the host's turn);
    /// such a result says nothing about the site.
    pub sent: bool,
    /// True when the caller's deadline (not the per-request timeout) cut the last attempt:
    /// the timeout is ours, not the site's.
    pub cut_by_deadline: bool,
    /// Set when the server refused us for our rate at least once (429, or 503 with
    /// `Retry-After`), whether or not a retry then got through.
    pub rate_limit: Option<RateLimit>,
    /// A redirect to another host, not followed because [`FetchOptions::hold_cross_host`]
    /// asked to stop there (the caller checks that host's robots.txt, then calls
    /// [`Fetcher::follow`]). The page is not finished while this is set.
    pub held_redirect: Option<String>,
}

/// The state of a page the server kept refusing for our rate (never `http_4xx`, never
/// down); [`Fetched::rate_limit`] and the visit's `rate_limited` fact say what was asked.
pub const RATE_LIMITED_STATE: FetchState = FetchState::RateLimited;

/// The `waf_marker` of a rate-limited page (see [`RATE_LIMITED_STATE`]).
pub const RATE_LIMITED_MARKER: &str = "rate_limited";

/// What a rate-limit refusal said and what we did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    /// Status of the last refusal (429 or 503).
    pub status: u16,
    /// The last `Retry-After`, in seconds (`None` when absent or unreadable).
    pub retry_after_s: Option<f64>,
    /// Refusals received for this page.
    pub refusals: u32,
    /// Time spent waiting for the server's turn, in ms.
    pub waited_ms: u64,
    /// True when the page was still refused at the end (the wait was over the cap, past the
    /// deadline, or the retries ran out).
    pub refused: bool,
}

/// Per-fetch options.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Give up (as a timeout) at this instant, whatever the per-request timeout says.
    pub deadline: Option<Instant>,
    /// Override of the wire-bytes cap (robots.txt uses 500 KiB).
    pub max_body_bytes: Option<usize>,
    /// Skip verification from the start (the host already failed it once).
    pub insecure: bool,
    /// Use the legacy-TLS client from the start (the host needed it once).
    pub legacy: bool,
    /// Stop before following a redirect to another host (`host:port`) and return with
    /// [`Fetched::held_redirect`] set, so the caller can consult that host's robots.txt.
    pub hold_cross_host: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Main,
    Insecure,
    Legacy,
}

/// Per-host politeness: an in-flight cap and a minimum spacing of request starts.
#[derive(Debug)]
pub struct HostGates {
    inflight: usize,
    interval: Duration,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
}

#[derive(Debug)]
struct HostGate {
    sem: Arc<Semaphore>,
    /// (next allowed start, this host's interval)
    slot: Mutex<(Instant, Duration)>,
}

impl HostGates {
    pub fn new(inflight: usize, interval: Duration) -> Self {
        HostGates {
            inflight: inflight.max(1),
            interval,
            gates: Mutex::new(HashMap::new()),
        }
    }

    fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostGate {
                    sem: Arc::new(Semaphore::new(self.inflight)),
                    slot: Mutex::new((Instant::now(), self.interval)),
                })
            })
            .clone()
    }

    /// Raises the host's spacing to at least `delay` (robots.txt Crawl-delay).
    pub fn set_delay(&self, host: &str, delay: Duration) {
        let gate = self.gate(host);
        let mut slot = gate.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.1 = slot.1.max(delay);
    }

    /// After a rate-limit refusal: nothing starts on the host before `hold` has passed, and
    /// its spacing is doubled (at least 1 s, at least `hold`, at most `cap`) for the rest of
    /// the run, so the crawler stops hammering a host that asked it to slow down.
    pub fn back_off(&self, host: &str, hold: Duration, cap: Duration) {
        let gate = self.gate(host);
        let mut slot = gate.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.0 = slot.0.max(Instant::now() + hold);
        let wider = (slot.1 * 2).max(Duration::from_secs(1)).max(hold);
        slot.1 = slot.1.max(wider.min(cap.max(slot.1)));
    }

    /// The host's current spacing of request starts (`None` before its first request).
    pub fn interval(&self, host: &str) -> Option<Duration> {
        let gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let gate = gates.get(host)?;
        let slot = gate.slot.lock().unwrap_or_else(|e| e.into_inner());
        Some(slot.1)
    }

    /// Waits for the host's turn; the permit caps requests in flight until dropped.
    /// `None` when `deadline` comes first.
    pub async fn acquire(&self, host: &str, deadline: Instant) -> Option<OwnedSemaphorePermit> {
        let gate = self.gate(host);
        let permit = tokio::time::timeout_at(deadline.into(), gate.sem.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let start = {
            let mut slot = gate.slot.lock().unwrap_or_else(|e| e.into_inner());
            let start = slot.0.max(Instant::now());
            slot.0 = start + slot.1;
            start
        };
        if start > deadline {
            return None;
        }
        tokio::time::sleep_until(start.into()).await;
        Some(permit)
    }
}

/// The shared client: cheap to clone, safe to use from many tasks.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: FetchConfig,
    main: reqwest::Client,
    insecure: reqwest::Client,
    legacy: Option<reqwest::Client>,
    gates: HostGates,
    headers: HeaderMap,
}

fn builder(cfg: &FetchConfig) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(cfg.per_host_inflight.max(1))
        .tcp_nodelay(true)
        .tls_info(true)
        .no_proxy();
    let mut hosts: Vec<&str> = cfg.resolve.iter().map(|(h, _)| h.as_str()).collect();
    hosts.dedup();
    for h in hosts {
        let addrs: Vec<SocketAddr> = cfg
            .resolve
            .iter()
            .filter(|(k, _)| k == h)
            .map(|(_, a)| *a)
            .collect();
        b = b.resolve_to_addrs(h, &addrs);
    }
    b
}

/// What the IPv6 probe saw.
#[derive(Debug, Clone)]
pub struct Ipv6Probe {
    pub addresses: Vec<Ipv6Addr>,
    /// The home page fetched over IPv6 (one request, no redirects followed).
    pub fetched: Fetched,
    /// Same status and `<title>` as the home page over IPv4.
    pub same_site: bool,
}

/// The `<title>` text of a page, trimmed.
fn title_of(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    Some(text[open_end..close].trim())
}

impl Fetcher {
    pub fn new(cfg: FetchConfig) -> Result<Self, FetchSetupError> {
        // ring is the process-wide rustls provider; an earlier install (ours) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let main = builder(&cfg).tls_backend_rustls().build()?;
        let insecure = builder(&cfg)
            .tls_backend_rustls()
            .tls_danger_accept_invalid_certs(true)
            .build()?;
        let legacy = if cfg.legacy_tls_fallback {
            legacy_client(&cfg)?
        } else {
            None
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_str(&cfg.user_agent)
                .map_err(|_| FetchSetupError::UserAgent(cfg.user_agent.clone()))?,
        );
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        headers.insert(
            ACCEPT_LANGUAGE,
            HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"),
        );
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate"));
        let gates = HostGates::new(cfg.per_host_inflight, cfg.min_interval);
        Ok(Fetcher {
            inner: Arc::new(Inner {
                cfg,
                main,
                insecure,
                legacy,
                gates,
                headers,
            }),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.inner.cfg
    }

    pub fn gates(&self) -> &HostGates {
        &self.inner.gates
    }

    /// Whether a legacy-TLS client is available in this build and configuration.
    pub fn has_legacy_tls(&self) -> bool {
        self.inner.legacy.is_some()
    }

    /// Fetches `url` following redirects, with retries and fallbacks; never panics on
    /// hostile input and always returns within the deadline plus backoff bounds.
    pub async fn fetch(&self, url: &str, opts: &FetchOptions) -> Fetched {
        let cfg = &self.inner.cfg;
        let started = Instant::now();
        let started_ms = clock::now_millis();
        let deadline = opts
            .deadline
            .unwrap_or(started + cfg.timeout * (cfg.retries + 1) * 2);
        let mut out = Fetched::nothing_yet(url, started_ms);
        let current = match Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            _ => {
                out.page.state = FetchState::Other;
                out.error = Some(format!("not an http(s) URL: {url}"));
                return out;
            }
        };
        let visited = vec![current.as_str().to_string()];
        self.run(out, current, visited, opts, started, deadline)
            .await
    }

    /// Continues a fetch that stopped at [`Fetched::held_redirect`]: the hops, exchanges and
    /// redirect count carry over, so loops and the redirect cap are judged over the whole
    /// chain. A result without a held redirect is returned as is.
    pub async fn follow(&self, mut held: Fetched, opts: &FetchOptions) -> Fetched {
        let Some(next) = held.held_redirect.take() else {
            return held;
        };
        let Ok(current) = Url::parse(&next) else {
            held.page.state = FetchState::Other;
            held.error = Some(format!("not an http(s) URL: {next}"));
            return held;
        };
        let cfg = &self.inner.cfg;
        let started = Instant::now()
            .checked_sub(Duration::from_millis(held.page.elapsed_ms))
            .unwrap_or_else(Instant::now);
        let deadline = opts
            .deadline
            .unwrap_or(Instant::now() + cfg.timeout * (cfg.retries + 1) * 2);
        let mut visited = vec![held.page.url.clone()];
        visited.extend(held.page.redirects.iter().cloned());
        held.error = None;
        held.page.state = FetchState::Other;
        self.run(held, current, visited, opts, started, deadline)
            .await
    }

    /// The hop loop shared by [`Fetcher::fetch`] and [`Fetcher::follow`].
    async fn run(
        &self,
        mut out: Fetched,
        mut current: Url,
        mut visited: Vec<String>,
        opts: &FetchOptions,
        started: Instant,
        deadline: Instant,
    ) -> Fetched {
        let cfg = &self.inner.cfg;
        let mut kind = if opts.legacy && self.inner.legacy.is_some() {
            ClientKind::Legacy
        } else if opts.insecure {
            ClientKind::Insecure
        } else {
            ClientKind::Main
        };
        let body_cap = opts.max_body_bytes.unwrap_or(cfg.max_body_bytes);

        'hops: loop {
            let mut attempt = 0u32;
            let hop = loop {
                let host = host_key(&current);
                let Some(_permit) = self.inner.gates.acquire(&host, deadline).await else {
                    out.page.elapsed_ms = started.elapsed().as_millis() as u64;
                    if let Some(rl) = out.rate_limit.as_mut() {
                        // Waiting out a refusal for our rate took the rest of the budget: the
                        // page is still refused, which is a verdict on the site, not a cut.
                        rl.refused = true;
                        out.page.state = RATE_LIMITED_STATE;
                        out.waf_marker = Some(RATE_LIMITED_MARKER);
                        out.error = Some(
                            "refused for our request rate; the time budget ran out while \
                             waiting as asked"
                                .into(),
                        );
                        return out;
                    }
                    out.page.state = FetchState::Timeout;
                    // Our budget, not the site: the caller must not judge the page by it.
                    out.cut_by_deadline = true;
                    out.error = Some("time budget ran out before the request could be sent".into());
                    out.page.elapsed_ms = started.elapsed().as_millis() as u64;
                    return out;
                };
                out.sent = true;
                let own_limit = Instant::now() + cfg.timeout;
                let hop_deadline = deadline.min(own_limit);
                let hop = self.hop(kind, &current, hop_deadline, body_cap).await;
                out.cut_by_deadline = deadline < own_limit && hop.state() == FetchState::Timeout;
                out.exchanges.push(hop.exchange.clone());
                let state = hop.state();
                // TLS fallbacks do not count as retries: they are a different client.
                if current.scheme() == "https" {
                    if state == FetchState::Tls
                        && kind != ClientKind::Legacy
                        && self.inner.legacy.is_some()
                    {
                        kind = ClientKind::Legacy;
                        continue;
                    }
                    if state == FetchState::CertInvalid
                        && kind == ClientKind::Main
                        && cfg.accept_invalid_certs_fallback
                    {
                        out.cert_error = hop.exchange.error.as_ref().map(|e| e.1.clone());
                        kind = ClientKind::Insecure;
                        continue;
                    }
                }
                // Refused for our rate: wait as asked (up to the cap), holding the whole host
                // back meanwhile, and space it wider from now on.
                if let Some((status, retry_after)) = hop.refusal(cfg.max_decoded_bytes) {
                    let rl = out.rate_limit.get_or_insert(RateLimit {
                        status,
                        retry_after_s: None,
                        refusals: 0,
                        waited_ms: 0,
                        refused: false,
                    });
                    rl.status = status;
                    rl.refusals += 1;
                    rl.retry_after_s = retry_after.map(|d| d.as_secs_f64());
                    let wait = match retry_after {
                        Some(d) if d > cfg.max_retry_after => None,
                        Some(d) => Some(d.max(cfg.backoff)),
                        None => Some(cfg.backoff * 2u32.saturating_pow(attempt)),
                    };
                    let hold = wait.unwrap_or(Duration::ZERO);
                    self.inner.gates.back_off(&host, hold, cfg.max_retry_after);
                    // The server said when to come back: at least one retry, even when
                    // transient failures are not retried (`retries: 0`).
                    if let Some(wait) = wait {
                        if attempt < cfg.retries.max(1) && Instant::now() + wait < deadline {
                            attempt += 1;
                            rl.waited_ms += wait.as_millis() as u64;
                            drop(_permit);
                            // The gate now opens for this host no earlier than `wait` from now.
                            continue;
                        }
                    }
                    rl.refused = true;
                    break hop;
                }
                let transient = matches!(
                    state,
                    FetchState::Timeout | FetchState::Reset | FetchState::Empty
                ) || (state == FetchState::Http5xx
                    && !hop.is_waf(cfg.max_decoded_bytes));
                if transient && attempt < cfg.retries {
                    let mut wait = cfg.backoff * 2u32.saturating_pow(attempt);
                    if let Some(ra) = hop.retry_after(clock::now_millis() / 1000) {
                        wait = wait.max(ra.min(cfg.max_retry_after));
                    }
                    if Instant::now() + wait < deadline {
                        attempt += 1;
                        drop(_permit);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                break hop;
            };

            // Redirects, followed by hand.
            if let Some(resp) = &hop.exchange.response {
                if matches!(resp.status, 301 | 302 | 303 | 307 | 308) {
                    let location = resp
                        .headers
                        .iter()
                        .find(|(k, _)| k == "location")
                        .and_then(|(_, v)| current.join(v.trim()).ok())
                        .filter(|u| matches!(u.scheme(), "http" | "https"));
                    if let Some(mut next) = location {
                        next.set_fragment(None);
                        if out.page.redirects.len() >= cfg.max_redirects
                            || visited.iter().any(|v| v == next.as_str())
                        {
                            self.finish(&mut out, &hop, &current, kind);
                            out.page.state = FetchState::TooManyRedirects;
                            out.error = Some(format!(
                                "redirects stopped after {} hops (loop or too long) at {next}",
                                out.page.redirects.len()
                            ));
                            break 'hops;
                        }
                        out.page.redirects.push(next.to_string());
                        visited.push(next.to_string());
                        if opts.hold_cross_host && host_key(&next) != host_key(&current) {
                            out.page.final_url = current.to_string();
                            out.page.status = Some(resp.status);
                            out.page.state = FetchState::Other;
                            out.error = Some(format!(
                                "redirect to another host held for its robots.txt: {next}"
                            ));
                            out.held_redirect = Some(next.to_string());
                            break 'hops;
                        }
                        current = next;
                        continue 'hops;
                    }
                }
            }
            self.finish(&mut out, &hop, &current, kind);
            break;
        }
        out.page.elapsed_ms = started.elapsed().as_millis() as u64;
        out
    }

    /// Fills the page from the final hop: state, headers, decoded text.
    fn finish(&self, out: &mut Fetched, hop: &Hop, url: &Url, kind: ClientKind) {
        let cfg = &self.inner.cfg;
        out.page.final_url = url.to_string();
        out.page.legacy_tls = kind == ClientKind::Legacy;
        out.cert_not_after = hop.exchange.tls_not_after.clone();
        let Some(resp) = &hop.exchange.response else {
            let (state, msg) = hop
                .exchange
                .error
                .clone()
                .unwrap_or((FetchState::Other, "no response".into()));
            out.page.state = state;
            out.error = Some(msg);
            return;
        };
        out.page.status = Some(resp.status);
        out.page.headers = resp.headers.clone();
        let header = |n: &str| {
            resp.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        let content_type = header("content-type");
        let decoded = decode_content(
            &resp.body,
            header("content-encoding"),
            cfg.max_decoded_bytes,
        );
        let (body, too_large) = match decoded {
            Ok(b) => (b, false),
            Err(ContentError::TooLarge(partial)) => (partial, true),
            Err(e) => {
                out.page.state = FetchState::Other;
                out.error = Some(e.to_string());
                return;
            }
        };
        out.decoded_bytes = body.len();
        out.is_html = is_html(content_type, &body);
        let textual = out.is_html || is_textual(content_type);
        out.waf_marker = waf_challenge(resp.status, &resp.headers, &body);
        let mut state = if out.waf_marker.is_some() {
            FetchState::WafChallenge
        } else {
            match resp.status {
                200..=299 if body.is_empty() => FetchState::Empty,
                200..=299 => FetchState::Ok,
                400..=499 => FetchState::Http4xx,
                500..=599 => FetchState::Http5xx,
                _ => FetchState::Other,
            }
        };
        let wire_too_large = resp.truncated == Some(Truncation::Length) && textual;
        if state == FetchState::Ok && (too_large || wire_too_large) {
            state = FetchState::TooLarge;
            out.error = Some(if too_large {
                format!("body inflates past {} bytes", cfg.max_decoded_bytes)
            } else {
                format!("body longer than {} bytes", resp.body.len())
            });
        }
        if let Some((s, msg)) = &hop.exchange.error {
            // A response arrived but the body was cut by time or a reset.
            if state == FetchState::Ok {
                state = *s;
            }
            out.error = Some(msg.clone());
        }
        out.page.state = state;
        if state == FetchState::Ok && textual {
            let tld = tld_hint(url, &cfg.default_tld);
            let d = charset::decode_html(&body, content_type, Some(tld.as_bytes()));
            out.page.text = d.text;
            out.page.charset = Some(d.encoding.to_string());
            out.page.charset_source = Some(d.source.as_str().to_string());
        }
        if state == FetchState::WafChallenge {
            out.error = Some(format!(
                "bot-protection challenge (HTTP {}, marker {})",
                resp.status,
                out.waf_marker.unwrap_or("?")
            ));
        }
        if let Some(rl) = out.rate_limit.as_ref().filter(|r| r.refused) {
            if out.waf_marker.is_none() && matches!(resp.status, 429 | 503) {
                out.page.state = RATE_LIMITED_STATE;
                out.waf_marker = Some(RATE_LIMITED_MARKER);
                let after = match rl.retry_after_s {
                    Some(s) if s > cfg.max_retry_after.as_secs_f64() => format!(
                        "Retry-After {s} s is over the {} s cap, not waited for",
                        cfg.max_retry_after.as_secs()
                    ),
                    Some(s) => format!("Retry-After {s} s"),
                    None => "no usable Retry-After".to_string(),
                };
                out.error = Some(format!(
                    "rate limited: HTTP {} after {} refusal(s), {after}",
                    resp.status, rl.refusals
                ));
            }
        }
        out.body = body;
    }

    /// The host's IPv6 addresses: pinned ones from the configuration, else the system
    /// resolver's (bounded by the connect timeout). `None` when the lookup itself failed.
    pub async fn ipv6_addresses(&self, host: &str, port: u16) -> Option<Vec<Ipv6Addr>> {
        let cfg = &self.inner.cfg;
        let pinned: Vec<SocketAddr> = cfg
            .resolve
            .iter()
            .filter(|(h, _)| h == host)
            .map(|(_, a)| *a)
            .collect();
        let addrs: Vec<SocketAddr> = if pinned.is_empty() {
            let lookup = tokio::net::lookup_host((host, port));
            tokio::time::timeout(cfg.connect_timeout, lookup)
                .await
                .ok()?
                .ok()?
                .collect()
        } else {
            pinned
        };
        let mut v6: Vec<Ipv6Addr> = addrs
            .iter()
            .filter_map(|a| match a.ip() {
                IpAddr::V6(ip) => Some(ip),
                IpAddr::V4(_) => None,
            })
            .collect();
        v6.dedup();
        Some(v6)
    }

    /// Fetches `home.final_url` once over `addresses` (IPv6) and compares it with the
    /// home page as fetched before: same status and same `<title>` mean the same site.
    pub async fn probe_ipv6(
        &self,
        home: &Page,
        addresses: &[Ipv6Addr],
        deadline: Instant,
    ) -> Option<Ipv6Probe> {
        let url = Url::parse(&home.final_url).ok()?;
        let host = url.host_str()?.to_string();
        let port = url.port_or_known_default()?;
        let cfg = &self.inner.cfg;
        let socks: Vec<SocketAddr> = addresses
            .iter()
            .map(|ip| SocketAddr::new(IpAddr::V6(*ip), port))
            .collect();
        // Certificates are the https check's business; here only reachability counts.
        let client = builder(cfg)
            .tls_backend_rustls()
            .tls_danger_accept_invalid_certs(true)
            .resolve_to_addrs(&host, &socks)
            .build()
            .ok()?;
        let started_ms = clock::now_millis();
        let mut fetched = Fetched::nothing_yet(url.as_str(), started_ms);
        let permit = self.inner.gates.acquire(&host_key(&url), deadline).await;
        if permit.is_some() {
            let started = Instant::now();
            let hop_deadline = deadline.min(started + cfg.timeout);
            let hop = self
                .hop_with(&client, false, &url, hop_deadline, cfg.max_body_bytes)
                .await;
            fetched.sent = true;
            fetched.exchanges.push(hop.exchange.clone());
            self.finish(&mut fetched, &hop, &url, ClientKind::Insecure);
            fetched.page.legacy_tls = false;
            fetched.page.elapsed_ms = started.elapsed().as_millis() as u64;
        }
        drop(permit);
        let served_v6 = fetched
            .exchanges
            .iter()
            .all(|e| e.remote_ip.is_none_or(|ip| ip.is_ipv6()));
        let same_site = fetched.page.state == FetchState::Ok
            && served_v6
            && fetched.page.status == home.status
            && title_of(&fetched.page.text) == title_of(&home.text);
        Some(Ipv6Probe {
            addresses: addresses.to_vec(),
            fetched,
            same_site,
        })
    }

    /// Times the phases of one plain request for `url` (no redirects followed), on sockets of
    /// its own so each phase is seen: DNS lookup, TCP connect, TLS handshake (any certificate
    /// accepted: validity is the `https` check's business), time to first byte after the
    /// request was written, and total until the body ended. Waits for the host's turn like
    /// any request and is bounded by `deadline` and the per-request timeout. `None` when any
    /// phase failed or the body did not end within the bounds and the body cap: a timing is
    /// reported only when measured.
    pub async fn probe_timings(&self, url: &str, deadline: Instant) -> Option<Timings> {
        let cfg = &self.inner.cfg;
        let url = Url::parse(url).ok()?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let port = url.port_or_known_default()?;
        let host = url.host()?.to_owned();
        let _permit = self.inner.gates.acquire(&host_key(&url), deadline).await?;
        let limit = deadline.min(Instant::now() + cfg.timeout);
        let t0 = Instant::now();
        let (addrs, dns) = match &host {
            url::Host::Ipv4(ip) => (vec![SocketAddr::new(IpAddr::V4(*ip), port)], None),
            url::Host::Ipv6(ip) => (vec![SocketAddr::new(IpAddr::V6(*ip), port)], None),
            url::Host::Domain(d) => {
                let pinned: Vec<SocketAddr> = cfg
                    .resolve
                    .iter()
                    .filter(|(h, _)| h == d)
                    .map(|(_, a)| SocketAddr::new(a.ip(), port))
                    .collect();
                if pinned.is_empty() {
                    let lookup = tokio::net::lookup_host((d.as_str(), port));
                    let found: Vec<SocketAddr> = tokio::time::timeout_at(limit.into(), lookup)
                        .await
                        .ok()?
                        .ok()?
                        .collect();
                    (found, Some(ms(t0.elapsed())))
                } else {
                    // Pinned addresses: there was no lookup to time.
                    (pinned, None)
                }
            }
        };
        let t1 = Instant::now();
        let mut stream = None;
        for a in addrs {
            let until = limit.min(Instant::now() + cfg.connect_timeout);
            if let Ok(Ok(s)) =
                tokio::time::timeout_at(until.into(), tokio::net::TcpStream::connect(a)).await
            {
                stream = Some(s);
                break;
            }
        }
        let stream = stream?;
        let connect = ms(t1.elapsed());
        let _ = stream.set_nodelay(true);
        let head = probe_request(&url, &cfg.user_agent);
        let cap = cfg.max_body_bytes;
        let (tls, ttfb, end) = if https {
            let name = match &host {
                url::Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.clone()).ok()?,
                url::Host::Ipv4(ip) => rustls::pki_types::ServerName::from(IpAddr::V4(*ip)),
                url::Host::Ipv6(ip) => rustls::pki_types::ServerName::from(IpAddr::V6(*ip)),
            };
            let t2 = Instant::now();
            let connector = tokio_rustls::TlsConnector::from(probe_tls_config());
            let tls = tokio::time::timeout_at(limit.into(), connector.connect(name, stream))
                .await
                .ok()?
                .ok()?;
            let tls_ms = ms(t2.elapsed());
            let (ttfb, end) = timed_exchange(tls, &head, limit, cap).await?;
            (Some(tls_ms), ttfb, end)
        } else {
            let (ttfb, end) = timed_exchange(stream, &head, limit, cap).await?;
            (None, ttfb, end)
        };
        Some(Timings {
            dns,
            connect,
            tls,
            ttfb: ms(ttfb),
            total: ms(end.duration_since(t0)),
        })
    }

    /// One request on one URL with one client, bounded by `deadline`.
    async fn hop(&self, kind: ClientKind, url: &Url, deadline: Instant, body_cap: usize) -> Hop {
        let client = match kind {
            ClientKind::Main => &self.inner.main,
            ClientKind::Insecure => &self.inner.insecure,
            ClientKind::Legacy => self.inner.legacy.as_ref().unwrap_or(&self.inner.main),
        };
        self.hop_with(client, kind == ClientKind::Legacy, url, deadline, body_cap)
            .await
    }

    async fn hop_with(
        &self,
        client: &reqwest::Client,
        legacy: bool,
        url: &Url,
        deadline: Instant,
        body_cap: usize,
    ) -> Hop {
        let cfg = &self.inner.cfg;
        let mut exchange = Exchange {
            url: url.to_string(),
            started_ms: clock::now_millis(),
            request_head: request_head(url, &self.inner.headers),
            remote_ip: None,
            response: None,
            error: None,
            legacy_tls: legacy,
            tls_not_after: None,
        };
        let req = client.get(url.clone()).headers(self.inner.headers.clone());
        let mut resp = match tokio::time::timeout_at(deadline.into(), req.send()).await {
            Err(_) => {
                exchange.error = Some((
                    FetchState::Timeout,
                    format!("no response within {} ms", cfg.timeout.as_millis()),
                ));
                return Hop { exchange };
            }
            Ok(Err(e)) => {
                exchange.error = Some(classify_error(&e));
                return Hop { exchange };
            }
            Ok(Ok(r)) => r,
        };
        exchange.remote_ip = resp.remote_addr().map(|a| a.ip());
        exchange.tls_not_after = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate())
            .and_then(cert_not_after);
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.as_str());
        let textual = content_type.is_none_or(|ct| is_textual(Some(ct)) || ct.contains("html"));
        let cap = if textual {
            body_cap
        } else {
            body_cap.min(cfg.max_nontext_bytes)
        };
        let mut body = Vec::new();
        let mut truncated = None;
        loop {
            match tokio::time::timeout_at(deadline.into(), resp.chunk()).await {
                Err(_) => {
                    truncated = Some(Truncation::Time);
                    exchange.error = Some((
                        FetchState::Timeout,
                        format!("body not complete within {} ms", cfg.timeout.as_millis()),
                    ));
                    break;
                }
                Ok(Err(e)) => {
                    truncated = Some(Truncation::Disconnect);
                    exchange.error = Some(classify_error(&e));
                    break;
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    let room = cap - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = Some(Truncation::Length);
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        let status = resp.status();
        exchange.response = Some(RawResponse {
            version: version_str(resp.version()).to_string(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body,
            truncated,
        });
        Hop { exchange }
    }
}

#[cfg(feature = "legacy-tls")]
fn legacy_client(cfg: &FetchConfig) -> Result<Option<reqwest::Client>, FetchSetupError> {
    // OpenSSL 3 refuses TLS 1.0/1.1 and SHA-1 below security level 0 whatever we ask here;
    // running with OPENSSL_CONF pointing at a SECLEVEL=0 config widens it further.
    Ok(Some(
        builder(cfg)
            .tls_backend_native()
            .tls_version_min(reqwest::tls::Version::TLS_1_0)
            .tls_danger_accept_invalid_certs(true)
            .build()?,
    ))
}

#[cfg(not(feature = "legacy-tls"))]
fn legacy_client(_cfg: &FetchConfig) -> Result<Option<reqwest::Client>, FetchSetupError> {
    Ok(None)
}

struct Hop {
    exchange: Exchange,
}

impl Hop {
    fn state(&self) -> FetchState {
        if let Some(r) = &self.exchange.response {
            match r.status {
                500..=599 => return FetchState::Http5xx,
                _ => {
                    if let Some((s, _)) = &self.exchange.error {
                        return *s;
                    }
                    return FetchState::Ok;
                }
            }
        }
        self.exchange
            .error
            .as_ref()
            .map(|e| e.0)
            .unwrap_or(FetchState::Other)
    }

    /// A challenge is not transient: retrying it only knocks again.
    fn is_waf(&self, cap: usize) -> bool {
        let Some(r) = &self.exchange.response else {
            return false;
        };
        let enc = r
            .headers
            .iter()
            .find(|(k, _)| k == "content-encoding")
            .map(|(_, v)| v.as_str());
        let body = decode_content(&r.body, enc, cap).unwrap_or_default();
        waf_challenge(r.status, &r.headers, &body).is_some()
    }

    /// `Retry-After`, as a wait from `now_s` (Unix seconds).
    fn retry_after(&self, now_s: i64) -> Option<Duration> {
        let r = self.exchange.response.as_ref()?;
        let v = &r.headers.iter().find(|(k, _)| k == "retry-after")?.1;
        parse_retry_after(v, now_s)
    }

    /// A refusal for our rate: 429, or 503 with a `Retry-After` (a 503 without one is an
    /// ordinary server error). A scripted challenge on those statuses stays a challenge.
    /// Returns the status and the asked wait.
    fn refusal(&self, cap: usize) -> Option<(u16, Option<Duration>)> {
        let r = self.exchange.response.as_ref()?;
        let has_header = r.headers.iter().any(|(k, _)| k == "retry-after");
        let refused = r.status == 429 || (r.status == 503 && has_header);
        if !refused || self.is_waf(cap) {
            return None;
        }
        Some((r.status, self.retry_after(clock::now_millis() / 1000)))
    }
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date (the
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete RFC 850 and asctime forms
/// recipients must accept), as a wait from `now_s` (Unix seconds). A date in the past is no
/// wait; anything else unreadable is `None`.
pub fn parse_retry_after(value: &str, now_s: i64) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = http_date(v)?;
    Some(Duration::from_secs(u64::try_from(at - now_s).unwrap_or(0)))
}

/// Unix seconds of an HTTP-date in any of its three forms.
fn http_date(v: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = |m: &str| {
        MONTHS
            .iter()
            .position(|x| m.eq_ignore_ascii_case(x))
            .map(|i| i as u32 + 1)
    };
    let clock = |t: &str| -> Option<i64> {
        let mut it = t.split(':').map(|x| x.parse::<i64>().ok());
        let (h, m, s) = (it.next()??, it.next()??, it.next()??);
        (it.next().is_none() && h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
    };
    let words: Vec<&str> = v.split_whitespace().collect();
    let (day, mon, year, time) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, month(m)?, y.parse::<i64>().ok()?, *t),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, dmy, t, "GMT"] => {
            let mut p = dmy.split('-');
            let (d, m, y) = (p.next()?, p.next()?, p.next()?);
            let y: i64 = y.parse().ok()?;
            // Two-digit years more than 50 years ahead are in the past (RFC 9110).
            let y = if y < 100 {
                if y >= 70 {
                    1900 + y
                } else {
                    2000 + y
                }
            } else {
                y
            };
            (d.parse().ok()?, month(m)?, y, *t)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, m, d, t, y] => (d.parse().ok()?, month(m)?, y.parse::<i64>().ok()?, *t),
        _ => return None,
    };
    let date = crate::checks::dates::Date::new(i32::try_from(year).ok()?, mon, day)?;
    Some(date.days_since_epoch() * 86_400 + clock(time)?)
}

/// Phase timings of the home page, in milliseconds (microsecond precision: on loopback the
/// phases are well under a millisecond). A phase that did not happen is `None`: no DNS
/// lookup for an address or a pinned host, no TLS over http.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Timings {
    pub dns: Option<f64>,
    pub connect: f64,
    pub tls: Option<f64>,
    /// From the request written to the first response byte.
    pub ttfb: f64,
    /// From the start of the lookup to the end of the body.
    pub total: f64,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The timing probe's request: like the client's, but uncompressed and closing the
/// connection, so the end of the body is the end of the stream.
fn probe_request(url: &Url, user_agent: &str) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n\
         Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Encoding: identity\r\n\
         Connection: close\r\n\r\n"
    )
    .into_bytes()
}

/// Writes `head`, then reads to the end of the stream: (time to the first byte after the
/// write, instant of the end). `None` on an error, the limit, or more than `cap` bytes.
async fn timed_exchange<S>(
    mut s: S,
    head: &[u8],
    limit: Instant,
    cap: usize,
) -> Option<(Duration, Instant)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let until: tokio::time::Instant = limit.into();
    tokio::time::timeout_at(until, async {
        s.write_all(head).await?;
        s.flush().await
    })
    .await
    .ok()?
    .ok()?;
    let sent = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    let mut first = None;
    let mut total = 0usize;
    loop {
        let n = match tokio::time::timeout_at(until, s.read(&mut buf))
            .await
            .ok()?
        {
            Ok(n) => n,
            // A TLS peer that closes without close_notify has still sent everything.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && first.is_some() => 0,
            Err(_) => return None,
        };
        if n == 0 {
            break;
        }
        first.get_or_insert_with(|| sent.elapsed());
        total += n;
        if total > cap + 64 * 1024 {
            return None;
        }
    }
    Some((first?, Instant::now()))
}

/// rustls for the timing probe: the ring provider, and any certificate accepted (signatures
/// still checked), since only the handshake's duration is measured here.
fn probe_tls_config() -> Arc<rustls::ClientConfig> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct AnyCert(Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for AnyCert {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
                .with_no_client_auth();
            Arc::new(cfg)
        })
        .clone()
}

impl Fetched {
    /// Before anything was sent: the page is empty and nothing is archived or judged yet.
    fn nothing_yet(url: &str, started_ms: i64) -> Fetched {
        Fetched {
            page: empty_page(url, started_ms),
            exchanges: Vec::new(),
            body: Vec::new(),
            decoded_bytes: 0,
            is_html: false,
            cert_error: None,
            cert_not_after: None,
            error: None,
            waf_marker: None,
            sent: false,
            cut_by_deadline: false,
            rate_limit: None,
            held_redirect: None,
        }
    }
}

fn empty_page(url: &str, started_ms: i64) -> Page {
    Page {
        url: url.to_string(),
        final_url: url.to_string(),
        state: FetchState::Other,
        status: None,
        headers: Vec::new(),
        text: String::new(),
        charset: None,
        charset_source: None,
        redirects: Vec::new(),
        depth: 0,
        elapsed_ms: 0,
        fetched_at: clock::rfc3339_millis(started_ms),
        warc_record: None,
        legacy_tls: false,
    }
}

/// `host:port`, the unit of politeness.
pub fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn tld_hint(url: &Url, default: &str) -> String {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let last = d.trim_end_matches('.').rsplit('.').next().unwrap_or("");
            if !last.is_empty() && last.bytes().all(|b| b.is_ascii_alphabetic()) {
                last.to_ascii_lowercase()
            } else {
                default.to_string()
            }
        }
        _ => default.to_string(),
    }
}

fn version_str(v: reqwest::Version) -> &'static str {
    match v {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// The request as sent, for the WARC request record.
fn request_head(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let mut head = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\n").into_bytes();
    for (k, v) in headers {
        head.extend_from_slice(k.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Whether a Content-Type is text worth decoding.
pub fn is_textual(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.contains("html")
        || mime.contains("xml")
        || mime.contains("json")
        || mime.contains("javascript")
}

/// HTML by header, or (no header) by a leading `<` after whitespace.
pub fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "text/html" || mime == "application/xhtml+xml"
        }
        None => body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<'),
    }
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ContentError {
    /// Holds the first `cap` decoded bytes.
    #[error("decoded body larger than the cap")]
    TooLarge(Vec<u8>),
    #[error("unsupported content encoding {0:?}")]
    Unsupported(String),
    #[error("corrupt {0} body: {1}")]
    Corrupt(&'static str, String),
}

/// Undoes `Content-Encoding` with a hard cap on the output: the decoder is read through
/// `take(cap + 1)`, so a gzip bomb costs at most `cap + 1` bytes of memory.
pub fn decode_content(
    raw: &[u8],
    encoding: Option<&str>,
    cap: usize,
) -> Result<Vec<u8>, ContentError> {
    let enc = encoding.unwrap_or("").trim().to_ascii_lowercase();
    let read_capped =
        |mut r: Box<dyn Read + '_>, name: &'static str| -> Result<Vec<u8>, ContentError> {
            let mut out = Vec::new();
            (&mut r)
                .take(cap as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ContentError::Corrupt(name, e.to_string()))?;
            if out.len() > cap {
                out.truncate(cap);
                return Err(ContentError::TooLarge(out));
            }
            Ok(out)
        };
    match enc.as_str() {
        "" | "identity" => {
            if raw.len() > cap {
                return Err(ContentError::TooLarge(raw[..cap].to_vec()));
            }
            Ok(raw.to_vec())
        }
        "gzip" | "x-gzip" => read_capped(Box::new(flate2::read::MultiGzDecoder::new(raw)), "gzip"),
        "deflate" => {
            // Servers send both zlib-wrapped (correct) and raw deflate; try zlib first.
            match read_capped(Box::new(flate2::read::ZlibDecoder::new(raw)), "deflate") {
                Err(ContentError::Corrupt(..)) => {
                    read_capped(Box::new(flate2::read::DeflateDecoder::new(raw)), "deflate")
                }
                other => other,
            }
        }
        other => Err(ContentError::Unsupported(other.to_string())),
    }
}

/// Markers of JS-challenge WAFs common on Chinese government sites (cookie or script names).
const WAF_MARKERS: &[(&str, &str)] = &[
    ("wzws_cid", "wzws"),
    ("wzws_reurl", "wzws"),
    ("__jsluid", "jiasule"),
    ("__jsl_clearance", "jiasule"),
    ("jsl_clearance", "jiasule"),
    ("acw_sc__v2", "aliyun_waf"),
    ("acw_tc", "aliyun_waf"),
    ("yunsuo_session_verify", "yunsuo"),
    ("safedog", "safedog"),
    ("$_ts", "ruishu"),
    ("cdn-cgi/challenge-platform", "cloudflare"),
];

/// Recognises a bot-protection challenge: a known marker in a cookie or a short scripted
/// body, or a challenge-style status (412, 521, …) whose body is scripts with almost no
/// text (fewer than 10 visible characters). Returns the marker's family.
pub fn waf_challenge(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<&'static str> {
    for (k, v) in headers {
        if k == "set-cookie" {
            let name = v.split('=').next().unwrap_or("").trim();
            if let Some((_, fam)) = WAF_MARKERS.iter().find(|(m, _)| name.starts_with(m)) {
                return Some(fam);
            }
        }
    }
    // Only short pages: a real portal may mention a marker in a long page.
    if body.len() <= 64 * 1024 {
        let text = String::from_utf8_lossy(body);
        let has_script = body.windows(7).any(|w| w.eq_ignore_ascii_case(b"<script"));
        if has_script {
            if let Some((_, fam)) = WAF_MARKERS.iter().find(|(m, _)| text.contains(m)) {
                return Some(fam);
            }
        }
        let challenge_status = matches!(status, 202 | 403 | 412 | 418 | 429 | 503 | 521);
        if challenge_status && has_script && visible_text_len(&text) < 10 {
            return Some(if status == 412 {
                "http_412_script"
            } else {
                "script_challenge"
            });
        }
    }
    None
}

/// Characters of visible text outside tags, scripts and styles (a rough measure). Works on
/// bytes, so any input (even invalid UTF-8 turned lossy) is safe.
fn visible_text_len(html: &str) -> usize {
    fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
            .map(|p| from + p)
    }
    let b = html.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < b.len() {
        let rest = &b[i..];
        let starts =
            |tag: &[u8]| rest.len() >= tag.len() && rest[..tag.len()].eq_ignore_ascii_case(tag);
        if starts(b"<script") || starts(b"<style") {
            let close: &[u8] = if starts(b"<script") {
                b"</script"
            } else {
                b"</style"
            };
            i = find(b, i, close)
                .and_then(|p| find(b, p, b">"))
                .map_or(b.len(), |p| p + 1);
        } else if b[i] == b'<' {
            i = find(b, i, b">").map_or(b.len(), |p| p + 1);
        } else {
            // Count characters, not bytes: skip UTF-8 continuation bytes.
            if !b[i].is_ascii_whitespace() && b[i] & 0xC0 != 0x80 {
                count += 1;
            }
            i += 1;
        }
    }
    count
}

/// The notAfter of a DER X.509 certificate as RFC 3339 UTC (`2036-11-24T21:44:14Z`).
/// A minimal DER walk (certificate → tbsCertificate → validity), enough for the expiry
/// warning without an X.509 parsing dependency; `None` on anything unexpected.
pub fn cert_not_after(der: &[u8]) -> Option<String> {
    /// (tag, content, rest) of the TLV at the start of `b`.
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, b) = b.split_first()?;
        let (&first, mut b) = b.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 || b.len() < n {
                return None;
            }
            let len = b[..n]
                .iter()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
            b = &b[n..];
            len
        };
        (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
    }
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, tbs, _) = tlv(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xA0 {
        rest = r; // explicit version
    }
    for _ in 0..3 {
        rest = tlv(rest)?.2; // serial, signature algorithm, issuer
    }
    let (0x30, validity, _) = tlv(rest)? else {
        return None;
    };
    let (_, _, after) = tlv(validity)?; // skip notBefore
    let (tag, time, _) = tlv(after)?;
    let t = std::str::from_utf8(time).ok()?;
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let full = match tag {
        0x17 if t.len() == 13 && digits(&t[..12]) => {
            let yy: u32 = t[..2].parse().ok()?;
            format!("{}{}", if yy >= 50 { 19 } else { 20 }, &t[..12])
        }
        0x18 if t.len() == 15 && digits(&t[..14]) => t[..14].to_string(),
        _ => return None,
    };
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    ))
}

/// Maps a client error to the failure taxonomy, with a plain-words message.
pub fn classify_error(err: &reqwest::Error) -> (FetchState, String) {
    let msg = error_chain_text(err);
    if err.is_timeout() {
        return (FetchState::Timeout, msg);
    }
    (classify_chain(err), msg)
}

fn error_chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Walks an error's source chain (including errors wrapped inside `io::Error`) for the
/// most specific cause.
pub fn classify_chain(err: &(dyn StdError + 'static)) -> FetchState {
    let mut found: Option<FetchState> = None;
    let mut text = String::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        text.push_str(&e.to_string().to_ascii_lowercase());
        text.push(' ');
        if let Some(state) = typed_state(e) {
            found = Some(state);
        }
        // io::Error hides what it wraps from `source()`, and wrappers nest (reqwest's
        // connector wraps the TLS stream's io::Error, which wraps the rustls error).
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(|i| i.get_ref()) {
            let inner: &(dyn StdError + 'static) = inner;
            text.push_str(&inner.to_string().to_ascii_lowercase());
            text.push(' ');
            if let Some(state) = typed_state(inner) {
                found = Some(state);
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        cur = e.source();
    }
    if let Some(s) = found {
        return s;
    }
    if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
    {
        FetchState::Dns
    } else if text.contains("certificate") {
        FetchState::CertInvalid
    } else if text.contains("handshake") || text.contains("tls") || text.contains("ssl") {
        FetchState::Tls
    } else if text.contains("connection closed before message completed") {
        FetchState::Empty
    } else if text.contains("connection reset") || text.contains("broken pipe") {
        FetchState::Reset
    } else if text.contains("refused") {
        FetchState::Refused
    } else if text.contains("timed out") {
        FetchState::Timeout
    } else {
        FetchState::Other
    }
}

fn typed_state(e: &(dyn StdError + 'static)) -> Option<FetchState> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(match tls {
            rustls::Error::InvalidCertificate(_) => FetchState::CertInvalid,
            _ => FetchState::Tls,
        });
    }
    let io = e.downcast_ref::<std::io::Error>()?;
    use std::io::ErrorKind::*;
    Some(match io.kind() {
        ConnectionRefused | HostUnreachable | NetworkUnreachable => FetchState::Refused,
        ConnectionReset | ConnectionAborted | BrokenPipe => FetchState::Reset,
        TimedOut => FetchState::Timeout,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let bomb = gzip(&vec![0u8; 20 * 1024 * 1024]);
        assert!(
            bomb.len() < 100 * 1024,
            "a bomb is small on the wire: {}",
            bomb.len()
        );
        match decode_content(&bomb, Some("gzip"), 1024 * 1024) {
            Err(ContentError::TooLarge(partial)) => assert_eq!(partial.len(), 1024 * 1024),
            other => panic!("expected TooLarge, got {:?}", other.map(|v| v.len())),
        }
        assert_eq!(
            decode_content(&gzip(b"hello"), Some("x-gzip"), 5).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib body").unwrap();
        assert_eq!(
            decode_content(&z.finish().unwrap(), Some("deflate"), 100).unwrap(),
            b"zlib body"
        );
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        d.write_all(b"raw body").unwrap();
        assert_eq!(
            decode_content(&d.finish().unwrap(), Some("deflate"), 100).unwrap(),
            b"raw body"
        );
        assert!(matches!(
            decode_content(b"x", Some("br"), 10),
            Err(ContentError::Unsupported(_))
        ));
        assert!(matches!(
            decode_content(b"not gzip", Some("gzip"), 10),
            Err(ContentError::Corrupt(..))
        ));
    }

    #[test]
    fn waf_markers_and_412_script() {
        let cookie = vec![("set-cookie".to_string(), "wzws_cid=abc; path=/".to_string())];
        assert_eq!(
            waf_challenge(200, &cookie, b"<html>ok</html>"),
            Some("wzws")
        );
        let ruishu =
            b"<html><head><meta charset=utf-8><script>$_ts=window['$_ts'];</script></head></html>";
        assert_eq!(waf_challenge(412, &[], ruishu), Some("ruishu"));
        let bare = b"<html><script src=/a.js></script><script>eval(x)</script></html>";
        assert_eq!(waf_challenge(412, &[], bare), Some("http_412_script"));
        assert_eq!(waf_challenge(521, &[], bare), Some("script_challenge"));
        // A plain 403 page and a 200 page with scripts and text are not challenges.
        assert_eq!(
            waf_challenge(403, &[], b"<html><h1>403 Forbidden</h1></html>"),
            None
        );
        let page = "<html><script>var a=1;</script><p>北京市人民政府门户网站 政务公开 政务服务 互动交流 领导信箱 \
            关于开展2024年度政府网站工作年度报表的通知 关于印发北京市政务公开工作要点的通知</p></html>";
        assert_eq!(waf_challenge(503, &[], page.as_bytes()), None);
        let maintenance = "<html><script>var t=1;</script><p>系统维护中，请稍后访问</p></html>";
        assert_eq!(waf_challenge(503, &[], maintenance.as_bytes()), None);
        assert_eq!(
            visible_text_len("<p>政府 ab</p><SCRIPT>x</script><style>y</style>"),
            4
        );
        // Hostile input: unterminated tags, multibyte text right after markup.
        assert_eq!(visible_text_len("<scr政<script"), 0);
        assert_eq!(visible_text_len("政<"), 1);
    }

    #[test]
    fn io_errors_map_to_states() {
        use std::io::{Error, ErrorKind};
        let refused = Error::new(ErrorKind::ConnectionRefused, "refused");
        assert_eq!(classify_chain(&refused), FetchState::Refused);
        let reset = Error::new(ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(classify_chain(&reset), FetchState::Reset);
        let cert = Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
        );
        assert_eq!(classify_chain(&cert), FetchState::CertInvalid);
        let tls = Error::new(
            ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(classify_chain(&tls), FetchState::Tls);
        // Nested as reqwest's connector nests it.
        let nested = Error::other(Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        ));
        assert_eq!(classify_chain(&nested), FetchState::Tls);
        let dns = Error::other("dns error: failed to lookup address information");
        assert_eq!(classify_chain(&dns), FetchState::Dns);
    }

    #[test]
    fn html_sniffing_and_tld_hint() {
        assert!(is_html(Some("text/html; charset=gbk"), b""));
        assert!(!is_html(Some("application/pdf"), b"<"));
        assert!(is_html(None, b"  \n<html>"));
        assert!(!is_html(None, b"%PDF-1.4"));
        let u = Url::parse("http://www.beijing.gov.cn/").unwrap();
        assert_eq!(tld_hint(&u, "cn"), "cn");
        let ip = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(tld_hint(&ip, "cn"), "cn");
        assert_eq!(host_key(&ip), "127.0.0.1:8080");
        assert_eq!(host_key(&u), "www.beijing.gov.cn:80");
    }

    #[test]
    fn certificate_expiry_from_der() {
        // Made with `openssl req -x509 … -days 3650`; `openssl x509 -enddate` says
        // notAfter=Nov 24 21:44:14 2036 GMT.
        let der = include_bytes!("../tests/data/selfsigned.cert.der");
        assert_eq!(cert_not_after(der).as_deref(), Some("2036-11-24T21:44:14Z"));
        assert_eq!(cert_not_after(&der[..40]), None);
        assert_eq!(cert_not_after(b""), None);
        assert_eq!(cert_not_after(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]), None);
    }

    #[test]
    fn retry_after_in_seconds_and_as_dates() {
        let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let in_a_minute = "Sun, 06 Nov 1994 08:50:37 GMT";
        assert_eq!(
            parse_retry_after(in_a_minute, now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:39 1994", now),
            Some(Duration::from_secs(2))
        );
        // A date already past: no wait.
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn back_off_holds_the_host_and_widens_its_spacing() {
        let g = HostGates::new(1, Duration::from_millis(250));
        assert_eq!(g.interval("h:80"), None);
        g.back_off("h:80", Duration::from_secs(3), Duration::from_secs(60));
        assert_eq!(g.interval("h:80"), Some(Duration::from_secs(3)));
        g.back_off("h:80", Duration::ZERO, Duration::from_secs(60));
        assert_eq!(g.interval("h:80"), Some(Duration::from_secs(6)));
        g.back_off("h:80", Duration::ZERO, Duration::from_secs(10));
        assert_eq!(g.interval("h:80"), Some(Duration::from_secs(10)), "capped");
        let g = HostGates::new(1, Duration::ZERO);
        g.back_off("h:80", Duration::ZERO, Duration::from_secs(60));
        assert_eq!(
            g.interval("h:80"),
            Some(Duration::from_secs(1)),
            "at least 1 s"
        );
    }

    #[test]
    fn titles() {
        assert_eq!(
            title_of("<html><TITLE lang=zh> 政府 </title>"),
            Some("政府")
        );
        assert_eq!(title_of("<title>x"), None);
        assert_eq!(title_of("no title"), None);
    }

    #[test]
    fn user_agent_is_honest() {
        assert!(user_agent(None).starts_with("govcap-monitor/"));
        assert!(user_agent(Some("mailto:ops@example.org")).ends_with("(+mailto:ops@example.org)"));
    }
}
