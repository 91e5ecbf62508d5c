//! Import errors: either the file could not be read at all, or it was read and some cells are
//! wrong, in which case every wrong cell is listed with its place.

use std::fmt;

/// How many problems [`ImportError`]'s message prints; the full list stays in `problems`.
pub const PRINTED_PROBLEMS: usize = 50;

/// One thing wrong in an input file, located as an evaluator would find it in a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based row; the header is row 1. For XLSX it is the row number the sheet shows.
    pub row: usize,
    /// Column name as written in the header (or the expected name for a missing column);
    /// `None` when the problem concerns the whole row.
    pub column: Option<String>,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl Problem {
    pub fn new(row: usize, column: Option<&str>, reason: impl Into<String>) -> Self {
        Problem {
            row,
            column: column.map(str::to_string),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "row {}, column {:?}: {}",
                self.row,
                govcap_core::engine::score::short(c),
                self.reason
            ),
            None => write!(f, "row {}: {}", self.row, self.reason),
        }
    }
}

/// Why a file was not imported. Nothing from the file is returned with any of these.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the spreadsheet {file}: {reason}")]
    Xlsx { file: String, reason: String },
    #[error("cannot decode {file}: {reason}")]
    Encoding { file: String, reason: String },
    #[error("{}", invalid_message(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

fn invalid_message(file: &str, problems: &[Problem]) -> String {
    let n = problems.len();
    let mut s = format!(
        "{file} was not imported: {n} problem{} found",
        if n == 1 { "" } else { "s" }
    );
    for p in problems.iter().take(PRINTED_PROBLEMS) {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if n > PRINTED_PROBLEMS {
        s.push_str(&format!("\n  … and {} more", n - PRINTED_PROBLEMS));
    }
    s
}

impl ImportError {
    /// The located problems, when the file was read but is invalid.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}
