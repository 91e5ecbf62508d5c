//! Reachability checks: `availability`, `https`, `ipv6`.

use super::dates::Date;
use super::{facts, Analysis, CheckConfig};
use crate::model::{FetchState, Finding};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn state_name(s: FetchState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Share of successful attempts (0–1). Attempts are the scheduler's samples when there are
/// any, otherwise the crawl's home-page fetch counts as the one attempt (`details.basis`).
/// Bot-protection challenges and robots.txt refusals are not failures of the site: they are
/// counted apart and left out of the share; when nothing else remains the value is null.
pub fn availability(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "availability";
    let (states, basis): (Vec<FetchState>, &str) = if a.visit.attempts.is_empty() {
        match a.home_page() {
            Some(p) => (vec![p.state], "home_fetch"),
            None => return a.cannot(CHECK, "no attempt was sampled and no page was fetched"),
        }
    } else {
        (
            a.visit.attempts.iter().map(|(_, s)| *s).collect(),
            "sampled_attempts",
        )
    };
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let (mut ok, mut challenged, mut limited, mut refused) = (0usize, 0usize, 0usize, 0usize);
    for s in &states {
        match s {
            FetchState::Ok => ok += 1,
            FetchState::WafChallenge => challenged += 1,
            FetchState::RateLimited => limited += 1,
            FetchState::RobotsDisallowed => refused += 1,
            other => *failures.entry(state_name(*other)).or_default() += 1,
        }
    }
    let counted = states.len() - challenged - limited - refused;
    let mut details = json!({
        "basis": basis,
        "attempts": states.len(),
        "successes": ok,
        "challenged": challenged,
        "rate_limited": limited,
        "robots_disallowed": refused,
        "failures": failures,
        "timings_ms": a.visit.facts.get(facts::HOME_TIMINGS_MS).cloned().unwrap_or(Value::Null),
    });
    // Rate-limit refusals (429, or 503 with Retry-After, still refused after waiting) count
    // like challenges: the site is up but would not serve us now.
    let rate_limited = a
        .visit
        .facts
        .get("rate_limited")
        .and_then(Value::as_array)
        .is_some_and(|l| {
            l.iter().any(|r| {
                r["refused"] == json!(true) && r["url"].as_str() == Some(&a.visit.home_url)
            })
        });
    let value = if counted == 0 {
        details["reason"] = json!(if rate_limited {
            "the site refused us for our rate (rate limited; reported as such, not as down)"
        } else if challenged > 0 {
            "every attempt met a bot-protection challenge (reported as such, not as down)"
        } else {
            "robots.txt disallows the home page"
        });
        Value::Null
    } else {
        json!(ok as f64 / counted as f64)
    };
    a.finding(CHECK, a.home_url(), value, details, a.evidence(a.home))
}

fn fact_bool(m: &Map<String, Value>, key: &str) -> Option<bool> {
    m.get(key).and_then(Value::as_bool)
}

/// True when the home page is served over HTTPS with a valid certificate. A certificate the
/// fetcher had to accept without verification (`facts.tls_cert_valid = false`) or a failed
/// handshake makes it false; a home page that failed for other reasons makes it null.
pub fn https(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "https";
    let Some(home) = a.home_page() else {
        return a.cannot(CHECK, "no page was fetched");
    };
    let f = &a.visit.facts;
    let served_https = home.final_url.starts_with("https://");
    let (value, cert_valid) = match home.state {
        FetchState::Ok => {
            let valid = fact_bool(f, facts::TLS_CERT_VALID).unwrap_or(served_https);
            (
                json!(served_https && valid),
                if served_https { Some(valid) } else { None },
            )
        }
        FetchState::CertInvalid => (json!(false), Some(false)),
        FetchState::Tls => (json!(false), None),
        other => {
            return a.cannot(
                CHECK,
                &format!("the home page was not fetched ({})", state_name(other)),
            )
        }
    };
    let http_to_https = if home.url.starts_with("http://") && home.final_url.starts_with("https://")
    {
        Some(true)
    } else {
        fact_bool(f, facts::HTTP_REDIRECTS_TO_HTTPS)
    };
    let not_after = f.get(facts::TLS_CERT_NOT_AFTER).and_then(Value::as_str);
    let days_to_expiry = match (not_after.and_then(Date::parse_iso), a.as_of) {
        (Some(exp), Some(as_of)) => Some(as_of.days_until(exp)),
        _ => None,
    };
    let details = json!({
        "served_over_https": served_https,
        "cert_valid": cert_valid,
        "http_to_https_redirect": http_to_https,
        "hsts": served_https.then(|| home.header("strict-transport-security").is_some()),
        "hsts_header": home.header("strict-transport-security"),
        "cert_not_after": not_after,
        "days_to_expiry": days_to_expiry,
        "legacy_tls": home.legacy_tls || fact_bool(f, facts::TLS_LEGACY_ONLY) == Some(true),
    });
    a.finding(CHECK, a.home_url(), value, details, a.evidence(a.home))
}

/// True when an AAAA address answers with the same site, as established by the fetcher
/// (`facts.ipv6_same_site`); null when it was not tested.
pub fn ipv6(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "ipv6";
    let f = &a.visit.facts;
    match fact_bool(f, facts::IPV6_SAME_SITE) {
        Some(same) => a.finding(
            CHECK,
            a.home_url(),
            json!(same),
            json!({ "addresses": f.get(facts::IPV6_ADDRESSES).cloned().unwrap_or(json!([])) }),
            a.evidence(a.home),
        ),
        None => a.cannot(
            CHECK,
            "IPv6 was not tested for this site (no AAAA probe result)",
        ),
    }
}
