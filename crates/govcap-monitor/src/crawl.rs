//! One site visit: robots.txt, the home page, then a bounded breadth-first crawl of the same
//! registrable domain, every exchange archived as it arrives.
//!
//! Bounds: depth, page count, a per-site time budget, and a cap on URLs per path pattern
//! (digits folded, query values dropped) so an endless calendar or a paging loop cannot eat
//! the page budget. HTML is parsed in a plain function that returns owned links, because
//! `scraper`'s documents are `!Send` and must not live across an `.await`.
//!
//! Manners beyond robots.txt for links: a redirect into another in-scope host stops at that
//! host until its robots.txt is read (once per host) and allows the target; a disallowed
//! target is skipped like a disallowed link. Rate-limit refusals (429 / 503 with
//! `Retry-After`) slow the host down for the rest of the run (see `fetch`) and are listed in
//! the `rate_limited` fact. The home page's phase timings come from a probe of their own
//! (`home_timings_ms`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use crate::checks;
use crate::fetch::{host_key, FetchOptions, Fetched, Fetcher};
use crate::model::{FetchState, Page, SiteVisit};
use crate::robots::{agent_token, Robots, MAX_ROBOTS_BYTES};
use crate::warc::WarcWriter;

/// One portal to visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub code: String,
    pub url: String,
}

/// Bounds of one site visit.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Link depth from the home page (0 = home only).
    pub max_depth: u32,
    /// Pages per site, home included.
    pub max_pages: usize,
    /// Wall time per site; nothing new starts after it.
    pub site_budget: Duration,
    /// URLs per path pattern (digits folded, query values dropped).
    pub max_per_pattern: usize,
    /// Run the site-search test query the `search` check judges.
    pub search_probe: bool,
    /// For an HTTPS home page, also ask `http://host/` whether it redirects to HTTPS.
    pub http_probe: bool,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            max_depth: 2,
            max_pages: 60,
            site_budget: Duration::from_secs(180),
            max_per_pattern: 50,
            search_probe: true,
            http_probe: true,
        }
    }
}

/// A cooperative stop signal (Ctrl-C): crawls stop starting fetches, drop the ones in
/// flight, and return what they have.
#[derive(Debug, Clone)]
pub struct Cancel {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        Cancel {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`Cancel::cancel`] has been called.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// Counts of one visit, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlStats {
    pub pages: usize,
    pub skipped_robots: usize,
    pub skipped_pattern: usize,
    pub skipped_non_html: usize,
    pub budget_exhausted: bool,
    pub interrupted: bool,
}

/// Links in a row whose pattern is their parent page's that are followed: the endless-
/// calendar guard (month after month, page after page); articles found on a list page start
/// a new run, so a site's many articles are not cut by it.
pub const MAX_PATTERN_CHAIN: u32 = 5;

/// Extensions never fetched as pages (attachments, media, assets).
const SKIP_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd", "zip", "rar",
    "7z", "gz", "tgz", "tar", "bz2", "jpg", "jpeg", "png", "gif", "bmp", "svg", "webp", "ico",
    "tif", "tiff", "mp3", "mp4", "avi", "flv", "wmv", "mov", "mkv", "swf", "wav", "exe", "apk",
    "dmg", "iso", "msi", "css", "js", "json", "xml", "txt", "csv", "woff", "woff2", "ttf",
];

/// The scope key: the registrable domain (`www.beijing.gov.cn` → `beijing.gov.cn`, since
/// `gov.cn` is a public suffix), or `host:port` for IP addresses and localhost, where the
/// port is what tells sites apart.
pub fn scope_key(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || !d.contains('.') {
                return Some(format!("{d}:{}", url.port_or_known_default().unwrap_or(0)));
            }
            Some(psl::domain_str(&d).unwrap_or(&d).to_string())
        }
        _ => Some(host_key(url)),
    }
}

/// The dedup key: fragment dropped, query pairs sorted (two spellings, one page).
pub fn normalise(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    u.to_string()
}

/// The pattern a URL belongs to: host, path with digit runs folded to `0`, and the sorted
/// query keys. `/cal?y=2024&m=5` and `/cal?y=1999&m=1` share one pattern.
pub fn pattern_key(url: &Url) -> String {
    let mut key = String::with_capacity(64);
    key.push_str(url.host_str().unwrap_or(""));
    let mut in_digits = false;
    for c in url.path().chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                key.push('0');
            }
            in_digits = true;
        } else {
            key.push(c);
            in_digits = false;
        }
    }
    let mut keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    keys.sort();
    keys.dedup();
    if !keys.is_empty() {
        key.push('?');
        key.push_str(&keys.join("&"));
    }
    key
}

/// True when the path's extension says the target is not a page.
pub fn is_skipped_extension(url: &Url) -> bool {
    let last = url.path().rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext)) => SKIP_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)),
        None => false,
    }
}

fn selectors() -> &'static (scraper::Selector, scraper::Selector) {
    static SEL: OnceLock<(scraper::Selector, scraper::Selector)> = OnceLock::new();
    SEL.get_or_init(|| {
        (
            scraper::Selector::parse("a[href], area[href], frame[src], iframe[src]")
                .expect("static selector"),
            scraper::Selector::parse("base[href]").expect("static selector"),
        )
    })
}

/// The http(s) links of an HTML page, resolved against `<base href>` or the page URL,
/// fragments dropped, in document order, without repeats. Synchronous on purpose (see the
/// module note).
pub fn extract_links(html: &str, page_url: &Url) -> Vec<Url> {
    let doc = scraper::Html::parse_document(html);
    let (links, base_sel) = selectors();
    let base = doc
        .select(base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page_url.join(h.trim()).ok())
        .unwrap_or_else(|| page_url.clone());
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for el in doc.select(links) {
        let v = el.value();
        let Some(raw) = v.attr("href").or_else(|| v.attr("src")) else {
            continue;
        };
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let Ok(mut u) = base.join(raw) else { continue };
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        u.set_fragment(None);
        if seen.insert(u.to_string()) {
            out.push(u);
        }
    }
    out
}

/// What a visit needs around the fetcher.
struct Visit<'a> {
    fetcher: &'a Fetcher,
    warc: &'a mut WarcWriter,
    deadline: Instant,
    robots: HashMap<String, Arc<Robots>>,
    robots_facts: Vec<Value>,
    /// Hosts that needed the legacy client or failed certificate verification.
    tls: HashMap<String, (bool, bool)>,
    /// Pages refused for our rate at least once (the `rate_limited` fact).
    rate_limited: Vec<Value>,
    /// Redirects into another in-scope host that its robots.txt disallows.
    robots_redirects: Vec<Value>,
}

impl Visit<'_> {
    fn options(&self, url: &Url) -> FetchOptions {
        let (legacy, insecure) = self
            .tls
            .get(&host_key(url))
            .copied()
            .unwrap_or((false, false));
        FetchOptions {
            deadline: Some(self.deadline),
            max_body_bytes: None,
            insecure,
            legacy,
            hold_cross_host: false,
        }
    }

    /// Notes a rate-limit refusal (`rate_limited` fact), with the host's spacing after it.
    fn note_rate_limit(&mut self, url: &str, f: &Fetched) {
        let Some(rl) = &f.rate_limit else { return };
        let host = Url::parse(url).map(|u| host_key(&u)).unwrap_or_default();
        self.rate_limited.push(json!({
            "url": url,
            "status": rl.status,
            "retry_after_s": rl.retry_after_s,
            "refusals": rl.refusals,
            "waited_ms": rl.waited_ms,
            "refused": rl.refused,
            "host_spacing_ms": self.fetcher.gates().interval(&host).map(|d| d.as_millis() as u64),
            "evidence": f.page.warc_record,
        }));
    }

    fn remember_tls(&mut self, url: &str, f: &Fetched) {
        if let Ok(u) = Url::parse(&f.page.final_url).or_else(|_| Url::parse(url)) {
            let e = self.tls.entry(host_key(&u)).or_default();
            e.0 |= f.page.legacy_tls;
            e.1 |= f.cert_error.is_some();
        }
    }

    /// Archives every exchange; the page cites the last one (the final response, or the
    /// note on why there was none).
    fn archive(&mut self, f: &mut Fetched) -> io::Result<()> {
        let mut last = None;
        for ex in &f.exchanges {
            last = Some(self.warc.write_exchange(ex)?);
        }
        self.warc.flush()?;
        // Nothing new (a followed redirect that sent nothing more): keep citing the last hop.
        if let Some(ids) = last {
            f.page.warc_record = Some(ids.evidence().to_string());
        }
        Ok(())
    }

    /// The host's robots.txt, fetched (and archived) on first use.
    async fn robots_for(&mut self, url: &Url) -> io::Result<Arc<Robots>> {
        let key = host_key(url);
        if let Some(r) = self.robots.get(&key) {
            return Ok(r.clone());
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let mut opts = self.options(url);
        opts.max_body_bytes = Some(MAX_ROBOTS_BYTES);
        let mut f = self.fetcher.fetch(robots_url.as_str(), &opts).await;
        self.archive(&mut f)?;
        let agent = agent_token(&self.fetcher.config().user_agent);
        let robots = Robots::from_fetch(agent, f.page.state, f.page.status, &f.body);
        if let Some(d) = robots.delay {
            self.fetcher.gates().set_delay(&key, d);
        }
        self.robots_facts.push(json!({
            "url": robots_url.as_str(),
            "state": f.page.state,
            "status": f.page.status,
            "verdict": robots.verdict.as_str(),
            "crawl_delay_s": robots.delay.map(|d| d.as_secs_f64()),
            "sitemaps": robots.sitemaps.len(),
            "evidence": f.page.warc_record,
        }));
        let robots = Arc::new(robots);
        self.robots.insert(key, robots.clone());
        Ok(robots)
    }
}

/// Visits one site. Only an archive write failure is an error (no evidence, no findings);
/// every network failure becomes a page state.
pub async fn crawl_site(
    fetcher: &Fetcher,
    site: &Site,
    as_of: &str,
    cfg: &CrawlConfig,
    warc: &mut WarcWriter,
    cancel: &Cancel,
) -> io::Result<(SiteVisit, CrawlStats)> {
    let start = Instant::now();
    let mut stats = CrawlStats::default();
    let mut facts = Map::new();
    let mut visit = SiteVisit {
        code: site.code.clone(),
        home_url: site.url.clone(),
        as_of: as_of.to_string(),
        pages: Vec::new(),
        attempts: Vec::new(),
        facts: Map::new(),
    };
    let Ok(home_url) = Url::parse(site.url.trim()) else {
        facts.insert("error".into(), json!(format!("not a URL: {}", site.url)));
        visit.facts = facts;
        return Ok((visit, stats));
    };
    let mut v = Visit {
        fetcher,
        warc,
        deadline: start + cfg.site_budget,
        robots: HashMap::new(),
        robots_facts: Vec::new(),
        tls: HashMap::new(),
        rate_limited: Vec::new(),
        robots_redirects: Vec::new(),
    };

    // robots.txt first, then the home page (always fetched: it is the availability probe).
    let home = tokio::select! {
        biased;
        _ = cancel.cancelled() => None,
        r = async {
            v.robots_for(&home_url).await?;
            let opts = v.options(&home_url);
            io::Result::Ok(fetcher.fetch(home_url.as_str(), &opts).await)
        } => Some(r?),
    };
    let Some(mut home) = home else {
        stats.interrupted = true;
        facts.insert("interrupted".into(), json!(true));
        facts.insert("robots".into(), Value::Array(v.robots_facts));
        visit.facts = facts;
        return Ok((visit, stats));
    };
    v.archive(&mut home)?;
    v.remember_tls(home_url.as_str(), &home);
    v.note_rate_limit(home_url.as_str(), &home);
    visit
        .attempts
        .push((home.page.fetched_at.clone(), home.page.state));
    home_facts(&mut facts, &home);

    // Phase timings of the home page, on a request of their own (only when the server
    // answered at all: a probe of a dead host would only time the failure again). The
    // probe's bytes are not archived: it yields timings, not evidence about the content.
    // Nor when the site asked us to slow down.
    if fetcher.config().timing_probe
        && home.page.status.is_some()
        && home.rate_limit.is_none()
        && !cancel.is_cancelled()
    {
        let probe = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            t = fetcher.probe_timings(&home.page.final_url, v.deadline) => t,
        };
        if let Some(t) = probe {
            facts.insert(checks::facts::HOME_TIMINGS_MS.into(), json!(t));
        }
    }

    let mut frontier = Frontier::new(&home_url, cfg);
    let home_final = Url::parse(&home.page.final_url).ok();
    if let Some(fin) = &home_final {
        frontier.seen.insert(normalise(fin));
        if let Some(s) = Scope::of(fin) {
            if !frontier.scopes.contains(&s) {
                frontier.scopes.push(s);
            }
        }
    }

    // The https check wants to know whether http:// is sent on to https://.
    if cfg.http_probe && home_url.scheme() == "https" && !cancel.is_cancelled() {
        let mut http = home_url.clone();
        if http.set_scheme("http").is_ok() && http.set_port(None).is_ok() {
            let opts = v.options(&http);
            let mut f = fetcher.fetch(http.as_str(), &opts).await;
            v.archive(&mut f)?;
            if f.sent {
                let to_https = f.page.redirects.iter().any(|r| {
                    Url::parse(r)
                        .is_ok_and(|u| u.scheme() == "https" && u.host() == home_url.host())
                });
                facts.insert(
                    checks::facts::HTTP_REDIRECTS_TO_HTTPS.into(),
                    json!(to_https),
                );
                facts.insert(
                    "http_probe".into(),
                    json!({"url": http.as_str(), "state": f.page.state, "status": f.page.status,
                           "final_url": f.page.final_url, "evidence": f.page.warc_record}),
                );
            }
        }
    }

    let home_ok = home.page.state == FetchState::Ok && home.is_html;
    if home_ok && fetcher.config().ipv6_probe && !cancel.is_cancelled() {
        ipv6_facts(fetcher, &mut v, &mut facts, &home.page).await?;
    }
    if home_ok && cfg.max_depth > 0 {
        let base = home_final.clone().unwrap_or_else(|| home_url.clone());
        let links = extract_links(&home.page.text, &base);
        if cfg.search_probe {
            if let Some(p) = checks::search_probe(&home.page) {
                if let Ok(u) = Url::parse(&p.url) {
                    if frontier.in_scope(&u) && frontier.seen.insert(normalise(&u)) {
                        frontier.queue.push_back(Item {
                            url: u,
                            depth: 1,
                            chain: 0,
                        });
                        facts.insert("search_probe".into(), json!(p.url));
                    }
                }
            }
        }
        frontier.add(links, 1, &base, 0, &mut stats);
    }
    let mut home_page = home.page;
    home_page.depth = 0;
    visit.pages.push(home_page);

    // Breadth-first over the frontier, a few fetches in flight (the host gates space them).
    let parallel = fetcher.config().per_host_inflight.max(1);
    let mut inflight: JoinSet<(Item, Fetched)> = JoinSet::new();
    let mut scheduled = 1usize;
    loop {
        if cancel.is_cancelled() {
            stats.interrupted = true;
            break;
        }
        if Instant::now() >= v.deadline {
            stats.budget_exhausted = true;
            break;
        }
        while inflight.len() < parallel && scheduled < cfg.max_pages {
            let Some(item) = frontier.queue.pop_front() else {
                break;
            };
            let robots = v.robots_for(&item.url).await?;
            if !robots.allowed(item.url.as_str()) {
                stats.skipped_robots += 1;
                continue;
            }
            let f = fetcher.clone();
            let mut opts = v.options(&item.url);
            opts.hold_cross_host = true;
            inflight.spawn(async move {
                let r = f.fetch(item.url.as_str(), &opts).await;
                (item, r)
            });
            scheduled += 1;
        }
        if inflight.is_empty() {
            break;
        }
        let done = tokio::select! {
            biased;
            _ = cancel.cancelled() => { stats.interrupted = true; break; }
            d = inflight.join_next() => d,
        };
        let Some(Ok((item, mut f))) = done else {
            continue;
        };
        let (url, depth) = (&item.url, item.depth);
        if !f.sent {
            continue;
        }
        v.archive(&mut f)?;
        if let Some(next) = f.held_redirect.clone() {
            // A redirect into another host: an in-scope host's robots.txt is read (once per
            // host) and obeyed before the target is fetched, as for a link to it.
            f.exchanges.clear(); // archived above; `follow` adds the next hops
            let target = Url::parse(&next).ok();
            if let Some(t) = target.as_ref().filter(|t| frontier.in_scope(t)) {
                let robots = v.robots_for(t).await?;
                if !robots.allowed(t.as_str()) {
                    stats.skipped_robots += 1;
                    v.robots_redirects.push(json!({
                        "url": url.as_str(),
                        "target": next,
                        "evidence": f.page.warc_record,
                    }));
                    continue;
                }
            }
            let fe = fetcher.clone();
            let mut opts = target
                .as_ref()
                .map_or_else(|| v.options(url), |t| v.options(t));
            opts.hold_cross_host = true;
            inflight.spawn(async move {
                let r = fe.follow(f, &opts).await;
                (item, r)
            });
            continue;
        }
        v.note_rate_limit(url.as_str(), &f);
        if f.cut_by_deadline {
            // Our budget ran out mid-fetch: archived, but no verdict on the page.
            stats.budget_exhausted = true;
            continue;
        }
        v.remember_tls(url.as_str(), &f);
        let is_html = f.is_html;
        let mut page = f.page;
        page.depth = depth;
        if page.state == FetchState::Ok && is_html && depth < cfg.max_depth {
            if let Ok(fin) = Url::parse(&page.final_url) {
                // A redirect into another site: not ours to crawl.
                let fresh = fin.as_str() == url.as_str() || frontier.seen.insert(normalise(&fin));
                if frontier.in_scope(&fin) && fresh {
                    let links = extract_links(&page.text, &fin);
                    frontier.add(links, depth + 1, url, item.chain, &mut stats);
                }
            }
        }
        visit.pages.push(page);
    }
    inflight.abort_all();
    if !frontier.queue.is_empty() && scheduled >= cfg.max_pages {
        facts.insert("frontier_left".into(), json!(frontier.queue.len()));
    }
    stats.pages = visit.pages.len();
    facts.insert("robots".into(), Value::Array(v.robots_facts));
    if !v.rate_limited.is_empty() {
        facts.insert("rate_limited".into(), Value::Array(v.rate_limited));
    }
    if !v.robots_redirects.is_empty() {
        facts.insert(
            "robots_disallowed_redirects".into(),
            Value::Array(v.robots_redirects),
        );
    }
    facts.insert(
        "crawl".into(),
        json!({
            "pages": stats.pages,
            "skipped_robots": stats.skipped_robots,
            "skipped_pattern": stats.skipped_pattern,
            "skipped_non_html": stats.skipped_non_html,
            "budget_exhausted": stats.budget_exhausted,
            "interrupted": stats.interrupted,
            "elapsed_ms": start.elapsed().as_millis() as u64,
        }),
    );
    if stats.interrupted {
        facts.insert("interrupted".into(), json!(true));
    }
    visit.facts = facts;
    Ok((visit, stats))
}

/// What belongs to a site: its registrable domain; for a host without one (an IP address,
/// localhost) also the directory of the home URL, since sites sharing an address are told
/// apart by path (`http://127.0.0.1:8080/site/a/` vs `/site/b/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    key: String,
    prefix: Option<String>,
}

impl Scope {
    pub fn of(home: &Url) -> Option<Scope> {
        let key = scope_key(home)?;
        let domain = matches!(home.host(), Some(url::Host::Domain(d)) if d.contains('.'));
        let path = home.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let prefix = (!domain && dir.len() > 1).then(|| dir.to_string());
        Some(Scope { key, prefix })
    }

    pub fn contains(&self, u: &Url) -> bool {
        scope_key(u).is_some_and(|k| k == self.key)
            && self
                .prefix
                .as_deref()
                .is_none_or(|p| u.path().starts_with(p))
    }
}

/// A URL waiting to be fetched.
#[derive(Debug, Clone)]
struct Item {
    url: Url,
    depth: u32,
    /// How many ancestors in a row share this URL's pattern.
    chain: u32,
}

/// The crawl's to-do list with its guards: scope, dedup, per-pattern caps.
struct Frontier {
    scopes: Vec<Scope>,
    seen: HashSet<String>,
    patterns: HashMap<String, usize>,
    queue: VecDeque<Item>,
    max_per_pattern: usize,
    max_chain: u32,
}

impl Frontier {
    fn new(home: &Url, cfg: &CrawlConfig) -> Self {
        Frontier {
            scopes: Scope::of(home).into_iter().collect(),
            seen: HashSet::from([normalise(home)]),
            patterns: HashMap::new(),
            queue: VecDeque::new(),
            max_per_pattern: cfg.max_per_pattern,
            max_chain: MAX_PATTERN_CHAIN,
        }
    }

    fn in_scope(&self, u: &Url) -> bool {
        self.scopes.iter().any(|s| s.contains(u))
    }

    /// Queues the new in-scope page links found on `parent` (whose chain is `parent_chain`).
    fn add(
        &mut self,
        links: Vec<Url>,
        depth: u32,
        parent: &Url,
        parent_chain: u32,
        stats: &mut CrawlStats,
    ) {
        let parent_pattern = pattern_key(parent);
        for u in links {
            if !self.in_scope(&u) || !self.seen.insert(normalise(&u)) {
                continue;
            }
            if is_skipped_extension(&u) {
                stats.skipped_non_html += 1;
                continue;
            }
            let pattern = pattern_key(&u);
            let chain = if pattern == parent_pattern {
                parent_chain + 1
            } else {
                0
            };
            let n = self.patterns.entry(pattern).or_default();
            if *n >= self.max_per_pattern || chain > self.max_chain {
                stats.skipped_pattern += 1;
                continue;
            }
            *n += 1;
            self.queue.push_back(Item {
                url: u,
                depth,
                chain,
            });
        }
    }
}

/// The `ipv6` facts: the AAAA addresses of the home page's host and whether one of them
/// serves the same site. Nothing is set for an IP-address host or a failed lookup (the
/// check then says it could not tell).
async fn ipv6_facts(
    fetcher: &Fetcher,
    v: &mut Visit<'_>,
    facts: &mut Map<String, Value>,
    home: &Page,
) -> io::Result<()> {
    let Ok(url) = Url::parse(&home.final_url) else {
        return Ok(());
    };
    let (Some(url::Host::Domain(host)), Some(port)) = (url.host(), url.port_or_known_default())
    else {
        return Ok(());
    };
    let Some(addrs) = fetcher.ipv6_addresses(host, port).await else {
        facts.insert("ipv6_lookup".into(), json!("failed"));
        return Ok(());
    };
    let listed: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    facts.insert(checks::facts::IPV6_ADDRESSES.into(), json!(listed));
    if addrs.is_empty() {
        facts.insert(checks::facts::IPV6_SAME_SITE.into(), json!(false));
        return Ok(());
    }
    if let Some(mut probe) = fetcher.probe_ipv6(home, &addrs, v.deadline).await {
        v.archive(&mut probe.fetched)?;
        if probe.fetched.sent {
            facts.insert(checks::facts::IPV6_SAME_SITE.into(), json!(probe.same_site));
            facts.insert(
                "ipv6_probe".into(),
                json!({"state": probe.fetched.page.state, "status": probe.fetched.page.status,
                       "evidence": probe.fetched.page.warc_record}),
            );
        }
    }
    Ok(())
}

/// Facts about the home fetch that the checks read (`checks::facts`).
fn home_facts(facts: &mut Map<String, Value>, home: &Fetched) {
    let p: &Page = &home.page;
    if p.final_url.starts_with("https://") && p.status.is_some() {
        facts.insert(
            checks::facts::TLS_CERT_VALID.into(),
            json!(home.cert_error.is_none()),
        );
    }
    if let Some(t) = &home.cert_not_after {
        facts.insert(checks::facts::TLS_CERT_NOT_AFTER.into(), json!(t));
    }
    if let Some(e) = &home.cert_error {
        facts.insert("tls_cert_error".into(), json!(e));
    }
    if p.final_url.starts_with("https://") && p.status.is_some() {
        facts.insert(checks::facts::TLS_LEGACY_ONLY.into(), json!(p.legacy_tls));
    }
    if let Some(e) = &home.error {
        facts.insert("home_error".into(), json!(e));
    }
    if let Some(m) = home.waf_marker {
        facts.insert("waf_marker".into(), json!(m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn scope_is_the_registrable_domain() {
        assert_eq!(
            scope_key(&u("https://www.beijing.gov.cn/x")).as_deref(),
            Some("beijing.gov.cn")
        );
        assert_eq!(
            scope_key(&u("http://zwfw.beijing.gov.cn/")).as_deref(),
            Some("beijing.gov.cn")
        );
        assert_ne!(
            scope_key(&u("http://www.tj.gov.cn/")),
            scope_key(&u("http://www.beijing.gov.cn/"))
        );
        // Loopback fixture sites differ by port.
        assert_eq!(
            scope_key(&u("http://127.0.0.1:8080/a")).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_ne!(
            scope_key(&u("http://127.0.0.1:8080/")),
            scope_key(&u("http://127.0.0.1:8081/"))
        );
        assert_eq!(
            scope_key(&u("http://localhost:9/")).as_deref(),
            Some("localhost:9")
        );
    }

    #[test]
    fn sites_sharing_an_address_are_told_apart_by_path() {
        let a = Scope::of(&u("http://127.0.0.1:9/site/a/")).unwrap();
        assert!(a.contains(&u("http://127.0.0.1:9/site/a/zwgk/1.html")));
        assert!(!a.contains(&u("http://127.0.0.1:9/site/b/")));
        assert!(!a.contains(&u("http://127.0.0.1:10/site/a/")));
        let root = Scope::of(&u("http://127.0.0.1:9/index.html")).unwrap();
        assert!(root.contains(&u("http://127.0.0.1:9/anything")));
        // A domain's scope is the registrable domain, whatever the home path.
        let d = Scope::of(&u("http://www.gansu.gov.cn/gsszf/index.shtml")).unwrap();
        assert!(d.contains(&u("http://zwfw.gansu.gov.cn/art/1.html")));
    }

    #[test]
    fn normalise_and_patterns() {
        assert_eq!(
            normalise(&u("http://a.gov.cn/p?b=2&a=1#top")),
            "http://a.gov.cn/p?a=1&b=2"
        );
        assert_eq!(
            normalise(&u("http://A.gov.cn:80/x/../p")),
            "http://a.gov.cn/p"
        );
        assert_eq!(
            pattern_key(&u("http://a.gov.cn/cal/2024/05/?day=3&view=m")),
            "a.gov.cn/cal/0/0/?day&view"
        );
        assert_eq!(
            pattern_key(&u("http://a.gov.cn/cal/1999/1/?view=y&day=30")),
            pattern_key(&u("http://a.gov.cn/cal/2024/05/?day=3&view=m"))
        );
        assert!(is_skipped_extension(&u("http://a.gov.cn/f/guide.PDF")));
        assert!(!is_skipped_extension(&u(
            "http://a.gov.cn/art/2024/1/1/art_1.html"
        )));
        assert!(!is_skipped_extension(&u("http://a.gov.cn/col/")));
    }

    #[test]
    fn links_resolve_against_base_and_skip_non_http() {
        let html = r##"<html><head><base href="/sub/"></head><body>
            <a href="a.html#x">A</a><a href="a.html">A again</a>
            <a href="javascript:void(0)">js</a><a href="mailto:x@y">m</a><a href="#top">top</a>
            <iframe src="http://other.gov.cn/f"></iframe><area href="../b.html"></body></html>"##;
        let links = extract_links(html, &u("http://s.gov.cn/index.html"));
        let got: Vec<String> = links.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            got,
            vec![
                "http://s.gov.cn/sub/a.html",
                "http://other.gov.cn/f",
                "http://s.gov.cn/b.html"
            ]
        );
    }

    #[test]
    fn calendar_guard_caps_a_pattern_and_a_chain() {
        let cfg = CrawlConfig {
            max_per_pattern: 3,
            ..CrawlConfig::default()
        };
        let home = u("http://s.gov.cn/");
        let mut fr = Frontier::new(&home, &cfg);
        let mut st = CrawlStats::default();
        let links: Vec<Url> = (0..10)
            .map(|m| u(&format!("http://s.gov.cn/cal?month={m}&year=2024")))
            .chain([
                u("http://s.gov.cn/about.html"),
                u("http://elsewhere.gov.cn/"),
            ])
            .collect();
        fr.add(links, 1, &home, 0, &mut st);
        assert_eq!(fr.queue.len(), 4); // three calendar URLs + about
        assert!(fr.queue.iter().all(|i| i.chain == 0));
        assert_eq!(st.skipped_pattern, 7);

        // Month after month: each page's "next" link has its parent's pattern.
        let mut fr = Frontier::new(&home, &CrawlConfig::default());
        assert_eq!(fr.max_chain, MAX_PATTERN_CHAIN);
        fr.max_chain = 2;
        let mut parent = (u("http://s.gov.cn/cal?month=0"), 0);
        let mut queued = 0;
        for m in 1..10 {
            let next = u(&format!("http://s.gov.cn/cal?month={m}"));
            fr.add(vec![next], m, &parent.0, parent.1, &mut st);
            let Some(item) = fr.queue.pop_front() else {
                break;
            };
            queued += 1;
            parent = (item.url, item.chain);
        }
        assert_eq!(queued, 2);
    }
}
