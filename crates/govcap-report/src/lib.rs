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
use govcap_core::audit::{Audit, UnitAudit};
use govcap_core::evaluate::{Evaluation, UnitResult};

pub mod charts;
mod findings;
pub mod html;
mod i18n;
mod index;
pub mod map;
mod method;
pub mod pdf;
mod ranking;
mod tiers_section;
mod uncertainty;
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
    #[error("the audit does not belong to these results: {0}; audit this run again (`govcap audit RUN --out DIR`) or leave the audit out")]
    AuditMismatch(String),
}

/// Everything the pages read, computed once.
pub(crate) struct Ctx<'a> {
    pub e: &'a Evaluation,
    pub prev: Option<&'a Evaluation>,
    pub a: Analyses,
    pub p: Profiles,
    pub m: &'a Manifest,
    pub l: Lang,
    /// The run's statistical audit, when one was given (checked by [`audit_matches`]).
    pub audit: Option<&'a Audit>,
    unit_pos: HashMap<&'a str, usize>,
    node_pos: HashMap<&'a str, usize>,
    audit_pos: HashMap<&'a str, usize>,
}

impl<'a> Ctx<'a> {
    fn new(
        e: &'a Evaluation,
        prev: Option<&'a Evaluation>,
        m: &'a Manifest,
        audit: Option<&'a Audit>,
        l: Lang,
    ) -> Self {
        Ctx {
            audit,
            audit_pos: audit
                .map(|a| {
                    a.units
                        .iter()
                        .enumerate()
                        .map(|(i, u)| (u.code.as_str(), i))
                        .collect()
                })
                .unwrap_or_default(),
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

    /// The audit's record of a unit, when the run has an audit.
    pub fn unit_audit(&self, code: &str) -> Option<&'a UnitAudit> {
        let a = self.audit?;
        self.audit_pos.get(code).map(|&i| &a.units[i])
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

    /// The navigation; the uncertainty chapter comes last, and only when there is an audit.
    pub fn nav(&self, links: html::Links) -> Vec<(&'static str, String)> {
        let mut nav = vec![
            (self.l.t("概览", "Summary"), links.index()),
            (self.l.t("排名", "Ranking"), links.ranking()),
            (self.l.t("方法与数据", "Method & data"), links.method()),
        ];
        if self.audit.is_some() {
            nav.push((self.l.t("不确定性", "Uncertainty"), links.uncertainty()));
        }
        nav
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

/// Checks that `audit` is an audit of exactly these results: same year, same units, and every
/// unit's nominal rank, tier and sub-level equal to the published ones (the audit's nominal draw
/// reproduces the evaluation bit for bit, so any difference means the audit belongs to other
/// results, such as a stale `audit/` directory next to a re-evaluated run).
pub fn audit_matches(e: &Evaluation, audit: &Audit) -> Result<(), String> {
    if audit.year != e.year {
        return Err(format!(
            "the audit is of {}, the results of {}",
            audit.year, e.year
        ));
    }
    if audit.units.len() != e.units.len() {
        return Err(format!(
            "the audit has {} units, the results {}",
            audit.units.len(),
            e.units.len()
        ));
    }
    for (a, u) in audit.units.iter().zip(&e.units) {
        if a.code != u.code {
            return Err(format!(
                "the audit lists unit {} where the results list {}",
                a.code, u.code
            ));
        }
        if a.nominal_rank != u.rank || a.nominal_tier != u.tier || a.nominal_sublevel != u.sublevel
        {
            let show = |r: Option<usize>, t: &Option<String>| {
                format!(
                    "rank {} tier {}",
                    r.map_or("–".into(), |r| r.to_string()),
                    t.as_deref().unwrap_or("–")
                )
            };
            return Err(format!(
                "unit {} has {} in the audit but {} in the results",
                u.code,
                show(a.nominal_rank, &a.nominal_tier),
                show(u.rank, &u.tier)
            ));
        }
    }
    Ok(())
}

/// Builds every page of the report. Pure: no file is touched. With an `audit` (of exactly
/// these results, see [`audit_matches`]) the report gains the uncertainty chapter and each unit
/// page its rank interval; without one the pages are as they always were.
pub fn render(
    current: &Evaluation,
    previous: Option<&Evaluation>,
    manifest: &Manifest,
    audit: Option<&Audit>,
    opts: Options,
) -> Result<Report, ReportError> {
    if current.units.iter().all(|u| u.total.is_none()) {
        return Err(ReportError::Empty);
    }
    if let Some(a) = audit {
        audit_matches(current, a).map_err(ReportError::AuditMismatch)?;
    }
    let c = Ctx::new(current, previous, manifest, audit, opts.lang);
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
    if c.audit.is_some() {
        files.push(ReportFile {
            path: "uncertainty.html".into(),
            contents: uncertainty::page(&c),
        });
    }
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
    if c.audit.is_some() {
        body.push_str("<section id=\"rank-uncertainty\" class=\"book-page\">");
        body.push_str(&uncertainty::body(c, links));
        body.push_str("</section>");
    }
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
