//! The fixture over real loopback sockets: normal pages as served bytes, keep-alive, the
//! host spreading, and every hostile case.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use govcap_fixture::spec::{Charset, Hostile};
use govcap_fixture::{spawn, FixtureConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response; at most `max_body` body bytes.
async fn read_resp<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R, max_body: usize) -> Resp {
    use tokio::io::AsyncBufReadExt;
    let mut status_line = String::new();
    r.read_line(&mut status_line).await.unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let mut body = vec![0u8; len.min(max_body)];
    r.read_exact(&mut body).await.unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(addr: SocketAddr, path: &str, max_body: usize) -> Resp {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut r = BufReader::new(s);
    read_resp(&mut r, max_body).await
}

fn quick() -> FixtureConfig {
    FixtureConfig {
        sites: 10,
        seed: 3,
        hostile: true,
        slow_delay: Duration::from_millis(200),
        bomb_bytes: 8 << 20,
        huge_bytes: 32 << 20,
        ..FixtureConfig::default()
    }
}

#[tokio::test]
async fn served_pages_equal_the_offline_rendering() {
    let fx = spawn(quick()).await;
    let addr = fx.addr();
    let code = fx.portals().sites[0].code.clone();
    let pages = fx.portals().offline_crawl(&code).unwrap();
    assert!(pages.len() > 10);
    for (c, r) in pages.iter().take(25) {
        let resp = get(addr, &c.path, usize::MAX).await;
        assert_eq!(resp.status, r.status, "{}", c.path);
        assert_eq!(resp.body, r.body, "{}", c.path);
    }
    let robots = get(addr, "/robots.txt", usize::MAX).await;
    let text = String::from_utf8(robots.body).unwrap();
    assert!(text.contains(&format!("Disallow: /site/{code}/admin/")));
    assert_eq!(get(addr, "/site/nope/", 1000).await.status, 404);
}

#[tokio::test]
async fn gbk_pages_come_without_a_charset_header() {
    let fx = spawn(FixtureConfig {
        sites: 30,
        ..quick()
    })
    .await;
    let s = fx
        .portals()
        .sites
        .iter()
        .find(|s| s.charset == Charset::GbkBare)
        .unwrap();
    let resp = get(fx.addr(), &format!("/site/{}/", s.code), usize::MAX).await;
    assert_eq!(resp.header("content-type"), Some("text/html"));
    assert!(
        std::str::from_utf8(&resp.body).is_err(),
        "GBK bytes are not UTF-8"
    );
    let (text, _, errors) = encoding_rs::GBK.decode(&resp.body);
    assert!(!errors && text.contains(&format!("{}人民政府", s.name)));
    assert!(
        !text.contains("<meta charset") && !text.contains("charset=gb"),
        "no declaration anywhere"
    );
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let fx = spawn(quick()).await;
    let code = &fx.portals().sites[1].code;
    let mut s = BufReader::new(TcpStream::connect(fx.addr()).await.unwrap());
    for path in [
        format!("/site/{code}/"),
        format!("/site/{code}/about/"),
        "/robots.txt".into(),
    ] {
        s.get_mut()
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let r = read_resp(&mut s, usize::MAX).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
    assert_eq!(fx.requests(), 3);
}

#[tokio::test]
async fn sites_spread_over_loopback_addresses() {
    let fx = spawn(FixtureConfig {
        hosts: 3,
        ..quick()
    })
    .await;
    assert_eq!(fx.addrs().len(), 3);
    let ips: std::collections::HashSet<_> = fx.addrs().iter().map(|a| a.ip()).collect();
    assert_eq!(ips.len(), 3);
    assert!(fx.addrs().iter().all(|a| a.ip().is_loopback()));
    let csv = fx.sites_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "code,portal_url");
    assert_eq!(lines.len(), 1 + 10 + Hostile::ALL.len());
    assert_eq!(
        lines[3],
        format!("fx003,http://{}/site/fx003/", fx.addrs()[2])
    );
    let url = url_of(&fx.portal_url(4));
    assert_eq!(get(url.0, &url.1, 100).await.status, 200);
    assert_eq!(fx.truth().len(), 17);
}

fn url_of(u: &str) -> (SocketAddr, String) {
    let rest = u.strip_prefix("http://").unwrap();
    let i = rest.find('/').unwrap();
    (rest[..i].parse().unwrap(), rest[i..].to_string())
}

#[tokio::test]
async fn hostile_sites_misbehave_as_promised() {
    let fx = spawn(quick()).await;
    let a = fx.addr();
    let home = |h: Hostile| format!("/site/{}/", h.code());

    // Redirect loop: / → a → b → /.
    let mut path = home(Hostile::RedirectLoop);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = get(a, &path, 1000).await;
        assert_eq!(r.status, 302);
        let loc = r.header("location").unwrap().to_string();
        seen.push(loc.clone());
        path = loc;
    }
    assert_eq!(seen.last().unwrap(), &home(Hostile::RedirectLoop));

    // WAF: 412, a script body, a wzws cookie.
    let r = get(a, &home(Hostile::Waf), usize::MAX).await;
    assert_eq!(r.status, 412);
    assert!(r.header("set-cookie").unwrap().starts_with("wzws_cid="));
    assert!(String::from_utf8_lossy(&r.body).contains("<script"));

    // Gzip bomb: small on the wire, 8 MiB of zeros inflated.
    let r = get(a, &home(Hostile::GzipBomb), usize::MAX).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(
        r.body.len() < 64 * 1024,
        "{} bytes on the wire",
        r.body.len()
    );
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&r.body[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated.len(), 8 << 20);

    // Huge page: announced size, streamed HTML.
    let r = get(a, &home(Hostile::Huge), 4096).await;
    assert_eq!(
        r.header("content-length"),
        Some((32u64 << 20).to_string().as_str())
    );
    assert!(r.body.starts_with(b"<!DOCTYPE html>"));

    // Slow and dripping homes still answer, eventually, in full.
    let r = get(a, &home(Hostile::Slow), usize::MAX).await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("<html"));
    let r = get(a, &home(Hostile::Drip), usize::MAX).await;
    assert_eq!(
        r.body.len(),
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );

    // The calendar never ends: each month links to the next.
    let mut month = "/site/hx-calendar/calendar/2026/11".to_string();
    for want in ["2026/12", "2027/1", "2027/2"] {
        let r = get(a, &month, usize::MAX).await;
        let body = String::from_utf8(r.body).unwrap();
        let next = format!("/site/hx-calendar/calendar/{want}");
        assert!(body.contains(&next), "{month} links to {next}");
        month = next;
    }
    let cal = get(a, &home(Hostile::Calendar), usize::MAX).await;
    let text = match fx.portals().site("hx-calendar").unwrap().charset {
        Charset::Utf8 => String::from_utf8(cal.body).unwrap(),
        _ => encoding_rs::GBK.decode(&cal.body).0.into_owned(),
    };
    assert!(text.contains("/site/hx-calendar/calendar/2026/11"));
}

#[tokio::test]
async fn ipv6_loopback_when_asked() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let fx = spawn(FixtureConfig {
        ipv6: true,
        ..quick()
    })
    .await;
    let v6 = fx.v6_addr().unwrap();
    assert!(v6.is_ipv6() && v6.ip().is_loopback());
    assert_eq!(get(v6, "/site/fx001/", 100).await.status, 200);
}
