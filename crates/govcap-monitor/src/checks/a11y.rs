//! `accessibility_basics`: the basic accessibility checks that HTML alone decides, in the
//! spirit of GB/T 37668-2019 (信息技术 互联网内容无障碍可访问性技术要求与测试方法) and WCAG 2
//! level A, over the sampled pages.
//!
//! | sub-check | WCAG 2 | counted over | passes when |
//! |---|---|---|---|
//! | `lang` | 3.1.1 | pages | `<html lang>` is set on ≥ `a11y_min_page_share` of pages |
//! | `title` | 2.4.2 | pages | a non-empty `<title>` on ≥ `a11y_min_page_share` of pages |
//! | `no_auto_refresh` | 2.2.1, 3.2.5 (F40, F41) | pages | no `<meta http-equiv=refresh>` with a delay on ≥ `a11y_min_page_share` of pages |
//! | `img_alt` | 1.1.1 | `<img>` | ≥ `a11y_min_img_alt_share` have a text alternative (empty `alt` = decorative, counts) |
//! | `form_labels` | 1.3.1, 3.3.2, 4.1.2 | form controls | ≥ `a11y_min_labelled_share` have a label, `aria-label(ledby)` or `title` |
//! | `link_text` | 2.4.4, 4.1.2 | `<a href>` | ≥ `a11y_min_link_text_share` have discernible text |
//!
//! What counts is defined in [`super::doc::A11yFacts`]. Elements are counted once per page
//! they appear on, so a template defect (a logo without `alt` in every header) weighs as
//! much as users meet it. A sub-check with nothing to count (no images, no form) passes: there
//! is nothing to fail. Rendering, contrast, keyboard traps and scripted widgets need a browser
//! and are not judged here.

use super::doc::PageDoc;
use super::{Analysis, CheckConfig};
use crate::model::Finding;
use serde_json::{json, Value};

/// The sub-checks, in the order `details` lists them.
pub const SUB_CHECKS: &[&str] = &[
    "lang",
    "title",
    "no_auto_refresh",
    "img_alt",
    "form_labels",
    "link_text",
];

/// The delay of a `<meta http-equiv=refresh>` content (`"300"`, `"5; url=/x"`), when it
/// parses; `None` for junk, which no browser acts on.
pub fn refresh_delay(content: &str) -> Option<f64> {
    let head = content.split([';', ',']).next()?.trim();
    head.parse::<f64>().ok().filter(|d| d.is_finite())
}

/// True when a page refreshes or redirects itself after a delay (a delay of 0 is an instant
/// redirect, which WCAG allows).
fn auto_refresh(d: &PageDoc) -> bool {
    d.metas
        .iter()
        .any(|(k, v)| k == "refresh" && refresh_delay(v).is_some_and(|s| s > 0.0))
}

/// One sub-check's counts and verdict.
struct Sub {
    items: usize,
    passed: usize,
    min_share: f64,
    examples: Vec<String>,
}

impl Sub {
    fn new(min_share: f64) -> Self {
        Sub {
            items: 0,
            passed: 0,
            min_share,
            examples: Vec::new(),
        }
    }

    fn add(&mut self, items: usize, passed: usize, examples: &[String]) {
        self.items += items;
        self.passed += passed;
        for e in examples {
            if self.examples.len() < 10 && !self.examples.contains(e) {
                self.examples.push(e.clone());
            }
        }
    }

    fn share(&self) -> Option<f64> {
        (self.items > 0).then(|| self.passed as f64 / self.items as f64)
    }

    /// Nothing to count passes; otherwise the share must reach the threshold.
    fn pass(&self) -> bool {
        self.share().is_none_or(|s| s >= self.min_share)
    }

    fn to_json(&self) -> Value {
        json!({
            "items": self.items,
            "passed": self.passed,
            "share": self.share(),
            "min_share": self.min_share,
            "pass": self.pass(),
            "examples": self.examples,
        })
    }
}

/// True when the sampled pages pass every sub-check in the module table. Details: one entry
/// per sub-check (`items`, `passed`, `share`, `min_share`, `pass`, `examples` of what failed:
/// page URLs for the page-level ones, image `src`, control name or link `href` for the
/// others), `pages` read and the `failed` sub-check names. `url` is the first page with a
/// failure (the home page when none); evidence is every page read.
pub fn accessibility_basics(a: &Analysis, cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "accessibility_basics";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let docs: Vec<&PageDoc> = a.content_docs().collect();
    let mut lang = Sub::new(cfg.a11y_min_page_share);
    let mut title = Sub::new(cfg.a11y_min_page_share);
    let mut refresh = Sub::new(cfg.a11y_min_page_share);
    let mut img = Sub::new(cfg.a11y_min_img_alt_share);
    let mut labels = Sub::new(cfg.a11y_min_labelled_share);
    let mut links = Sub::new(cfg.a11y_min_link_text_share);
    // Per page, which sub-checks it fails, to point `url` at a page showing a failure.
    let mut fails: Vec<(usize, [bool; 6])> = Vec::new();
    for d in &docs {
        let url = std::slice::from_ref(&d.url);
        let page_ok = |ok: bool| (usize::from(ok), if ok { &[][..] } else { url });
        let (n, ex) = page_ok(!d.lang.is_empty());
        lang.add(1, n, ex);
        let (n, ex) = page_ok(!d.title.trim().is_empty());
        title.add(1, n, ex);
        let (n, ex) = page_ok(!auto_refresh(d));
        refresh.add(1, n, ex);
        let f = &d.a11y;
        img.add(f.imgs, f.imgs_with_alt, &f.imgs_missing_alt);
        labels.add(f.controls, f.controls_labelled, &f.controls_unlabelled);
        links.add(f.links, f.links_named, &f.links_unnamed);
        fails.push((
            d.page,
            [
                d.lang.is_empty(),
                d.title.trim().is_empty(),
                auto_refresh(d),
                f.imgs_with_alt < f.imgs,
                f.controls_labelled < f.controls,
                f.links_named < f.links,
            ],
        ));
    }
    let subs = [&lang, &title, &refresh, &img, &labels, &links];
    let pass: Vec<bool> = subs.iter().map(|s| s.pass()).collect();
    let failed: Vec<&str> = SUB_CHECKS
        .iter()
        .zip(&pass)
        .filter(|(_, p)| !**p)
        .map(|(n, _)| *n)
        .collect();
    let mut details = json!({ "pages": docs.len(), "failed": failed });
    for (n, s) in SUB_CHECKS.iter().zip(subs) {
        details[*n] = s.to_json();
    }
    let url = fails
        .iter()
        .find(|(_, f)| f.iter().zip(&pass).any(|(fail, ok)| *fail && !ok))
        .map(|(p, _)| a.page(*p).final_url.clone())
        .unwrap_or_else(|| a.home_url());
    a.finding(
        CHECK,
        url,
        json!(failed.is_empty()),
        details,
        a.evidence(docs.iter().map(|d| d.page)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_delays() {
        assert_eq!(refresh_delay("300"), Some(300.0));
        assert_eq!(refresh_delay(" 5; url=/index.html"), Some(5.0));
        assert_eq!(refresh_delay("0;URL='http://x/'"), Some(0.0));
        assert_eq!(refresh_delay("url=/x"), None);
    }
}
