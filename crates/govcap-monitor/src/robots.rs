//! robots.txt rules for the monitor's user agent (RFC 9309, parsed by `texting_robots`).
//!
//! The policy when robots.txt cannot be read follows RFC 9309 §2.3.1: a 4xx means "no
//! rules" (crawl allowed); a 5xx or a network failure means "assume complete disallow". The
//! home page is still fetched once per visit (it is the availability probe, what a person
//! opening the portal would do); everything beyond it obeys these rules.

use std::time::Duration;

use texting_robots::Robot;

use crate::model::FetchState;

/// RFC 9309 asks parsers to read at least 500 KiB; the texting_robots README advises capping
/// input there too.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// Why the rules are what they are (stored in the visit's facts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotsVerdict {
    /// robots.txt was read and parsed.
    Parsed,
    /// 4xx (or an unparsable file): no rules apply.
    AllowAll,
    /// 5xx or the fetch failed: everything but the home page is off limits.
    DisallowAll,
}

impl RobotsVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RobotsVerdict::Parsed => "parsed",
            RobotsVerdict::AllowAll => "allow_all",
            RobotsVerdict::DisallowAll => "disallow_all",
        }
    }
}

/// The rules that apply to this crawler on one host.
#[derive(Debug)]
pub struct Robots {
    robot: Option<Robot>,
    pub verdict: RobotsVerdict,
    /// `Crawl-delay`, when given and sane.
    pub delay: Option<Duration>,
    pub sitemaps: Vec<String>,
}

/// The product token robots.txt groups are matched against: `govcap-monitor/0.1 (+x)` →
/// `govcap-monitor`.
pub fn agent_token(user_agent: &str) -> &str {
    let end = user_agent
        .find(|c: char| c == '/' || c.is_whitespace())
        .unwrap_or(user_agent.len());
    &user_agent[..end]
}

impl Robots {
    /// Rules that allow everything (no robots.txt, or not applicable).
    pub fn allow_all() -> Self {
        Robots {
            robot: None,
            verdict: RobotsVerdict::AllowAll,
            delay: None,
            sitemaps: Vec::new(),
        }
    }

    /// Rules from a robots.txt fetch outcome: its state, status and (decoded) body.
    pub fn from_fetch(agent: &str, state: FetchState, status: Option<u16>, body: &[u8]) -> Self {
        let disallow = Robots {
            robot: None,
            verdict: RobotsVerdict::DisallowAll,
            delay: None,
            sitemaps: Vec::new(),
        };
        match (state, status) {
            // A body cut at the cap is still parsed: RFC 9309 says to use what was read.
            (FetchState::Ok | FetchState::TooLarge | FetchState::Empty, Some(200..=299)) => {
                Self::parse(agent, body)
            }
            (_, Some(400..=499)) => Self::allow_all(),
            _ => disallow,
        }
    }

    /// Parses robots.txt text (at most [`MAX_ROBOTS_BYTES`] are read).
    pub fn parse(agent: &str, body: &[u8]) -> Self {
        let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
        match Robot::new(agent, body) {
            Ok(robot) => {
                let delay = robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d.min(3600.0)));
                let sitemaps = robot.sitemaps.clone();
                Robots {
                    robot: Some(robot),
                    verdict: RobotsVerdict::Parsed,
                    delay,
                    sitemaps,
                }
            }
            Err(_) => Self::allow_all(),
        }
    }

    /// Whether `url` (absolute, or a path) may be fetched.
    pub fn allowed(&self, url: &str) -> bool {
        match (&self.robot, self.verdict) {
            (_, RobotsVerdict::DisallowAll) => false,
            (Some(r), _) => r.allowed(url),
            (None, _) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXT: &[u8] = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n\n\
        User-agent: govcap-monitor\nDisallow: /search\nAllow: /search/help\nCrawl-delay: 0.5\n\
        Sitemap: http://example.gov.cn/sitemap.xml\n";

    #[test]
    fn own_group_wins_over_star() {
        let r = Robots::parse("govcap-monitor", TXT);
        assert!(!r.allowed("http://example.gov.cn/search?q=1"));
        assert!(r.allowed("http://example.gov.cn/search/help"));
        // The `*` group does not apply to us once we have our own group.
        assert!(r.allowed("http://example.gov.cn/private/x.html"));
        assert_eq!(r.delay, Some(Duration::from_millis(500)));
        assert_eq!(
            r.sitemaps,
            vec!["http://example.gov.cn/sitemap.xml".to_string()]
        );
        let other = Robots::parse("otherbot", TXT);
        assert!(!other.allowed("/private/x.html"));
        assert_eq!(other.delay, Some(Duration::from_secs(2)));
    }

    #[test]
    fn agent_token_is_the_product_name() {
        assert_eq!(
            agent_token("govcap-monitor/0.1.0 (+mailto:a@b)"),
            "govcap-monitor"
        );
        assert_eq!(agent_token("plain"), "plain");
    }

    #[test]
    fn unreachable_robots_follow_rfc9309() {
        let a = "govcap-monitor";
        let missing = Robots::from_fetch(a, FetchState::Http4xx, Some(404), b"");
        assert_eq!(missing.verdict, RobotsVerdict::AllowAll);
        assert!(missing.allowed("/anything"));
        let down = Robots::from_fetch(a, FetchState::Http5xx, Some(503), b"");
        assert_eq!(down.verdict, RobotsVerdict::DisallowAll);
        assert!(!down.allowed("/anything"));
        let timeout = Robots::from_fetch(a, FetchState::Timeout, None, b"");
        assert!(!timeout.allowed("/"));
    }
}
