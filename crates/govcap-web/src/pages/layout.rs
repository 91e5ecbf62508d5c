//! What every HTML response shares: the Content-Security-Policy built from the page's own
//! inline scripts and styles (their SHA-256 hashes, never `unsafe-inline`), the workspace bar
//! (language, large text, sign-in), security headers, and the error page.
//!
//! The report's renderers write self-contained pages with inline CSS and script; served from
//! here they keep working under a strict policy because each inline block is allowed by hash.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use govcap_report::html::esc;
use sha2::{Digest, Sha256};

/// The page's chrome choices, from the request.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub en: bool,
    pub large_text: bool,
    /// The signed-in user's name, if any.
    pub user: Option<String>,
    /// The same page in the other language.
    pub other_lang_href: String,
    /// Where "back" from the large-text switch goes.
    pub here: String,
    /// More links for this page (label, href), e.g. a unit's history.
    pub extra: Vec<(String, String)>,
}

const BAR_CSS: &str = ".webbar{display:flex;flex-wrap:wrap;gap:.3rem 1rem;justify-content:flex-end;align-items:center;padding:.3rem 1rem;background:#0d2236;font-size:.9rem}.webbar a{color:#fff}.webbar .home{margin-right:auto}";
const LARGE_CSS: &str = "body{font-size:21px!important}table{font-size:1rem!important}.kpi .value{font-size:1.7rem}header.top nav a{font-size:1.1rem}";

/// Adds the workspace bar (and the large-text style) to a page rendered by the report.
pub fn dress(html: &str, c: &Chrome) -> String {
    let t = |zh: &'static str, en: &'static str| if c.en { en } else { zh };
    let home = if c.en { "/en/" } else { "/" };
    let mut bar = format!(
        "<div class=\"webbar\"><a class=\"home\" href=\"{home}\">{}</a><a href=\"{}\" lang=\"{}\">{}</a>",
        t("全部年度", "All years"),
        esc(&c.other_lang_href),
        if c.en { "zh" } else { "en" },
        if c.en { "中文" } else { "English" },
    );
    for (label, href) in &c.extra {
        bar.push_str(&format!("<a href=\"{}\">{}</a>", esc(href), esc(label)));
    }
    let back = esc(&url_escape(&c.here));
    if c.large_text {
        bar.push_str(&format!(
            "<a href=\"/prefs/text/normal?back={back}\">{}</a>",
            t("标准字号", "Normal text")
        ));
    } else {
        bar.push_str(&format!(
            "<a href=\"/prefs/text/large?back={back}\">{}</a>",
            t("大字版", "Large text")
        ));
    }
    match &c.user {
        Some(u) => bar.push_str(&format!(
            "<a href=\"/staff/\">{} ({})</a>",
            t("工作台", "Workspace"),
            esc(u)
        )),
        None => bar.push_str(&format!("<a href=\"/login\">{}</a>", t("登录", "Sign in"))),
    }
    bar.push_str("</div>");
    let mut style = String::from("<style>");
    style.push_str(BAR_CSS);
    if c.large_text {
        style.push_str(LARGE_CSS);
    }
    style.push_str("</style>");
    let mut out = strip_meta_csp(html);
    if let Some(i) = out.find("</head>") {
        out.insert_str(i, &style);
    }
    if let Some(i) = out.find("<body>") {
        out.insert_str(i + "<body>".len(), &bar);
    }
    out
}

/// Percent-encodes a local path for a query parameter.
pub fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The report pages carry a `<meta>` policy made for opening files from disk (it forbids
/// forms); served here, the header policy below replaces it.
fn strip_meta_csp(html: &str) -> String {
    const START: &str = "<meta http-equiv=\"Content-Security-Policy\"";
    match html.find(START) {
        Some(i) => match html[i..].find('>') {
            Some(j) => format!("{}{}", &html[..i], &html[i + j + 1..]),
            None => html.to_string(),
        },
        None => html.to_string(),
    }
}

/// SHA-256 source expressions of every inline `<tag>…</tag>` block of a page.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let body_start = i + open.len();
        let Some(j) = rest[body_start..].find(&close) else {
            break;
        };
        let body = &rest[body_start..body_start + j];
        let h = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
        let src = format!("'sha256-{h}'");
        if !out.contains(&src) {
            out.push(src);
        }
        rest = &rest[body_start + j + close.len()..];
    }
    out
}

/// The policy of a page: only its own inline blocks run, forms post only here, nothing is
/// framed, nothing is fetched from elsewhere.
pub fn csp_for(html: &str) -> String {
    let scripts = inline_hashes(html, "script");
    let styles = inline_hashes(html, "style");
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "'none'".to_string()
        } else {
            v.join(" ")
        }
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; frame-src 'self'",
        list(scripts),
        list(styles)
    )
}

/// An HTML response with its policy.
pub fn html(status: StatusCode, body: String) -> Response {
    let csp = csp_for(&body);
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// A plain page of the workspace's own (login, staff views, errors) in the report's style.
pub fn simple_page(lang_en: bool, title: &str, body: &str) -> String {
    let lang = if lang_en { "en" } else { "zh-CN" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{}{}</style></head><body><header class=\"top\"><span class=\"brand\">govcap</span><nav><a href=\"/\">{}</a><a href=\"/staff/\">{}</a></nav></header><main>{body}</main></body></html>\n",
        esc(title),
        govcap_report::html::CSS,
        STAFF_CSS,
        if lang_en { "Dashboard" } else { "公开数据" },
        if lang_en { "Workspace" } else { "工作台" },
    )
}

const STAFF_CSS: &str = "form.inline{display:inline}button,input,select{font:inherit;padding:.3rem .6rem}label{display:block;margin:.6rem 0 .2rem}.notice{background:#e9f0f8;border-left:4px solid #1f5fa8;padding:.5rem .8rem}.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.5rem .8rem}code,pre{font-size:.85rem;white-space:pre-wrap;word-break:break-all}iframe.evidence{width:100%;height:70vh;border:1px solid #d9dee4}";

pub fn error_page(status: StatusCode, detail: &str) -> Response {
    error_page_with(status, detail, &[])
}

/// An error page listing every located problem (e.g. the rows of a refused spreadsheet).
pub fn error_page_with(status: StatusCode, detail: &str, errors: &[String]) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut list = String::new();
    if !errors.is_empty() {
        list.push_str("<ul>");
        for e in errors.iter().take(500) {
            list.push_str(&format!("<li>{}</li>", esc(e)));
        }
        list.push_str("</ul>");
    }
    let body = format!(
        "<h1>{}</h1><div class=\"warn\" role=\"alert\"><p>{}</p>{list}</div><p><a href=\"/staff/\">返回工作台 / Workspace</a> · <a href=\"/\">返回首页 / Home</a></p>",
        esc(&title),
        esc(detail)
    );
    html(status, simple_page(false, &title, &body))
}

/// Security headers on every response; a default locked-down policy where a handler set none.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: HeaderName, v: &'static str| {
        if !h.contains_key(&k) {
            h.insert(k, HeaderValue::from_static(v));
        }
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_lists_each_inline_block_by_hash() {
        let page = "<html><head><style>a{}</style></head><body><script>x()</script><script>x()</script></body></html>";
        let csp = csp_for(page);
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        // sha256("x()") in base64, computed independently with `printf 'x()' | openssl dgst -sha256 -binary | base64`.
        assert!(
            csp.contains("'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='"),
            "{csp}"
        );
    }

    #[test]
    fn meta_policy_is_replaced() {
        let p = "<head><meta http-equiv=\"Content-Security-Policy\" content=\"form-action 'none'\"><title>t</title></head><body>x</body>";
        let c = Chrome::default();
        let out = dress(p, &c);
        assert!(!out.contains("http-equiv"));
        assert!(out.contains("class=\"webbar\""));
    }
}
