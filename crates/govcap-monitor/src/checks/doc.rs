//! One pass over a fetched page's HTML into owned, `Send` facts ([`PageDoc`]) that every check
//! reads: links with the date of their list row, meta tags, forms, images with captions,
//! clickable texts, message-board rows, 办事指南 field labels and the visible text.
//!
//! scraper's `Html` is `!Send`, so it lives only inside [`PageDoc::parse`]; the checks never
//! see it. Tree walks are iterative so that a hostile, deeply nested page cannot overflow the
//! stack, and the costlier parts (messages, guides) run only when their labels occur.

use super::dates::{date_after_label, first_date, leading_date, Date};
use crate::model::Page;
use scraper::{ElementRef, Html};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Longest text of a clickable element still treated as a menu entry or button label; longer
/// texts are headlines, where words such as 关怀 or 微博 say nothing about the site's features.
pub const MAX_CONTROL_CHARS: usize = 16;

/// Labels of a message's submit date on 领导信箱 / 留言板 lists.
pub const SUBMIT_LABELS: &[&str] = &[
    "提交时间",
    "留言时间",
    "来信时间",
    "写信时间",
    "咨询时间",
    "来信日期",
    "留言日期",
    "提交日期",
];
/// Labels of a message's reply date.
pub const REPLY_LABELS: &[&str] = &[
    "回复时间",
    "答复时间",
    "办结时间",
    "回复日期",
    "答复日期",
    "办结日期",
];
/// Status words meaning "not answered yet"; checked before [`ANSWERED_WORDS`] because
/// 未办结 contains 办结.
pub const UNANSWERED_WORDS: &[&str] = &[
    "未回复",
    "待回复",
    "未答复",
    "待答复",
    "未办结",
    "办理中",
    "处理中",
    "待处理",
    "受理中",
];
/// Status words meaning "answered".
pub const ANSWERED_WORDS: &[&str] = &["已回复", "已答复", "已办结", "已处理", "已反馈"];
/// Labels of a message's title on detail pages.
const TITLE_LABELS: &[&str] = &["信件标题", "来信标题", "留言标题", "标题", "主题"];

/// The six required 办事指南 fields (issue 4) and the label variants CMSs print for each.
pub const GUIDE_FIELDS: [(&str, &[&str]); 6] = [
    (
        "办理依据",
        &["办理依据", "设定依据", "法律依据", "实施依据", "法定依据"],
    ),
    (
        "申请材料",
        &["申请材料", "办理材料", "申报材料", "所需材料", "材料清单"],
    ),
    (
        "办理流程",
        &["办理流程", "办理程序", "办事流程", "办理步骤"],
    ),
    (
        "办理时限",
        &[
            "办理时限",
            "法定时限",
            "承诺时限",
            "法定办结时限",
            "承诺办结时限",
        ],
    ),
    ("收费标准", &["收费标准", "是否收费", "收费依据及标准"]),
    (
        "咨询电话",
        &["咨询电话", "咨询方式", "联系电话", "咨询途径"],
    ),
];

/// Texts that mark a list page as having no items.
const EMPTY_MARKERS: &[&str] = &[
    "暂无信息",
    "暂无数据",
    "暂无内容",
    "暂无记录",
    "暂无相关信息",
];
/// Texts of an error page served with status 200 (a soft 404).
const SOFT_404_MARKERS: &[&str] = &[
    "页面不存在",
    "页面未找到",
    "找不到该页面",
    "找不到页面",
    "您访问的页面不存在",
    "已删除",
    "not found",
];

/// A link on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub href: String,
    /// Absolute http(s) URL without fragment; `None` for `javascript:`, `mailto:` and the like.
    pub target: Option<String>,
    pub text: String,
    pub title: String,
    /// The date printed in the link's list row (`<li><a>…</a><span>2026-11-20</span></li>`).
    pub date: Option<Date>,
    /// For a dated link, the heading of the block it is listed in (`政务微博`, `通知公告 更多`),
    /// see [`section_heading`]; `None` for undated links and blocks without a heading.
    pub section: Option<String>,
}

/// Basic accessibility facts of one page that HTML alone decides (WCAG 2 level A, GB/T
/// 37668-2019): counts, and a few examples of what failed so a reader can find it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct A11yFacts {
    /// `<img>` elements.
    pub imgs: usize,
    /// Images with a text alternative: an `alt` attribute (an empty `alt=""` marks a
    /// decorative image and counts), `aria-label`, `aria-labelledby`, `title`, or hidden from
    /// assistive technology (`role="presentation"` / `"none"`, `aria-hidden="true"`).
    pub imgs_with_alt: usize,
    /// `src` of the first images without one (at most [`A11Y_EXAMPLES`]).
    pub imgs_missing_alt: Vec<String>,
    /// Form controls a user fills in: `input` (not hidden, submit, reset, button or image),
    /// `select`, `textarea`.
    pub controls: usize,
    /// Controls with an accessible name: `aria-label`, `aria-labelledby`, `title`, a `<label>`
    /// around them or a `<label for>` naming their id. A placeholder alone does not count
    /// (it disappears while typing and is not a label in GB/T 37668 or WCAG 3.3.2).
    pub controls_labelled: usize,
    /// `name`/`id`/`type` of the first unlabelled controls (at most [`A11Y_EXAMPLES`]).
    pub controls_unlabelled: Vec<String>,
    /// Links: `<a href>` and `<area href>`.
    pub links: usize,
    /// Links with discernible text: their own text, `aria-label`, `aria-labelledby`, `title`,
    /// or an image inside with a non-empty `alt` (an `<area>`: its `alt`).
    pub links_named: usize,
    /// `href` of the first links without (at most [`A11Y_EXAMPLES`]).
    pub links_unnamed: Vec<String>,
}

/// How many failing elements [`A11yFacts`] keeps as examples per kind.
pub const A11Y_EXAMPLES: usize = 5;

/// An image with the words around it (QR codes are captioned 政务微信, 官方微博 …).
#[derive(Debug, Clone, PartialEq)]
pub struct Img {
    pub src: Option<String>,
    pub alt: String,
    /// Text of the image's parent element when short (a caption), else empty.
    pub caption: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub name: String,
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub action: Option<String>,
    /// Lower-case method; `get` when absent.
    pub method: String,
    pub inputs: Vec<Input>,
    /// True when the form looks like a site search (see [`is_search_form`]).
    pub search_like: bool,
}

/// One message listed on a message board.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub title: String,
    pub submitted: Date,
    pub replied_on: Option<Date>,
    /// Replied (a reply date or an answered status word).
    pub answered: bool,
}

/// Whether a 办事指南 field was found on a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum FieldState {
    #[default]
    Absent,
    /// The label is printed with nothing after it.
    Empty,
    Present,
}

/// What the checks need from one page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageDoc {
    /// Index of the page in `SiteVisit::pages`.
    pub page: usize,
    pub url: String,
    pub title: String,
    pub h1: String,
    /// `(name, content)` of `<meta>` tags; names lower-cased (`name`, `property` or `http-equiv`).
    pub metas: Vec<(String, String)>,
    pub links: Vec<Link>,
    pub imgs: Vec<Img>,
    /// `src` of `<script>` elements.
    pub scripts: Vec<String>,
    /// `id` attributes (toolbar containers are often recognisable by id).
    pub ids: Vec<String>,
    pub forms: Vec<Form>,
    /// A text box outside any form that says it searches (JS-driven search boxes).
    pub search_box_outside_form: bool,
    /// Short texts of clickable things: undated links, buttons, image alts and titles.
    pub controls: Vec<String>,
    pub messages: Vec<Message>,
    pub guide_fields: [FieldState; 6],
    /// Visible text, whitespace collapsed.
    pub text: String,
    pub empty_marker: bool,
    pub soft_404: bool,
    /// The `lang` attribute of the root `<html>` element, trimmed; empty when absent.
    pub lang: String,
    pub a11y: A11yFacts,
}

impl PageDoc {
    /// The content of a meta tag, by case-insensitive name.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metas
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True for article pages (CMS page tags name the article).
    pub fn is_article(&self) -> bool {
        self.meta("ArticleTitle").is_some()
    }

    /// Number of 办事指南 field labels printed (with or without a value).
    pub fn guide_labels(&self) -> usize {
        self.guide_fields
            .iter()
            .filter(|f| **f != FieldState::Absent)
            .count()
    }

    /// Dated list items (links with a row date).
    pub fn dated_links(&self) -> impl Iterator<Item = (&Link, Date)> {
        self.links.iter().filter_map(|l| l.date.map(|d| (l, d)))
    }

    /// Parses a fetched page. Returns `None` for failed fetches and non-HTML bodies.
    pub fn parse(index: usize, page: &Page) -> Option<PageDoc> {
        if !page.is_ok() || !is_html(page) {
            return None;
        }
        let html = Html::parse_document(&page.text);
        let root = html.root_element();
        let mut doc = PageDoc {
            page: index,
            url: page.final_url.clone(),
            ..PageDoc::default()
        };
        let mut base = url::Url::parse(&page.final_url)
            .or_else(|_| url::Url::parse(&page.url))
            .ok();
        let mut form_nodes = Vec::new();
        doc.lang = root
            .value()
            .attr("lang")
            .or_else(|| root.value().attr("xml:lang"))
            .unwrap_or("")
            .trim()
            .to_string();
        // Controls not named by their own attributes, with their id: a `<label for>` anywhere
        // on the page (before or after them) may still name them.
        let mut label_fors: HashSet<String> = HashSet::new();
        let mut heading_memo = HashMap::new();
        let mut pending: Vec<(Option<String>, String)> = Vec::new();
        for el in root.descendent_elements() {
            let v = el.value();
            a11y_element(el, &mut doc.a11y, &mut label_fors, &mut pending);
            match v.name() {
                "title" if doc.title.is_empty() => doc.title = text_of(el, usize::MAX),
                "h1" if doc.h1.is_empty() => doc.h1 = text_of(el, usize::MAX),
                "base" => {
                    if let (Some(b), Some(h)) = (&base, v.attr("href")) {
                        base = b.join(h).ok().or(base.clone());
                    }
                }
                "meta" => {
                    let name = v
                        .attr("name")
                        .or_else(|| v.attr("property"))
                        .or_else(|| v.attr("http-equiv"));
                    if let (Some(n), Some(c)) = (name, v.attr("content")) {
                        doc.metas
                            .push((n.trim().to_lowercase(), c.trim().to_string()));
                    }
                }
                "a" | "area" => {
                    let text = text_of(el, 400);
                    let title = v.attr("title").unwrap_or("").trim().to_string();
                    let date = row_date(el, &text);
                    // A dated list item is content (a headline, a letter), not a menu entry.
                    if date.is_none() {
                        push_control(&mut doc.controls, &text);
                        push_control(&mut doc.controls, &title);
                    }
                    if let Some(href) = v.attr("href") {
                        doc.links.push(Link {
                            href: href.trim().to_string(),
                            target: resolve(base.as_ref(), href),
                            section: date
                                .and_then(|_| section_heading(el, &mut heading_memo, |e| e.id())),
                            date,
                            text,
                            title,
                        });
                    }
                }
                "button" => push_control(&mut doc.controls, &text_of(el, 100)),
                "img" => {
                    let alt = v.attr("alt").unwrap_or("").trim().to_string();
                    push_control(&mut doc.controls, &alt);
                    push_control(&mut doc.controls, v.attr("title").unwrap_or(""));
                    let caption = el
                        .parent()
                        .and_then(ElementRef::wrap)
                        .map(|p| text_of(p, 60))
                        .filter(|t| t.chars().count() <= 30)
                        .unwrap_or_default();
                    doc.imgs.push(Img {
                        src: v.attr("src").and_then(|s| resolve(base.as_ref(), s)),
                        alt,
                        caption,
                    });
                }
                "input" => {
                    let kind = v.attr("type").unwrap_or("text").to_lowercase();
                    if matches!(kind.as_str(), "button" | "submit" | "image") {
                        push_control(&mut doc.controls, v.attr("value").unwrap_or(""));
                        push_control(&mut doc.controls, v.attr("alt").unwrap_or(""));
                    }
                    let in_form = el
                        .ancestors()
                        .filter_map(ElementRef::wrap)
                        .any(|a| a.value().name() == "form");
                    if !in_form && matches!(kind.as_str(), "text" | "search") {
                        let words = [
                            v.attr("placeholder"),
                            v.attr("id"),
                            v.attr("name"),
                            v.attr("class"),
                        ];
                        if words.iter().flatten().any(|w| search_word(w)) {
                            doc.search_box_outside_form = true;
                        }
                    }
                }
                "script" => {
                    if let Some(src) = v.attr("src") {
                        doc.scripts.push(src.trim().to_string());
                    }
                }
                "form" => form_nodes.push(el),
                _ => {
                    if v.attr("onclick").is_some() || v.attr("role") == Some("button") {
                        push_control(&mut doc.controls, &text_of(el, 100));
                    }
                }
            }
            if let Some(id) = v.attr("id") {
                doc.ids.push(id.to_string());
            }
        }
        doc.forms = form_nodes
            .into_iter()
            .map(|f| parse_form(f, base.as_ref()))
            .collect();
        doc.text = text_of(root, usize::MAX);
        doc.empty_marker = EMPTY_MARKERS.iter().any(|m| doc.text.contains(m));
        doc.soft_404 = is_soft_404(&doc);
        for (id, what) in pending {
            if id.is_some_and(|i| label_fors.contains(&i)) {
                doc.a11y.controls_labelled += 1;
            } else if doc.a11y.controls_unlabelled.len() < A11Y_EXAMPLES {
                doc.a11y.controls_unlabelled.push(what);
            }
        }
        if SUBMIT_LABELS.iter().any(|l| doc.text.contains(l)) {
            doc.messages = parse_messages(root, &doc);
        }
        if GUIDE_FIELDS
            .iter()
            .any(|(_, aliases)| aliases.iter().any(|a| doc.text.contains(a)))
        {
            doc.guide_fields = parse_guide_fields(root);
        }
        Some(doc)
    }
}

/// True when the response is HTML (by Content-Type, or by its first character when the
/// server sent none).
pub fn is_html(page: &Page) -> bool {
    match page.header("content-type") {
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.contains("html") || ct.contains("xml")
        }
        None => page.text.trim_start().starts_with('<'),
    }
}

/// Resolves a link against the page URL; only http(s) targets, fragment removed.
pub fn resolve(base: Option<&url::Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let mut u = match base {
        Some(b) => b.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    if u.scheme() != "http" && u.scheme() != "https" {
        return None;
    }
    u.set_fragment(None);
    Some(u.to_string())
}

/// A key under which two spellings of one URL compare equal: fragment dropped and query
/// pairs sorted, so a crawler that normalises URLs and a page that does not still match.
pub fn url_key(u: &str) -> Option<String> {
    let mut url = url::Url::parse(u.trim()).ok()?;
    url.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(url.to_string())
}

fn push_control(controls: &mut Vec<String>, text: &str) {
    let t = text.trim();
    if !t.is_empty() && t.chars().count() <= MAX_CONTROL_CHARS {
        controls.push(t.to_string());
    }
}

/// Visible text of an element (no script or style), whitespace collapsed, stopping once it
/// is longer than `limit` bytes. Iterative, so nesting depth cannot overflow the stack.
pub fn text_of(el: ElementRef<'_>, limit: usize) -> String {
    let mut raw = String::new();
    let mut stack = vec![el.children()];
    while let Some(top) = stack.last_mut() {
        if raw.len() > limit {
            break;
        }
        match top.next() {
            None => {
                stack.pop();
                raw.push(' ');
            }
            Some(child) => {
                if let Some(t) = child.value().as_text() {
                    raw.push_str(t);
                } else if let Some(e) = ElementRef::wrap(child) {
                    if !matches!(
                        e.value().name(),
                        "script" | "style" | "noscript" | "template"
                    ) {
                        raw.push(' ');
                        stack.push(child.children());
                    }
                }
            }
        }
    }
    collapse(&raw)
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| c.is_whitespace() || c == '\u{a0}') {
        if !w.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// The date of a link's list row: the first date in the nearest short `li`, `tr`, `dd`, `p`
/// or `div` around it (at most four levels up, stopping at the first row element or at an
/// element holding a second link). Only a date after the link text, or one opening the row,
/// counts, so a "今天是2026年11月27日" banner next to a menu link dates nothing.
fn row_date(a: ElementRef<'_>, link_text: &str) -> Option<Date> {
    for anc in a.ancestors().filter_map(ElementRef::wrap).take(4) {
        let name = anc.value().name();
        if !matches!(
            name,
            "li" | "tr" | "dd" | "dt" | "p" | "div" | "td" | "span"
        ) {
            continue;
        }
        // A row holds one link; an element holding several is a menu or a block, whose
        // dates belong to other items (or to a "今天是…" banner).
        if anc
            .descendent_elements()
            .filter(|e| e.value().name() == "a")
            .nth(1)
            .is_some()
        {
            return None;
        }
        let t = text_of(anc, 240);
        if t.len() > 240 {
            return None;
        }
        // The item's date follows its title (`title 2026-11-20`) or opens the row
        // (`[2026-11-20] title`); a date before the link is something else.
        let after = match t.find(link_text).filter(|_| !link_text.is_empty()) {
            Some(p) => first_date(&t[p + link_text.len()..]),
            None => None,
        };
        if let Some(d) = after.or_else(|| leading_date(&t)) {
            return Some(d);
        }
        if matches!(name, "li" | "tr" | "dd") {
            return None;
        }
    }
    None
}

/// A non-empty, trimmed attribute.
fn attr_text<'e>(el: ElementRef<'e>, name: &str) -> Option<&'e str> {
    el.value()
        .attr(name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Named by its own ARIA or `title` attributes.
fn aria_named(el: ElementRef<'_>) -> bool {
    ["aria-label", "aria-labelledby", "title"]
        .iter()
        .any(|a| attr_text(el, a).is_some())
}

/// Counts one element into the page's [`A11yFacts`]. Controls that only a `<label for>`
/// can name go to `pending` (resolved after the walk, when every label has been seen).
fn a11y_element(
    el: ElementRef<'_>,
    f: &mut A11yFacts,
    label_fors: &mut HashSet<String>,
    pending: &mut Vec<(Option<String>, String)>,
) {
    let v = el.value();
    match v.name() {
        "img" => {
            f.imgs += 1;
            let hidden = matches!(v.attr("role"), Some("presentation" | "none"))
                || v.attr("aria-hidden") == Some("true");
            if v.attr("alt").is_some() || aria_named(el) || hidden {
                f.imgs_with_alt += 1;
            } else if f.imgs_missing_alt.len() < A11Y_EXAMPLES {
                f.imgs_missing_alt
                    .push(v.attr("src").unwrap_or("").trim().to_string());
            }
        }
        "label" => {
            if let Some(id) = attr_text(el, "for") {
                label_fors.insert(id.to_string());
            }
        }
        "input" | "select" | "textarea" => {
            let kind = if v.name() == "input" {
                v.attr("type").unwrap_or("text").trim().to_ascii_lowercase()
            } else {
                v.name().to_string()
            };
            if matches!(
                kind.as_str(),
                "hidden" | "submit" | "reset" | "button" | "image"
            ) {
                return;
            }
            f.controls += 1;
            let in_label = el
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "label");
            if aria_named(el) || in_label {
                f.controls_labelled += 1;
            } else {
                let what = attr_text(el, "name")
                    .or_else(|| attr_text(el, "id"))
                    .unwrap_or(&kind)
                    .to_string();
                pending.push((attr_text(el, "id").map(str::to_string), what));
            }
        }
        "a" | "area" if v.attr("href").is_some() => {
            f.links += 1;
            let named = aria_named(el)
                || if v.name() == "area" {
                    attr_text(el, "alt").is_some()
                } else {
                    !text_of(el, 40).is_empty()
                        || el.descendent_elements().any(|i| {
                            i.value().name() == "img"
                                && (attr_text(i, "alt").is_some()
                                    || attr_text(i, "aria-label").is_some())
                        })
                };
            if named {
                f.links_named += 1;
            } else if f.links_unnamed.len() < A11Y_EXAMPLES {
                f.links_unnamed
                    .push(v.attr("href").unwrap_or("").trim().to_string());
            }
        }
        _ => {}
    }
}

/// Ancestor levels [`section_heading`] climbs from a link.
const SECTION_LEVELS: usize = 6;
/// Longest text still taken as a block heading.
const MAX_HEADING_CHARS: usize = 20;
/// Class-name fragments CMS templates give block titles (`title`, `tit`, `hd`, `head`).
const HEADING_CLASSES: &[&str] = &["tit", "hd", "head"];

/// A heading element: `h1`–`h6`, `role="heading"`, a `caption` or `legend`, or an element
/// whose class names a title.
fn is_heading(e: ElementRef<'_>) -> bool {
    let v = e.value();
    matches!(
        v.name(),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "caption" | "legend"
    ) || v.attr("role") == Some("heading")
        || v.classes().any(|c| {
            let c = c.to_ascii_lowercase();
            HEADING_CLASSES.iter().any(|h| c.contains(h))
        })
}

/// The heading a preceding sibling gives the block after it: the sibling itself when it is
/// a heading, else a heading inside it when it is a heading bar (title plus a 更多 link: no
/// list rows, at most three links). Too long a text is a headline, not a heading.
fn heading_of(s: ElementRef<'_>) -> Option<String> {
    let h = if is_heading(s) {
        s
    } else {
        let rows = s
            .descendent_elements()
            .any(|e| matches!(e.value().name(), "li" | "tr" | "dd"));
        let links = s
            .descendent_elements()
            .filter(|e| e.value().name() == "a")
            .take(4)
            .count();
        if rows || links > 3 {
            return None;
        }
        s.descendent_elements().find(|e| is_heading(*e))?
    };
    let t = text_of(h, 4 * MAX_HEADING_CHARS);
    (!t.is_empty() && t.chars().count() <= MAX_HEADING_CHARS).then_some(t)
}

/// The heading of the block a list link sits in: climbing from the link (at most
/// `SECTION_LEVELS` levels, never past `body`), the nearest preceding sibling that is a
/// heading or a heading bar (`heading_of`). Sibling rows and content blocks are passed
/// over, so a headless news block after a 政务微博 block does not inherit its title.
///
/// `memo` remembers, per element (`key`: its node id), the heading found scanning back from
/// it, so the rows of a long list do not each rescan the rows before them: each element is
/// judged once per page.
pub fn section_heading<'a, K: Hash + Eq>(
    a: ElementRef<'a>,
    memo: &mut HashMap<K, Option<String>>,
    key: impl Fn(ElementRef<'a>) -> K,
) -> Option<String> {
    let prev = |e: ElementRef<'a>| e.prev_siblings().find_map(ElementRef::wrap);
    let mut child = a;
    for anc in a
        .ancestors()
        .filter_map(ElementRef::wrap)
        .take(SECTION_LEVELS)
    {
        if matches!(anc.value().name(), "body" | "html") {
            return None;
        }
        // Scan back from the previous sibling until a heading or a remembered answer.
        let mut path = Vec::new();
        let mut found = None;
        let mut cur = prev(child);
        while let Some(sib) = cur {
            if let Some(known) = memo.get(&key(sib)) {
                found = known.clone();
                break;
            }
            path.push(sib);
            let skip = matches!(
                sib.value().name(),
                "script" | "style" | "template" | "noscript"
            );
            if !skip {
                if let Some(h) = heading_of(sib) {
                    found = Some(h);
                    break;
                }
            }
            cur = prev(sib);
        }
        for sib in path {
            memo.insert(key(sib), found.clone());
        }
        if found.is_some() {
            return found;
        }
        child = anc;
    }
    None
}

/// Words that mark a form or box as site search.
fn search_word(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    [
        "search",
        "sousuo",
        "jsearch",
        "was5",
        "搜索",
        "检索",
        "全文检索",
        "站内搜索",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// Query parameter names site-search engines use (TRS WAS, Hanweb jsearch, generic).
pub const SEARCH_PARAMS: &[&str] = &[
    "searchword",
    "searchWord",
    "keyword",
    "keywords",
    "q",
    "wd",
    "query",
    "kw",
    "sword",
    "searchkey",
];

/// GSA-style site-search heuristics: action mentions search, an `input[type=search]`, a
/// known query parameter name, or 搜索 on a button or placeholder.
fn is_search_form(f: ElementRef<'_>, action: Option<&str>, inputs: &[Input]) -> bool {
    if action.is_some_and(search_word) || f.value().attr("id").is_some_and(search_word) {
        return true;
    }
    if inputs
        .iter()
        .any(|i| i.kind == "search" || SEARCH_PARAMS.contains(&i.name.as_str()))
    {
        return true;
    }
    f.descendent_elements().any(|e| {
        let v = e.value();
        v.attr("placeholder").is_some_and(search_word)
            || (matches!(v.name(), "button" | "input") && v.attr("value").is_some_and(search_word))
            || (v.name() == "button" && search_word(&text_of(e, 40)))
    })
}

fn parse_form(f: ElementRef<'_>, base: Option<&url::Url>) -> Form {
    let v = f.value();
    let action = v.attr("action").and_then(|a| {
        if a.trim().is_empty() {
            base.map(|b| b.to_string())
        } else {
            resolve(base, a)
        }
    });
    let inputs: Vec<Input> = f
        .descendent_elements()
        .filter(|e| matches!(e.value().name(), "input" | "select" | "textarea"))
        .filter_map(|e| {
            let ev = e.value();
            Some(Input {
                name: ev.attr("name")?.to_string(),
                kind: if ev.name() == "input" {
                    ev.attr("type").unwrap_or("text").to_lowercase()
                } else {
                    ev.name().to_string()
                },
                value: ev.attr("value").unwrap_or("").to_string(),
            })
        })
        .collect();
    let search_like = is_search_form(f, v.attr("action"), &inputs);
    Form {
        action,
        method: v.attr("method").unwrap_or("get").trim().to_lowercase(),
        inputs,
        search_like,
    }
}

/// True when `404` stands alone (not inside a longer number such as a phone number).
fn has_404(text: &str) -> bool {
    text.match_indices("404").any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + 3..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

fn is_soft_404(doc: &PageDoc) -> bool {
    let hit = |s: &str| {
        let l = s.to_lowercase();
        SOFT_404_MARKERS.iter().any(|m| l.contains(m))
    };
    let title_says = hit(&doc.title) || has_404(&doc.title) || hit(&doc.h1);
    let short_body_says = doc.text.chars().count() < 600 && (hit(&doc.text) || has_404(&doc.text));
    !doc.is_article() && (title_says || short_body_says)
}

/// Reply status of a row's text: `Some(true)` answered, `Some(false)` not answered.
fn status_of(text: &str) -> Option<bool> {
    if UNANSWERED_WORDS.iter().any(|w| text.contains(w)) {
        Some(false)
    } else if ANSWERED_WORDS.iter().any(|w| text.contains(w)) {
        Some(true)
    } else {
        None
    }
}

fn contains_any(text: &str, labels: &[&str]) -> bool {
    labels.iter().any(|l| text.contains(l))
}

/// The `td` / `th` cells of a table row.
fn cells(tr: ElementRef<'_>) -> Vec<ElementRef<'_>> {
    tr.child_elements()
        .filter(|c| matches!(c.value().name(), "td" | "th"))
        .collect()
}

/// Messages listed on a page, from three layouts:
/// 1. a table whose header row names the submit (and reply, status, title) columns;
/// 2. list rows (`li`, `tr`, `dd`, `div` …) holding a link and `提交时间：date` text —
///    the innermost such element is the row;
/// 3. a detail page for one message (labels with dates but no list rows).
fn parse_messages(root: ElementRef<'_>, doc: &PageDoc) -> Vec<Message> {
    let mut out = Vec::new();
    let mut table_rows = HashSet::new();
    // 1. Tables with a header row.
    for table in root
        .descendent_elements()
        .filter(|e| e.value().name() == "table")
    {
        let rows: Vec<ElementRef> = table
            .descendent_elements()
            .filter(|e| e.value().name() == "tr")
            .filter(|tr| {
                // Rows of this table, not of a nested one.
                tr.ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| a.value().name() == "table")
                    .is_some_and(|t| t.id() == table.id())
            })
            .collect();
        let Some(h) = rows.iter().position(|tr| {
            cells(*tr).iter().any(|c| {
                let t = text_of(*c, 40);
                SUBMIT_LABELS.iter().any(|l| t.contains(l)) && first_date(&t).is_none()
            })
        }) else {
            continue;
        };
        let head: Vec<String> = cells(rows[h]).iter().map(|c| text_of(*c, 40)).collect();
        let col = |labels: &[&str]| {
            head.iter()
                .position(|t| labels.iter().any(|l| t.contains(l)))
        };
        let Some(submit_col) = col(SUBMIT_LABELS) else {
            continue;
        };
        let reply_col = col(REPLY_LABELS);
        let status_col = col(&["状态", "办理情况", "回复情况"]);
        let title_col = col(&["标题", "主题", "事项", "内容"]);
        for tr in &rows[h + 1..] {
            let cs = cells(*tr);
            let cell = |i: Option<usize>| i.and_then(|i| cs.get(i)).map(|c| text_of(*c, 400));
            let Some(submitted) = cell(Some(submit_col)).and_then(|t| first_date(&t)) else {
                continue;
            };
            let title = cell(title_col)
                .filter(|t| !t.is_empty())
                .or_else(|| {
                    tr.descendent_elements()
                        .find(|e| e.value().name() == "a")
                        .map(|a| text_of(a, 400))
                })
                .unwrap_or_default();
            if title.is_empty() {
                continue;
            }
            let replied_on = cell(reply_col).and_then(|t| first_date(&t));
            let status = cell(status_col).and_then(|t| status_of(&t));
            table_rows.insert(tr.id());
            out.push(Message {
                title,
                submitted,
                replied_on,
                answered: replied_on.is_some() || status == Some(true),
            });
        }
    }
    // 2. Rows carrying their own labels.
    let candidates: Vec<(ElementRef, String)> = root
        .descendent_elements()
        .filter(|e| {
            matches!(
                e.value().name(),
                "li" | "tr" | "dd" | "dl" | "div" | "article" | "section" | "p"
            ) && !table_rows.contains(&e.id())
        })
        .filter(|e| {
            // A row, not a page section: no tables or headings inside.
            !e.descendent_elements()
                .any(|x| matches!(x.value().name(), "table" | "h1" | "h2"))
        })
        .filter_map(|e| {
            let t = text_of(e, 2000);
            let title = row_title(e)?;
            // List rows put the title first, then the labelled dates.
            let title_at = t.find(&title)?;
            let label_at = SUBMIT_LABELS.iter().filter_map(|l| t.find(l)).min()?;
            (t.len() <= 2000
                && title_at < label_at
                && date_after_label(&t, SUBMIT_LABELS).is_some())
            .then_some((e, t))
        })
        .collect();
    let ids: HashSet<_> = candidates.iter().map(|(e, _)| e.id()).collect();
    let mut outer = HashSet::new();
    for (e, _) in &candidates {
        for a in e.ancestors() {
            if ids.contains(&a.id()) {
                outer.insert(a.id());
            }
        }
    }
    for (e, t) in candidates.iter().filter(|(e, _)| !outer.contains(&e.id())) {
        let Some(title) = row_title(*e) else {
            continue;
        };
        let Some(submitted) = date_after_label(t, SUBMIT_LABELS) else {
            continue;
        };
        let replied_on = date_after_label(t, REPLY_LABELS);
        out.push(Message {
            title,
            submitted,
            replied_on,
            answered: replied_on.is_some() || status_of(t) == Some(true),
        });
    }
    // 3. A detail page: one labelled submit date, no list rows.
    if out.is_empty() && labelled_dates(&doc.text, SUBMIT_LABELS) == 1 {
        if let Some(submitted) = date_after_label(&doc.text, SUBMIT_LABELS) {
            let title = labelled_value(&doc.text, TITLE_LABELS)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| {
                    if doc.h1.is_empty() {
                        doc.title.clone()
                    } else {
                        doc.h1.clone()
                    }
                });
            let replied_on = date_after_label(&doc.text, REPLY_LABELS);
            out.push(Message {
                title,
                submitted,
                replied_on,
                answered: replied_on.is_some() || status_of(&doc.text) == Some(true),
            });
        }
    }
    out
}

/// The title of a list row: its first link text that is not itself a label.
fn row_title(row: ElementRef<'_>) -> Option<String> {
    row.descendent_elements()
        .filter(|x| x.value().name() == "a")
        .map(|a| text_of(a, 400))
        .find(|s| !s.is_empty() && !contains_any(s, SUBMIT_LABELS))
}

/// How many times one of `labels` is followed by a date.
fn labelled_dates(text: &str, labels: &[&str]) -> usize {
    labels
        .iter()
        .map(|l| {
            text.match_indices(l)
                .filter(|(p, _)| leading_date(&text[p + l.len()..]).is_some())
                .count()
        })
        .sum()
}

/// The words after `label：` up to the next space.
fn labelled_value(text: &str, labels: &[&str]) -> Option<String> {
    labels.iter().find_map(|l| {
        let pos = text.find(l)?;
        let rest = text[pos + l.len()..].trim_start_matches([':', '：', ' ']);
        Some(rest.split(' ').next().unwrap_or("").to_string())
    })
}

/// True when a field value says nothing (empty, dashes, slashes).
fn blank(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_whitespace() || matches!(c, ':' | '：' | '-' | '—' | '/' | '－' | '、'))
}

/// Cuts a value at the next `label：`, so `办理依据：申请材料：…` gives an empty 办理依据 while
/// a value that merely mentions a label word (`法定时限20个工作日`) is kept.
fn cut_at_next_label(value: &str) -> &str {
    let mut end = value.len();
    for (_, aliases) in GUIDE_FIELDS.iter() {
        for a in aliases.iter() {
            for (p, _) in value.match_indices(a) {
                let after = value[p + a.len()..].trim_start();
                if after.starts_with(['：', ':']) {
                    end = end.min(p);
                }
            }
        }
    }
    &value[..end]
}

/// 办事指南 fields on a page: a label element followed by its value element (`th`/`td`,
/// `dt`/`dd`), or `label：value` inside one element.
fn parse_guide_fields(root: ElementRef<'_>) -> [FieldState; 6] {
    let mut states = [FieldState::Absent; 6];
    for el in root.descendent_elements() {
        if !matches!(
            el.value().name(),
            "th" | "td"
                | "dt"
                | "dd"
                | "strong"
                | "b"
                | "span"
                | "label"
                | "p"
                | "li"
                | "div"
                | "h3"
                | "h4"
                | "h5"
                | "em"
                | "font"
        ) {
            continue;
        }
        let t = text_of(el, 600);
        let bare = t.trim().trim_end_matches([':', '：']).trim();
        for (i, (_, aliases)) in GUIDE_FIELDS.iter().enumerate() {
            let state = if aliases.contains(&bare) {
                // The label alone: its value is the next element, or the parent's rest.
                let value = match el.next_siblings().find_map(ElementRef::wrap) {
                    Some(sib) => text_of(sib, 600),
                    None => el
                        .parent()
                        .and_then(ElementRef::wrap)
                        .map(|p| {
                            let pt = text_of(p, 600);
                            pt.find(bare)
                                .map(|i| pt[i + bare.len()..].to_string())
                                .unwrap_or_default()
                        })
                        .unwrap_or_default(),
                };
                if blank(cut_at_next_label(&value)) {
                    FieldState::Empty
                } else {
                    FieldState::Present
                }
            } else if let Some(rest) = aliases.iter().find_map(|a| {
                t.strip_prefix(a).and_then(|r| {
                    r.strip_prefix(['：', ':'])
                        .or_else(|| r.strip_prefix(" ："))
                })
            }) {
                if blank(cut_at_next_label(rest)) {
                    FieldState::Empty
                } else {
                    FieldState::Present
                }
            } else {
                continue;
            };
            states[i] = states[i].max(state);
        }
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FetchState;

    pub(crate) fn page(url: &str, html: &str) -> Page {
        Page {
            url: url.into(),
            final_url: url.into(),
            state: FetchState::Ok,
            status: Some(200),
            headers: vec![("content-type".into(), "text/html".into())],
            text: html.into(),
            charset: None,
            charset_source: None,
            redirects: vec![],
            depth: 0,
            elapsed_ms: 1,
            fetched_at: "2026-11-27T00:00:00Z".into(),
            warc_record: Some("<urn:uuid:1>".into()),
            legacy_tls: false,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn links_get_their_row_dates_and_absolute_targets() {
        let html = r#"<html><head><title>首页</title><meta name="SiteIDCode" content="1100000001"></head><body>
            <p>今天是2026年11月27日</p>
            <ul><li><a href="art/1.html#top">新闻一</a><span>2026-11-20</span></li>
                <li><a href="/x/2.html">新闻二</a> <span>[2026/11/03]</span></li>
                <li><a href="javascript:void(0)">无障碍</a></li></ul>
            <table><tr><td><a href="t.html">表格行</a></td><td>2026.10.01</td></tr></table>
            </body></html>"#;
        let doc = PageDoc::parse(0, &page("http://h/site/a/", html)).unwrap();
        assert_eq!(doc.meta("siteidcode"), Some("1100000001"));
        let got: Vec<_> = doc
            .links
            .iter()
            .map(|l| (l.target.clone(), l.date))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some("http://h/site/a/art/1.html".to_string()),
                    Some(d(2026, 11, 20))
                ),
                (Some("http://h/x/2.html".to_string()), Some(d(2026, 11, 3))),
                (None, None),
                (
                    Some("http://h/site/a/t.html".to_string()),
                    Some(d(2026, 10, 1))
                ),
            ]
        );
        assert!(doc.controls.contains(&"无障碍".to_string()));
    }

    #[test]
    fn message_rows_in_tables_lists_and_detail_pages() {
        let table = r#"<table><tr><th>信件标题</th><th>提交时间</th><th>回复时间</th><th>状态</th></tr>
            <tr><td><a href="m1">咨询一</a></td><td>2026-10-01</td><td>2026-10-04</td><td>已回复</td></tr>
            <tr><td><a href="m2">咨询二</a></td><td>2026-11-01</td><td></td><td>办理中</td></tr></table>"#;
        let doc = PageDoc::parse(0, &page("http://h/b/", table)).unwrap();
        assert_eq!(doc.messages.len(), 2);
        assert_eq!(doc.messages[0].replied_on, Some(d(2026, 10, 4)));
        assert!(doc.messages[0].answered && !doc.messages[1].answered);

        let list = r#"<ul><li><a href="m1">问题一</a><span>提交时间：2026-09-01</span><span>回复时间：2026-09-11</span></li>
            <li><div><a href="m2">问题二</a></div><div>提交时间：2026-09-02</div><div>状态：已回复</div></li></ul>"#;
        let doc = PageDoc::parse(0, &page("http://h/b/", list)).unwrap();
        assert_eq!(doc.messages.len(), 2);
        assert_eq!(doc.messages[1].title, "问题二");
        assert!(doc.messages[1].answered && doc.messages[1].replied_on.is_none());

        let detail = r#"<h1>关于路灯的咨询</h1><table><tr><th>提交时间</th><td>2026-08-01</td></tr>
            <tr><th>回复时间</th><td>2026-08-30</td></tr></table>"#;
        let doc = PageDoc::parse(0, &page("http://h/b/1.html", detail)).unwrap();
        assert_eq!(doc.messages.len(), 1);
        assert_eq!(doc.messages[0].title, "关于路灯的咨询");
        assert_eq!(doc.messages[0].replied_on, Some(d(2026, 8, 30)));
    }

    #[test]
    fn guide_fields_present_empty_or_absent() {
        let html = r#"<title>护照办事指南</title><table>
            <tr><th>设定依据</th><td>《出入境管理法》</td></tr>
            <tr><th>申请材料：</th><td> </td></tr>
            <tr><th>办理时限</th><td>7个工作日</td></tr></table>
            <p><strong>收费标准：</strong>不收费</p><p>咨询电话：12345</p><p>办理流程：</p>"#;
        let doc = PageDoc::parse(0, &page("http://h/g/1.html", html)).unwrap();
        use FieldState::*;
        assert_eq!(
            doc.guide_fields,
            [Present, Empty, Empty, Present, Present, Present]
        );
        assert_eq!(doc.guide_labels(), 6);
    }

    #[test]
    fn dated_links_know_the_heading_of_their_block() {
        let html = r#"<body><div class="main">
            <div class="wb"><div class="title"><span>政务微博</span><a href="https://weibo.com/u/1">更多</a></div>
              <ul><li><a href="http://t.cn/1">明天多云转晴气温回升</a><span>2026-11-20</span></li>
                  <li><a href="http://t.cn/2">地铁三号线调整运营时间</a><span>2026-11-19</span></li></ul></div>
            <div class="news"><ul><li><a href="/n/1">市政府召开常务会议</a><span>2026-11-26</span></li></ul></div>
            <div class="wx"><h3>政务微信</h3><table><tr><td><a href="/wx/1">森林防火会议召开</a></td><td>2026-09-01</td></tr></table></div>
            <ul><li class="tit">官方抖音</li><li><a href="/d/1">短视频一</a> 2026-11-01</li><li><a href="/d/2">短视频二</a> 2026-11-02</li></ul>
            </div><ul><li><a href="/x">页面底部的一条</a><span>2026-11-02</span></li></ul></body>"#;
        let doc = PageDoc::parse(0, &page("http://h/", html)).unwrap();
        let got: Vec<(&str, Option<&str>)> = doc
            .dated_links()
            .map(|(l, _)| (l.href.as_str(), l.section.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                // The heading bar is the heading, its 更多 link included.
                ("http://t.cn/1", Some("政务微博 更多")),
                ("http://t.cn/2", Some("政务微博 更多")),
                ("/n/1", None),
                ("/wx/1", Some("政务微信")),
                ("/d/1", Some("官方抖音")),
                ("/d/2", Some("官方抖音")),
                ("/x", None),
            ]
        );
        // A long list: the last row still finds the title row thousands of rows up.
        let mut rows = String::from(r#"<ul><li class="title">政务微博</li>"#);
        for i in 0..3000 {
            rows.push_str(&format!(
                r#"<li><a href="http://t.cn/{i}">第{i}条微博的标题文字</a><span>2026-11-20</span></li>"#
            ));
        }
        rows.push_str("</ul>");
        let doc = PageDoc::parse(0, &page("http://h/", &rows)).unwrap();
        assert_eq!(doc.dated_links().count(), 3000);
        assert!(doc
            .dated_links()
            .all(|(l, _)| l.section.as_deref() == Some("政务微博")));
    }

    #[test]
    fn soft_404_and_url_keys() {
        let doc = PageDoc::parse(
            0,
            &page("http://h/x", "<title>提示</title><p>您访问的页面不存在</p>"),
        )
        .unwrap();
        assert!(doc.soft_404);
        let ok =
            PageDoc::parse(0, &page("http://h/x", "<title>首页</title><p>政务公开</p>")).unwrap();
        assert!(!ok.soft_404);
        assert_eq!(
            url_key("http://H/a?b=2&a=1#f"),
            url_key("http://h/a?a=1&b=2")
        );
    }
}
