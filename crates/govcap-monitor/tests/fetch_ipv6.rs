//! The IPv6 probe on loopback: a portal name pinned to 127.0.0.1 and [::1] (no DNS), the
//! home page fetched over IPv4, then again over IPv6 and compared.

mod fetch_support;

use std::net::SocketAddr;
use std::time::Duration;

use fetch_support::quick_config;
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{FetchConfig, Fetcher};
use govcap_monitor::model::{FetchState, SiteVisit};
use govcap_monitor::warc::{RecordIds, WarcWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HOST: &str = "www.example-city.gov.cn";

async fn answer(listener: TcpListener, title: &'static str) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let path = String::from_utf8_lossy(&got)
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            let (status, body) = if path == "/" {
                (
                    "200 OK",
                    format!("<html><head><title>{title}</title></head><body>首页</body></html>"),
                )
            } else {
                ("404 Not Found", "<html>404</html>".to_string())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
        });
    }
}

/// One port on both 127.0.0.1 and [::1], answering with the given titles.
async fn dual_stack(v4_title: &'static str, v6_title: &'static str) -> u16 {
    for _ in 0..20 {
        let v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = v4.local_addr().unwrap().port();
        if let Ok(v6) = TcpListener::bind(("::1", port)).await {
            tokio::spawn(answer(v4, v4_title));
            tokio::spawn(answer(v6, v6_title));
            return port;
        }
    }
    panic!("no port free on both 127.0.0.1 and [::1]");
}

async fn visit(port: u16, pins: &[&str]) -> SiteVisit {
    let resolve = pins
        .iter()
        .map(|ip| (HOST.to_string(), SocketAddr::new(ip.parse().unwrap(), port)))
        .collect();
    let fetcher = Fetcher::new(FetchConfig {
        resolve,
        ipv6_probe: true,
        ..quick_config()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("govcap-v6-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut warc =
        WarcWriter::create(&dir.join("v6.warc.gz"), RecordIds::from_seed(10), "t").unwrap();
    let cfg = CrawlConfig {
        max_depth: 0,
        site_budget: Duration::from_secs(10),
        http_probe: false,
        ..CrawlConfig::default()
    };
    let site = Site {
        code: "v6".into(),
        url: format!("http://{HOST}:{port}/"),
    };
    let (v, _) = crawl_site(
        &fetcher,
        &site,
        "2026-11-27",
        &cfg,
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    v
}

#[tokio::test]
async fn the_same_site_over_ipv6_is_recognised() {
    let port = dual_stack("某市人民政府", "某市人民政府").await;
    // IPv4 listed first: the home page goes over IPv4, the probe over IPv6.
    let v = visit(port, &["127.0.0.1", "::1"]).await;
    assert_eq!(v.pages[0].state, FetchState::Ok);
    assert_eq!(v.facts["ipv6_addresses"], serde_json::json!(["::1"]));
    assert_eq!(v.facts["ipv6_same_site"], true);
    assert_eq!(v.facts["ipv6_probe"]["state"], "ok");
}

#[tokio::test]
async fn a_different_site_over_ipv6_is_not_the_same_site() {
    let port = dual_stack("某市人民政府", "Welcome to nginx!").await;
    let v = visit(port, &["127.0.0.1", "::1"]).await;
    assert_eq!(v.pages[0].state, FetchState::Ok);
    assert!(
        v.pages[0].text.contains("某市人民政府"),
        "home page went over IPv4"
    );
    assert_eq!(v.facts["ipv6_same_site"], false);
}

#[tokio::test]
async fn no_aaaa_address_means_no_ipv6() {
    let port = dual_stack("某市人民政府", "某市人民政府").await;
    let v = visit(port, &["127.0.0.1"]).await;
    assert_eq!(v.facts["ipv6_addresses"], serde_json::json!([]));
    assert_eq!(v.facts["ipv6_same_site"], false);
    assert!(v.facts.get("ipv6_probe").is_none());
}
