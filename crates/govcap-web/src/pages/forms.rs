//! Reading `multipart/form-data` forms: the pages that take files (evidence on the entry and
//! appeal pages, a framework or unit list when creating a campaign, a filled spreadsheet) read
//! them here, so a refused upload says the same thing everywhere.

use axum::extract::{Form, FromRequest, Multipart, Request};

use crate::problem::Problem;

/// A submitted form in either encoding: `multipart/form-data` (what the pages send, files
/// included) or `application/x-www-form-urlencoded` (what scripts and older pages send).
pub struct AnyForm(pub Fields);

impl<S: Send + Sync> FromRequest<S> for AnyForm {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if multipart {
            let m = Multipart::from_request(req, state)
                .await
                .map_err(|e| Problem::bad_request(e.body_text()).page())?;
            return read(m).await.map(AnyForm).map_err(Problem::page);
        }
        let Form(text) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()).page())?;
        Ok(AnyForm(Fields {
            text,
            files: Vec::new(),
        }))
    }
}

/// A submitted form: its text fields in order, and its non-empty files.
#[derive(Debug, Default)]
pub struct Fields {
    pub text: Vec<(String, String)>,
    /// `(field, file name, bytes)`; a file input left empty is not listed.
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<String> {
        self.text
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The first non-empty of a text field and a file field (read as UTF-8, BOM dropped).
    pub fn text_or_file(&self, text: &str, file: &str) -> Result<Option<String>, Problem> {
        if let Some((_, name, bytes)) = self.files.iter().find(|(k, _, _)| k == file) {
            let s = std::str::from_utf8(bytes).map_err(|_| {
                Problem::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{}: the file is not UTF-8 text", clip(name)),
                )
            })?;
            return Ok(Some(s.trim_start_matches('\u{feff}').to_string()));
        }
        Ok(self.get(text).filter(|t| !t.trim().is_empty()))
    }

    pub fn file(&self, name: &str) -> Option<&(String, String, Vec<u8>)> {
        self.files.iter().find(|(k, _, _)| k == name)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Reads every field; the route's body limit bounds the total size.
pub async fn read(mut form: Multipart) -> Result<Fields, Problem> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        Problem::new(
            e.status(),
            format!(
                "the form could not be read ({}); uploads are at most {} MiB in all",
                e.body_text(),
                crate::evidence::MAX_BYTES >> 20
            ),
        )
    };
    let mut out = Fields::default();
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(clip) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(unreadable)?;
                if !bytes.is_empty() {
                    out.files.push((name, file_name, bytes.to_vec()));
                }
            }
            None => {
                let text = field.text().await.map_err(unreadable)?;
                out.text.push((name, text));
            }
        }
    }
    Ok(out)
}
