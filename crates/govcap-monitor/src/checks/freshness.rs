//! `freshness`: how old the newest home-page item is, and which columns are stale or empty.

use super::dates::Date;
use super::doc::{url_key, PageDoc};
use super::features::probe_url_key;
use super::guide::is_guide;
use super::{Analysis, CheckConfig};
use crate::model::Finding;
use serde_json::{json, Value};

/// Column-name words of columns that must update every two weeks (2019 rule).
pub const DYNAMIC_WORDS: &[&str] = &["动态", "要闻", "新闻", "快讯", "工作"];
/// Column-name words of columns that must update every six months (2019 rule).
pub const NOTICE_WORDS: &[&str] = &["通知", "公告", "政策", "文件", "公示", "规划"];

/// How often a column must be updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Dynamic,
    Notice,
    Other,
}

impl ColumnKind {
    pub fn of(name: &str) -> Self {
        if DYNAMIC_WORDS.iter().any(|w| name.contains(w)) {
            ColumnKind::Dynamic
        } else if NOTICE_WORDS.iter().any(|w| name.contains(w)) {
            ColumnKind::Notice
        } else {
            ColumnKind::Other
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Dynamic => "dynamic",
            ColumnKind::Notice => "notice",
            ColumnKind::Other => "other",
        }
    }
}

/// A list page: tagged with `ColumnName`, or listing at least three dated items; never an
/// article, a message board, a guide or the search results.
fn is_column(a: &Analysis, d: &PageDoc, probe: Option<&str>) -> bool {
    if Some(d.page) == a.home || d.is_article() || !d.messages.is_empty() || is_guide(d) {
        return false;
    }
    if probe.is_some() && url_key(&a.page(d.page).url).as_deref() == probe {
        return false;
    }
    d.meta("ColumnName").is_some() || d.dated_links().count() >= 3
}

/// The column's name: its `ColumnName` tag, else the text of a link to it, else its title.
fn column_name(a: &Analysis, d: &PageDoc) -> String {
    if let Some(n) = d.meta("ColumnName").filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    let key = url_key(&a.page(d.page).url);
    a.docs
        .iter()
        .flat_map(|x| x.links.iter())
        .find(|l| {
            l.target.as_deref().and_then(url_key) == key
                && !l.text.is_empty()
                && l.text.chars().count() <= 12
        })
        .map(|l| l.text.clone())
        .unwrap_or_else(|| d.title.clone())
}

/// Days between the newest dated item on the home page and `as_of` (dates after `as_of`
/// are ignored and counted). Details: every column found with its newest date, and the
/// counts of stale columns (news-type past `dynamic_column_days`, notice-type past
/// `notice_column_days`), long-not-updated columns (past `long_stale_days`) and empty columns.
pub fn freshness(a: &Analysis, cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "freshness";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let Some(as_of) = a.as_of else {
        return a.cannot(CHECK, "as_of is not a YYYY-MM-DD date");
    };
    let home = a
        .home_doc()
        .expect("no_content_reason checked the home doc");
    let newest_in = |d: &PageDoc| -> (Option<(Date, String, Option<String>)>, usize) {
        let mut best: Option<(Date, String, Option<String>)> = None;
        let mut future = 0;
        for (l, date) in d.dated_links() {
            if date > as_of {
                future += 1;
            } else if best.as_ref().is_none_or(|(b, _, _)| date > *b) {
                best = Some((date, l.text.clone(), l.target.clone()));
            }
        }
        (best, future)
    };
    let (home_newest, future) = newest_in(home);
    let probe = probe_url_key(home);
    let mut columns: Vec<Value> = Vec::new();
    let (mut stale, mut long, mut empty) = (0usize, 0usize, 0usize);
    let mut pages = vec![home.page];
    for d in a
        .content_docs()
        .filter(|d| is_column(a, d, probe.as_deref()))
    {
        pages.push(d.page);
        let name = column_name(a, d);
        let kind = ColumnKind::of(&name);
        let (newest, _) = newest_in(d);
        let days = newest.as_ref().map(|(n, _, _)| n.days_until(as_of));
        let limit = match kind {
            ColumnKind::Dynamic => Some(cfg.dynamic_column_days),
            ColumnKind::Notice => Some(cfg.notice_column_days),
            ColumnKind::Other => None,
        };
        let is_empty = newest.is_none();
        let is_stale = matches!((days, limit), (Some(x), Some(l)) if x > l);
        let is_long = days.is_some_and(|x| x > cfg.long_stale_days);
        empty += usize::from(is_empty);
        stale += usize::from(is_stale);
        long += usize::from(is_long);
        columns.push(json!({
            "name": name, "url": d.url, "kind": kind.as_str(),
            "newest": newest.map(|(n, _, _)| n.to_string()), "days": days,
            "stale": is_stale, "long_stale": is_long, "empty": is_empty,
        }));
    }
    let mut details = json!({
        "newest_home_item": home_newest.as_ref().map(|(d, t, u)| json!({ "date": d.to_string(), "title": t, "url": u })),
        "future_items": future,
        "columns_found": columns.len(),
        "columns": columns,
        "stale_columns": stale,
        "long_stale_columns": long,
        "empty_columns": empty,
        "as_of": as_of.to_string(),
    });
    let value = match &home_newest {
        Some((d, _, _)) => json!(d.days_until(as_of)),
        None => {
            details["reason"] = json!("no dated item on the home page (2015 rule: undated items count as not updated; no value is guessed)");
            Value::Null
        }
    };
    a.finding(CHECK, a.home_url(), value, details, a.evidence(pages))
}
