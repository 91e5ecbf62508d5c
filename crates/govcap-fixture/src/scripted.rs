//! Portals that need a browser: a script-rendered portal and a JS-challenge WAF.
//!
//! Both are added by `FixtureConfig::scripted` after the other sites, under codes
//! [`Scripted::code`]; their truth is what the monitor finds *with* headless Chromium (a
//! crawler without one sees less, and the tests check that too).
//!
//! - `sx-spa`: the home page's HTML is an empty shell — `<div id="app"></div>`, a `<noscript>`
//!   asking for JavaScript and an inline script that builds the page. The script adds the
//!   device-width viewport meta, sets the title and writes the body of a normal portal home
//!   page (search form, columns, the ICP footer) into `#app`. Other paths are served as a
//!   normal site's (a crawler only reaches them through links the script writes).
//! - `sx-waf`: every path answers HTTP 412 with a script that computes a token, stores it in
//!   a cookie and reloads; a request carrying the cookie gets the real page (the normal
//!   home page). The cookie is only ever set by the page's script, so a client that does not
//!   run scripts stays challenged, and the monitor must report `waf_challenge`, not down.

use crate::render::{base, Body, Portals, Reply};
use crate::spec::{self, Charset, SearchKind, SiteSpec, Viewport};
use crate::truth::SiteTruth;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A site kind that needs a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// The page is built by an inline script from an empty shell.
    Spa,
    /// HTTP 412 JS challenge; the cookie its script sets unlocks the real page.
    JsChallenge,
}

impl Scripted {
    pub const ALL: [Scripted; 2] = [Scripted::Spa, Scripted::JsChallenge];

    pub fn code(self) -> &'static str {
        match self {
            Scripted::Spa => "sx-spa",
            Scripted::JsChallenge => "sx-waf",
        }
    }

    /// The `hostile` label of the truth (what a crawler without a browser runs into).
    pub fn key(self) -> &'static str {
        match self {
            Scripted::Spa => "script_rendered",
            Scripted::JsChallenge => "js_challenge",
        }
    }
}

/// Name of the cookie the challenge script sets.
pub const CHALLENGE_COOKIE: &str = "fx_clearance";

/// A scripted site at index `i`: a normal portal's content with the features the rendered
/// page must show fixed (viewport, a working search form, the ICP number), UTF-8.
pub fn scripted_site(seed: u64, i: usize, kind: Scripted) -> SiteSpec {
    let mut s = spec::normal_site(seed, i, kind.code().to_string());
    s.scripted = Some(kind);
    s.charset = Charset::Utf8;
    s.viewport = Viewport::All;
    s.search = SearchKind::Working;
    s.icp = true;
    s.broken_home.clear();
    s.broken_inner.clear();
    s
}

/// The two factors of the token the challenge script multiplies (per site, so a token is
/// not shared between sites).
fn challenge_factors(s: &SiteSpec) -> (u64, u64) {
    (7919 + s.index as u64, 104_729)
}

/// The cookie value that unlocks site `s`.
pub fn challenge_token(s: &SiteSpec) -> String {
    let (a, b) = challenge_factors(s);
    (a * b).to_string()
}

fn html_reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: vec![
            (
                "Content-Type".to_string(),
                "text/html; charset=utf-8".to_string(),
            ),
            ("Cache-Control".to_string(), "no-cache".to_string()),
        ],
        body: Body::Bytes(body.into_bytes()),
    }
}

/// The inner HTML of `<body>` of a page source.
fn body_inner(html: &str) -> &str {
    let start = html
        .find("<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = html[start..]
        .rfind("</body>")
        .map_or(html.len(), |j| start + j);
    &html[start..end]
}

/// A JSON string literal safe inside `<script>` (no `</`).
fn js_string(s: &str) -> String {
    serde_json::to_string(s)
        .expect("strings serialise")
        .replace("</", "<\\/")
}

/// The script-rendered home page: the shell a crawler sees.
pub fn spa_shell(portals: &Portals, s: &SiteSpec) -> Option<String> {
    let page = portals.render(s, "", "")?;
    let title = format!("{}人民政府门户网站", s.name);
    Some(format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title></title></head>\n\
         <body><div id=\"app\"></div>\n\
         <noscript>您的浏览器未启用JavaScript，请开启JavaScript后访问本网站。</noscript>\n\
         <script>(function(){{\
         var m=document.createElement('meta');m.name='viewport';m.content='width=device-width, initial-scale=1';\
         document.head.appendChild(m);document.title={t};\
         document.getElementById('app').innerHTML={b};}})();</script>\n</body></html>\n",
        t = js_string(&title),
        b = js_string(body_inner(&page.html)),
    ))
}

/// The 412 challenge page: only a script, no visible text.
pub fn challenge_page(s: &SiteSpec) -> String {
    let (a, b) = challenge_factors(s);
    format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\
         <script type=\"text/javascript\">(function(){{var a={a},b={b};\
         document.cookie='{CHALLENGE_COOKIE}='+(a*b)+'; path={p}';\
         setTimeout(function(){{location.reload();}},150);}})();</script></body></html>",
        p = base(&s.code),
    )
}

/// True when the `Cookie` header carries the site's clearance token.
fn cleared(s: &SiteSpec, cookie: &str) -> bool {
    let want = challenge_token(s);
    cookie.split(';').any(|c| {
        c.trim()
            .split_once('=')
            .is_some_and(|(k, v)| k.trim() == CHALLENGE_COOKIE && v.trim() == want)
    })
}

/// Answers a request for a scripted site; `None` when the path is not one (the caller then
/// answers as for any site). `cookie` is the request's `Cookie` header ("" when none).
pub fn respond(portals: &Portals, path: &str, _query: &str, cookie: &str) -> Option<Reply> {
    let rest = path.strip_prefix("/site/")?;
    let (code, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let s = portals.site(code)?;
    match (s.scripted?, rest) {
        (Scripted::Spa, "") => Some(html_reply(200, spa_shell(portals, s)?)),
        (Scripted::Spa, _) => None,
        (Scripted::JsChallenge, _) if cleared(s, cookie) => None,
        (Scripted::JsChallenge, _) => {
            let mut r = html_reply(412, challenge_page(s));
            r.headers.push(("Server".into(), "fx-waf".into()));
            Some(r)
        }
    }
}

/// What the monitor finds with a browser (see the module note).
pub fn truth(s: &SiteSpec, kind: Scripted, url: String) -> SiteTruth {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let mut details: BTreeMap<String, Value> = BTreeMap::new();
    match kind {
        Scripted::Spa => {
            values.insert("availability".into(), json!(1.0));
            values.insert("mobile".into(), json!(true));
            values.insert("search".into(), json!(true));
            values.insert("identity".into(), json!(true));
            details.insert("mobile".into(), json!({ "home_has_viewport": true }));
            details.insert("search".into(), json!({ "home_has_form": true }));
            details.insert(
                "identity".into(),
                json!({ "icp": crate::render::icp_number(s) }),
            );
        }
        Scripted::JsChallenge => {
            values.insert("availability".into(), Value::Null);
            details.insert(
                "availability".into(),
                json!({ "challenged": 1, "browser": { "confirmed": "up_behind_challenge" } }),
            );
        }
    }
    SiteTruth {
        code: s.code.clone(),
        url,
        hostile: Some(kind.key().to_string()),
        values,
        details,
        pages: 1,
        max_depth: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use std::time::Duration;

    fn portals() -> Portals {
        let sites = vec![
            scripted_site(1, 0, Scripted::Spa),
            scripted_site(1, 1, Scripted::JsChallenge),
        ];
        Portals::new(
            Date::parse("2026-11-27").unwrap(),
            sites,
            Duration::from_secs(1),
            1 << 20,
            1 << 20,
        )
    }

    fn text(r: &Reply) -> String {
        match &r.body {
            Body::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_spa_shell_has_no_content_until_its_script_runs() {
        let p = portals();
        let s = p.site("sx-spa").unwrap();
        let r = respond(&p, "/site/sx-spa/", "", "").unwrap();
        assert_eq!(r.status, 200);
        let html = text(&r);
        assert!(html.contains("<div id=\"app\"></div>"));
        assert!(html.contains("<noscript>"));
        // The features exist only inside the script's string literal.
        let outside_script = html.split("<script>").next().unwrap();
        assert!(!outside_script.contains("viewport"));
        assert!(!outside_script.contains("ICP"));
        assert!(html.contains("width=device-width"));
        assert!(html.contains(&crate::render::icp_number(s)));
        assert!(html.contains("searchform"));
        assert_eq!(
            html.matches("</script>").count(),
            1,
            "the body literal is escaped"
        );
        // Inner pages are a normal site's.
        assert!(respond(&p, "/site/sx-spa/about/", "", "").is_none());
    }

    #[test]
    fn the_challenge_yields_only_to_its_cookie() {
        let p = portals();
        let s = p.site("sx-waf").unwrap();
        let r = respond(&p, "/site/sx-waf/", "", "").unwrap();
        assert_eq!(r.status, 412);
        let html = text(&r);
        assert!(html.contains("location.reload()"));
        assert!(!r.headers.iter().any(|(k, _)| k == "Set-Cookie"));
        let bad = format!("{CHALLENGE_COOKIE}=1");
        assert_eq!(respond(&p, "/site/sx-waf/", "", &bad).unwrap().status, 412);
        let good = format!("a=b; {CHALLENGE_COOKIE}={}", challenge_token(s));
        assert!(respond(&p, "/site/sx-waf/", "", &good).is_none());
        let home = p.respond("/site/sx-waf/", "");
        assert_eq!(home.status, 200);
    }
}
