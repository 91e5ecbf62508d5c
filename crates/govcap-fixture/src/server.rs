//! A small HTTP/1.1 server over tokio sockets, written by hand so the hostile cases are exact:
//! headers held back, bodies dripped or streamed past any sane size, a gzip bomb sent as is.
//! Keep-alive is supported (crawlers and Scrapy reuse connections); only GET and HEAD.

use crate::render::{Body, Portals, Reply};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(30);

/// Shared server state.
pub struct Shared {
    pub portals: Arc<Portals>,
    pub bomb: OnceLock<Arc<Vec<u8>>>,
    pub requests: AtomicU64,
    /// Per-client state of the robustness portals.
    pub robust: crate::robust::State,
}

impl Shared {
    async fn bomb(self: &Arc<Self>) -> Arc<Vec<u8>> {
        if let Some(b) = self.bomb.get() {
            return b.clone();
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            me.bomb
                .get_or_init(|| Arc::new(crate::bomb::gzip_bomb(me.portals.bomb_bytes)))
                .clone()
        })
        .await
        .expect("building the gzip bomb does not panic")
    }
}

/// Accepts connections until `stop` turns true.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => {
                if let Ok((stream, _)) = r {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, shared.clone(), stop.clone()));
                }
            }
            _ = stop.changed() => return,
        }
    }
}

struct Request {
    head_only: bool,
    target: String,
    keep_alive: bool,
    content_length: usize,
    /// The `Cookie` header ("" when none): the JS-challenge site reads it.
    cookie: String,
    /// The `Host` header ("" when none): the cross-host portal reads it (`robust`).
    host: String,
}

/// Reads one request head; `None` at a clean end of stream.
async fn read_head<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Request>> {
    let mut lines: Vec<String> = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // tolerate blank lines between requests
            }
            break;
        }
        lines.push(line);
    }
    let mut first = lines[0].split_whitespace();
    let method = first.next().unwrap_or("").to_ascii_uppercase();
    let target = first.next().unwrap_or("/").to_string();
    let version = first.next().unwrap_or("HTTP/1.1").to_ascii_uppercase();
    let mut keep_alive = version != "HTTP/1.0";
    let mut content_length = 0;
    let mut cookie = String::new();
    let mut host = String::new();
    for l in &lines[1..] {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("connection") {
                keep_alive = !v.eq_ignore_ascii_case("close")
                    && (version != "HTTP/1.0" || v.eq_ignore_ascii_case("keep-alive"));
            } else if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("cookie") {
                cookie = v.to_string();
            } else if k.eq_ignore_ascii_case("host") {
                host = v.to_string();
            }
        }
    }
    Ok(Some(Request {
        head_only: method == "HEAD",
        target,
        keep_alive,
        content_length,
        cookie,
        host,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        405 => "Method Not Allowed",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        _ => "Status",
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    // The rate-limited portal counts requests per client address.
    let client = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    loop {
        let head = tokio::select! {
            h = tokio::time::timeout(IDLE, read_head(&mut reader)) => h,
            _ = stop.changed() => return,
        };
        let req = match head {
            Ok(Ok(Some(req))) => req,
            _ => return,
        };
        if req.content_length > 0 {
            let mut sink = vec![0u8; req.content_length.min(1 << 20)];
            if reader.read_exact(&mut sink).await.is_err() {
                return;
            }
        }
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let target = match req.target.strip_prefix("http://") {
            Some(rest) => rest
                .find('/')
                .map(|i| &rest[i..])
                .unwrap_or("/")
                .to_string(),
            None => req.target.clone(),
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let reply =
            crate::robust::respond(&shared.portals, &shared.robust, &req.host, client, path)
                .or_else(|| crate::scripted::respond(&shared.portals, path, query, &req.cookie))
                .unwrap_or_else(|| shared.portals.respond(path, query));
        let sent = tokio::select! {
            r = send(&mut w, &shared, reply, req.head_only, req.keep_alive) => r,
            _ = stop.changed() => return,
        };
        if sent.is_err() || !req.keep_alive {
            let _ = w.shutdown().await;
            return;
        }
    }
}

async fn write_head<W: AsyncWrite + Unpin>(
    w: &mut W,
    reply: &Reply,
    len: u64,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nServer: govcap-fixture\r\n",
        reply.status,
        reason(reply.status)
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {len}\r\nConnection: {}\r\n\r\n",
        if keep_alive { "keep-alive" } else { "close" }
    ));
    w.write_all(head.as_bytes()).await
}

/// Filler of the huge page: valid HTML paragraphs, 64 KiB.
fn filler() -> Vec<u8> {
    let p = "<p>政务公开 政务服务 互动交流 这是一段用于测试超大页面的填充文字。</p>\n";
    p.repeat(64 * 1024 / p.len()).into_bytes()
}

async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    shared: &Arc<Shared>,
    reply: Reply,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    match &reply.body {
        Body::Bytes(b) => {
            write_head(w, &reply, b.len() as u64, keep_alive).await?;
            if !head_only {
                w.write_all(b).await?;
            }
        }
        Body::Delayed(d, b) => {
            tokio::time::sleep(*d).await;
            write_head(w, &reply, b.len() as u64, keep_alive).await?;
            if !head_only {
                w.write_all(b).await?;
            }
        }
        Body::Drip {
            every,
            chunks,
            piece,
        } => {
            write_head(w, &reply, (chunks * piece.len()) as u64, keep_alive).await?;
            w.flush().await?;
            if !head_only {
                for _ in 0..*chunks {
                    tokio::time::sleep(*every).await;
                    w.write_all(piece).await?;
                    w.flush().await?;
                }
            }
        }
        Body::Huge(len) => {
            write_head(w, &reply, *len, keep_alive).await?;
            if !head_only {
                let prefix = b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\xe5\xa4\xa7\xe9\xa1\xb5\xe9\x9d\xa2</title></head><body>\n";
                let fill = filler();
                let mut left = *len;
                let first = (prefix.len() as u64).min(left) as usize;
                w.write_all(&prefix[..first]).await?;
                left -= first as u64;
                while left > 0 {
                    let n = (fill.len() as u64).min(left) as usize;
                    w.write_all(&fill[..n]).await?;
                    left -= n as u64;
                }
            }
        }
        Body::Bomb => {
            let bomb = shared.bomb().await;
            write_head(w, &reply, bomb.len() as u64, keep_alive).await?;
            if !head_only {
                w.write_all(&bomb).await?;
            }
        }
    }
    w.flush().await
}
