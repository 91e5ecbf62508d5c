//! The home page's phase timings (DNS, connect, TLS, first byte, total): measured on a probe
//! of their own, stored in the visit's facts and shown in the `availability` finding; a
//! phase that did not happen is null, and a failed probe leaves no timing at all.

mod fetch_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fetch_support::quick_config;
use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::checks::{self, facts, CheckConfig};
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{FetchConfig, Fetcher};
use govcap_monitor::warc::{RecordIds, WarcWriter};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[tokio::test]
async fn a_fixture_home_page_over_an_address_has_no_dns_and_no_tls_phase() {
    let fx = spawn(FixtureConfig {
        sites: 1,
        ..FixtureConfig::default()
    })
    .await;
    let url = fx.portal_url(0);
    let f = Fetcher::new(quick_config()).unwrap();
    let t = f.probe_timings(&url, soon()).await.expect("probe");
    assert_eq!(t.dns, None, "an address needs no lookup");
    assert_eq!(t.tls, None, "plain http");
    assert!(t.connect > 0.0 && t.ttfb > 0.0, "{t:?}");
    assert!(t.total >= t.connect + t.ttfb, "{t:?}");
    assert!(t.total < 5_000.0, "{t:?}");
}

#[tokio::test]
async fn a_name_is_looked_up_and_a_slow_first_byte_is_seen() {
    // A server that holds its answer 300 ms: the wait shows in ttfb, not in connect.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let body = "<html><title>t</title>ok</html>";
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    let f = Fetcher::new(quick_config()).unwrap();
    let t = f
        .probe_timings(&format!("http://localhost:{port}/"), soon())
        .await
        .expect("probe");
    assert!(t.dns.is_some_and(|d| d >= 0.0), "{t:?}");
    assert!(t.ttfb >= 290.0, "{t:?}");
    assert!(t.connect < 290.0, "{t:?}");
    assert!(t.total >= t.ttfb);
}

#[tokio::test]
async fn https_has_a_tls_phase_even_with_a_self_signed_certificate() {
    const CERT: &[u8] = include_bytes!("data/selfsigned.cert.der");
    const KEY: &[u8] = include_bytes!("data/selfsigned.key.der");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(CERT.to_vec())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(KEY.to_vec().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = "<html>secure</html>";
                let _ = tls
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    let f = Fetcher::new(quick_config()).unwrap();
    let t = f
        .probe_timings(&format!("https://{addr}/"), soon())
        .await
        .expect("probe");
    assert!(t.tls.is_some_and(|x| x > 0.0), "{t:?}");
    assert_eq!(t.dns, None);
    assert!(t.total >= t.connect + t.tls.unwrap() + t.ttfb, "{t:?}");
}

#[tokio::test]
async fn a_failed_probe_gives_no_timing() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let f = Fetcher::new(quick_config()).unwrap();
    assert!(f
        .probe_timings(&format!("http://127.0.0.1:{port}/"), soon())
        .await
        .is_none());
    // A deadline already past: no request at all.
    let fx = spawn(FixtureConfig {
        sites: 1,
        ..FixtureConfig::default()
    })
    .await;
    let before = fx.requests();
    assert!(f
        .probe_timings(&fx.portal_url(0), Instant::now())
        .await
        .is_none());
    assert_eq!(fx.requests(), before);
}

#[tokio::test]
async fn the_crawl_stores_the_timings_and_availability_shows_them() {
    let fx = spawn(FixtureConfig {
        sites: 1,
        ..FixtureConfig::default()
    })
    .await;
    let fetcher = Fetcher::new(FetchConfig {
        ipv6_probe: false,
        ..quick_config()
    })
    .unwrap();
    let d = std::env::temp_dir().join(format!("govcap-timings-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let mut warc = WarcWriter::create(&d.join("t.warc.gz"), RecordIds::from_seed(1), "t").unwrap();
    // Nothing reads the archive back: unlink it now (the open file keeps working).
    std::fs::remove_dir_all(&d).unwrap();
    let cfg = CrawlConfig {
        max_depth: 0,
        search_probe: false,
        http_probe: false,
        ..CrawlConfig::default()
    };
    let site = Site {
        code: "fx001".into(),
        url: fx.portal_url(0),
    };
    let (visit, _) = crawl_site(
        &fetcher,
        &site,
        "2026-11-27",
        &cfg,
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let t = &visit.facts[facts::HOME_TIMINGS_MS];
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5, "{t}");
    for k in ["dns", "connect", "tls", "ttfb", "total"] {
        assert!(keys.contains(&k), "{k} in {t}");
    }
    assert_eq!(t["dns"], Value::Null);
    assert_eq!(t["tls"], Value::Null);
    assert!(t["total"].as_f64().unwrap() > 0.0);
    let findings = checks::run_all(&visit, &CheckConfig::default());
    let av = findings.iter().find(|f| f.check == "availability").unwrap();
    assert_eq!(&av.details["timings_ms"], t);
    assert_eq!(av.value, json!(1.0));

    // A dead site: no timing, and the finding says null rather than guessing.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = Site {
        code: "dead".into(),
        url: format!("http://127.0.0.1:{port}/"),
    };
    let (visit, _) = crawl_site(
        &fetcher,
        &dead,
        "2026-11-27",
        &cfg,
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(!visit.facts.contains_key(facts::HOME_TIMINGS_MS));
    let findings = checks::run_all(&visit, &CheckConfig::default());
    let av = findings.iter().find(|f| f.check == "availability").unwrap();
    assert_eq!(av.details["timings_ms"], Value::Null);
}
