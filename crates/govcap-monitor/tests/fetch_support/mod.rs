//! A tiny HTTP/1.1 server on 127.0.0.1 for the fetcher's tests: raw sockets, so hostile
//! behaviour (stalls, drips, closing without a response) is exact. Every request is logged
//! with its arrival time.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request.
pub enum Reply {
    /// Wait `delay`, then send status, headers and body.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Send headers at once, then the body one byte per `every`.
    Drip { body: Vec<u8>, every: Duration },
    /// Close the connection without answering.
    Close,
}

pub fn html(body: &str) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: body.as_bytes().to_vec(),
        delay: Duration::ZERO,
    }
}

pub fn status(code: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    Reply::Full {
        status: code,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
        delay: Duration::ZERO,
    }
}

pub fn redirect(to: &str) -> Reply {
    status(302, &[("Location", to)], b"")
}

pub fn not_found() -> Reply {
    status(
        404,
        &[("Content-Type", "text/html")],
        b"<html>404 Not Found</html>",
    )
}

/// (arrival, request target, user agent)
pub type Log = Arc<Mutex<Vec<(Instant, String, String)>>>;

pub struct Server {
    pub addr: SocketAddr,
    pub log: Log,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Request targets received, in order.
    pub fn paths(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p, _)| p.clone())
            .collect()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.paths().iter().filter(|p| *p == path).count()
    }
}

/// Serves `route(target, nth request for that target, 1-based)` on an ephemeral port.
pub async fn serve<F>(route: F) -> Server
where
    F: Fn(&str, usize) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let route = Arc::new(route);
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let route = route.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let ua = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("user-agent")
                            .then(|| v.trim().to_string())
                    })
                    .unwrap_or_default();
                let nth = {
                    let mut l = log.lock().unwrap();
                    l.push((Instant::now(), target.clone(), ua));
                    l.iter().filter(|(_, p, _)| *p == target).count()
                };
                match route(&target, nth) {
                    Reply::Close => {}
                    Reply::Full {
                        status,
                        headers,
                        body,
                        delay,
                    } => {
                        tokio::time::sleep(delay).await;
                        let mut out = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
                        for (k, v) in headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                        let _ = sock.write_all(out.as_bytes()).await;
                        let _ = sock.write_all(&body).await;
                    }
                    Reply::Drip { body, every } => {
                        let out = format!(
                            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        let _ = sock.write_all(out.as_bytes()).await;
                        for b in body {
                            if sock.write_all(&[b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(every).await;
                        }
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    Server { addr, log }
}

/// A fetch configuration for tests: short timeouts and backoff, no spacing between requests.
pub fn quick_config() -> govcap_monitor::fetch::FetchConfig {
    govcap_monitor::fetch::FetchConfig {
        timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(500),
        retries: 2,
        backoff: Duration::from_millis(20),
        min_interval: Duration::ZERO,
        per_host_inflight: 4,
        ..Default::default()
    }
}

/// GBK bytes of a string (what old CMSs serve).
pub fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}
