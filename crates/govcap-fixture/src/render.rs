//! Pages as Chinese government CMSs write them, rendered from a [`SiteSpec`].
//!
//! Rendering is synchronous and pure (no clock, no I/O), so the same pages serve the HTTP
//! server, offline tests ([`Portals::offline_crawl`]) and the truth: every link a page
//! writes is also recorded ([`Rendered::links`]), which is how the truth knows the link graph
//! without parsing HTML.

use crate::date::Date;
use crate::spec::{
    date_of, A11y, BoardLayout, Broken, Charset, ColumnKind, Feed, Field, GuideLayout, Hostile,
    Labels, MediaStyle, Platform, SearchKind, SiteSpec, Viewport,
};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

/// Label variants printed for the six guide fields (the spec picks one per field).
pub const GUIDE_LABELS: [[&str; 2]; 6] = [
    ["办理依据", "设定依据"],
    ["申请材料", "办理材料"],
    ["办理流程", "办理程序"],
    ["办理时限", "承诺时限"],
    ["收费标准", "是否收费"],
    ["咨询电话", "咨询方式"],
];
const GUIDE_VALUES: [&str; 6] = [
    "《中华人民共和国行政许可法》第二十九条",
    "1.申请表（原件1份）；2.居民身份证（原件）",
    "申请—受理—审查—决定—送达",
    "法定时限20个工作日，承诺时限5个工作日",
    "不收费",
    "0551-62345678",
];
const TOPICS: &[&str] = &[
    "安全生产",
    "营商环境优化",
    "乡村振兴",
    "河湖长制",
    "城市更新",
    "秋冬季森林防火",
    "人才引进",
    "就业创业",
    "老旧小区改造",
    "生态环境保护",
    "数字政府建设",
    "食品安全",
    "义务教育",
    "医疗保障",
    "消费帮扶",
    "防汛抗旱",
];

/// A one-pixel PNG for logos and QR codes.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A response body, including the hostile kinds the server must produce while sending.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Bytes(Vec<u8>),
    /// Wait, then send (headers included).
    Delayed(Duration, Vec<u8>),
    /// Headers at once, then `chunks` copies of `piece`, one every `every`.
    Drip {
        every: Duration,
        chunks: usize,
        piece: Vec<u8>,
    },
    /// `len` bytes of filler HTML generated while sending.
    Huge(u64),
    /// The gzip bomb (built once, shared).
    Bomb,
}

/// A response as the server will send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// A rendered page of a normal site.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub status: u16,
    pub content_type: String,
    /// The page source before encoding (for GBK sites the body is this, GBK-encoded).
    pub html: String,
    pub body: Vec<u8>,
    /// Every `<a href>` written, resolved: site paths (`/site/<code>/…`) or absolute URLs.
    pub links: Vec<String>,
    pub soft_404: bool,
    pub viewport: bool,
    /// A page at the site's root that is HTML (not an image or script).
    pub is_html: bool,
}

/// The simulated portals, and the knobs of the hostile ones.
#[derive(Debug, Clone)]
pub struct Portals {
    pub as_of: Date,
    pub sites: Vec<SiteSpec>,
    pub slow_delay: Duration,
    pub bomb_bytes: u64,
    pub huge_bytes: u64,
    by_code: HashMap<String, usize>,
}

/// The path prefix of a site.
pub fn base(code: &str) -> String {
    format!("/site/{code}/")
}

fn decode_query(q: &str) -> Vec<(String, String)> {
    fn unescape(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"),
                        16,
                    ) {
                        Ok(v) => {
                            out.push(v);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

/// The title of article `j` of column `k`: unique within a site, at least 10 characters,
/// free of feature words (no 投诉, 微博, 无障碍 …).
pub fn article_title(s: &SiteSpec, k: usize, j: usize) -> String {
    let topic = TOPICS[(k * 7 + j * 3 + s.index) % TOPICS.len()];
    let n = k * 10 + j + 1;
    match s.columns[k].kind {
        ColumnKind::Dynamic => format!("{}召开{topic}工作推进会（第{n}期）", s.name),
        ColumnKind::Notice => format!("关于做好{topic}工作的通知（第{n}号）"),
        ColumnKind::Other => format!("{}{topic}情况公开（第{n}期）", s.name),
    }
}

/// Numbers printed in the footer.
pub fn site_code_number(s: &SiteSpec) -> String {
    format!("{:010}", 1_100_000_000u64 + s.index as u64)
}

pub fn icp_number(s: &SiteSpec) -> String {
    format!(
        "{}ICP备{:08}号-1",
        s.province,
        10_000_000 + (s.index as u64 * 7919) % 89_999_999
    )
}

pub fn gongan_number(s: &SiteSpec) -> String {
    format!(
        "{}公网安备 {:014}号",
        s.province,
        11_010_000_000_000u64 + s.index as u64
    )
}

struct P<'a> {
    s: &'a SiteSpec,
    as_of: Date,
    base: String,
    html: String,
    links: Vec<String>,
}

impl<'a> P<'a> {
    fn new(s: &'a SiteSpec, as_of: Date) -> Self {
        P {
            s,
            as_of,
            base: base(&s.code),
            html: String::with_capacity(8 * 1024),
            links: Vec::new(),
        }
    }

    /// `<a href>` to a site path (relative to the site base) or an absolute URL.
    fn a(&mut self, target: &str, text: &str, attrs: &str) {
        let href = if target.starts_with("http") || target.starts_with("javascript") {
            target.to_string()
        } else {
            format!("{}{target}", self.base)
        };
        let _ = write!(self.html, "<a href=\"{href}\"{attrs}>{text}</a>");
        if !href.starts_with("javascript") {
            self.links.push(href);
        }
    }

    /// `<a href>` written relative to the page, recorded resolved.
    fn a_rel(&mut self, written: &str, resolved: &str, text: &str) {
        let _ = write!(
            self.html,
            "<a href=\"{written}\" target=\"_blank\" title=\"{text}\">{text}</a>"
        );
        self.links.push(format!("{}{resolved}", self.base));
    }

    fn date(&self, age: i64) -> String {
        date_of(self.as_of, age).styled(self.s.date_style)
    }

    /// Naming a form control the site's way ([`Labels`]): the `<label>` to write before it
    /// and the attributes to add to it. `has_id`: the control already carries `id`.
    fn label(&self, id: &str, text: &str, has_id: bool) -> (String, String) {
        match self.s.a11y_basics.labels {
            Labels::Aria => (String::new(), format!(" aria-label=\"{text}\"")),
            Labels::LabelFor => (
                format!("<label for=\"{id}\">{text}</label>"),
                if has_id {
                    String::new()
                } else {
                    format!(" id=\"{id}\"")
                },
            ),
            Labels::Missing => (String::new(), String::new()),
        }
    }

    /// ` alt="…"`, or nothing on a site whose images lack text alternatives.
    fn alt(&self, text: &str) -> String {
        if self.s.a11y_basics.alt {
            format!(" alt=\"{text}\"")
        } else {
            String::new()
        }
    }

    fn head(&mut self, title: &str, viewport: bool, metas: &[(&str, String)]) {
        let s = self.s;
        self.html.push_str(if s.a11y_basics.lang {
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n"
        } else {
            "<!DOCTYPE html>\n<html>\n<head>\n"
        });
        if s.a11y_basics.refresh {
            self.html
                .push_str("<meta http-equiv=\"refresh\" content=\"300\">\n");
        }
        match s.charset {
            Charset::Utf8 => self.html.push_str("<meta charset=\"utf-8\">\n"),
            Charset::GbkMeta => self.html.push_str(
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\n",
            ),
            Charset::GbkBare => {}
        }
        if viewport {
            self.html.push_str(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0, maximum-scale=1.0\">\n",
            );
        }
        let _ = writeln!(
            self.html,
            "<meta name=\"SiteName\" content=\"{}人民政府\">",
            s.name
        );
        if s.meta_site_id {
            let _ = writeln!(
                self.html,
                "<meta name=\"SiteIDCode\" content=\"{}\">",
                site_code_number(s)
            );
        }
        for (k, v) in metas {
            let _ = writeln!(self.html, "<meta name=\"{k}\" content=\"{v}\">");
        }
        let _ = writeln!(self.html, "<title>{title}</title>");
        self.html
            .push_str("<link rel=\"stylesheet\" href=\"/static/css/common.css\">\n");
        match s.a11y {
            Some(A11y::Script) => {
                let _ = writeln!(
                    self.html,
                    "<script src=\"{}wza/wza.js\"></script>",
                    self.base
                );
            }
            Some(A11y::AriaScript) => {
                let _ = writeln!(
                    self.html,
                    "<script src=\"{}aria/aria.js?appid=a{}\" id=\"ariascripts\" charset=\"utf-8\"></script>",
                    self.base, s.index
                );
            }
            _ => {}
        }
        self.html.push_str("</head>\n<body>\n");
    }

    fn header(&mut self) {
        let s = self.s;
        self.html.push_str("<div class=\"topbar\">");
        if s.today_banner {
            let d = self.as_of;
            let _ = write!(
                self.html,
                "<span class=\"today\">今天是{}年{}月{}日</span>",
                d.year, d.month, d.day
            );
        }
        if s.a11y == Some(A11y::Text) {
            self.a("javascript:void(0)", "无障碍浏览", " id=\"wzaBtn\"");
        }
        if let Some(e) = s.elderly {
            self.a("javascript:void(0)", e, " class=\"care\"");
        }
        if let Some(q) = &s.qa {
            let q = q.clone();
            self.a("znwd/", &q, " target=\"_blank\"");
        }
        self.html
            .push_str("</div>\n<div class=\"header\"><div class=\"logo\">");
        // Without image alts the logo link keeps a title, so only `img_alt` fails.
        let _ = write!(
            self.html,
            "<a href=\"{b}\"{t}><img src=\"{b}images/logo.png\"{alt}></a>",
            b = self.base,
            t = if s.a11y_basics.alt {
                ""
            } else {
                " title=\"返回首页\""
            },
            alt = self.alt(&format!("{}人民政府", s.name)),
        );
        self.links.push(self.base.clone());
        self.html.push_str("</div>");
        match s.search {
            SearchKind::Working | SearchKind::Broken => {
                let (label, attrs) = self.label("fx-kw", "关键字", false);
                let _ = write!(
                    self.html,
                    "<div class=\"search\"><form name=\"searchform\" action=\"{b}search\" method=\"get\" target=\"_blank\" accept-charset=\"utf-8\">\
                     <input type=\"hidden\" name=\"siteid\" value=\"{c}\">{label}<input type=\"text\" name=\"{p}\"{attrs} placeholder=\"请输入关键字\">\
                     <input type=\"submit\" value=\"搜索\"></form></div>",
                    b = self.base,
                    c = s.code,
                    p = s.search_param
                );
            }
            SearchKind::ScriptBox => {
                let (label, attrs) = self.label("searchKey", "关键字", true);
                let _ = write!(
                    self.html,
                    "<div class=\"search\">{label}<input type=\"text\" id=\"searchKey\"{attrs} placeholder=\"请输入搜索内容\">\
                     <button type=\"button\" onclick=\"doSearch()\">搜索</button></div>",
                );
            }
            SearchKind::None => {}
        }
        self.html.push_str("</div>\n<div class=\"nav\"><ul><li>");
        self.a("", "首页", "");
        for (k, c) in s.columns.iter().enumerate() {
            self.html.push_str("</li><li>");
            self.a(&format!("col/{k}/"), c.name, "");
        }
        if !s.guides.is_empty() {
            self.html.push_str("</li><li>");
            self.a("guide/", "办事指南", "");
        }
        self.html
            .push_str("</li><li class=\"hd\"><span>互动交流</span>");
        let board = s.board.is_some();
        if s.channels[0] {
            self.a(
                if board { "board/" } else { "hudong/mail.html" },
                "领导信箱",
                "",
            );
        }
        if s.channels[1] {
            self.a(
                if board && !s.channels[0] {
                    "board/"
                } else {
                    "hudong/ly.html"
                },
                "在线留言",
                "",
            );
        }
        if s.channels[2] {
            self.a(
                "http://www.12345.gov.cn/",
                "12345热线",
                " target=\"_blank\"",
            );
        }
        if s.channels[3] {
            self.a("hudong/ts.html", "我要投诉", "");
        }
        self.html.push_str("</li></ul></div>\n");
    }

    fn footer(&mut self) {
        let s = self.s;
        self.html.push_str("<div class=\"footer\"><p>");
        self.a("about/", "关于本网", "");
        self.html.push_str(" | ");
        self.a("admin/", "网站管理", "");
        self.html.push_str(" | ");
        self.a("https://www.gov.cn/", "中国政府网", " target=\"_blank\"");
        let _ = write!(
            self.html,
            "</p><p>主办：{n}人民政府办公室　承办：{n}大数据中心</p><p>",
            n = s.name
        );
        if s.site_code {
            let _ = write!(
                self.html,
                "<span>网站标识码：{}</span>　",
                site_code_number(s)
            );
        }
        if s.icp {
            self.a(
                "https://beian.miit.gov.cn/",
                &icp_number(s),
                " target=\"_blank\"",
            );
            self.html.push('　');
        }
        if s.gongan {
            let _ = write!(
                self.html,
                "<img src=\"{}images/ga.png\"{}>",
                self.base,
                self.alt("")
            );
            self.a(
                "http://www.beian.gov.cn/portal/registerSystemInfo",
                &gongan_number(s),
                " target=\"_blank\"",
            );
        }
        self.html.push_str("</p></div>\n</body>\n</html>\n");
    }

    fn list(&mut self, k: usize, n: usize, relative: bool) {
        let s = self.s;
        let col = &s.columns[k];
        if col.ages.is_empty() {
            self.html
                .push_str("<ul class=\"list\"><li class=\"empty\">暂无信息</li></ul>");
            return;
        }
        let table = s.list_table;
        self.html.push_str(if table {
            "<table class=\"list\">"
        } else {
            "<ul class=\"list\">"
        });
        for (j, age) in col.ages.iter().enumerate().take(n) {
            let title = article_title(s, k, j);
            let date = self.date(*age);
            self.html.push_str(if table { "<tr><td>" } else { "<li>" });
            let path = format!("art/{k}/{j}.html");
            if relative {
                self.a_rel(&format!("../../{path}"), &path, &title);
            } else {
                self.a(
                    &path,
                    &title,
                    &format!(" target=\"_blank\" title=\"{title}\""),
                );
            }
            if table {
                let _ = write!(self.html, "</td><td class=\"date\">{date}</td></tr>");
            } else {
                let _ = write!(self.html, "<span class=\"date\">{date}</span></li>");
            }
        }
        self.html.push_str(if table { "</table>" } else { "</ul>" });
    }

    fn broken_links(&mut self, list: &[Broken], tag: &str, label: &str) {
        for (n, b) in list.iter().enumerate() {
            let path = match b {
                Broken::NotFound => format!("old/{tag}{n}.html"),
                Broken::Soft404 => format!("gone/{tag}{n}.html"),
            };
            self.html.push_str("<li>");
            self.a(&path, &format!("{label}{}", n + 1), "");
            self.html.push_str("</li>");
        }
    }
}

impl Portals {
    pub fn new(
        as_of: Date,
        sites: Vec<SiteSpec>,
        slow_delay: Duration,
        bomb_bytes: u64,
        huge_bytes: u64,
    ) -> Self {
        let by_code = sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i))
            .collect();
        Portals {
            as_of,
            sites,
            slow_delay,
            bomb_bytes,
            huge_bytes,
            by_code,
        }
    }

    pub fn site(&self, code: &str) -> Option<&SiteSpec> {
        self.by_code.get(code).map(|&i| &self.sites[i])
    }

    /// `robots.txt`: every site's `admin/` is off limits; no crawl delay.
    pub fn robots(&self) -> String {
        let mut out = String::from("# govcap fixture\nUser-agent: *\n");
        for s in &self.sites {
            let _ = writeln!(out, "Disallow: {}admin/", base(&s.code));
        }
        out
    }

    /// Answers a request for `path` (no query) with `query` (without `?`).
    pub fn respond(&self, path: &str, query: &str) -> Reply {
        if path == "/robots.txt" {
            return plain(200, "text/plain; charset=utf-8", self.robots().into_bytes());
        }
        if path == "/" {
            return plain(200, "text/html; charset=utf-8", b"<html><head><title>govcap fixture</title></head><body>govcap fixture</body></html>".to_vec());
        }
        let Some(rest) = path.strip_prefix("/site/") else {
            return not_found();
        };
        let (code, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(s) = self.site(code) else {
            return not_found();
        };
        if let Some(h) = s.hostile {
            if let Some(r) = self.hostile(s, h, rest) {
                return r;
            }
        }
        match self.render(s, rest, query) {
            Some(r) => {
                let mut headers = vec![("Content-Type".to_string(), r.content_type.clone())];
                if r.status == 200 && r.is_html {
                    headers.push(("Cache-Control".into(), "no-cache".into()));
                }
                Reply {
                    status: r.status,
                    headers,
                    body: Body::Bytes(r.body),
                }
            }
            None => not_found(),
        }
    }

    fn hostile(&self, s: &SiteSpec, h: Hostile, rest: &str) -> Option<Reply> {
        let b = base(&s.code);
        let redirect = |to: String| Reply {
            status: 302,
            headers: vec![
                ("Location".into(), to),
                ("Content-Type".into(), "text/html".into()),
            ],
            body: Body::Bytes(b"<html><body>moved</body></html>".to_vec()),
        };
        let html = |body: Body| Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body,
        };
        Some(match (h, rest) {
            (Hostile::Slow, "") => {
                let page = self.render(s, "", "")?;
                html(Body::Delayed(self.slow_delay, page.body))
            }
            (Hostile::Drip, "") => {
                let chunks = 40;
                html(Body::Drip {
                    every: self.slow_delay / chunks as u32,
                    chunks,
                    piece: b"<!-- loading, please wait ............................................. -->\n".to_vec(),
                })
            }
            (Hostile::RedirectLoop, "") => redirect(format!("{b}a")),
            (Hostile::RedirectLoop, "a") => redirect(format!("{b}b")),
            (Hostile::RedirectLoop, "b") => redirect(b.clone()),
            (Hostile::Waf, _) => Reply {
                status: 412,
                headers: vec![
                    ("Content-Type".into(), "text/html".into()),
                    ("Server".into(), "wzws".into()),
                    (
                        "Set-Cookie".into(),
                        format!("wzws_cid=fx{:016x}; path=/; HttpOnly", s.index as u64 * 0x9E37_79B9),
                    ),
                ],
                body: Body::Bytes(
                    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\
                     <script type=\"text/javascript\">var _0x2f1a=['\\x63\\x6f\\x6f\\x6b\\x69\\x65','wzwstemplate','wzwschallenge'];\
                     (function(){var c=_0x2f1a[0];document[c]='wzwstemplate=KJHGF; path=/';setTimeout(function(){location.reload();},120);})();\
                     </script></body></html>"
                        .as_bytes()
                        .to_vec(),
                ),
            },
            (Hostile::GzipBomb, "") => Reply {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "text/html; charset=utf-8".into()),
                    ("Content-Encoding".into(), "gzip".into()),
                ],
                body: Body::Bomb,
            },
            (Hostile::Huge, "") => html(Body::Huge(self.huge_bytes)),
            (Hostile::Calendar, r) if r.starts_with("calendar/") => {
                let mut it = r["calendar/".len()..].trim_end_matches('/').split('/');
                let y: i32 = it.next()?.parse().ok()?;
                let m: i32 = it.next()?.parse().ok()?;
                if !(1..=12).contains(&m) {
                    return Some(not_found());
                }
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
                let mut p = P::new(s, self.as_of);
                p.head(&format!("办事日历 {y}年{m}月"), false, &[]);
                let _ = write!(p.html, "<h1>{y}年{m}月</h1><p>");
                p.a(&format!("calendar/{py}/{pm}"), "上个月", "");
                p.html.push_str(" | ");
                p.a(&format!("calendar/{ny}/{nm}"), "下个月", "");
                p.html.push_str("</p></body></html>");
                html(Body::Bytes(p.html.into_bytes()))
            }
            _ => return None,
        })
    }

    /// Renders a page of a site (`rest` is the path after `/site/<code>/`), or `None` for a
    /// path the site does not have.
    pub fn render(&self, s: &SiteSpec, rest: &str, query: &str) -> Option<Rendered> {
        let vp_all = s.viewport == Viewport::All;
        let mut status = 200;
        let mut soft_404 = false;
        let mut viewport = vp_all;
        let mut p = P::new(s, self.as_of);
        let site_title = format!("{}人民政府门户网站", s.name);
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            [""] => {
                viewport = s.viewport != Viewport::None;
                p.head(&site_title, viewport, &[]);
                p.header();
                self.home_main(&mut p);
                p.footer();
            }
            ["col", k] => {
                let k: usize = k.parse().ok()?;
                let c = s.columns.get(k)?;
                p.head(
                    &format!("{} - {site_title}", c.name),
                    viewport,
                    &[("ColumnName", c.name.to_string())],
                );
                p.header();
                p.html.push_str("<div class=\"crumb\">当前位置：");
                p.a("", "首页", "");
                let _ = write!(
                    p.html,
                    " &gt; {}</div><div class=\"main\"><h2>{}</h2>",
                    c.name, c.name
                );
                p.list(k, usize::MAX, true);
                if k == 0 && !s.broken_inner.is_empty() {
                    p.html.push_str("<div class=\"side\"><h3>相关专题</h3><ul>");
                    let inner = s.broken_inner.clone();
                    p.broken_links(&inner, "i", "往期专题");
                    p.html.push_str("</ul></div>");
                }
                p.html.push_str("</div>");
                p.footer();
            }
            ["art", k, j] => {
                let k: usize = k.parse().ok()?;
                let j: usize = j.strip_suffix(".html")?.parse().ok()?;
                let c = s.columns.get(k)?;
                let age = *c.ages.get(j)?;
                let title = article_title(s, k, j);
                let d = date_of(self.as_of, age);
                p.head(
                    &format!("{title} - {site_title}"),
                    viewport,
                    &[
                        ("ArticleTitle", title.clone()),
                        ("PubDate", format!("{d} 09:30")),
                        ("ColumnName", c.name.to_string()),
                    ],
                );
                p.header();
                let _ = write!(
                    p.html,
                    "<div class=\"article\"><h1>{title}</h1><div class=\"info\">发布时间：{d} 来源：{}人民政府办公室</div>\
                     <div class=\"content\"><p>为深入贯彻落实有关工作部署，现将有关事项安排如下。</p><p>各单位要高度重视，认真组织实施。</p></div><p>",
                    s.name
                );
                p.a(&format!("col/{k}/"), "返回列表", "");
                p.html.push_str("</p></div>");
                p.footer();
            }
            ["board"] => {
                let b = s.board.as_ref()?;
                p.head(&format!("领导信箱 - {site_title}"), viewport, &[]);
                p.header();
                p.html.push_str("<div class=\"main\"><h2>领导信箱</h2>");
                match b.layout {
                    BoardLayout::Table => {
                        p.html.push_str(
                            "<table class=\"xxlist\"><tr><th>信件标题</th><th>提交时间</th><th>回复时间</th><th>状态</th></tr>",
                        );
                        for (i, m) in b.msgs.iter().enumerate() {
                            let sub = date_of(self.as_of, m.age);
                            p.html.push_str("<tr><td>");
                            p.a(
                                &format!("board/msg/{i}.html"),
                                &m.title,
                                " target=\"_blank\"",
                            );
                            let (reply, status) = match m.reply_delay {
                                Some(d) => (sub.add_days(d).to_string(), "已回复"),
                                None => (String::new(), "办理中"),
                            };
                            let _ = write!(p.html, "</td><td>{sub} 10:{:02}</td><td>{reply}</td><td>{status}</td></tr>", i % 60);
                        }
                        p.html.push_str("</table>");
                    }
                    BoardLayout::List => {
                        p.html.push_str("<ul class=\"xxlist\">");
                        for (i, m) in b.msgs.iter().enumerate() {
                            let sub = date_of(self.as_of, m.age);
                            p.html.push_str("<li><div class=\"t\">");
                            p.a(
                                &format!("board/msg/{i}.html"),
                                &m.title,
                                " target=\"_blank\"",
                            );
                            let _ = write!(
                                p.html,
                                "</div><div class=\"i\"><span>留言时间：{sub}</span>"
                            );
                            match m.reply_delay {
                                Some(d) => {
                                    let _ = write!(
                                        p.html,
                                        "<span>回复时间：{}</span><span class=\"st\">已回复</span>",
                                        sub.add_days(d)
                                    );
                                }
                                None => p.html.push_str("<span class=\"st\">状态：办理中</span>"),
                            }
                            p.html.push_str("</div></li>");
                        }
                        p.html.push_str("</ul>");
                    }
                }
                p.html.push_str("</div>");
                p.footer();
            }
            ["board", "msg", i] => {
                let b = s.board.as_ref()?;
                let i: usize = i.strip_suffix(".html")?.parse().ok()?;
                let m = b.msgs.get(i)?;
                let sub = date_of(self.as_of, m.age);
                p.head(&format!("{} - 领导信箱", m.title), viewport, &[]);
                p.header();
                let _ = write!(
                    p.html,
                    "<div class=\"main\"><h1>{t}</h1><table class=\"detail\"><tr><th>来信标题</th><td>{t}</td></tr>\
                     <tr><th>提交时间</th><td>{sub}</td></tr>",
                    t = m.title
                );
                match m.reply_delay {
                    Some(d) => {
                        let _ = write!(
                            p.html,
                            "<tr><th>回复时间</th><td>{}</td></tr><tr><th>回复内容</th><td>您好，来信收悉，已转交相关部门办理。</td></tr>",
                            sub.add_days(d)
                        );
                    }
                    None => p.html.push_str("<tr><th>办理状态</th><td>办理中</td></tr>"),
                }
                p.html.push_str("</table><p>");
                p.a("board/", "返回列表", "");
                p.html.push_str("</p></div>");
                p.footer();
            }
            ["guide"] => {
                if s.guides.is_empty() {
                    return None;
                }
                p.head(&format!("办事指南 - {site_title}"), viewport, &[]);
                p.header();
                p.html.push_str("<div class=\"main\"><h2>办事指南</h2><ul>");
                for (g, guide) in s.guides.iter().enumerate() {
                    p.html.push_str("<li>");
                    p.a(
                        &format!("guide/{g}.html"),
                        &format!("{}办事指南", guide.item),
                        "",
                    );
                    p.html.push_str("</li>");
                }
                p.html.push_str("</ul></div>");
                p.footer();
            }
            ["guide", g] => {
                let g: usize = g.strip_suffix(".html")?.parse().ok()?;
                let guide = s.guides.get(g)?;
                p.head(
                    &format!("{}办事指南 - {site_title}", guide.item),
                    viewport,
                    &[],
                );
                p.header();
                let _ = write!(
                    p.html,
                    "<div class=\"main\"><h1>{}办事指南</h1>",
                    guide.item
                );
                let rows: Vec<(&str, &str)> = guide
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| **f != Field::Omitted)
                    .map(|(i, f)| {
                        (
                            GUIDE_LABELS[i][guide.alias[i]],
                            if *f == Field::Present {
                                GUIDE_VALUES[i]
                            } else {
                                ""
                            },
                        )
                    })
                    .collect();
                match guide.layout {
                    GuideLayout::Table => {
                        let _ = write!(
                            p.html,
                            "<table class=\"bszn\"><tr><th>事项名称</th><td>{}</td></tr>",
                            guide.item
                        );
                        for (l, v) in rows {
                            let _ = write!(p.html, "<tr><th>{l}</th><td>{v}</td></tr>");
                        }
                        p.html.push_str("</table>");
                    }
                    GuideLayout::Para => {
                        let _ = write!(
                            p.html,
                            "<div class=\"bszn\"><p><strong>事项名称：</strong>{}</p>",
                            guide.item
                        );
                        for (l, v) in rows {
                            let _ = write!(p.html, "<p><strong>{l}：</strong>{v}</p>");
                        }
                        p.html.push_str("</div>");
                    }
                    GuideLayout::Dl => {
                        let _ = write!(
                            p.html,
                            "<dl class=\"bszn\"><dt>事项名称</dt><dd>{}</dd>",
                            guide.item
                        );
                        for (l, v) in rows {
                            let _ = write!(p.html, "<dt>{l}</dt><dd>{v}</dd>");
                        }
                        p.html.push_str("</dl>");
                    }
                }
                p.html.push_str("<p>");
                p.a("guide/", "返回办事指南", "");
                p.html.push_str("</p></div>");
                p.footer();
            }
            ["search"] if matches!(s.search, SearchKind::Working | SearchKind::Broken) => {
                let q = decode_query(query)
                    .into_iter()
                    .find(|(k, _)| k == s.search_param)
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                p.head(&format!("搜索结果 - {site_title}"), viewport, &[]);
                p.header();
                let _ = write!(
                    p.html,
                    "<div class=\"main\"><h2>搜索结果</h2><p>关键词：{q}</p>"
                );
                let mut hits: Vec<(i64, usize, usize)> = Vec::new();
                if s.search == SearchKind::Working && !q.is_empty() {
                    for (k, c) in s.columns.iter().enumerate() {
                        for (j, age) in c.ages.iter().enumerate() {
                            if article_title(s, k, j).contains(&q) {
                                hits.push((*age, k, j));
                            }
                        }
                    }
                }
                hits.sort();
                if hits.is_empty() {
                    p.html.push_str("<p class=\"none\">暂无相关结果</p>");
                } else {
                    p.html.push_str("<ul class=\"results\">");
                    for (age, k, j) in hits {
                        p.html.push_str("<li>");
                        p.a(
                            &format!("art/{k}/{j}.html"),
                            &article_title(s, k, j),
                            " target=\"_blank\"",
                        );
                        let _ = write!(p.html, "<span>{}</span></li>", date_of(self.as_of, age));
                    }
                    p.html.push_str("</ul>");
                }
                p.html.push_str("</div>");
                p.footer();
            }
            ["hudong", page] => {
                let title = match *page {
                    "mail.html" if s.channels[0] => "领导信箱",
                    "ly.html" if s.channels[1] => "在线留言",
                    "ts.html" if s.channels[3] => "我要投诉",
                    _ => return None,
                };
                p.head(&format!("{title} - {site_title}"), viewport, &[]);
                p.header();
                let (l1, a1) = p.label("fx-name", "姓名", false);
                let (l2, a2) = p.label("fx-phone", "手机号码", false);
                let (l3, a3) = p.label("fx-body", "正文", false);
                let _ = write!(
                    p.html,
                    "<div class=\"main\"><h2>{title}</h2><p>写信须知：请如实填写以下信息。</p>\
                     <form action=\"{}hudong/submit\" method=\"post\">{l1}<input type=\"text\" name=\"name\"{a1} placeholder=\"姓名\">\
                     {l2}<input type=\"text\" name=\"phone\"{a2} placeholder=\"联系方式\">{l3}<textarea name=\"content\"{a3}></textarea>\
                     <input type=\"submit\" value=\"提交\"></form></div>",
                    p.base
                );
                p.footer();
            }
            ["znwd"] if s.qa.is_some() => {
                p.head(&format!("智能问答 - {site_title}"), viewport, &[]);
                p.header();
                let (label, attrs) = p.label("ask", "问题", true);
                let _ = write!(p.html, "<div class=\"main\"><h2>您好，请问有什么可以帮您？</h2>{label}<input type=\"text\" id=\"ask\"{attrs} placeholder=\"请输入您的问题\"></div>");
                p.footer();
            }
            ["about"] => {
                p.head(&format!("关于本网 - {site_title}"), viewport, &[]);
                p.header();
                let _ = write!(p.html, "<div class=\"main\"><h2>关于本网</h2><p>{}人民政府门户网站是{}人民政府在互联网上发布政务信息和提供在线服务的综合平台。</p></div>", s.name, s.name);
                p.footer();
            }
            ["admin"] => {
                p.head("后台管理", false, &[]);
                p.html.push_str("<form method=\"post\"><input type=\"password\" name=\"pw\"></form></body></html>");
            }
            ["gone", _] => {
                soft_404 = true;
                p.head("提示信息", viewport, &[]);
                p.html.push_str(
                    "<div class=\"err\"><p>对不起，您访问的页面不存在或已被删除！</p><p>",
                );
                p.a("", "返回首页", "");
                p.html.push_str("</p></div></body></html>");
            }
            ["old", _] => {
                status = 404;
                viewport = false;
                p.html.push_str("<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>");
            }
            ["images", f] if f.ends_with(".png") => {
                return Some(Rendered {
                    status: 200,
                    content_type: "image/png".into(),
                    html: String::new(),
                    body: PNG.to_vec(),
                    links: vec![],
                    soft_404: false,
                    viewport: false,
                    is_html: false,
                })
            }
            ["wza", "wza.js"] | ["aria", "aria.js"] => {
                return Some(Rendered {
                    status: 200,
                    content_type: "application/javascript".into(),
                    html: String::new(),
                    body: b"(function(){window.toolbar={on:function(){}};})();\n".to_vec(),
                    links: vec![],
                    soft_404: false,
                    viewport: false,
                    is_html: false,
                })
            }
            ["calendar", ..] => return None,
            _ => return None,
        }
        if s.hostile == Some(Hostile::Calendar) && rest.is_empty() {
            // The trap: one link into a calendar that never ends.
            let marker = "</body>";
            if let Some(i) = p.html.rfind(marker) {
                let link = format!(
                    "<p><a href=\"{}calendar/{}/{}\">办事日历</a></p>",
                    p.base, self.as_of.year, self.as_of.month
                );
                p.html.insert_str(i, &link);
                p.links.push(format!(
                    "{}calendar/{}/{}",
                    p.base, self.as_of.year, self.as_of.month
                ));
            }
        }
        if rest.is_empty()
            && crate::robust::Robust::of(s) == Some(crate::robust::Robust::CrossHostRedirect)
        {
            // A page on this host that redirects to the other host (see `robust`).
            if let Some(i) = p.html.rfind("</body>") {
                let href = format!("{}{}", p.base, crate::robust::JUMP);
                p.html
                    .insert_str(i, &format!("<p><a href=\"{href}\">政务服务</a></p>"));
                p.links.push(href);
            }
        }
        let (body, content_type) = match s.charset {
            Charset::Utf8 => (p.html.as_bytes().to_vec(), "text/html; charset=utf-8"),
            Charset::GbkMeta | Charset::GbkBare => {
                let (bytes, _, _) = encoding_rs::GBK.encode(&p.html);
                (bytes.into_owned(), "text/html")
            }
        };
        Some(Rendered {
            status,
            content_type: content_type.into(),
            html: p.html,
            body,
            links: p.links,
            soft_404,
            viewport,
            is_html: true,
        })
    }

    fn home_main(&self, p: &mut P) {
        let s = p.s;
        p.html.push_str("<div class=\"main\">");
        for (k, c) in s.columns.iter().enumerate() {
            p.html.push_str("<div class=\"block\"><div class=\"hd\">");
            p.a(&format!("col/{k}/"), c.name, "");
            p.a(&format!("col/{k}/"), "更多&gt;&gt;", " class=\"more\"");
            p.html.push_str("</div>");
            p.list(k, 3, false);
            p.html.push_str("</div>");
        }
        p.html.push_str("</div>\n");
        if !s.media.is_empty() {
            p.html.push_str("<div class=\"xmt\"><h3>政务新媒体</h3>");
            for (platform, style) in &s.media {
                let id = 100_000 + s.index;
                match (platform, style) {
                    (Platform::Weibo, MediaStyle::Link) => p.a(
                        &format!("https://weibo.com/u/{id}"),
                        "政务微博",
                        " target=\"_blank\"",
                    ),
                    (Platform::Weibo, MediaStyle::Qr) => qr(p, "wb", "官方微博"),
                    (Platform::Wechat, MediaStyle::Link) => p.a(
                        &format!(
                            "https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzA{id}"
                        ),
                        "微信公众号",
                        " target=\"_blank\"",
                    ),
                    (Platform::Wechat, MediaStyle::Qr) => qr(p, "wx", "政务微信"),
                    (Platform::Douyin, _) => p.a(
                        &format!("https://www.douyin.com/user/MS4w{id}"),
                        "抖音号",
                        " target=\"_blank\"",
                    ),
                    (Platform::App, MediaStyle::Link) => {
                        let name = format!("{}APP", s.name);
                        p.a(
                            &format!("https://apps.apple.com/cn/app/id{id}"),
                            &name,
                            " target=\"_blank\"",
                        )
                    }
                    (Platform::App, MediaStyle::Qr) => {
                        let cap = format!("{}客户端", s.name);
                        qr(p, "app", &cap)
                    }
                    (Platform::MiniProgram, _) => qr(p, "xcx", "微信小程序"),
                }
            }
            p.html.push_str("</div>\n");
        }
        for f in &s.feeds {
            feed(p, f);
        }
        if !s.broken_home.is_empty() {
            p.html.push_str("<div class=\"zt\"><h3>专题专栏</h3><ul>");
            let list = s.broken_home.clone();
            p.broken_links(&list, "h", "专题");
            p.html.push_str("</ul></div>\n");
        }
    }
}

fn qr(p: &mut P, img: &str, caption: &str) {
    let _ = write!(
        p.html,
        "<div class=\"qr\"><img src=\"{}images/{img}.png\"{}><p>{caption}</p></div>",
        p.base,
        p.alt("")
    );
}

/// The title of post `j` of a feed: at least 17 characters (never a menu entry), free of
/// feature words.
pub fn feed_title(s: &SiteSpec, f: &Feed, j: usize) -> String {
    let topic = TOPICS[(j * 5 + s.index + f.heading.len()) % TOPICS.len()];
    format!("【{topic}】{}这样推进{topic}工作（{}）", s.name, j + 1)
}

/// A 政务微博 / 政务微信 column: a heading bar with a 更多 link to the account, then the
/// latest posts with their dates. Weibo posts link through t.cn short links (only the
/// heading ties them to Weibo), WeChat posts to mp.weixin.qq.com articles.
fn feed(p: &mut P, f: &Feed) {
    let s = p.s;
    let id = 100_000 + s.index;
    let _ = write!(
        p.html,
        "<div class=\"xmt-feed\"><div class=\"hd\"><h3>{}</h3>",
        f.heading
    );
    let more = match f.platform {
        Platform::Weibo => format!("https://weibo.com/u/{id}"),
        _ => format!("https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzA{id}"),
    };
    p.a(&more, "更多&gt;&gt;", " class=\"more\" target=\"_blank\"");
    p.html.push_str("</div><ul class=\"list\">");
    for (j, age) in f.ages.iter().enumerate() {
        let href = match f.platform {
            Platform::Weibo => format!("http://t.cn/A6fx{}p{j}", s.index),
            _ => format!("https://mp.weixin.qq.com/s/fx{}w{j}", s.index),
        };
        let date = if f.dated {
            p.date(*age)
        } else {
            let d = date_of(p.as_of, *age);
            format!("{:02}-{:02}", d.month, d.day)
        };
        p.html.push_str("<li>");
        p.a(&href, &feed_title(s, f, j), " target=\"_blank\"");
        let _ = write!(p.html, "<span class=\"date\">{date}</span></li>");
    }
    p.html.push_str("</ul></div>\n");
}

fn plain(status: u16, ct: &str, body: Vec<u8>) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), ct.into())],
        body: Body::Bytes(body),
    }
}

fn not_found() -> Reply {
    plain(
        404,
        "text/html; charset=utf-8",
        b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>".to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        assert_eq!(
            decode_query("siteid=a1&q=%E9%9D%92%E5%B7%9D+x&bad=%zz"),
            vec![
                ("siteid".to_string(), "a1".to_string()),
                ("q".to_string(), "青川 x".to_string()),
                ("bad".to_string(), "%zz".to_string())
            ]
        );
    }
}
