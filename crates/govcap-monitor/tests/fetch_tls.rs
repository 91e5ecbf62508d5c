//! HTTPS on loopback: an invalid (self-signed) certificate is recorded and the page is still
//! fetched without verification; its expiry is read; a broken handshake is a `tls` failure
//! that is retried through the legacy-TLS client.

mod fetch_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fetch_support::quick_config;
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{FetchConfig, FetchOptions, Fetcher};
use govcap_monitor::model::FetchState;
use govcap_monitor::warc::{RecordIds, WarcWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

const CERT: &[u8] = include_bytes!("data/selfsigned.cert.der");
const KEY: &[u8] = include_bytes!("data/selfsigned.key.der");
/// `openssl x509 -enddate` of the test certificate.
const NOT_AFTER: &str = "2036-11-24T21:44:14Z";

/// An HTTPS server with the self-signed certificate; counts connections.
async fn https_server() -> (String, Arc<AtomicUsize>) {
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
    let conns = Arc::new(AtomicUsize::new(0));
    let c2 = conns.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            c2.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body =
                    "<html><head><title>安全的人民政府网站</title></head><body>ok</body></html>";
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Strict-Transport-Security: max-age=31536000\r\nConnection: close\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://{addr}/"), conns)
}

#[tokio::test]
async fn an_invalid_certificate_is_recorded_and_the_page_still_fetched() {
    let (url, _) = https_server().await;
    let f = Fetcher::new(quick_config())
        .unwrap()
        .fetch(&url, &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok, "{:?}", f.error);
    assert!(f.page.text.contains("安全的人民政府网站"));
    assert!(
        f.cert_error.as_deref().unwrap().contains("certificate"),
        "{:?}",
        f.cert_error
    );
    assert_eq!(f.cert_not_after.as_deref(), Some(NOT_AFTER));
    assert_eq!(f.exchanges.len(), 2);
    assert_eq!(
        f.exchanges[0].error.as_ref().unwrap().0,
        FetchState::CertInvalid
    );
    assert!(f.exchanges[1].response.is_some());
    assert_eq!(
        f.page.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[tokio::test]
async fn without_the_fallback_an_invalid_certificate_is_cert_invalid_and_not_retried() {
    let (url, conns) = https_server().await;
    let f = Fetcher::new(FetchConfig {
        accept_invalid_certs_fallback: false,
        ..quick_config()
    })
    .unwrap()
    .fetch(&url, &FetchOptions::default())
    .await;
    assert_eq!(f.page.state, FetchState::CertInvalid);
    assert_eq!(conns.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_site_visit_over_https_reports_the_certificate_facts() {
    let (url, _) = https_server().await;
    let dir = std::env::temp_dir().join(format!("govcap-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut warc =
        WarcWriter::create(&dir.join("t.warc.gz"), RecordIds::from_seed(9), "t").unwrap();
    let cfg = CrawlConfig {
        http_probe: false,
        site_budget: Duration::from_secs(10),
        ..CrawlConfig::default()
    };
    let site = Site {
        code: "tls".into(),
        url,
    };
    let fetcher = Fetcher::new(quick_config()).unwrap();
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
    assert_eq!(visit.pages[0].state, FetchState::Ok);
    assert_eq!(visit.facts["tls_cert_valid"], false);
    assert_eq!(visit.facts["tls_cert_not_after"], NOT_AFTER);
    assert_eq!(visit.facts["tls_legacy_only"], false);
    assert!(visit.facts["tls_cert_error"]
        .as_str()
        .unwrap()
        .contains("certificate"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_broken_handshake_is_tls_and_tries_the_legacy_client() {
    // Answers TLS with plain HTTP, as a misconfigured server does.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    let fetcher = Fetcher::new(quick_config()).unwrap();
    let f = fetcher
        .fetch(&format!("https://{addr}/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Tls, "{:?}", f.error);
    if fetcher.has_legacy_tls() {
        assert_eq!(f.exchanges.len(), 2);
        assert!(!f.exchanges[0].legacy_tls);
        assert!(f.exchanges[1].legacy_tls);
        assert_eq!(f.exchanges[1].error.as_ref().unwrap().0, FetchState::Tls);
    } else {
        assert_eq!(f.exchanges.len(), 1);
    }
}
