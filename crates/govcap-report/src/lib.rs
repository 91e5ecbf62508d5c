//! The blue-book report: a recorded run (and optionally the previous year's) turned into a
//! self-contained HTML publication — a summary page with generated findings, charts and the
//! choropleth map, a sortable ranking, one page per unit and a method appendix — and, through
//! headless Chromium, a PDF.
//!
//! [`render`] is pure: it takes [`Evaluation`]s and the run's [`Manifest`], computes the
//! figures with the core (`analyse`, `profile`) and returns the files as strings; only
//! [`write_report`] and the [`pdf`] module touch the file system. The pages fetch nothing:
//! inline CSS and script, inline SVG, no URL to any server, and a Content-Security-Policy that
//! makes a browser refuse any request should one slip in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use govcap_core::analyse::figures::{analyse, Analyses};
use govcap_core::analyse::profile::{profiles, Profiles};
use govcap_core::evaluate::{Evaluation, UnitResult};

pub mod charts;
mod findings;
mod html;
mod i18n;
mod index;
pub mod map;
mod method;
pub mod pdf;
mod ranking;
mod unit;

pub use i18n::Lang;

/// What the run record says about how the results were made, shown in the method appendix so
/// the report documents itself (from `run.json` or the store's recorded run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub run_id: Option<i64>,
    pub label: Option<String>,
    pub created_at: Option<String>,
    /// "govcap 0.1.0".
    pub software: String,
    pub framework_sha256: Option<String>,
    /// Input files as (name, SHA-256).
    pub inputs: Vec<(String, String)>,
    pub results_sha256: Option<String>,
    /// How the previous year's run was identified ("run 1", a path), when one is compared.
    pub previous: Option<String>,
}

/// Choices that change the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub lang: Lang,
    /// Also produce `book.html`: every page in one document, for printing to PDF.
    pub book: bool,
}

/// One generated file, with its path relative to the report directory (`/`-separated).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFile {
    pub path: String,
    pub contents: String,
}

/// Every file of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub files: Vec<ReportFile>,
}

impl Report {
    /// Total size in bytes.
    pub fn size(&self) -> usize {
        self.files.iter().map(|f| f.contents.len()).sum()
    }

    pub fn file(&self, path: &str) -> Option<&ReportFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Why a report could not be written or printed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the evaluation has no scored unit; there is nothing to report")]
    Empty,
    #[error(
        "Chromium was not found, so no PDF was made (the HTML report is complete). \
         Install it with `apt-get install chromium` (Debian/Ubuntu), or set GOVCAP_CHROMIUM \
         to a Chromium or Chrome binary, then run the command again with --pdf"
    )]
    NoChromium,
    #[error("Chromium could not print {page}: {detail}")]
    Print { page: String, detail: String },
}

/// Everything the pages read, computed once.
pub(crate) struct Ctx<'a> {
    pub e: &'a Evaluation,
    pub prev: Option<&'a Evaluation>,
    pub a: Analyses,
    pub p: Profiles,
    pub m: &'a Manifest,
    pub l: Lang,
    unit_pos: HashMap<&'a str, usize>,
    node_pos: HashMap<&'a str, usize>,
}

impl<'a> Ctx<'a> {
    fn new(e: &'a Evaluation, prev: Option<&'a Evaluation>, m: &'a Manifest, l: Lang) -> Self {
        Ctx {
            a: analyse(e, prev),
            p: profiles(e, prev),
            e,
            prev,
            m,
            l,
            unit_pos: e
                .units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.code.as_str(), i))
                .collect(),
            node_pos: e
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect(),
        }
    }

    pub fn unit(&self, code: &str) -> Option<&'a UnitResult> {
        self.unit_pos.get(code).map(|&i| &self.e.units[i])
    }

    pub fn unit_index(&self, code: &str) -> Option<usize> {
        self.unit_pos.get(code).copied()
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.node_pos.get(id).copied()
    }

    /// Node name by id in the report language (the id itself when unknown).
    pub fn node_name(&self, id: &str) -> String {
        self.node_index(id)
            .map(|i| self.l.node_name(&self.e.nodes[i]).to_string())
            .unwrap_or_else(|| id.to_string())
    }

    /// Tier display name by code.
    pub fn tier_name(&self, code: &str) -> String {
        self.e
            .tiers
            .as_ref()
            .and_then(|t| t.tiers.iter().find(|x| x.code == code))
            .map(|t| self.l.tier_name(t).to_string())
            .unwrap_or_else(|| code.to_string())
    }

    pub fn synthetic(&self) -> bool {
        self.a.synthetic
    }

    pub fn year(&self) -> i32 {
        self.e.year
    }

    pub fn prev_year(&self) -> Option<i32> {
        self.prev.map(|p| p.year)
    }

    /// The report's title.
    pub fn title(&self) -> String {
        match self.l {
            Lang::Zh => format!("{}年地方政府互联网服务能力评价报告", self.e.year),
            Lang::En => format!(
                "Internet service capability of local governments: {} report",
                self.e.year
            ),
        }
    }

    /// The shared page frame for a page at `links`, with nav item `current` highlighted.
    pub fn page(
        &self,
        links: html::Links,
        title: &str,
        current: Option<usize>,
        body: &str,
        script: &str,
    ) -> String {
        let report_title = self.title();
        let footer = self.footer();
        let banner = self.banner();
        let shell = html::Shell {
            lang_attr: self.l.html_lang(),
            title,
            report_title: &report_title,
            nav: self.nav(links),
            current,
            synthetic: banner.as_deref(),
            footer: &footer,
        };
        html::page(&shell, body, script)
    }

    pub fn nav(&self, links: html::Links) -> [(&'static str, String); 3] {
        [
            (self.l.t("概览", "Summary"), links.index()),
            (self.l.t("排名", "Ranking"), links.ranking()),
            (self.l.t("方法与数据", "Method & data"), links.method()),
        ]
    }

    /// The synthetic-data banner text, when any input is synthetic.
    pub fn banner(&self) -> Option<String> {
        self.synthetic().then(|| {
            self.l
                .t(
                    "合成数据：本报告的全部数值由 govcap 的模拟数据生成，仅供演示，不反映任何地方政府的真实水平。",
                    "SYNTHETIC DATA: every figure in this report comes from govcap's simulated data, for demonstration only; it does not describe any real local government.",
                )
                .to_string()
        })
    }

    pub fn footer(&self) -> String {
        let mut parts = vec![self.m.software.clone()];
        if let Some(id) = self.m.run_id {
            parts.push(format!("{} {id}", self.l.t("运行", "run")));
        }
        parts.push(format!(
            "{} {} {}",
            self.e.framework.id,
            self.e.framework.version,
            self.l.t("框架", "framework")
        ));
        if let Some(h) = &self.m.results_sha256 {
            parts.push(format!("results.json SHA-256 {h}"));
        }
        parts.join(" · ")
    }
}

/// Builds every page of the report. Pure: no file is touched.
pub fn render(
    current: &Evaluation,
    previous: Option<&Evaluation>,
    manifest: &Manifest,
    opts: Options,
) -> Result<Report, ReportError> {
    if current.units.iter().all(|u| u.total.is_none()) {
        return Err(ReportError::Empty);
    }
    let c = Ctx::new(current, previous, manifest, opts.lang);
    let mut files = Vec::with_capacity(current.units.len() + 5);
    files.push(ReportFile {
        path: "index.html".into(),
        contents: index::page(&c),
    });
    files.push(ReportFile {
        path: "ranking.html".into(),
        contents: ranking::page(&c),
    });
    files.push(ReportFile {
        path: "method.html".into(),
        contents: method::page(&c),
    });
    for u in current.units.iter().filter(|u| u.total.is_some()) {
        files.push(ReportFile {
            path: format!("units/{}.html", file_safe(&u.code)),
            contents: unit::page(&c, u),
        });
    }
    if opts.book {
        files.push(ReportFile {
            path: "book.html".into(),
            contents: book(&c),
        });
    }
    Ok(Report { files })
}

/// A unit code as a file name: anything but ASCII letters, digits, `-` and `_` becomes `_`.
pub fn file_safe(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every page in one document, each starting on a new sheet, links turned into anchors.
fn book(c: &Ctx) -> String {
    let links = html::Links::Book;
    let mut body = String::new();
    body.push_str("<section id=\"summary\">");
    body.push_str(&index::body(c, links));
    body.push_str("</section><section id=\"ranking\" class=\"book-page\">");
    body.push_str(&ranking::body(c, links));
    body.push_str("</section>");
    for u in c.e.units.iter().filter(|u| u.total.is_some()) {
        body.push_str(&format!(
            "<section id=\"u{}\" class=\"book-page\">",
            html::esc(&u.code)
        ));
        body.push_str(&unit::body(c, u, links));
        body.push_str("</section>");
    }
    body.push_str("<section id=\"method\" class=\"book-page\">");
    body.push_str(&method::body(c, links));
    body.push_str("</section>");
    c.page(links, &c.title(), None, &body, index::MAP_SCRIPT)
}

/// Writes the report's files under `dir` (created if needed). Each file is written to a
/// temporary name and renamed, so a reader never sees half a page.
pub fn write_report(report: &Report, dir: &Path) -> Result<(), ReportError> {
    for f in &report.files {
        let path = dir.join(&f.path);
        let err = |source| ReportError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let tmp = path.with_extension("html.tmp");
        std::fs::write(&tmp, f.contents.as_bytes()).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
    }
    Ok(())
}
