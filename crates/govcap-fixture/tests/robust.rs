//! The robustness portals over real loopback sockets: the rate-limited portal's first
//! requests per client get 429 with `Retry-After: 1`; the cross-host portal redirects into a
//! host whose robots.txt (told apart by `Host`) disallows the target; and the truth of both.

use std::net::SocketAddr;

use govcap_fixture::robust::{self, Robust, RATE_LIMIT_FIRST};
use govcap_fixture::{spawn, FixtureConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// (status line, head, body) of one request with the given `Host`.
async fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

async fn fixture() -> govcap_fixture::Fixture {
    spawn(FixtureConfig {
        sites: 2,
        robustness: true,
        ..FixtureConfig::default()
    })
    .await
}

#[tokio::test]
async fn the_first_requests_get_429_then_pages() {
    let fx = fixture().await;
    let a = fx.addr();
    let home = format!("/site/{}/", Robust::RateLimited.code());
    for _ in 0..RATE_LIMIT_FIRST {
        let (st, head, _) = get(a, &a.to_string(), &home).await;
        assert_eq!(st, 429);
        assert!(head.contains("Retry-After: 1\r\n"), "{head}");
        assert!(head.starts_with("HTTP/1.1 429 Too Many Requests"), "{head}");
    }
    let (st, _, body) = get(a, &a.to_string(), &home).await;
    assert_eq!(st, 200);
    assert!(body.contains("</html>"), "a page, GBK or not");
    // robots.txt and the other sites are not rate-limited.
    assert_eq!(get(a, &a.to_string(), "/robots.txt").await.0, 200);
    assert_eq!(get(a, &a.to_string(), "/site/fx001/").await.0, 200);
}

#[tokio::test]
async fn the_cross_host_redirect_and_the_other_hosts_robots() {
    let fx = fixture().await;
    let a = fx.addr();
    let port = a.port();
    let code = Robust::CrossHostRedirect.code();
    let www = format!("{}:{port}", robust::home_host());
    let zwfw = format!("{}:{port}", robust::other_host());
    let (st, _, home) = get(a, &www, &format!("/site/{code}/")).await;
    assert_eq!(st, 200);
    assert!(home.contains(&format!("href=\"/site/{code}/{}\"", robust::JUMP)));
    let (st, head, _) = get(a, &www, &format!("/site/{code}/{}", robust::JUMP)).await;
    assert_eq!(st, 302);
    let target = format!("http://{zwfw}/site/{code}/{}", robust::TARGET);
    assert!(head.contains(&format!("Location: {target}\r\n")), "{head}");
    let rule = format!("Disallow: /site/{code}/{}", robust::TARGET);
    let (_, _, www_robots) = get(a, &www, "/robots.txt").await;
    let (_, _, zwfw_robots) = get(a, &zwfw, "/robots.txt").await;
    assert!(!www_robots.contains(&rule));
    assert!(zwfw_robots.contains(&rule), "{zwfw_robots}");
    assert!(zwfw_robots.starts_with(&www_robots));
    // The target exists: only robots.txt keeps a crawler out.
    assert_eq!(
        get(a, &zwfw, &format!("/site/{code}/{}", robust::TARGET))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn truth_leaves_the_disallowed_redirect_out_and_rate_limits_are_not_failures() {
    let fx = fixture().await;
    let truth = fx.truth();
    let x = truth
        .iter()
        .find(|t| t.code == Robust::CrossHostRedirect.code())
        .unwrap();
    let crawl = fx.portals().offline_crawl(&x.code).unwrap();
    assert_eq!(crawl.len(), x.pages);
    assert!(!crawl.iter().any(|(c, _)| c.path.ends_with(robust::JUMP)));
    // The home page does link it, and the links truth does not count it as checked.
    assert!(crawl[0].0.links.iter().any(|l| l.ends_with(robust::JUMP)));
    let checked = x.details["links"]["checked"].as_u64().unwrap();
    let all: std::collections::BTreeSet<&String> = crawl
        .iter()
        .filter(|(c, _)| c.status == 200 && !c.links.is_empty())
        .flat_map(|(c, _)| c.links.iter())
        .filter(|l| l.starts_with(&format!("/site/{}/", x.code)) && !l.contains("/admin/"))
        .collect();
    assert_eq!(checked as usize + 1, all.len());
    let r = truth
        .iter()
        .find(|t| t.code == Robust::RateLimited.code())
        .unwrap();
    assert_eq!(r.values["availability"], serde_json::json!(1.0));
    assert_eq!(
        r.details["availability"]["challenged"],
        serde_json::json!(0)
    );
    assert!(r.pages > 1);
}
