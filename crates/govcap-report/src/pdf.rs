//! Printing the report to PDF through headless Chromium, when it is installed.
//!
//! Why Chromium: the pages are laid out by CSS with a print stylesheet; the browser that shows
//! them is the only renderer that prints them exactly as a reader sees them. It runs with a
//! throw-away profile and with networking features off, on a `file://` page that itself
//! forbids every request (Content-Security-Policy).

use std::path::Path;
use std::time::Duration;

use crate::ReportError;

// The browser plumbing lives in govcap-browser (shared with the monitor); re-exported so
// this module's API stays as it was.
pub use govcap_browser::{file_url, find_chromium, headless_args, Profile, NAMES};

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
    let out = govcap_browser::run(
        chromium,
        &args,
        govcap_browser::Limits {
            timeout,
            max_stdout: 1024 * 1024,
        },
    )
    .map_err(|e| fail(e.to_string()))?;
    let size = std::fs::metadata(&pdf_abs).map(|m| m.len()).unwrap_or(0);
    if !out.status.success() || size == 0 {
        return Err(fail(format!(
            "exit status {}, {size} bytes written; {}",
            out.status,
            out.stderr_lines(5)
        )));
    }
    Ok(())
}
