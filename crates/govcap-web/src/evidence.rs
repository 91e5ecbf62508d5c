//! Evidence files evaluators and units upload (screenshots, PDFs): the type is decided by the
//! bytes, not by what the client claims; each file is stored once by its SHA-256 and served
//! back sandboxed, so a file can never run script in our origin.

use govcap_core::access::Action;
use govcap_store::campaigns::{self, EvidenceFile};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

/// The largest evidence file accepted.
pub const MAX_BYTES: usize = 10 << 20;

/// The type of an evidence file from its first bytes; only images and PDF are evidence.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Stores an uploaded file; returns (sha256, type, size). Audited once per upload.
pub async fn upload(
    state: &AppState,
    caller: &Caller,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(String, &'static str, usize), Problem> {
    caller.require(Action::Evidence)?;
    if bytes.is_empty() {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "the file is empty",
        ));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("evidence files are at most {} MiB", MAX_BYTES >> 20),
        ));
    }
    let Some(mime) = sniff(&bytes) else {
        return Err(Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "evidence files are images (PNG, JPEG, GIF, WebP) or PDF, judged by their content",
        ));
    };
    let sha = sha256_hex(&bytes);
    let size = bytes.len();
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(120)
        .collect();
    let f = EvidenceFile {
        sha256: sha.clone(),
        mime: mime.into(),
        name: if name.is_empty() {
            "evidence".into()
        } else {
            name
        },
        bytes,
        uploaded_by: caller.name().to_string(),
        uploaded_at: crate::clock::now(),
    };
    let actor = Actor::of(caller);
    state
        .pool
        .tx(true, move |tx| {
            let new = campaigns::put_evidence_file(tx, &f)?;
            audit::record(
                tx,
                &actor,
                "evidence.upload",
                &format!("evidence/{}", f.sha256),
                None,
                Some(json!({"name": f.name, "type": f.mime, "size": f.bytes.len(), "new": new})),
            )?;
            Ok(())
        })
        .await?;
    Ok((sha, mime, size))
}

/// A stored file for a signed-in caller.
pub async fn get(state: &AppState, caller: &Caller, sha: &str) -> Result<EvidenceFile, Problem> {
    caller.require(Action::Evidence)?;
    let ok = sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return Err(Problem::not_found("this evidence file"));
    }
    let sha = sha.to_string();
    state
        .pool
        .tx(false, move |tx| campaigns::evidence_file(tx, &sha))
        .await?
        .ok_or_else(|| Problem::not_found("this evidence file"))
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(super::internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "202.108.22.5", "2400:3200::1"] {
            assert!(!super::internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn captures_of_internal_hosts_are_refused() {
        for u in [
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://[::1]/x",
            "http://user@10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(super::refuse_private(u.to_string()).await.is_err(), "{u}");
        }
    }

    /// One-response-per-connection HTTP server on loopback answering `reply` to everything.
    async fn serve(reply: String) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_redirect_to_another_host_is_checked_before_it_is_followed() {
        let body = "<html><title>t</title></html>";
        let inner = serve(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ))
        .await;
        let outer = serve(format!(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{inner}/secret\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ))
        .await;
        let fetcher =
            govcap_monitor::fetch::Fetcher::new(govcap_monitor::fetch::FetchConfig::default())
                .unwrap();
        let opts = govcap_monitor::fetch::FetchOptions {
            hold_cross_host: true,
            ..Default::default()
        };
        let start = format!("http://127.0.0.1:{outer}/");
        let inner_host = format!(":{inner}/");
        // The checker stands in for "internal": it refuses the second host only.
        let refused = super::fetch_checked(&fetcher, &start, &opts, |next: String| {
            let bad = next.contains(&inner_host);
            async move {
                if bad {
                    Err(crate::problem::Problem::forbidden("internal"))
                } else {
                    Ok(())
                }
            }
        })
        .await
        .unwrap_err();
        assert!(
            refused.detail.contains("redirects to an internal address"),
            "{}",
            refused.detail
        );
        let followed = super::fetch_checked(&fetcher, &start, &opts, |_| async { Ok(()) })
            .await
            .unwrap();
        assert!(
            followed
                .page
                .final_url
                .ends_with(&format!(":{inner}/secret")),
            "{}",
            followed.page.final_url
        );
        assert_eq!(followed.page.status, Some(200));
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            sniff(b"<svg onload=alert(1)>"),
            None,
            "SVG can carry script"
        );
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b""), None);
    }
}

/// What "capture now" kept.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Capture {
    /// The WARC record of the archived response (or of the failure).
    pub record: String,
    /// The archived page, sandboxed: what a reviewer opens.
    pub url: String,
    /// The screenshot (an evidence file), when Chromium is installed.
    pub screenshot_url: Option<String>,
    /// The fetch's outcome in words, when it failed.
    pub error: Option<String>,
}

/// Fetches `url` now into the workspace's WARC store (`DATA_DIR/captures/warc/`), as the
/// monitor fetches (bounded, archived request and response), and takes a screenshot with
/// headless Chromium when there is one. For the assigned evaluator of `task_id`.
pub async fn capture(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    url: &str,
) -> Result<Capture, Problem> {
    caller.require(Action::EnterValues)?;
    let (_, t, _) = crate::campaigns::task(state, task_id).await?;
    match t.state.assignee.as_deref() {
        Some(a) if a == caller.name() => {}
        Some(_) => {
            return Err(Problem::forbidden(
                "only the task's assigned evaluator captures its evidence",
            ))
        }
        None => return Err(Problem::conflict("the task is not assigned yet")),
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || url.len() > 2000
        || url.contains(char::is_whitespace)
    {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "url: an http(s) URL of at most 2000 characters",
        ));
    }
    if !state.config.capture_private {
        refuse_private(url.to_string()).await?;
    }
    let Some(dir) = state.config.data_dir.clone() else {
        return Err(Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "captures need a data directory: start the server with --data-dir DIR",
        ));
    };
    let fetcher =
        govcap_monitor::fetch::Fetcher::new(govcap_monitor::fetch::FetchConfig::default())
            .map_err(|e| {
                tracing::error!(error = %e, "cannot build the fetcher");
                Problem::internal()
            })?;
    // Redirects to another host stop the fetch so that host is checked too before it is
    // contacted: an outside page must not bounce the server onto an internal address.
    let opts = govcap_monitor::fetch::FetchOptions {
        deadline: Some(tokio::time::Instant::now().into_std() + std::time::Duration::from_secs(20)),
        hold_cross_host: !state.config.capture_private,
        ..Default::default()
    };
    let fetched = if state.config.capture_private {
        fetcher.fetch(url, &opts).await
    } else {
        fetch_checked(&fetcher, url, &opts, refuse_private).await?
    };
    // The screenshot opens the page the checked chain ended on.
    let shot_url = if fetched.page.final_url.is_empty() {
        url.to_string()
    } else {
        fetched.page.final_url.clone()
    };
    let error = fetched.error.clone();
    let stamp = crate::clock::now_secs();
    let warc_dir = dir.join("captures").join("warc");
    let exchanges = fetched.exchanges.clone();
    let record = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        std::fs::create_dir_all(&warc_dir)?;
        let path = warc_dir.join(format!(
            "capture-task{task_id}-{stamp}-{}.warc.gz",
            crate::auth::random_secret()
                .chars()
                .take(8)
                .collect::<String>()
        ));
        let mut w = govcap_monitor::warc::WarcWriter::create(
            &path,
            govcap_monitor::warc::RecordIds::from_os(),
            concat!("govcap/", env!("CARGO_PKG_VERSION")),
        )?;
        let mut last = String::new();
        for ex in &exchanges {
            last = w.write_exchange(ex)?.evidence().to_string();
        }
        w.flush()?;
        Ok(last)
    })
    .await
    .map_err(|_| Problem::internal())?
    .map_err(|e| {
        tracing::error!(error = %e, "cannot write the capture");
        Problem::internal()
    })?;
    if record.is_empty() {
        return Err(Problem::new(
            axum::http::StatusCode::BAD_GATEWAY,
            format!(
                "nothing could be fetched from {url}: {}",
                error.unwrap_or_default()
            ),
        ));
    }
    let mut screenshot_url = None;
    if let Some(chromium) = govcap_browser::find_chromium() {
        let u = shot_url;
        let shot = tokio::task::spawn_blocking(move || {
            govcap_browser::screenshot(
                &chromium,
                &u,
                (1280, 1600),
                std::time::Duration::from_secs(30),
            )
        })
        .await
        .map_err(|_| Problem::internal())?;
        match shot {
            Ok(png) => {
                let (sha, _, _) =
                    upload(state, caller, &format!("task{task_id}-screenshot.png"), png).await?;
                screenshot_url = Some(format!("/evidence/files/{sha}"));
            }
            Err(e) => tracing::warn!(error = %e, "screenshot failed"),
        }
    }
    let view = format!(
        "/staff/captures/evidence?record={}",
        crate::pages::layout::url_escape(&record)
    );
    let actor = Actor::of(caller);
    let (rec2, url2, shot2) = (record.clone(), url.to_string(), screenshot_url.clone());
    state
        .pool
        .tx(true, move |tx| {
            audit::record(
                tx,
                &actor,
                "evidence.capture",
                &format!("task/{task_id}"),
                None,
                Some(json!({"url": url2, "record": rec2, "screenshot": shot2})),
            )
        })
        .await?;
    Ok(Capture {
        record,
        url: view,
        screenshot_url,
        error,
    })
}

/// Refuses a URL whose host is, or resolves to, a loopback, private, link-local or otherwise
/// internal address: captures are of public portals (`--capture-private` lifts this).
/// Fetches `url`, checking every other host the redirects lead to with `check` before it is
/// contacted (`opts.hold_cross_host` must be set).
async fn fetch_checked<F, Fut>(
    fetcher: &govcap_monitor::fetch::Fetcher,
    url: &str,
    opts: &govcap_monitor::fetch::FetchOptions,
    check: F,
) -> Result<govcap_monitor::fetch::Fetched, Problem>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Problem>>,
{
    let mut fetched = fetcher.fetch(url, opts).await;
    while let Some(next) = fetched.held_redirect.clone() {
        check(next.clone()).await.map_err(|_| {
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "url: {} redirects to an internal address ({}); captures are of public sites",
                    url.chars().take(200).collect::<String>(),
                    next.chars().take(200).collect::<String>()
                ),
            )
        })?;
        fetched = fetcher.follow(fetched, opts).await;
    }
    Ok(fetched)
}

async fn refuse_private(url: String) -> Result<(), Problem> {
    let url = url.as_str();
    let refuse = || {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "url: captures are of public sites; this address is internal (the server was not started with --capture-private)",
        )
    };
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6.split_once(']').unwrap_or((v6, ""));
        (
            h.to_string(),
            p.trim_start_matches(':').parse().unwrap_or(80),
        )
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(80)),
            None => (authority.to_string(), 80u16),
        }
    };
    let addrs: Vec<std::net::IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map(|it| it.map(|a| a.ip()).collect())
        .unwrap_or_default();
    if addrs.is_empty() || addrs.iter().any(|ip| internal(*ip)) {
        return Err(refuse());
    }
    Ok(())
}

fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v) => {
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.octets()[0] == 100 && (64..128).contains(&v.octets()[1])
                || v.octets()[0] == 0
        }
        std::net::IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped()
                    .is_some_and(|m| internal(std::net::IpAddr::V4(m)))
        }
    }
}
