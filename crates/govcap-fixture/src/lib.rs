//! Simulated government portals on loopback, for testing and benchmarking govcap's monitor.
//!
//! [`spawn`] serves `sites` portals (plus, optionally, the hostile ones) on 127.0.0.1 — and,
//! when asked, spread over more loopback addresses (127.0.0.2, …) so per-host politeness
//! treats them as separate hosts, and on [::1]. Site `i` lives under a path prefix:
//! `http://127.0.0.1:PORT/site/<code>/`. Pages are written the way Chinese government CMSs
//! write them (navigation columns, dated lists, 领导信箱 boards, 办事指南 pages, footers with
//! ICP / 公安备案 / 网站标识码, GBK pages without a charset header), each site's features drawn
//! from a seed, and [`Fixture::truth`] gives the value every check should find.
//!
//! The hostile sites (`hx-slow`, `hx-drip`, `hx-loop`, `hx-waf`, `hx-bomb`, `hx-huge`,
//! `hx-calendar`) misbehave on their home page: held-back headers, a body dripped past any
//! deadline, a redirect loop, a WAF 412 challenge, a gzip bomb, a streamed huge page, an
//! endless calendar.
//!
//! The robustness sites ([`robust`]: `rx-ratelimit`, `rx-xhost`) test manners: 429s with
//! `Retry-After` before normal pages, and a redirect into another host whose robots.txt
//! disallows the target.
//!
//! Everything but the socket layer is synchronous and pure ([`Portals`]), so tests can also
//! render pages without a network ([`Portals::offline_crawl`]).

pub mod bomb;
pub mod date;
pub mod render;
pub mod robust;
pub mod scripted;
pub mod server;
pub mod spec;
pub mod truth;

pub use render::{Body, Portals, Rendered, Reply};
pub use spec::{Hostile, SiteSpec};
pub use truth::{Crawled, SiteTruth};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct FixtureConfig {
    /// Normal portals.
    pub sites: usize,
    pub seed: u64,
    /// The date item ages are counted back from (what `--as-of` should be), `YYYY-MM-DD`.
    pub as_of: String,
    /// Add the seven hostile sites after the normal ones.
    pub hostile: bool,
    /// Add the two sites that need a browser (`sx-spa`, `sx-waf`; see [`scripted`]) last.
    pub scripted: bool,
    /// Add the two robustness sites (`rx-ratelimit`, `rx-xhost`; see [`robust`]) after the
    /// hostile ones.
    pub robustness: bool,
    /// Loopback addresses to spread the sites over (site `i` on address `i % hosts`).
    pub hosts: usize,
    /// Port to bind (0: any free port; each address binds its own when 0).
    pub port: u16,
    /// Also serve every site on [::1].
    pub ipv6: bool,
    /// Codes of the normal sites (default `fx001`, `fx002`, …); letters, digits, `-`, `_`.
    pub codes: Option<Vec<String>>,
    /// How long the slow and dripping sites take (past the crawler's deadline).
    pub slow_delay: Duration,
    /// Inflated size of the gzip bomb.
    pub bomb_bytes: u64,
    /// Size of the huge page.
    pub huge_bytes: u64,
}

impl Default for FixtureConfig {
    fn default() -> Self {
        FixtureConfig {
            sites: 12,
            seed: 1,
            as_of: "2026-11-27".into(),
            hostile: false,
            scripted: false,
            robustness: false,
            hosts: 1,
            port: 0,
            ipv6: false,
            codes: None,
            slow_delay: Duration::from_secs(20),
            bomb_bytes: 1 << 30,
            huge_bytes: 1 << 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("as_of {0:?} is not a YYYY-MM-DD date")]
    BadDate(String),
    #[error("site code {0:?} must be letters, digits, '-' or '_'")]
    BadCode(String),
    #[error("{0} site codes given for {1} sites")]
    CodeCount(usize, usize),
    #[error("hosts must be between 1 and 1000, not {0}")]
    BadHosts(usize),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Portals {
    /// The portals of a configuration (pure: no sockets).
    pub fn from_config(cfg: &FixtureConfig) -> Result<Portals, FixtureError> {
        let as_of = date::Date::parse(&cfg.as_of)
            .ok_or_else(|| FixtureError::BadDate(cfg.as_of.clone()))?;
        let codes: Vec<String> = match &cfg.codes {
            Some(c) if c.len() != cfg.sites => {
                return Err(FixtureError::CodeCount(c.len(), cfg.sites))
            }
            Some(c) => c.clone(),
            None => (1..=cfg.sites).map(|i| format!("fx{i:03}")).collect(),
        };
        for c in &codes {
            if c.is_empty()
                || !c
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                return Err(FixtureError::BadCode(c.clone()));
            }
        }
        let mut sites: Vec<SiteSpec> = codes
            .into_iter()
            .enumerate()
            .map(|(i, code)| spec::normal_site(cfg.seed, i, code))
            .collect();
        if cfg.hostile {
            let n = sites.len();
            for (j, h) in Hostile::ALL.iter().enumerate() {
                sites.push(spec::hostile_site(cfg.seed, n + j, *h));
            }
        }
        if cfg.robustness {
            let n = sites.len();
            for (j, r) in robust::Robust::ALL.iter().enumerate() {
                sites.push(robust::robust_site(cfg.seed, n + j, *r));
            }
        }
        if cfg.scripted {
            let n = sites.len();
            for (j, k) in scripted::Scripted::ALL.iter().enumerate() {
                sites.push(scripted::scripted_site(cfg.seed, n + j, *k));
            }
        }
        Ok(Portals::new(
            as_of,
            sites,
            cfg.slow_delay,
            cfg.bomb_bytes,
            cfg.huge_bytes,
        ))
    }

    /// The pages a complete crawl of site `code` fetches, rendered without a network, home
    /// first (breadth-first; robots.txt obeyed). `None` for an unknown or hostile site.
    pub fn offline_crawl(&self, code: &str) -> Option<Vec<(Crawled, Rendered)>> {
        let s = self.site(code)?;
        if s.hostile.is_some() || s.scripted.is_some() {
            return None;
        }
        let b = render::base(code);
        Some(
            truth::walk(self, s)
                .into_iter()
                .filter_map(|c| {
                    let r = self.render(s, &c.path[b.len()..], "")?;
                    Some((c, r))
                })
                .collect(),
        )
    }
}

/// A running fixture; dropping it stops the server.
pub struct Fixture {
    shared: Arc<server::Shared>,
    v4: Vec<SocketAddr>,
    v6: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The loopback address of host slot `k` (127.0.0.1, 127.0.0.2, …).
fn host_ip(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, (k / 250) as u8, (k % 250 + 1) as u8)
}

/// Starts the fixture; panics with the reason when it cannot (use [`try_spawn`] to handle it).
pub async fn spawn(cfg: FixtureConfig) -> Fixture {
    match try_spawn(cfg).await {
        Ok(f) => f,
        Err(e) => panic!("govcap-fixture: {e}"),
    }
}

/// Starts the fixture on loopback only.
pub async fn try_spawn(cfg: FixtureConfig) -> Result<Fixture, FixtureError> {
    if !(1..=1000).contains(&cfg.hosts) {
        return Err(FixtureError::BadHosts(cfg.hosts));
    }
    let portals = Arc::new(Portals::from_config(&cfg)?);
    let shared = Arc::new(server::Shared {
        portals,
        bomb: OnceLock::new(),
        requests: AtomicU64::new(0),
        robust: robust::State::default(),
    });
    let (stop, rx) = watch::channel(false);
    let mut addrs: Vec<SocketAddr> = (0..cfg.hosts)
        .map(|k| SocketAddr::new(IpAddr::V4(host_ip(k)), cfg.port))
        .collect();
    let v6_want = cfg
        .ipv6
        .then(|| SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), cfg.port));
    addrs.extend(v6_want);
    let mut tasks = Vec::new();
    let mut bound = Vec::new();
    for addr in addrs {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| FixtureError::Bind { addr, source })?;
        let local = l
            .local_addr()
            .map_err(|source| FixtureError::Bind { addr, source })?;
        bound.push(local);
        tasks.push(tokio::spawn(server::serve(l, shared.clone(), rx.clone())));
    }
    let v6 = cfg.ipv6.then(|| bound.pop()).flatten();
    Ok(Fixture {
        shared,
        v4: bound,
        v6,
        stop,
        tasks,
    })
}

impl Fixture {
    /// The first (127.0.0.1) address.
    pub fn addr(&self) -> SocketAddr {
        self.v4[0]
    }

    /// Every IPv4 loopback address served.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.v4
    }

    /// The [::1] address, when served.
    pub fn v6_addr(&self) -> Option<SocketAddr> {
        self.v6
    }

    pub fn portals(&self) -> &Portals {
        &self.shared.portals
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The portal URL of site `i` (`http://127.0.0.k:PORT/site/<code>/`).
    pub fn portal_url(&self, i: usize) -> String {
        let s = &self.portals().sites[i];
        let a = self.v4[i % self.v4.len()];
        format!("http://{a}{}", render::base(&s.code))
    }

    /// `(code, portal URL)` of every site, normal ones first.
    pub fn sites(&self) -> Vec<(String, String)> {
        (0..self.portals().sites.len())
            .map(|i| (self.portals().sites[i].code.clone(), self.portal_url(i)))
            .collect()
    }

    /// What every check should find on every site.
    pub fn truth(&self) -> Vec<SiteTruth> {
        let p = self.portals();
        (0..p.sites.len())
            .map(|i| truth::site_truth(p, &p.sites[i], self.portal_url(i)))
            .collect()
    }

    /// A site list for `govcap monitor run --sites`: `code,portal_url`.
    pub fn sites_csv(&self) -> String {
        let mut out = String::from("code,portal_url\n");
        for (c, u) in self.sites() {
            out.push_str(&format!("{c},{u}\n"));
        }
        out
    }

    pub fn write_sites_csv(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.sites_csv())
    }

    /// Stops accepting and closes open connections.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}
