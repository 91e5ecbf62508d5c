//! Printing the report to PDF through headless Chromium, when it is installed.
//!
//! Why Chromium: the pages are laid out by CSS with a print stylesheet; the browser that shows
//! them is the only renderer that prints them exactly as a reader sees them. It runs with a
//! throw-away profile and with networking features off, on a `file://` page that itself
//! forbids every request (Content-Security-Policy).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ReportError;

/// Names tried on `PATH`, in order.
const NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The Chromium binary: `GOVCAP_CHROMIUM` when set, else the first of the usual names on
/// `PATH`. `None` when there is none.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOVCAP_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in NAMES {
            let c = dir.join(name);
            if c.is_file() {
                return Some(c);
            }
        }
    }
    None
}

/// `file://` URL of an absolute path, percent-encoding everything but unreserved characters
/// and `/`.
pub fn file_url(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The flags every headless run uses: no sandbox (root in containers), no GPU, and none of the
/// background traffic a fresh profile would start.
pub fn headless_args(profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-extensions".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
    ]
}

/// A fresh profile directory under the system temp dir, removed by [`Profile::drop`].
pub struct Profile(PathBuf);

impl Profile {
    pub fn new(tag: &str) -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "govcap-chromium-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Profile(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Prints `html` to `pdf` (A4, as the print stylesheet lays it out). Gives up after
/// `timeout`, killing the browser.
pub fn print_pdf(
    chromium: &Path,
    html: &Path,
    pdf: &Path,
    timeout: Duration,
) -> Result<(), ReportError> {
    let page = html.display().to_string();
    let fail = |detail: String| ReportError::Print {
        page: page.clone(),
        detail,
    };
    let abs = std::fs::canonicalize(html).map_err(|e| fail(e.to_string()))?;
    let pdf_abs = match pdf.parent() {
        Some(p) if !p.as_os_str().is_empty() => std::fs::canonicalize(p)
            .map_err(|e| fail(e.to_string()))?
            .join(pdf.file_name().unwrap_or_default()),
        _ => std::env::current_dir()
            .map_err(|e| fail(e.to_string()))?
            .join(pdf),
    };
    let _ = std::fs::remove_file(&pdf_abs);
    let profile = Profile::new("pdf").map_err(|e| fail(e.to_string()))?;
    let mut args = headless_args(profile.path());
    args.push("--no-pdf-header-footer".into());
    args.push("--print-to-pdf-no-header".into());
    args.push(format!("--print-to-pdf={}", pdf_abs.display()));
    args.push(file_url(&abs));
    let mut child = Command::new(chromium)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", chromium.display())))?;
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "no result after {} s; the browser was stopped",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    let log = reader.join().unwrap_or_default();
    let size = std::fs::metadata(&pdf_abs).map(|m| m.len()).unwrap_or(0);
    if !status.success() || size == 0 {
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        return Err(fail(format!(
            "exit status {status}, {size} bytes written; {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(
            file_url(Path::new("/tmp/my report/索引.html")),
            "file:///tmp/my%20report/%E7%B4%A2%E5%BC%95.html"
        );
    }
}
