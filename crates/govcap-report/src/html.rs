//! The tiny HTML writer: escaping, the page shell (inline CSS and script, the synthetic
//! banner, navigation) and links that work both between files and inside the one-page book.
//!
//! Why no template engine: the pages are a handful of loops over numbers; `write!` into a
//! `String` is as readable here, escapes explicitly, and keeps the dependency list short.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where links point: separate files (with the page's depth below the report root), or
/// anchors inside `book.html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A page of the multi-file report; `depth` is 0 for the root, 1 for `units/`.
    Site { depth: usize },
    /// The single-page book printed to PDF.
    Book,
}

impl Links {
    fn root(self) -> &'static str {
        match self {
            Links::Site { depth: 0 } => "",
            Links::Site { .. } => "../",
            Links::Book => "",
        }
    }

    pub fn index(self) -> String {
        match self {
            Links::Book => "#summary".into(),
            _ => format!("{}index.html", self.root()),
        }
    }

    pub fn ranking(self) -> String {
        match self {
            Links::Book => "#ranking".into(),
            _ => format!("{}ranking.html", self.root()),
        }
    }

    pub fn method(self) -> String {
        match self {
            Links::Book => "#method".into(),
            _ => format!("{}method.html", self.root()),
        }
    }

    /// The uncertainty chapter (present only when the run has an audit). Its book anchor does
    /// not start with `u`, which the unit anchors (`u<code>`) own.
    pub fn uncertainty(self) -> String {
        match self {
            Links::Book => "#rank-uncertainty".into(),
            _ => format!("{}uncertainty.html", self.root()),
        }
    }

    pub fn unit(self, code: &str) -> String {
        match self {
            Links::Book => format!("#u{}", esc(code)),
            _ => format!("{}units/{}.html", self.root(), esc(code)),
        }
    }
}

/// What every page shares.
pub struct Shell<'a> {
    pub lang_attr: &'a str,
    pub title: &'a str,
    pub report_title: &'a str,
    pub nav: Vec<(&'a str, String)>,
    /// Which of `nav` is this page (highlighted), if any.
    pub current: Option<usize>,
    /// The banner text when the data are synthetic.
    pub synthetic: Option<&'a str>,
    pub footer: &'a str,
}

/// The Content-Security-Policy of every page: nothing may be fetched, only the inline style
/// and script run. A browser thus enforces "self-contained" even if a future change slips.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Wraps `body` into a complete page.
pub fn page(shell: &Shell, body: &str, script: &str) -> String {
    let mut out = String::with_capacity(body.len() + CSS.len() + 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    out.push_str(shell.lang_attr);
    out.push_str("\" class=\"nojs\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    out.push_str(CSP);
    out.push_str("\"><meta name=\"generator\" content=\"govcap\"><title>");
    out.push_str(&esc(shell.title));
    out.push_str("</title><style>");
    out.push_str(CSS);
    out.push_str("</style><script>document.documentElement.className='js';</script></head><body>");
    out.push_str(&header(shell));
    out.push_str("<main>");
    out.push_str(body);
    out.push_str("</main><footer>");
    out.push_str(&esc(shell.footer));
    out.push_str("</footer>");
    if !script.is_empty() {
        out.push_str("<script>");
        out.push_str(script);
        out.push_str("</script>");
    }
    out.push_str("</body></html>\n");
    out
}

/// The top bar (title and navigation) and the synthetic banner.
pub fn header(shell: &Shell) -> String {
    let mut out = String::from("<header class=\"top\"><span class=\"brand\">");
    out.push_str(&esc(shell.report_title));
    out.push_str("</span><nav>");
    for (i, (label, href)) in shell.nav.iter().enumerate() {
        let cur = if shell.current == Some(i) {
            " aria-current=\"page\""
        } else {
            ""
        };
        out.push_str(&format!("<a href=\"{href}\"{cur}>{}</a>", esc(label)));
    }
    out.push_str("</nav></header>");
    if let Some(text) = shell.synthetic {
        out.push_str(&banner(text));
    }
    out
}

/// The synthetic-data banner: one class so tests and print styles can find it.
pub fn banner(text: &str) -> String {
    format!(
        "<div class=\"synthetic-banner\" role=\"note\"><strong>⚠</strong> {}</div>",
        esc(text)
    )
}

/// Inline stylesheet of every page. System fonts only (no web font); a print block makes a
/// clean A4 document.
pub const CSS: &str = r#"
:root{--ink:#1d2733;--muted:#5b6673;--line:#d9dee4;--bg:#f6f7f9;--accent:#1f5fa8;--A:#1b5e9e;--B:#4a90c9;--C:#9cc9e6;--D:#f0a04b}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei",sans-serif;color:var(--ink);background:#fff;line-height:1.55;font-size:16px}
header.top{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center;justify-content:space-between;padding:.6rem 1rem;background:#14324f;color:#fff}
header.top .brand{font-weight:600}
header.top nav a{color:#dce8f5;text-decoration:none;margin-left:1rem}
header.top nav a[aria-current=page]{color:#fff;border-bottom:2px solid #fff}
.synthetic-banner{background:#fff4d6;border-bottom:2px solid #e0a800;color:#5c4400;padding:.55rem 1rem;font-size:.95rem}
main{max-width:1080px;margin:0 auto;padding:1rem}
footer{max-width:1080px;margin:2rem auto 1rem;padding:.8rem 1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem;word-break:break-all}
h1{font-size:1.6rem;margin:.6rem 0 .2rem;line-height:1.3}
h2{font-size:1.25rem;margin:2rem 0 .6rem;padding-bottom:.25rem;border-bottom:2px solid var(--accent)}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
p.sub{color:var(--muted);margin:.2rem 0 1rem}
a{color:var(--accent)}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.6rem;margin:1rem 0}
.kpi{border:1px solid var(--line);border-radius:6px;padding:.55rem .7rem;background:var(--bg)}
.kpi .label{font-size:.8rem;color:var(--muted)}
.kpi .value{font-size:1.35rem;font-weight:650;line-height:1.2;white-space:nowrap}
.kpi .delta{font-size:.82rem;color:var(--muted)}
.up{color:#1a7f37}.down{color:#b42318}
ul.findings{padding-left:1.2rem}
ul.findings li{margin:.35rem 0}
figure.chart{margin:1rem 0;padding:0}
figure.chart.solo{max-width:760px}
.chart-title{font-weight:600;font-size:.95rem;margin-bottom:.2rem}
figure.chart.wide{max-width:980px}
th.name,td.name,td.id{white-space:nowrap}
table.indicators td:last-child{font-size:.78rem;color:var(--muted)}
table.compact{width:auto;min-width:50%}
main:has(#ranking-table){max-width:1600px}
#ranking-table td{white-space:nowrap}
#ranking-table th{vertical-align:bottom;min-width:3.2em;white-space:normal}
figure.chart svg,.map svg{width:100%;height:auto;display:block}
figure.chart figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem 1.5rem}
.tablewrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.88rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
tr.l1 td{background:#e9f0f8;font-weight:650}
tr.l2 td{background:#f5f8fb;font-weight:600}
tr.l3 td:nth-child(2){padding-left:1.4rem}
tr.me td{background:#fff4d6;font-weight:600}
.tier{display:inline-block;min-width:2.2em;text-align:center;border-radius:3px;padding:0 .3em;font-weight:600;color:#fff}
.tier-A{background:var(--A)}.tier-B{background:var(--B);color:#123}.tier-C{background:var(--C);color:#123}.tier-D{background:var(--D);color:#3b2000}
.tier-none{background:#bbb}
.map-switch{margin:.4rem 0}
.map-switch button{font:inherit;font-size:.9rem;padding:.25rem .8rem;border:1px solid var(--accent);background:#fff;color:var(--accent);border-radius:4px;cursor:pointer}
.map-switch button[aria-pressed=true]{background:var(--accent);color:#fff}
.js .maps .map-score{display:none}
.js .maps.show-score .map-score{display:block}
.js .maps.show-score .map-tier{display:none}
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.6rem 0}
.controls input,.controls select{font:inherit;padding:.25rem .4rem;border:1px solid var(--line);border-radius:4px}
.nojs .jsonly{display:none}
th.sortable{cursor:pointer;user-select:none}
th.sortable::after{content:" \2195";color:#9aa5b1;font-size:.8em}
th[aria-sort=ascending]::after{content:" \2191";color:var(--ink)}
th[aria-sort=descending]::after{content:" \2193";color:var(--ink)}
ol.fix li{margin:.45rem 0}
.note{font-size:.85rem;color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.row-ref{white-space:nowrap;word-break:keep-all}
dl.manifest{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;font-size:.9rem}
dl.manifest dt{color:var(--muted)}
dl.manifest dd{margin:0;word-break:break-all}
.book-page{break-before:page}
@media (max-width:600px){#ranking-table .opt{display:none}td,th{white-space:nowrap}figure.chart.wide{overflow-x:auto}figure.chart.wide svg{min-width:600px}body{font-size:15px}main{padding:.6rem}h1{font-size:1.35rem}header.top nav a{margin-left:0;margin-right:.9rem}table{font-size:.8rem}}
@media print{
@page{size:A4;margin:14mm 12mm}
body{font-size:10pt;background:#fff}
.grid2{display:block}
table{font-size:8pt}
th,td{padding:.15rem .3rem}
td,th{white-space:normal}
td.n,th.n,td.id{white-space:nowrap}
table.indicators .origin{display:none}
figure.chart.solo,figure.chart.wide{max-width:none}
figure.chart svg[aria-label*="二级能力"],figure.chart svg[aria-label*="second-level"]{max-height:85mm}
.kpis{grid-template-columns:repeat(3,1fr)}
h1{font-size:16pt}h2{font-size:12.5pt;margin-top:1.2rem}
header.top{background:none;color:#000;border-bottom:1px solid #000;padding:0 0 .3rem}
header.top nav,.map-switch,.controls,.jsonly{display:none!important}
.synthetic-banner{border:1px solid #000;background:#fff;color:#000;-webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:none;padding:0}
h2{break-after:avoid}
figure.chart,.map,.kpi,tr{break-inside:avoid}
.js .maps .map-score,.js .maps.show-score .map-tier{display:block}
a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("成都市"), "成都市");
    }

    #[test]
    fn links_resolve_per_page_depth_and_in_the_book() {
        assert_eq!(Links::Site { depth: 0 }.unit("510100"), "units/510100.html");
        assert_eq!(
            Links::Site { depth: 1 }.unit("510100"),
            "../units/510100.html"
        );
        assert_eq!(Links::Site { depth: 1 }.index(), "../index.html");
        assert_eq!(Links::Book.unit("510100"), "#u510100");
        assert_eq!(Links::Book.method(), "#method");
        assert_eq!(
            Links::Site { depth: 1 }.uncertainty(),
            "../uncertainty.html"
        );
        assert_eq!(Links::Book.uncertainty(), "#rank-uncertainty");
    }

    #[test]
    fn page_has_csp_banner_and_no_external_reference() {
        let shell = Shell {
            lang_attr: "zh-CN",
            title: "T <1>",
            report_title: "R",
            nav: vec![
                ("a", "index.html".into()),
                ("b", "ranking.html".into()),
                ("c", "method.html".into()),
            ],
            current: Some(1),
            synthetic: Some("合成数据"),
            footer: "f",
        };
        let p = page(&shell, "<p>x</p>", "");
        assert!(p.contains("Content-Security-Policy"));
        assert!(p.contains("<title>T &lt;1&gt;</title>"));
        assert!(p.contains("class=\"synthetic-banner\""));
        assert!(p.contains("href=\"ranking.html\" aria-current=\"page\""));
        assert!(!p.contains("http:") && !p.contains("https:") && !p.contains("//"));
    }
}
