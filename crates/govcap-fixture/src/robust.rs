//! Two portals that test the monitor's manners rather than its checks
//! ([`crate::FixtureConfig::robustness`]):
//!
//! - `rx-ratelimit` answers each client's first [`RATE_LIMIT_FIRST`] requests for its pages
//!   with `429 Too Many Requests` and `Retry-After: 1`, then serves a normal portal. A crawler
//!   that waits as asked gets the whole site; one that does not, gets 429s.
//! - `rx-xhost`, reached by name as `www.rx-xhost.gov.cn` (see [`home_host`]), links a page
//!   (`jump.html`) that redirects to the same portal on `zwfw.rx-xhost.gov.cn` (same
//!   registrable domain, so in scope), whose robots.txt — unlike www's — disallows the
//!   target. A crawler that reads the target host's robots.txt fetches `jump.html` but never
//!   the target. Both names must be pinned to the fixture's address (e.g. the monitor's
//!   `FetchConfig::resolve`); the server tells them apart by the `Host` header.
//!
//! Otherwise both are normal portals, drawn like the others; their truth is a normal site's
//! ([`crate::truth`] leaves `jump.html` out of the crawl, as robots.txt keeps it out).

use crate::render::{base, Body, Portals, Reply};
use crate::spec::{normal_site, SiteSpec};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Requests per client answered with 429 before `rx-ratelimit` serves pages.
pub const RATE_LIMIT_FIRST: u32 = 2;

/// The robustness portals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Robust {
    RateLimited,
    CrossHostRedirect,
}

impl Robust {
    pub const ALL: [Robust; 2] = [Robust::RateLimited, Robust::CrossHostRedirect];

    pub fn code(self) -> &'static str {
        match self {
            Robust::RateLimited => "rx-ratelimit",
            Robust::CrossHostRedirect => "rx-xhost",
        }
    }

    /// The robustness portal a site is, by its code.
    pub fn of(s: &SiteSpec) -> Option<Robust> {
        Robust::ALL.into_iter().find(|r| r.code() == s.code)
    }
}

/// The portal, drawn like a normal site with the robustness code.
pub fn robust_site(seed: u64, i: usize, r: Robust) -> SiteSpec {
    normal_site(seed, i, r.code().to_string())
}

/// The host name `rx-xhost` is reached by.
pub fn home_host() -> String {
    format!("www.{}.gov.cn", Robust::CrossHostRedirect.code())
}

/// The other host of the same registrable domain, whose robots.txt disallows the target.
pub fn other_host() -> String {
    format!("zwfw.{}.gov.cn", Robust::CrossHostRedirect.code())
}

/// The page linked from the home page that redirects to the other host (site-relative).
pub const JUMP: &str = "jump.html";
/// The redirect target on the other host (site-relative), disallowed by its robots.txt.
pub const TARGET: &str = "moved/";

/// The site path of the page a complete, robots-obeying crawl of `s` fetches only as a
/// redirect and then drops (the cross-host portal's `jump.html`); `None` for other sites.
pub fn robots_skipped(s: &SiteSpec) -> Option<String> {
    (Robust::of(s) == Some(Robust::CrossHostRedirect)).then(|| format!("{}{JUMP}", base(&s.code)))
}

/// Per-client request counts of the rate-limited portal.
#[derive(Debug, Default)]
pub struct State {
    seen: Mutex<HashMap<IpAddr, u32>>,
}

impl State {
    /// Counts a request from `client`; true while it is among its first few.
    fn refuse(&self, client: IpAddr) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let n = seen.entry(client).or_default();
        *n += 1;
        *n <= RATE_LIMIT_FIRST
    }
}

/// (name, port) of a `Host` header value, the name lower-cased.
fn split_host(host: &str) -> (String, Option<String>) {
    let h = host.trim().to_ascii_lowercase();
    let (name, port) = match h.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((ip, rest)) => (format!("[{ip}]"), rest.strip_prefix(':')),
        None => match h.split_once(':') {
            Some((n, p)) => (n.to_string(), Some(p)),
            None => (h.clone(), None),
        },
    };
    (name, port.filter(|p| !p.is_empty()).map(str::to_string))
}

/// The robustness portals' own answers; `None` leaves the request to the normal portals.
pub fn respond(
    portals: &Portals,
    state: &State,
    host: &str,
    client: IpAddr,
    path: &str,
) -> Option<Reply> {
    let (name, port) = split_host(host);
    let xhost = Robust::CrossHostRedirect.code();
    if path == "/robots.txt" && name == other_host() && portals.site(xhost).is_some() {
        let mut robots = portals.robots();
        robots.push_str(&format!("Disallow: {}{TARGET}\n", base(xhost)));
        return Some(text(
            200,
            "text/plain; charset=utf-8",
            robots.into_bytes(),
            vec![],
        ));
    }
    if path == format!("{}{JUMP}", base(xhost)) && portals.site(xhost).is_some() {
        let to = match port {
            Some(p) => format!("http://{}:{p}{}{TARGET}", other_host(), base(xhost)),
            None => format!("http://{}{}{TARGET}", other_host(), base(xhost)),
        };
        return Some(text(
            302,
            "text/html; charset=utf-8",
            b"<html><body>moved</body></html>".to_vec(),
            vec![("Location".into(), to)],
        ));
    }
    if path == format!("{}{TARGET}", base(xhost)) {
        // The target is a real page (the portal's home, moved), only off limits by robots.
        let r = portals.render(portals.site(xhost)?, "", "")?;
        return Some(text(r.status, &r.content_type, r.body, vec![]));
    }
    let rl = Robust::RateLimited.code();
    if path.starts_with(&base(rl)) && portals.site(rl).is_some() && state.refuse(client) {
        return Some(text(
            429,
            "text/html; charset=utf-8",
            "<html><head><title>429 Too Many Requests</title></head><body><h1>访问过于频繁，请稍后再试</h1></body></html>"
                .as_bytes()
                .to_vec(),
            vec![("Retry-After".into(), "1".into())],
        ));
    }
    None
}

fn text(status: u16, ct: &str, body: Vec<u8>, mut extra: Vec<(String, String)>) -> Reply {
    let mut headers = vec![("Content-Type".to_string(), ct.to_string())];
    headers.append(&mut extra);
    Reply {
        status,
        headers,
        body: Body::Bytes(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers() {
        let sp = |h: &str| split_host(h);
        assert_eq!(
            sp("WWW.rx-xhost.gov.cn:8080"),
            ("www.rx-xhost.gov.cn".to_string(), Some("8080".to_string()))
        );
        assert_eq!(
            sp("zwfw.rx-xhost.gov.cn"),
            ("zwfw.rx-xhost.gov.cn".to_string(), None)
        );
        assert_eq!(
            sp("[::1]:80"),
            ("[::1]".to_string(), Some("80".to_string()))
        );
        assert_eq!(sp("[::1]"), ("[::1]".to_string(), None));
    }

    #[test]
    fn the_first_requests_of_each_client_are_refused() {
        let s = State::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let first: Vec<bool> = (0..4).map(|_| s.refuse(a)).collect();
        assert_eq!(first, vec![true, true, false, false]);
        assert!(s.refuse(b));
    }
}
